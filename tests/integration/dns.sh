# shellcheck shell=bash
#
# tests/integration/dns.sh -- a private, throw-away DNS world for relayprobe's
# integration tests: authoritative test zones, DNS blocklists and a recursive
# resolver, all on loopback.  Source this file; do not execute it.  It
# coexists with postfix.sh/lib.sh (own dns_/_dns_ names, own DNS_ROOT):
#
#   . tests/integration/lib.sh          # sources postfix.sh, traps EXIT
#   . tests/integration/dns.sh
#   trap 'dns_stop; _rp_cleanup' EXIT   # (without lib.sh: 'dns_stop; pf_cleanup')
#   dns_start || exit 1
#   relayprobe mx --resolver "$DNS_RESOLVER" relaytarget.test
#   dns_dig MX relaytarget.test +short  # dig through the test resolver
#
# What it starts, and why
# -----------------------
#  1. NSD 4.6 (authoritative) on 127.0.0.1:$DNS_NSD_PORT, UDP+TCP, serving
#     each tests/integration/dns/NAME.zone as zone NAME ("root.zone" is the
#     root zone ".") and burst.test, generated at start time.  Response
#     rate limiting is off (NSD's default RRL would starve the resolver
#     during a burst), socket buffers are 8 MB.
#  2. rbldnsd (blocklists; UDP only) on 127.0.0.1:$DNS_RBL_PORT, serving each
#     tests/integration/dns/ZONE.TYPE file as (part of) zone ZONE, TYPE being
#     an rbldnsd dataset type: ip4set, ip4trie, ip6trie, dnset, generic, acl...
#     rbldnsd refuses to run as root: it chroots into a world-readable copy
#     of the files ($DNS_ROOT/rbl, also its query.log) and runs as "rbldns".
#  3. unbound 1.17 (the recursive resolver relayprobe is pointed at) on
#     127.0.0.1:$DNS_UNBOUND_PORT, DNS_RESOLVER="127.0.0.1:PORT", with one
#     stub-zone per zone above (NSD's or rbldnsd's address@port) and a
#     stub-zone for "." pointing at NSD, whose root zone delegates nothing:
#     any other name (example.com, foo.test, "127.0.0.15.") is NXDOMAIN at
#     once.  Stub-zones, not delegations, because a stub names a port.
#
#  Zones and what they answer through the resolver:
#    relaytarget.test  MX 10 mx1, MX 10 mx2 (a tie), MX 20 mx3;
#                      mx1 A 127.0.0.11; mx2 A 127.0.0.12 + AAAA ::1;
#                      mx3 A 127.0.0.11 (mx1's address); mail A 127.0.0.11;
#                      anything else in it: NXDOMAIN
#    implicit.test     no MX (NOERROR/NODATA), A 127.0.0.13 (RFC 5321 5.1)
#    nullmx.test       MX 0 . (RFC 7505)
#    cnamemx.test      MX 10 alias.cnamemx.test; alias CNAME real;
#                      real A 127.0.0.14
#    ipmx.test         MX 10 127.0.0.15. (an IP written as a name: NXDOMAIN)
#    unusable.test     MX 10 nohost.unusable.test, which is NXDOMAIN
#    burst.test        h0..h4999, hN A 127.0.(1 + N/250).(1 + N%250):
#                      h0 127.0.1.1, h249 127.0.1.250, h4999 127.0.20.250
#    lame.test         its server (rbldnsd, acl :ignore) never answers:
#                      SERVFAIL after ~5-7 s, every time (a client with a
#                      shorter timeout sees a timeout); the same name asked
#                      again within ~5 s gets the cached SERVFAIL at once
#    refused.test      its server (rbldnsd, acl :refuse) answers REFUSED:
#                      SERVFAIL at once
#    0.0.127.in-addr.arpa  PTR 1 localhost., 11 mx1.relaytarget.test.,
#                      12 mx2.relaytarget.test., 13 implicit.test.,
#                      14 wrong.example.test. (NXDOMAIN: FCrDNS fails);
#                      no PTR for 15 (NXDOMAIN)
#    0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa  ::1 PTR mx2.relaytarget.test.
#    bl.test      ip4set: 127.0.0.2 -> A 127.0.0.2, TXT "listed: test point";
#                 127.0.0.12 -> A 127.0.0.3, TXT "listed for relaying, see
#                 https://bl.test/127.0.0.12"; 127.0.0.15 -> A 127.255.255.254
#                 (an error code for that address only); 127.0.0.1 NXDOMAIN
#    bl6.test     ip6trie: ::ffff:7f00:2 and ::1 -> A 127.0.0.2 (+ TXT);
#                 ::ffff:7f00:1 NXDOMAIN
#    errors.test  ip4trie: every address -> A 127.255.255.254 (Spamhaus-style
#                 "query via public resolver refused": an error, no listing)
#    world.test   ip4trie: every address -> 127.0.0.2, 127.0.0.1 included
#                 (fails the RFC 5782 self-test)
#    broken.test  ip4set: only 127.0.0.99; 127.0.0.2 NXDOMAIN (fails it too)
#    dbl.test     dnset: test, dbltest.com, listed.example.test -> 127.0.1.2
#                 (+ TXT); invalid, relaytarget.test NXDOMAIN
#  TTLs are 5 s everywhere (unbound caps them: cache-max-ttl 5).
#
#  * Nothing leaves loopback.  Three independent locks in unbound.conf:
#    - "." is a stub to NSD.  unbound's built-in root hints are only a
#      fallback when no hint for "." exists, so they are never loaded (no
#      "using builtin root hints" in a verbosity 4 log; "unbound-control
#      list_stubs" shows ". IN stub noprime 127.0.0.1").  Do NOT add a
#      root-hints: file: it is read before the stubs and would replace the
#      "." stub ("error: second hints for zone . ignored").
#    - do-not-query-address covers every IPv4 address outside 127.0.0.0/8,
#      and all of IPv6 (do-ip6: no).
#    - outgoing-interface: 127.0.0.1: a query to anywhere else could not
#      even be routed.
#    NSD and rbldnsd only answer (no transfers, no notifies).  The built-in
#    local-zones "test.", "127.in-addr.arpa." and ::1's reverse, which would
#    answer for our zones, are switched off (nodefault).
#  * unbound: no chroot, no daemon, no privilege drop, no DNSSEC
#    (module-config: "iterator"), no qname minimisation, caches capped to 5 s,
#    infra-host-ttl 0 (see lame.test), big socket buffers and no wait-limit
#    or discard-timeout, so a burst of 5000 queries at once is all answered.
#    A control socket ($DNS_ROOT/unbound.ctl) serves dns_flush.
#  * Own config, pid and log files for every daemon under $DNS_ROOT; the
#    system's nsd/unbound/rbldnsd (/etc, /run, services) and /etc/resolv.conf
#    are never used.  Ports: random, in 10000-31999 (below the ephemeral range), free for both UDP and
#    TCP; a daemon that loses a bind race is restarted on another port.
#  * Daemons run in the foreground as children of the test shell, stdin/
#    stdout/stderr redirected (they never hold a test's output pipe), and
#    are stopped by PID.  A watchdog (a bash subshell without children) stops
#    them if the test shell dies without running its EXIT trap (e.g. SIGKILL
#    from a CTest timeout).  Zombies count as gone (PID 1 may not reap
#    orphans here).  Needs root.
#
# API (errors on stderr, non-zero status on failure; safe under
# "set -euo pipefail" in the caller)
# ---
#   dns_start       start NSD and rbldnsd (in parallel), then unbound; wait
#                   (<= DNS_START_TIMEOUT s in all) until each answers a
#                   probe query -- unbound a name it must resolve via NSD;
#                   export DNS_RESOLVER=127.0.0.1:PORT, DNS_UNBOUND_PORT,
#                   DNS_NSD_PORT, DNS_RBL_PORT, DNS_ROOT.  Takes ~1 s (2-3 s
#                   on a loaded machine).  Call it directly, not in $(...) or
#                   a pipeline.  A zone file NSD cannot load or a line
#                   rbldnsd skips is an error.  On failure it prints the
#                   daemons' logs, stops them and returns 1.
#   dns_stop        stop everything by PID (TERM, KILL after 3 s), remove
#                   $DNS_ROOT if dns_start made it (unless DNS_KEEP=1).
#                   Idempotent, trap-safe, fine if dns_start never ran or
#                   failed half-way.  dns_cleanup is the same.
#   dns_dig ARG...  dig @127.0.0.1 -p $DNS_UNBOUND_PORT +time=5 +tries=1 ARG...
#   dns_flush       empty unbound's caches (records, negative answers, servers)
#   dns_log [nsd|rbldnsd|unbound|all]   print the daemons' logs
#
# Environment: DNS_ROOT (default: mktemp -d by dns_start), DNS_START_TIMEOUT
# (15), DNS_UNBOUND_VERBOSITY (1; 4 logs every query sent and its target
# address), DNS_KEEP (1: keep $DNS_ROOT).  Needs: nsd, rbldnsd, unbound,
# unbound-control, dig (dnsutils), ss (iproute2): scripts/deps.sh.

