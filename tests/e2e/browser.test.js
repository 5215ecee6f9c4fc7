// A real browser against `wpsim serve`: Debian's Chromium, headless, driven by playwright-core,
// runs the quickstarts' web pages unmodified in substance:
//  - seed 002 (log streaming): the page fetches /negotiate from an Express app (server SDK
//    getClientAccessToken with roles scoped to group "stream"), opens
//    `new WebSocket(url, 'json.webpubsub.azure.v1')`, joins "stream" with an ackId and prints
//    every group message; a streamer (the `ws` package, like the quickstart's stream client)
//    sends lines with sendToGroup, and they appear on the page in order;
//  - seed 001: a page with a plain `new WebSocket(token.url)` receives the server SDK's
//    sendToAll text;
//  - seed 003: the page itself publishes JSON to a group with an ackId and gets the ack.
// The browser sends an Origin header and negotiates the subprotocol itself, which no Node
// client does; no console errors are allowed.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const express = require('express');
const WebSocket = require('ws');
const { WebPubSubServiceClient } = require('@azure/web-pubsub');
const { startServe } = require('./lib');

const CHROMIUM = process.env.WPSIM_CHROMIUM || '/usr/bin/chromium';

// seed 002's public/index.html, with the group join of step 2 and the message filter of step 3;
// it also keeps what it saw in window.__wpsim for the test to read.
const STREAM_PAGE = `<html>
<body>
  <div id="output"></div>
  <script>
    window.__wpsim = { acks: [], protocol: null, errors: [], data: [] };
    (async function () {
      let res = await fetch('/negotiate');
      let data = await res.json();
      let ws = new WebSocket(data.url, 'json.webpubsub.azure.v1');
      let ackId = 0;
      ws.onopen = () => {
        console.log('connected');
        window.__wpsim.protocol = ws.protocol;
        ws.send(JSON.stringify({ type: 'joinGroup', group: 'stream', ackId: ++ackId }));
      };
      ws.onerror = () => window.__wpsim.errors.push('websocket error');
      let output = document.querySelector('#output');
      ws.onmessage = event => {
        let message = JSON.parse(event.data);
        if (message.type === 'ack') window.__wpsim.acks.push(message);
        if (message.type === 'message' && message.group === 'stream') {
          window.__wpsim.data.push(message.data);
          let d = document.createElement('span');
          d.innerText = message.data;
          output.appendChild(d);
        }
      };
      window.__wpsim.publish = (payload) => ws.send(JSON.stringify({
        type: 'sendToGroup', group: 'stream', dataType: 'json', data: payload, ackId: ++ackId }));
    })();
  </script>
</body>
</html>`;

// seed 001's subscriber, in a page: a plain WebSocket printing every frame.
const PLAIN_PAGE = `<html>
<body>
  <div id="output"></div>
  <script>
    (async function () {
      let res = await fetch('/negotiate-plain');
      let token = await res.json();
      let ws = new WebSocket(token.url);
      ws.onopen = () => { document.title = 'connected'; };
      ws.onmessage = event => {
        let d = document.createElement('p');
        d.innerText = event.data;
        document.querySelector('#output').appendChild(d);
      };
    })();
  </script>
</body>
</html>`;

let serve;
let app;
let appServer;
let appUrl;
let browser;

