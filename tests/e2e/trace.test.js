// The live trace page of `wpsim serve --trace-ui` (docs/trace.md) in headless Chromium (Debian's
// package, driven by playwright-core like browser.test.js): the page opens from the URL the
// service prints, shows a client's connection and group, the frame it sends, an upgrade refused
// with the service's reason, an event-handler-free REST call, and its filters hide what does not
// match. Without the token the page is refused. A missing Chromium fails the test.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const WebSocket = require('ws');
const { WebPubSubServiceClient } = require('@azure/web-pubsub');
const { startServe, waitFor } = require('./lib');

const CHROMIUM = process.env.WPSIM_CHROMIUM || '/usr/bin/chromium';

let serve;
let traceUrl;
let browser;
const sockets = [];

before(async () => {
  serve = await startServe(['--trace-ui']);
  const line = serve.printed.find((l) => l.startsWith('Trace page: '));
  assert.ok(line, `no "Trace page:" line in ${JSON.stringify(serve.printed)}`);
  traceUrl = line.slice('Trace page: '.length);
  assert.match(traceUrl, /^http:\/\/127\.0\.0\.1:\d+\/trace\?token=[0-9a-f]{32}$/);
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
  for (const ws of sockets) ws.terminate();
  if (browser) await browser.close();
  if (serve) await serve.stop();
});

function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

// A json.webpubsub.azure.v1 client of hub `hub` for `userId`; resolves once `connected` arrived.
async function connectClient(service, userId, roles) {
  const token = await service.getClientAccessToken({ userId, roles });
  const ws = new WebSocket(token.url, 'json.webpubsub.azure.v1');
  sockets.push(ws);
  const messages = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  await waitFor(() => messages.some((m) => m.type === 'system' && m.event === 'connected'), 5000,
    `${userId} connected`);
  return { ws, messages };
}

// The text of the visible event rows of `kind` (e.g. "frame-in").
function visibleRows(page, kind) {
  return page.evaluate((k) => [...document.querySelectorAll(`#events tr.kind-${k}`)]
    .filter((tr) => !tr.hidden).map((tr) => tr.textContent), kind);
}

test('without the printed token the trace page and its feed are refused', async () => {
  const bare = traceUrl.replace(/\?token=.*$/, '');
  assert.equal((await get(bare)).status, 401);
  assert.equal((await get(bare + '?token=0123456789abcdef0123456789abcdef')).status, 401);
  assert.equal((await get(traceUrl)).status, 200);
});

