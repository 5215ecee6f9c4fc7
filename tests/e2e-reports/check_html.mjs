// Opens a generated wpsim HTML report in headless Chromium and checks, as a person would see it:
//   - the summary renders (verdict, passed/failed/skipped counts, seed, trace hash, target,
//     version, duration), also with JavaScript disabled;
//   - at least one latency histogram SVG with bars, and a percentile plot;
//   - for the failing scenario, a sequence diagram with a highlighted arrow and the violated
//     expectation, plus the reproduce command;
//   - no console errors, no page errors, and no network request other than the file itself.
// Usage: node check_html.mjs REPORT.html [SCREENSHOT.png]
// WPSIM_EXPECT_COUNTS (default "passed=1,failed=2,skipped=1", the sample report's) names the
// counts the summary must show; run-real.sh sets it for the report of a real `wpsim run`, and
// WPSIM_EXPECT_FAILING names the failing scenario whose sequence diagram is checked.
// Exit codes: 0 pass, 1 failure, 77 skipped (no browser), as ctest's SKIP_RETURN_CODE expects.
import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const reportPath = process.argv[2];
const screenshotPath = process.argv[3];
if (!reportPath || !existsSync(reportPath)) {
  console.error(`usage: node check_html.mjs REPORT.html [SCREENSHOT.png] (missing ${reportPath})`);
  process.exit(1);
}
const executablePath = process.env.WPSIM_CHROMIUM || '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  console.log(`SKIP: ${executablePath} not found (Debian package chromium)`);
  process.exit(77);
}

const url = pathToFileURL(resolve(reportPath)).href;
const failures = [];
function check(condition, message) {
  if (!condition) failures.push(message);
}

let browser;
try {
  // Playwright gives the browser a fresh temporary profile (--user-data-dir) and removes it on
  // close; the flags keep Chromium from phoning home, so any request we see comes from the page.
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(5000);
  const consoleErrors = [];
  const requests = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
  page.on('request', (req) => {
    if (req.url() !== url) requests.push(req.url());
  });
  await page.goto(url, { waitUntil: 'load' });

  const summary = page.locator('#summary');
  check(await summary.isVisible(), '#summary is not visible');
  const summaryText = (await summary.innerText()).replace(/\s+/g, ' ');
  for (const needle of ['passed', 'failed', 'skipped', 'seed', 'trace hash', 'target',
                        'wpsim version', 'duration', 'CONFORMANCE FAILURE']) {
    check(summaryText.includes(needle), `summary lacks "${needle}": ${summaryText}`);
  }
  const expectedCounts = Object.fromEntries(
      (process.env.WPSIM_EXPECT_COUNTS || 'passed=1,failed=2,skipped=1')
          .split(',').map((kv) => kv.split('=')));
  for (const [what, n] of Object.entries(expectedCounts)) {
    const shown = (await page.locator(`#count-${what}`).innerText()).replace(/\s+/g, ' ');
    check(new RegExp(`^\\s*${n}\\s*${what}`).test(shown), `${what} count: expected ${n}, shows "${shown}"`);
  }

  // Histograms of passing scenarios sit in closed <details>; check one that is on screen.
  const histogram = page.locator('details[open] svg.histogram').first();
  check(await histogram.count() === 1, 'no visible histogram SVG');
  if (await histogram.count()) {
    const box = await histogram.boundingBox();
    check(box && box.width > 100 && box.height > 100, `histogram SVG too small: ${JSON.stringify(box)}`);
    check(await histogram.locator('rect.bar').count() > 0, 'histogram SVG has no bars');
  }
  check(await page.locator('svg.percentiles polyline').count() > 0, 'no percentile plot line');
  check(await page.locator('svg.throughput').count() > 0, 'no throughput plot');

  const failingName = process.env.WPSIM_EXPECT_FAILING;
  const failing = failingName
      ? page.locator('details.scenario.fail', { hasText: failingName }).first()
      : page.locator('details.scenario.fail').first();
  check(await failing.count() === 1, `no failing scenario section${failingName ? ` for ${failingName}` : ''}`);
  check(await failing.evaluate((d) => d.open), 'the failing scenario section is not open');
  const sequence = failing.locator('svg.sequence');
  check(await sequence.count() === 1, 'failing scenario has no sequence diagram');
  if (await sequence.count()) {
    check(await sequence.isVisible(), 'sequence diagram is not visible');
    const box = await sequence.boundingBox();
    check(box && box.height > 150, `sequence diagram too small: ${JSON.stringify(box)}`);
    check(await sequence.locator('line.lifeline').count() >= 2, 'fewer than two lifelines');
    check(await sequence.locator('.arrow.highlighted').count() >= 1, 'no highlighted arrow');
    const violation = await sequence.locator('.violated-expectation').textContent();
    check(violation.includes('violated expectation'), `no violated expectation: ${violation}`);
  }
  const reproduce = await failing.locator('.reproduce').innerText();
  check(reproduce.startsWith('wpsim run '), `no reproduce command: ${reproduce}`);

  // The filter script works (and is the only script).
  await page.locator('#only-failing').check();
  check(!(await page.locator('details.scenario.pass').first().isVisible()),
        'the "failing only" filter did not hide passing scenarios');

  if (screenshotPath) await page.screenshot({ path: screenshotPath, fullPage: true });

  // Without JavaScript the summary and the plots are all there.
  const noJs = await browser.newContext({ javaScriptEnabled: false });
  const plain = await noJs.newPage();
  plain.on('request', (req) => {
    if (req.url() !== url) requests.push(req.url());
  });
  await plain.goto(url, { waitUntil: 'load' });
  const plainSummary = (await plain.locator('#summary').innerText()).replace(/\s+/g, ' ');
  check(plainSummary.includes('passed') && plainSummary.includes('trace hash'),
        'summary does not render without JavaScript');
  check(await plain.locator('svg.histogram').count() > 0, 'no histogram without JavaScript');
  await noJs.close();

  check(consoleErrors.length === 0, `console errors: ${JSON.stringify(consoleErrors)}`);
  check(requests.length === 0, `network requests: ${JSON.stringify(requests)}`);
} catch (err) {
  failures.push(`exception: ${err && err.stack ? err.stack : err}`);
} finally {
  if (browser) await browser.close();
}

if (failures.length) {
  for (const f of failures) console.error(`FAIL: ${f}`);
  process.exit(1);
}
console.log(`ok: ${reportPath} renders summary, histogram, percentile, throughput and sequence diagram; no console errors, no network requests`);
