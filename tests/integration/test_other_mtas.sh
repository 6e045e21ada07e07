#!/usr/bin/env bash
# Relay verdicts against real Exim 4.96 and OpenSMTPD 6.8 daemons on
# loopback (tests/integration/exim.sh, opensmtpd.sh: unpacked from Debian's
# packages at test time, never installed). The tester connects from
# 127.0.0.2, outside what the servers trust (127.0.0.1 / OpenSMTPD's
# "local"). Everything the servers accept goes to 127.0.0.1:9 (nothing
# listens) unless a test points them at relayprobe's own receiver.
. "$(dirname "$0")/lib.sh"
# shellcheck source=exim.sh
. "$SRCDIR/tests/integration/exim.sh"
# shellcheck source=opensmtpd.sh
. "$SRCDIR/tests/integration/opensmtpd.sh"
trap 'ex_cleanup; os_cleanup; _rp_cleanup' EXIT

# --- Exim ---------------------------------------------------------------------

# 1. Exim closed, default options: relay_from_hosts = 127.0.0.1, the default
#    acl_check_rcpt. Exim refuses MAIL FROM:<x@[127.0.0.1]> ("domain literals
#    not allowed", allow_domain_literals is off by default), nmap's sender of
#    T11-T23; relayprobe retries those recipient tricks with the plain sender,
#    every recipient is refused: closed.
ex_start exclosed 127.0.0.1 auto closed || exit 1
rp_check ex_closed --source 127.0.0.2 "127.0.0.1:$(ex_port exclosed)"
jq_is ex_closed '.verdict' closed
jq_is ex_closed '.servers[0].tests[] | select(.id == "T11" and .superseded == false) | .mail_from' '<relayprobe@gmail.com>'
jq_is ex_closed '[.servers[0].findings[].id] | index("vrfy-enabled")' null
jq_is ex_closed '[.servers[0].tests[] | select(.result == "accepted")] | length' 0
jq_is ex_closed '.servers[0].tests[] | select(.id == "T02") | [.result, .reply.code, .reply.text] | join(" ")' \
  'rejected 550 relay not permitted'
jq_is ex_closed '.servers[0].controls[] | select(.id == "positive") | .result' accepted
jq_is ex_closed '.servers[0].controls[] | select(.id == "impossible") | .result' rejected
jq_is ex_closed '.servers[0].software | [.id, .version] | join(" ")' 'exim 4.96'
jq_is ex_closed '.servers[0].banner | test("^mx\\.relaytarget\\.test ESMTP Exim 4\\.96 ")' true
jq_is ex_closed '[.servers[0].findings[].id] | index("version-disclosed") != null' true
jq_is ex_closed '.servers[0].audit.vrfy_postmaster' '252 Administrative prohibition'
jq_is ex_closed '.servers[0].audit.expn_postmaster' '550 Administrative prohibition'
jq_is ex_closed '[.servers[0].transcript[] | select(.dir == "C" and (.line | test("^DATA"; "i")))] | length' 0

# 2. Exim closed with domain literals allowed and the version-less banner:
#    every technique reaches RCPT and is refused -- closed.
ex_start exlit 127.0.0.1 auto closed hardened 'allow_domain_literals = true' || exit 1
rp_check ex_lit --source 127.0.0.2 "127.0.0.1:$(ex_port exlit)"
rc_is 0
jq_is ex_lit .verdict closed
jq_is ex_lit '.servers[0].banner' 'mx.relaytarget.test ESMTP'
jq_is ex_lit '[.servers[0].findings[].id] | index("version-disclosed")' null
jq_is ex_lit '.servers[0].tests[] | select(.id == "T05") | [.result, .reply.text] | join(" ")' \
  'rejected relay not permitted'
jq_is ex_lit '.servers[0].tests[] | select(.id == "T11") | [.result, .reply.code, .reply.text] | join(" ")' \
  'rejected 550 Restricted characters in address'

