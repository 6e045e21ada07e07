#!/usr/bin/env bash
# relayprobe scan over mail domains that share MX hosts, through the test
# DNS (tests/integration/dns.sh: NSD, rbldnsd, unbound on loopback) with real
# Postfix instances behind the MX addresses: each address and port is tested
# once and its result reused by every domain that points at it; DNS
# failures and null MX get their status; exclusions apply to resolved
# addresses.
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/integration/dns.sh"
trap 'dns_stop; _rp_cleanup' EXIT
dns_start || exit 1
R=$DNS_RESOLVER

is() { if [ "$2" = "$3" ]; then _pass "$1 ($3)"; else _fail "$1" "got '$2', want '$3'"; fi; }

# relaytarget.test: MX mx1 (127.0.0.11), mx2 (127.0.0.12 and ::1), mx3
# (127.0.0.11 again); mx1.relaytarget.test and mail.relaytarget.test have
# no MX of their own and the A record 127.0.0.11.
pf_start mxa 127.0.0.11 auto 'myhostname = mx1.relaytarget.test' 'mynetworks = 127.0.0.99/32' || exit 1
P=$(pf_port mxa)
pf_start mxb 127.0.0.12 "$P" 'mynetworks = 127.0.0.99/32' || exit 1
pf_start mxc ::1 "$P" 'inet_protocols = all' 'mynetworks = 127.0.0.99/32' 'myhostname = mx2.relaytarget.test' || exit 1

cat >"$RP_OUT/domains.txt" <<EOT
relaytarget.test
mx1.relaytarget.test
mail.relaytarget.test
nullmx.test
unusable.test
nosuchhost.relaytarget.test
implicit.test
cnamemx.test
EOT
printf '127.0.0.14\n' >"$RP_OUT/exclude.txt"
conns() { pf_log mxa | grep -c 'smtpd\[[0-9]*\]: connect from'; }
before=$(conns) # pf_start's own greeting check
"$RELAYPROBE" scan --no-progress -p "$P" --resolver "$R" --checks relay --rate 0 \
  --exclude "$RP_OUT/exclude.txt" -o "$RP_OUT/d.jsonl" "$RP_OUT/domains.txt" 2>"$RP_OUT/d.err"
echo "# scan -> exit $?, $(wc -l <"$RP_OUT/d.jsonl") lines"
st() { jq -r --arg t "$1" 'select(.target == $t) | .status' "$RP_OUT/d.jsonl"; }

ok "every line a JSON object" jq -e -s 'length == 8 and all(.[]; has("status"))' "$RP_OUT/d.jsonl"
is "relaytarget.test: its three addresses" \
  "$(jq -r 'select(.target == "relaytarget.test") | [.servers[].address] | sort | join(",")' "$RP_OUT/d.jsonl")" "127.0.0.11,127.0.0.12,::1"
is "relaytarget.test: success, closed" "$(jq -r 'select(.target == "relaytarget.test") | .status + " " + .verdict' "$RP_OUT/d.jsonl")" "success closed"
# 127.0.0.11 is behind three targets: tested by one, reused by two.
is "127.0.0.11 tested once" \
  "$(jq -r '.servers[]? | select(.address == "127.0.0.11") | .reused_from // "tested"' "$RP_OUT/d.jsonl" | grep -c '^tested$')" 1
owner=$(jq -r 'select(any(.servers[]?; .address == "127.0.0.11" and (.reused_from | not))) | .target' "$RP_OUT/d.jsonl")
is "the other two name the target that tested it" \
  "$(jq -r '.servers[]? | select(.address == "127.0.0.11" and .reused_from) | .reused_from' "$RP_OUT/d.jsonl" | sort -u)" "$owner"
is "a reused server keeps its own host name" \
  "$(jq -r 'select(.target == "mail.relaytarget.test") | .servers[0].host' "$RP_OUT/d.jsonl")" "mail.relaytarget.test"
is "every target behind 127.0.0.11 has its verdict" \
  "$(jq -r 'select(.target | test("^(mx1|mail)\\.relaytarget\\.test$")) | .status + " " + .verdict' "$RP_OUT/d.jsonl" | sort -u)" "success closed"
sessions=$(jq -r '.servers[]? | select(.address == "127.0.0.11" and (.reused_from | not)) | .sessions' "$RP_OUT/d.jsonl")
is "Postfix on 127.0.0.11 saw one check's sessions" "$(( $(conns) - before ))" "$sessions"
is "null MX: success" "$(st nullmx.test)" success
is "unusable MX: dns-error" "$(st unusable.test)" dns-error
is "NXDOMAIN: dns-error" "$(st nosuchhost.relaytarget.test)" dns-error
is "implicit MX with nothing listening: connection-refused" "$(st implicit.test)" connection-refused
is "a domain whose only address is excluded: excluded" "$(st cnamemx.test)" excluded
is "its server says why" "$(jq -r 'select(.target == "cnamemx.test") | .servers[0].error' "$RP_OUT/d.jsonl")" "refused: excluded (--exclude)"

finish
