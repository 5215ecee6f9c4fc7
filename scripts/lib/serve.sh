# shellcheck shell=bash
# Starting a `wpsim serve` child on 127.0.0.1 and reading the connection string it prints, for
# the scripts and tests that drive one (tests/targets/*.sh, bench/load/load_smoke.sh,
# scripts/bench-compare). Source it, then:
#
#   start_serve WHO WPSIM DIR [SERVE ARGS...]
#     starts `WPSIM serve --listen 127.0.0.1:0 --log-level LEVEL SERVE ARGS...` in the background
#     (LEVEL: $serve_log_level, default error)
#     (its output in DIR/serve.out and DIR/serve.err), sets serve_pid, and waits at most 10 s for
#     its "Connection string: " line, whose value it puts in serve_cs. Returns 1, with a message
#     prefixed "WHO: " and the server's stderr on stderr, when the server exits first or prints no
#     connection string in time. Call it as `start_serve ... || exit 1`.
#   stop_serve
#     kills the child (if one was started) and waits for it; for the caller's EXIT trap.

serve_pid=
serve_cs=

start_serve() {
  local who=$1 wpsim=$2 dir=$3
  shift 3
  : >"$dir/serve.out"
  "$wpsim" serve --listen 127.0.0.1:0 --log-level "${serve_log_level:-error}" "$@" \
    >"$dir/serve.out" 2>"$dir/serve.err" &
  serve_pid=$!
  local line= _
  for _ in $(seq 1 100); do  # at most 10 s for the connection string line
    line=$(grep -m1 '^Connection string: ' "$dir/serve.out" || true)
    [[ -n $line ]] && break
    if ! kill -0 "$serve_pid" 2>/dev/null; then
      echo "$who: wpsim serve exited early:" >&2
      cat "$dir/serve.err" >&2
      return 1
    fi
    sleep 0.1
  done
  if [[ -z $line ]]; then
    echo "$who: wpsim serve printed no connection string" >&2
    cat "$dir/serve.err" >&2
    return 1
  fi
  serve_cs=${line#Connection string: }
}

stop_serve() {
  if [[ -n $serve_pid ]]; then
    kill "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
    serve_pid=
  fi
}