# 3. Exim open (relay_from_hosts = 0.0.0.0/0): accepts the impossible
#    recipient too, so the acceptances are not conclusive -- suspect.
ex_start exopen 127.0.0.1 auto open || exit 1
rp_check ex_open --source 127.0.0.2 "127.0.0.1:$(ex_port exopen)"
rc_is 1
jq_is ex_open .verdict suspect
jq_is ex_open '.servers[0].tests[] | select(.id == "T02") | [.result, .conclusive] | join(" ")' 'accepted false'
jq_is ex_open '.servers[0].controls[] | select(.id == "impossible") | .result' accepted
jq_is ex_open '[.servers[0].findings[].id] | (index("suspect-relay") != null and index("catch-all") != null)' true

# 4. The same open Exim, really delivering (no_queue_only) to relayprobe's
#    receiver on loopback: delivery proof makes it open.
RPORT=$(ex_free_port)
EX_SINK=$RPORT ex_start exdeliver 127.0.0.1 auto open no_queue_only || exit 1
rp_check ex_deliver --confirm --confirm-domain confirm.test --receiver "127.0.0.1:$RPORT" \
  --confirm-wait 20 --source 127.0.0.2 "127.0.0.1:$(ex_port exdeliver)"
rc_is 2
jq_is ex_deliver .verdict open
jq_is ex_deliver '.servers[0].tests[] | select(.id == "T02") | .delivery' delivered
jq_is ex_deliver '.servers[0].findings[] | select(.id == "open-relay") | .severity' critical

# 5. VRFY/EXPN allowed (acl_smtp_vrfy/acl_smtp_expn = accept): advertised,
#    and VRFY answers 250 for postmaster.
ex_start exvrfy 127.0.0.1 auto closed vrfy expn || exit 1
rp_check ex_vrfy --source 127.0.0.2 --only T02 "127.0.0.1:$(ex_port exvrfy)"
jq_is ex_vrfy '.servers[0].ehlo | (index("VRFY") != null and index("EXPN") != null)' true
jq_is ex_vrfy '.servers[0].audit.vrfy_postmaster' '250 <postmaster@relaytarget.test> is deliverable'
jq_is ex_vrfy '[.servers[0].findings[].id] | index("vrfy-enabled") != null' true

# --- OpenSMTPD ----------------------------------------------------------------

# 6. OpenSMTPD closed ("match from local for any action relay"), local
#    domains accepting any local part. It refuses every external recipient
#    with "550 Invalid recipient", but accepts the routing forms it takes as
#    local (it implements neither the %-hack nor bang paths, and qualifies
#    "<a!b>" and "<a%b@>" with its own name): T12, T20, T22, T23b. The
#    random-local control shows the domain is a catch-all, so relayprobe
#    cannot tell these from relaying: suspect (never conclusive, never open).
os_start osclosed 127.0.0.1 auto closed || exit 1
rp_check os_closed --source 127.0.0.2 "127.0.0.1:$(os_port osclosed)"
jq_is os_closed '.verdict | IN("closed", "suspect")' true
jq_is os_closed '[.servers[0].tests[] | select(.conclusive)] | length' 0
jq_is os_closed '[.servers[0].tests[] | select(.result == "accepted") | .id] - ["T12", "T20", "T22", "T23b"]' '[]'
jq_is os_closed '.servers[0].tests[] | select(.id == "T02") | [.result, .reply.code, .reply.text] | join(" ")' \
  'rejected 550 Invalid recipient: <relaytest@gmail.com>'
jq_is os_closed '.servers[0].controls[] | select(.id == "impossible") | .result' rejected
jq_is os_closed '.servers[0].controls[] | select(.id == "random-local") | .result' accepted
jq_is os_closed '.servers[0].software.id' opensmtpd
jq_is os_closed '.servers[0].banner' 'mx.relaytarget.test ESMTP OpenSMTPD'
jq_is os_closed '.servers[0].audit.vrfy_postmaster' '500 5.5.1 Invalid command: Command unrecognized'
jq_is os_closed '[.servers[0].transcript[] | select(.dir == "C" and (.line | test("^DATA"; "i")))] | length' 0

