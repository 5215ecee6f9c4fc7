// Writes tests/data/mqtt/mqttjs_vectors.txt: packets as MQTT.js (mqtt-packet) encodes them.
'use strict';
const fs = require('fs');
const path = require('path');
const mqttPacket = require('mqtt-packet');

const v5 = [
  ['connect_minimal', 'server', {cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'client1', keepalive: 60}],
  ['connect_seed000', 'server', {cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'client1', keepalive: 60,
    properties: {sessionExpiryInterval: 30}}],
  ['connect_full', 'server', {cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: false, clientId: 'abc123', keepalive: 30,
    username: 'user', password: Buffer.from('secret'),
    properties: {sessionExpiryInterval: 3600, receiveMaximum: 20, maximumPacketSize: 1048576, topicAliasMaximum: 10,
      requestResponseInformation: true, requestProblemInformation: false, userProperties: {app: 'wpsim'}},
    will: {topic: 'will/t', payload: Buffer.from('bye'), qos: 1, retain: false,
      properties: {willDelayInterval: 5, payloadFormatIndicator: true, messageExpiryInterval: 60, contentType: 'text/plain',
        responseTopic: 'r/t', correlationData: Buffer.from([1, 2, 3]), userProperties: {w: 'x'}}}}],
  ['connack_success', 'client', {cmd: 'connack', sessionPresent: false, reasonCode: 0}],
  ['connack_properties', 'client', {cmd: 'connack', sessionPresent: true, reasonCode: 0,
    properties: {sessionExpiryInterval: 30, receiveMaximum: 100, maximumQoS: 1, retainAvailable: false, maximumPacketSize: 1048576,
      assignedClientIdentifier: 'assigned', topicAliasMaximum: 0, reasonString: 'ok', userProperties: {a: 'b'},
      wildcardSubscriptionAvailable: false, subscriptionIdentifiersAvailable: true, sharedSubscriptionAvailable: false,
      serverKeepAlive: 120, responseInformation: 'resp', serverReference: 'srv'}}],
  ['connack_not_authorized', 'client', {cmd: 'connack', sessionPresent: false, reasonCode: 135}],
  ['publish_qos0', 'server', {cmd: 'publish', topic: 'topic1', payload: Buffer.from('Hello World!'), qos: 0, dup: false, retain: false}],
  ['publish_qos1', 'server', {cmd: 'publish', topic: 'topic1', payload: Buffer.from('Hello World!'), qos: 1, messageId: 1, dup: false, retain: false}],
  ['publish_qos2_properties', 'server', {cmd: 'publish', topic: 'a/b', payload: Buffer.from('{"x":1}'), qos: 2, messageId: 513, dup: true, retain: true,
    properties: {payloadFormatIndicator: true, messageExpiryInterval: 120, contentType: 'application/json', responseTopic: 'reply/to',
      correlationData: Buffer.from('corr'), userProperties: {k1: 'v1', k2: 'v2'}}}],
  ['publish_topic_alias', 'server', {cmd: 'publish', topic: '', payload: Buffer.from('x'), qos: 0, dup: false, retain: false,
    properties: {topicAlias: 4}}],
  ['publish_subscription_identifier', 'client', {cmd: 'publish', topic: 'topic1', payload: Buffer.from('s'), qos: 1, messageId: 7, dup: false, retain: false,
    properties: {subscriptionIdentifier: [1, 300]}}],
  ['puback', 'server', {cmd: 'puback', messageId: 1}],
  ['puback_reason', 'client', {cmd: 'puback', messageId: 2, reasonCode: 16}],
  ['puback_reason_string', 'client', {cmd: 'puback', messageId: 3, reasonCode: 135, properties: {reasonString: 'no'}}],
  ['pubrec', 'server', {cmd: 'pubrec', messageId: 4}],
  ['pubrel', 'server', {cmd: 'pubrel', messageId: 5}],
  ['pubcomp', 'server', {cmd: 'pubcomp', messageId: 6}],
  ['subscribe', 'server', {cmd: 'subscribe', messageId: 10, subscriptions: [{topic: 'topic1', qos: 1, nl: false, rap: false, rh: 0}]}],
  ['subscribe_options', 'server', {cmd: 'subscribe', messageId: 11,
    properties: {subscriptionIdentifier: 42, userProperties: {s: 't'}},
    subscriptions: [{topic: 'a/+', qos: 2, nl: true, rap: true, rh: 1}, {topic: 'b/#', qos: 0, nl: false, rap: false, rh: 2}]}],
  ['suback', 'client', {cmd: 'suback', messageId: 10, granted: [1, 0x80, 0xA2]}],
  ['unsubscribe', 'server', {cmd: 'unsubscribe', messageId: 12, unsubscriptions: ['topic1', 'a/+']}],
  ['unsuback', 'client', {cmd: 'unsuback', messageId: 12, granted: [0, 17]}],
  ['pingreq', 'server', {cmd: 'pingreq'}],
  ['pingresp', 'client', {cmd: 'pingresp'}],
  ['disconnect', 'server', {cmd: 'disconnect'}],
  ['disconnect_session_expiry', 'server', {cmd: 'disconnect', reasonCode: 0, properties: {sessionExpiryInterval: 0}}],
  ['disconnect_from_server', 'client', {cmd: 'disconnect', reasonCode: 142, properties: {reasonString: 'taken over'}}],
  ['auth', 'server', {cmd: 'auth', reasonCode: 0x18, properties: {authenticationMethod: 'SCRAM', authenticationData: Buffer.from('data')}}],
];
const v4 = [
  ['connect_minimal', 'server', {cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'client1', keepalive: 60}],
  ['connect_full', 'server', {cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: false, clientId: 'abc123', keepalive: 180,
    username: 'user', password: Buffer.from('secret'), will: {topic: 'will/t', payload: Buffer.from('bye'), qos: 2, retain: true}}],
  ['connack_accepted', 'client', {cmd: 'connack', sessionPresent: true, returnCode: 0}],
  ['connack_bad_credentials', 'client', {cmd: 'connack', sessionPresent: false, returnCode: 4}],
  ['publish_qos0', 'server', {cmd: 'publish', topic: 'topic1', payload: Buffer.from('Hello World!'), qos: 0, dup: false, retain: false}],
  ['publish_qos1', 'server', {cmd: 'publish', topic: 'topic1', payload: Buffer.from('Hello World!'), qos: 1, messageId: 1, dup: false, retain: false}],
  ['publish_qos2_dup_retain', 'client', {cmd: 'publish', topic: '$webpubsub/server/messages', payload: Buffer.alloc(200, 7), qos: 2, messageId: 65535, dup: true, retain: true}],
  ['puback', 'server', {cmd: 'puback', messageId: 1}],
  ['pubrec', 'client', {cmd: 'pubrec', messageId: 2}],
  ['pubrel', 'client', {cmd: 'pubrel', messageId: 3}],
  ['pubcomp', 'server', {cmd: 'pubcomp', messageId: 4}],
  ['subscribe', 'server', {cmd: 'subscribe', messageId: 10, subscriptions: [{topic: 'topic1', qos: 1}, {topic: 'a/#', qos: 2}]}],
  ['suback', 'client', {cmd: 'suback', messageId: 10, granted: [1, 2, 0x80]}],
  ['unsubscribe', 'server', {cmd: 'unsubscribe', messageId: 12, unsubscriptions: ['topic1']}],
  ['unsuback', 'client', {cmd: 'unsuback', messageId: 12}],
  ['pingreq', 'server', {cmd: 'pingreq'}],
  ['pingresp', 'client', {cmd: 'pingresp'}],
  ['disconnect', 'server', {cmd: 'disconnect'}],
];

const version = require('mqtt-packet/package.json').version;
const lines = [
  '# MQTT packets as MQTT.js encodes them (mqtt-packet ' + version + ', the encoder of mqtt ' +
      require('mqtt/package.json').version + ').',
  '# Generated by tools/mqtt-vectors/generate.js; do not edit.',
  '# name | protocol version | receiving side | bytes (hex)',
];
for (const [set, protocolVersion] of [[v4, 4], [v5, 5]]) {
  for (const [name, receiver, packet] of set) {
    const bytes = mqttPacket.generate(packet, {protocolVersion});
    lines.push([name, protocolVersion === 5 ? '5' : '3.1.1', receiver, bytes.toString('hex')].join(' | '));
  }
}
const out = process.argv[2] || path.join(__dirname, '..', '..', 'tests', 'data', 'mqtt', 'mqttjs_vectors.txt');
fs.writeFileSync(out, lines.join('\n') + '\n');
console.log('wrote', lines.length - 3, 'vectors to', out);
