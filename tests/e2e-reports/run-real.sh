#!/usr/bin/env bash
# ctest driver: the HTML report of a real `wpsim run` opens in headless Chromium.
#   run-real.sh WPSIM SOURCE_DIR OUTDIR
# Runs a passing quickstart, the open-loop load scenario (throughput plot), a scenario that is
# skipped in sim, and a deliberately failing one (tests/data/reports-run/: the service runs with
# the drop-noecho bug), then checks the page with check_html.mjs: the summary shows 2 passed,
# 1 failed, 1 skipped; the failing scenario's sequence diagram has the violated expectation
# highlighted; no console errors and no network requests.
# Exits 77 (ctest SKIP_RETURN_CODE) only when Chromium or the npm packages are absent.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
wpsim="$1"
src="$2"
out="$3"
source "$here/prereqs.sh"
rm -rf "$out"
mkdir -p "$out"
cd "$src"
set +e
"$wpsim" run scenarios/quickstarts/001-websocket-subscriber-rest-send-to-all.yaml \
  scenarios/load/fanout-broadcast.yaml tests/data/reports-run/ \
  --html "$out/report.html" --json "$out/report.json" >"$out/run.log" 2>&1
rc=$?
set -e
cat "$out/run.log"
if [[ $rc -ne 1 ]]; then
  echo "FAIL: wpsim run exited $rc; a conformance failure (1) was expected"
  exit 1
fi
cd "$here"
WPSIM_EXPECT_COUNTS="passed=2,failed=1,skipped=1" \
WPSIM_EXPECT_FAILING="reports-run-noecho-bug-is-caught" \
  exec node check_html.mjs "$out/report.html" "$out/report.png"
