# Sourced by the ctest drivers of this folder: exits 77 (ctest SKIP_RETURN_CODE) unless
# Chromium, node and the npm packages (playwright-core) are present. Expects $here.
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
