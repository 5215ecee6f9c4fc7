// protobuf.webpubsub.azure.v1 and protobuf.reliable.webpubsub.azure.v1 against `wpsim serve`,
// with every protobuf byte made and read by protobufjs from the documented .proto
// (webpubsub.client.proto), over the `ws` package's WebSocket, next to an unmodified
// @azure/web-pubsub-client (reliable JSON) and an MQTT.js client:
//  - negotiation and the protobuf ConnectedMessage (reconnection_token only when reliable);
//  - join/send acks and Duplicate; ping/pong; Forbidden without a role;
//  - protobuf → JSON SDK and MQTT (text, binary, Any), JSON SDK and MQTT and REST → protobuf;
//  - reliable sequence ids, sequenceAck, recovery with replay of what was not acked;
//  - a group stream from a protobuf publisher (start, data, gap, duplicate, keepalive, end) to
//    protobuf and JSON SDK subscribers, and from the JSON SDK's openGroupStream to protobuf;
//  - message metadata and ttlSeconds to and from a JSON client (§9.4);
//  - a malformed UpstreamMessage closes with 1007.
// Tokens come from @azure/web-pubsub's getClientAccessToken (signed locally, plain ws://).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const protobuf = require('protobufjs');
const WebSocket = require('ws');
const mqtt = require('mqtt');
const { WebPubSubServiceClient } = require('@azure/web-pubsub');
const { WebPubSubClient } = require('@azure/web-pubsub-client');
const { startServe, waitFor } = require('./lib');

const root = protobuf.loadSync(path.join(__dirname, 'webpubsub.client.proto'));
const Upstream = root.lookupType('azure.webpubsub.UpstreamMessage');
const Downstream = root.lookupType('azure.webpubsub.DownstreamMessage');
const Any = root.lookupType('google.protobuf.Any');
const ROLES = ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup'];

let serve;
let service;

before(async () => {
  serve = await startServe();
  // Plain http: the server SDK needs allowInsecureConnection for its REST calls.
  service = new WebPubSubServiceClient(serve.connectionString, 'pbhub', { allowInsecureConnection: true });
});

after(async () => {
  if (serve) await serve.stop();
});

function encode(fields) {
  const err = Upstream.verify(fields);
  if (err) throw new Error(err);
  return Upstream.encode(Upstream.create(fields)).finish();
}

function decode(buffer) {
  const m = Downstream.decode(buffer);
  return Downstream.toObject(m, { longs: Number, oneofs: true, defaults: false });
}

// A protobuf client on the ws package: records every decoded DownstreamMessage.
async function connectProtobuf(subprotocol, { userId, roles = ROLES, url } = {}) {
  if (!url) url = (await service.getClientAccessToken({ userId, roles })).url;
  const socket = new WebSocket(url, subprotocol);
  const client = { socket, received: [], closed: null, frames: [] };
  socket.binaryType = 'nodebuffer';
  socket.on('message', (data, isBinary) => {
    client.frames.push({ isBinary });
    client.received.push(decode(data));
  });
  socket.on('close', (code, reason) => { client.closed = { code, reason: reason.toString() }; });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  client.send = (fields) => socket.send(encode(fields));
  client.of = (member) => client.received.filter((m) => m.message === member).map((m) => m[member]);
  client.data = () => client.of('dataMessage');
  client.acks = () => client.of('ackMessage');
  return client;
}

