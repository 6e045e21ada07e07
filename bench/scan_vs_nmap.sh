#!/usr/bin/env bash
# Benchmark: relayprobe scan against nmap's smtp-open-relay script on the
# same fake SMTP farm (bench/smtpfarm: closed-Postfix answers, DELAY ms per
# reply as round-trip time), measured side by side in one run:
#   1. one server's full relay test: wall time of each tool (median of
#      ROUNDS) and the techniques each tried (RCPT commands the farm saw);
#   2. SERVERS servers: relayprobe's hosts/s over all of them, nmap's on a
#      sample (nmap at its best parallelism would take hours at this delay:
#      its rate is extrapolated, and said so);
#   3. memory per live session: (peak RSS - RSS of a one-server scan) /
#      most sessions the farm saw open at once;
#   4. the round-trip limit: the round trips relayprobe's dialogue needs
#      (per session: greeting, EHLO, the session's tests in one pipelined
#      MAIL/RCPT/RSET group, QUIT), x DELAY / -c, and relayprobe's distance
#      from it; and, for comparison, the limit of a client that waits for
#      each test (one round trip per test).
# Loopback only: the farm refuses addresses outside 127.0.0.0/8.
#
#   bench/scan_vs_nmap.sh [SERVERS] [DELAY_MS] [CONCURRENCY] [NMAP_SAMPLE] [ROUNDS]
#   (defaults 10000 50 1000 200 3)
#
# Needs root (the farm listens on port 587: nmap's script runs only on
# 25/465/587); installs nmap from Debian if missing. On a machine shared
# with other work, BENCH_NICE=-10 runs the farm, relayprobe and nmap alike
# at that priority, so the figures measure the tools, not the neighbours.
set -uo pipefail
cd "$(dirname "$0")/.."
SERVERS=${1:-10000} DELAY=${2:-50} CONC=${3:-1000} SAMPLE=${4:-200} ROUNDS=${5:-3}
scripts/deps.sh >/dev/null
command -v nmap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nmap >/dev/null
scripts/build.sh build >/dev/null || exit 1
NICE=${BENCH_NICE:-0}
RP=(nice -n "$NICE" "$PWD/build/relayprobe") FARM=$PWD/build/bench/smtpfarm
W=$(mktemp -d /tmp/relayprobe-bench.XXXXXX)
FIRST=127.9.0.1 PORT=587
FPID=
cleanup() { [ -n "$FPID" ] && kill "$FPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

nice -n "$NICE" "$FARM" --first $FIRST --count "$SERVERS" --port $PORT --delay-ms "$DELAY" \
  --stats "$W/stats.json" --ready "$W/ready" 2>"$W/farm.err" &
FPID=$!
for _ in $(seq 100); do [ -f "$W/ready" ] && break; sleep 0.1; done
[ -f "$W/ready" ] || { echo "the farm did not start: $(cat "$W/farm.err")"; exit 1; }
ulimit -n "$(ulimit -Hn)"

# The farm's addresses, in order.
python3 - "$FIRST" "$SERVERS" >"$W/addrs.txt" <<'PY'
import ipaddress, sys
a = ipaddress.ip_address(sys.argv[1])
for i in range(int(sys.argv[2])): print(a + i)
PY
sed "s/\$/:$PORT/" "$W/addrs.txt" >"$W/targets.txt"

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
stats() { # FILTER: the farm's counters now
  rm -f "$W/stats.json"; kill -USR1 "$FPID"
  for _ in $(seq 100); do [ -f "$W/stats.json" ] && break; sleep 0.05; done
  jq -r "$1" "$W/stats.json"
}
reset() { rm -f "$W/stats.json"; kill -USR2 "$FPID"; for _ in $(seq 100); do [ -f "$W/stats.json" ] && break; sleep 0.05; done; }
NMAP=(nice -n "$NICE" nmap -Pn -n -sT -p $PORT --script smtp-open-relay --script-args smtp-open-relay.domain=gmail.com)

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "farm: $SERVERS closed-Postfix servers on $FIRST.. port $PORT, ${DELAY} ms per reply; priority (nice) $NICE for every tool"
echo

# ---- 1. one server ---------------------------------------------------------
one=$(sed -n 1p "$W/addrs.txt")
declare -A T RC
for tool in relayprobe relayprobe6 nmap; do
  ts=()
  for ((r = 0; r < ROUNDS; r++)); do
    reset
    t0=$(now)
    case $tool in
      relayprobe)  "${RP[@]}" check --json --no-audit --no-dns-checks --source 127.0.0.2 "$one:$PORT" >"$W/one.json" ;;
      relayprobe6) "${RP[@]}" check --json --no-audit --no-dns-checks --sessions 6 --source 127.0.0.2 "$one:$PORT" >"$W/one6.json" ;;
      nmap)        "${NMAP[@]}" "$one" >"$W/one.nmap" 2>&1 ;;
    esac
    t1=$(now)
    ts+=("$(echo "$t1 - $t0" | bc)")
    RC[$tool]=$(stats .rcpt)
  done
  T[$tool]=$(printf '%s\n' "${ts[@]}" | median)
