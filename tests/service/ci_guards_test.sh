#!/usr/bin/env bash
# The CI guards themselves can fail (issue 20: "a green CI that cannot hide a gap"):
#  - service.shipped_scenarios_pass_in_sim (shipped_scenarios.sh) fails when one shipped scenario
#    is broken and when one stops being found, and passes on an unchanged copy;
#  - e2e.browser and e2e.trace fail, naming Chromium, when Chromium is missing (WPSIM_CHROMIUM
#    points nowhere) instead of passing with skipped cases.
# Usage: ci_guards_test.sh WPSIM_BIN SOURCE_DIR EXPECTED_SCENARIOS
set -uo pipefail
wpsim=$(realpath "$1")
src=$(realpath "$2")
expected=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
check() {  # check WANT-STATUS WHAT PATTERN OUTPUT-FILE STATUS
  if [[ $5 -ne $1 ]] || ! grep -qE -- "$3" "$4"; then
    echo "FAIL: $2: exit $5 (want $1)"; tail -n 15 "$4"; failures=$((failures + 1))
  else
    echo "ok: $2"
  fi
}
guard="$src/tests/service/shipped_scenarios.sh"

cp -r "$src/scenarios" "$tmp/unchanged-scenarios"
mkdir -p "$tmp/unchanged" && mv "$tmp/unchanged-scenarios" "$tmp/unchanged/scenarios"
"$guard" "$wpsim" "$tmp/unchanged" "$expected" >"$tmp/out0" 2>&1
status=$?
check 0 "an unchanged copy of the scenarios passes" "$expected passed" "$tmp/out0" $status

# Broken: the first REST expectation of 202 in some scenario now expects 299.
mkdir -p "$tmp/broken" && cp -r "$src/scenarios" "$tmp/broken/scenarios"
victim=$(grep -rl --include='*.yaml' 'expect_status: 202' "$tmp/broken/scenarios" | sort | head -n 1)
sed -i '0,/expect_status: 202/s//expect_status: 299/' "$victim"
"$guard" "$wpsim" "$tmp/broken" "$expected" >"$tmp/out1" 2>&1
status=$?
check 1 "a broken scenario ($(basename "$victim")) fails the guard" "FAIL: not passing" "$tmp/out1" $status

# Gone: one scenario file removed.
mkdir -p "$tmp/gone" && cp -r "$src/scenarios" "$tmp/gone/scenarios"
rm "$(find "$tmp/gone/scenarios" -name '*.yaml' | sort | head -n 1)"
"$guard" "$wpsim" "$tmp/gone" "$expected" >"$tmp/out2" 2>&1
status=$?
check 1 "a scenario that stops being found fails the guard" "WPSIM_SHIPPED_SCENARIOS" "$tmp/out2" $status

if [[ -d "$src/tests/e2e/node_modules" ]]; then
  WPSIM_BIN=$wpsim WPSIM_CHROMIUM="$tmp/no-chromium-here" "$src/tests/e2e/run.sh" \
    "$src/tests/e2e/browser.test.js" >"$tmp/out3" 2>&1
  status=$?
  check 1 "e2e.browser fails without Chromium" "no-chromium-here not found" "$tmp/out3" $status
  WPSIM_BIN=$wpsim WPSIM_CHROMIUM="$tmp/no-chromium-here" "$src/tests/e2e/run.sh" \
    "$src/tests/e2e/trace.test.js" >"$tmp/out4" 2>&1
  status=$?
  check 1 "e2e.trace fails without Chromium" "no-chromium-here not found" "$tmp/out4" $status
else
  echo "FAIL: tests/e2e/node_modules missing (scripts/e2e-deps): cannot check e2e.browser"
  failures=$((failures + 1))
fi

if (( failures > 0 )); then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
