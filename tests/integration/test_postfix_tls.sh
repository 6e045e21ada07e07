#!/usr/bin/env bash
# STARTTLS and implicit TLS against real Postfix instances.
. "$(dirname "$0")/lib.sh"

# 1. Closed, STARTTLS offered: closed in plaintext, and closed over TLS.
pf_start offer 127.0.0.1 auto TLS || exit 1
rp_check tls --source 127.0.0.2 "127.0.0.1:$(pf_port offer)"
rc_is 0
jq_is tls .verdict closed
jq_is tls '.servers[0].starttls_offered' true
jq_is tls '.servers[0].tls' false
rp_check tls_forced --starttls --source 127.0.0.2 "127.0.0.1:$(pf_port offer)"
rc_is 0
jq_is tls_forced .verdict closed
jq_is tls_forced '.servers[0].tls' true
jq_is tls_forced '[.servers[0].tests[] | select(.result != "skipped") | .tls] | all' true
jq_is tls_forced '.servers[0].tls_version | startswith("TLSv1")' true
jq_is tls_forced '[.servers[0].transcript[] | select(.dir == "C" and .line == "STARTTLS")] | length >= 1' true

# 2. TLS mandatory ("530 5.7.0 Must issue a STARTTLS command first") and
#    relaying for the local-domain sender: found over TLS, open.
pf_start tlsonly 127.0.0.1 auto TLS 'smtpd_tls_security_level = encrypt' \
  'smtpd_relay_restrictions = check_sender_access inline:{relaytarget.test=OK}, reject_unauth_destination' || exit 1
rp_check tlsonly --source 127.0.0.2 "127.0.0.1:$(pf_port tlsonly)"
rc_is 2
jq_is tlsonly .verdict open
jq_is tlsonly '.servers[0].tls_required' true
jq_is tlsonly '.servers[0].tests[] | select(.id == "T04" and .superseded == false) | [.result, .tls, .conclusive] | map(tostring) | join(" ")' 'accepted true true'
jq_is tlsonly '[(.servers[0].tests + .servers[0].controls)[] | select(.superseded) | .result] | unique | join(",")' tls-required
jq_is tlsonly '[.servers[0].transcript[] | select(.dir == "S" and (.line | test("^530 ")))] | length >= 1' true

# 3. Same with mynetworks covering us: suspect over TLS (accepts anything).
pf_start tlswide 127.0.0.1 auto TLS 'smtpd_tls_security_level = encrypt' 'mynetworks = 127.0.0.0/8' || exit 1
rp_check tlswide --source 127.0.0.2 "127.0.0.1:$(pf_port tlswide)"
rc_is 1
jq_is tlswide .verdict suspect

# 4. --no-tls against a TLS-only server: cannot test, says why.
rp_check notls --no-tls --source 127.0.0.2 "127.0.0.1:$(pf_port tlsonly)"
rc_is 1
jq_is notls .verdict inconclusive
jq_is notls '.servers[0].verdict_reason | test("TLS")' true

# 5. Implicit TLS (port 465 style) with --tls: Postfix smtps service.
pf_start smtps 127.0.0.1 auto TLS 'smtpd_tls_wrappermode = yes' || exit 1
rp_check smtps --tls --source 127.0.0.2 "127.0.0.1:$(pf_port smtps)"
rc_is 0
jq_is smtps .verdict closed
jq_is smtps '.servers[0].implicit_tls' true
jq_is smtps '.servers[0].tls' true
jq_is smtps '[.servers[0].tests[] | select(.result != "skipped") | .tls] | all' true

finish
