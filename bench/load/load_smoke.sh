#!/usr/bin/env bash
# load.smoke: wpsim-load against a `wpsim serve` child on 127.0.0.1, every subscriber kind with
# every publisher kind it pairs with, 20 subscribers x 200 messages each, closed and open loop.
# Each run must deliver every message to every subscriber (wpsim-load exits 1 otherwise) and
# write its JSON figures. Also: a refused token is reported as an error, not a pass.
set -euo pipefail
wpsim=$1 load=$2
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/serve.sh"
dir=$(mktemp -d)
cleanup() {
  stop_serve
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' TERM INT
start_serve load.smoke "$wpsim" "$dir" || exit 1
cs=$serve_cs
i=0
for pair in "websocket json" "websocket rest" "json json" "json rest" "json mqtt" "mqtt311 mqtt" "mqtt5 mqtt" "mqtt5 rest"; do
  set -- $pair
  i=$((i + 1))
  timeout 60 "$load" --connection-string "$cs" --hub "smoke$i" --sub "$1" --pub "$2" -c 20 -n 200 \
    --inflight 8 --json "$dir/closed$i.json" --timeout 50
  timeout 60 "$load" --connection-string "$cs" --hub "smoke$i" --sub "$1" --pub "$2" -c 20 -n 200 \
    --rate 2000 --json "$dir/open$i.json" --timeout 50
  python3 - "$dir/closed$i.json" "$dir/open$i.json" <<'PY'
import json, sys
for f in sys.argv[1:]:
    r = json.load(open(f))
    assert r["ok"] and r["delivered"] == r["expected"] == 4000 and r["errors"] == 0, r
    assert r["deliveries_per_s"] > 0 and 0 < r["latency_ns"]["p50"] <= r["latency_ns"]["p99"], r
PY
done
# wpsim bench --target remote against the same running service: the bench's hub gets a per-run
# suffix, every delivery arrives, and the reproduce line does not carry the access key.
timeout 90 "$wpsim" bench --target remote --connection-string "$cs" --kind json --path group -c 50 \
  --messages 100 --rate 200/s --baseline websocket --json "$dir/bench.json" >"$dir/bench.out"
python3 - "$dir/bench.json" "$cs" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
key = sys.argv[2].split("AccessKey=")[1].split(";")[0]
assert r["target"] == "remote", r["target"]
assert all(s["status"] == "pass" for s in r["scenarios"]), [(s["name"], s["status"]) for s in r["scenarios"]]
assert key not in json.dumps(r), "the access key leaked into the report"
PY
grep -q 'deliveries.*5000 of 5000 expected' "$dir/bench.out" || { cat "$dir/bench.out" >&2; exit 1; }
if "$wpsim" bench --target remote -c 2 --messages 1 >"$dir/usage.out" 2>&1; then
  echo "load.smoke: bench --target remote without a connection string passed" >&2; exit 1
fi
grep -q 'needs --connection-string' "$dir/usage.out" || { cat "$dir/usage.out" >&2; exit 1; }

# A token signed with another key: the upgrade is refused (401), so the run fails and says why.
bad=$(echo "$cs" | sed 's/AccessKey=[^;]*/AccessKey=bm90LXRoZS1rZXk=/')
if timeout 30 "$load" --connection-string "$bad" --sub json --pub json -c 2 -n 5 --timeout 10 >"$dir/bad.out" 2>&1; then
  echo "load.smoke: a refused token passed" >&2; cat "$dir/bad.out" >&2; exit 1
fi
grep -q 'upgrade refused: HTTP/1.1 401' "$dir/bad.out" || { cat "$dir/bad.out" >&2; exit 1; }
echo "load.smoke: 16 runs delivered everything; bench --target remote delivered everything; a refused token fails"
