#!/usr/bin/env bash
# Runs one end-to-end test file with node's test runner. A self-signed certificate for the TLS
# tests is made first so NODE_EXTRA_CA_CERTS is set when node starts (it is read only then).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [[ ! -d "$here/node_modules" ]]; then
  echo "e2e: node_modules missing; run scripts/e2e-deps (make test does)" >&2
  exit 1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
export NODE_EXTRA_CA_CERTS="$dir/cert.pem" WPSIM_E2E_CERT="$dir/cert.pem" WPSIM_E2E_KEY="$dir/key.pem"
cd "$here"
# --test-force-exit (Node >= 20.10): the client SDK keeps reconnect timers alive after stop() in
# some states. Debian 12's Node 18 lacks the flag; there each test file must end its own timers.
flags=(--test --test-reporter=spec)
if node --test-force-exit -e 0 2>/dev/null; then
  flags+=(--test-force-exit)
fi
exec node "${flags[@]}" "$@"