# --- state -----------------------------------------------------------------

_DNS_DATA=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/dns
: "${DNS_START_TIMEOUT:=15}"
: "${DNS_UNBOUND_VERBOSITY:=1}"
: "${_DNS_ROOT_OWNED:=0}"
# PIDs of what dns_start started, and the watchdog (kept if this file is
# sourced again).
if [[ -z ${_DNS_LOADED:-} ]]; then
    _DNS_LOADED=1
    _DNS_PIDS=()
    _DNS_NSD_PID=
    _DNS_RBL_PID=
    _DNS_UNBOUND_PID=
    _DNS_WATCHDOG=
    _DNS_RBL_SPECS=()
    _DNS_PORTS=" "
    _DNS_UNBOUND_OLD=0
fi

_dns_err() { echo "dns.sh: $*" >&2; }

# Liveness that treats zombies as dead (PID 1 may not reap orphans here).
_dns_alive() {
    local pid=${1:-} k v
    [[ -n $pid && -r /proc/$pid/status ]] || return 1
    while read -r k v _; do
        if [[ $k == State: ]]; then
            # Explicit status: a bare return inside a trap would return
            # the trap's entry status, not this test's.
            if [[ $v != Z && $v != X ]]; then return 0; else return 1; fi
        fi
    done <"/proc/$pid/status" 2>/dev/null
    return 1
}

