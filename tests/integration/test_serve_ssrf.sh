#!/usr/bin/env bash
# relayprobe serve as a public web tool must not be an SSRF hole. Runs in
# a network namespace of its own with only loopback (unshare -n), so a
# guard that failed could never send a packet to a private or public
# address. Without --allow-private:
#  - every address class (loopback, private, link-local, CGNAT, multicast,
#    reserved, broadcast, "this network", documentation, benchmarking,
#    cloud metadata), IPv4-mapped, NAT64, 6to4 and Teredo forms, and the
#    decimal/octal/hex/short spellings of IPv4, typed as a target: 422;
#  - names resolving to each of them (the DNS lab, tests/integration/dns.sh,
#    zone ssrf.test; ns.relaytarget.test is 127.0.0.1): the check runs and
#    every address is refused at connect time ("refused: ..."), and the
#    listeners on those loopback addresses see no connection;
#  - ports other than 25, 465, 587: 422.
# A control with --allow-private shows the listeners do notice connections.
if [ -z "${RP_IN_NETNS:-}" ]; then
  if ! unshare -n true 2>/dev/null; then
    echo "not ok - unshare -n is not possible here (needs root)"; echo "0 passed, 1 failed"; exit 1
  fi
  exec env RP_IN_NETNS=1 unshare -n -- bash "$0" "$@"
fi
ip link set lo up || { echo "not ok - lo up"; exit 1; }
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/dns.sh"
trap 'kill "${LPID:-}" 2>/dev/null; for n in "${!SV_PID[@]}"; do kill -9 "${SV_PID[$n]}" 2>/dev/null; done; dns_stop; _rp_cleanup' EXIT

ok "namespace has only loopback" test "$(ip -o link | grep -cv ': lo:')" = 0
dns_start || { echo "not ok - DNS lab"; finish; exit 1; }

# Listeners on every loopback address a name below resolves to; each
# accepted connection is a line in $RP_OUT/conn.log.
python3 - "$RP_OUT/conn.log" >"$RP_OUT/listen.out" 2>&1 <<'PY' &
import socket, sys, threading, time
log = open(sys.argv[1], "a", buffering=1)
addrs = [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET, "127.0.0.11"),
         (socket.AF_INET, "127.0.0.12"), (socket.AF_INET6, "::1")]
def serve(fam, a, p):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a, p)); s.listen(16)
    while True:
        c, peer = s.accept()
        log.write("%s:%d from %s\n" % (a, p, peer[0]))
        c.close()
for fam, a in addrs:
    for p in (25, 465, 587):
        threading.Thread(target=serve, args=(fam, a, p), daemon=True).start()
print("listening", flush=True)
time.sleep(280)  # never outlive a test run
PY
LPID=$!
for _ in $(seq 50); do grep -q listening "$RP_OUT/listen.out" && break; sleep 0.1; done
: >>"$RP_OUT/conn.log"

sv_start pub --resolver "$DNS_RESOLVER" --rate 1000 --max-checks 16 --queue 200 \
  --connect-timeout 2 --greeting-timeout 2 || exit 1

refused() {  # target, class word expected in the message
  sv_post pub "$1"
  if [ "$SV_CODE" = 422 ] && grep -q -- "$2" <<<"$SV_BODY"; then
    echo "ok - refused: $1 ($2)"; RP_PASS=$((RP_PASS + 1))
  else
    _fail "refused: $1 ($2)" "HTTP $SV_CODE $SV_BODY"
  fi
}
# Address literals, by class.
refused 127.0.0.1 loopback;           refused 127.0.0.1:25 loopback
refused 127.255.255.254 loopback;     refused 10.0.0.1 private
refused 172.16.0.1 private;           refused 192.168.1.1:587 private
refused 169.254.1.1 link-local;       refused 169.254.169.254 cloud-metadata
refused 100.64.0.1 cgnat;             refused 100.100.100.200 cloud-metadata
refused 224.0.0.1 multicast;          refused 240.0.0.1 reserved
refused 255.255.255.255 broadcast;    refused 0.0.0.0 this-network
refused 192.0.2.1 documentation;      refused 198.51.100.1 documentation
refused 203.0.113.1 documentation;    refused 198.18.0.1 benchmarking
refused 192.0.0.1 reserved
refused ::1 loopback;                 refused '[::1]:465' loopback
refused :: this-network;              refused fe80::1 link-local
refused fc00::1 private;              refused fd00:ec2::254 cloud-metadata
refused ff02::1 multicast;            refused 2001:db8::1 documentation
refused ::ffff:127.0.0.1 loopback;    refused '[::ffff:169.254.169.254]:25' cloud-metadata
refused ::ffff:10.0.0.1 private;      refused ::ffff:7f00:1 loopback
refused 64:ff9b::127.0.0.1 loopback;  refused 64:ff9b::a9fe:a9fe cloud-metadata
refused 64:ff9b:1::1 private;         refused 2002:7f00:1::1 loopback
refused 2001:0:808:808::80ff:fffe loopback
refused 'fe80::1%lo' link-local
# Other spellings of IPv4 (inet_aton reads them all as addresses).
refused 2130706433 127.0.0.1;         refused 2130706433:25 127.0.0.1
refused 0177.0.0.1 127.0.0.1;         refused 0x7f.1 127.0.0.1
refused 0x7f000001 127.0.0.1;         refused 0X7F.0.0.1 127.0.0.1
refused 127.1 127.0.0.1;              refused 017700000001 127.0.0.1
refused 2852039166 169.254.169.254;   refused 0xa9.0xfe.0xa9.0xfe 169.254.169.254
refused 0251.0376.0251.0376 169.254.169.254
refused 167772161 10.0.0.1;           refused 1.2.3.4.5 spelling
# This machine by name, and ports.
refused localhost 'this machine';     refused localhost:25 'this machine'
refused x.localhost 'this machine'
refused ns.relaytarget.test:22 'port 22'
refused ssrf.test:8025 'port 8025'
refused 8.8.8.8:80 'port 80'

