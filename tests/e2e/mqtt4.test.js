// MQTT.js 4.x (installed under the npm alias mqtt-4; many deployed apps still pin it) against
// `wpsim serve` over ws://, with the same flows as mqtt.test.js (mqtt_flows.js).
'use strict';
const { mqttTests } = require('./mqtt_flows');

mqttTests(require('mqtt-4'));
