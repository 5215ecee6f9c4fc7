#!/usr/bin/env bash
# ctest service.shipped_scenarios_pass_in_sim: every scenario under scenarios/ runs against the
# embedded reference service (sim target) and passes, and exactly EXPECTED of them ran. A
# scenario that starts failing, erroring, skipping or stops being found fails this test.
# Usage: shipped_scenarios.sh WPSIM_BIN SOURCE_DIR EXPECTED
# EXPECTED is WPSIM_SHIPPED_SCENARIOS in tests/service/CMakeLists.txt: update it when adding or
# removing a scenario.
set -euo pipefail
wpsim=$1
src=$2
expected=$3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
"$wpsim" run "$src/scenarios" --target sim --json "$out/report.json" >"$out/stdout" 2>&1 || status=$?
if [[ ! -s $out/report.json ]]; then
  cat "$out/stdout"
  echo "FAIL: wpsim run wrote no JSON report (exit $status)" >&2
  exit 1
fi
python3 - "$out/report.json" "$expected" "$status" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
expected = int(sys.argv[2])
status = int(sys.argv[3])
t = report["totals"]
bad = [f'{s.get("name")} ({s.get("status")})' for s in report.get("scenarios", [])
       if s.get("status") != "pass"]
print(f'shipped scenarios in sim: {t["passed"]} passed, {t["failed"]} failed, '
      f'{t["skipped"]} skipped, {t["errors"]} errors, {t["total"]} total; '
      f'verdict {report.get("verdict")}, exit {status}')
problems = []
if bad:
    problems.append("not passing: " + "; ".join(bad))
if t["total"] != expected or t["passed"] != expected:
    problems.append(f'{t["passed"]} of {t["total"]} passed but WPSIM_SHIPPED_SCENARIOS in '
                    f'tests/service/CMakeLists.txt says {expected}: a scenario stopped running, '
                    'or one was added without updating the constant')
if status != 0:
    problems.append(f"wpsim run exited {status}")
if problems:
    for p in problems:
        print("FAIL: " + p, file=sys.stderr)
    sys.exit(1)
PY
