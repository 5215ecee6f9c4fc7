// @azure/web-pubsub-client 1.1.0's newer families, unmodified, against `wpsim serve` on
// 127.0.0.1 with a real @azure/web-pubsub-express handler (PROTOCOL.md §9; docs/conformance.md
// INVOKE-* and STREAM-*): invokeEvent answered by the handler (data, failure, abort →
// cancelInvocation), and group streams (openGroupStream / onGroupStream) between SDK clients.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const express = require('express');
const { WebPubSubServiceClient } = require('@azure/web-pubsub');
const { WebPubSubClient, InvocationError } = require('@azure/web-pubsub-client');
const { WebPubSubEventHandler } = require('@azure/web-pubsub-express');
const { startServe, waitFor } = require('./lib');

const HUB = 'sdk11';
let serve;
let server;
let dir;
const seen = [];  // { event, headers } of every POST the handler received
const clients = [];

function startApp() {
  const handler = new WebPubSubEventHandler(HUB, {
    path: '/eventhandler',
    handleUserEvent: (req, res) => {
      const name = req.context.eventName;
      if (name === 'add') {
        res.success(JSON.stringify({ sum: req.data.a + req.data.b }), 'json');
      } else if (name === 'upper') {
        res.success(String(req.data).toUpperCase(), 'text');
      } else if (name === 'nothing') {
        res.success();
      } else if (name === 'slow') {
        setTimeout(() => res.success('late', 'text'), 1500);
      } else {
        res.fail(400, `no such operation: ${name}`);
      }
    },
  });
  const app = express();
  // Records what reached the handler (the middleware itself hides the CloudEvents headers).
  app.use((req, _res, next) => {
    if (req.method === 'POST') seen.push({ event: req.headers['ce-eventname'], headers: req.headers });
    next();
  });
  app.use(handler.getMiddleware());
  app.use((_req, res) => res.status(404).end());
  return new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
}

before(async () => {
  server = await startApp();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpsim-sdk11-'));
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(config, [
    'hubs:',
    `  ${HUB}:`,
    '    eventHandlers:',
    `      - urlTemplate: "http://127.0.0.1:${server.address().port}/eventhandler/{event}"`,
    '        userEventPattern: "*"',
    '',
  ].join('\n'));
  serve = await startServe(['--config', config]);
});

after(async () => {
  for (const c of clients) c.stop();
  if (serve) await serve.stop();
  if (server) await new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); });
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function newClient(userId, roles = []) {
  const service = new WebPubSubServiceClient(serve.connectionString, HUB, { allowInsecureConnection: true });
  const token = await service.getClientAccessToken({ userId, roles });
  const client = new WebPubSubClient(token.url);
  clients.push(client);
  let connected = false;
  client.on('connected', () => { connected = true; });
  await client.start();
  await waitFor(() => connected, 5000, `${userId} connected`);
  return client;
}

test('invokeEvent is answered by the express handler (json, text, no data)', async () => {
  const client = await newClient('alice');
  const sum = await client.invokeEvent('add', { a: 2, b: 3 }, 'json');
  assert.equal(sum.dataType, 'json');
  assert.deepEqual(sum.data, { sum: 5 });
  const upper = await client.invokeEvent('upper', 'hello', 'text');
  assert.equal(upper.dataType, 'text');
  assert.equal(upper.data, 'HELLO');
  const nothing = await client.invokeEvent('nothing', 'x', 'text');
  assert.equal(nothing.data, undefined);
  // The upstream request is an ordinary user event carrying the invocation id.
  const add = seen.find((s) => s.event === 'add');
  assert.equal(add.headers['ce-type'], 'azure.webpubsub.user.add');
  assert.equal(add.headers['ce-invocationid'], sum.invocationId);
  assert.match(add.headers['content-type'], /^application\/json/);
});

test('a failing handler rejects invokeEvent with the service error detail', async () => {
  const client = await newClient('bob');
  await assert.rejects(client.invokeEvent('divide', 'x', 'text'), (err) => {
    assert.ok(err instanceof InvocationError);
    assert.equal(err.errorDetail.name, 'BadRequest');
    assert.match(err.errorDetail.message, /status 400: no such operation: divide/);
    return true;
  });
  // The connection is still usable.
  const upper = await client.invokeEvent('upper', 'ok', 'text');
  assert.equal(upper.data, 'OK');
});

test('aborting invokeEvent sends cancelInvocation and the late answer is dropped', async () => {
  const client = await newClient('carol');
  const controller = new AbortController();
  const pending = client.invokeEvent('slow', 'x', 'text', { abortSignal: controller.signal });
  await waitFor(() => seen.some((s) => s.event === 'slow'), 5000, 'slow reached the handler');
  controller.abort();
  await assert.rejects(pending, InvocationError);
  // The handler answers 1.5 s later; the service drops that answer, and the client keeps going.
  await new Promise((r) => setTimeout(r, 1700));
  const upper = await client.invokeEvent('upper', 'after', 'text');
  assert.equal(upper.data, 'AFTER');
});

test('a group stream flows from openGroupStream to onGroupStream and ends', async () => {
  const sub = await newClient('sub', ['webpubsub.joinLeaveGroup']);
  await sub.joinGroup('live');
  const got = [];
  let finished;
  const done = new Promise((resolve) => { finished = resolve; });
  sub.onGroupStream(async (stream) => {
    for await (const message of stream) got.push(message);
    finished(stream.streamId);
  }, { groupNames: ['live'] });
  const pub = await newClient('pub', ['webpubsub.sendToGroup']);
  const stream = await pub.openGroupStream('live');
  await stream.write('hello', 'text');
  await stream.write({ n: 1 }, 'json');
  await stream.end();
  assert.equal(await done, stream.streamId);
  assert.equal(got.length, 2);
  assert.equal(got[0].data, 'hello');
  assert.equal(got[0].fromUserId, 'pub');
  assert.equal(got[0].stream.streamSequenceId, 1);
  assert.deepEqual(got[1].data, { n: 1 });
  assert.equal(got[1].stream.streamSequenceId, 2);
});

test('an aborted stream ends for subscribers with UserError; a stream without a role is refused', async () => {
  const sub = await newClient('sub2', ['webpubsub.joinLeaveGroup']);
  await sub.joinGroup('live2');
  let failed;
  const failure = new Promise((resolve) => { failed = resolve; });
  sub.onGroupStream(async (stream) => {
    try {
      for await (const _ of stream) { /* drain */ }
      failed(null);
    } catch (err) {
      failed(err);
    }
  }, { groupNames: ['live2'] });
  const pub = await newClient('pub2', ['webpubsub.sendToGroup.live2']);
  const stream = await pub.openGroupStream('live2');
  await stream.write('partial', 'text');
  await stream.abort({ message: 'gave up', userErrorCode: 'E1' });
  const err = await failure;
  assert.ok(err, 'the subscriber stream ended with an error');
  assert.equal(err.name, 'UserError');
  assert.equal(err.message, 'gave up');
  assert.equal(err.userErrorCode, 'E1');
  // No role for this group: the service answers streamClosed Forbidden.
  await assert.rejects(pub.openGroupStream('elsewhere'), (e) => e.name === 'Forbidden');
});
