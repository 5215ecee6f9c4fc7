#!/usr/bin/env bash
# Builds the Debian package with CPack, checks its metadata and contents, unpacks it into a
# temporary root with dpkg -x (nothing on the machine changes), and runs the installed copy:
# `wpsim --version`, one scenario from the installed suite, the man page and bash completion.
#   deb_install_test.sh BUILD_DIR
set -euo pipefail
build=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "deb: FAIL: $*" >&2; exit 1; }

timeout 300 cpack -G DEB --config "$build/CPackConfig.cmake" -B "$dir/out" >"$dir/cpack.log" 2>&1 ||
  { cat "$dir/cpack.log"; fail "cpack failed"; }
deb=$(ls "$dir"/out/wpsim_*.deb)
echo "deb: built $(basename "$deb") ($(du -h "$deb" | cut -f1))"

# Metadata: every dependency dpkg-shlibdeps found is installed here, so dpkg -i would succeed.
dpkg-deb -f "$deb" Package Version Architecture Depends
depends=$(dpkg-deb -f "$deb" Depends)
[[ -n $depends ]] || fail "no Depends: dpkg-shlibdeps did not run"
IFS=',' read -ra deps <<<"$depends"
for d in "${deps[@]}"; do
  name=$(echo "$d" | sed -E 's/^ *([^ (|]+).*/\1/')
  dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "ok installed" ||
    fail "dependency $name is not installed on this machine"
done

# llhttp is linked in (Debian 12 has no libllhttp9.2 package to depend on).
[[ $depends != *llhttp* ]] || fail "the package depends on llhttp: $depends"

root="$dir/root"
dpkg -x "$deb" "$root"
if ldd "$root/usr/bin/wpsim" | grep -q llhttp; then
  fail "the installed wpsim loads a shared llhttp: $(ldd "$root/usr/bin/wpsim" | grep llhttp)"
fi
for f in usr/bin/wpsim usr/share/man/man1/wpsim.1.gz usr/share/bash-completion/completions/wpsim \
  usr/share/wpsim/scenarios/quickstarts/001-websocket-subscriber-rest-send-to-all.yaml \
  usr/share/doc/wpsim/README.md usr/share/doc/wpsim/ci.md; do
  [[ -e "$root/$f" ]] || fail "$f missing from the package"
done

# The installed copy runs.
"$root/usr/bin/wpsim" --version | tee "$dir/version"
grep -qE '^wpsim [0-9]+\.[0-9]+\.[0-9]+$' "$dir/version" || fail "unexpected --version output"
(cd "$dir" && timeout 60 "$root/usr/bin/wpsim" run \
  "$root/usr/share/wpsim/scenarios/quickstarts/001-websocket-subscriber-rest-send-to-all.yaml" \
  --json "$dir/report.json") | tee "$dir/run.out"
grep -q '^1 passed, 0 failed, 0 skipped$' "$dir/run.out" || fail "the installed scenario did not pass"
# Without paths, outside a checkout, the installed copy finds its own suite.
(cd "$dir" && "$root/usr/bin/wpsim" run --list) >"$dir/list.out"
grep -q "^$root/usr/share/wpsim/scenarios/quickstarts/001-websocket-subscriber-rest-send-to-all.yaml$" \
  "$dir/list.out" || { cat "$dir/list.out"; fail "run --list did not find the installed suite"; }
echo "deb: $(tail -1 "$dir/list.out")"

# The man page names every subcommand; the completion completes subcommands and flags.
zcat "$root/usr/share/man/man1/wpsim.1.gz" >"$dir/wpsim.1"
for sub in serve run explore bench report; do
  grep -q "wpsim $sub" "$dir/wpsim.1" || fail "the man page lacks wpsim $sub"
done
grep -q -- '--tls' "$dir/wpsim.1" || fail "the man page lacks serve --tls"
completions=$(PATH="$root/usr/bin:$PATH" bash -c '
  source "$0"
  COMP_WORDS=(wpsim se); COMP_CWORD=1; _wpsim; echo "${COMPREPLY[*]}"
  COMP_WORDS=(wpsim serve --tl); COMP_CWORD=2; _wpsim; echo "${COMPREPLY[*]}"
' "$root/usr/share/bash-completion/completions/wpsim")
echo "deb: completions: $(echo "$completions" | tr '\n' '|')"
[[ $(echo "$completions" | sed -n 1p) == serve ]] || fail "subcommand completion"
echo "$completions" | sed -n 2p | grep -qw -- '--tls' || fail "flag completion lacks --tls"
echo "deb: installed copy OK"
