// Shared helpers for the end-to-end tests: start `wpsim serve` on an ephemeral loopback port,
// parse its one-line connection string, and stop it again.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const WPSIM = process.env.WPSIM_BIN || path.resolve(__dirname, '../../build/bin/wpsim');

// Starts `wpsim serve` with extra args; resolves { proc, connectionString, endpoint, port, stop }.
function startServe(args = [], { env } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(WPSIM, ['serve', '--listen', '127.0.0.1:0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stderr = '';
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`wpsim serve printed no connection string within 10 s; stderr:\n${stderr}`));
    }, 10000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`wpsim serve exited early with ${code}; stderr:\n${stderr}`));
    });
    const rl = readline.createInterface({ input: proc.stdout });
    const printed = [];  // lines before the connection string (trust line, trace page URL)
    rl.on('line', (line) => {
      const m = /^Connection string: (.*)$/.exec(line);
      if (!m) {
        printed.push(line);
        return;
      }
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      const connectionString = m[1];
      const port = Number(/Port=(\d+)/.exec(connectionString)[1]);
      const endpoint = /Endpoint=([^;]+)/.exec(connectionString)[1];
      const stop = () => new Promise((res) => {
        if (proc.exitCode !== null) return res(proc.exitCode);
        proc.on('exit', (code) => res(code));
        proc.kill('SIGTERM');
      });
      resolve({ proc, connectionString, endpoint, port, stop, printed, stderr: () => stderr });
    });
  });
}

// A self-signed certificate for localhost/127.0.0.1 made with the openssl CLI.
function makeSelfSignedCert() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpsim-e2e-cert-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { dir, cert, key };
}

// Resolves when `predicate()` is true, polling every 10 ms; rejects after `ms`.
function waitFor(predicate, ms = 5000, what = 'condition') {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = () => {
      let v;
      try { v = predicate(); } catch (e) { return reject(e); }
      if (v) return resolve(v);
      if (Date.now() - start > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

module.exports = { WPSIM, startServe, makeSelfSignedCert, waitFor };