async function connectMqtt(clientId) {
  const { url } = await service.getClientAccessToken({ clientProtocol: 'mqtt', roles: ROLES });
  const client = mqtt.connect(url, {
    clientId, protocolVersion: 5, clean: true, reconnectPeriod: 0, connectTimeout: 5000,
  });
  await new Promise((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  return client;
}

test('protobuf.webpubsub.azure.v1 is negotiated and greeted with a protobuf ConnectedMessage', async () => {
  const c = await connectProtobuf('protobuf.webpubsub.azure.v1', { userId: 'alice' });
  assert.equal(c.socket.protocol, 'protobuf.webpubsub.azure.v1');
  await waitFor(() => c.received.length >= 1, 5000, 'connected');
  const system = c.received[0].systemMessage;
  assert.equal(system.message, 'connectedMessage');
  assert.equal(system.connectedMessage.userId, 'alice');
  assert.match(system.connectedMessage.connectionId, /^[0-9a-f]{32}$/);
  assert.equal(system.connectedMessage.reconnectionToken, undefined);
  assert.ok(c.frames.every((f) => f.isBinary), 'protobuf arrives in binary frames');

  c.send({ joinGroupMessage: { group: 'g0', ackId: 1 } });
  c.send({ joinGroupMessage: { group: 'g0', ackId: 1 } });
  c.send({ pingMessage: {} });
  await waitFor(() => c.acks().length === 2 && c.of('pongMessage').length === 1, 5000, 'acks and pong');
  assert.deepEqual(c.acks()[0], { ackId: 1, success: true });
  assert.equal(c.acks()[1].ackId, 1);
  assert.equal(c.acks()[1].success, undefined);  // proto3 default false is not on the wire
  assert.equal(c.acks()[1].error.name, 'Duplicate');
  c.socket.close();
});

test('a send without permission is acked Forbidden', async () => {
  const c = await connectProtobuf('protobuf.webpubsub.azure.v1', { userId: 'bob', roles: [] });
  c.send({ sendToGroupMessage: { group: 'g1', ackId: 9, data: { textData: 'x' }, noEcho: false } });
  await waitFor(() => c.acks().length === 1, 5000, 'ack');
  assert.equal(c.acks()[0].ackId, 9);
  assert.equal(c.acks()[0].error.name, 'Forbidden');
  c.socket.close();
});

test('protobuf, the JSON client SDK and MQTT.js interoperate in one group', async () => {
  const pb = await connectProtobuf('protobuf.webpubsub.azure.v1', { userId: 'pb' });
  const { url } = await service.getClientAccessToken({ userId: 'js', roles: ROLES });
  const js = new WebPubSubClient(url);
  const jsMessages = [];
  js.on('group-message', (e) => jsMessages.push(e.message));
  await js.start();
  await js.joinGroup('room');
  const mq = await connectMqtt('mqttpb');
  const mqMessages = [];
  mq.on('message', (topic, payload, packet) => mqMessages.push({ topic, payload, packet }));
  await mq.subscribeAsync('room', { qos: 1 });
  pb.send({ joinGroupMessage: { group: 'room', ackId: 1 } });
  await waitFor(() => pb.acks().length === 1, 5000, 'join ack');

  // protobuf → JSON SDK and MQTT.
  const note = Any.create({ typeUrl: 'type.googleapis.com/e2e.Note', value: Buffer.from([8, 42]) });
  const anyBytes = Buffer.from(Any.encode(note).finish());
  pb.send({ sendToGroupMessage: { group: 'room', ackId: 2, data: { textData: 'hello from protobuf' }, noEcho: true } });
  pb.send({ sendToGroupMessage: { group: 'room', ackId: 3, data: { binaryData: Buffer.from([0, 1, 2]) }, noEcho: true } });
  pb.send({ sendToGroupMessage: { group: 'room', ackId: 4, data: { protobufData: note }, noEcho: true } });
  await waitFor(() => jsMessages.length === 3 && mqMessages.length === 3, 5000, 'three messages at JSON and MQTT');
  assert.deepEqual(pb.acks().slice(1).map((a) => [a.ackId, a.success]), [[2, true], [3, true], [4, true]]);
  assert.equal(pb.data().length, 0, 'noEcho kept the sender out');
  assert.equal(jsMessages[0].dataType, 'text');
  assert.equal(jsMessages[0].data, 'hello from protobuf');
  assert.equal(jsMessages[0].fromUserId, 'pb');
  assert.equal(jsMessages[1].dataType, 'binary');
  assert.deepEqual(Buffer.from(jsMessages[1].data), Buffer.from([0, 1, 2]));
  assert.equal(jsMessages[2].dataType, 'protobuf');
  assert.deepEqual(Buffer.from(jsMessages[2].data), anyBytes);
  assert.equal(mqMessages[0].payload.toString(), 'hello from protobuf');
  assert.equal(mqMessages[0].packet.properties.contentType, 'text/plain');
  assert.deepEqual(mqMessages[2].payload, anyBytes);
  assert.equal(mqMessages[2].packet.properties.contentType, 'application/x-protobuf');

  // JSON SDK, MQTT and REST → protobuf.
  await js.sendToGroup('room', { a: 1 }, 'json', { noEcho: true });
  await mq.publishAsync('room', Buffer.from([7, 7]), { qos: 1 });
  await service.sendToAll('to everyone', { contentType: 'text/plain' });
  await waitFor(() => pb.data().length === 3, 5000, 'three messages at protobuf');
  const [fromJs, fromMqtt, fromRest] = pb.data();
  assert.equal(fromJs.from, 'group');
  assert.equal(fromJs.group, 'room');
  assert.equal(fromJs.data.textData, '{"a":1}', 'JSON reaches protobuf clients as text_data');
  assert.deepEqual(Buffer.from(fromMqtt.data.binaryData), Buffer.from([7, 7]));
  assert.equal(fromRest.from, 'server');
  assert.equal(fromRest.group, undefined);
  assert.equal(fromRest.data.textData, 'to everyone');
  assert.equal(fromJs.sequenceId, undefined, 'no sequence ids without the reliable subprotocol');

  await js.stop();
  await mq.endAsync();
  pb.socket.close();
});

test('protobuf.reliable.webpubsub.azure.v1 numbers messages and replays the un-acked ones after recovery', async () => {
  const c = await connectProtobuf('protobuf.reliable.webpubsub.azure.v1', { userId: 'rel' });
  assert.equal(c.socket.protocol, 'protobuf.reliable.webpubsub.azure.v1');
  await waitFor(() => c.received.length >= 1, 5000, 'connected');
  const connected = c.received[0].systemMessage.connectedMessage;
  assert.ok(connected.reconnectionToken && connected.reconnectionToken.length > 0);
  c.send({ joinGroupMessage: { group: 'rg', ackId: 1 } });
  await waitFor(() => c.acks().length === 1, 5000, 'join ack');
  for (const text of ['m1', 'm2', 'm3']) {
    await service.group('rg').sendToAll(text, { contentType: 'text/plain' });
  }
  await waitFor(() => c.data().length === 3, 5000, 'three messages');
  assert.deepEqual(c.data().map((d) => [d.sequenceId, d.data.textData]), [[1, 'm1'], [2, 'm2'], [3, 'm3']]);
  c.send({ sequenceAckMessage: { sequenceId: 2 } });
  // Give the service the ack, then drop the socket without a closing handshake.
  await new Promise((r) => setTimeout(r, 200));
  c.socket.terminate();
  await waitFor(() => c.closed, 5000, 'terminated');
  await service.group('rg').sendToAll('m4', { contentType: 'text/plain' });

  const u = new URL((await service.getClientAccessToken({ userId: 'rel' })).url);
  u.search = new URLSearchParams({
    awps_connection_id: connected.connectionId,
    awps_reconnection_token: connected.reconnectionToken,
  }).toString();
  const again = await connectProtobuf('protobuf.reliable.webpubsub.azure.v1', { url: u.toString() });
  await waitFor(() => again.data().length === 2, 5000, 'replay');
  assert.deepEqual(again.data().map((d) => [d.sequenceId, d.data.textData]), [[3, 'm3'], [4, 'm4']]);
  assert.equal(again.of('systemMessage').length, 0, 'no second connected message after recovery');
  again.socket.close();
});

test('a protobuf group stream reaches protobuf and JSON SDK subscribers, and the SDK streams to protobuf', async () => {
  const pub = await connectProtobuf('protobuf.webpubsub.azure.v1', { userId: 'spub' });
  const sub = await connectProtobuf('protobuf.reliable.webpubsub.azure.v1', { userId: 'ssub' });
  const { url } = await service.getClientAccessToken({ userId: 'sjs', roles: ROLES });
  const js = new WebPubSubClient(url);
  const jsMessages = [];
  js.on('group-message', (e) => jsMessages.push(e.message));
  await js.start();
  await js.joinGroup('live');
  sub.send({ joinGroupMessage: { group: 'live', ackId: 1 } });
  await waitFor(() => sub.acks().length === 1, 5000, 'join ack');

  pub.send({ sendToGroupMessage: { group: 'live', stream: { streamId: 'p1', idleTimeoutMs: 60000 } } });
  pub.send({ streamDataMessage: { streamId: 'p1', streamSequenceId: 1, data: { textData: 'one' } } });
  pub.send({ streamDataMessage: { streamId: 'p1', streamSequenceId: 3, data: { textData: 'gap' } } });
  pub.send({ streamDataMessage: { streamId: 'p1' } });  // keepalive: no answer
  pub.send({ streamDataMessage: { streamId: 'p1', streamSequenceId: 1, data: { textData: 'dup' } } });
  pub.send({ streamDataMessage: { streamId: 'p1', streamSequenceId: 2, data: { binaryData: Buffer.from([1, 2]) } } });
  pub.send({ streamEndMessage: { streamId: 'p1', error: { message: 'stopped', userErrorCode: 'E1' } } });
  await waitFor(() => pub.of('streamClosedMessage').length === 1, 5000, 'streamClosed');
  const answers = pub.received.filter((m) => m.message.startsWith('stream')).map((m) => {
    const body = m[m.message];
    return [m.message, body.name ?? body.expectedSequenceId ?? null];
  });
  assert.deepEqual(answers, [
    ['streamAckMessage', 1], ['streamAckMessage', 2], ['streamNackMessage', 'InvalidSequenceId'],
    ['streamAckMessage', 2], ['streamAckMessage', 3], ['streamClosedMessage', null],
  ]);
  assert.equal(pub.of('streamClosedMessage')[0].error, undefined);

  await waitFor(() => sub.data().length === 3 && jsMessages.length === 3, 5000, 'three stream messages');
  const [one, two, end] = sub.data();
  assert.equal(one.data.textData, 'one');
  assert.deepEqual(one.stream, { streamId: 'p1', streamSequenceId: 1 });
  assert.equal(one.sequenceId, 1);
  assert.deepEqual(Buffer.from(two.data.binaryData), Buffer.from([1, 2]));
  assert.equal(end.data, undefined, 'the terminal message carries no data');
  assert.deepEqual(end.stream, {
    streamId: 'p1', streamSequenceId: 3, endOfStream: true,
    error: { name: 'UserError', message: 'stopped', userErrorCode: 'E1' },
  });
  assert.equal(jsMessages[0].data, 'one');
  assert.equal(jsMessages[0].fromUserId, 'spub');

  // The JSON SDK's openGroupStream publishes to the protobuf subscriber.
  const stream = await js.openGroupStream('live');
  await stream.write('from sdk', 'text');
  await stream.end();
  await waitFor(() => sub.data().length === 5, 5000, 'the SDK stream at protobuf');
  const [fromSdk, sdkEnd] = sub.data().slice(3);
  assert.equal(fromSdk.data.textData, 'from sdk');
  assert.equal(fromSdk.stream.streamSequenceId, 1);
  assert.equal(sdkEnd.stream.endOfStream, true);
  assert.equal(fromSdk.stream.streamId, sdkEnd.stream.streamId);
  await js.stop();
  pub.socket.close();
  sub.socket.close();
});

test('message metadata and ttlSeconds travel between protobuf and JSON clients', async () => {
  const pb = await connectProtobuf('protobuf.webpubsub.azure.v1', { userId: 'mpb' });
  // A plain json.webpubsub.azure.v1 client on `ws` (the client SDK does not surface metadata).
  const { url } = await service.getClientAccessToken({ userId: 'mjs', roles: ROLES });
  const json = new WebSocket(url, 'json.webpubsub.azure.v1');
  const got = [];
  json.on('message', (data) => got.push(JSON.parse(data.toString())));
  await new Promise((resolve, reject) => { json.once('open', resolve); json.once('error', reject); });
  json.send(JSON.stringify({ type: 'joinGroup', group: 'meta', ackId: 1 }));
  pb.send({ joinGroupMessage: { group: 'meta', ackId: 1 } });
  await waitFor(() => pb.acks().length === 1 && got.some((m) => m.type === 'ack'), 5000, 'joins');
  pb.send({
    sendToGroupMessage: {
      group: 'meta', ackId: 2, data: { textData: 'tagged' }, noEcho: true, ttlSeconds: 60,
      metadata: { 'Trace-Id': 'abc' },
    },
  });
  json.send(JSON.stringify({
    type: 'sendToGroup', group: 'meta', dataType: 'text', data: 'back', noEcho: true,
    metadata: { k: 'v' }, ttlSeconds: 300,
  }));
  await waitFor(() => got.some((m) => m.data === 'tagged') && pb.data().length === 1, 5000, 'both ways');
  assert.deepEqual(got.find((m) => m.data === 'tagged').metadata, { 'Trace-Id': 'abc' });
  assert.equal(pb.data()[0].data.textData, 'back');
  assert.deepEqual(pb.data()[0].metadata, { k: 'v' });
  pb.send({ sendToGroupMessage: { group: 'meta', ackId: 3, data: { textData: 'x' }, ttlSeconds: 301 } });
  await waitFor(() => pb.closed, 5000, 'close');
  assert.equal(pb.closed.code, 1007, 'ttlSeconds above 300 is malformed');
  json.close();
});

test('a malformed UpstreamMessage closes the connection with 1007', async () => {
  const c = await connectProtobuf('protobuf.webpubsub.azure.v1', { userId: 'mal' });
  c.socket.send(Buffer.from([0x32, 0x05, 0x0a]));  // join_group_message cut short
  await waitFor(() => c.closed, 5000, 'close');
  assert.equal(c.closed.code, 1007);
  assert.equal(c.closed.reason, 'The client message is not a valid protobuf protocol message.');
});
