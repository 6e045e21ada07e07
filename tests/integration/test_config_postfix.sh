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

# Every instance is started at once (in the background) and checked in
# turn: Postfix starts are mostly waiting, so this keeps the test short on
# a busy machine. The first start makes the shared queue skeleton.
pf_start closed $A auto || exit 1
declare -A STARTED=()
spawn() {
  local name=$1; shift
  ( pf_start "$name" $A auto "$@" >"$RP_OUT/start-$name.log" 2>&1 ) &
  STARTED[$name]=$!
}
spawn all 'mynetworks = 0.0.0.0/0'
spawn loop 'mynetworks = 127.0.0.0/8'
spawn permit 'smtpd_relay_restrictions = permit_mynetworks, permit, reject_unauth_destination' \
  'smtpd_recipient_restrictions = reject_unauth_destination'
spawn nocheck 'smtpd_relay_restrictions = permit_mynetworks, permit, reject_unauth_destination'
spawn sender 'smtpd_relay_restrictions = check_sender_access inline:{relaytarget.test=OK}, reject_unauth_destination'
spawn helo 'smtpd_relay_restrictions = check_helo_access inline:{mx.relaytarget.test=OK}, reject_unauth_destination'
spawn defer 'smtpd_relay_restrictions = permit_mynetworks, defer_unauth_destination'
spawn rcptonly 'smtpd_relay_restrictions =' 'smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination'
spawn nullsender 'smtpd_relay_restrictions =' \
  'smtpd_recipient_restrictions = check_sender_access inline:{<>=OK}, reject_unauth_destination'
spawn bothlists 'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination' \
  'smtpd_recipient_restrictions = check_sender_access inline:{relaytarget.test=OK}, reject_unauth_destination'
spawn client 'smtpd_relay_restrictions = check_client_access inline:{127.0.0.2=OK}, reject_unauth_destination'
spawn tld 'relay_domains = com'
spawn filetable "smtpd_relay_restrictions = check_sender_access texthash:$TABLE, reject_unauth_destination"
spawn banner 'smtpd_banner = $myhostname ESMTP $mail_name $mail_version'
spawn private 'mynetworks = 127.0.0.1/32 10.0.0.0/8' 'allow_percent_hack = yes' 'swap_bangpath = yes' \
  'disable_vrfy_command = yes'
spawn sasl SASL
spawn master
declare -A START_RC=([closed]=0)
for n in "${!STARTED[@]}"; do
  wait "${STARTED[$n]}"; START_RC[$n]=$?
done

case_pf() {
  local name=$1 want=$2
  if [[ ${START_RC[$name]} != 0 ]]; then
    _fail "$name: pf_start" "$(tail -5 "$RP_OUT/start-$name.log")"
    return 1
  fi
  agree "$name" "$want" "$A:$(pf_port "$name")" --postfix "$(pf_dir "$name")"
}
done_pf() { pf_stop "$1" >/dev/null 2>&1 || true; }

# 1. The harness's closed server: permit_mynetworks (127.0.0.1/32),
#    reject_unauth_destination.
case_pf closed closed
no_finding closed relay-permit
jq_is closed.cc '.configs[0].mta' postfix
jq_is closed.cc '.configs[0].files | test("main.cf, .*master.cf")' true
jq_is closed.cc '.command' config-check
done_pf closed

# 2. mynetworks = 0.0.0.0/0: everybody is trusted.
case_pf all open
has_finding all mynetworks-open main.cf "$(grep -n '^mynetworks' "$(pf_dir all)/main.cf" | tail -1 | cut -d: -f1)"
jq_is all.cc '[.configs[0].findings[] | select(.id == "mynetworks-open") | .remediation][0]' 'mynetworks = 127.0.0.0/8 [::1]/128'
done_pf all

# 3. mynetworks = 127.0.0.0/8 holds the tester (127.0.0.2): open from
#    there; from the internet (no --client) it is closed.
case_pf loop open
has_finding loop mynetworks-trusts-client
cc_run loop_inet --postfix "$(pf_dir loop)"
jq_is loop_inet.cc .verdict closed
done_pf loop

# 4. A plain permit before reject_unauth_destination: Postfix ignores
#    everything after it (and warns). Here smtpd_recipient_restrictions
#    still refuses relaying: closed, with a warning that names the line.
case_pf permit closed
has_finding permit relay-permit main.cf "$(grep -n '^smtpd_relay_restrictions' "$(pf_dir permit)/main.cf" | tail -1 | cut -d: -f1)"
jq_is permit.cc '[.configs[0].findings[] | select(.id == "relay-permit") | [.severity, .relay, .remediation] | join(" | ")][0]' \
  'warning | no | smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination'
done_pf permit

# 4b. The same permit with nothing after it to refuse relaying: Postfix
#     refuses to run smtpd at all (fatal), and config-check says so
#     (inconclusive, no-relay-restriction) instead of "closed".
if [[ ${START_RC[nocheck]} != 0 ]] &&
   grep -q 'specify at least one working instance of: reject_unauth_destination' "$PF_ROOT/nocheck/maillog"; then
  _pass "nocheck: Postfix refuses the configuration (fatal in the maillog)"
else
  _fail "nocheck: Postfix refuses the configuration" "start rc ${START_RC[nocheck]}"
fi
cc_run nocheck --postfix "$(pf_dir nocheck)"
jq_is nocheck.cc .verdict inconclusive
ok "nocheck: config-check exits 1" test "$CC_RC" = 1
has_finding nocheck no-relay-restriction

