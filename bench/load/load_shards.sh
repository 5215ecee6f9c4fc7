#!/usr/bin/env bash
# load.shards: the load driver beyond one process, against a `wpsim serve` child on 127.0.0.1.
#  1. wpsim-load --workers 2 (closed loop, json subscribers, json publishers): each worker's line
#     and the merged line; merged counts are the workers' sums and nothing is lost.
#  2. Two shards (--shard 0/2 and 1/2, MQTT 3.1.1 subscribers, REST publishers, open loop) that
#     start at one --start-at instant, then `wpsim report merge`: merged counts = sums, every
#     message sent once, the merged histogram is the bucket-wise union of the shards', nothing lost.
#  2b. The same through `wpsim bench --workers 2` and `wpsim bench --shard i/2 --start-at`, and
#      `wpsim bench --target local --workers 2` against the `wpsim serve` child it starts itself.
#  3. A shard given twice, a missing shard and a shard not ready at --start-at are refused.
set -euo pipefail
wpsim=$1 load=$2
dir=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' TERM INT
"$wpsim" serve --listen 127.0.0.1:0 --log-level error >"$dir/serve.out" 2>"$dir/serve.err" &
server_pid=$!
line=
for _ in $(seq 1 100); do
  line=$(grep -m1 '^Connection string: ' "$dir/serve.out" || true)
  [[ -n "$line" ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$dir/serve.err" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$line" ]] || { echo "load.shards: wpsim serve printed no connection string" >&2; exit 1; }
