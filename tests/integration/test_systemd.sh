#!/usr/bin/env bash
# The systemd units (systemd/*.in, configured into the build directory with
# the installed binary's path): systemd-analyze verify finds nothing to say,
# the services carry the hardening they promise, and each ExecStart really
# works when run as written (paths under /var/lib and /etc/relayprobe moved
# into a temporary directory, the binary swapped for the one under test):
# serve answers /healthz and a check of a real Postfix; the scan writes its
# dated JSON Lines file, points scan-latest.jsonl at it, and fails the unit
# (exit 2) when it finds an open relay. No systemd manager is needed.
. "$(dirname "$0")/lib.sh"

UNITS=$(dirname "$RELAYPROBE")/systemd
for u in relayprobe-serve.service relayprobe-scan.service relayprobe-scan.timer; do
  ok "$u configured in the build" test -s "$UNITS/$u"
done

# 1. systemd-analyze verify: no unknown keys, the commands exist.
vdir=$RP_OUT/units
mkdir -p "$vdir"
for u in relayprobe-serve.service relayprobe-scan.service relayprobe-scan.timer; do
  sed "s#/[^ ']*/relayprobe serve#$RELAYPROBE serve#; s#exec /[^ ']*/relayprobe scan#exec $RELAYPROBE scan#" \
    "$UNITS/$u" >"$vdir/$u"
done
if command -v systemd-analyze >/dev/null; then
  out=$(cd "$vdir" && systemd-analyze verify --man=no ./relayprobe-serve.service \
          ./relayprobe-scan.service ./relayprobe-scan.timer 2>&1)
  rc=$?
  if [ $rc -eq 0 ] && [ -z "$out" ]; then _pass "systemd-analyze verify: clean"
  else _fail "systemd-analyze verify: clean" "rc $rc: $out"; fi
else
  _fail "systemd-analyze is installed" "scripts/deps.sh installs systemd"
fi

# 2. The hardening each service promises.
for u in relayprobe-serve.service relayprobe-scan.service; do
  for kv in DynamicUser=yes NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
      PrivateTmp=yes PrivateDevices=yes CapabilityBoundingSet= \
      'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' StateDirectory=relayprobe \
      MemoryDenyWriteExecute=yes SystemCallFilter=@system-service \
      SystemCallErrorNumber=EPERM; do
    ok "$u has $kv" grep -qxF -- "$kv" "$UNITS/$u"
  done
done
ok "the timer starts the scan service daily" grep -qx 'OnCalendar=daily' "$UNITS/relayprobe-scan.timer"
ok "the timer catches up missed runs" grep -qx 'Persistent=true' "$UNITS/relayprobe-scan.timer"

# The ExecStart= line of a unit, with systemd's %% unescaped and the paths
# moved under $state and $etc.
state=$RP_OUT/state etc=$RP_OUT/etc
mkdir -p "$state" "$etc"
exec_of() {
  sed -n 's/^ExecStart=//p' "$vdir/$1" | sed "s/%%/%/g; s#/var/lib/relayprobe#$state#g; s#/etc/relayprobe#$etc#g"
}

# 3. serve as the unit starts it.
pf_start closed 127.0.0.31 auto || exit 1
pf_start open 127.0.0.32 auto \
  'smtpd_relay_restrictions = check_sender_access inline:{relaytarget.test=OK}, reject_unauth_destination' || exit 1
port=$(pf_free_port)
cmd=$(exec_of relayprobe-serve.service)
ok "serve's ExecStart keeps the database in the state directory" \
  grep -q -- "--db $state/relayprobe.db" <<<"$cmd"
# systemd expands $RELAYPROBE_SERVE_ARGS as separate words: so does this.
RELAYPROBE_SERVE_ARGS="--listen 127.0.0.1:$port --allow-private --source 127.0.0.2"
# shellcheck disable=SC2086
read -r -a argv <<<"${cmd//\$RELAYPROBE_SERVE_ARGS/$RELAYPROBE_SERVE_ARGS}"
"${argv[@]}" >"$RP_OUT/serve.out" 2>"$RP_OUT/serve.err" &
SPID=$!
up=0
for _ in $(seq 100); do
  if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then up=1; break; fi
  kill -0 "$SPID" 2>/dev/null || break
  sleep 0.1
done
if [ $up = 1 ]; then _pass "serve from the unit answers /healthz"
else _fail "serve from the unit answers /healthz" "$(head -c 400 "$RP_OUT/serve.err")"; fi
ok "the database is in the state directory" test -s "$state/relayprobe.db"
kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null

# 4. The scan as the unit runs it: closed, then with an open relay.
echo "127.0.0.31:$(pf_port closed)" >"$etc/targets"
cmd=$(exec_of relayprobe-scan.service)
script=$(sed -n "s/^\/bin\/sh -c '\(.*\)'$/\1/p" <<<"$cmd")
ok "scan's ExecStart is one sh -c script" test -n "$script"
RELAYPROBE_SCAN_ARGS="--source 127.0.0.2 --checks relay" sh -c "$script" 2>"$RP_OUT/scan1.err"
rc=$?
ok "scan of a closed server: exit 0" test "$rc" = 0
latest=$state/scan-latest.jsonl
ok "scan-latest.jsonl points at a dated file" \
  bash -c '[[ $(readlink "$1") == "$2"/scan-[0-9]*-[0-9]*.jsonl ]]' _ "$latest" "$state"
ok "the dated file holds the target, closed, status success" \
  jq -e -s 'length == 1 and .[0].verdict == "closed" and .[0].status == "success"' "$latest"
first=$(readlink "$latest")
sleep 1.1  # the file name has seconds: the next run gets a new one
echo "127.0.0.32:$(pf_port open)" >>"$etc/targets"
RELAYPROBE_SCAN_ARGS="--source 127.0.0.2 --checks relay" sh -c "$script" 2>"$RP_OUT/scan2.err"
rc=$?
ok "scan finding an open relay fails the unit: exit 2" test "$rc" = 2
ok "the next run wrote a new file, the first is kept" \
  bash -c '[ "$(readlink "$1")" != "$2" ] && [ -s "$2" ]' _ "$latest" "$first"
ok "the new file has both targets, one open" \
  jq -e -s 'length == 2 and ([.[] | select(.verdict == "open")] | length) == 1' "$latest"
finish