# 5. check_sender_access that says OK for the server's own domain: a
#    forged local sender relays (T04), nothing else.
case_pf sender open
has_finding sender relay-sender-access
jq_is sender.cc '[.configs[0].findings[] | select(.id == "relay-sender-access") | .techniques | index("T04") != null][0]' true
jq_is sender.cc '[.configs[0].findings[] | select(.id == "relay-sender-access") | .remediation][0]' \
  'smtpd_relay_restrictions = reject_unauth_destination, check_sender_access inline:{relaytarget.test=OK}'
done_pf sender

# 6. check_helo_access OK for the server's own name: T09.
case_pf helo open
has_finding helo relay-helo-access
jq_is helo.cc '[.configs[0].findings[] | select(.id == "relay-helo-access") | .techniques[]] | join(",")' T09
done_pf helo

# 7. Debian's defer_unauth_destination: closed.
case_pf defer closed
done_pf defer

# 8. The relay check in smtpd_recipient_restrictions only (the pre-2.10
#    layout): closed.
case_pf rcptonly closed
done_pf rcptonly

# 9. ... and with the null sender trusted before it: T01 relays.
case_pf nullsender open
has_finding nullsender relay-sender-access
jq_is nullsender.cc '[.configs[0].findings[] | select(.id == "relay-sender-access") | .techniques[]] | join(",")' T01
done_pf nullsender

# 10. A sender OK in smtpd_recipient_restrictions does not open a relay
#     that smtpd_relay_restrictions already refuses (Postfix runs the
#     relay list first): closed, the entry reported as a warning.
case_pf bothlists closed
jq_is bothlists.cc '[.configs[0].findings[] | select(.id == "relay-sender-access") | [.severity, .relay] | join(" ")][0]' 'warning no'
done_pf bothlists

# 11. check_client_access trusting the tester's address.
case_pf client open
has_finding client relay-client-access
done_pf client

# 12. relay_domains = com: every .com domain is a relay destination.
case_pf tld open
has_finding tld relay-domains-too-broad
done_pf tld

# 13. An access table in a file (texthash: needs no postmap), read by
#     config-check from the path main.cf names.
case_pf filetable open
jq_is filetable.cc '[.configs[0].findings[] | select(.id == "relay-sender-access") | .message | test("relaytarget.test")][0]' true
done_pf filetable

# 14. The version in the banner: closed, and both tools report it.
case_pf banner closed
has_finding banner version-disclosed main.cf "$(grep -n '^smtpd_banner' "$(pf_dir banner)/main.cf" | tail -1 | cut -d: -f1)"
rp_check banner_live --no-dns-checks --only T02 --source 127.0.0.2 "$A:$(pf_port banner)"
jq_is banner_live '[.servers[0].findings[].id] | index("version-disclosed") != null' true
# (the harness's default banner has no version)
jq_is closed.cc '[.configs[0].findings[].id] | index("version-disclosed")' null
done_pf banner

# 15. A whole private range in mynetworks: a warning, not an open relay
#     from outside; and VRFY / routing settings are reported.
case_pf private closed
has_finding private mynetworks-private-range
has_finding private percent-hack
has_finding private bang-path
no_finding private vrfy-enabled
jq_is private.cc '[.configs[0].findings[] | select(.id == "mynetworks-private-range") | .severity][0]' warning
done_pf private

# 16. SASL with AUTH before TLS: closed, auth-without-tls.
case_pf sasl closed
has_finding sasl auth-without-tls
done_pf sasl

# 17. master.cf: the main.cf policy is closed, -o overrides on the smtpd
#     service (the "-o { name = value }" form and a continuation line)
#     open it. config-check names the master.cf line and the service.
if [[ ${START_RC[master]} == 0 ]]; then
  MC=$(pf_dir master)/master.cf
  sed -i '0,/ smtpd$/s// smtpd\n  -o syslog_name=postfix-master\n  -o { smtpd_relay_restrictions = check_sender_access inline:{relaytarget.test=OK}, reject_unauth_destination }/' "$MC"
  postfix -c "$(pf_dir master)" reload >/dev/null 2>&1
fi
case_pf master open
has_finding master relay-sender-access master.cf 2
jq_is master.cc '[.configs[0].findings[] | select(.id == "relay-sender-access") | .service][0] | endswith("/inet")' true
jq_is master.cc '[.configs[0].findings[] | select(.id == "relay-sender-access") | .remediation][0]' \
  '-o { smtpd_relay_restrictions = reject_unauth_destination,check_sender_access inline:{relaytarget.test=OK} }'

# 18. The same through postconf on stdin: postconf -n and postconf -P.
{ postconf -c "$(pf_dir master)" -n; postconf -c "$(pf_dir master)" -P; } >"$RP_OUT/postconf.txt"
"$RELAYPROBE" config-check --json --postfix - <"$RP_OUT/postconf.txt" >"$RP_OUT/stdin.cc.json" 2>"$RP_OUT/stdin.cc.err"
CC_RC=$?
jq_is stdin.cc .verdict open
jq_is stdin.cc '[.configs[0].findings[] | select(.id == "relay-sender-access") | [.file, .service] | join(" ")][0] | test("^stdin .*/inet$")' true
ok "config-check on stdin exits 2" test "$CC_RC" = 2
done_pf master

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
