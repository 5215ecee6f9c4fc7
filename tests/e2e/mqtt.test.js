// MQTT.js 5.x (the client seed 000 uses) against `wpsim serve` over ws:// (flows in mqtt_flows.js).
'use strict';
const { mqttTests } = require('./mqtt_flows');

mqttTests(require('mqtt'));
