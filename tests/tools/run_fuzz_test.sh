#!/usr/bin/env bash
# scripts/run-fuzz must not let a gap read as a clean fuzz pass (issue 20): it fails when no fuzz
# binary exists, when a target of fuzz/*.cc was not built, when a target fails, and when a log
# shows a sanitizer "runtime error:" even though the target exited 0; it passes only when every
# target ran clean, and a quarantined target (fuzz/quarantine.txt) is skipped but named.
# The targets here are stand-in scripts in a temporary build folder; run from the repository root.
set -uo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

targets=()
for src in fuzz/*.cc; do targets+=("fuzz_$(basename "$src" .cc)"); done

make_build() {  # make_build DIR [BODY-FOR-TARGET NAME BODY]...: every target a clean stand-in
  local dir=$1; shift
  mkdir -p "$dir/bin"
  for t in "${targets[@]}"; do
    printf '#!/bin/sh\necho "stat::number_of_executed_units: 7"\nexit 0\n' >"$dir/bin/$t"
    chmod +x "$dir/bin/$t"
  done
  while (( $# >= 2 )); do
    printf '#!/bin/sh\n%s\n' "$2" >"$dir/bin/$1"
    chmod +x "$dir/bin/$1"
    shift 2
  done
}

expect() {  # expect STATUS WHAT PATTERN BUILD-DIR
  local want=$1 what=$2 pattern=$3 dir=$4 out status
  out=$(scripts/run-fuzz "$dir" 1 2>&1)
  status=$?
  if [[ $status -ne $want ]] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL: $what: exit $status (want $want), output:"; echo "$out" | tail -n 20
    failures=$((failures + 1))
  else
    echo "ok: $what (exit $status)"
  fi
}

mkdir -p "$tmp/empty/bin"
expect 1 "no fuzz binary at all" "no fuzz binary|was not built" "$tmp/empty"

make_build "$tmp/missing"
rm "$tmp/missing/bin/${targets[0]}"
expect 1 "one target not built" "${targets[0]} was not built" "$tmp/missing"

make_build "$tmp/crash" "${targets[1]}" 'echo "==1==ERROR: deadly signal"; exit 77'
expect 1 "a target that fails" "${targets[1]} FAILED" "$tmp/crash"

make_build "$tmp/ubsan" "${targets[2]}" 'echo "x.cc:1:2: runtime error: signed integer overflow"; exit 0'
expect 1 "a sanitizer report with exit 0" "${targets[2]} printed a sanitizer report" "$tmp/ubsan"

make_build "$tmp/clean"
expect 0 "every target clean" "stat::number_of_executed_units" "$tmp/clean"

if (( failures > 0 )); then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
