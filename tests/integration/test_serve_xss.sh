#!/usr/bin/env bash
# relayprobe serve shows attacker-controlled text: a server whose banner,
# EHLO and replies carry <script>, attribute-breaking and markup payloads
# (tests/fixtures/hostile_smtp.py html-payloads). The API serves them only
# inside JSON (application/json, nosniff), the event stream only inside
# JSON data lines, and the page, in headless Chromium, shows them as text:
# no script runs, no element is injected, no CSP violation.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
trap 'kill "${HPID:-}" 2>/dev/null; for n in "${!SV_PID[@]}"; do kill -9 "${SV_PID[$n]}" 2>/dev/null; done; _rp_cleanup' EXIT

browser_ready || { finish; exit 1; }
SHOTS=$(dirname "$RELAYPROBE")/serve-screenshots
mkdir -p "$SHOTS"
python3 "$SRCDIR/tests/fixtures/hostile_smtp.py" html-payloads --lifetime 200 >"$RP_OUT/h.port" & HPID=$!
for _ in $(seq 50); do HP=$(cat "$RP_OUT/h.port"); [ -n "$HP" ] && break; sleep 0.1; done
T="127.0.0.1:$HP"
sv_start x --allow-private --ports "25,$HP" --no-dns-checks || exit 1

sv_post x "$T"
ID=$(jq -r .id <<<"$SV_BODY")
curl -s -N --max-time 60 -D "$RP_OUT/ev.h" "${SV_URL[x]}/api/v1/checks/$ID/events" >"$RP_OUT/ev.txt"
sv_wait x "$ID" || echo "# not done"
jq_is "$ID" '.result.servers[0].banner | contains("<script>window.__xss=1</script>")' true
jq_is "$ID" '[.result.servers[0].transcript[].line | select(contains("onerror="))] | length > 3' true
ok "event stream: every payload inside a JSON data line" bash -c "! grep -v '^data: {' \"\$1\" | grep -q '<script>'" _ "$RP_OUT/ev.txt"
ok "event stream: payload present (escaped JSON)" grep -q '^data: {.*<script>window.__xss=1</script>' "$RP_OUT/ev.txt"
ok "event stream content type" grep -qi '^content-type: text/event-stream' "$RP_OUT/ev.h"
h=$(curl -s -D - -o /dev/null "${SV_URL[x]}/api/v1/checks/$ID")
ok "result served as application/json" grep -qi '^content-type: application/json' <<<"$h"
ok "with nosniff" grep -qi '^x-content-type-options: nosniff' <<<"$h"
ok "and the CSP" grep -qi "^content-security-policy: default-src 'none'" <<<"$h"

# The page: live and from the permanent link, desktop and phone.
node "$SRCDIR/tests/browser/check_page.mjs" "${SV_URL[x]}" "$T" closed "$SHOTS/xss" --xss \
  >"$RP_OUT/page.json" 2>"$RP_OUT/page.err"
echo "# page: $(head -c 800 "$RP_OUT/page.json") $(head -c 300 "$RP_OUT/page.err")"
jq_is page .ok true
jq_is page .xss_check.xss null
jq_is page .xss_check.injected 0
jq_is page .xss_check.text true
jq_is page '.xss_check.scripts | join(",")' /app.js
ok "screenshot saved" test -s "$SHOTS/xss-desktop.png"
sv_stop x
finish
