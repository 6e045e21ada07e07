#!/usr/bin/env bash
# The audit against real Postfix instances (and, for STARTTLS injection
# only, a small fixture of ours: no real server here has that bug). For
# each problem: the finding appears, and the configuration its advice
# gives makes it go away.
. "$(dirname "$0")/lib.sh"
src=(--source 127.0.0.2 --only T02)

finding() { # NAME ID: the finding is present
  jq_is "$1" "[.servers[0].findings[].id] | index(\"$2\") != null" true
}
no_finding() {
  jq_is "$1" "[.servers[0].findings[].id] | index(\"$2\")" null
}

# 1. Version in the banner; VRFY that tells users apart; the fix for each.
pf_start leaky 127.0.0.1 auto 'smtpd_banner = $myhostname ESMTP $mail_name $mail_version' \
  'local_recipient_maps = proxy:unix:passwd.byname $alias_maps' || exit 1
rp_check leaky "${src[@]}" "127.0.0.1:$(pf_port leaky)"
jq_is leaky '.servers[0].software.id' postfix
jq_is leaky '.servers[0].software.version | test("^3\\.")' true
finding leaky version-disclosed
finding leaky vrfy-enabled
jq_is leaky '.servers[0].findings[] | select(.id == "version-disclosed") | .remediation' 'smtpd_banner = $myhostname ESMTP'
jq_is leaky '.servers[0].findings[] | select(.id == "vrfy-enabled") | .remediation' 'disable_vrfy_command = yes'
jq_is leaky '.servers[0].findings[] | select(.id == "vrfy-enabled") | .title' 'VRFY answers'
jq_is leaky '.servers[0].audit.vrfy_postmaster | test("^25[02]")' true
finding leaky starttls-missing
pf_conf leaky 'smtpd_banner = $myhostname ESMTP' 'disable_vrfy_command = yes' || exit 1
rp_check leaky_fixed "${src[@]}" "127.0.0.1:$(pf_port leaky)"
no_finding leaky_fixed version-disclosed
no_finding leaky_fixed vrfy-enabled
# With the version gone the banner no longer names the software at all.
jq_is leaky_fixed '.servers[0].software.version' null

# 2. AUTH with plaintext mechanisms before TLS; then smtpd_tls_auth_only.
pf_start sasl 127.0.0.1 auto SASL CERT=valid || exit 1
rp_check sasl "${src[@]}" --ca-file "$(pf_test_ca)" "127.0.0.1:$(pf_port sasl)"
finding sasl plaintext-auth-without-tls
jq_is sasl '.servers[0].audit.auth_before_tls | test("PLAIN")' true
jq_is sasl '.servers[0].findings[] | select(.id == "plaintext-auth-without-tls") | [.severity, .remediation] | join(" ")' 'critical smtpd_tls_auth_only = yes'
pf_conf sasl 'smtpd_tls_auth_only = yes' || exit 1
rp_check sasl_fixed "${src[@]}" --ca-file "$(pf_test_ca)" "127.0.0.1:$(pf_port sasl)"
no_finding sasl_fixed plaintext-auth-without-tls
no_finding sasl_fixed auth-without-tls

# 3. Certificates: valid (trusted with the test CA, right name), expired,
#    expiring, wrong name, self-signed.
ca=(--ca-file "$(pf_test_ca)")
pf_start cvalid 127.0.0.1 auto CERT=valid 'smtpd_tls_protocols = >=TLSv1.2' || exit 1
rp_check cvalid "${src[@]}" "${ca[@]}" "127.0.0.1:$(pf_port cvalid)"
jq_is cvalid '.servers[0].certificate | [.chain_verified, .expired, .self_signed] | map(tostring) | join(" ")' 'true false false'
jq_is cvalid '[.servers[0].findings[].id | select(startswith("tls-"))] | length' 0
# The name checked is the server's host name (here from its banner).
jq_is cvalid '.servers[0].certificate | [.name_checked, (.name_matches | tostring)] | join(" ")' 'mx.relaytarget.test true'
pf_start cexpired 127.0.0.1 auto CERT=expired || exit 1
rp_check cexpired "${src[@]}" "${ca[@]}" "127.0.0.1:$(pf_port cexpired)"
finding cexpired tls-cert-expired
jq_is cexpired '.servers[0].findings[] | select(.id == "tls-cert-expired") | .severity' critical
pf_start cexpiring 127.0.0.1 auto CERT=expiring || exit 1
rp_check cexpiring "${src[@]}" "${ca[@]}" "127.0.0.1:$(pf_port cexpiring)"
finding cexpiring tls-cert-expiring
pf_start cwrong 127.0.0.1 auto CERT=wrongname || exit 1
rp_check cwrong "${src[@]}" "${ca[@]}" "127.0.0.1:$(pf_port cwrong)"
jq_is cwrong '.servers[0].certificate.names' wrong.example.test
finding cwrong tls-cert-name-mismatch
pf_start cself 127.0.0.1 auto CERT=selfsigned || exit 1
rp_check cself "${src[@]}" "${ca[@]}" "127.0.0.1:$(pf_port cself)"
finding cself tls-cert-self-signed
no_finding cself tls-cert-untrusted

# 4. Legacy TLS: accepted, then refused with the advised protocols line.
pf_start legacy 127.0.0.1 auto LEGACY_TLS CERT=valid || exit 1
rp_check legacy "${src[@]}" "${ca[@]}" "127.0.0.1:$(pf_port legacy)"
finding legacy tls-legacy-protocols
jq_is legacy '.servers[0].audit.legacy_tls' true
rp_check legacy_fixed "${src[@]}" "${ca[@]}" "127.0.0.1:$(pf_port cvalid)"
jq_is legacy_fixed '.servers[0].audit.legacy_tls' false
no_finding legacy_fixed tls-legacy-protocols

# 5. STARTTLS injection: a vulnerable fixture is convicted, a safe one not;
#    a real Postfix discards the injected command.
for mode in vuln safe; do
  python3 "$SRCDIR/tests/fixtures/starttls_inject.py" $([ $mode = safe ] && echo --safe) >"$RP_OUT/inj.port" &
  ipid=$!
  for _ in $(seq 100); do [ -s "$RP_OUT/inj.port" ] && break; sleep 0.1; done
  rp_check "inject_$mode" --only T02 "127.0.0.1:$(cat "$RP_OUT/inj.port")"
  kill "$ipid" 2>/dev/null; wait "$ipid" 2>/dev/null; : >"$RP_OUT/inj.port"
done
finding inject_vuln starttls-injection
jq_is inject_vuln '.servers[0].audit.starttls_injection' reply-in-tls
jq_is inject_safe '.servers[0].audit.starttls_injection' safe
no_finding inject_safe starttls-injection
jq_is cvalid '.servers[0].audit.starttls_injection' safe

# 6. Timings with their thresholds, and --no-audit.
jq_is cvalid '.servers[0].timings | [(.connect_ms >= 0), (.greeting_ms >= 0), (.transaction_ms >= 0), (.thresholds.greeting_ms > 0)] | all' true
rp_check noaudit --no-audit "${src[@]}" "127.0.0.1:$(pf_port leaky)"
jq_is noaudit '.servers[0].audit' null
jq_is noaudit '[.servers[0].transcript[] | select(.dir == "C" and (.line | test("^(VRFY|EXPN)")))] | length' 0

# 7. Every finding carries a title (the catalogue covers every id).
jq_is leaky '[.servers[0].findings[] | select(.title == null)] | length' 0

finish
