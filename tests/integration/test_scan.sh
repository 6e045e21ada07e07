#!/usr/bin/env bash
# relayprobe scan against real Postfix instances and the fake SMTP farm
# (bench/smtpfarm, SMTPFARM): one valid JSON line per target with the right
# status, shared addresses tested once, resume, shards (a partition of the
# input), SIGINT leaving only complete lines, the per-address and total
# session caps counted at the server, exclusions honoured. Loopback only
# (and one private network namespace for a connect timeout).
. "$(dirname "$0")/lib.sh"

SMTPFARM=${SMTPFARM:-$SRCDIR/build/bench/smtpfarm}
FARM_PIDS=()
farm_stop() { local p; for p in "${FARM_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap 'farm_stop; _rp_cleanup' EXIT

# farm_start NAME FIRST COUNT DELAY_MS -> port in FARM_PORT_<NAME>
farm_start() {
  local name=$1 first=$2 count=$3 delay=$4 port i
  for i in 1 2 3 4 5; do
    port=$(pf_free_port)
    rm -f "$RP_OUT/$name.ready"
    "$SMTPFARM" --first "$first" --count "$count" --port "$port" --delay-ms "$delay" \
      --stats "$RP_OUT/$name.stats" --ready "$RP_OUT/$name.ready" 2>"$RP_OUT/$name.farm.err" &
    local pid=$!
    for _ in $(seq 50); do [ -f "$RP_OUT/$name.ready" ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if [ -f "$RP_OUT/$name.ready" ]; then
      FARM_PIDS+=("$pid"); eval "FARM_PID_$name=$pid FARM_PORT_$name=$port"; return 0
    fi
    wait "$pid" 2>/dev/null
  done
  echo "# farm $name did not start: $(cat "$RP_OUT/$name.farm.err")"; return 1
}
# farm_stats NAME FILTER [JQ ARGS...]: jq FILTER on the farm's counters now.
farm_stats() {
  local pid; eval "pid=\$FARM_PID_$1"
  rm -f "$RP_OUT/$1.stats"
  kill -USR1 "$pid"
  for _ in $(seq 50); do [ -f "$RP_OUT/$1.stats" ] && break; sleep 0.05; done
  jq -r "${@:3}" "$2" "$RP_OUT/$1.stats"
}
# scan NAME ARGS...: output in $RP_OUT/NAME.jsonl, exit code in RP_RC.
scan() {
  local name=$1; shift
  "$RELAYPROBE" scan --no-progress --source 127.0.0.2 "$@" -o "$RP_OUT/$name.jsonl" 2>"$RP_OUT/$name.err"
  RP_RC=$?
  echo "# relayprobe scan $* -> exit $RP_RC, $(wc -l <"$RP_OUT/$name.jsonl") lines"
}
is() { # DESCRIPTION GOT WANT
  if [ "$2" = "$3" ]; then _pass "$1 ($3)"; else _fail "$1" "got '$2', want '$3'"; fi
}
valid_jsonl() { # FILE: every line one JSON object, the file ends with a newline
  [ -s "$1" ] && [ "$(tail -c1 "$1" | od -An -c | tr -d ' ')" = '\n' ] &&
    jq -e -s 'all(.[]; type == "object" and has("target") and has("status") and has("verdict") and has("servers"))' "$1" >/dev/null
}
status_of() { jq -r --arg t "$2" 'select(.target == $t) | .status' "$RP_OUT/$1.jsonl"; }

# ---- 1. Real Postfix: statuses, verdicts, a shared address ----------------
pf_start closed 127.0.0.21 auto || exit 1
pf_start open 127.0.0.22 auto 'mynetworks = 127.0.0.0/8' || exit 1
C=127.0.0.21:$(pf_port closed) O=127.0.0.22:$(pf_port open)
python3 "$SRCDIR/tests/integration/blackhole.py" >"$RP_OUT/bh.port" & BH=$!
FARM_PIDS+=("$BH")
for _ in $(seq 50); do [ -s "$RP_OUT/bh.port" ] && break; sleep 0.1; done
echo "127.0.0.23" >"$RP_OUT/exclude.txt"
cat >"$RP_OUT/mixed.txt" <<EOT
# customers
$C
$O
127.0.0.1:$(pf_free_port)
127.0.0.1:$(cat "$RP_OUT/bh.port")
not a target!
nosuchdomain.test
127.0.0.23:25
$C
EOT
scan mixed --greeting-timeout 1 --resolver "127.0.0.1:$(pf_free_port)" \
  --exclude "$RP_OUT/exclude.txt" "$RP_OUT/mixed.txt"
# Without delivery proof (scan never sends DATA) an accepting server is
# "suspect": the exit code is 1.
is "a relaying server makes scan exit 1" "$RP_RC" 1
ok "mixed: every line a JSON object, complete" valid_jsonl "$RP_OUT/mixed.jsonl"
is "mixed: one line per target" "$(wc -l <"$RP_OUT/mixed.jsonl")" 8
is "closed Postfix: success/closed" "$(jq -r --arg t "$C" 'select(.target == $t) | .status + "/" + .verdict' "$RP_OUT/mixed.jsonl" | sort -u)" success/closed
is "relaying Postfix: success/suspect" "$(jq -r --arg t "$O" 'select(.target == $t) | .status + "/" + .verdict' "$RP_OUT/mixed.jsonl")" success/suspect
is "closed port: connection-refused" "$(jq -r 'select(.target | startswith("127.0.0.1:")) | .status' "$RP_OUT/mixed.jsonl" | sort | tr '\n' ' ')" "connection-refused io-timeout "
is "invalid line: invalid-input" "$(status_of mixed 'not a target!')" invalid-input
is "unknown name: dns-error" "$(status_of mixed nosuchdomain.test)" dns-error
is "excluded address: excluded" "$(status_of mixed 127.0.0.23:25)" excluded
is "the schema of check --json" "$(jq -r --arg t "$O" 'select(.target == $t) | [.schema, (.servers[0].tests | length > 20), .exit_code] | map(tostring) | join(" ")' "$RP_OUT/mixed.jsonl")" "relayprobe/1 true 1"
is "the second target on the closed Postfix reuses its result" \
  "$(jq -r --arg t "$C" 'select(.target == $t) | .servers[0].reused_from // "tested"' "$RP_OUT/mixed.jsonl" | sort | tr '\n' ' ')" "$C tested "
# The Postfix log: one check's sessions, not two.
sessions=$(jq -r --arg t "$C" 'select(.target == $t and (.servers[0].reused_from | not)) | .servers[0].sessions' "$RP_OUT/mixed.jsonl")
is "the shared server was connected to once per session of one check" \
  "$(pf_log closed | grep -c 'smtpd\[[0-9]*\]: connect from [^ ]*\[127\.0\.0\.2\]')" "$sessions"

# Connection timeout: a private network namespace whose only route sends
# 192.0.2.1 into lo, where nothing answers the SYN.
echo 192.0.2.1:25 >"$RP_OUT/ct.txt"
if unshare -n true 2>/dev/null; then
  unshare -n sh -c 'ip link set lo up && ip route add 192.0.2.1/32 dev lo &&
    exec "$0" scan --no-progress --connect-timeout 1 "$1"' "$RELAYPROBE" "$RP_OUT/ct.txt" >"$RP_OUT/ct.jsonl"
  is "unanswered SYN: connection-timeout" "$(jq -r .status "$RP_OUT/ct.jsonl")" connection-timeout
else
  echo "# unshare -n unavailable: connection-timeout not exercised"
fi

# ---- 2. The farm: caps counted at the server --------------------------------
farm_start f 127.3.0.1 40 0 || exit 1
FP=$FARM_PORT_f
echo "127.3.0.1:$FP" >"$RP_OUT/one.txt"
scan cap1 --rate 0 --sessions 3 --per-address 1 --checks relay "$RP_OUT/one.txt"
is "--per-address 1: at most one session at a time at the server" "$(farm_stats f .max_per_address)" 1
is "--per-address 1: the check still finishes closed" "$(jq -r .verdict "$RP_OUT/cap1.jsonl")" closed
# Control: the same server without the cap is given parallel sessions (the
# assertion above can fail). A fresh farm, so the peak is this run's.
farm_start g 127.3.1.1 1 20 || exit 1
echo "127.3.1.1:$FARM_PORT_g" >"$RP_OUT/one_g.txt"
scan cap3 --rate 0 --sessions 3 --per-address 3 --checks relay "$RP_OUT/one_g.txt"
is "--per-address 3: the server saw parallel sessions" "$(farm_stats g '.max_per_address > 1')" true

# --checks without relay: greeted and audited, no MAIL/RCPT at all.
before=$(farm_stats f .rcpt)
echo "127.3.0.2:$FP" >"$RP_OUT/two.txt"
scan auditonly --checks audit --rate 0 "$RP_OUT/two.txt"
is "--checks audit: exit 0 (no relay verdict to count)" "$RP_RC" 0
is "--checks audit: no RCPT reached the server" "$(farm_stats f .rcpt)" "$before"
is "--checks audit: the audit ran" "$(jq -r '.servers[0].audit.vrfy_postmaster' "$RP_OUT/auditonly.jsonl")" "252 2.0.0 postmaster"
is "--checks audit: the reason says the relay test was not run" \
  "$(jq -r '.servers[0].verdict_reason | test("not run")' "$RP_OUT/auditonly.jsonl")" true

for i in $(seq 1 40); do echo "127.3.0.$i:$FP"; done >"$RP_OUT/farm40.txt"
farm_start h 127.3.2.1 40 5 || exit 1
for i in $(seq 1 40); do echo "127.3.2.$i:$FARM_PORT_h"; done >"$RP_OUT/farm40h.txt"
scan conc -c 5 --rate 0 --checks relay "$RP_OUT/farm40h.txt"
is "-c 5: at most 5 sessions open at once at the farm" "$(farm_stats h '.max_open <= 5')" true
is "-c 5: all 40 targets closed" "$(jq -r 'select(.status == "success" and .verdict == "closed") | .target' "$RP_OUT/conc.jsonl" | sort -u | wc -l)" 40

# ---- 3. Shards: the union is the input, no overlap -------------------------
{ cat "$RP_OUT/farm40.txt"; echo "bad line here"; echo "Example..invalid"; } >"$RP_OUT/shardin.txt"
for k in 0 1 2; do scan "shard$k" --shard "$k/3" --rate 0 --checks relay "$RP_OUT/shardin.txt"; done
cat "$RP_OUT"/shard[012].jsonl >"$RP_OUT/shards.jsonl"
ok "shards: every line valid" valid_jsonl "$RP_OUT/shards.jsonl"
is "shards: no target in two shards" "$(jq -r .target "$RP_OUT/shards.jsonl" | sort | uniq -d | wc -l)" 0
is "shards: the union is the input" "$(jq -r .target "$RP_OUT/shards.jsonl" | sort | tr '\n' ' ')" \
  "$(sed 's/ /\\x20/g' "$RP_OUT/shardin.txt" | sort | tr '\n' ' ' | sed 's/\\x20/ /g')"
is "shards: none is empty" "$(for k in 0 1 2; do [ -s "$RP_OUT/shard$k.jsonl" ] && echo y; done | wc -l)" 3

# ---- 4. Resume: finished targets are not tested again ----------------------
head -n 15 "$RP_OUT/conc.jsonl" >"$RP_OUT/resume.jsonl"
printf '{"schema":"relayprobe/1","target":"127.3.2.' >>"$RP_OUT/resume.jsonl" # cut short by a kill
before=$(farm_stats h .connections)
mapfile -t done15 < <(head -n 15 "$RP_OUT/conc.jsonl" | jq -r '.target | split(":")[0]')
sum15='[($x | split(" "))[] as $a | .connected[$a]] | add'
counts_before=$(farm_stats h "$sum15" --arg x "${done15[*]}")
"$RELAYPROBE" scan --no-progress --source 127.0.0.2 --rate 0 --checks relay --resume "$RP_OUT/resume.jsonl" \
  "$RP_OUT/farm40h.txt" 2>"$RP_OUT/resume.err"
RP_RC=$?
is "resume: exit 0" "$RP_RC" 0
ok "resume: the file is valid JSON lines (the cut line removed)" valid_jsonl "$RP_OUT/resume.jsonl"
is "resume: 40 targets, each once" "$(jq -r .target "$RP_OUT/resume.jsonl" | sort -u | wc -l) $(wc -l <"$RP_OUT/resume.jsonl")" "40 40"
is "resume: the 15 finished servers got no new connection" \
  "$(farm_stats h "$sum15" --arg x "${done15[*]}")" "$counts_before"
is "resume: the other 25 were tested" "$(( $(farm_stats h .connections) > before ))" 1

# ---- 5. Exclusions and special ranges in CIDR blocks -----------------------
printf '# never these\n127.3.0.5\n127.3.0.8/30\n' >"$RP_OUT/ex.txt"
printf '127.3.0.0/26\n127.3.0.5:%s\n' "$FP" >"$RP_OUT/block.txt"
before=$(farm_stats f '.connected | [."127.3.0.5", ."127.3.0.8", ."127.3.0.9", ."127.3.0.10", ."127.3.0.11"] | map(. // 0) | add')
scan block -p "$FP" --include-special --rate 0 --checks relay --exclude "$RP_OUT/ex.txt" "$RP_OUT/block.txt"
ok "block: valid JSON lines" valid_jsonl "$RP_OUT/block.jsonl"
is "block: 64 addresses minus 5 excluded, plus the excluded line" "$(wc -l <"$RP_OUT/block.jsonl")" 60
is "block: excluded addresses have no line from the block" \
  "$(jq -r '.target' "$RP_OUT/block.jsonl" | grep -cxE '127\.3\.0\.(5|8|9|10|11)')" 0
is "block: the excluded single line says excluded" "$(status_of block "127.3.0.5:$FP")" excluded
is "block: the excluded addresses got no connection" \
  "$(farm_stats f '.connected | [."127.3.0.5", ."127.3.0.8", ."127.3.0.9", ."127.3.0.10", ."127.3.0.11"] | map(. // 0) | add')" "$before"
is "block: the farm's addresses answer, the others refuse" \
  "$(jq -r .status "$RP_OUT/block.jsonl" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
  "connection-refused=24 excluded=1 success=35 "
scan special -p "$FP" --rate 0 --checks relay "$RP_OUT/block.txt"
is "without --include-special a loopback block yields nothing (the single line stays)" \
  "$(jq -r .target "$RP_OUT/special.jsonl" | tr '\n' ' ')" "127.3.0.5:$FP "

# ---- 6. SIGINT: only complete lines, then resume finishes ------------------
farm_start s 127.3.3.1 100 50 || exit 1
for i in $(seq 1 100); do echo "127.3.3.$i:$FARM_PORT_s"; done >"$RP_OUT/slow.txt"
"$RELAYPROBE" scan --no-progress --source 127.0.0.2 -c 20 --rate 0 --checks relay \
  -o "$RP_OUT/int.jsonl" "$RP_OUT/slow.txt" 2>"$RP_OUT/int.err" &
SP=$!
for _ in $(seq 300); do [ "$(cat "$RP_OUT/int.jsonl" 2>/dev/null | wc -l)" -ge 5 ] && break; sleep 0.1; done
kill -INT "$SP"; wait "$SP"; RP_RC=$?
is "SIGINT: exit 130" "$RP_RC" 130
ok "SIGINT: only complete JSON lines" valid_jsonl "$RP_OUT/int.jsonl"
n=$(wc -l <"$RP_OUT/int.jsonl")
is "SIGINT: stopped early (some but not all lines)" "$(( n >= 5 && n < 100 ))" 1
is "SIGINT: every finished line is a finished check" "$(jq -r 'select(.status != "success" or .verdict != "closed")' "$RP_OUT/int.jsonl" | wc -l)" 0
"$RELAYPROBE" scan --no-progress --source 127.0.0.2 -c 400 --rate 0 --checks relay \
  --resume "$RP_OUT/int.jsonl" "$RP_OUT/slow.txt" 2>>"$RP_OUT/int.err"
is "SIGINT then --resume: 100 targets, each once" "$(jq -r .target "$RP_OUT/int.jsonl" | sort -u | wc -l) $(wc -l <"$RP_OUT/int.jsonl")" "100 100"

# ---- 7. Streaming: a 100,000-line input (50 MB) is never held whole --------
# Every line is an excluded address with a long comment: no network, so
# this measures the reader and the writer alone.
python3 -c "
import sys
pad = 'x' * 470
w = sys.stdout.write
for i in range(100000): w('127.3.0.5:%d # %06d %s\\n' % ($FP, i, pad))
" >"$RP_OUT/big.txt"
/usr/bin/time -f %M -o "$RP_OUT/big.rss" "$RELAYPROBE" scan --no-progress --exclude "$RP_OUT/ex.txt" \
  -o "$RP_OUT/big.jsonl" "$RP_OUT/big.txt" 2>"$RP_OUT/big.err"
is "100,000 lines in, 100,000 lines out" "$(wc -l <"$RP_OUT/big.jsonl")" 100000
is "the input file is larger than 45 MiB" "$(( $(stat -c %s "$RP_OUT/big.txt") > 45 * 1048576 ))" 1
rss=$(tail -1 "$RP_OUT/big.rss")
# AddressSanitizer keeps freed memory in quarantine (256 MB): the bound is
# the plain build's.
# (No "ldd | grep -q": with pipefail, ldd's SIGPIPE would fail the test.)
if [[ $(ldd "$RELAYPROBE" 2>/dev/null) == *libasan* ]]; then
  echo "# ASan build: peak RSS ${rss} KiB, bound not applied"
else
  is "peak memory stays under 30 MiB while reading a 47 MiB input (got ${rss} KiB)" "$(( rss < 30 * 1024 ))" 1
fi

# ---- 8. The progress line, when asked for ----------------------------------
"$RELAYPROBE" scan --progress --source 127.0.0.2 --rate 0 --checks relay -o /dev/null \
  "$RP_OUT/one.txt" 2>"$RP_OUT/progress.err"
ok "--progress: a final 'scan: 1/1 done' line on stderr" grep -q 'scan: 1/1 done' "$RP_OUT/progress.err"
"$RELAYPROBE" scan --source 127.0.0.2 --rate 0 --checks relay -o /dev/null "$RP_OUT/one.txt" 2>"$RP_OUT/noprogress.err"
is "no progress line when stderr is not a terminal" "$(wc -c <"$RP_OUT/noprogress.err")" 0

# ---- 9. Bad input is one clear line, exit 3 --------------------------------
"$RELAYPROBE" scan --shard 3/3 "$RP_OUT/one.txt" >/dev/null 2>"$RP_OUT/bad.err"; RP_RC=$?
is "--shard 3/3 refused" "$RP_RC" 3
"$RELAYPROBE" scan "$RP_OUT/nonexistent.txt" >/dev/null 2>"$RP_OUT/bad.err"; RP_RC=$?
is "a missing input file: exit 3" "$RP_RC" 3
ok "a missing input file: one line naming it" grep -q nonexistent.txt "$RP_OUT/bad.err"
printf '127.0.0.1\nnot-an-address\n' >"$RP_OUT/badex.txt"
"$RELAYPROBE" scan --exclude "$RP_OUT/badex.txt" "$RP_OUT/one.txt" >/dev/null 2>"$RP_OUT/bad.err"; RP_RC=$?
is "a bad exclusion file: exit 3" "$RP_RC" 3
ok "a bad exclusion file: the line number" grep -q "line 2" "$RP_OUT/bad.err"
"$RELAYPROBE" check --rate 5 127.0.0.1 >/dev/null 2>"$RP_OUT/bad.err"; RP_RC=$?
is "a scan option on check: exit 3" "$RP_RC" 3

finish
