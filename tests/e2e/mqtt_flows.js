// The MQTT.js flows of mqtt.test.js (MQTT.js 5.x) and mqtt4.test.js (MQTT.js 4.x) against
// `wpsim serve` over ws://:
//  - protocolVersion 5 and 4, clean start, 30 s session expiry (5.0), subscribe topic1 QoS 1,
//    publish "Hello World!", receive it (seed 000);
//  - an MQTT 3.1.1 publisher reaches an MQTT 5 subscriber, content type carried (5 → 5);
//  - wildcard subscriptions are refused (SUBACK 0xA2 in 5.0, 0x80 in 3.1.1);
//  - a token without roles may not subscribe (SUBACK 0x87);
//  - REST sendToAll (server SDK) arrives on $webpubsub/server/messages.
// Tokens come from @azure/web-pubsub's getClientAccessToken({clientProtocol: 'mqtt'}), which
// signs locally (no REST call), so plain http serve works. Only the callback API is used (MQTT.js
// 4 has no *Async methods); a refused SUBACK is read from the granted list (4.x) or from the
// error carrying the SUBACK packet (5.x).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { WebPubSubServiceClient } = require('@azure/web-pubsub');
const { startServe, waitFor } = require('./lib');

function mqttTests(mqtt) {
  let serve;
  let service;

  before(async () => {
    serve = await startServe();
    service = new WebPubSubServiceClient(serve.connectionString, 'quickstart');
  });

  after(async () => {
    if (serve) await serve.stop();
  });

  // A REST call over plain http with an access-key JWT (the server SDK insists on https).
  async function rest(method, pathAndQuery, contentType, body) {
    const url = `http://127.0.0.1:${serve.port}${pathAndQuery}`;
    const key = /AccessKey=([^;]+)/.exec(serve.connectionString)[1];
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ aud: url, iat: now, exp: now + 3600 })}`;
    const sig = crypto.createHmac('sha256', key).update(unsigned).digest('base64url');
    return fetch(url, { method, body, headers: { 'Content-Type': contentType, Authorization: `Bearer ${unsigned}.${sig}` } });
  }

  async function connect(clientId, protocolVersion, roles = ['webpubsub.sendToGroup', 'webpubsub.joinLeaveGroup']) {
    const { url } = await service.getClientAccessToken({ clientProtocol: 'mqtt', roles });
    assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+\/clients\/mqtt\/hubs\/quickstart\?access_token=/);
    const options = { clientId, protocolVersion, clean: true, reconnectPeriod: 0, connectTimeout: 5000 };
    if (protocolVersion === 5) options.properties = { sessionExpiryInterval: 30 };
    const client = mqtt.connect(url, options);
    await new Promise((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    return client;
  }

  // The SUBACK codes of one SUBSCRIBE, refused or not.
  const subscribe = (client, topic, options) => new Promise((resolve, reject) => {
    client.subscribe(topic, options, (err, granted) => {
      if (err && err.packet && err.packet.granted) resolve(err.packet.granted);
      else if (err) reject(err);
      else resolve(granted.map((g) => g.qos));
    });
  });
  const publish = (client, topic, payload, options) => new Promise((resolve, reject) => {
    client.publish(topic, payload, options, (err) => (err ? reject(err) : resolve()));
  });
  const end = (...clients) => Promise.all(clients.map((c) => new Promise((resolve) => c.end(false, {}, resolve))));

  for (const protocolVersion of [5, 4]) {
    test(`seed 000 with MQTT ${protocolVersion === 5 ? '5.0' : '3.1.1'}: subscribe topic1 QoS 1, publish Hello World!, receive it`, async () => {
      const client = await connect(`client${protocolVersion}`, protocolVersion);
      const received = [];
      client.on('message', (topic, payload, packet) => received.push({ topic, payload: payload.toString(), packet }));
      assert.deepEqual(await subscribe(client, 'topic1', { qos: 1 }), [1]);
      await publish(client, 'topic1', 'Hello World!', { qos: 1 });
      await waitFor(() => received.length === 1, 5000, 'the message');
      assert.equal(received[0].topic, 'topic1');
      assert.equal(received[0].payload, 'Hello World!');
      assert.equal(received[0].packet.qos, 1);
      await end(client);
    });
  }

  test('an MQTT 3.1.1 publisher reaches an MQTT 5 subscriber; 5.0 content type is forwarded', async () => {
    const sub = await connect('sub5', 5);
    const pub = await connect('pub4', 4);
    const pub5 = await connect('pub5', 5);
    const received = [];
    sub.on('message', (topic, payload, packet) => received.push({ payload: payload.toString(), packet }));
    await subscribe(sub, 'room', { qos: 1 });
    await publish(pub, 'room', 'from 3.1.1', { qos: 1 });
    await publish(pub5, 'room', '{"a":1}', { qos: 0, properties: { contentType: 'application/json' } });
    await waitFor(() => received.length === 2, 5000, 'two messages');
    assert.equal(received[0].payload, 'from 3.1.1');
    assert.equal(received[1].packet.properties.contentType, 'application/json');
    await end(sub, pub, pub5);
  });

  test('wildcard filters are refused: SUBACK 0xA2 in 5.0 and 0x80 in 3.1.1', async () => {
    const c5 = await connect('wild5', 5);
    assert.deepEqual(await subscribe(c5, 'a/+', { qos: 1 }), [0xa2]);
    const c4 = await connect('wild4', 4);
    assert.deepEqual(await subscribe(c4, 'a/#', { qos: 1 }), [0x80]);
    await end(c5, c4);
  });

  test('without roles SUBSCRIBE is not authorized (0x87)', async () => {
    const c = await connect('noroles', 5, []);
    assert.deepEqual(await subscribe(c, 'topic1', { qos: 1 }), [0x87]);
    await end(c);
  });

  test('REST sendToAll reaches MQTT clients on $webpubsub/server/messages', async () => {
    const c = await connect('server4', 4);
    const received = [];
    c.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
    const r = await rest('POST', '/api/hubs/quickstart/:send?api-version=2024-01-01', 'text/plain', 'Hello from the server');
    assert.equal(r.status, 202);
    await waitFor(() => received.length === 1, 5000, 'the server message');
    assert.equal(received[0].topic, '$webpubsub/server/messages');
    assert.equal(received[0].payload, 'Hello from the server');
    await end(c);
  });
}

module.exports = { mqttTests };