# Names: accepted as requests, every resolved address refused at connect.
names=(ns.relaytarget.test loop.ssrf.test loop2.ssrf.test mail.relaytarget.test
       relaytarget.test private.ssrf.test private172.ssrf.test private192.ssrf.test
       linklocal.ssrf.test metadata.ssrf.test cgnat.ssrf.test multicast.ssrf.test
       reserved.ssrf.test broadcast.ssrf.test thisnet.ssrf.test doc.ssrf.test
       bench.ssrf.test v6loop.ssrf.test mapped.ssrf.test mappedmeta.ssrf.test
       nat64.ssrf.test nat64local.ssrf.test ula.ssrf.test awsv6.ssrf.test
       v6ll.ssrf.test sixtofour.ssrf.test teredo.ssrf.test mixed.ssrf.test
       ssrf.test ns.relaytarget.test:587 mixed.ssrf.test:465)
declare -A NID
for n in "${names[@]}"; do
  sv_post pub "$n"
  [ "$SV_CODE" = 202 ] && NID[$n]=$(jq -r .id <<<"$SV_BODY") || _fail "name accepted: $n" "HTTP $SV_CODE $SV_BODY"
done
total_servers=0
for n in "${names[@]}"; do
  id=${NID[$n]:-}; [ -n "$id" ] || continue
  sv_wait pub "$id" 60 || { _fail "$n finished"; continue; }
  f=$RP_OUT/$id.json
  ns=$(jq '.result.servers | length' "$f")
  nref=$(jq '[.result.servers[] | select(.error != null and (.error | startswith("refused: ")))] | length' "$f")
  total_servers=$((total_servers + ns))
  if [ "$ns" -ge 1 ] && [ "$ns" = "$nref" ] && [ "$(jq -r .verdict "$f")" = unreachable ]; then
    echo "ok - $n: $(jq -r '[.result.servers[].error] | join("; ")' "$f")"; RP_PASS=$((RP_PASS + 1))
  else
    _fail "$n: every address refused" "$(jq -c '[.verdict, [.result.servers[] | [.address, .error]], .result.error]' "$f")"
  fi
done
jq_is "${NID[metadata.ssrf.test]}" '.result.servers[0].error' 'refused: 169.254.169.254 is a cloud-metadata address'
jq_is "${NID[nat64.ssrf.test]}" '.result.servers[0].error' 'refused: 64:ff9b::a9fe:a9fe is a cloud-metadata address'
jq_is "${NID[mapped.ssrf.test]}" '.result.servers[0].error' 'refused: ::ffff:127.0.0.1 is a loopback address'
jq_is "${NID[mixed.ssrf.test]}" '[.result.servers[].address] | sort | join(",")' '10.0.0.1,127.0.0.1,::1'
jq_is "${NID[ssrf.test]}" '[.result.servers[].address] | sort | join(",")' '127.0.0.1,169.254.169.254'
ok "not one connection reached a listener" test ! -s "$RP_OUT/conn.log"
m=$(curl -s "${SV_URL[pub]}/metrics" | awk '/^relayprobe_addresses_refused_total /{print $2}')
ok "metrics: $m addresses refused at connect time (>= $total_servers)" test "${m:-0}" -ge "$total_servers"
sv_stop pub

# Control: with --allow-private the same name does reach the listener, so
# the silence above means something.
sv_start priv --allow-private --resolver "$DNS_RESOLVER" --connect-timeout 2 --greeting-timeout 1 || exit 1
sv_post priv loop.ssrf.test
cid=$(jq -r .id <<<"$SV_BODY")
sv_wait priv "$cid" 60
ok "control: --allow-private connects (listener saw it)" grep -q '^127.0.0.1:25 ' "$RP_OUT/conn.log"
sv_stop priv
finish
