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
//  - RELIABLE clients (json.reliable.webpubsub.azure.v1) stay in "stable" too, acknowledge
//    sequence ids every second, and every few seconds lose their socket abruptly and recover
//    (awps_connection_id + awps_reconnection_token, PROTOCOL.md §6.4): the service replays what
//    was not acknowledged; each recovery is counted, and a refused one (1008) is a failure;
//  - every SAMPLE_SECONDS the service's RSS (VmRSS), heap in use (glibc mallinfo2 in-use bytes,
//    written by scripts/soak-heap.c preloaded into the service: WPSIM_SOAK_HEAP_PRELOAD) and
//    open fds are sampled.
// Exit 1 when a stable or reliable member missed or reordered an acked message, a recovery
// failed, or when heap in use (else RSS, without the preload) grew by more than 5 % after
// warm-up (WARMUP_SECONDS; mean of the first third of the later samples against the mean of
// the last third), or fds did (highest of each third, with slack for the churn in flight).
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
const RELIABLE = 4;
const HUB = 'soak';
const HEAP_FILE = process.env.WPSIM_SOAK_HEAP_PRELOAD ? `/tmp/wpsim-soak-heap-${process.pid}` : '';

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function sample(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
  let heap = null;  // kB in use (arenas + mmapped chunks)
  if (HEAP_FILE) {
    const [arenas, mmapped] = fs.readFileSync(HEAP_FILE, 'utf8').trim().split(' ').map(Number);
    heap = Math.round((arenas + mmapped) / 1024);
  }
  return { t: 0, rss, heap, fds };
}