cs=${line#Connection string: }

# 1. Two workers.
timeout 60 "$load" --connection-string "$cs" --hub workers --sub json --pub json -c 31 -n 300 --inflight 8 \
  --workers 2 --json "$dir/workers.json" --timeout 50 >"$dir/workers.out"
python3 - "$dir/workers.json" "$dir/workers.out" <<'PY'
import json, re, sys
m = json.load(open(sys.argv[1]))
lines = open(sys.argv[2]).read().splitlines()
workers = [l for l in lines if "worker " in l]
assert len(workers) == 2, lines
got = [tuple(map(int, re.search(r"delivered (\d+)/(\d+)", l).groups())) for l in workers]
subs = [int(re.search(r"subscribers=(\d+)", l).group(1)) for l in workers]
assert sorted(subs) == [15, 16], subs
assert m["shard"] == {"index": 0, "count": 2, "merged": 2}, m["shard"]
assert m["delivered"] == sum(d for d, _ in got) == m["expected"] == sum(e for _, e in got) == 31 * 300, (m, got)
assert m["sent"] == 300 and m["subscribers"] == 31 and m["ok"], m
assert sum(c for _, c in m["latency_histogram"]["buckets"]) == m["delivered"]
PY

# 2. Two shards that start at one instant, merged by wpsim report merge.
at=$(( $(date +%s) + 3 ))
shard_pids=()
for i in 0 1; do
  timeout 60 "$load" --connection-string "$cs" --hub shards --sub mqtt311 --pub rest -c 21 -n 200 --rate 1000 \
    --shard "$i/2" --start-at "$at" --json "$dir/shard$i.json" --timeout 50 >"$dir/shard$i.out" &
  shard_pids+=($!)
done
for p in "${shard_pids[@]}"; do wait "$p" || { cat "$dir"/shard*.out >&2; exit 1; }; done
"$wpsim" report merge "$dir/shard0.json" "$dir/shard1.json" -o "$dir/merged.json" --verdict-exit >"$dir/merge.out"
python3 - "$dir/shard0.json" "$dir/shard1.json" "$dir/merged.json" <<'PY'
import json, sys
from collections import Counter
s = [json.load(open(f)) for f in sys.argv[1:3]]
m = json.load(open(sys.argv[3]))
for k in ("delivered", "expected", "sent", "subscribers", "publishers", "errors", "unknown_payloads"):
    assert m[k] == s[0][k] + s[1][k], (k, m[k], s[0][k], s[1][k])
assert [x["subscribers"] for x in s] == [11, 10], [x["subscribers"] for x in s]
assert [x["sent"] for x in s] == [100, 100] and m["sent"] == 200, [x["sent"] for x in s]
assert m["delivered"] == m["expected"] == 21 * 200 and m["ok"] and all(x["ok"] for x in s), m
assert s[0]["clock"] == "realtime" and m["shard"]["merged"] == 2, (s[0]["clock"], m["shard"])
union = Counter()
for x in s:
    for v, c in x["latency_histogram"]["buckets"]:
        union[v] += c
merged = Counter({v: c for v, c in m["latency_histogram"]["buckets"]})
assert union == merged, "the merged histogram is not the union of the shards'"
assert sum(merged.values()) == m["delivered"]
assert m["load_start_unix_ns"] == min(x["load_start_unix_ns"] for x in s)
assert m["last_delivery_unix_ns"] == max(x["last_delivery_unix_ns"] for x in s)
PY
grep -q '2 shards merged: delivered 4200/4200' "$dir/merge.out" || { cat "$dir/merge.out" >&2; exit 1; }

# 2b. The same through wpsim bench: --workers 2, and two --shard runs merged by wpsim report merge.
timeout 60 "$wpsim" bench --target remote --connection-string "$cs" --kind websocket --path group -c 20 \
  --messages 100 --rate 400/s --workers 2 --json "$dir/bench-workers.json" >"$dir/bench-workers.out"
at=$(( $(date +%s) + 3 ))
timeout 60 "$wpsim" bench --target local --connection-string "$cs" --kind json --path client-group -c 9 \
  --messages 60 --rate 200/s --shard 0/2 --start-at "$at" --json "$dir/bench0.json" >"$dir/bench0.out" &
bench0=$!
timeout 60 "$wpsim" bench --target local --connection-string "$cs" --kind json --path client-group -c 9 \
  --messages 60 --rate 200/s --shard 1/2 --start-at "$at" --json "$dir/bench1.json" >"$dir/bench1.out"
wait "$bench0" || { cat "$dir/bench0.out" >&2; exit 1; }
"$wpsim" report merge "$dir/bench0.json" "$dir/bench1.json" -o "$dir/bench-merged.json" --verdict-exit >/dev/null
python3 - "$dir/bench-workers.json" "$dir/bench-merged.json" <<'PY'
import json, sys
w, m = (json.load(open(f)) for f in sys.argv[1:])
assert w["ok"] and w["delivered"] == w["expected"] == 2000 and w["shard"]["merged"] == 2 and w["pub"] == "rest", w
assert m["ok"] and m["delivered"] == m["expected"] == 540 and m["sent"] == 60 and m["pub"] == "json", m
PY
# --target local --workers without a connection string: the bench starts `wpsim serve` as a child.
timeout 60 "$wpsim" bench --target local --kind mqtt311 --path client-group -c 12 --messages 50 --rate 500/s \
  --workers 2 --json "$dir/bench-local.json" >"$dir/bench-local.out"
python3 - "$dir/bench-local.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] and r["delivered"] == r["expected"] == 600 and r["target"].startswith("ws://127.0.0.1:"), r
PY
if "$wpsim" bench --target local --connection-string "$cs" -c 10 --workers 2 >"$dir/path.out" 2>&1; then
  echo "load.shards: bench --workers with --path broadcast was accepted" >&2; exit 1
fi
grep -q 'send to a group: --path group (REST) or client-group' "$dir/path.out" || { cat "$dir/path.out" >&2; exit 1; }

# 3. Refusals: the same shard twice, a missing shard, a shard not ready at --start-at.
if "$wpsim" report merge "$dir/shard0.json" "$dir/shard0.json" >"$dir/twice.out" 2>&1; then
  echo "load.shards: a shard merged twice was accepted" >&2; exit 1
fi
grep -q 'shard 0/2 is given twice' "$dir/twice.out" || { cat "$dir/twice.out" >&2; exit 1; }
if "$wpsim" report merge "$dir/shard1.json" >"$dir/missing.out" 2>&1; then
  echo "load.shards: a merge with a missing shard was accepted" >&2; exit 1
fi
grep -q 'shard 0/2 is missing' "$dir/missing.out" || { cat "$dir/missing.out" >&2; exit 1; }
if timeout 30 "$load" --connection-string "$cs" --hub late --sub json --pub json -c 2 -n 5 --shard 0/2 \
  --start-at "$(( $(date +%s) - 10 ))" --timeout 20 >"$dir/late.out" 2>&1; then
  echo "load.shards: a shard past its --start-at passed" >&2; exit 1
fi
grep -q 'subscribers ready at --start-at' "$dir/late.out" || { cat "$dir/late.out" >&2; exit 1; }
if "$load" --connection-string "$cs" --shard 1/2 -c 2 -n 5 >"$dir/usage.out" 2>&1; then
  echo "load.shards: --shard without --start-at was accepted" >&2; exit 1
fi
grep -q 'needs --start-at' "$dir/usage.out" || { cat "$dir/usage.out" >&2; exit 1; }
echo "load.shards: 2 workers and 2 shards merged (counts = sums, histogram = union, nothing lost); refusals hold"