# 7. Delivery proof settles it: the same server with its sink at
#    relayprobe's receiver delivers none of the accepted forms -- closed.
RPORT=$(os_free_port)
OS_SINK=$RPORT os_start osconfirm 127.0.0.1 auto closed || exit 1
rp_check os_confirm --confirm --confirm-domain confirm.test --receiver "127.0.0.1:$RPORT" \
  --confirm-wait 5 --source 127.0.0.2 "127.0.0.1:$(os_port osconfirm)"
rc_is 0
jq_is os_confirm .verdict closed
jq_is os_confirm '[.servers[0].tests[] | select(.delivery == "delivered")] | length' 0

# 8. OpenSMTPD closed with only postmaster at the local domains: closed.
os_start osstrict 127.0.0.1 auto closed strict || exit 1
rp_check os_strict --source 127.0.0.2 "127.0.0.1:$(os_port osstrict)"
rc_is 0
jq_is os_strict .verdict closed
jq_is os_strict '.servers[0].controls[] | select(.id == "random-local") | .reply.code' 524

# 9. OpenSMTPD open ("match from any for any action relay"): accepts the
#    impossible recipient -- suspect; with delivery proof -- open.
RPORT=$(os_free_port)
OS_SINK=$RPORT os_start osopen 127.0.0.1 auto open || exit 1
rp_check os_open --source 127.0.0.2 "127.0.0.1:$(os_port osopen)"
rc_is 1
jq_is os_open .verdict suspect
jq_is os_open '.servers[0].controls[] | select(.id == "impossible") | .result' accepted
jq_is os_open '.servers[0].tests[] | select(.id == "T02") | [.result, .conclusive] | join(" ")' 'accepted false'
rp_check os_open_confirm --confirm --confirm-domain confirm.test --receiver "127.0.0.1:$RPORT" \
  --confirm-wait 5 --source 127.0.0.2 "127.0.0.1:$(os_port osopen)"
rc_is 2
jq_is os_open_confirm .verdict open
jq_is os_open_confirm '.servers[0].tests[] | select(.id == "T02") | .delivery' delivered

# 10. OpenSMTPD that relays when MAIL FROM claims the local domain: T04
#     accepted while the impossible recipient is refused -- open.
os_start ossender 127.0.0.1 auto closed \
  'match from any mail-from "@relaytarget.test" for any action "relay"' || exit 1
rp_check os_sender --source 127.0.0.2 "127.0.0.1:$(os_port ossender)"
rc_is 2
jq_is os_sender .verdict open
jq_is os_sender '.servers[0].tests[] | select(.id == "T04") | [.result, .conclusive] | join(" ")' 'accepted true'
jq_is os_sender '.servers[0].tests[] | select(.id == "T02") | .result' rejected

# --- Stopping leaves nothing behind ------------------------------------------

# Each daemon is PID 1 of its own PID namespace; after stopping, neither it
# nor anything else in those namespaces may be alive (zombies count as gone).
pids=() nss=()
for n in exclosed exlit exopen exdeliver exvrfy; do
  pids+=("$(ex_pid "$n")"); nss+=("$(cat "$(ex_dir "$n")/pidns")")
done
for n in osclosed osconfirm osstrict osopen ossender; do
  pids+=("$(os_pid "$n")"); nss+=("$(cat "$(os_dir "$n")/pidns")")
done
ok "ex_stop_all" ex_stop_all
ok "os_stop_all" os_stop_all
left=
for p in "${pids[@]}"; do _ex_alive "$p" && left+=" $p"; done
for ns in "${nss[@]}"; do
  while IFS= read -r c; do
    p=${c#/proc/}; p=${p%/ns/pid}
    _ex_alive "$p" && left+=" $p($ns)"
  done < <(find /proc/[0-9]*/ns/pid -maxdepth 0 -lname "$ns" 2>/dev/null)
done
if [ -z "$left" ]; then _pass "no process of the daemons left"; else _fail "no process of the daemons left" "alive:$left"; fi

finish