// A reliable member of "stable": keeps the data of every new sequence id (replays after a
// recovery repeat ids it has and are dropped), acknowledges the highest id every second.
function openReliable(url, counters) {
  const base = url.split('?')[0];
  const state = { received: [], maxSeq: 0, id: null, token: null, ws: null, recoveries: 0, failed: 0 };
  const attach = (u) => new Promise((resolve, reject) => {
    const ws = new WebSocket(u, 'json.reliable.webpubsub.azure.v1');
    state.ws = ws;
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m.type === 'system' && m.event === 'connected') {
        state.id = m.connectionId;
        state.token = m.reconnectionToken;
      }
      if (m.type === 'message' && m.sequenceId !== undefined) {
        if (m.sequenceId <= state.maxSeq) return;
        state.maxSeq = m.sequenceId;
        if (m.group === 'stable') state.received.push(m.data);
      }
    });
    ws.on('close', (code) => { if (code === 1008) ++state.failed; });
    ws.on('error', () => {});
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  state.start = async () => {
    await attach(url);
    state.ws.send(JSON.stringify({ type: 'joinGroup', group: 'stable', ackId: 1 }));
  };
  state.recover = async () => {
    state.ws._socket.destroy();  // abrupt: the service keeps the logical connection
    await sleep(50);
    await attach(`${base}?awps_connection_id=${encodeURIComponent(state.id)}` +
                 `&awps_reconnection_token=${encodeURIComponent(state.token)}`);
    ++state.recoveries;
    ++counters.recoveries;
  };
  state.ack = () => {
    if (state.ws && state.ws.readyState === WebSocket.OPEN && state.maxSeq > 0) {
      state.ws.send(JSON.stringify({ type: 'sequenceAck', sequenceId: state.maxSeq }));
    }
  };
  return state;
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
  const env = HEAP_FILE ? { LD_PRELOAD: process.env.WPSIM_SOAK_HEAP_PRELOAD, WPSIM_HEAP_SAMPLE_FILE: HEAP_FILE } : {};
  const serve = await startServe(['--log-level', 'error'], { env });
  const pid = serve.proc.pid;
  const service = new WebPubSubServiceClient(serve.connectionString, HUB, { allowInsecureConnection: true });
  const roles = ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup'];
  const stable = [];
  for (let i = 0; i < STABLE; ++i) {
    const ws = await openClient(service, `stable${i}`, roles);
    ws.send(JSON.stringify({ type: 'joinGroup', group: 'stable', ackId: 1 }));
    stable.push(ws);
  }
  const reliable = [];
  const counters = { sent: 0, churnCycles: 0, kills: 0, slowPauses: 0, recoveries: 0, errors: 0 };
  for (let i = 0; i < RELIABLE; ++i) {
    const token = await service.getClientAccessToken({ userId: `reliable${i}`, roles });
    const r = openReliable(token.url, counters);
    await r.start();
    reliable.push(r);
  }
  await sleep(200);
  if (HEAP_FILE) {
    for (let i = 0; i < 50 && !fs.existsSync(HEAP_FILE); ++i) await sleep(100);
    if (!fs.existsSync(HEAP_FILE)) throw new Error(`no heap samples in ${HEAP_FILE} (preload not active?)`);
  }
  const publisher = await openClient(service, 'publisher', roles);
  const start = Date.now();
  const deadline = start + SECONDS * 1000;
  let running = true;

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

  // Reliable members: acknowledge every second, lose the socket every 5-10 s and recover.
  const recovering = reliable.map((r, k) => (async () => {
    let tick = 0;
    while (running) {
      await sleep(1000);
      r.ack();
      if (++tick % (5 + k) === 0 && running) {
        try {
          await r.recover();
        } catch (e) {
          ++counters.errors;
          ++r.failed;
        }
      }
    }
  })());

  const samples = [];
  while (Date.now() < deadline) {
    await sleep(Math.min(SAMPLE * 1000, deadline - Date.now()));
    const s = sample(pid);
    s.t = Math.round((Date.now() - start) / 1000);
    samples.push(s);
    console.log(`soak t=${s.t}s rss=${s.rss}kB heap=${s.heap === null ? '?' : s.heap + 'kB'} fds=${s.fds} ` +
                `sent=${counters.sent} churn=${counters.churnCycles} kills=${counters.kills} ` +
                `slowPauses=${counters.slowPauses} recoveries=${counters.recoveries} clientErrors=${counters.errors}`);
  }
  running = false;
  await Promise.all([publishing, ...churning, ...slowing, ...recovering]);
  await sleep(1000);
  for (const r of reliable) r.ack();

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
  for (const [i, r] of reliable.entries()) {
    const got = r.received;
    const inOrder = got.every((d, j) => j === 0 || Number(d.slice(1)) > Number(got[j - 1].slice(1)));
    const have = new Set(got);
    const lost = acked.filter((d) => !have.has(d)).length;
    if (lost > 0 || !inOrder || r.failed > 0 || r.ws.readyState !== WebSocket.OPEN) {
      console.log(`soak: reliable${i} lost ${lost} of ${acked.length} acked messages, in order: ` +
                  `${inOrder}, failed recoveries: ${r.failed}, open: ${r.ws.readyState === WebSocket.OPEN}`);
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
  // Heap in use and RSS move with the churn in flight too (a few % between samples), so the bar
  // compares the mean of the first third of the samples after warm-up with the mean of the last
  // third; the single first and last samples are printed as well.
  const mean = (list, key) => list.reduce((a, x) => a + x[key], 0) / list.length;
  const early = after.length ? after.slice(0, third) : [warm];
  const late = after.length ? after.slice(-third) : [last];
  const heaps = after.filter((s) => s.heap !== null).map((s) => s.heap);
  const heapGrowth = warm.heap !== null ? growth(mean(early, 'heap'), mean(late, 'heap')) : null;
  const rssGrowth = growth(mean(early, 'rss'), mean(late, 'rss'));
  console.log(`soak: ${acked.length} acked messages to ${STABLE} stable and ${RELIABLE} reliable members ` +
              `(${counters.recoveries} recoveries, ${counters.churnCycles} churn cycles, ${counters.kills} kills, ` +
              `${counters.slowPauses} slow-reader pauses, ${counters.errors} client errors); ` +
              `after warm-up (t=${warm.t}s, ${after.length} samples) rss ${warm.rss} -> ${last.rss} kB, ` +
              `mean of first/last third ${mean(early, 'rss').toFixed(0)} -> ${mean(late, 'rss').toFixed(0)} kB ` +
              `(${(100 * rssGrowth).toFixed(1)} %), ` +
              (heapGrowth !== null ? `heap in use ${warm.heap} -> ${last.heap} kB, mean of first/last third ` +
                `${mean(early, 'heap').toFixed(0)} -> ${mean(late, 'heap').toFixed(0)} kB ` +
                `(${(100 * heapGrowth).toFixed(1)} %, min ${Math.min(...heaps)}, max ${Math.max(...heaps)}), ` : '') +
              `highest fds first third ${fdsEarly}, last third ${fdsLate}`);
  if (heapGrowth !== null) {
    if (samples.length > 1 && heapGrowth > 0.05) { console.log('soak: heap in use grew more than 5 %'); ++problems; }
  } else if (samples.length > 1 && rssGrowth > 0.05) { console.log('soak: RSS grew more than 5 %'); ++problems; }
  if (RELIABLE > 0 && counters.recoveries === 0) { console.log('soak: no recovery happened'); ++problems; }
  if (fdsLate > fdsEarly * 1.05 + CHURN + SLOW) { console.log('soak: fds grew'); ++problems; }
  for (const ws of [...stable, publisher, ...reliable.map((r) => r.ws)]) ws.terminate();
  await serve.stop();
  if (HEAP_FILE) fs.rmSync(HEAP_FILE, { force: true });
  process.exit(problems === 0 ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(1); });
