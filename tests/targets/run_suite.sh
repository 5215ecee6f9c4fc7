#!/usr/bin/env bash
# Runs the scenario suite on a real target and checks the JSON report: the command exits 0,
# at least one scenario passed, none failed or errored.
#   run_suite.sh local  WPSIM SCENARIOS   -- the in-process service (wpsim run --target local)
#   run_suite.sh usage  WPSIM SCENARIOS   -- command-line mistakes exit 2
#   run_suite.sh remote WPSIM SCENARIOS   -- a `wpsim serve --tls-cert/--tls-key` child process on
#                                            127.0.0.1 (self-signed certificate made here with
#                                            openssl), dialled as https://localhost:PORT with --ca
#   run_suite.sh remote-ip WPSIM SCENARIOS -- the same with an ordinary development certificate
#                                            (CN=localhost, SAN IP:127.0.0.1) dialled as
#                                            https://127.0.0.1:PORT: IP hosts match iPAddress SANs
#   run_suite.sh hubs WPSIM SCENARIOS     -- two runs at once against one `wpsim serve` child
#                                            each get their own hub suffix (the service's log
#                                            shows only hubs with one of the two printed
#                                            suffixes), and `--hub-suffix none` uses the bare hub
#   run_suite.sh upstream WPSIM SCENARIOS -- the event-handler scenarios (SCENARIOS/upstream) on
#                                            --target local against a separately started
#                                            `wpsim serve --config` whose hubs' handlers call the
#                                            application server of --upstream-listen 127.0.0.1:PORT
# Every wait is bounded; the child server is always killed.
set -euo pipefail
mode=$1 wpsim=$2 scenarios=$3
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/serve.sh"
dir=$(mktemp -d)
run_pid=
cleanup() {
  if [[ -n "$run_pid" ]]; then
    kill "$run_pid" 2>/dev/null || true
  fi
  stop_serve
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' TERM INT  # so that a killed test still kills its server

# run_bounded ARGS...: runs a command for at most $bound seconds in the background and waits for
# it, so that a signal to this script interrupts the wait (and the EXIT trap cleans up) at once.
# The in-process suite includes upstream-slow-upstream-retries (about 31 s of real retries).
bound=100
[[ $mode == local ]] && bound=200
run_bounded() {
  timeout "$bound" "$@" &
  run_pid=$!
  local rc=0
  wait "$run_pid" || rc=$?
  run_pid=
  return "$rc"
}

# check_report FILE: passed > 0, failed == errors == 0.
check_report() {
  python3 - "$1" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["totals"]
print(f"targets: {t['passed']} passed, {t['failed']} failed, {t['errors']} errors, {t['skipped']} skipped")
sys.exit(0 if t["passed"] > 0 and t["failed"] == 0 and t["errors"] == 0 else 1)
PY
}

case "$mode" in
  local)
    run_bounded "$wpsim" run --target local --json "$dir/report.json" "$scenarios"
    check_report "$dir/report.json"
    ;;
  remote|remote-ip)
    san=DNS:localhost
    [[ $mode == remote-ip ]] && san=IP:127.0.0.1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
      -subj /CN=localhost -addext subjectAltName=$san \
      -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
    start_serve targets "$wpsim" "$dir" --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" || exit 1
    cs=$serve_cs
    # remote: the certificate names localhost; the service answers on 127.0.0.1 either way.
    # remote-ip: the endpoint stays https://127.0.0.1, as `wpsim serve` printed it.
    [[ $mode == remote ]] && cs=${cs/https:\/\/127.0.0.1/https://localhost}
    [[ $mode == remote-ip && $cs != *"Endpoint=https://127.0.0.1;"* ]] && {
      echo "targets: expected an https://127.0.0.1 endpoint, got $cs" >&2
      exit 1
    }
    echo "targets: $cs"
    run_bounded "$wpsim" run --target remote --connection-string "$cs" --ca "$dir/cert.pem" \
      --json "$dir/report.json" "$scenarios"
    check_report "$dir/report.json"
    ;;
  upstream)
    # A free port for the application server (nothing else listens on it once this exits).
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$wpsim" run --upstream-listen "127.0.0.1:$port" --print-upstream-config "$scenarios/upstream" \
      >"$dir/handlers.yaml"
    grep -q "urlTemplate: \"http://127.0.0.1:$port/upstream_connect_and_user_events/api/{event}\"" \
      "$dir/handlers.yaml" || { echo "targets: unexpected handler configuration:" >&2; cat "$dir/handlers.yaml" >&2; exit 1; }
    start_serve targets "$wpsim" "$dir" --config "$dir/handlers.yaml" || exit 1
    cs=$serve_cs
    # Without --upstream-listen a running service cannot run them: every one is skipped.
    run_bounded "$wpsim" run --target local --connection-string "$cs" --json "$dir/skipped.json" \
      "$scenarios/upstream"
    python3 - "$dir/skipped.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
