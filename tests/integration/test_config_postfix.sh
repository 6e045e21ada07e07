#!/usr/bin/env bash
# relayprobe config-check against real Postfix instances: each instance's
# own main.cf/master.cf (as tests/integration/postfix.sh wrote them, with
# the harness's own settings) goes through config-check, the running
# server through `relayprobe check` from 127.0.0.2 (outside mynetworks),
# and the two verdicts must agree (config_agree.sh). Then postconf output
# on stdin, and hostile configuration files.
. "$(dirname "$0")/lib.sh"
# shellcheck source=config_agree.sh
. "$SRCDIR/tests/integration/config_agree.sh"

A=127.0.0.1
TABLE=$RP_OUT/sender_access
printf '# trusted senders\nrelaytarget.test   OK\nspammer.example  REJECT\n' >"$TABLE"
chmod 644 "$TABLE"

# Postfix starts are the slow part on a busy machine, so most
# configurations are smtpd services of one instance ("multi"), each on its
# own port with its own -o overrides in master.cf: exactly what
# config-check evaluates per service (configs[].services[]). Settings that
# other daemons read too (relay_domains), a configuration Postfix refuses,
# and SASL get instances of their own; all start at once.
# Several instances start at once on a possibly busy machine: give them time.
# shellcheck disable=SC2034 # read by postfix.sh
PF_START_TIMEOUT=60
pf_start closed $A auto || exit 1
declare -A STARTED=() START_RC=([closed]=0)
spawn() {
  local name=$1; shift
  ( pf_start "$name" $A auto "$@" >"$RP_OUT/start-$name.log" 2>&1 ) &
  STARTED[$name]=$!
}
spawn multi 'allow_percent_hack = yes' 'swap_bangpath = yes'
spawn nocheck 'smtpd_relay_restrictions = permit_mynetworks, permit, reject_unauth_destination'
spawn tld 'relay_domains = com'
spawn sasl SASL
for n in "${!STARTED[@]}"; do
  wait "${STARTED[$n]}"; START_RC[$n]=$?
done

# svc NAME OVERRIDE...: a new smtpd service of "multi" on its own port.
MULTI=$(pf_dir multi)
declare -A SVC_PORT=() SVC_LINE=()
svc() {
  local name=$1 o p; shift
  p=$(pf_free_port) || return 1
  while grep -q "^$A:$p " "$MULTI/master.cf"; do p=$(pf_free_port); done
  SVC_PORT[$name]=$p
  SVC_LINE[$name]=$(($(wc -l <"$MULTI/master.cf") + 1))
  {
    echo "$A:$p inet n - n - - smtpd"
    for o in "$@"; do echo "  -o { $o }"; done
  } >>"$MULTI/master.cf"
}
if [[ ${START_RC[multi]} == 0 ]]; then
  svc all 'mynetworks = 0.0.0.0/0'
  svc loop 'mynetworks = 127.0.0.0/8'
  svc permit 'smtpd_relay_restrictions = permit_mynetworks, permit, reject_unauth_destination' \
    'smtpd_recipient_restrictions = reject_unauth_destination'
  svc sender 'smtpd_relay_restrictions = check_sender_access inline:{relaytarget.test=OK}, reject_unauth_destination'
  svc helo 'smtpd_relay_restrictions = check_helo_access inline:{mx.relaytarget.test=OK}, reject_unauth_destination'
  svc defer 'smtpd_relay_restrictions = permit_mynetworks, defer_unauth_destination'
  svc rcptonly 'smtpd_relay_restrictions =' 'smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination'
  svc nullsender 'smtpd_relay_restrictions =' \
    'smtpd_recipient_restrictions = check_sender_access inline:{<>=OK}, reject_unauth_destination'
  svc bothlists 'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination' \
    'smtpd_recipient_restrictions = check_sender_access inline:{relaytarget.test=OK}, reject_unauth_destination'
  svc client 'smtpd_relay_restrictions = check_client_access inline:{127.0.0.2=OK}, reject_unauth_destination'
  svc filetable "smtpd_relay_restrictions = check_sender_access texthash:$TABLE, reject_unauth_destination"
  # shellcheck disable=SC2016 # Postfix parameters, not shell ones
  svc banner 'smtpd_banner = $myhostname ESMTP $mail_name $mail_version'
  svc private 'mynetworks = 127.0.0.1/32 10.0.0.0/8' 'disable_vrfy_command = yes'
  postfix -c "$MULTI" reload >/dev/null 2>&1 || START_RC[multi]=1
  # Wait (bounded) until every new service greets.
  for n in "${!SVC_PORT[@]}"; do
    for ((i = 0; i < 300; i++)); do
      _pf_greets $A "${SVC_PORT[$n]}" no && break
      sleep 0.05
    done
  done
