# shellcheck shell=bash
# tests/integration/lib.sh -- assertions for integration tests. Source it.
#
#   rp_check NAME [relayprobe check args...]   runs `relayprobe check --json`,
#       keeps the document in $RP_OUT/NAME.json, the exit code in $RP_RC and
#       stderr in $RP_OUT/NAME.err.
#   ok COND_DESCRIPTION CMD...                 passes if CMD succeeds
#   jq_is NAME FILTER EXPECTED                 jq -r FILTER on NAME.json == EXPECTED
#   rc_is EXPECTED                             last rp_check's exit code
#   finish                                     prints "N passed, N failed", exits
#
# RELAYPROBE (the binary) and SRCDIR come from CTest; both default to the
# tree this file is in, so a test also runs by hand: bash tests/integration/x.sh
set -uo pipefail

SRCDIR=${SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
RELAYPROBE=${RELAYPROBE:-$SRCDIR/build/relayprobe}
RP_OUT=$(mktemp -d "${TMPDIR:-/tmp}/relayprobe-it.XXXXXX")
RP_PASS=0
RP_FAIL=0
RP_RC=0

# shellcheck source=postfix.sh
. "$SRCDIR/tests/integration/postfix.sh"

_rp_cleanup() {
  pf_cleanup
  if [ "$RP_FAIL" -eq 0 ]; then rm -rf "$RP_OUT"; else echo "# outputs kept in $RP_OUT"; fi
}
trap _rp_cleanup EXIT

rp_check() {
  local name=$1; shift
  "$RELAYPROBE" check --json "$@" >"$RP_OUT/$name.json" 2>"$RP_OUT/$name.err"
  RP_RC=$?
  echo "# relayprobe check $* -> exit $RP_RC"
}

_pass() { RP_PASS=$((RP_PASS + 1)); echo "ok - $1"; }
_fail() { RP_FAIL=$((RP_FAIL + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && echo "#   $2"; return 0; }

ok() {
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then _pass "$what"; else _fail "$what" "command failed: $*"; fi
}

jq_is() {
  local name=$1 filter=$2 want=$3 got
  got=$(jq -r "$filter" "$RP_OUT/$name.json" 2>&1)
  if [ "$got" = "$want" ]; then _pass "$name: $filter == $want"
  else _fail "$name: $filter == $want" "got: $(printf '%s' "$got" | head -c 400)"; fi
}

rc_is() {
  if [ "$RP_RC" = "$1" ]; then _pass "exit code $1"; else _fail "exit code $1" "got $RP_RC"; fi
}

finish() {
  echo "$RP_PASS passed, $RP_FAIL failed"
  [ "$RP_FAIL" -eq 0 ]
  exit $?
}