# Live descendants of PID (NSD forks a main process, which forks the
# server processes).
_dns_descendants() {
    local p s ppid state
    local -A tree=()
    local -a todo=("$1")
    for p in /proc/[0-9]*/stat; do
        read -r s 2>/dev/null <"$p" || continue
        s=${s##*) }          # skip "pid (comm) ", comm may contain spaces
        read -r state ppid _ <<<"$s"
        [[ $state == Z || $state == X ]] && continue
        p=${p#/proc/}; p=${p%/stat}
        tree[$ppid]+=" $p"
    done
    while ((${#todo[@]})); do
        p=${todo[0]}; todo=("${todo[@]:1}")
        for s in ${tree[$p]:-}; do
            echo "$s"
            todo+=("$s")
        done
    done
    return 0
}

_dns_port_in_use() {
    [[ -n "$(ss -lunH "sport = :$1" 2>/dev/null)$(ss -ltnH "sport = :$1" 2>/dev/null)" ]]
}

# Set _dns_port to a random port in 10000-31999 (below the ephemeral range), free for UDP and TCP, not
# handed out before (not in $(...): it records the ports it hands out).
_dns_free_port() {
    local i p
    for ((i = 0; i < 200; i++)); do
        p=$(( 10000 + (RANDOM * 32768 + RANDOM) % 22000 ))  # below the ephemeral range (32768+): no outgoing socket can hold it
        [[ $_DNS_PORTS == *" $p "* ]] && continue
        _dns_port_in_use "$p" && continue
        _DNS_PORTS+="$p "
        _dns_port=$p
        return 0
    done
    _dns_err "no free port found"
    return 1
}

# dig one name at 127.0.0.1:PORT, print the short answer (empty if none).
_dns_ask() {
    local port=$1; shift
    local out
    out=$(dig @127.0.0.1 -p "$port" +time=1 +tries=1 +short "$@" 2>/dev/null) || true
    printf '%s' "$out"
}

# Wait until "_dns_ask PORT QUESTION..." prints WANT, while PID lives.
# Returns 0 ready, 2 process died, 3 deadline passed.
_dns_wait() {
    local pid=$1 port=$2 want=$3; shift 3
    while :; do
        [[ "$(_dns_ask "$port" "$@")" == "$want" ]] && return 0
        _dns_alive "$pid" || return 2
        ((SECONDS >= _dns_deadline)) && return 3
        sleep 0.05
    done
}

# Start "CMD..." in the background (stdin from /dev/null, output to LOG);
# its PID goes to $_dns_pid and _DNS_PIDS.  Not in a subshell: the daemon
# must be a child of the test shell.
_dns_spawn() {
    local log=$1; shift
    "$@" </dev/null >>"$log" 2>&1 &
    _dns_pid=$!
    disown "$_dns_pid" 2>/dev/null || true
    _DNS_PIDS+=("$_dns_pid")
}

# Drop a dead PID from _DNS_PIDS (so dns_stop never signals a reused PID).
_dns_forget() {
    local p
    local -a keep=()
    for p in "${_DNS_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    _DNS_PIDS=("${keep[@]}")
}

# TERM the given PIDs, wait up to 3 s, then KILL those left.
_dns_kill() {
    local pids=("$@") p i left
    for p in "${pids[@]}"; do
        _dns_alive "$p" && kill -TERM "$p" 2>/dev/null
    done
    for ((i = 0; i < 60; i++)); do
        left=
        for p in "${pids[@]}"; do _dns_alive "$p" && left+=" $p"; done
        [[ -z $left ]] && return 0
        sleep 0.05
    done
    for p in $left; do
        _dns_err "pid $p ($(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)) survived TERM, kill -9"
        kill -KILL "$p" 2>/dev/null || true
    done
    for ((i = 0; i < 40; i++)); do
        left=
        for p in "${pids[@]}"; do _dns_alive "$p" && left+=" $p"; done
        [[ -z $left ]] && return 0
        sleep 0.05
    done
    _dns_err "processes survive kill -9:$left"
    return 1
}

# --- the servers -------------------------------------------------------------

# burst.test: 5000 names, generated (not committed).
_dns_burst_zone() {
    awk 'BEGIN {
        print "$ORIGIN burst.test."
        print "$TTL 300"
        print "@ IN SOA ns.relaytarget.test. hostmaster.relaytarget.test. ( 1 3600 600 86400 5 )"
        print "@ IN NS ns.relaytarget.test."
        for (i = 0; i < 5000; i++)
            printf "h%d IN A 127.0.%d.%d\n", i, 1 + int(i / 250), 1 + i % 250
    }' >"$1"
}

# Zone names served by NSD, one per line: "NAME FILE".
_dns_nsd_zones() {
    local f z
    for f in "$_DNS_DATA"/*.zone; do
        [[ -e $f ]] || continue
        z=${f##*/}; z=${z%.zone}
        [[ $z == root ]] && z=.
        echo "$z $f"
    done
    echo "burst.test $DNS_ROOT/nsd/burst.test.zone"
}

# Datasets served by rbldnsd, one per line: "ZONE TYPE FILE" (several files
# of one zone make one zone, e.g. lame.test.acl + lame.test.generic).
_dns_rbl_zones() {
    local f b
    for f in "$_DNS_DATA"/*; do
        b=${f##*/}
        case $b in
            *.ip4set|*.ip4tset|*.ip4trie|*.ip6tset|*.ip6trie|*.dnset|*.generic|*.combined|*.acl)
                echo "${b%.*} ${b##*.} $b" ;;
        esac
    done
}

# Write nsd.conf for a new port and start NSD (sets DNS_NSD_PORT, tentative
# until _dns_ready nsd).
_dns_launch_nsd() {
    local d=$DNS_ROOT/nsd port z f out
    _dns_free_port || return 1
    port=$_dns_port
    {
        echo "# Generated by tests/integration/dns.sh"
        echo "server:"
        echo "    ip-address: 127.0.0.1@$port"
        echo "    port: $port"
        echo "    do-ip4: yes"
        echo "    do-ip6: no"
        echo "    reuseport: no"
        echo "    server-count: 1"
        echo "    chroot: \"\""
        echo "    username: \"\""
        echo "    database: \"\""
        echo "    zonelistfile: \"$d/zone.list\""
        echo "    xfrdfile: \"$d/xfrd.state\""
        echo "    xfrdir: \"$d\""
        echo "    pidfile: \"$d/nsd.pid\""
        echo "    logfile: \"$d/nsd.log\""
        echo "    verbosity: 1"
        echo "    hide-version: yes"
        echo "    round-robin: no"
        echo "    receive-buffer-size: 8388608"
        echo "    send-buffer-size: 8388608"
        # Response rate limiting (on by default: ~200 answers/s per client
        # net) starves the test resolver during the burst test: SERVFAIL.
        echo "    rrl-ratelimit: 0"
        echo "    rrl-whitelist-ratelimit: 0"
        echo "remote-control:"
        echo "    control-enable: no"
        while read -r z f; do
            echo "zone:"
            echo "    name: \"$z\""
            echo "    zonefile: \"$f\""
        done < <(_dns_nsd_zones)
    } >"$d/nsd.conf" || return 1
    if ! out=$(nsd-checkconf "$d/nsd.conf" 2>&1); then
        _dns_err "nsd-checkconf $d/nsd.conf: $out"
        return 1
    fi
    rm -f "$d/nsd.log"
    _dns_spawn "$d/nsd.stderr" nsd -d -c "$d/nsd.conf"
    _DNS_NSD_PID=$_dns_pid
    DNS_NSD_PORT=$port
}

# NSD serves whatever zones it could read and only logs the others: make a
# broken zone file an error.
_dns_check_nsd_zones() {
    local log=$DNS_ROOT/nsd/nsd.log z f bad=""
    while ! grep -qs 'nsd started' "$log"; do
        if ((SECONDS >= _dns_deadline)); then
            _dns_err "nsd never logged 'nsd started'"
            return 1
        fi
        sleep 0.05
    done
    local text
    text=$(<"$log")
    while read -r z f; do
        [[ $text == *"zone $z read with success"* ]] || bad+=" $z ($f)"
    done < <(_dns_nsd_zones)
    if [[ -n $bad ]]; then
        _dns_err "nsd could not load zone(s):$bad"
        return 1
    fi
}

# rbldnsd skips a bad line with a warning ("file F(LINE): ..."): make it an
# error too (it is logged before rbldnsd answers).
_dns_check_rbldnsd_data() {
    local bad
    bad=$(grep -E '^rbldnsd: file .*\([0-9]+\): ' "$DNS_ROOT/rbl/rbldnsd.log" 2>/dev/null) || true
    if [[ -n $bad ]]; then
        _dns_err "rbldnsd found errors in its data:"
        printf '%s\n' "$bad" >&2
        return 1
    fi
}

_dns_prepare_rbldnsd() {
    local d=$DNS_ROOT/rbl z t f
    local -a files=()
    _DNS_RBL_SPECS=()
    mkdir -p "$d" || return 1
    while read -r z t f; do
        files+=("$_DNS_DATA/$f")
        _DNS_RBL_SPECS+=("$z:$t:$f")
    done < <(_dns_rbl_zones)
    if ((${#_DNS_RBL_SPECS[@]} == 0)); then
        _dns_err "no rbldnsd datasets in $_DNS_DATA"
        return 1
    fi
    cp "${files[@]}" "$d/" || return 1
    : >"$d/query.log"
    chmod 755 "$d" && chmod 644 "$d"/* && chown rbldns "$d/query.log"
}

_dns_launch_rbldnsd() {
    local d=$DNS_ROOT/rbl port
    _dns_free_port || return 1
    port=$_dns_port
    # -n foreground, -r chroot into the data copy (query.log is written
    # there, as user rbldns), -a no AUTH section, -t 5 s TTL, -c 0 no
    # reload checks.
    _dns_spawn "$d/rbldnsd.log" rbldnsd -n -4 -b "127.0.0.1/$port" -r "$d" -w / \
        -p "$DNS_ROOT/rbldnsd.pid" -l +query.log -a -t 5 -c 0 "${_DNS_RBL_SPECS[@]}"
    _DNS_RBL_PID=$_dns_pid
    DNS_RBL_PORT=$port
}

# _dns_ready nsd|rbldnsd|unbound: wait until the daemon answers its probe
# question; relaunch it on another port if it died of a bind race.
_dns_ready() {
    local name=$1 attempt rc pid port want
    local -a q logs
    for ((attempt = 1; ; attempt++)); do
        case $name in
            nsd) pid=$_DNS_NSD_PID port=$DNS_NSD_PORT want=127.0.0.11
                 q=(A mx1.relaytarget.test +norec) logs=(nsd/nsd.log nsd/nsd.stderr) ;;
            rbldnsd) pid=$_DNS_RBL_PID port=$DNS_RBL_PORT want=127.0.0.2
                 q=(A 2.0.0.127.bl.test +norec) logs=(rbl/rbldnsd.log) ;;
            unbound) pid=$_DNS_UNBOUND_PID port=$DNS_UNBOUND_PORT want=127.0.0.11
                 q=(A mx1.relaytarget.test) logs=(unbound.log unbound.stderr) ;;
        esac
        rc=0
        _dns_wait "$pid" "$port" "$want" "${q[@]}" || rc=$?
        ((rc == 0)) && return 0
        if ((rc == 2 && attempt < 5)) && (cd "$DNS_ROOT" && grep -qs 'in use' "${logs[@]}"); then
            _dns_err "$name lost a race for port $port, retrying on another"
            _dns_forget "$pid"
            "_dns_launch_$name" || return 1
            continue
        fi
        if ((rc == 2)); then
            _dns_err "$name died before it answered on 127.0.0.1:$port"
        else
            _dns_err "$name did not answer '${q[*]}' with $want on 127.0.0.1:$port within ${DNS_START_TIMEOUT}s"
        fi
        return 1
    done
}

_dns_unbound_conf() {
    local d=$DNS_ROOT port=$1 z t f
    cat <<EOF
# Generated by tests/integration/dns.sh: a resolver that only ever talks to
# the loopback servers below.
server:
    verbosity: $DNS_UNBOUND_VERBOSITY
    use-syslog: no
    logfile: "$d/unbound.log"
    log-time-ascii: yes
    log-servfail: yes
    chroot: ""
    username: ""
    directory: "$d"
    pidfile: "$d/unbound.pid"
    do-daemonize: no
    num-threads: 1
    so-reuseport: no
    interface: 127.0.0.1@$port
    port: $port
    do-ip4: yes
    do-ip6: no
    do-udp: yes
    do-tcp: yes
    access-control: 127.0.0.0/8 allow
    # Bursts: the kernel's default receive buffer drops most of 5000
    # queries sent at once; answer every query, however many wait or however
    # long they take (wait-limit and discard-timeout, default 1000 and
    # 1900 ms, came with Debian's 1.17.1-2+deb12u4 security update; a build
    # without them is detected, see _dns_launch_unbound).
    num-queries-per-thread: 4096
    outgoing-range: 8192
    so-rcvbuf: 8m
    so-sndbuf: 8m
$( ((_DNS_UNBOUND_OLD)) || printf '    wait-limit: 0\n    discard-timeout: 0\n' )
    # Forget at once what was learnt about servers: lame.test then fails the
    # same way (SERVFAIL after ~5-7 s) every time, not instantly while its
    # server is remembered as down and after 10-25 s when it is re-probed.
    infra-host-ttl: 0

    # Never talk to anything but loopback (see dns.sh's header).
    outgoing-interface: 127.0.0.1
    do-not-query-localhost: no
    do-not-query-address: 0.0.0.0/2
    do-not-query-address: 64.0.0.0/3
    do-not-query-address: 96.0.0.0/4
    do-not-query-address: 112.0.0.0/5
    do-not-query-address: 120.0.0.0/6
    do-not-query-address: 124.0.0.0/7
    do-not-query-address: 126.0.0.0/8
    do-not-query-address: 128.0.0.0/1
    do-not-query-address: ::/0

    # No DNSSEC, plain iteration, short caches.
    module-config: "iterator"
    qname-minimisation: no
    prefetch: no
    cache-max-ttl: 5
    cache-max-negative-ttl: 5

    # Built-in local zones that would shadow our test zones.
    local-zone: "test." nodefault
    local-zone: "127.in-addr.arpa." nodefault
    local-zone: "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa." nodefault

remote-control:
    control-enable: yes
    control-interface: "$d/unbound.ctl"

EOF
    while read -r z f; do
        printf 'stub-zone:\n    name: "%s"\n    stub-addr: 127.0.0.1@%s\n' "$z" "$DNS_NSD_PORT"
    done < <(_dns_nsd_zones)
    while read -r z t f; do
        printf 'stub-zone:\n    name: "%s"\n    stub-addr: 127.0.0.1@%s\n' "$z" "$DNS_RBL_PORT"
    done < <(_dns_rbl_zones | sort -u -k1,1)
}

_dns_launch_unbound() {
    local d=$DNS_ROOT port out
    _dns_free_port || return 1
    port=$_dns_port
    _dns_unbound_conf "$port" >"$d/unbound.conf" || return 1
    out=$(unbound-checkconf "$d/unbound.conf" 2>&1) || true
    if [[ $out == *"unknown keyword 'wait-limit'"* || $out == *"unknown keyword 'discard-timeout'"* ]]; then
        _DNS_UNBOUND_OLD=1
        _dns_unbound_conf "$port" >"$d/unbound.conf" || return 1
        out=$(unbound-checkconf "$d/unbound.conf" 2>&1) || true
    fi
    if [[ $out != *"no errors"* ]]; then
        _dns_err "unbound-checkconf $d/unbound.conf: $out"
        return 1
    fi
    rm -f "$d/unbound.log"
    _dns_spawn "$d/unbound.stderr" unbound -d -c "$d/unbound.conf"
    _DNS_UNBOUND_PID=$_dns_pid
    DNS_UNBOUND_PORT=$port
}

# Stop the daemons if the test shell dies without running dns_stop.  No
# child processes of its own (read -t on a FIFO instead of sleep).
_dns_start_watchdog() {
    local parent=$1 fifo=$DNS_ROOT/watchdog.fifo root=$DNS_ROOT p rm=0
    local -a pids=("${_DNS_PIDS[@]}")
    for p in $(_dns_descendants "$_DNS_NSD_PID"); do pids+=("$p"); done
    [[ $_DNS_ROOT_OWNED == 1 && ${DNS_KEEP:-0} != 1 ]] && rm=1
    mkfifo "$fifo" || return 1
    (
        trap - EXIT INT TERM HUP
        exec 3<>"$fifo" </dev/null >/dev/null 2>&1
        while _dns_alive "$parent"; do read -r -t 1 -u 3 _ || true; done
        kill -TERM "${pids[@]}" 2>/dev/null
        for ((i = 0; i < 30; i++)); do
            left=0
            for p in "${pids[@]}"; do _dns_alive "$p" && left=1; done
            ((left)) || break
            read -r -t 0.1 -u 3 _ || true
        done
        for p in "${pids[@]}"; do _dns_alive "$p" && kill -KILL "$p" 2>/dev/null; done
        ((rm)) && rm -rf "$root"
        exit 0
    ) &
    _DNS_WATCHDOG=$!
    disown "$_DNS_WATCHDOG" 2>/dev/null || true
}

# --- API ---------------------------------------------------------------------

dns_start() {
    local p tool caller=$BASHPID
    for p in "${_DNS_PIDS[@]}"; do
        if _dns_alive "$p"; then
            _dns_err "dns_start: already running (call dns_stop first)"
            return 1
        fi
    done
    if [[ $EUID -ne 0 ]]; then
        _dns_err "dns_start: must run as root (rbldnsd chroots and drops to user rbldns)"
        return 1
    fi
    for tool in nsd nsd-checkconf rbldnsd unbound unbound-checkconf unbound-control dig ss; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            _dns_err "dns_start: '$tool' not found (run scripts/deps.sh)"
            return 1
        fi
    done
    if [[ ! -d $_DNS_DATA ]]; then
        _dns_err "dns_start: no zone directory $_DNS_DATA"
        return 1
    fi
    if [[ -z "${DNS_ROOT:-}" ]]; then
        DNS_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/relayprobe-dns.XXXXXX") || {
            _dns_err "mktemp failed"; return 1; }
        _DNS_ROOT_OWNED=1
    fi
    mkdir -p "$DNS_ROOT" && chmod 755 "$DNS_ROOT" || return 1
    _DNS_PIDS=() _DNS_NSD_PID='' _DNS_RBL_PID='' _DNS_UNBOUND_PID=''
    _DNS_WATCHDOG='' _DNS_PORTS=" "
    DNS_NSD_PORT='' DNS_RBL_PORT='' DNS_UNBOUND_PORT='' DNS_RESOLVER=
    _dns_deadline=$((SECONDS + DNS_START_TIMEOUT))
    # NSD and rbldnsd start in parallel; unbound needs their ports.
    if ! { mkdir -p "$DNS_ROOT/nsd" &&
           _dns_burst_zone "$DNS_ROOT/nsd/burst.test.zone" &&
           _dns_launch_nsd && _dns_prepare_rbldnsd && _dns_launch_rbldnsd &&
           _dns_ready nsd && _dns_check_nsd_zones &&
           _dns_ready rbldnsd && _dns_check_rbldnsd_data &&
           _dns_launch_unbound && _dns_ready unbound &&
           _dns_start_watchdog "$caller"; }; then
        _dns_err "dns_start failed; logs follow"
        dns_log all >&2 || true
        dns_stop || true
        return 1
    fi
    DNS_RESOLVER="127.0.0.1:$DNS_UNBOUND_PORT"
    export DNS_ROOT DNS_RESOLVER DNS_NSD_PORT DNS_RBL_PORT DNS_UNBOUND_PORT
    return 0
}

dns_stop() {
    local rc=0 p
    local -a kids=()
    if [[ -n ${_DNS_WATCHDOG:-} ]]; then
        _dns_kill "$_DNS_WATCHDOG" 2>/dev/null || true
        _DNS_WATCHDOG=
    fi
    # NSD's other processes: note them while NSD still lives.  NSD stops
    # them itself on TERM; they are only killed if they outlive it.
    if _dns_alive "${_DNS_NSD_PID:-}"; then
        for p in $(_dns_descendants "$_DNS_NSD_PID"); do kids+=("$p"); done
    fi
    if ((${#_DNS_PIDS[@]})); then
        _dns_kill "${_DNS_PIDS[@]}" || rc=1
    fi
    if ((${#kids[@]})); then
        _dns_kill "${kids[@]}" || rc=1
    fi
    _DNS_PIDS=() _DNS_NSD_PID='' _DNS_RBL_PID='' _DNS_UNBOUND_PID=''
    if [[ $_DNS_ROOT_OWNED == 1 && ${DNS_KEEP:-0} != 1 && $rc == 0 && -d "${DNS_ROOT:-}" ]]; then
        rm -rf "$DNS_ROOT"
        DNS_ROOT=
        _DNS_ROOT_OWNED=0
    elif [[ -n "${DNS_ROOT:-}" && -d $DNS_ROOT ]]; then
        _dns_err "DNS servers' files kept in $DNS_ROOT"
    fi
    return $rc
}

dns_cleanup() { dns_stop "$@"; }

dns_dig() {
    if [[ -z "${DNS_UNBOUND_PORT:-}" ]]; then
        _dns_err "dns_dig: the test resolver is not running (dns_start)"
        return 1
    fi
    dig @127.0.0.1 -p "$DNS_UNBOUND_PORT" +time=5 +tries=1 "$@"
}

dns_flush() {
    local out
    if [[ -z "${DNS_ROOT:-}" || ! -S $DNS_ROOT/unbound.ctl ]]; then
        _dns_err "dns_flush: the test resolver is not running (dns_start)"
        return 1
    fi
    # flush_zone . drops every record and message (SERVFAILs included);
    # flush_infra drops what it learnt about the servers.
    if ! out=$(unbound-control -c "$DNS_ROOT/unbound.conf" flush_zone . 2>&1 &&
               unbound-control -c "$DNS_ROOT/unbound.conf" flush_infra all 2>&1); then
        _dns_err "dns_flush: unbound-control failed: $out"
        return 1
    fi
}

dns_log() {
    local which=${1:-all} f
    local -a files=()
    [[ -n "${DNS_ROOT:-}" && -d $DNS_ROOT ]] || { _dns_err "dns_log: no DNS_ROOT"; return 1; }
    case $which in
        nsd) files=(nsd/nsd.log nsd/nsd.stderr) ;;
        rbldnsd) files=(rbl/rbldnsd.log rbl/query.log) ;;
        unbound) files=(unbound.log unbound.stderr) ;;
        all) files=(nsd/nsd.log nsd/nsd.stderr rbl/rbldnsd.log unbound.log unbound.stderr) ;;
        *) _dns_err "dns_log: nsd, rbldnsd, unbound or all"; return 1 ;;
    esac
    for f in "${files[@]}"; do
        [[ -s $DNS_ROOT/$f ]] || continue
        echo "---- $f ----"
        cat "$DNS_ROOT/$f"
    done
    return 0
}