bad = [s["name"] for s in r["scenarios"] if s["status"] != "skip" or "--upstream-listen" not in s["skip_reason"]]
sys.exit("targets: not skipped for want of --upstream-listen: %s" % bad if bad else 0)
PY
    run_bounded "$wpsim" run --target local --connection-string "$cs" \
      --upstream-listen "127.0.0.1:$port" --json "$dir/report.json" "$scenarios/upstream" | tee "$dir/run.out"
    grep -q "application server (event handlers) of .* on http://127.0.0.1:$port/" "$dir/run.out"
    check_report "$dir/report.json"
    # Only scenarios that configure the service itself (a running service cannot take their
    # settings) or that declare they need another target (`targets: [sim]`) may be skipped,
    # and at least the six event-handler scenarios that run on any target must pass.
    python3 - "$dir/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
allowed = ("configures the service", "the scenario is limited to other targets")
bad = [(s["name"], s["skip_reason"]) for s in r["scenarios"]
       if s["status"] == "skip" and not any(a in s["skip_reason"] for a in allowed)]
passed = sum(s["status"] == "pass" for s in r["scenarios"])
print("targets: %d event-handler scenarios passed against the running service" % passed)
if bad:
    sys.exit("targets: skipped for another reason: %s" % bad)
sys.exit("targets: only %d event-handler scenarios passed (at least 6 expected)" % passed
         if passed < 6 else 0)
PY
    ;;
  hubs)
    serve_log_level=info start_serve targets "$wpsim" "$dir" || exit 1
    cs=$serve_cs
    one="$scenarios/quickstarts/001-websocket-subscriber-rest-send-to-all.yaml"
    # Two runs of the same scenario at the same time, against the same service.
    timeout "$bound" "$wpsim" run --target local --connection-string "$cs" "$one" >"$dir/run1.out" 2>&1 &
    p1=$!
    timeout "$bound" "$wpsim" run --target local --connection-string "$cs" "$one" >"$dir/run2.out" 2>&1 &
    p2=$!
    wait "$p1" || { echo "targets: the first concurrent run failed:" >&2; cat "$dir/run1.out" >&2; exit 1; }
    wait "$p2" || { echo "targets: the second concurrent run failed:" >&2; cat "$dir/run2.out" >&2; exit 1; }
    run_bounded "$wpsim" run --target local --connection-string "$cs" --hub-suffix none "$one" >"$dir/run3.out" 2>&1
    python3 - "$dir" <<'PY'
import re, sys
d = sys.argv[1]
suffixes = []
for name in ("run1.out", "run2.out"):
    m = re.search(r"^hub suffix (\S+)$", open(f"{d}/{name}").read(), re.M)
    if not m:
        sys.exit(f"targets: {name} printed no 'hub suffix' line")
    suffixes.append(m.group(1))
if suffixes[0] == suffixes[1]:
    sys.exit(f"targets: both runs used the hub suffix {suffixes[0]}")
if re.search(r"^hub suffix", open(f"{d}/run3.out").read(), re.M):
    sys.exit("targets: --hub-suffix none still printed a suffix")
log = open(f"{d}/serve.err").read()
hubs = set(re.findall(r"connected to hub (\S+) ", log)) | {
    h.lower() for h in re.findall(r"REST \S+ /api/hubs/([^/?]+)", log)}
want = {"myhub1" + s.lower() for s in suffixes} | {"myhub1"}
print(f"targets: suffixes {suffixes}; hubs the service saw: {sorted(hubs)}")
if hubs != want:
    sys.exit(f"targets: the service saw hubs {sorted(hubs)}, expected exactly {sorted(want)}")
PY
    ;;
  usage)
    # Mistakes on the command line exit 2 with a message, before anything runs.
    expect_usage() {
      local rc=0
      env -u WebPubSubConnectionString "$wpsim" run "$@" "$scenarios" >"$dir/out" 2>&1 || rc=$?
      if [[ $rc -ne 2 ]]; then
        echo "targets: 'wpsim run $*' exited $rc, expected 2:" >&2
        cat "$dir/out" >&2
        exit 1
      fi
      echo "targets: 'wpsim run $*' -> 2: $(tail -1 "$dir/out")"
    }
    expect_usage --target remote
    expect_usage --target remote --connection-string "Endpoint=https://localhost"
    expect_usage --target sim --connection-string "Endpoint=http://localhost;AccessKey=k"
    expect_usage --target local --listen nonsense
    expect_usage --target local --connection-string "Endpoint=http://localhost;AccessKey=k" --listen 127.0.0.1:0
    expect_usage --target remote --connection-string "Endpoint=https://localhost;AccessKey=k" --ca /nonexistent.pem
    expect_usage --target local --hub-suffix "a/b"
    expect_usage --target local --max-real-wait soon
    expect_usage --target sim --upstream-listen 127.0.0.1:9000
    expect_usage --target local --upstream-listen nonsense
    expect_usage --target local --connection-string "Endpoint=http://localhost;AccessKey=k" --upstream-listen 127.0.0.1:0
    expect_usage --print-upstream-config
    ;;
  *)
    echo "usage: run_suite.sh local|remote|remote-ip|upstream|hubs|usage WPSIM SCENARIOS" >&2
    exit 2
    ;;
esac
