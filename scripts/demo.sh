#!/usr/bin/env bash
# Quick start, command 1: installs dependencies, builds relayprobe, starts
# two private Postfix instances on loopback -- one closed, one an open relay
# for senders that claim its own domain -- and prints relayprobe's report on
# each. Nothing leaves the machine: the instances listen on 127.0.0.1 and
# hand any mail to a local sink; relayprobe never sends DATA.
# Extra arguments go to relayprobe (e.g. -v for the dialogue, --json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
SRCDIR=$PWD
. tests/integration/postfix.sh
trap pf_cleanup EXIT

echo "== starting two Postfix instances on loopback"
pf_start demo-closed 127.0.0.1 auto >/dev/null
pf_start demo-open 127.0.0.1 auto \
  'smtpd_relay_restrictions = check_sender_access inline:{relaytarget.test=OK}, reject_unauth_destination' >/dev/null

status=0
for name in demo-closed demo-open; do
  port=$(pf_port "$name")
  echo
  echo "== $name: relayprobe check --source 127.0.0.2 127.0.0.1:$port $*"
  # 127.0.0.2 is outside the instances' trusted network (127.0.0.1/32),
  # like a client on the internet.
  rc=0
  ./build/relayprobe check --source 127.0.0.2 "127.0.0.1:$port" "$@" || rc=$?
  echo "(exit code $rc)"
  case "$name:$rc" in
    demo-closed:0|demo-open:2) ;;
    *) status=1 ;;
  esac
done
exit $status