fi

# case_pf NAME WANT: one agreement check, on its own instance or on its
# service of "multi".
case_pf() {
  local name=$1 want=$2
  if [[ -n ${SVC_PORT[$name]:-} ]]; then
    CC_SERVICE="$A:${SVC_PORT[$name]}/inet"
    agree "$name" "$want" "$A:${SVC_PORT[$name]}" --postfix "$MULTI"
  elif [[ ${START_RC[$name]:-1} == 0 ]]; then
    CC_SERVICE=
    agree "$name" "$want" "$A:$(pf_port "$name")" --postfix "$(pf_dir "$name")"
  else
    _fail "$name: server started" "$(tail -5 "$RP_OUT/start-$name.log" 2>/dev/null)"
    return 1
  fi
}
# The findings of the case's service, as jq input.
# shellcheck disable=SC2016 # jq variables
F='[.configs[0].findings[] | select($s == "" or ((.service // "") | split(",") | index($s) != null))]'
fj() { jq -r --arg s "${CC_SERVICE:-}" "$F | $2" "$RP_OUT/$1.cc.json" 2>&1; }
is() { # WHAT GOT WANT
  if [[ $2 == "$3" ]]; then _pass "$1 == $3"; else _fail "$1 == $3" "got: $(head -c 300 <<<"$2")"; fi
}

# 1. The harness's closed server: permit_mynetworks (127.0.0.1/32),
#    reject_unauth_destination.
case_pf closed closed
no_finding closed relay-permit
jq_is closed.cc '.configs[0].mta' postfix
jq_is closed.cc '.configs[0].files | test("main.cf, .*master.cf")' true
jq_is closed.cc '.command' config-check
jq_is closed.cc '[.configs[0].findings[].id] | index("version-disclosed")' null

# 2. mynetworks = 0.0.0.0/0: everybody is trusted. The finding names the
#    master.cf line of the service's -o.
case_pf all open
has_finding all mynetworks-open master.cf "${SVC_LINE[all]}"
is "all: fix" "$(fj all 'map(select(.id == "mynetworks-open")) | .[0].remediation')" \
  '-o { mynetworks = 127.0.0.0/8 [::1]/128 }'

# 3. mynetworks = 127.0.0.0/8 holds the tester (127.0.0.2): open from
#    there; from the internet (no --client) it is closed.
case_pf loop open
has_finding loop mynetworks-trusts-client
cc_run loop_inet --postfix "$MULTI"
jq_is loop_inet.cc "[.configs[0].services[] | select(.service == \"$CC_SERVICE\") | .verdict][0]" closed

# 4. A plain permit before reject_unauth_destination: Postfix ignores
#    everything after it (and warns). Here smtpd_recipient_restrictions
#    still refuses relaying: closed, with a warning.
case_pf permit closed
is "permit: relay-permit" "$(fj permit 'map(select(.id == "relay-permit")) | .[0] | [.severity, .relay, .remediation] | join(" | ")')" \
  'warning | no | -o smtpd_relay_restrictions=permit_mynetworks,reject_unauth_destination'

# 4b. The same permit with nothing after it to refuse relaying: Postfix
#     refuses to run smtpd at all (fatal), and config-check says so
#     (inconclusive, no-relay-restriction) instead of "closed".
if [[ ${START_RC[nocheck]} != 0 ]] &&
   grep -q 'specify at least one working instance of: reject_unauth_destination' "$PF_ROOT/nocheck/maillog"; then
  _pass "nocheck: Postfix refuses the configuration (fatal in the maillog)"
else
  _fail "nocheck: Postfix refuses the configuration" "start rc ${START_RC[nocheck]}"
