// `make soak`: a long run of `wpsim serve` over loopback with the official server SDK and the `ws`
// package (not part of `make test`; docs/reliability.md). Not a *.test.js file, so ctest does
// not pick it up.
//
// For SOAK_SECONDS (default 1800):
//  - STABLE json clients stay in group "stable" the whole time; a publisher sends to the group
//    with ackIds, one message every 20 ms; every acked message must reach every stable member,
//    in order (checked at the end);
//  - CHURN clients connect, join a group of their own, send, and leave, in a loop; a quarter of
//    them are killed abruptly (socket destroyed, no close frame) instead of closing;
//  - SLOW readers join "stable" and pause reading for seconds at a time (the service must close
//    them as slow consumers or let them catch up, never stall the others);
//  - every SAMPLE_SECONDS the service's RSS (VmRSS) and open fds are sampled.
// Exit 1 when a stable member missed or reordered an acked message, or when RSS or fds after
// warm-up (the first sample after WARMUP_SECONDS) grew by more than 5 % at the end.
'use strict';
const fs = require('node:fs');
const WebSocket = require('ws');
const { WebPubSubServiceClient } = require('@azure/web-pubsub');
const { startServe } = require('./lib');

const SECONDS = Number(process.env.SOAK_SECONDS || 1800);
const WARMUP = Number(process.env.WARMUP_SECONDS || Math.min(120, SECONDS / 5));
const SAMPLE = Number(process.env.SAMPLE_SECONDS || Math.max(5, Math.min(60, SECONDS / 30)));
const STABLE = 8;
const CHURN = 16;
const SLOW = 2;
const HUB = 'soak';

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function sample(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
  return { t: 0, rss, fds };
}

async function openClient(service, userId, roles) {
  const token = await service.getClientAccessToken({ userId, roles });
  const ws = new WebSocket(token.url, 'json.webpubsub.azure.v1');
  ws.received = [];
  ws.acks = new Map();
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.type === 'message' && m.group === 'stable') ws.received.push(m.data);
    if (m.type === 'ack') ws.acks.set(m.ackId, m.success);
  });
  ws.on('error', () => {});
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return ws;
}

