#!/usr/bin/env bash
# More of the audit against real servers (test_audit.sh has the rest):
# slow greeting and slow replies (Postfix "sleep" restrictions), a banner
# that names no host, AUTH with only non-plaintext mechanisms before TLS,
# and Exim: its advice for the version in the banner, VRFY and EXPN,
# applied to a real Exim, closes each finding.
#
# Timing findings: the delays are Postfix's own sleeps, above the
# thresholds (greeting 15 s, EHLO and transaction 5 s). relayprobe measures
# from its connect or its command, which is before the server starts
# sleeping, so the measured time can only be longer: the findings appear
# however fast or slow the machine is. Their absence is never asserted
# here (that would depend on the machine being fast enough).
. "$(dirname "$0")/lib.sh"
# shellcheck source=exim.sh
. "$SRCDIR/tests/integration/exim.sh"
trap 'ex_cleanup; _rp_cleanup' EXIT
src=(--source 127.0.0.2 --only T02)

finding() { # NAME ID: the finding is present
  jq_is "$1" "[.servers[0].findings[].id] | index(\"$2\") != null" true
}
no_finding() {
  jq_is "$1" "[.servers[0].findings[].id] | index(\"$2\")" null
}
fix_of() { # NAME ID: the remediation shown for the finding
  jq -r ".servers[0].findings[] | select(.id == \"$2\") | .remediation" "$RP_OUT/$1.json"
}

# 1. Slow greeting: with smtpd_delay_reject = no, smtpd_client_restrictions
#    run when the client connects, before the 220; "sleep 18" holds the
#    greeting 18 s (threshold 15 s) for clients outside mynetworks (not
#    for pf_start's own probe from 127.0.0.1). One session: each waits.
pf_start slowgreet 127.0.0.1 auto 'smtpd_delay_reject = no' \
  'smtpd_client_restrictions = permit_mynetworks, sleep 18' || exit 1
rp_check slowgreet "${src[@]}" --sessions 1 "127.0.0.1:$(pf_port slowgreet)"
rc_is 0
jq_is slowgreet .verdict closed
finding slowgreet greeting-slow
jq_is slowgreet '.servers[0].timings.greeting_ms >= 18000' true
jq_is slowgreet '.servers[0].findings[] | select(.id == "greeting-slow") | [.severity, (.evidence | test("^the greeting took [0-9]+ ms \\(threshold 15000 ms\\)$"))] | map(tostring) | join(" ")' 'info true'
jq_is slowgreet '.servers[0].findings[] | select(.id == "greeting-slow") | .remediation | test("postscreen_greet_wait")' true

# 2. Slow EHLO and slow transaction: smtpd_helo_restrictions (at EHLO, with
#    smtpd_delay_reject = no) and smtpd_sender_restrictions (at MAIL) sleep
#    7 s each (thresholds 5 s). One test per session, five sessions at once.
pf_start slowtxn 127.0.0.1 auto 'smtpd_delay_reject = no' 'smtpd_helo_restrictions = sleep 7' \
  'smtpd_sender_restrictions = sleep 7' || exit 1
rp_check slowtxn "${src[@]}" --sessions 5 --per-session 1 "127.0.0.1:$(pf_port slowtxn)"
jq_is slowtxn .verdict closed
jq_is slowtxn '.servers[0].timings | [(.ehlo_ms >= 7000), (.transaction_ms >= 7000)] | all' true
jq_is slowtxn '[.servers[0].findings[] | select(.id == "slow-transaction") | .evidence | test("^EHLO took [0-9]+ ms \\(threshold 5000 ms\\)$")] | any' true
jq_is slowtxn '[.servers[0].findings[] | select(.id == "slow-transaction") | .evidence | test("^a MAIL/RCPT/RSET transaction took [0-9]+ ms \\(threshold 5000 ms\\)$")] | any' true
jq_is slowtxn '[.servers[0].findings[] | select(.id == "slow-transaction") | .severity] | unique | join(",")' info

# 3. Banner without a host name (myhostname = mailhost), then the advice,
#    myhostname = mail.example.com, applied as shown: gone.
pf_start shortname 127.0.0.1 auto 'myhostname = mailhost' || exit 1
rp_check shortname "${src[@]}" "127.0.0.1:$(pf_port shortname)"
jq_is shortname '.servers[0].banner' 'mailhost ESMTP Postfix (Debian/GNU)'
finding shortname banner-not-fqdn
jq_is shortname '.servers[0].findings[] | select(.id == "banner-not-fqdn") | [.severity, .evidence] | join(" ")' \
  'info the greeting'\''s first word "mailhost" is not a fully qualified host name'
