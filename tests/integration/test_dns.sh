#!/usr/bin/env bash
# DNS against real servers: NSD (authoritative test zones), rbldnsd (test
# blocklists) and unbound (the resolver relayprobe is pointed at), all on
# loopback (tests/integration/dns.sh); Postfix instances stand behind the
# test domain's MX hosts for `check DOMAIN` end to end.
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/integration/dns.sh"
trap 'dns_stop; _rp_cleanup' EXIT
dns_start || exit 1
R=$DNS_RESOLVER
Z=$SRCDIR/tests/integration/dns/test-zones.conf

mx() { # NAME DOMAIN...: relayprobe mx --json into NAME.json
  local name=$1; shift
  "$RELAYPROBE" mx --json --resolver "$R" "$@" >"$RP_OUT/$name.json" 2>"$RP_OUT/$name.err"
  RP_RC=$?
}

# --- MX discovery (RFC 5321 §5.1, RFC 7505) ---
mx mx relaytarget.test
rc_is 0
jq_is mx '.mx[0].status' mx
jq_is mx '[.mx[0].hosts[].preference] | map(tostring) | join(",")' '10,10,20'
jq_is mx '[.mx[0].hosts[] | select(.preference == 10) | .host] | sort | join(",")' 'mx1.relaytarget.test,mx2.relaytarget.test'
jq_is mx '.mx[0].hosts[] | select(.host == "mx2.relaytarget.test") | .addresses | sort | join(",")' '127.0.0.12,::1'
mx implicit implicit.test
jq_is implicit '.mx[0].status + " " + .mx[0].hosts[0].host + " " + .mx[0].hosts[0].addresses[0]' 'implicit implicit.test 127.0.0.13'
mx null nullmx.test
rc_is 0
jq_is null '.mx[0].status' null
jq_is null '.mx[0].hosts | length' 0
mx cname cnamemx.test
jq_is cname '.mx[0].hosts[0] | [.cname, .canonical, .addresses[0]] | map(tostring) | join(" ")' 'true real.cnamemx.test 127.0.0.14'
mx ipmx ipmx.test
rc_is 3
jq_is ipmx '.mx[0].status + " " + (.mx[0].hosts[0].ip_literal | tostring)' 'unusable true'
mx unusable unusable.test
rc_is 3
jq_is unusable '.mx[0].status' unusable
jq_is unusable '.mx[0].error | test("no fallback")' true
mx nx nope.relaytarget.test
rc_is 3
jq_is nx '.mx[0].status' nxdomain
mx refused refused.test
jq_is refused '.mx[0].status' servfail
mx lame lame.test
rc_is 3
jq_is lame '.mx[0].status | test("timeout|servfail")' true

# --- A burst of 5000 domains (15000 queries) loses nothing ---
names=()
for i in $(seq 0 4999); do names+=("h$i.burst.test"); done
mx burst "${names[@]}"
rc_is 0
jq_is burst '.mx | length' 5000
jq_is burst '[.mx[] | select(.status == "implicit" and (.hosts[0].addresses | length) == 1)] | length' 5000
jq_is burst '.mx[4999].hosts[0].addresses[0]' 127.0.20.250

# --- Blocklists, read correctly ---
"$RELAYPROBE" blocklist --json --zones "$Z" --resolver "$R" 127.0.0.12 127.0.0.11 ::1 listed.example.test \
  >"$RP_OUT/bl.json" 2>"$RP_OUT/bl.err"
RP_RC=$?
rc_is 2
jq_is bl '.subjects[0].blocklists[] | select(.zone == "bl.test") | [.status, .codes[0].code, .codes[0].meaning, .txt] | join("|")' \
  'listed|127.0.0.3|listed for relaying|listed for relaying, see https://bl.test/127.0.0.12'