async function main() {
  const serve = await startServe(['--log-level', 'error']);
  const pid = serve.proc.pid;
  const service = new WebPubSubServiceClient(serve.connectionString, HUB, { allowInsecureConnection: true });
  const roles = ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup'];
  const stable = [];
  for (let i = 0; i < STABLE; ++i) {
    const ws = await openClient(service, `stable${i}`, roles);
    ws.send(JSON.stringify({ type: 'joinGroup', group: 'stable', ackId: 1 }));
    stable.push(ws);
  }
  await sleep(200);
  const publisher = await openClient(service, 'publisher', roles);
  const start = Date.now();
  const deadline = start + SECONDS * 1000;
  let running = true;
  const counters = { sent: 0, churnCycles: 0, kills: 0, slowPauses: 0, errors: 0 };

  // Publisher: acked sends to the stable group.
  const publishing = (async () => {
    let ackId = 0;
    while (running) {
      ++ackId;
      publisher.send(JSON.stringify({ type: 'sendToGroup', group: 'stable', dataType: 'text',
                                      data: `m${ackId}`, ackId }));
      counters.sent = ackId;
      await sleep(20);
    }
  })();

  // Churn: connect, join, send, leave or die.
  const churning = Array.from({ length: CHURN }, (_, k) => (async () => {
    let n = 0;
    while (running) {
      try {
        const ws = await openClient(service, `churn${k}`, roles);
        ws.send(JSON.stringify({ type: 'joinGroup', group: `g${k}`, ackId: 1 }));
        ws.send(JSON.stringify({ type: 'sendToGroup', group: `g${k}`, dataType: 'text', data: 'x', ackId: 2 }));
        await sleep(50);
        if (++n % 4 === 0) {
          ws._socket.destroy();  // abrupt: no close frame, no FIN handshake from the client
          ++counters.kills;
        } else {
          ws.close(1000);
        }
        ++counters.churnCycles;
      } catch (e) {
        ++counters.errors;
        await sleep(100);
      }
    }
  })());

  // Slow readers: in the stable group, pausing their socket for a while.
  const slowing = Array.from({ length: SLOW }, (_, k) => (async () => {
    while (running) {
      try {
        const ws = await openClient(service, `slow${k}`, roles);
        ws.send(JSON.stringify({ type: 'joinGroup', group: 'stable', ackId: 1 }));
        while (running && ws.readyState === WebSocket.OPEN) {
          await sleep(2000);
          ws._socket.pause();
          ++counters.slowPauses;
          await sleep(5000);
          ws._socket.resume();
        }
        ws.terminate();
      } catch (e) {
        ++counters.errors;
        await sleep(100);
      }
    }
  })());

  const samples = [];
  while (Date.now() < deadline) {
    await sleep(Math.min(SAMPLE * 1000, deadline - Date.now()));
    const s = sample(pid);
    s.t = Math.round((Date.now() - start) / 1000);
    samples.push(s);
    console.log(`soak t=${s.t}s rss=${s.rss}kB fds=${s.fds} sent=${counters.sent} ` +
                `churn=${counters.churnCycles} kills=${counters.kills} slowPauses=${counters.slowPauses} ` +
                `clientErrors=${counters.errors}`);
  }
  running = false;
  await Promise.all([publishing, ...churning, ...slowing]);
  await sleep(1000);

  // Every acked message reached every stable member in order.
  let problems = 0;
  const acked = [];
  for (let id = 1; id <= counters.sent; ++id) if (publisher.acks.get(id) === true) acked.push(`m${id}`);
  for (const [i, ws] of stable.entries()) {
    const got = ws.received;
    const inOrder = got.every((d, j) => j === 0 || Number(d.slice(1)) > Number(got[j - 1].slice(1)));
    const have = new Set(got);
    const lost = acked.filter((d) => !have.has(d)).length;
    if (lost > 0 || !inOrder || ws.readyState !== WebSocket.OPEN) {
      console.log(`soak: stable${i} lost ${lost} of ${acked.length} acked messages, in order: ` +
                  `${inOrder}, open: ${ws.readyState === WebSocket.OPEN}`);
      ++problems;
    }
  }
  // Open fds move with the churn (up to CHURN + SLOW connections come and go at any moment), so
  // fds compare the highest sample of the first and the last third after warm-up, with that much
  // slack; RSS compares the first sample after warm-up with the last.
  const after = samples.filter((s) => s.t >= WARMUP);
  const warm = after[0] || samples[0];
  const last = samples[samples.length - 1];
  const third = Math.max(1, Math.floor(after.length / 3));
  const maxFds = (list) => Math.max(...list.map((s) => s.fds));
  const fdsEarly = after.length ? maxFds(after.slice(0, third)) : warm.fds;
  const fdsLate = after.length ? maxFds(after.slice(-third)) : last.fds;
  const growth = (a, b) => (b - a) / a;
  console.log(`soak: ${acked.length} acked messages to ${STABLE} stable members; ` +
              `after warm-up (t=${warm.t}s) rss ${warm.rss} -> ${last.rss} kB ` +
              `(${(100 * growth(warm.rss, last.rss)).toFixed(1)} %), highest fds first third ${fdsEarly}, ` +
              `last third ${fdsLate}`);
  if (samples.length > 1 && growth(warm.rss, last.rss) > 0.05) { console.log('soak: RSS grew more than 5 %'); ++problems; }
  if (fdsLate > fdsEarly * 1.05 + CHURN + SLOW) { console.log('soak: fds grew'); ++problems; }
  for (const ws of [...stable, publisher]) ws.terminate();
  await serve.stop();
  process.exit(problems === 0 ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(1); });
