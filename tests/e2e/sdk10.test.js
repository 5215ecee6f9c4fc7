// The same flows as sdk.test.js (sdk_flows.js) with the previous client SDK line,
// @azure/web-pubsub-client 1.0.x (installed under the npm alias web-pubsub-client-1.0), which
// users on older lockfiles still run: its reliable subprotocol, acks and events must work
// against `wpsim serve` unmodified.
'use strict';
const { WebPubSubClient } = require('web-pubsub-client-1.0');
const { clientSdkTests } = require('./sdk_flows');

clientSdkTests(WebPubSubClient);
