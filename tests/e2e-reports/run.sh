#!/usr/bin/env bash
# ctest driver for the headless-Chromium check of the HTML report:
#   run.sh SAMPLE_TOOL OUTDIR
# Generates the sample report with SAMPLE_TOOL, then opens it with check_html.mjs.
# Exits 77 (ctest SKIP_RETURN_CODE) only when Chromium or the npm packages are absent.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tool="$1"
out="$2"
chromium="${WPSIM_CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
  echo "SKIP: $chromium not found; install Debian's chromium package"
  exit 77
fi
if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: node not found"
  exit 77
fi
if [[ ! -d "$here/node_modules/playwright-core" ]]; then
  echo "SKIP: $here/node_modules/playwright-core missing; run 'npm ci' in tests/e2e-reports"
  exit 77
fi
rm -rf "$out"
mkdir -p "$out"
"$tool" "$out" >/dev/null
cd "$here"
exec node check_html.mjs "$out/report.html" "$out/report.png"
