// The real @azure/web-pubsub-express middleware, in an Express app on 127.0.0.1, receives and
// answers connect (overriding userId and groups; rejecting one user with 401), connected,
// disconnected and user events (JSON `event` requests and raw frames) from
// `wpsim serve --config <yaml pointing at the app>` (PROTOCOL.md §12); and the MQTT variant
// (§12.8): an MQTT.js client's CONNECT goes to the same connect handler, which recognises it as
// MQTT, overrides userId and groups or refuses it (CONNACK 0x87), then connected/disconnected.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');
const { WebPubSubServiceClient } = require('@azure/web-pubsub');
const { WebPubSubClient } = require('@azure/web-pubsub-client');
const mqtt = require('mqtt');
const { startServe, waitFor } = require('./lib');
const { startExpressApp } = require('./express_app');

const HUB = 'chat';
let app;
let serve;
let dir;

before(async () => {
  app = await startExpressApp(HUB);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpsim-express-'));
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(config, [
    'hubs:',
    `  ${HUB}:`,
    '    eventHandlers:',
    `      - urlTemplate: "http://127.0.0.1:${app.port}/eventhandler/{event}"`,
    '        userEventPattern: "*"',
    '        systemEvents: [connect, connected, disconnected]',
    '',
  ].join('\n'));
  serve = await startServe(['--config', config]);
});