jq_is bl '.subjects[1].blocklists[] | select(.zone == "bl.test") | .status' not-listed
jq_is bl '.subjects[0].blocklists[] | select(.zone == "errors.test") | .status' unusable
jq_is bl '.subjects[0].blocklists[] | select(.zone == "errors.test") | .reason | test("127.255.255.254")' true
jq_is bl '.subjects[0].blocklists[] | select(.zone == "world.test") | [.status, (.reason | test("never be listed"))] | map(tostring) | join(" ")' 'unusable true'
jq_is bl '.subjects[0].blocklists[] | select(.zone == "broken.test") | [.status, (.reason | test("not listed"))] | map(tostring) | join(" ")' 'unusable true'
jq_is bl '[.subjects[].blocklists[], .subjects[].addresses[].blocklists[] | select(.status == "listed") | .zone] | unique | join(",")' 'bl.test,bl6.test,dbl.test'
jq_is bl '.subjects[2].blocklists[] | select(.zone == "bl6.test") | .status' listed
jq_is bl '[.subjects[2].blocklists[].zone] | index("bl.test")' null
jq_is bl '.subjects[3].blocklists[] | select(.zone == "dbl.test") | .status' listed
# The error-code zone never yields "listed", whatever it answers.
jq_is bl '[.. | objects | select(.zone == "errors.test") | .status] | index("listed")' null

# --- check DOMAIN end to end: every MX address tested once ---
pf_start mxa 127.0.0.11 auto 'myhostname = mx1.relaytarget.test' 'mynetworks = 127.0.0.99/32' || exit 1
P=$(pf_port mxa)
pf_start mxb 127.0.0.12 "$P" \
  'smtpd_relay_restrictions = check_sender_access inline:{relaytarget.test=OK}, reject_unauth_destination' || exit 1
pf_start mxc ::1 "$P" 'inet_protocols = all' 'mynetworks = 127.0.0.1/32' 'myhostname = mx2.relaytarget.test' || exit 1
rp_check dom -p "$P" --resolver "$R" --zones "$Z" --dns-private relaytarget.test
rc_is 2
jq_is dom .verdict open
jq_is dom '[.servers[].address] | sort | join(",")' '127.0.0.11,127.0.0.12,::1'
jq_is dom '.servers[] | select(.address == "127.0.0.11") | .mx_names | sort | join(",")' 'mx1.relaytarget.test,mx3.relaytarget.test'
jq_is dom '.servers[] | select(.address == "127.0.0.11") | .verdict' closed
jq_is dom '.servers[] | select(.address == "127.0.0.12") | .verdict' open
jq_is dom '.servers[] | select(.address == "127.0.0.12") | .target_domain + " " + .target_domain_source' 'relaytarget.test option'
jq_is dom '.servers[] | select(.address == "127.0.0.11") | [.ptr[0], (.fcrdns | tostring), (.banner_matches_ptr | tostring)] | join(" ")' 'mx1.relaytarget.test true true'
jq_is dom '.servers[] | select(.address == "127.0.0.12") | .banner_matches_ptr' false
jq_is dom '[.servers[] | select(.address == "127.0.0.12") | .findings[].id] | (index("blocklisted") != null and index("banner-ptr-mismatch") != null)' true
# Zones that fail their self-test or answer error codes become findings
# too: ignored, never read as a listing.
jq_is dom '[.servers[] | select(.address == "127.0.0.12") | .findings[] | select(.id == "blocklist-unusable") | .evidence | test("errors.test|world.test|broken.test")] | (length > 0 and all)' true
jq_is dom '.servers[] | select(.address == "127.0.0.12") | .reputation.score < 100' true
jq_is dom '.servers[] | select(.address == "127.0.0.12") | [.reputation.deductions[].reason] | map(select(test("bl.test"))) | length' 1
jq_is dom '.servers[] | select(.address == "127.0.0.11") | .reputation.score' 100
jq_is dom '.servers[] | select(.address == "::1") | [.ptr[0], (.fcrdns | tostring)] | join(" ")' 'mx2.relaytarget.test true'
jq_is dom '.mx.hosts | length' 3