fi
CC_SERVICE=
cc_run nocheck --postfix "$(pf_dir nocheck)"
jq_is nocheck.cc .verdict inconclusive
ok "nocheck: config-check exits 1" test "$CC_RC" = 1
has_finding nocheck no-relay-restriction

# 5. check_sender_access that says OK for the server's own domain: a
#    forged local sender relays (T04).
case_pf sender open
has_finding sender relay-sender-access master.cf "${SVC_LINE[sender]}"
is "sender: T04 predicted" "$(fj sender 'map(select(.id == "relay-sender-access")) | .[0].techniques | index("T04") != null')" true
is "sender: fix" "$(fj sender 'map(select(.id == "relay-sender-access")) | .[0].remediation')" \
  '-o { smtpd_relay_restrictions = reject_unauth_destination,check_sender_access inline:{relaytarget.test=OK} }'

# 6. check_helo_access OK for the server's own name: T09.
case_pf helo open
is "helo: T09" "$(fj helo 'map(select(.id == "relay-helo-access")) | .[0].techniques | join(",")')" T09

# 7. Debian's defer_unauth_destination: closed.
case_pf defer closed

# 8. The relay check in smtpd_recipient_restrictions only (the pre-2.10
#    layout): closed.
case_pf rcptonly closed

# 9. ... and with the null sender trusted before it: T01 relays.
case_pf nullsender open
is "nullsender: T01" "$(fj nullsender 'map(select(.id == "relay-sender-access")) | .[0].techniques | join(",")')" T01

# 10. A sender OK in smtpd_recipient_restrictions does not open a relay
#     that smtpd_relay_restrictions already refuses (Postfix runs the
#     relay list first): closed, the entry reported as a warning.
case_pf bothlists closed
is "bothlists: warning" "$(fj bothlists 'map(select(.id == "relay-sender-access")) | .[0] | [.severity, .relay] | join(" ")')" 'warning no'

# 11. check_client_access trusting the tester's address.
case_pf client open
has_finding client relay-client-access

# 12. relay_domains = com: every .com domain is a relay destination.
case_pf tld open
has_finding tld relay-domains-too-broad

# 13. An access table in a file (texthash: needs no postmap), read by
#     config-check from the path master.cf names.
case_pf filetable open
is "filetable: entry named" "$(fj filetable 'map(select(.id == "relay-sender-access")) | .[0].message | test("relaytarget.test")')" true

# 14. The version in the banner: closed, and both tools report it.
case_pf banner closed
has_finding banner version-disclosed master.cf "${SVC_LINE[banner]}"
rp_check banner_live --no-dns-checks --only T02 --source 127.0.0.2 "$A:${SVC_PORT[banner]:-1}"
jq_is banner_live '[.servers[0].findings[].id] | index("version-disclosed") != null' true

# 15. A whole private range in mynetworks: a warning, not an open relay
#     from outside; the routing settings of main.cf are reported; VRFY is
#     off for this service only.
case_pf private closed
has_finding private mynetworks-private-range
has_finding private percent-hack
has_finding private bang-path
no_finding private vrfy-enabled
CC_SERVICE="$A:${SVC_PORT[defer]:-1}/inet" has_finding private vrfy-enabled

# 16. SASL with AUTH before TLS: closed, auth-without-tls.
case_pf sasl closed
has_finding sasl auth-without-tls

# 17. Every service of multi has its verdict; the instance as a whole is
#     open, and the text report lists the services.
CC_SERVICE=
cc_run multi --client 127.0.0.2 --postfix "$MULTI"
jq_is multi.cc '.configs[0].services | length' 14
jq_is multi.cc .verdict open
"$RELAYPROBE" config-check --client 127.0.0.2 --postfix "$MULTI" >"$RP_OUT/multi.txt" 2>&1
ok "multi: text lists the services" grep -q "^  Services: .*$A:${SVC_PORT[sender]:-1}/inet OPEN" "$RP_OUT/multi.txt"

