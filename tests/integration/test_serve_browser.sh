#!/usr/bin/env bash
# relayprobe serve in a real browser: headless Chromium (Debian's chromium,
# driven by playwright-core) loads the page, runs a check on a local
# Postfix, sees the live transcript arrive before the verdict, sees the
# verdict, findings and history, opens the permanent link on a phone-sized
# screen, and saves screenshots into the build directory
# (serve-screenshots/). Any CSP violation, script error or dialog fails.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
trap 'for n in "${!SV_PID[@]}"; do kill -9 "${SV_PID[$n]}" 2>/dev/null; done; _rp_cleanup' EXIT

browser_ready || { finish; exit 1; }
SHOTS=$(dirname "$RELAYPROBE")/serve-screenshots
mkdir -p "$SHOTS"

pf_start closed 127.0.0.1 auto || exit 1
pf_start open 127.0.0.1 auto \
  'smtpd_relay_restrictions = check_sender_access inline:{relaytarget.test=OK}, reject_unauth_destination' || exit 1
CP=$(pf_port closed); OP=$(pf_port open)
sv_start web --allow-private --ports "25,$CP,$OP" --source 127.0.0.2 --no-dns-checks || exit 1

run_page() {  # name target verdict [--xss]
  local name=$1; shift
  node "$SRCDIR/tests/browser/check_page.mjs" "${SV_URL[web]}" "$1" "$2" "$SHOTS/$name" "${@:3}" \
    >"$RP_OUT/$name.json" 2>"$RP_OUT/$name.err"
  echo "# $name: $(head -c 600 "$RP_OUT/$name.json") $(head -c 300 "$RP_OUT/$name.err")"
}

run_page closed "127.0.0.1:$CP" closed
jq_is closed .ok true
jq_is closed '.live_lines > 0' true
jq_is closed .banner_seen true
jq_is closed '.verdict_text | startswith("CLOSED")' true
jq_is closed '.url | test("/r/[0-9a-f]{32}$")' true
jq_is closed .permalink_verdict closed
jq_is closed .phone_overflow false
ok "desktop screenshot saved" test -s "$SHOTS/closed-desktop.png"
ok "phone screenshot saved" test -s "$SHOTS/closed-phone.png"

run_page open "127.0.0.1:$OP" open
jq_is open .ok true
jq_is open '.verdict_text | startswith("OPEN RELAY")' true
jq_is open '.findings > 0' true
jq_is open '.history_rows' 1

# The same target again: the history shows both runs.
run_page closed2 "127.0.0.1:$CP" closed
jq_is closed2 .ok true
jq_is closed2 .history_rows 2
sv_stop web
finish