test('the trace page shows connections, groups, frames, a refused connection and REST calls, and filters them',
  async () => {
    const page = await browser.newPage();
    const consoleErrors = [];
    page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
    page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
    // Anything the page would load from elsewhere fails the test (it must be self-contained).
    const foreign = [];
    page.on('request', (r) => { if (!r.url().startsWith(traceUrl.replace(/\/trace.*$/, ''))) foreign.push(r.url()); });
    await page.goto(traceUrl);
    await page.waitForFunction(() => document.getElementById('status').textContent === 'live', null,
      { timeout: 10000 });

    const service = new WebPubSubServiceClient(serve.connectionString, 'chat', { allowInsecureConnection: true });
    const alice = await connectClient(service, 'alice',
      ['webpubsub.joinLeaveGroup.room1', 'webpubsub.sendToGroup.room1']);
    const bob = await connectClient(service, 'bob', []);

    // A frame in, its ack out, and the join it caused.
    alice.ws.send(JSON.stringify({ type: 'joinGroup', group: 'room1', ackId: 1 }));
    alice.ws.send(JSON.stringify({ type: 'sendToGroup', group: 'room1', dataType: 'text',
                                   data: 'hello from the trace test', ackId: 2 }));
    await waitFor(() => alice.messages.filter((m) => m.type === 'ack').length === 2, 5000, 'two acks');
    await page.waitForFunction(() => [...document.querySelectorAll('#events tr.kind-frame-in')]
      .some((tr) => tr.textContent.includes('hello from the trace test')), null, { timeout: 10000 });
    const inRows = await visibleRows(page, 'frame-in');
    const sent = inRows.find((t) => t.includes('hello from the trace test'));
    assert.ok(sent.includes('chat') && sent.includes('alice') && sent.includes('room1'), sent);
    await page.waitForFunction(() => [...document.querySelectorAll('#events tr.kind-frame-out')]
      .some((tr) => tr.textContent.includes('"ackId":2')), null, { timeout: 10000 });
    // The connection table: alice in room1, bob in no group.
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#connections tr')].map((tr) => tr.textContent);
      return rows.some((t) => t.includes('alice') && t.includes('room1')) && rows.some((t) => t.includes('bob'));
    }, null, { timeout: 10000 });

    // bob has no role: the service answers his sendToGroup with an ack error, visible as a frame.
    bob.ws.send(JSON.stringify({ type: 'sendToGroup', group: 'room1', dataType: 'text', data: 'denied', ackId: 7 }));
    await page.waitForFunction(() => [...document.querySelectorAll('#events tr.kind-frame-out')]
      .some((tr) => tr.textContent.includes('bob') && tr.textContent.includes('Forbidden')), null, { timeout: 10000 });

    // A refused connection: a token signed with another key, and the service's reason.
    const forged = new WebPubSubServiceClient(
      serve.connectionString.replace(/AccessKey=[^;]+/, 'AccessKey=' + 'x'.repeat(44)), 'chat',
      { allowInsecureConnection: true });
    const badToken = await forged.getClientAccessToken({ userId: 'mallory' });
    const refused = new WebSocket(badToken.url, 'json.webpubsub.azure.v1');
    const status = await new Promise((resolve) => {
      refused.on('unexpected-response', (req, res) => resolve(res.statusCode));
      refused.on('open', () => resolve('open'));
      refused.on('error', () => {});
    });
    assert.equal(status, 401);
    await page.waitForFunction(() => [...document.querySelectorAll('#events tr.kind-http-response.bad')]
      .some((tr) => tr.textContent.includes('401') && tr.textContent.includes('Unauthorized') &&
                    tr.textContent.includes('/client/hubs/chat')), null, { timeout: 10000 });
    // The token in the request target is not shown.
    const requestRows = await visibleRows(page, 'http-request');
    assert.ok(requestRows.some((t) => t.includes('access_token=<redacted>')), requestRows.join('\n'));
    assert.ok(!requestRows.some((t) => t.includes(badToken.token)), 'access token shown on the page');

    // A REST call.
    await service.sendToAll('from REST', { contentType: 'text/plain' });
    await page.waitForFunction(() => [...document.querySelectorAll('#events tr.kind-http-request')]
      .some((tr) => tr.textContent.includes('POST /api/hubs/chat/:send')), null, { timeout: 10000 });

    // Filters: user bob hides alice's frames and shows bob's; group room1 shows alice's send.
    await page.fill('#f-user', 'bob');
    let rows = await visibleRows(page, 'frame-in');
    assert.ok(rows.length > 0 && rows.every((t) => t.includes('bob')), rows.join('\n'));
    assert.ok(!rows.some((t) => t.includes('hello from the trace test')));
    assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll('#connections tr')]
      .map((tr) => tr.dataset.connection ? tr.textContent.includes('bob') : true)), [true]);
    await page.fill('#f-user', '');
    await page.fill('#f-group', 'room1');
    rows = await visibleRows(page, 'frame-in');
    assert.ok(rows.some((t) => t.includes('hello from the trace test')), rows.join('\n'));
    assert.ok(rows.every((t) => t.includes('room1')), rows.join('\n'));
    await page.fill('#f-group', '');
    await page.fill('#f-hub', 'no-such-hub');
    assert.deepEqual(await visibleRows(page, 'frame-in'), []);
    await page.fill('#f-hub', '');

    // Pause holds new events back; Resume shows them.
    await page.click('#pause');
    alice.ws.send(JSON.stringify({ type: 'sendToGroup', group: 'room1', dataType: 'text', data: 'while paused', ackId: 3 }));
    await waitFor(() => alice.messages.filter((m) => m.type === 'ack').length === 3, 5000, 'third ack');
    await page.waitForFunction(() => window.__trace.events.some((e) => e.text === undefined &&
      e.json && e.json.data === 'while paused'), null, { timeout: 10000 });
    assert.ok(!(await visibleRows(page, 'frame-in')).some((t) => t.includes('while paused')));
    await page.click('#pause');
    assert.ok((await visibleRows(page, 'frame-in')).some((t) => t.includes('while paused')));

    // Closing a connection removes it from the table and shows why.
    bob.ws.close();
    await page.waitForFunction(() => ![...document.querySelectorAll('#connections tr')]
      .some((tr) => tr.textContent.includes('bob')), null, { timeout: 10000 });
    assert.ok((await visibleRows(page, 'closed')).some((t) => t.includes('bob')));

    // A page opened later gets the open connections and the recent events.
    const late = await browser.newPage();
    await late.goto(traceUrl);
    await late.waitForFunction(() => [...document.querySelectorAll('#connections tr')]
      .some((tr) => tr.textContent.includes('alice') && tr.textContent.includes('room1')), null, { timeout: 10000 });
    await late.waitForFunction(() => [...document.querySelectorAll('#events tr.kind-frame-in')]
      .some((tr) => tr.textContent.includes('hello from the trace test')), null, { timeout: 10000 });
    await late.close();

    assert.deepEqual(foreign, []);
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });
