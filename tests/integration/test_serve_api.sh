#!/usr/bin/env bash
# relayprobe serve: the JSON API over real HTTP (curl) against real Postfix
# instances (serve runs with --allow-private, since they live on
# loopback): checks and their event streams, the stored result and the
# comparison with the run before, history (API and `relayprobe history`),
# validation, the token, schedules with a change alert (webhook POST and
# metric), the queue cap (429), the per-client rate limit (429, and
# --trusted-proxy), /metrics, /healthz, headers; then the crash test:
# kill -9 during checks, restart, every check reported complete is there
# and the database is intact.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
trap 'kill "${HOOK_PID:-}" "${BH_PID:-}" 2>/dev/null; for n in "${!SV_PID[@]}"; do kill -9 "${SV_PID[$n]}" 2>/dev/null; done; _rp_cleanup' EXIT

pf_start closed 127.0.0.1 auto || exit 1
pf_start open 127.0.0.1 auto \
  'smtpd_relay_restrictions = check_sender_access inline:{relaytarget.test=OK}, reject_unauth_destination' || exit 1
CP=$(pf_port closed); OP=$(pf_port open)
C="127.0.0.1:$CP"; O="127.0.0.1:$OP"
python3 "$SRCDIR/tests/integration/blackhole.py" >"$RP_OUT/bh.port" & BH_PID=$!
for _ in $(seq 50); do BP=$(cat "$RP_OUT/bh.port"); [ -n "$BP" ] && break; sleep 0.1; done
B="127.0.0.1:$BP"
webhook_start || { echo "not ok - webhook receiver"; exit 1; }
TOKEN=$(openssl rand -hex 24)
printf '%s\n' "$TOKEN" >"$RP_OUT/token"; chmod 600 "$RP_OUT/token"
AUTH=(-H "Authorization: Bearer $TOKEN")
JSON=(-H 'Content-Type: application/json')

COMMON=(--allow-private --ports "25,465,587,$CP,$OP,$BP" --source 127.0.0.2
        --no-dns-checks --greeting-timeout 3)
sv_start api "${COMMON[@]}" --token-file "$RP_OUT/token" --min-interval 1 \
  --rate 1000 --max-checks 2 --queue 2 || exit 1