done
verdict_rp=$(jq -r .verdict "$W/one.json")
verdict_nmap=$(grep -q "Server is an open relay" "$W/one.nmap" && echo open || echo closed)
printf '1. One server, full relay test (median of %d):\n' "$ROUNDS"
printf '   relayprobe check             %6.2f s  %3d techniques+controls tried (RCPT at the server), verdict %s\n' "${T[relayprobe]}" "${RC[relayprobe]}" "$verdict_rp"
printf '   relayprobe check --sessions 6 %5.2f s  %3d tried\n' "${T[relayprobe6]}" "${RC[relayprobe6]}"
printf '   nmap smtp-open-relay         %6.2f s  %3d tried, verdict %s\n' "${T[nmap]}" "${RC[nmap]}" "$verdict_nmap"
printf '   wall-time ratio relayprobe/nmap: %.2f (default), %.2f (--sessions 6)\n\n' \
  "$(echo "${T[relayprobe]} / ${T[nmap]}" | bc -l)" "$(echo "${T[relayprobe6]} / ${T[nmap]}" | bc -l)"

# ---- 2. many servers: nmap on a sample -------------------------------------
head -n "$SAMPLE" "$W/addrs.txt" >"$W/sample.txt"
best_nmap=0 best_args=
for args in "" "-T5 --min-hostgroup $SAMPLE --min-parallelism $SAMPLE"; do
  reset
  t0=$(now)
  # shellcheck disable=SC2086
  "${NMAP[@]}" $args -iL "$W/sample.txt" >"$W/sample.nmap" 2>&1
  t1=$(now)
  done_n=$(grep -c "smtp-open-relay:" "$W/sample.nmap")
  hps=$(echo "$done_n / ($t1 - $t0)" | bc -l)
  printf '   nmap %-45s %d hosts in %6.1f s = %6.2f hosts/s (peak %d connections)\n' \
    "${args:-(defaults)}" "$done_n" "$(echo "$t1 - $t0" | bc)" "$hps" "$(stats .max_open)"
  if (( $(echo "$hps > $best_nmap" | bc) )); then best_nmap=$hps best_args=${args:-defaults}; fi
done >"$W/nmap.txt"

# ---- 2b. many servers: relayprobe on all of them ---------------------------
echo "$one:$PORT" >"$W/one.txt"
base_kb=$( { /usr/bin/time -f %M "${RP[@]}" scan --no-progress --checks relay --source 127.0.0.2 \
  -o /dev/null "$W/one.txt" >/dev/null; } 2>&1 | tail -1)
reset
t0=$(now)
/usr/bin/time -f '%M %U %S' -o "$W/rss" "${RP[@]}" scan --no-progress --checks relay --rate 0 -c "$CONC" \
  --source 127.0.0.2 -o "$W/scan.jsonl" "$W/targets.txt" 2>"$W/scan.err"
rc=$?
t1=$(now)
wall=$(echo "$t1 - $t0" | bc)
read -r peak_kb cpu_u cpu_s < <(tail -1 "$W/rss")
cpu=$(echo "$cpu_u + $cpu_s" | bc)
peak_sessions=$(stats .max_open)
lines=$(wc -l <"$W/scan.jsonl")
ok=$(jq -r 'select(.status == "success" and .verdict == "closed") | .target' "$W/scan.jsonl" | sort -u | wc -l)
hps=$(echo "$lines / $wall" | bc -l)
rts=$(jq -s '[.[] | .servers[0] | .sessions * 4] | add' "$W/scan.jsonl")
rts_serial=$(jq -s '[.[] | .servers[0] | .sessions * 3 + (.tests | length) + (.controls | length)] | add' "$W/scan.jsonl")
limit=$(echo "$rts * $DELAY / 1000 / $CONC" | bc -l)
limit_serial=$(echo "$rts_serial * $DELAY / 1000 / $CONC" | bc -l)

printf '2. %d servers at %d ms per reply:\n' "$SERVERS" "$DELAY"
printf '   relayprobe scan -c %d --rate 0 --checks relay: %d lines (%d closed, exit %d) in %.1f s = %.1f hosts/s\n' \
  "$CONC" "$lines" "$ok" "$rc" "$wall" "$hps"
printf '   relayprobe used %.1f CPU-seconds (%.1f ms per server, %.0f%% of one core over the run)\n' \
  "$cpu" "$(echo "$cpu * 1000 / $lines" | bc -l)" "$(echo "$cpu * 100 / $wall" | bc -l)"
cat "$W/nmap.txt"
printf '   nmap at its best (%s): %.2f hosts/s, measured on %d servers; %d servers would take %.0f min\n' \
  "$best_args" "$best_nmap" "$SAMPLE" "$SERVERS" "$(echo "$SERVERS / $best_nmap / 60" | bc -l)"
printf '   relayprobe / nmap hosts/s: %.1fx\n\n' "$(echo "$hps / $best_nmap" | bc -l)"

printf '3. Memory: peak RSS %d KiB, one-server scan %d KiB, peak %d sessions open at the farm\n' \
  "$peak_kb" "$base_kb" "$peak_sessions"
printf '   per live session: %.1f KiB\n\n' "$(echo "($peak_kb - $base_kb) / $peak_sessions" | bc -l)"

printf '4. Round-trip limit: %d round trips (4 per session: greeting, EHLO, one pipelined group of tests, QUIT) x %d ms / -c %d = %.1f s\n' \
  "$rts" "$DELAY" "$CONC" "$limit"
printf '   relayprobe took %.1f s: %.2fx the limit\n' "$wall" "$(echo "$wall / $limit" | bc -l)"
printf '   (a client waiting for each test - 3 per session + 1 per test, %d round trips - would need %.1f s at best)\n' \
  "$rts_serial" "$limit_serial"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
