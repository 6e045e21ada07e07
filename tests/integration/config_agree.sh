# shellcheck shell=bash
# tests/integration/config_agree.sh -- the agreement check shared by
# test_config_postfix.sh and test_config_exim.sh. Source it after lib.sh.
#
#   cc_run NAME ARGS...      relayprobe config-check --json ARGS: document in
#                            $RP_OUT/NAME.cc.json, exit code in $CC_RC
#   agree NAME EXPECTED ADDR:PORT CONFIG-CHECK-ARGS...
#       config-check on the instance's own files (as seen from 127.0.0.2, the
#       address `check` tests from) and `check` against the running server
#       from 127.0.0.2, then asserts:
#         - the static verdict is EXPECTED (open or closed) and the exit
#           code is check's for it (2 / 0);
#         - the live verdict agrees: a static "open" is a live open or
#           suspect (a server relaying for everybody also accepts the
#           impossible control, so without delivery proof `check` can only
#           call it suspect), a static "closed" is a live "closed";
#         - every technique a finding says it lets through was accepted
#           live, and a closed configuration had no technique accepted.
#   has_finding NAME ID [FILE-SUFFIX LINE]  a finding with that id (at that
#                            file:line) is in NAME.cc.json
#   no_finding NAME ID
#
# With CC_SERVICE set (a master.cf service, "127.0.0.1:2525/inet"), agree
# compares that service's verdict (configs[].services[]) and its findings
# only, and has_finding / no_finding look at the findings naming it: one
# Postfix instance then serves many configurations, one per smtpd service.

CC_RC=0

cc_run() {
  local name=$1; shift
  "$RELAYPROBE" config-check --json "$@" >"$RP_OUT/$name.cc.json" 2>"$RP_OUT/$name.cc.err"
  CC_RC=$?
  echo "# relayprobe config-check $* -> exit $CC_RC"
}

agree() {
  local name=$1 want=$2 target=$3; shift 3
  cc_run "$name" --client 127.0.0.2 "$@"
  local sv lv want_rc=0
  [[ $want == open ]] && want_rc=2
  if [[ -n ${CC_SERVICE:-} ]]; then
    sv=$(jq -r --arg s "$CC_SERVICE" '.configs[].services[] | select(.service == $s) | .verdict' "$RP_OUT/$name.cc.json" 2>/dev/null)
    want_rc=$CC_RC # the exit code is the worst service's
  else
    sv=$(jq -r .verdict "$RP_OUT/$name.cc.json" 2>/dev/null)
  fi
  if [[ $sv == "$want" && $CC_RC == "$want_rc" ]]; then _pass "$name: config-check says $want ${CC_SERVICE:+for $CC_SERVICE }(exit $CC_RC)"
  else _fail "$name: config-check says $want ${CC_SERVICE:-}" "got $sv, exit $CC_RC: $(head -c 300 "$RP_OUT/$name.cc.err")"; fi
  rp_check "$name" --no-audit --no-dns-checks --source 127.0.0.2 "$target"
  lv=$(jq -r .verdict "$RP_OUT/$name.json" 2>/dev/null)
  local ok=0
  if [[ $want == open && ( $lv == open || $lv == suspect ) ]]; then ok=1; fi
  if [[ $want == closed && $lv == closed ]]; then ok=1; fi
  if ((ok)); then _pass "$name: live check agrees ($lv)"
  else _fail "$name: live check agrees" "config-check $sv, check $lv"; fi
  # Techniques predicted vs accepted live.
  local predicted accepted missing
  predicted=$(jq -r --arg s "${CC_SERVICE:-}" '[.configs[].findings[] | select(.relay == "yes")
      | select($s == "" or ((.service // "") | split(",") | index($s) != null)) | .techniques[]] | unique | join(" ")' "$RP_OUT/$name.cc.json")
  accepted=$(jq -r '[.servers[0].tests[] | select(.superseded == false and .result == "accepted") | .id] | unique | join(" ")' "$RP_OUT/$name.json")
  missing=
  for t in $predicted; do
    [[ " $accepted " == *" $t "* ]] || missing+=" $t"
  done
  if [[ -z $missing ]]; then _pass "$name: predicted techniques [$predicted] accepted live"
  else _fail "$name: predicted techniques accepted live" "not accepted:$missing (accepted: $accepted)"; fi
  if [[ $want == closed ]]; then
    if [[ -z $accepted ]]; then _pass "$name: nothing accepted live"
    else _fail "$name: nothing accepted live" "accepted: $accepted"; fi
  fi
}

# The findings of NAME.cc.json (of CC_SERVICE, when set).
_cc_findings='[.configs[].findings[] | select($s == "" or ((.service // "") | split(",") | index($s) != null))]'

has_finding() {
  local name=$1 id=$2 file=${3:-} line=${4:-} got
  if [[ -n $file ]]; then
    got=$(jq -r --arg s "${CC_SERVICE:-}" --arg id "$id" --arg f "$file" --argjson l "$line" \
      "$_cc_findings"' | map(select(.id == $id and (.file | endswith($f)) and .line == $l)) | length' "$RP_OUT/$name.cc.json" 2>&1)
  else
    got=$(jq -r --arg s "${CC_SERVICE:-}" --arg id "$id" "$_cc_findings"' | map(select(.id == $id)) | length' "$RP_OUT/$name.cc.json" 2>&1)
  fi
  if [[ $got =~ ^[1-9] ]]; then _pass "$name: finding $id ${file:+at $file:$line}"
  else _fail "$name: finding $id ${file:+at $file:$line}" "findings: $(jq -c '[.configs[].findings[] | [.id, .file, .line]]' "$RP_OUT/$name.cc.json" 2>&1 | head -c 400)"; fi
}

no_finding() {
  local name=$1 id=$2 got
  got=$(jq -r --arg s "${CC_SERVICE:-}" --arg id "$id" "$_cc_findings"' | map(select(.id == $id)) | length' "$RP_OUT/$name.cc.json" 2>&1)
  if [[ $got == 0 ]]; then _pass "$name: no finding $id"
  else _fail "$name: no finding $id" "got $got"; fi
}
