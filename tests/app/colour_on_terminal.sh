#!/usr/bin/env bash
# `wpsim run` colours PASS/FAIL/SKIP only for a terminal (a pseudo-terminal made by script(1)),
# never when NO_COLOR is set, never into a pipe.  colour_on_terminal.sh WPSIM SCENARIOS
set -euo pipefail
wpsim=$1 scenarios=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cmd="$wpsim run --filter quickstart-001-* $scenarios"
esc=$'\033[32mPASS'
env -u NO_COLOR timeout 60 script -qec "$cmd" /dev/null >"$dir/tty.out"
grep -qF "$esc" "$dir/tty.out" || { echo "no green PASS on a terminal:"; cat -v "$dir/tty.out"; exit 1; }
NO_COLOR=1 timeout 60 script -qec "$cmd" /dev/null >"$dir/no_color.out"
grep -q "PASS" "$dir/no_color.out" || { echo "no PASS at all with NO_COLOR:"; cat -v "$dir/no_color.out"; exit 1; }
if grep -qF $'\033[3' "$dir/no_color.out"; then echo "colour despite NO_COLOR=1"; cat -v "$dir/no_color.out"; exit 1; fi
env -u NO_COLOR timeout 60 $cmd | cat >"$dir/pipe.out"
if grep -qF $'\033[' "$dir/pipe.out"; then echo "escape codes into a pipe"; cat -v "$dir/pipe.out"; exit 1; fi
echo "colour: terminal yes, NO_COLOR no, pipe no"
