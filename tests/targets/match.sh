#!/usr/bin/env bash
# `wpsim explore --match`: a race observed on a real service becomes a seed. Starts a `wpsim
# serve` child on 127.0.0.1, runs a loopback version of scenarios/races/send-to-group-vs-join
# (the race without its sim-only `targets` and `network` keys) on --target local against it,
# checks the JSON report recorded what each client observed, then has `wpsim explore` find a
# simulated seed of the original race with the same outcome, shrink it, and check the written
# minimal scenario reproduces it (explore prints a WARNING otherwise).
#   match.sh WPSIM SCENARIOS
# Every wait is bounded; the child server is always killed.
set -euo pipefail
wpsim=$1 scenarios=$2
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/serve.sh"
dir=$(mktemp -d)
cleanup() {
  stop_serve
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' TERM INT

race="$scenarios/races/send-to-group-vs-join.yaml"
python3 - "$race" "$dir/loopback.yaml" <<'PY'
import sys
# Drop the sim-only top-level keys (one line each in the race files).
lines = [l for l in open(sys.argv[1]) if not l.startswith(("targets:", "network:"))]
open(sys.argv[2], "w").write("".join(lines))
PY

start_serve match "$wpsim" "$dir" || exit 1
cs=$serve_cs

timeout 60 "$wpsim" run --target local --connection-string "$cs" --json "$dir/real.json" "$dir/loopback.yaml"
observed=$(python3 - "$dir/real.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]
assert s["status"] == "pass", s["status"]
print(s.get("observed", ""))
PY
)
echo "match: observed over loopback: $observed"
[[ "$observed" == *"w: ack 1 ok, g:m"* ]] || { echo "match: no observed outcome in the report" >&2; exit 1; }

rc=0
timeout 120 "$wpsim" explore "$race" --match "$dir/real.json" --seeds 500 --out "$dir/min.yaml" \
  >"$dir/explore.out" 2>&1 || rc=$?
cat "$dir/explore.out"
[[ $rc == 0 ]] || { echo "match: explore --match exited $rc" >&2; exit 1; }
grep -q 'reproduces the observed outcome' "$dir/explore.out"
grep -q '^  replay: wpsim run ' "$dir/explore.out"
[[ -s "$dir/min.yaml" ]] || { echo "match: no minimal scenario written" >&2; exit 1; }
if grep -q WARNING "$dir/explore.out"; then
  echo "match: the minimal scenario did not reproduce the outcome" >&2
  exit 1
fi

# A report without a recorded outcome (a sim run) is a usage error that says why.
"$wpsim" run --json "$dir/sim.json" "$race" >/dev/null
rc=0
"$wpsim" explore "$race" --match "$dir/sim.json" --seeds 5 >"$dir/usage.out" 2>&1 || rc=$?
[[ $rc == 2 ]] || { echo "match: a report without an observed outcome exited $rc, not 2" >&2; exit 1; }
grep -q 'recorded no observed outcome' "$dir/usage.out"
echo "match: ok"
