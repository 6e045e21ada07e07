#!/usr/bin/env bash
# Monitoring integrations: --format nagios (status line, perfdata, plugin
# exit codes) and --prometheus-textfile, against real Postfix instances.
. "$(dirname "$0")/lib.sh"

pf_start closed 127.0.0.1 auto || exit 1
pf_start open 127.0.0.1 auto \
  'smtpd_relay_restrictions = check_sender_access inline:{relaytarget.test=OK}, reject_unauth_destination' || exit 1
C="127.0.0.1:$(pf_port closed)"
O="127.0.0.1:$(pf_port open)"

line=$("$RELAYPROBE" check --format nagios --no-audit --source 127.0.0.2 "$C"); rc=$?
ok "nagios: closed is OK, exit 0" test "$rc" = 0
ok "nagios: one line" test "$(printf '%s\n' "$line" | wc -l)" = 1
ok "nagios: status and perfdata ($line)" grep -Eq '^RELAYPROBE OK - .* \| servers=1;;;0 open_relays=0;;;0 suspect=0;;;0 listings=0;;;0 unreachable=0;;;0 duration=[0-9.]+s;;;0$' <<<"$line"

line=$("$RELAYPROBE" check --format nagios --no-audit --source 127.0.0.2 "$C" "$O"); rc=$?
ok "nagios: an open relay is CRITICAL, exit 2" test "$rc" = 2
ok "nagios: CRITICAL line counts it ($line)" grep -Eq '^RELAYPROBE CRITICAL - .*open.* \| servers=2;;;0 open_relays=1;;;0' <<<"$line"

port=$(pf_free_port)
line=$("$RELAYPROBE" check --format nagios "127.0.0.1:$port"); rc=$?
ok "nagios: unreachable is UNKNOWN, exit 3" bash -c "[ $rc = 3 ] && grep -q '^RELAYPROBE UNKNOWN' <<<'$line'"

prom="$RP_OUT/relayprobe.prom"
"$RELAYPROBE" check --json --no-audit --prometheus-textfile "$prom" --source 127.0.0.2 "$C" "$O" >/dev/null
ok "prometheus: file written" test -s "$prom"
ok "prometheus: no temporary file left" bash -c "! ls '$RP_OUT'/relayprobe.prom.*.tmp 2>/dev/null"
ok "prometheus: servers and open relays" bash -c "grep -qx 'relayprobe_servers_tested 2' '$prom' && grep -qx 'relayprobe_open_relays 1' '$prom'"
ok "prometheus: per-server verdict with labels" grep -Eq '^relayprobe_server_verdict\{target="127.0.0.1:[0-9]+",address="127.0.0.1",port="[0-9]+",verdict="open"\} 1$' "$prom"
ok "prometheus: exit code metric" grep -qx 'relayprobe_exit_code 2' "$prom"
ok "prometheus: every metric has HELP and TYPE" bash -c "for m in \$(grep -v '^#' '$prom' | sed 's/[{ ].*//' | sort -u); do grep -q \"^# TYPE \$m gauge\" '$prom' || exit 1; done"
bad=$("$RELAYPROBE" check --format xml 127.0.0.1 2>&1 >/dev/null); rc=$?
ok "bad --format: exit 3" test "$rc" = 3

finish
