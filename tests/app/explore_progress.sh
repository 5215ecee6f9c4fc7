#!/usr/bin/env bash
# `wpsim explore` draws a progress line (seeds/s, failures so far, time left with --time-budget)
# on a terminal (a pseudo-terminal made by script(1)) and nothing of it into a pipe; and
# --time-budget stops the seed loop.  explore_progress.sh WPSIM SCENARIOS
set -euo pipefail
wpsim=$1 scenarios=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
race="$scenarios/races/two-publishers-order.yaml"
# Enough seeds to outlast the first 100 ms redraw interval; the budget ends it after ~1.5 s.
cmd="$wpsim explore $race --seeds 1000000 --stop-after 0 --no-shrink --time-budget 1.5"
timeout 120 script -qec "$cmd" /dev/null >"$dir/tty.out"
grep -q 'seeds/s  0 failing  [0-9]*s left' "$dir/tty.out" || { echo "no progress line on a terminal:"; cat -v "$dir/tty.out"; exit 1; }
grep -q 'stopped by --time-budget' "$dir/tty.out" || { echo "--time-budget did not stop the loop:"; cat -v "$dir/tty.out"; exit 1; }
timeout 120 $cmd 2>&1 | cat >"$dir/pipe.out"
if grep -q 'seeds/s  0 failing' "$dir/pipe.out" || grep -qF $'\r' "$dir/pipe.out"; then
  echo "a progress line into a pipe:"; cat -v "$dir/pipe.out"; exit 1
fi
grep -q 'stopped by --time-budget' "$dir/pipe.out" || { echo "--time-budget did not stop the loop (pipe):"; cat "$dir/pipe.out"; exit 1; }
echo "progress: terminal yes, pipe no; --time-budget stops"