after(async () => {
  if (serve) await serve.stop();
  if (app) await app.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('express middleware handles connect, connected, user events and disconnected', async () => {
  // Plain http here (the TLS paths are covered by sdk.test.js).
  const service = new WebPubSubServiceClient(serve.connectionString, HUB, { allowInsecureConnection: true });

  // --- a JSON (reliable) client through the client SDK ---
  const token = await service.getClientAccessToken({ userId: 'alice' });
  const client = new WebPubSubClient(token.url);
  let connected;
  const serverMessages = [];
  const groupMessages = [];
  client.on('connected', (e) => { connected = e; });
  client.on('server-message', (e) => serverMessages.push(e.message));
  client.on('group-message', (e) => groupMessages.push(e.message));
  await client.start();
  await waitFor(() => connected, 5000, 'connected');
  // userId came from the connect handler's response, not from the token.
  assert.equal(connected.userId, 'app-alice');
  assert.equal(app.calls.connect.length, 1);
  const connectReq = app.calls.connect[0];
  assert.equal(connectReq.context.userId, 'alice');
  assert.equal(connectReq.context.hub, HUB);
  assert.equal(connectReq.context.connectionId, connected.connectionId);
  assert.ok(connectReq.claims.sub.includes('alice'));
  assert.ok(connectReq.subprotocols.includes('json.reliable.webpubsub.azure.v1'));
  await waitFor(() => app.calls.connected.length === 1, 5000, 'onConnected');
  assert.equal(app.calls.connected[0].context.userId, 'app-alice');
  assert.equal(app.calls.connected[0].context.origin, '127.0.0.1');
  // ce-signature, checked with node's own HMAC and the connection string's key.
  const key = /AccessKey=([^;]+)/.exec(serve.connectionString)[1];
  const expected = 'sha256=' + crypto.createHmac('sha256', key).update(connected.connectionId).digest('hex');
  assert.equal(app.calls.connected[0].context.signature, expected);

  // The connect response's groups: a group send reaches the client without a join.
  await service.group('room').sendToAll('to the room', { contentType: 'text/plain' });
  await waitFor(() => groupMessages.length === 1, 5000, 'group message');
  assert.equal(groupMessages[0].data, 'to the room');

  // A user event: the handler's reply arrives as a server message, and the ack succeeds.
  const ack = await client.sendEvent('greet', { hi: 1 }, 'json');
  assert.equal(ack.isDuplicated, false);
  assert.equal(app.calls.user.length, 1);
  assert.equal(app.calls.user[0].context.eventName, 'greet');
  assert.deepEqual(app.calls.user[0].data, { hi: 1 });
  assert.equal(app.calls.user[0].dataType, 'json');
  await waitFor(() => serverMessages.length === 1, 5000, 'server message');
  assert.deepEqual(serverMessages[0].data, { echo: { hi: 1 }, event: 'greet' });
  // The state the handler set rides on the next event of this connection.
  await client.sendEvent('greet', 'again', 'text');
  assert.equal(app.calls.user.length, 2);
  assert.equal(app.calls.user[1].data, 'again');
  assert.deepEqual(app.calls.user[1].statesSeen, { greetings: 1 });
  assert.deepEqual(app.calls.user[0].statesSeen, {});

  // --- a raw WebSocket client: frames become the `message` event, replies come back ---
  const bobToken = await service.getClientAccessToken({ userId: 'bob' });
  const raw = new WebSocket(bobToken.url);
  const rawFrames = [];
  raw.on('message', (data, isBinary) => rawFrames.push(isBinary ? data : data.toString()));
  await new Promise((resolve, reject) => { raw.on('open', resolve); raw.on('error', reject); });
  raw.send('ping');
  await waitFor(() => rawFrames.length === 1, 5000, 'raw reply');
  assert.equal(rawFrames[0], 'pong:ping');
  assert.equal(app.calls.user.length, 3);
  assert.equal(app.calls.user[2].context.eventName, 'message');
  assert.equal(app.calls.user[2].context.userId, 'app-bob');

  // --- a client the connect handler rejects with 401 ---
  const malloryToken = await service.getClientAccessToken({ userId: 'mallory' });
  const status = await new Promise((resolve) => {
    const ws = new WebSocket(malloryToken.url);
    ws.on('unexpected-response', (req, res) => { resolve(res.statusCode); req.destroy(); });
    ws.on('open', () => { resolve('opened'); ws.close(); });
    ws.on('error', () => {});
  });
  assert.equal(status, 401);
  assert.equal(app.calls.connect.length, 3);
  assert.equal(app.calls.connected.length, 2);  // alice and bob, not mallory

  // --- disconnected, with a reason, for both admitted connections ---
  raw.close();
  client.stop();
  await waitFor(() => app.calls.disconnected.length === 2, 5000, 'onDisconnected x2');
  const ids = app.calls.disconnected.map((r) => r.context.connectionId).sort();
  assert.deepEqual(ids, [connected.connectionId, app.calls.connected[1].context.connectionId].sort());
  for (const d of app.calls.disconnected) assert.equal(typeof d.reason, 'string');

  // Every request the service made was understood by the middleware.
  assert.deepEqual(app.calls.unhandled, []);
});

test('express middleware handles MQTT connect (accept with overrides, refuse), connected and disconnected', async () => {
  const service = new WebPubSubServiceClient(serve.connectionString, HUB, { allowInsecureConnection: true });
  const roles = ['webpubsub.sendToGroup', 'webpubsub.joinLeaveGroup'];
  const start = {
    connect: app.calls.connect.length,
    connected: app.calls.connected.length,
    disconnected: app.calls.disconnected.length,
  };
  const { url } = await service.getClientAccessToken({ clientProtocol: 'mqtt', userId: 'carol', roles });
  const client = mqtt.connect(url, {
    clientId: 'carol1', protocolVersion: 5, clean: true, reconnectPeriod: 0, connectTimeout: 5000,
    properties: { sessionExpiryInterval: 0 },
  });
  const messages = [];
  client.on('message', (topic, payload) => messages.push({ topic, text: payload.toString() }));
  await new Promise((resolve, reject) => { client.once('connect', resolve); client.once('error', reject); });

  assert.equal(app.calls.connect.length, start.connect + 1);
  const connectReq = app.calls.connect.at(-1);
  assert.equal(connectReq.context.clientProtocol, 'mqtt');  // the SDK recognised MQTT
  assert.equal(connectReq.context.connectionId, 'carol1');
  assert.ok(connectReq.context.mqtt.physicalConnectionId);
  assert.equal(connectReq.mqtt.protocolVersion, 5);
  assert.equal(connectReq.mqtt.cleanStart, true);
  assert.equal(connectReq.context.userId, 'carol');

  await waitFor(() => app.calls.connected.length === start.connected + 1, 5000, 'MQTT onConnected');
  const connectedReq = app.calls.connected.at(-1);
  assert.equal(connectedReq.context.clientProtocol, 'mqtt');
  assert.equal(connectedReq.context.userId, 'app-carol');  // from the connect answer
  assert.ok(connectedReq.context.mqtt.sessionId);

  // The connect answer's groups: the session is subscribed to `room` without a SUBSCRIBE.
  await service.group('room').sendToAll('to the room over mqtt', { contentType: 'text/plain' });
  await waitFor(() => messages.length === 1, 5000, 'MQTT group message');
  assert.deepEqual(messages[0], { topic: 'room', text: 'to the room over mqtt' });

  // Session expiry 0: the session ends with the connection, so disconnected follows.
  await new Promise((resolve) => client.end(false, {}, resolve));
  await waitFor(() => app.calls.disconnected.length === start.disconnected + 1, 5000, 'MQTT onDisconnected');
  const gone = app.calls.disconnected.at(-1);
  assert.equal(gone.context.clientProtocol, 'mqtt');
  assert.equal(gone.context.connectionId, 'carol1');
  assert.equal(gone.mqtt.initiatedByClient, true);
  assert.equal(gone.mqtt.disconnectPacket.code, 0);

  // The handler refuses mallory with res.fail(401): the SDK answers {"mqtt":{"code":135}}
  // and the client gets CONNACK 0x87 (not authorized).
  const bad = await service.getClientAccessToken({ clientProtocol: 'mqtt', userId: 'mallory', roles });
  const refused = mqtt.connect(bad.url, {
    clientId: 'mallory1', protocolVersion: 5, clean: true, reconnectPeriod: 0, connectTimeout: 5000,
  });
  const err = await new Promise((resolve) => {
    refused.once('error', resolve);
    refused.once('connect', () => resolve(new Error('connected')));
  });
  refused.end(true);
  assert.equal(err.code, 135);
  assert.equal(app.calls.connect.at(-1).context.userId, 'mallory');
  assert.deepEqual(app.calls.unhandled, []);
});
