#!/usr/bin/env bash
# Relay verdicts against real Postfix instances on loopback, each with a
# known configuration. The tester connects from 127.0.0.2, outside the
# instances' mynetworks (127.0.0.1/32) unless a test says otherwise.
. "$(dirname "$0")/lib.sh"

# 1. Closed: reject_unauth_destination.
pf_start closed 127.0.0.1 auto || exit 1
rp_check closed --source 127.0.0.2 "127.0.0.1:$(pf_port closed)"
rc_is 0
jq_is closed .schema relayprobe/1
jq_is closed .verdict closed
jq_is closed '.servers[0].verdict' closed
jq_is closed '[.servers[0].tests[] | select(.result != "skipped") | .result] | unique | join(",")' rejected
jq_is closed '[.servers[0].tests[] | select(.result == "rejected") | .reason] | unique | join(",")' relay-denied
jq_is closed '.servers[0].tests | length >= 24' true
jq_is closed '[.servers[0].tests[].id] | index("T24")' null
jq_is closed '.servers[0].controls[] | select(.id == "positive") | .result' accepted
jq_is closed '.servers[0].controls[] | select(.id == "impossible") | .result' rejected
jq_is closed '.servers[0].tests[] | select(.id == "T02") | .reply.code' 554
jq_is closed '.servers[0].tests[] | select(.id == "T02") | .reply.enhanced' 5.7.1
jq_is closed '.servers[0].banner | startswith("mx.relaytarget.test ESMTP Postfix")' true
jq_is closed '.servers[0].ehlo | index("PIPELINING") != null' true
jq_is closed '.servers[0].target_host' mx.relaytarget.test
jq_is closed '.servers[0].target_domain' relaytarget.test
jq_is closed '.servers[0].tests[] | select(.id == "T05") | .mail_from' '<relayprobe@[127.0.0.1]>'
jq_is closed '.servers[0].tests[] | select(.id == "T09") | .helo' mx.relaytarget.test
jq_is closed '[.servers[0].findings[].id] | index("vantage-point") != null' true
jq_is closed '.servers[0].local_address' 127.0.0.2
# Safety: never DATA. Politeness: no session carries more than 5 tests.
jq_is closed '[.servers[0].transcript[] | select(.dir == "C" and (.line | test("^DATA"; "i")))] | length' 0
jq_is closed '[.servers[0].transcript[] | select(.dir == "C" and (.line | startswith("RCPT")))] | group_by(.session) | map(length) | max <= 5' true
jq_is closed '.servers[0].sessions >= 5' true
jq_is closed '[.servers[0].transcript[] | select(.dir == "C" and .line == "QUIT")] | length >= 5' true

# 2. Trusted network too wide: accepts any recipient, so acceptances are
#    not conclusive: suspect, never open.
pf_start wide 127.0.0.1 auto 'mynetworks = 127.0.0.0/8' || exit 1
rp_check wide --source 127.0.0.2 "127.0.0.1:$(pf_port wide)"
rc_is 1
jq_is wide .verdict suspect
jq_is wide '.servers[0].tests[] | select(.id == "T02") | .result' accepted
jq_is wide '.servers[0].tests[] | select(.id == "T02") | .conclusive' false
jq_is wide '.servers[0].controls[] | select(.id == "impossible") | .result' accepted
jq_is wide '[.servers[0].findings[].id] | (index("suspect-relay") != null and index("catch-all") != null)' true

# 3. Relays only when MAIL FROM claims the local domain, refuses the
#    impossible recipient: open, with the technique named.
pf_start sender 127.0.0.1 auto \
  'smtpd_relay_restrictions = check_sender_access inline:{relaytarget.test=OK}, reject_unauth_destination' || exit 1
rp_check sender --source 127.0.0.2 "127.0.0.1:$(pf_port sender)"
rc_is 2
jq_is sender .verdict open
jq_is sender '.servers[0].tests[] | select(.id == "T04") | [.result, .conclusive] | join(" ")' 'accepted true'
jq_is sender '.servers[0].tests[] | select(.id == "T02") | .result' rejected
jq_is sender '.servers[0].controls[] | select(.id == "impossible") | .result' rejected
jq_is sender '.servers[0].findings[] | select(.id == "open-relay") | .severity' critical
jq_is sender '.servers[0].findings[] | select(.id == "open-relay") | .message | test("T04")' true

# 4. HELO trick: relays when EHLO claims the server's own name (T09).
pf_start helo 127.0.0.1 auto \
  'smtpd_relay_restrictions = check_helo_access inline:{mx.relaytarget.test=OK}, reject_unauth_destination' || exit 1
rp_check helo --source 127.0.0.2 "127.0.0.1:$(pf_port helo)"
rc_is 2
jq_is helo .verdict open
jq_is helo '[.servers[0].tests[] | select(.conclusive) | .id] | join(",")' T09

# 5. Trusted source address: closed from 127.0.0.2, not closed from
#    127.0.0.1 (inside mynetworks), with the vantage-point finding.
pf_start trust 127.0.0.1 auto 'mynetworks = 127.0.0.1/32' || exit 1
rp_check trust_out --source 127.0.0.2 "127.0.0.1:$(pf_port trust)"
jq_is trust_out .verdict closed
rp_check trust_in --source 127.0.0.1 "127.0.0.1:$(pf_port trust)"
jq_is trust_in '.verdict != "closed"' true
jq_is trust_in '.servers[0].findings[] | select(.id == "vantage-point") | .severity' warning

# 6. Debian's default relay restriction answers 454 4.7.1: a refusal, not a
#    delay; closed, with a finding about the temporary code.
pf_start defer 127.0.0.1 auto \
  'smtpd_relay_restrictions = permit_mynetworks, defer_unauth_destination' || exit 1
rp_check defer --source 127.0.0.2 "127.0.0.1:$(pf_port defer)"
rc_is 0
jq_is defer .verdict closed
jq_is defer '.servers[0].tests[] | select(.id == "T02") | [.reply.code, .reason] | join(" ")' '454 relay-denied'
jq_is defer '[.servers[0].findings[].id] | index("relay-deferred") != null' true

finish