before(async () => {
  serve = await startServe();
  const service = new WebPubSubServiceClient(serve.connectionString, 'stream', { allowInsecureConnection: true });
  app = express();
  app.get('/negotiate', async (req, res) => {
    const token = await service.getClientAccessToken({
      roles: ['webpubsub.sendToGroup.stream', 'webpubsub.joinLeaveGroup.stream'],
    });
    res.send({ url: token.url });
  });
  app.get('/negotiate-plain', async (req, res) => {
    const token = await new WebPubSubServiceClient(serve.connectionString, 'plain', { allowInsecureConnection: true }).getClientAccessToken();
    res.send({ url: token.url });
  });
  app.get('/favicon.ico', (req, res) => res.status(204).end());  // the browser asks for it
  app.get('/index.html', (req, res) => res.type('html').send(STREAM_PAGE));
  app.get('/plain.html', (req, res) => res.type('html').send(PLAIN_PAGE));
  appServer = http.createServer(app);
  await new Promise((resolve) => appServer.listen(0, '127.0.0.1', resolve));
  appUrl = `http://127.0.0.1:${appServer.address().port}`;
  // A missing browser is a missing prerequisite: it fails this test (and CI) instead of
  // letting it pass as skipped.
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium package or set ` +
                    'WPSIM_CHROMIUM to a Chromium binary');
  }
  const { chromium } = require('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (appServer) await new Promise((resolve) => appServer.close(resolve));
  if (serve) await serve.stop();
});

async function openPage(path) {
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
  page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
  await page.goto(appUrl + path);
  return { page, consoleErrors };
}

test('seed 002 in a browser: negotiate, json subprotocol, joinGroup ack, streamed lines appear in order',
  async () => {
    const { page, consoleErrors } = await openPage('/index.html');
    await page.waitForFunction(() => window.__wpsim && window.__wpsim.acks.length === 1, null, { timeout: 10000 });
    assert.equal(await page.evaluate(() => window.__wpsim.protocol), 'json.webpubsub.azure.v1');
    assert.deepEqual(await page.evaluate(() => window.__wpsim.acks[0]), { type: 'ack', ackId: 1, success: true });

    // The quickstart's stream client: a WebSocket with the json subprotocol sending lines.
    const service = new WebPubSubServiceClient(serve.connectionString, 'stream', { allowInsecureConnection: true });
    const token = await service.getClientAccessToken({ roles: ['webpubsub.sendToGroup.stream'] });
    const streamer = new WebSocket(token.url, 'json.webpubsub.azure.v1');
    await new Promise((resolve, reject) => { streamer.on('open', resolve); streamer.on('error', reject); });
    const lines = ['first line\n', 'second line\n', 'third line\n'];
    for (const data of lines) {
      streamer.send(JSON.stringify({ type: 'sendToGroup', group: 'stream', dataType: 'text', data }));
    }
    await page.waitForFunction((n) => document.querySelectorAll('#output span').length === n, lines.length,
      { timeout: 10000 });
    assert.deepEqual(await page.evaluate(() => window.__wpsim.data), lines);
    const shown = await page.$$eval('#output span', (spans) => spans.map((s) => s.textContent));
    assert.deepEqual(shown, lines.map((l) => l.trim()));  // innerText turns the newline into <br>
    streamer.close();

    // seed 003: the page publishes JSON to the group with an ackId; the ack says success and the
    // page (in the group, noEcho false) also receives its own message.
    await page.evaluate(() => window.__wpsim.publish({ from: 'browser' }));
    await page.waitForFunction(() => window.__wpsim.acks.length === 2, null, { timeout: 10000 });
    assert.deepEqual(await page.evaluate(() => window.__wpsim.acks[1]), { type: 'ack', ackId: 2, success: true });
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(await page.evaluate(() => window.__wpsim.errors), []);
    await page.close();
  });

test('seed 001 in a browser: a plain WebSocket receives the server SDK sendToAll text',
  async () => {
    const { page, consoleErrors } = await openPage('/plain.html');
    await page.waitForFunction(() => document.title === 'connected', null, { timeout: 10000 });
    const service = new WebPubSubServiceClient(serve.connectionString, 'plain', { allowInsecureConnection: true });
    await service.sendToAll('Hello World', { contentType: 'text/plain' });
    await page.waitForFunction(() => document.querySelectorAll('#output p').length === 1, null, { timeout: 10000 });
    assert.equal(await page.$eval('#output p', (p) => p.textContent), 'Hello World');
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });
