#!/usr/bin/env bash
# Benchmark: relayprobe against nmap's smtp-open-relay script and swaks, run
# side by side on the same real Postfix configurations, each with a known
# truth. Prints, per configuration, each tool's answer and time, then the
# score and the time ratios. Loopback only: the Postfix instances listen on
# 127.0.0.1 and relay (when they do) to relayprobe's receiver on 127.0.0.1.
#
#   bench/relay_vs_peers.sh [ROUNDS]      (default 3; times are medians)
#
# Needs root (Postfix); installs nmap and swaks from Debian if missing.
set -uo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
scripts/deps.sh >/dev/null
for p in nmap swaks; do
  command -v $p >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $p >/dev/null
done
scripts/build.sh build >/dev/null
RP=$PWD/build/relayprobe
SRCDIR=$PWD
. tests/integration/postfix.sh
trap pf_cleanup EXIT

RCV=$(pf_free_port)
# Every instance: no trusted client on loopback except 127.0.0.99, relayed
# mail goes to relayprobe's receiver (so relaying can be proven).
base=('mynetworks = 127.0.0.99/32' "relayhost = [127.0.0.1]:$RCV"
      'default_transport = smtp' 'relay_transport = smtp')
# Each configuration on its own loopback address, port 587: nmap's script
# only runs on 25/465/587 (its portrule), so that is where users point it.
declare -A truth desc addr
next=21
start() { # NAME TRUTH DESCRIPTION pf-args...
  local n=$1; truth[$n]=$2; desc[$n]=$3; shift 3
  addr[$n]=127.0.0.$next; next=$((next + 1))
  pf_start "$n" "${addr[$n]}" 587 "${base[@]}" "$@" >/dev/null || exit 1
}
start closed  closed "reject_unauth_destination"
start wide    open   "trusted network too wide (mynetworks 127.0.0.0/8)" 'mynetworks = 127.0.0.0/8'
start catch   closed "catch-all: accepts everything, delivers locally" \
  'smtpd_relay_restrictions = check_recipient_access static:OK, reject_unauth_destination' \
  'virtual_alias_maps = static:catchall@relaytarget.test'
start sender  open   "relays when MAIL FROM claims the local domain" \
  'smtpd_relay_restrictions = check_sender_access inline:{relaytarget.test=OK}, reject_unauth_destination'
start helo    open   "relays when HELO claims the server's name" \
  'smtpd_relay_restrictions = check_helo_access inline:{mx.relaytarget.test=OK}, reject_unauth_destination'
start tlsonly open   "STARTTLS mandatory, relays for the local-domain sender" TLS \
  'smtpd_tls_security_level = encrypt' \
  'smtpd_relay_restrictions = check_sender_access inline:{relaytarget.test=OK}, reject_unauth_destination'

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run_relayprobe() { # ADDR -> "open"/"closed"/...
  "$RP" check --json --no-audit --no-dns-checks --confirm --confirm-domain confirm.test \
    --receiver "127.0.0.1:$RCV" --confirm-wait 5 "$1:587" 2>/dev/null | jq -r .verdict
}
run_nmap() {
  local out
  out=$(nmap -Pn -n -sT -p 587 --script smtp-open-relay \
        --script-args smtp-open-relay.domain=gmail.com "$1" 2>/dev/null)
  if grep -q "Server is an open relay" <<<"$out"; then echo open; else echo closed; fi
}
run_swaks() {
  if swaks --server "$1:587" --from relayprobe@gmail.com --to relaytest@gmail.com \
      --quit-after RCPT --timeout 30 >/dev/null 2>&1; then echo open; else echo closed; fi
}

declare -A score time closed_t
printf '%-9s %-6s | %-24s | %-24s | %-24s\n' config truth relayprobe nmap swaks
for n in closed wide catch sender helo tlsonly; do
  port=${addr[$n]}
  line=$(printf '%-9s %-6s' "$n" "${truth[$n]}")
  for tool in relayprobe nmap swaks; do
    ts=() ; ans=
    for ((r = 0; r < ROUNDS; r++)); do
      t0=$(now); ans=$(run_$tool "$port"); t1=$(now)
      ts+=("$(echo "$t1 - $t0" | bc)")
    done
    t=$(printf '%s\n' "${ts[@]}" | median)
    # relayprobe's "suspect" is not a claim of relaying; with --confirm it
    # resolves to open or closed.
    right=no; [ "$ans" = "${truth[$n]}" ] && right=yes
    [ $right = yes ] && score[$tool]=$(( ${score[$tool]:-0} + 1 ))
    time[$tool]=$(echo "${time[$tool]:-0} + $t" | bc)
    [ "$n" = closed ] && closed_t[$tool]=$t
    line+=$(printf ' | %-7s %-3s %8.2f s' "$ans" "$right" "$t")
  done
  echo "$line   (${desc[$n]})"
done
echo
for tool in relayprobe nmap swaks; do
  printf '%-10s right %d/6, total %.2f s\n' "$tool" "${score[$tool]:-0}" "${time[$tool]}"
done
printf 'time ratio nmap/relayprobe %.1fx, swaks/relayprobe %.1fx\n' \
  "$(echo "${time[nmap]} / ${time[relayprobe]}" | bc -l)" \
  "$(echo "${time[swaks]} / ${time[relayprobe]}" | bc -l)"
printf 'closed Postfix: relayprobe %.2f s, nmap %.2f s (%.0fx), swaks %.2f s\n' \
  "${closed_t[relayprobe]}" "${closed_t[nmap]}" \
  "$(echo "${closed_t[nmap]} / ${closed_t[relayprobe]}" | bc -l)" "${closed_t[swaks]}"
echo "(relayprobe: 24 techniques + 4 controls, with delivery proof (--confirm,"
echo " waiting up to 5 s for probes that a relay accepted); swaks: one recipient.)"
