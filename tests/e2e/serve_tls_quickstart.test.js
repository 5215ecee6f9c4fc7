// `wpsim serve --tls` with no certificate files: the seed 001 quickstart (seed001/subscribe.js
// and seed001/publish.js, copied character for character from the JavaScript tabs of
// "Publish and subscribe messages using WebSocket API and the service SDK") runs unmodified,
// with only the environment line that `wpsim serve --tls` prints (and the connection string the
// quickstart asks for). The development CA is made in a temporary XDG_DATA_HOME, reused on the
// second start, and without the printed line the quickstart's https call fails (the control).
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { WPSIM, waitFor } = require('./lib');

const dataHome = fs.mkdtempSync(path.join(os.tmpdir(), 'wpsim-e2e-xdg-'));
const children = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(dataHome, { recursive: true, force: true });
});

// The environment of a user's shell: this process's, without the trust variables the test
// runner set for other tests.
function cleanEnv(extra) {
  const env = { ...process.env };
  for (const k of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE',
    'WPSIM_E2E_CERT', 'WPSIM_E2E_KEY', 'WebPubSubConnectionString']) delete env[k];
  return { ...env, ...extra };
}

// Starts `wpsim serve --tls`; resolves with every stdout line up to the connection string.
function startServeTls() {
  return new Promise((resolve, reject) => {
    const proc = spawn(WPSIM, ['serve', '--tls', '--listen', '127.0.0.1:0', '--log-level', 'error'], {
      stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv({ XDG_DATA_HOME: dataHome }),
    });
    children.push(proc);
    let stderr = '';
    proc.stderr.on('data', (d) => { stderr += d; });
    const lines = [];
    const timer = setTimeout(() => reject(new Error(`no connection string in 15 s; stderr:\n${stderr}`)), 15000);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`wpsim serve exited ${code}: ${stderr}`)); });
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      lines.push(line);
      const m = /^Connection string: (.*)$/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      const stop = () => new Promise((res) => {
        if (proc.exitCode !== null) return res(proc.exitCode);
        proc.on('exit', res);
        proc.kill('SIGTERM');
      });
      resolve({ lines, connectionString: m[1], stop });
    });
  });
}

// The variables of the printed "Trust it (Node, Python): export A=x B=y" line.
function trustEnv(lines) {
  const line = lines.find((l) => l.startsWith('Trust it (Node, Python): export '));
  assert.ok(line, `no trust line in:\n${lines.join('\n')}`);
  const env = {};
  for (const word of line.slice('Trust it (Node, Python): export '.length).split(' ')) {
    const eq = word.indexOf('=');
    env[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return env;
}

// Runs `node <script> args` in seed001/ and collects its output; resolves on exit.
function runNode(script, args, env) {
  const proc = spawn(process.execPath, [script, ...args], {
    cwd: path.join(__dirname, 'seed001'), env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  const out = { stdout: '', stderr: '', proc };
  proc.stdout.on('data', (d) => { out.stdout += d; });
  proc.stderr.on('data', (d) => { out.stderr += d; });
  out.exited = new Promise((res) => proc.on('exit', (code) => res(code)));
  return out;
}

test('seed 001 publish.js and subscribe.js run unmodified against wpsim serve --tls', async () => {
  const serve = await startServeTls();
  try {
    assert.match(serve.connectionString, /^Endpoint=https:\/\/127\.0\.0\.1;Port=\d+;AccessKey=.+;Version=1\.0;$/);
    assert.ok(serve.lines.some((l) => /^Development CA: .*\/wpsim\/dev-tls\/ca\.pem \(created now\)$/.test(l)),
      serve.lines.join('\n'));
    const trust = trustEnv(serve.lines);
    assert.deepEqual(Object.keys(trust).sort(), ['NODE_EXTRA_CA_CERTS', 'REQUESTS_CA_BUNDLE', 'SSL_CERT_FILE']);
    assert.equal(trust.NODE_EXTRA_CA_CERTS, path.join(dataHome, 'wpsim/dev-tls/ca.pem'));
    assert.equal(trust.SSL_CERT_FILE, path.join(dataHome, 'wpsim/dev-tls/ca-bundle.pem'));
    assert.equal(trust.REQUESTS_CA_BUNDLE, trust.SSL_CERT_FILE);
    const keyMode = fs.statSync(path.join(dataHome, 'wpsim/dev-tls/ca-key.pem')).mode & 0o777;
    assert.equal(keyMode, 0o600);

    const env = cleanEnv({ ...trust, WebPubSubConnectionString: serve.connectionString });
    const sub = runNode('subscribe.js', [], env);
    await waitFor(() => sub.stdout.includes('connected\n') || sub.proc.exitCode !== null, 10000,
      'subscribe.js to print connected');
    assert.ok(sub.stdout.includes('connected\n'), `subscribe.js: ${sub.stdout}\n${sub.stderr}`);

    const pub = runNode('publish.js', ['Hello World'], env);
    assert.equal(await pub.exited, 0, `publish.js failed:\n${pub.stderr}`);
    await waitFor(() => sub.stdout.includes('Message received: Hello World\n'), 10000,
      `the subscriber to print the message (it printed: ${JSON.stringify(sub.stdout)})`);
    sub.proc.kill('SIGTERM');
    await sub.exited;

    // The control: the same publish without the trust line fails on the certificate.
    const untrusted = runNode('publish.js', ['Hello World'],
      cleanEnv({ WebPubSubConnectionString: serve.connectionString }));
    assert.notEqual(await untrusted.exited, 0);
    assert.match(untrusted.stderr, /certificate/i);
  } finally {
    await serve.stop();
  }

  // A second start reuses the same CA: clients that trust it keep trusting it.
  const caBefore = fs.readFileSync(path.join(dataHome, 'wpsim/dev-tls/ca.pem'), 'utf8');
  const again = await startServeTls();
  try {
    assert.ok(again.lines.some((l) => / \(made earlier\)$/.test(l)), again.lines.join('\n'));
    assert.equal(fs.readFileSync(path.join(dataHome, 'wpsim/dev-tls/ca.pem'), 'utf8'), caBefore);
  } finally {
    await again.stop();
  }
});

test('Python (ssl and requests) trusts wpsim serve --tls with the printed line alone', async () => {
  const serve = await startServeTls();
  try {
    const port = /Port=(\d+)/.exec(serve.connectionString)[1];
    // Any HTTP answer (even 404) means the TLS handshake and the 127.0.0.1 name check passed.
    const script = `
import sys, urllib.request, urllib.error
url = "https://127.0.0.1:${port}/api/health"
try:
    status = urllib.request.urlopen(url, timeout=10).status
except urllib.error.HTTPError as e:
    status = e.code
print("ssl", status)
try:
    import requests
except ImportError:
    sys.exit(0)
print("requests", requests.get(url, timeout=10).status_code)
`;
    const run = (env) => new Promise((resolve) => {
      // Debian's interpreter when present (its python3-requests), as the paho test does.
      const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
      const p = spawn(python, ['-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(p);
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => { out += d; });
      p.stderr.on('data', (d) => { err += d; });
      p.on('exit', (code) => resolve({ code, out, err }));
    });
    const trusted = await run(cleanEnv(trustEnv(serve.lines)));
    assert.equal(trusted.code, 0, trusted.err);
    assert.match(trusted.out, /^ssl \d{3}$/m);
    const untrusted = await run(cleanEnv({}));
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.err, /CERTIFICATE_VERIFY_FAILED/);
  } finally {
    await serve.stop();
  }
});
