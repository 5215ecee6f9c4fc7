// A small Express application using the real @azure/web-pubsub-express middleware, for
// express.test.js. Every handler invocation is recorded in `calls` so the test can prove the
// middleware really ran (it silently passes requests it does not recognise to next()).
'use strict';
const express = require('express');
const { WebPubSubEventHandler } = require('@azure/web-pubsub-express');

// Starts the app on 127.0.0.1 (ephemeral port); resolves { port, calls, close }.
function startExpressApp(hub) {
  const calls = { connect: [], connected: [], disconnected: [], user: [], unhandled: [] };
  const handler = new WebPubSubEventHandler(hub, {
    path: '/eventhandler',
    handleConnect: (req, res) => {
      calls.connect.push(req);
      const user = req.context.userId;
      if (user === 'mallory') {
        res.fail(401, 'mallory is not welcome');
        return;
      }
      // Override the token's identity and add the connection to a group.
      res.success({ userId: `app-${user}`, groups: ['room'] });
    },
    onConnected: (req) => { calls.connected.push(req); },
    onDisconnected: (req) => { calls.disconnected.push(req); },
    handleUserEvent: (req, res) => {
      calls.user.push(req);
      if (req.context.eventName === 'message') {
        res.success(`pong:${req.data}`, 'text');
      } else {
        // State set here comes back on this connection's later events (ce-connectionState).
        req.statesSeen = { ...req.context.states };
        res.setState('greetings', (req.context.states.greetings ?? 0) + 1);
        res.success(JSON.stringify({ echo: req.data, event: req.context.eventName }), 'json');
      }
    },
  });
  const app = express();
  app.use(handler.getMiddleware());
  // Anything the middleware passed on (it ignores requests without ce-awpsversion or
  // WebHook-Request-Origin) lands here and is counted as a failure.
  app.use((req, res) => {
    calls.unhandled.push(`${req.method} ${req.url}`);
    res.status(404).end();
  });
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      resolve({
        port: server.address().port,
        calls,
        close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}

module.exports = { startExpressApp };
