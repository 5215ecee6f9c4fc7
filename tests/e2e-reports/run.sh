#!/usr/bin/env bash
# ctest driver for the headless-Chromium check of the HTML report:
#   run.sh SAMPLE_TOOL OUTDIR
# Generates the sample report with SAMPLE_TOOL, then opens it with check_html.mjs.
# Exits 77 (ctest SKIP_RETURN_CODE) only when Chromium or the npm packages are absent.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tool="$1"
out="$2"
source "$here/prereqs.sh"
rm -rf "$out"
mkdir -p "$out"
"$tool" "$out" >/dev/null
cd "$here"
exec node check_html.mjs "$out/report.html" "$out/report.png"