fix=$(fix_of shortname banner-not-fqdn)
ok "banner-not-fqdn advice is a main.cf line: $fix" test "$fix" = 'myhostname = mail.example.com'
pf_conf shortname "$fix" || exit 1
rp_check shortname_fixed "${src[@]}" "127.0.0.1:$(pf_port shortname)"
jq_is shortname_fixed '.servers[0].banner' 'mail.example.com ESMTP Postfix (Debian/GNU)'
no_finding shortname_fixed banner-not-fqdn

# 4. AUTH before TLS with only a non-plaintext mechanism (Cyrus SASL,
#    smtpd_sasl_security_options = noplaintext: CRAM-MD5 alone): the
#    warning, not the critical plaintext finding; the advice closes it.
pf_start cram 127.0.0.1 auto SASL CERT=valid 'smtpd_sasl_security_options = noanonymous, noplaintext' || exit 1
rp_check cram "${src[@]}" --ca-file "$(pf_test_ca)" "127.0.0.1:$(pf_port cram)"
jq_is cram '.servers[0].audit.auth_before_tls' CRAM-MD5
finding cram auth-without-tls
no_finding cram plaintext-auth-without-tls
jq_is cram '.servers[0].findings[] | select(.id == "auth-without-tls") | [.severity, .evidence] | join(" ")' \
  'warning AUTH CRAM-MD5 is offered before STARTTLS'
fix=$(fix_of cram auth-without-tls)
ok "auth-without-tls advice is a main.cf line: $fix" test "$fix" = 'smtpd_tls_auth_only = yes'
pf_conf cram "$fix" || exit 1
rp_check cram_fixed "${src[@]}" --starttls --ca-file "$(pf_test_ca)" "127.0.0.1:$(pf_port cram)"
jq_is cram_fixed '.servers[0].audit.auth_before_tls' null
no_finding cram_fixed auth-without-tls
# After STARTTLS (--starttls) the mechanism is still offered: the fix did
# not just remove AUTH.
jq_is cram_fixed '.servers[0].tls' true
jq_is cram_fixed '[.servers[0].ehlo[] | select(test("^AUTH CRAM-MD5"))] | length' 1

# 5. Exim: the default banner shows the version, VRFY and EXPN allowed
#    (acl_smtp_vrfy/acl_smtp_expn = accept). Exim's advice for each, applied
#    to a new daemon (the banner line exactly as shown; the two ACLs left
#    unset, as the advice says): every finding gone.
ex_start exleaky 127.0.0.1 auto closed vrfy expn || exit 1
rp_check exleaky "${src[@]}" "127.0.0.1:$(ex_port exleaky)"
jq_is exleaky '.servers[0].software | [.id, .version] | join(" ")' 'exim 4.96'
finding exleaky version-disclosed
finding exleaky vrfy-enabled
finding exleaky expn-enabled
jq_is exleaky '.servers[0].audit.expn_postmaster' '250 <postmaster@relaytarget.test>'
banner_fix=$(fix_of exleaky version-disclosed)
# shellcheck disable=SC2016 # Exim's own $variable, literally
ok "Exim version advice: $banner_fix" test "$banner_fix" = 'smtp_banner = $smtp_active_hostname ESMTP'
ok "Exim VRFY advice" test "$(fix_of exleaky vrfy-enabled)" = 'leave acl_smtp_vrfy unset (the default denies)'
ok "Exim EXPN advice" test "$(fix_of exleaky expn-enabled)" = 'leave acl_smtp_expn unset (the default denies)'
ex_start exfixed 127.0.0.1 auto closed "$banner_fix" || exit 1
ok "the advised configuration leaves acl_smtp_vrfy/expn unset" \
  bash -c "! grep -Eq '^[[:space:]]*acl_smtp_(vrfy|expn)' '$(ex_conf exfixed)'"
rp_check exfixed "${src[@]}" "127.0.0.1:$(ex_port exfixed)"
jq_is exfixed '.servers[0].banner' 'mx.relaytarget.test ESMTP'
no_finding exfixed version-disclosed
no_finding exfixed vrfy-enabled
no_finding exfixed expn-enabled
jq_is exfixed '.servers[0].audit | [.vrfy_postmaster, .expn_postmaster] | join(" / ")' \
  '252 Administrative prohibition / 550 Administrative prohibition'

finish
