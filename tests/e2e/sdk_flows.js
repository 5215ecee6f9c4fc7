// The client SDK flows of sdk.test.js (client SDK 1.1.x) and sdk10.test.js (client SDK 1.0.x):
// the same checks against `wpsim serve` over https/wss with a self-signed certificate trusted via
// NODE_EXTRA_CA_CERTS, exactly as the quickstarts construct their clients (no
// allowInsecureConnection). `WebPubSubClient` is the class of the client SDK version under test.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { WebPubSubServiceClient } = require('@azure/web-pubsub');
const { startServe, waitFor } = require('./lib');

function clientSdkTests(WebPubSubClient) {
  let serve;

  before(async () => {
    // NODE_EXTRA_CA_CERTS is read at process start, so the test runner sets it (see CMake);
    // fail loudly if it is missing instead of silently testing something else.
    assert.equal(process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset', 'set',
      'NODE_EXTRA_CA_CERTS must point at the test CA (tests/e2e/run.sh sets it)');
    serve = await startServe(['--tls-cert', process.env.WPSIM_E2E_CERT, '--tls-key', process.env.WPSIM_E2E_KEY]);
  });

  after(async () => {
    if (serve) await serve.stop();
  });

  test('server SDK tokens let the client SDK connect, join, publish and receive', async () => {
    assert.match(serve.connectionString, /^Endpoint=https:\/\/127\.0\.0\.1;Port=\d+;AccessKey=.+;Version=1\.0;$/);
    const service = new WebPubSubServiceClient(serve.connectionString, 'chat');
    const token = await service.getClientAccessToken({
      userId: 'alice', roles: ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup'],
    });
    assert.match(token.url, /^wss:\/\/127\.0\.0\.1:\d+\/client\/hubs\/chat\?access_token=/);

    const client = new WebPubSubClient(token.url);
    const groupMessages = [];
    const serverMessages = [];
    let connected;
    client.on('connected', (e) => { connected = e; });
    client.on('group-message', (e) => groupMessages.push(e.message));
    client.on('server-message', (e) => serverMessages.push(e.message));
    await client.start();
    await waitFor(() => connected, 5000, 'connected event');
    assert.equal(connected.userId, 'alice');
    assert.ok(connected.connectionId.length > 0);

    await client.joinGroup('room1');
    const ack = await client.sendToGroup('room1', 'hello from alice', 'text');
    assert.equal(ack.isDuplicated, false);
    await waitFor(() => groupMessages.length === 1, 5000, 'group message');
    assert.equal(groupMessages[0].group, 'room1');
    assert.equal(groupMessages[0].fromUserId, 'alice');
    assert.equal(groupMessages[0].dataType, 'text');
    assert.equal(groupMessages[0].data, 'hello from alice');

    await service.sendToAll('plain text to all', { contentType: 'text/plain' });
    await service.sendToAll({ kind: 'json', n: 1 });
    await service.group('room1').sendToAll({ to: 'group' });
    await service.sendToUser('alice', 'only alice', { contentType: 'text/plain' });
    await waitFor(() => serverMessages.length === 3 && groupMessages.length === 2, 5000, 'REST messages');
    assert.deepEqual(serverMessages.map((m) => [m.dataType, m.data]), [
      ['text', 'plain text to all'],
      ['json', { kind: 'json', n: 1 }],
      ['text', 'only alice'],
    ]);
    assert.deepEqual(groupMessages[1].data, { to: 'group' });
    assert.equal(groupMessages[1].group, 'room1');

    assert.equal(await service.userExists('alice'), true);
    assert.equal(await service.userExists('bob'), false);
    assert.equal(await service.groupExists('room1'), true);
    assert.equal(await service.groupExists('nobody-here'), false);

    let disconnected;
    client.on('disconnected', (e) => { disconnected = e; });
    await service.closeUserConnections('alice', { reason: 'bye' });
    await waitFor(() => disconnected, 5000, 'disconnected event');
    client.stop();
    assert.equal(await service.userExists('alice'), false);
  });

  test('a client without roles is refused joinGroup with a Forbidden ack', async () => {
    const service = new WebPubSubServiceClient(serve.connectionString, 'chat');
    const token = await service.getClientAccessToken({ userId: 'mallory' });
    // No retries: the SDK would otherwise resend the refused join three more times.
    const client = new WebPubSubClient(token.url, { messageRetryOptions: { maxRetries: 0 } });
    await client.start();
    await assert.rejects(client.joinGroup('room1'), (err) => {
      assert.equal(err.errorDetail.name, 'Forbidden');
      return true;
    });
    client.stop();
  });
}

module.exports = { clientSdkTests };