# --- health, page, headers, Host check ---
sv_req api GET /healthz
ok "healthz 200" test "$SV_CODE" = 200
ok "healthz status ok" test "$(jq -r .status <<<"$SV_BODY")" = ok
hdr=$(curl -s -D - -o "$RP_OUT/index.html" "${SV_URL[api]}/")
ok "page served" grep -q 'src="/app.js"' "$RP_OUT/index.html"
ok "CSP: scripts only from self, no inline" grep -qi "^content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'" <<<"$hdr"
ok "CSP: no unsafe-inline" bash -c "! grep -qi unsafe <<<\"\$1\"" _ "$hdr"
ok "nosniff" grep -qi '^x-content-type-options: nosniff' <<<"$hdr"
ok "no framing" grep -qi '^x-frame-options: DENY' <<<"$hdr"
ok "page has no inline script or style" bash -c "! grep -Eqi '<script>|<style|[[:space:]]style=|[[:space:]]on[a-z]+=' \"\$1\"" _ "$RP_OUT/index.html"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example' "${SV_URL[api]}/")
ok "unknown Host refused (421, DNS rebinding)" test "$code" = 421
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: localhost:${SV_URL[api]##*:}" "${SV_URL[api]}/healthz")
ok "localhost:PORT allowed" test "$code" = 200

# --- a check: POST, live events, result ---
sv_post api "$C"
ok "POST check: 202" test "$SV_CODE" = 202
ID1=$(jq -r .id <<<"$SV_BODY")
ok "id is 32 hex" grep -Eq '^[0-9a-f]{32}$' <<<"$ID1"
ok "links.events" test "$(jq -r .links.events <<<"$SV_BODY")" = "/api/v1/checks/$ID1/events"
curl -s -N --max-time 60 "${SV_URL[api]}/api/v1/checks/$ID1/events" >"$RP_OUT/ev1.txt"; rc=$?
ok "event stream ends by itself after done (curl rc $rc)" test "$rc" = 0
ok "stream: transcript lines with the banner" grep -q '^data: {.*"dir":"S","line":"220 mx.relaytarget.test ESMTP' "$RP_OUT/ev1.txt"
ok "stream: client lines" grep -q '"dir":"C","line":"EHLO' "$RP_OUT/ev1.txt"
ok "stream: server_done closed" grep -q '^event: server_done' "$RP_OUT/ev1.txt"
ok "stream: done is the last event" test "$(grep '^event:' "$RP_OUT/ev1.txt" | tail -1)" = "event: done"
sv_wait api "$ID1" || echo "# $ID1 not done"
jq_is "$ID1" .state done
jq_is "$ID1" .verdict closed
jq_is "$ID1" .result.schema relayprobe/1
jq_is "$ID1" .result.verdict closed
jq_is "$ID1" '.result.servers[0].banner' 'mx.relaytarget.test ESMTP Postfix (Debian/GNU)'
jq_is "$ID1" .previous null
jq_is "$ID1" '.result.servers[0].transcript | length > 10' true
# The stream of a finished check is just its end.
ev=$(curl -s --max-time 10 "${SV_URL[api]}/api/v1/checks/$ID1/events")
ok "finished check: stream is the done event" grep -q '^event: done' <<<"$ev"

sv_post api "$O"; ID2=$(jq -r .id <<<"$SV_BODY")
sv_wait api "$ID2" || echo "# $ID2 not done"
jq_is "$ID2" .verdict open
jq_is "$ID2" '[.result.servers[0].findings[] | select(.id == "open-relay")] | length' 1
jq_is "$ID2" '[.result.servers[0].findings[] | select(.id == "open-relay")][0].remediation | test("smtpd_relay_restrictions|mynetworks")' true

sv_post api "$C"; ID3=$(jq -r .id <<<"$SV_BODY")
sv_wait api "$ID3" || echo "# $ID3 not done"
jq_is "$ID3" .previous.id "$ID1"
jq_is "$ID3" .previous.verdict closed
jq_is "$ID3" '.changes | length' 0

# --- history ---
sv_req api GET "/api/v1/history?target=$C"
ok "history 200" test "$SV_CODE" = 200
ok "history: two checks, newest first" test "$(jq -r '[.checks[].id] | join(",")' <<<"$SV_BODY")" = "$ID3,$ID1"
sv_req api GET "/api/v1/history?target=127.0.0.1:$CP&limit=1"
ok "history limit" test "$(jq '.checks | length' <<<"$SV_BODY")" = 1
"$RELAYPROBE" history --db "$RP_OUT/api.db" --json "$C" >"$RP_OUT/hist.json"; rc=$?
ok "relayprobe history --json: exit 0" test "$rc" = 0
jq_is hist '[.checks[].id] | join(",")' "$ID3,$ID1"
jq_is hist '.checks[0].verdict' closed
"$RELAYPROBE" history --db "$RP_OUT/api.db" "$C" >"$RP_OUT/hist.txt"
ok "relayprobe history (text) lists both" test "$(grep -cE "closed +[0-9.]+s +api +($ID1|$ID3)" "$RP_OUT/hist.txt")" = 2
"$RELAYPROBE" history --db "$RP_OUT/nonexistent.db" "$C" >/dev/null 2>&1; rc=$?
ok "history of a missing database: exit 3" test "$rc" = 3

# --- validation ---
sv_req api POST /api/v1/checks -d "{\"target\":\"$C\"}"
ok "no JSON content type: 415" test "$SV_CODE" = 415
sv_req api POST /api/v1/checks "${JSON[@]}" -d '{"target":'
ok "bad JSON: 400" test "$SV_CODE" = 400
sv_req api POST /api/v1/checks "${JSON[@]}" -d '{"target":"x.example","x":1}'
ok "unknown member: 400" test "$SV_CODE" = 400
sv_req api POST /api/v1/checks "${JSON[@]}" -d '{"target":"127.0.0.1:22"}'
ok "port 22: 422" test "$SV_CODE" = 422
ok "port 22: says why" grep -q "port 22" <<<"$SV_BODY"
head -c 20000 /dev/zero | tr '\0' ' ' >"$RP_OUT/big"
sv_req api POST /api/v1/checks "${JSON[@]}" --data-binary "@$RP_OUT/big"
ok "body over 16 KiB: 413" test "$SV_CODE" = 413
sv_req api GET /api/v1/checks/0123456789abcdef0123456789abcdef
ok "unknown check: 404" test "$SV_CODE" = 404
sv_req api GET "/api/v1/checks/..%2f..%2fetc"
ok "malformed id: 404" test "$SV_CODE" = 404
sv_req api PUT /api/v1/checks
ok "PUT: refused (evhttp: 501)" test "$SV_CODE" = 501
sv_req api GET /api/v1/checks
ok "GET on the collection: 405" test "$SV_CODE" = 405

# --- token ---
sv_req api DELETE "/api/v1/checks/$ID3"
ok "delete without token: 401" test "$SV_CODE" = 401
sv_req api DELETE "/api/v1/checks/$ID3" -H "Authorization: Bearer wrong$TOKEN"
ok "delete with a wrong token: 401" test "$SV_CODE" = 401
sv_req api GET /api/v1/schedules
ok "schedules without token: 401" test "$SV_CODE" = 401

# --- schedules and the change alert ---
sv_req api POST /api/v1/schedules "${AUTH[@]}" "${JSON[@]}" \
  -d "{\"target\":\"$C\",\"interval_seconds\":2,\"webhook\":\"http://127.0.0.1:$HOOK_PORT/hook\"}"
ok "schedule created: 201" test "$SV_CODE" = 201
SID=$(jq -r .id <<<"$SV_BODY")
sv_req api POST /api/v1/schedules "${AUTH[@]}" "${JSON[@]}" -d "{\"target\":\"$C\",\"every_hours\":1}"
ok "same target again: 409" test "$SV_CODE" = 409
sv_req api POST /api/v1/schedules "${AUTH[@]}" "${JSON[@]}" -d "{\"target\":\"$O\",\"every_hours\":1,\"webhook\":\"ftp://x/\"}"
ok "bad webhook URL: 400" test "$SV_CODE" = 400
sv_req api GET /api/v1/schedules "${AUTH[@]}"
ok "one schedule listed" test "$(jq '.schedules | length' <<<"$SV_BODY")" = 1
ok "listed with its interval" test "$(jq '.schedules[0].interval_seconds' <<<"$SV_BODY")" = 2
# Wait for a scheduled run of the closed server, then open it.
for _ in $(seq 150); do
  n=$(curl -s "${SV_URL[api]}/api/v1/history?target=$C" | jq '[.checks[] | select(.source == "schedule")] | length')
  [ "${n:-0}" -ge 1 ] && break; sleep 0.2
done
ok "a scheduled run happened" test "${n:-0}" -ge 1
ok "no alert while nothing changed" test ! -s "$HOOK_LOG"
pf_conf closed 'smtpd_relay_restrictions = check_sender_access inline:{relaytarget.test=OK}, reject_unauth_destination'
for _ in $(seq 300); do [ -s "$HOOK_LOG" ] && break; sleep 0.2; done
ok "closed -> open: webhook POSTed" test -s "$HOOK_LOG"
head -1 "$HOOK_LOG" >"$RP_OUT/hook.json"
jq_is hook .event relayprobe.change
jq_is hook .target "$C"
jq_is hook .verdict open
jq_is hook .previous_verdict closed
jq_is hook '[.changes[] | select(.kind == "verdict" and .to == "open" and .direction == "worse")] | length' 1
HID=$(jq -r .check_id "$RP_OUT/hook.json")
sv_req api GET "/api/v1/checks/$HID"
ok "the alerting check is stored, source schedule" test "$(jq -r .source <<<"$SV_BODY")" = schedule
ok "its changes say closed -> open" test "$(jq -r '.changes[] | select(.kind == "verdict") | .from + ">" + .to' <<<"$SV_BODY")" = "closed>open"
sv_req api GET /api/v1/schedules "${AUTH[@]}"
ok "schedule remembers its last check" test "$(jq -r '.schedules[0].last_check | length' <<<"$SV_BODY")" = 32
sv_req api DELETE "/api/v1/schedules/$SID" "${AUTH[@]}"
ok "schedule deleted" test "$SV_CODE" = 200
sv_req api DELETE "/api/v1/schedules/$SID" "${AUTH[@]}"
ok "deleted twice: 404" test "$SV_CODE" = 404
pf_conf closed 'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination'

# Deletion with the token.
sv_req api DELETE "/api/v1/checks/$ID3" "${AUTH[@]}"
ok "delete with token: 200" test "$SV_CODE" = 200
sv_req api GET "/api/v1/checks/$ID3"
ok "deleted check: 404" test "$SV_CODE" = 404

# --- the global cap: 2 running, 2 queued, the next is 429 ---
# A black hole with a long greeting timeout: the checks stay running and
# queued for as long as the test needs (no timing assumption); SIGTERM
# then cancels them.
sv_start cap "${COMMON[@]}" --greeting-timeout 120 --max-checks 2 --queue 2 --rate 1000 || exit 1
codes=(); BIDS=()
for i in 1 2 3 4 5; do sv_post cap "$B"; codes+=("$SV_CODE"); [ "$SV_CODE" = 202 ] && BIDS+=("$(jq -r .id <<<"$SV_BODY")"); done
ok "4 accepted while 2 run and 2 wait (${codes[*]})" test "${codes[*]:0:4}" = "202 202 202 202"
ok "the fifth: 429" test "${codes[4]}" = 429
ok "429 says busy" grep -q busy <<<"$SV_BODY"
h=$(curl -s -D - -o /dev/null -X POST "${JSON[@]}" -d "{\"target\":\"$B\"}" "${SV_URL[cap]}/api/v1/checks")
ok "429 carries Retry-After" grep -qi '^retry-after: [0-9]' <<<"$h"
sv_req cap GET "/api/v1/checks/${BIDS[0]}"
ok "the first runs" test "$(jq -r .state <<<"$SV_BODY")" = running
sv_req cap GET "/api/v1/checks/${BIDS[3]}"
ok "the last accepted one waits in the queue" test "$(jq -r .state <<<"$SV_BODY")" = queued
ok "at position 2" test "$(jq -r .position <<<"$SV_BODY")" = 2
ev=$(curl -s -N --max-time 2 "${SV_URL[cap]}/api/v1/checks/${BIDS[3]}/events")
ok "its stream says queued" grep -q '^event: queued' <<<"$ev"
curl -s "${SV_URL[cap]}/metrics" >"$RP_OUT/cap.metrics"
ok "metrics: 2 running, 2 queued" test "$(grep -E '^relayprobe_checks_(running|queued) ' "$RP_OUT/cap.metrics" | awk '{print $2}' | tr '\n' ' ')" = "2 2 "
ok "metrics: busy rejections" grep -Eq '^relayprobe_checks_rejected_total\{reason="busy"\} [1-9]' "$RP_OUT/cap.metrics"
sv_stop cap; rc=$?
ok "SIGTERM with checks running and queued: clean exit ($rc)" test "$rc" = 0

# --- metrics ---
curl -s "${SV_URL[api]}/metrics" >"$RP_OUT/metrics.txt"
ok "metrics: closed checks counted" grep -Eq '^relayprobe_checks_total\{verdict="closed"\} [2-9]' "$RP_OUT/metrics.txt"
ok "metrics: open relays counted" grep -Eq '^relayprobe_open_relays_total [1-9]' "$RP_OUT/metrics.txt"
ok "metrics: alert counted" grep -Eq '^relayprobe_alerts_total [1-9]' "$RP_OUT/metrics.txt"
ok "metrics: webhook delivered" grep -Eq '^relayprobe_webhooks_total\{result="ok"\} [1-9]' "$RP_OUT/metrics.txt"
ok "metrics: duration histogram" grep -Eq '^relayprobe_check_duration_seconds_count [1-9]' "$RP_OUT/metrics.txt"
# --- docs/api.md matches the server ---
API_MD=$SRCDIR/docs/api.md
bad=()
while read -r method path; do
  p=${path//\{id\}/$ID1}
  [ "$method" = DELETE ] && p=${path//\{id\}/0123456789abcdef0123456789abcdef}
  [[ $path == /api/v1/schedules/* ]] && p=/api/v1/schedules/999999
  [[ $path == /api/v1/history ]] && p="/api/v1/history?target=$C"
  code=$(curl -s -o /dev/null -w '%{http_code}' -X "$method" "${AUTH[@]}" "${JSON[@]}" -d '{}' "${SV_URL[api]}$p")
  # A documented route answers something other than "no such route":
  # 404 only for the missing object ({"error":"no such ..."}).
  body=$(curl -s -X "$method" "${AUTH[@]}" "${JSON[@]}" -d '{}' "${SV_URL[api]}$p" | head -c 200)
  case $code in
    405|501) bad+=("$method $path: $code") ;;
    404) grep -q '"no such' <<<"$body" || bad+=("$method $path: 404 $body") ;;
  esac
done < <(sed -nE 's/^### (GET|POST|DELETE) (\/[^ ]*)$/\1 \2/p' "$API_MD")
n=$(grep -cE '^### (GET|POST|DELETE) /' "$API_MD")
ok "docs/api.md: all $n documented routes exist (${bad[*]:-})" test "$n" -ge 10 -a "${#bad[@]}" = 0
missing=()
for m in $(grep -oE '^relayprobe_[a-z_]+' "$RP_OUT/metrics.txt" | sed -E 's/_(bucket|sum|count)$//' | sort -u); do
  grep -q "\`$m" "$API_MD" || missing+=("$m")
done
ok "docs/api.md lists every exported metric (${missing[*]:-})" test "${#missing[@]}" = 0

sv_stop api; rc=$?
ok "SIGTERM: clean exit ($rc)" test "$rc" = 0

# --- per-client rate limit (2 checks a minute), and --trusted-proxy ---
sv_start rate "${COMMON[@]}" --rate 2 --trusted-proxy 127.0.0.1 || exit 1
codes=()
for i in 1 2 3; do sv_post rate "$C"; codes+=("$SV_CODE"); done
ok "rate limit: third check 429 (${codes[*]})" test "${codes[*]}" = "202 202 429"
ok "rate limit: says why" grep -q "too many checks" <<<"$SV_BODY"
sv_req rate POST /api/v1/checks "${JSON[@]}" -H 'X-Forwarded-For: 198.51.100.7' -d "{\"target\":\"$C\"}"
ok "another client behind the proxy is not limited" test "$SV_CODE" = 202
sv_req rate POST /api/v1/checks "${JSON[@]}" -H 'X-Forwarded-For: 198.51.100.7, 127.0.0.1' -d "{\"target\":\"$C\"}"
ok "a forged X-Forwarded-For prefix does not escape the limit" test "$SV_CODE" = 429
curl -s "${SV_URL[rate]}/metrics" | grep -Eq '^relayprobe_checks_rejected_total\{reason="rate-limit"\} [1-9]'
ok "metrics: rate-limit rejections" test $? = 0
sv_stop rate

# --- crash test: kill -9 while checks run ---
sv_start crash "${COMMON[@]}" --rate 1000 --max-checks 8 --greeting-timeout 30 || exit 1
done_ids=(); slow_ids=()
for t in "$C" "$O" "$C" "$O"; do sv_post crash "$t"; done_ids+=("$(jq -r .id <<<"$SV_BODY")"); done
for i in 1 2 3; do sv_post crash "$B"; slow_ids+=("$(jq -r .id <<<"$SV_BODY")"); done
completed=()
for id in "${done_ids[@]}"; do sv_wait crash "$id" 60 && completed+=("$id"); done
ok "fast checks reported complete before the crash (${#completed[@]})" test "${#completed[@]}" = 4
sv_req crash GET "/api/v1/checks/${slow_ids[0]}"
ok "slow checks still running at the crash" test "$(jq -r .state <<<"$SV_BODY")" = running
# More checks in flight at the moment of the kill.
for t in "$C" "$O"; do sv_post crash "$t"; done
sv_kill9 crash
ok "database intact after kill -9" test "$(sqlite3 "$RP_OUT/crash.db" 'PRAGMA integrity_check')" = ok
sv_start crash "${COMMON[@]}" || exit 1
lost=0
for id in "${completed[@]}"; do
  sv_req crash GET "/api/v1/checks/$id"
  [ "$SV_CODE" = 200 ] && [ "$(jq -r .state <<<"$SV_BODY")" = done ] || lost=$((lost + 1))
done
ok "after restart every completed check is there (lost: $lost)" test "$lost" = 0
sv_req crash GET "/api/v1/checks/${slow_ids[0]}"
ok "a check never reported complete is simply absent" test "$SV_CODE" = 404
sv_req crash GET "/api/v1/history?target=$O"
ok "history intact after the crash" test "$(jq '.checks | length' <<<"$SV_BODY")" -ge 2
ok "schema version kept" test "$(sqlite3 "$RP_OUT/crash.db" 'SELECT version FROM schema_version')" = 1
ok "WAL mode" test "$(sqlite3 "$RP_OUT/crash.db" 'PRAGMA journal_mode')" = wal
sv_stop crash

finish