# 18. The same through postconf on stdin: postconf -n and postconf -P.
{ postconf -c "$MULTI" -n; postconf -c "$MULTI" -P; } >"$RP_OUT/postconf.txt"
"$RELAYPROBE" config-check --json --client 127.0.0.2 --postfix - <"$RP_OUT/postconf.txt" >"$RP_OUT/stdin.cc.json" 2>"$RP_OUT/stdin.cc.err"
CC_RC=$?
ok "config-check on stdin exits 2" test "$CC_RC" = 2
jq_is stdin.cc '[.configs[0].services[] | select(.verdict == "open")] | length' \
  "$(jq -r '[.configs[0].services[] | select(.verdict == "open")] | length' "$RP_OUT/multi.cc.json")"
jq_is stdin.cc "[.configs[0].findings[] | select(.id == \"relay-sender-access\" and .relay == \"yes\") | .file][0]" stdin

# 19. Text output: the file and line, the techniques and the fix.
printf 'mynetworks = 0.0.0.0/0\nsmtpd_relay_restrictions = permit_mynetworks,\n    reject_unauth_destination\n' >"$RP_OUT/text.cf"
"$RELAYPROBE" config-check --postfix "$RP_OUT/text.cf" >"$RP_OUT/text.out" 2>&1
CC_RC=$?
ok "text: exit 2" test "$CC_RC" = 2
ok "text: names file:line" grep -q "text.cf:1" "$RP_OUT/text.out"
ok "text: lists techniques" grep -q "lets through: T01,T02" "$RP_OUT/text.out"
ok "text: fix" grep -q "fix: mynetworks = 127.0.0.0/8" "$RP_OUT/text.out"
ok "text: overall line" grep -q "^Overall: OPEN (exit 2)" "$RP_OUT/text.out"

# --- hostile and malformed input: one clear line, exit 3, no crash ----------
bad() {
  local what=$1 pattern=$2; shift 2
  "$RELAYPROBE" config-check "$@" >"$RP_OUT/bad.out" 2>"$RP_OUT/bad.err"
  local rc=$?
  if [[ $rc == 3 ]] && grep -qE "$pattern" "$RP_OUT/bad.err" && [[ $(wc -l <"$RP_OUT/bad.err") -le 2 ]]; then
    _pass "bad input: $what (exit 3)"
  else
    _fail "bad input: $what (exit 3)" "exit $rc: $(head -c 300 "$RP_OUT/bad.err")"
  fi
}
H=$RP_OUT/hostile
mkdir -p "$H"
{ echo 'myhostname = x.example'; printf 'mynetworks = '; head -c 100000 /dev/zero | tr '\0' 'a'; echo; } >"$H/long.cf"
bad "huge line" 'long.cf:2: line longer than' --postfix "$H/long.cf"
{ echo 'a = b'; printf ' c\n%.0s' $(seq 1 40000) ; } >"$H/cont.cf"
bad "endless continuation" 'cont.cf:1: logical line longer' --postfix "$H/cont.cf"
head -c 5000000 /dev/zero | tr '\0' '#' >"$H/big.cf"
bad "file over 4 MiB" 'larger than 4 MiB' --postfix "$H/big.cf"
head -c 3000 /dev/urandom >"$H/junk.cf"; printf 'x = \001\n' >>"$H/junk.cf"
bad "binary junk" 'binary data|not a .name = value. line|bad parameter name|line longer' --postfix "$H/junk.cf"
: >"$H/empty.cf"
bad "empty main.cf" 'no settings' --postfix "$H/empty.cf"
bad "missing file" 'cannot open' --postfix "$H/nonexistent/main.cf"
printf 'this is not postfix\n' >"$H/words.cf"
bad "not name = value" "words.cf:1: not a 'name = value' line" --postfix "$H/words.cf"
mkdir -p "$H/pfdir" && echo 'mynetworks = 127.0.0.0/8' >"$H/pfdir/main.cf"
printf 'smtp inet n - y\n' >"$H/pfdir/master.cf"
bad "short master.cf line" 'master.cf:1: a master.cf service needs 8 fields' --postfix "$H/pfdir"
bad "config-check with a target" 'takes no targets' example.com
bad "bad --client" 'client must be' --client nothere --postfix "$H/pfdir/main.cf"
printf 'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n' | \
  "$RELAYPROBE" config-check --postfix - >/dev/null 2>&1
ok "stdin main.cf works" test $? = 0

finish
