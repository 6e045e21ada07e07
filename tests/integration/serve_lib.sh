# shellcheck shell=bash
# tests/integration/serve_lib.sh -- run `relayprobe serve` in tests. Source
# it after lib.sh.
#
#   sv_start NAME [serve options...]   starts serve on a free loopback port
#       with --db $RP_OUT/NAME.db, waits for /healthz; sets SV_URL[NAME],
#       SV_PID[NAME]; stderr in $RP_OUT/NAME.serve.err
#   sv_stop NAME                       SIGTERM, waits (returns serve's status)
#   sv_kill9 NAME                      SIGKILL, waits
#   sv_post NAME TARGET                POST /api/v1/checks; body in $SV_BODY,
#                                      status in $SV_CODE
#   sv_wait NAME ID [SECS]             polls the check until state "done"
#                                      (at most SECS, default 90); its
#                                      document ends in $RP_OUT/ID.json
#   sv_req NAME METHOD PATH [curl args] any request; body $SV_BODY, status $SV_CODE
#   webhook_start                      a loopback HTTP receiver; port in
#                                      $HOOK_PORT, bodies appended to $HOOK_LOG
declare -A SV_URL SV_PID
SV_BODY=""; SV_CODE=0

sv_start() {
  local name=$1; shift
  local port i
  port=$(pf_free_port) || return 1
  "$RELAYPROBE" serve --listen "127.0.0.1:$port" --db "$RP_OUT/$name.db" "$@" \
    2>"$RP_OUT/$name.serve.err" &
  SV_PID[$name]=$!
  SV_URL[$name]="http://127.0.0.1:$port"
  for ((i = 0; i < 100; i++)); do
    curl -fs -o /dev/null "${SV_URL[$name]}/healthz" 2>/dev/null && return 0
    kill -0 "${SV_PID[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "# serve $name did not start:"; sed 's/^/#   /' "$RP_OUT/$name.serve.err"
  return 1
}

sv_stop() {
  local pid=${SV_PID[$1]}
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"
}

sv_kill9() {
  local pid=${SV_PID[$1]}
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

sv_req() {
  local name=$1 method=$2 path=$3; shift 3
  local out
  out=$(curl -s -X "$method" -w '\n%{http_code}' --max-time 30 "$@" "${SV_URL[$name]}$path")
  SV_CODE=${out##*$'\n'}
  SV_BODY=${out%$'\n'*}
}

sv_post() {
  sv_req "$1" POST /api/v1/checks -H 'Content-Type: application/json' \
    -d "$(jq -cn --arg t "$2" '{target: $t}')"
}

sv_wait() {
  local name=$1 id=$2 secs=${3:-90} i
  for ((i = 0; i < secs * 5; i++)); do
    curl -s --max-time 10 "${SV_URL[$name]}/api/v1/checks/$id" >"$RP_OUT/$id.json"
    [ "$(jq -r .state "$RP_OUT/$id.json" 2>/dev/null)" = done ] && return 0
    sleep 0.2
  done
  return 1
}

webhook_start() {
  HOOK_LOG=$RP_OUT/webhook.log
  : >"$HOOK_LOG"
  python3 - "$HOOK_LOG" >"$RP_OUT/hook.port" <<'PY' &
import http.server, sys, threading, time
log = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(n, 1 << 20))
        with open(log, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
threading.Timer(300, s.shutdown).start()  # never outlive a test run
s.serve_forever()
PY
  HOOK_PID=$!
  local i
  for ((i = 0; i < 50; i++)); do
    HOOK_PORT=$(cat "$RP_OUT/hook.port" 2>/dev/null)
    [ -n "$HOOK_PORT" ] && return 0
    sleep 0.1
  done
  return 1
}

# browser_ready: Debian's chromium and playwright-core (tests/browser, pinned
# in package-lock.json; installed with npm ci when missing). A missing piece
# is a failure, never a silent skip.
browser_ready() {
  CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
  export CHROMIUM
  if [ ! -x "$CHROMIUM" ]; then
    _fail "chromium present ($CHROMIUM)" "install Debian's chromium: scripts/deps.sh"; return 1
  fi
  if ! command -v node >/dev/null; then
    _fail "node present" "install nodejs: scripts/deps.sh"; return 1
  fi
  local dir=$SRCDIR/tests/browser
  if [ ! -f "$dir/node_modules/playwright-core/package.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund >/dev/null 2>&1) ||
      { _fail "playwright-core installed (npm ci in tests/browser)"; return 1; }
  fi
  return 0
}
