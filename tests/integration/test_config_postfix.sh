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
# Start NAME with main.cf lines, run the agreement check, stop it again
# (keeps the machine's load low).
case_pf() {
  local name=$1 want=$2; shift 2
  pf_start "$name" $A auto "$@" || { _fail "$name: pf_start"; return 1; }
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
case_pf all open 'mynetworks = 0.0.0.0/0'
has_finding all mynetworks-open main.cf "$(grep -n '^mynetworks' "$(pf_dir all)/main.cf" | tail -1 | cut -d: -f1)"
jq_is all.cc '[.configs[0].findings[] | select(.id == "mynetworks-open") | .remediation][0]' 'mynetworks = 127.0.0.0/8 [::1]/128'
done_pf all

# 3. mynetworks = 127.0.0.0/8 holds the tester (127.0.0.2): open from
#    there; from the internet (no --client) it is closed.
case_pf loop open 'mynetworks = 127.0.0.0/8'
has_finding loop mynetworks-trusts-client
cc_run loop_inet --postfix "$(pf_dir loop)"
jq_is loop_inet.cc .verdict closed
done_pf loop

# 4. A plain permit before reject_unauth_destination.
case_pf permit open 'smtpd_relay_restrictions = permit_mynetworks, permit, reject_unauth_destination'
has_finding permit relay-permit
jq_is permit.cc '[.configs[0].findings[] | select(.id == "relay-permit") | .remediation][0]' \
  'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination'
done_pf permit

# 5. check_sender_access that says OK for the server's own domain: a
#    forged local sender relays (T04), nothing else.
case_pf sender open 'smtpd_relay_restrictions = check_sender_access inline:{relaytarget.test=OK}, reject_unauth_destination'
has_finding sender relay-sender-access
jq_is sender.cc '[.configs[0].findings[] | select(.id == "relay-sender-access") | .techniques | index("T04") != null][0]' true
jq_is sender.cc '[.configs[0].findings[] | select(.id == "relay-sender-access") | .remediation][0]' \
  'smtpd_relay_restrictions = reject_unauth_destination, check_sender_access inline:{relaytarget.test=OK}'
done_pf sender

# 6. check_helo_access OK for the server's own name: T09.
case_pf helo open 'smtpd_relay_restrictions = check_helo_access inline:{mx.relaytarget.test=OK}, reject_unauth_destination'
has_finding helo relay-helo-access
jq_is helo.cc '[.configs[0].findings[] | select(.id == "relay-helo-access") | .techniques[]] | join(",")' T09
done_pf helo

# 7. Debian's defer_unauth_destination: closed.
case_pf defer closed 'smtpd_relay_restrictions = permit_mynetworks, defer_unauth_destination'
done_pf defer

# 8. The relay check in smtpd_recipient_restrictions only (the pre-2.10
#    layout): closed.
case_pf rcptonly closed 'smtpd_relay_restrictions =' 'smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination'
done_pf rcptonly

# 9. ... and with the null sender trusted before it: T01 relays.
case_pf nullsender open 'smtpd_relay_restrictions =' \
  'smtpd_recipient_restrictions = check_sender_access inline:{<>=OK}, reject_unauth_destination'
has_finding nullsender relay-sender-access
jq_is nullsender.cc '[.configs[0].findings[] | select(.id == "relay-sender-access") | .techniques[]] | join(",")' T01
done_pf nullsender

# 10. A permit in smtpd_recipient_restrictions does not open a relay that
#     smtpd_relay_restrictions already refuses (Postfix runs the relay
#     list first): closed.
case_pf bothlists closed 'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination' \
  'smtpd_recipient_restrictions = permit'
no_finding bothlists relay-permit
done_pf bothlists

# 11. check_client_access trusting the tester's address.
case_pf client open 'smtpd_relay_restrictions = check_client_access inline:{127.0.0.2=OK}, reject_unauth_destination'
has_finding client relay-client-access
done_pf client

# 12. relay_domains = com: every .com domain is a relay destination.
case_pf tld open 'relay_domains = com'
has_finding tld relay-domains-too-broad
done_pf tld

# 13. An access table in a file (texthash: needs no postmap), read by
#     config-check from the path main.cf names.
TABLE=$RP_OUT/sender_access
printf '# trusted senders\nrelaytarget.test   OK\nspammer.example  REJECT\n' >"$TABLE"
chmod 644 "$TABLE"
case_pf filetable open "smtpd_relay_restrictions = check_sender_access texthash:$TABLE, reject_unauth_destination"
jq_is filetable.cc '[.configs[0].findings[] | select(.id == "relay-sender-access") | .message | test("relaytarget.test")][0]' true
done_pf filetable

# 14. The version in the banner: closed, and both tools report it.
pf_start banner $A auto 'smtpd_banner = $myhostname ESMTP $mail_name $mail_version' || exit 1
agree banner closed "$A:$(pf_port banner)" --postfix "$(pf_dir banner)"
has_finding banner version-disclosed main.cf "$(grep -n '^smtpd_banner' "$(pf_dir banner)/main.cf" | tail -1 | cut -d: -f1)"
rp_check banner_live --no-dns-checks --only T02 --source 127.0.0.2 "$A:$(pf_port banner)"
jq_is banner_live '[.servers[0].findings[].id] | index("version-disclosed") != null' true
cc_run banner_fixed --postfix "$(pf_dir banner)" # the harness default banner has no version:
jq_is closed.cc '[.configs[0].findings[].id] | index("version-disclosed")' null
done_pf banner

# 15. A whole private range in mynetworks: a warning, not an open relay
#     from outside; and VRFY / routing settings are reported.
case_pf private closed 'mynetworks = 127.0.0.1/32 10.0.0.0/8' 'allow_percent_hack = yes' 'swap_bangpath = yes' \
  'disable_vrfy_command = yes'
has_finding private mynetworks-private-range
has_finding private percent-hack
has_finding private bang-path
no_finding private vrfy-enabled
jq_is private.cc '[.configs[0].findings[] | select(.id == "mynetworks-private-range") | .severity][0]' warning
done_pf private

# 16. SASL with AUTH before TLS: closed, auth-without-tls.
case_pf sasl closed SASL
has_finding sasl auth-without-tls
done_pf sasl

# 17. master.cf: the main.cf policy is closed, a -o override on the smtpd
#     service opens it. config-check names the master.cf line.
pf_start master $A auto || exit 1
MC=$(pf_dir master)/master.cf
sed -i '0,/ smtpd$/s// smtpd\n  -o smtpd_relay_restrictions=permit_mynetworks,permit,reject_unauth_destination/' "$MC"
postfix -c "$(pf_dir master)" reload >/dev/null 2>&1
agree master open "$A:$(pf_port master)" --postfix "$(pf_dir master)"
has_finding master relay-permit master.cf 2
jq_is master.cc '[.configs[0].findings[] | select(.id == "relay-permit") | .service][0] | test("inet")' true
jq_is master.cc '[.configs[0].findings[] | select(.id == "relay-permit") | .remediation][0]' \
  '-o smtpd_relay_restrictions=permit_mynetworks,reject_unauth_destination'

# 18. The same through postconf on stdin: postconf -n and postconf -P.
{ postconf -c "$(pf_dir master)" -n; postconf -c "$(pf_dir master)" -P; } >"$RP_OUT/postconf.txt"
"$RELAYPROBE" config-check --json --postfix - <"$RP_OUT/postconf.txt" >"$RP_OUT/stdin.cc.json" 2>"$RP_OUT/stdin.cc.err"
CC_RC=$?
jq_is stdin.cc .verdict open
jq_is stdin.cc '[.configs[0].findings[] | select(.id == "relay-permit") | .file][0]' stdin
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
{ echo 'a = b'; printf ' c\n%.0s' $(seq 1 5000) ; } >"$H/cont.cf"
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
