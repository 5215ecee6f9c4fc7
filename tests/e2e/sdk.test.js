// The official JS SDKs, unmodified, against `wpsim serve` (flows in sdk_flows.js):
//  - @azure/web-pubsub (server SDK): getClientAccessToken, sendToAll (text and JSON),
//    group(...).sendToAll, sendToUser, userExists, groupExists, closeUserConnections;
//  - @azure/web-pubsub-client 1.1.x: start, joinGroup (ack), sendToGroup, group-message,
//    server-message, connected event with userId; a Forbidden ack for a client without roles.
'use strict';
const { WebPubSubClient } = require('@azure/web-pubsub-client');
const { clientSdkTests } = require('./sdk_flows');

clientSdkTests(WebPubSubClient);