# No reverse DNS: 127.0.0.15 has no PTR (NXDOMAIN in the test zone), a
# real Postfix listens there: the no-ptr finding; 127.0.0.11 has one: none.
pf_start noptr 127.0.0.15 "$P" 'mynetworks = 127.0.0.99/32' || exit 1
rp_check noptr -p "$P" --resolver "$R" --dns-private --no-blocklists --only T02 127.0.0.15
jq_is noptr '.servers[0] | [.dns_checked, (.ptr | length), .ptr_status] | map(tostring) | join(" ")' 'true 0 nxdomain'
jq_is noptr '.servers[0].findings[] | select(.id == "no-ptr") | [.severity, .title, .evidence] | join("|")' \
  'warning|No reverse DNS|127.0.0.15 has no reverse DNS (PTR nxdomain): receivers distrust mail from it'
jq_is noptr '[.servers[0].findings[].id] | index("fcrdns-failed")' null
jq_is dom '[.servers[] | select(.address == "127.0.0.11") | .findings[].id] | index("no-ptr")' null
# A working list (bl.test passes its self-test) that has no usable answer for
# this one address (an error code, 127.255.255.254, for 127.0.0.15 only):
# unknown, the blocklist-unknown finding with the list's reason, never
# "listed" and never "not listed"; reputation says it could not tell.
rp_check unknownbl -p "$P" --resolver "$R" --zones "$Z" --dns-private --only T02 127.0.0.15
jq_is unknownbl '.servers[0].blocklists[] | select(.zone == "bl.test") | [.status, (.reason | test("127.255.255.254"))] | map(tostring) | join(" ")' 'unknown true'
jq_is unknownbl '[.servers[0].findings[] | select(.id == "blocklist-unknown") | .evidence | test("bl.test")] | (length == 1 and all)' true
jq_is unknownbl '[.servers[0].findings[].id] | (index("blocklisted") == null)' true
# A blocklist whose server never answers (lame.test) fails its own
# self-test: unusable, a finding of its own, never a listing and never
# "not listed".
printf '[lame.test]\nkind = ip\nweight = 10\ncode 127.0.0.2 = listed\n' >"$RP_OUT/lame-zones.conf"
rp_check lamebl -p "$P" --resolver "$R" --zones "$RP_OUT/lame-zones.conf" --dns-private --only T02 127.0.0.11
jq_is lamebl '[.servers[0].findings[].id] | map(select(startswith("blocklist"))) | join(",")' blocklist-unusable
jq_is lamebl '.servers[0].blocklists[0] | [.status, (.reason | test("self-test"))] | map(tostring) | join(" ")' 'unusable true'

# Without --dns-private, loopback addresses get no DNS lookups (and say so).
rp_check dom_nodns -p "$P" --resolver "$R" --zones "$Z" --only T02 relaytarget.test
jq_is dom_nodns '[.servers[].dns_checked] | any' false
jq_is dom_nodns '.servers[0].dns_skip_reason | test("dns-private")' true

# Null MX: reported, nothing tested, not an error. Bad MX: unreachable.
rp_check dom_null -p "$P" --resolver "$R" nullmx.test
rc_is 0
jq_is dom_null '[.null_mx, (.servers | length)] | map(tostring) | join(" ")' 'true 0'
rp_check dom_nx -p "$P" --resolver "$R" nope.relaytarget.test
rc_is 3
jq_is dom_nx '.verdict + " " + (.error | test("NXDOMAIN") | tostring)' 'unreachable true'
rp_check dom_ipmx -p "$P" --resolver "$R" ipmx.test
rc_is 3

# Implicit MX: the domain's own address is tested.
pf_start imp 127.0.0.13 "$P" 'mynetworks = 127.0.0.99/32' || exit 1
rp_check dom_imp -p "$P" --resolver "$R" --no-dns-checks implicit.test
jq_is dom_imp '.servers[0].address + " " + .verdict' '127.0.0.13 closed'

finish
