#!/usr/bin/env bash
# The command line: bad input, exit codes, unreachable servers, host names,
# IPv6, the -v transcript, `relayprobe tests`.
. "$(dirname "$0")/lib.sh"

bad() { # bad input: exit 3 and exactly one line on stderr
  local what=$1; shift
  local err rc=0
  err=$("$RELAYPROBE" "$@" 2>&1 >/dev/null) || rc=$?
  if [ "$rc" = 3 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && [ -n "$err" ]; then
    _pass "bad input ($what): exit 3, one line: $err"
  else
    _fail "bad input ($what)" "exit $rc, stderr: $err"
  fi
}
bad "no command" 
bad "unknown command" frobnicate
bad "unknown option" check --bogus 127.0.0.1
bad "no target" check
bad "port out of range" check 127.0.0.1:70000
bad "port zero" check mail.example.com:0
bad "malformed host" check 'bad_host!'
bad "bad --port" check -p abc 127.0.0.1
bad "bad --source" check --source nothere 127.0.0.1
bad "bad --from" check --from nobody 127.0.0.1
bad "bad timeout" check --command-timeout -1 127.0.0.1
bad "missing value" check 127.0.0.1 --helo
bad "v4 source, v6 target" check --source 127.0.0.2 '[::1]:25'

ok "--version prints the version" bash -c "'$RELAYPROBE' --version | grep -Eq '^relayprobe [0-9]+\.[0-9]+\.[0-9]+$'"
ok "--help lists every technique option" bash -c "'$RELAYPROBE' --help | grep -q -- '--retry-deferred'"
"$RELAYPROBE" tests --json > "$RP_OUT/tests.json"
jq_is tests '[.techniques[].id] | join(",")' 'T01,T02,T03,T04,T05,T06,T07,T08,T09,T10,T11,T12,T13,T14,T15,T16,T17,T18,T19,T20,T21,T22,T23a,T23b,T25'
jq_is tests '[.controls[].id] | join(",")' 'positive,positive-bare,impossible,random-local'
ok "tests (text) lists T24 as absent" bash -c "! '$RELAYPROBE' tests | grep -q '^T24'"

# Nothing listening: unreachable, exit 3, connection refused in the error.
port=$(pf_free_port)
rp_check refused "127.0.0.1:$port"
rc_is 3
jq_is refused .verdict unreachable
jq_is refused '.servers[0].error | test("refused")' true

# A black hole (accepts, never greets): the greeting timeout ends it.
python3 "$SRCDIR/tests/integration/blackhole.py" > "$RP_OUT/bh.port" &
bh=$!
for _ in $(seq 50); do [ -s "$RP_OUT/bh.port" ] && break; sleep 0.1; done
rp_check blackhole --greeting-timeout 1 "127.0.0.1:$(cat "$RP_OUT/bh.port")"
kill "$bh" 2>/dev/null; wait "$bh" 2>/dev/null
rc_is 3
jq_is blackhole .verdict unreachable
jq_is blackhole '.servers[0].error | test("timeout.*greeting")' true

# Host name target (resolved through c-ares; localhost from /etc/hosts),
# -v transcript in the text report, and IPv6 on ::1 when the machine has it.
pf_start cli 127.0.0.1 auto || exit 1
p=$(pf_port cli)
out=$("$RELAYPROBE" check -v --color never --source 127.0.0.2 "127.0.0.1:$p")
ok "-v shows the client side (C: EHLO)" grep -q 'C: EHLO' <<<"$out"
ok "-v shows the server side (S: 220)" grep -q 'S: 220 mx.relaytarget.test' <<<"$out"
ok "text report names the verdict" grep -q 'Verdict:  CLOSED' <<<"$out"
ok "NO_COLOR/non-tty: no escape codes" bash -c "! grep -q $'\033' <<<\"\$0\"" "$out"
rp_check byname "localhost:$p"
jq_is byname '[.servers[].address] | index("127.0.0.1") != null' true
jq_is byname '.target' "localhost:$p"

if ip -6 addr show lo 2>/dev/null | grep -q '::1'; then
  pf_start v6 ::1 auto 'inet_protocols = all' 'mynetworks = [::1]/128' || exit 1
  rp_check v6 "[::1]:$(pf_port v6)"
  jq_is v6 '.servers[0].address' ::1
  jq_is v6 '.servers[0].tests[] | select(.id == "T05") | .mail_from' '<relayprobe@[IPv6:::1]>'
  jq_is v6 '.servers[0].tests[] | select(.id == "T11") | .rcpt_to' '<relaytest%gmail.com@[IPv6:::1]>'
  jq_is v6 '.servers[0].verdict != "unreachable"' true
  jq_is v6 '[.servers[0].findings[].id] | index("vantage-point") != null' true
else
  echo "# no IPv6 loopback here: IPv6 checks skipped"
fi

# Several targets: one document with targets[], worst verdict overall.
pf_start cli2 127.0.0.1 auto 'mynetworks = 127.0.0.0/8' || exit 1
rp_check multi --source 127.0.0.2 "127.0.0.1:$p" "127.0.0.1:$(pf_port cli2)"
rc_is 1
jq_is multi '.targets | length' 2
jq_is multi '.verdict' suspect

finish
