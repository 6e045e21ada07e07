# shellcheck shell=bash
#
# tests/integration/opensmtpd.sh -- private, throw-away OpenSMTPD 6.8 daemons
# for relayprobe's integration tests.  Source this file; do not execute it.
#
#   . tests/integration/opensmtpd.sh
#   trap os_cleanup EXIT
#   os_start closed 127.0.0.1 auto                  # closed relay (default)
#   os_start open   127.0.0.1 auto open             # relays for everybody
#   os_start x      127.0.0.1 auto closed \
#       'match from any mail-from "@relaytarget.test" for any action "relay"'
#   relayprobe --source 127.0.0.2 "127.0.0.1:$(os_port open)" ...
#
# What it does and why
# --------------------
# OpenSMTPD conflicts with Postfix as Debian's MTA, so it is never installed:
# the harness downloads Debian 12's opensmtpd package with "apt-get download"
# into $RP_MTA_CACHE (default /var/cache/relayprobe-test, shared with
# exim.sh; under a lock, once) and unpacks it there with "dpkg -x".  The only
# persistent change to the system is the system users "opensmtpd" and
# "opensmtpq" (the binary's compiled-in privsep users), created with useradd
# if missing.  All its libraries (libevent, libssl, ...) are already on a
# system that builds relayprobe.
#
# smtpd has compiled-in paths it must own: /var/spool/smtpd (queue),
# /var/run/smtpd.sock and smtpd.pid (control), /var/lib/opensmtpd/empty
# (chroot of the unprivileged processes), /usr/libexec/opensmtpd (mail.lmtp
# and the other delivery helpers), and it resolves the PTR name of every
# client (no way to turn that off).  So every instance runs in private
# mount, PID and UTS namespaces ("unshare --mount --pid --uts --fork
# --kill-child"): the instance directory "$OS_ROOT/NAME" provides, by bind
# mounts visible only inside, /var/spool (spool), /var/lib (the empty chroot
# dir), /run (socket, pid file), /usr/libexec (from the unpacked package) and
# /etc/resolv.conf ("nameserver 127.0.0.1", so the PTR lookups -- and the
# hostname lookup at startup -- never leave the machine; nothing answers on
# 127.0.0.1:53 normally, so they fail at once and the session shows
# host=<unknown>; 127.0.0.1 is "localhost" via /etc/hosts).  The UTS
# namespace's hostname is mx.relaytarget.test, which smtpd takes as its
# server name.  Then "smtpd -d -f smtpd.conf" runs in the foreground as PID 1
# of the namespace; its log goes to "$OS_ROOT/NAME/smtpd.log".
#
#  * Loopback only: listen on ADDR port PORT (hostname mx.relaytarget.test).
#  * Nothing leaves the machine: mail for the local domains is handed by
#    LMTP to 127.0.0.1:$OS_SINK and every relayed message goes to
#    smtp://127.0.0.1:$OS_SINK -- nothing listens on 9, so anything ever
#    accepted just stays in the (private) queue.  relayprobe never sends
#    DATA, so in practice nothing is ever queued.
#  * Local domains relaytarget.test and mx.relaytarget.test accept any local
#    part (virtual table with the catch-all "@" mapped to user opensmtpd),
#    or only postmaster with the "strict" profile word.
#  * Delivery proof: with OS_SINK=PORT (relayprobe's --receiver port)
#    relayed mail really is delivered, to 127.0.0.1:PORT and nowhere else
#    (local deliveries then fail: LMTP to an SMTP receiver).
#  * Stopping is leak-proof: the daemon is PID 1 of its PID namespace, and
#    when it exits the kernel kills whatever is left in the namespace.
#    Processes of an instance are found by their PID namespace (zombies count
#    as gone: PID 1 of the machine may not reap orphans here).
#
# What a client sees (OpenSMTPD 6.8 has no VRFY/EXPN, no version in the
# banner, no PIPELINING -- pipelined commands get "500 5.5.1 Invalid
# command: Pipelining not supported" -- and words relay denials as "Invalid
# recipient"):
#   220 mx.relaytarget.test ESMTP OpenSMTPD
#   VRFY/EXPN x   -> 500 5.5.1 Invalid command: Command unrecognized
#   closed, RCPT TO:<b@gmail.com> from outside -> 550 Invalid recipient: <b@gmail.com>
#
# API (all functions print errors on stderr and return non-zero on failure;
# safe under "set -euo pipefail" in the caller)
# ---
#   os_start NAME ADDR PORT [PROFILE...] [LINE...]
#       Create and start instance NAME on ADDR:PORT and wait (<=
#       $OS_START_TIMEOUT s) for its "220 " greeting.  ADDR: 127.x.y.z or
#       ::1.  PORT: a number or "auto" (a free port, retried on a bind race;
#       read it back with os_port NAME).  PROFILE:
#         closed  (default) local domains from anyone;
#                 "match from local for any action "relay"" -- "local" is
#                 OpenSMTPD's <localhost> table: 127.0.0.1, ::1 and the
#                 machine's interface addresses, NOT the rest of 127/8, so a
#                 client bound to 127.0.0.2 is an outsider
#         open    "match from any for any action "relay"" -- an open relay
#         strict  (with closed or open) the local domains have only
#                 postmaster: the virtual table maps "postmaster" instead of
#                 the catch-all "@", so other local parts get "524 5.2.4
#                 Mailing list expansion problem" (OpenSMTPD's answer to a
#                 failed virtual expansion)
#       Each LINE is a raw smtpd.conf line: "match ..." lines go before the
#       profile's match rules (first match wins), anything else (table,
#       action, global options) before the "listen" line.  The actions
#       "local" (LMTP sink) and "relay" (smtp://127.0.0.1:$OS_SINK) and the
#       table <local_domains> are defined.  smtpd -n must accept the result.
#   os_stop NAME        SIGTERM the daemon, make sure nothing of the instance
#                       is left (zombies count as gone), SIGKILL if needed.
#   os_stop_all         os_stop every instance under $OS_ROOT (trap-safe).
#   os_cleanup          os_stop_all, then remove $OS_ROOT if this file
#                       created it (OS_KEEP=1 keeps it for post-mortem).
#   os_log NAME         print the instance's log (smtpd's stderr).
#   os_port NAME / os_addr NAME / os_dir NAME (instance dir) / os_conf NAME
#                       (path of its smtpd.conf) / os_pid NAME (daemon PID).
#   os_free_port        print a random TCP port in 10000-31999 (below the ephemeral range) nobody uses.
#   os_fetch            download + unpack OpenSMTPD now (os_start does it
#                       too); prints the path of the smtpd binary.
#
# Environment: OS_ROOT (default: mktemp -d, created when this file is
# sourced, exported), RP_MTA_CACHE (default /var/cache/relayprobe-test),
# OS_SINK (default 9), OS_START_TIMEOUT (default 15 s), OS_VERBOSE=1 (smtpd
# -v: debug logging), OS_KEEP.

# --- state -----------------------------------------------------------------

if [[ -z "${OS_ROOT:-}" ]]; then
    OS_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/relayprobe-os.XXXXXX") || {
        echo "opensmtpd.sh: mktemp failed" >&2
        return 1
    }
    chmod 755 "$OS_ROOT"
    _OS_ROOT_OWNED=1
fi
export OS_ROOT
: "${_OS_ROOT_OWNED:=0}"
: "${RP_MTA_CACHE:=/var/cache/relayprobe-test}"
: "${OS_SINK:=9}"
: "${OS_START_TIMEOUT:=15}"
_OS_PKG=
_OS_BIN=

_os_err() { echo "opensmtpd.sh: $*" >&2; }

_os_check_name() {
    if [[ ! "${1:-}" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]]; then
        _os_err "bad instance name '${1:-}' (use [A-Za-z0-9_.-])"
        return 1
    fi
}

_os_idir() { printf '%s/%s\n' "$OS_ROOT" "$1"; }

# Liveness that treats zombies as dead (PID 1 may not reap orphans here).
_os_alive() {
    local pid=${1:-} k v
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    { while read -r k v _; do
          if [[ $k == State: ]]; then
              # Explicit codes: a bare "return" in a function run from a
              # trap handler (ex_cleanup in an EXIT trap) returns the status
              # the shell had before the trap, not that of the test.
              if [[ $v != Z && $v != X ]]; then return 0; else return 1; fi
          fi
      done <"/proc/$pid/status"; } 2>/dev/null
    return 1
}

# PORT [ADDR]: something listens on PORT (on ADDR or a wildcard address).
_os_port_in_use() {
    local out
    out=$(ss -ltnH "sport = :$1" 2>/dev/null) || return 1
    [[ -n $out ]] || return 1
    [[ -z ${2:-} ]] && return 0
    local a=$2
    [[ $a == *:* ]] && a="[$a]"
    grep -qE "(^|[[:space:]])($(printf '%s' "$a" | sed 's/[].[]/\\&/g')|\*|0\.0\.0\.0|\[::\]):$1([[:space:]]|$)" <<<"$out"
}

os_free_port() {
    local i p
    for ((i = 0; i < 200; i++)); do
        p=$(( 10000 + (RANDOM * 32768 + RANDOM) % 22000 ))  # below the ephemeral range (32768+): no outgoing socket can hold it
        _os_port_in_use "$p" && continue
        if compgen -G "$OS_ROOT/*/port" >/dev/null &&
           grep -qxF "$p" "$OS_ROOT"/*/port 2>/dev/null; then
            continue
        fi
        echo "$p"
        return 0
    done
    _os_err "os_free_port: no free port found"
    return 1
}

# --- the software ------------------------------------------------------------

# _rp_mta_unpack PKG VERSION-PREFIX: make sure $RP_MTA_CACHE/root/PKG holds
# the unpacked Debian package PKG (version VERSION-PREFIX*), downloading it
# with "apt-get download" (after one "apt-get update" if that fails).  The
# caller holds the cache lock.  Shared with exim.sh (same code there).
_rp_mta_unpack() {
    local pkg=$1 want=$2 cache=$RP_MTA_CACHE deb ver out
    local dir=$cache/root/$pkg
    [[ -f $dir/.unpacked ]] && return 0
    mkdir -p "$cache/debs" || return 1
    deb=$(compgen -G "$cache/debs/${pkg}_${want}*.deb" | sort -V | tail -n 1) || true
    if [[ -z $deb ]]; then
        if ! out=$(cd "$cache/debs" && apt-get download "$pkg" 2>&1); then
            out+=$'\n'$(apt-get update -qq 2>&1)
            if ! out+=$'\n'$(cd "$cache/debs" && apt-get download "$pkg" 2>&1); then
                echo "apt-get download $pkg failed:" >&2; echo "$out" >&2
                return 1
            fi
        fi
        deb=$(compgen -G "$cache/debs/${pkg}_*.deb" | sort -V | tail -n 1) || true
        [[ -n $deb ]] || { echo "apt-get download $pkg: no .deb in $cache/debs" >&2; return 1; }
    fi
    ver=$(dpkg-deb -f "$deb" Version) || return 1
    if [[ $ver != "$want"* ]]; then
        echo "$deb is version $ver, want $want*" >&2
        return 1
    fi
    rm -rf "$dir.tmp"
    if ! mkdir -p "$dir.tmp" || ! dpkg -x "$deb" "$dir.tmp"; then
        rm -rf "$dir.tmp"
        return 1
    fi
    basename "$deb" >"$dir.tmp/.unpacked"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

# _rp_mta_user NAME HOME COMMENT: create system user+group NAME if missing
# (idempotent, race-tolerant: a concurrent useradd may win).
_rp_mta_user() {
    local name=$1 home=$2 comment=$3 out
    getent passwd "$name" >/dev/null && return 0
    local -a grp=(--user-group)
    getent group "$name" >/dev/null && grp=(--gid "$name")
    if ! out=$(useradd --system "${grp[@]}" --home-dir "$home" --no-create-home \
                   --shell /usr/sbin/nologin --comment "$comment" "$name" 2>&1); then
        getent passwd "$name" >/dev/null && return 0
        echo "useradd $name failed: $out" >&2
        return 1
    fi
}

os_fetch() {
    if [[ -n $_OS_BIN && -x $_OS_BIN ]]; then echo "$_OS_BIN"; return 0; fi
    if [[ $EUID -ne 0 ]]; then
        _os_err "os_fetch: must run as root"
        return 1
    fi
    mkdir -p "$RP_MTA_CACHE" || return 1
    local pkg=$RP_MTA_CACHE/root/opensmtpd rc=0 missing
    # A subshell: "exit" leaves only it (and releases the lock).
    (
        flock -w 600 9 || { _os_err "os_fetch: cannot lock $RP_MTA_CACHE/.lock"; exit 1; }
        _rp_mta_unpack opensmtpd 6.8 || exit 1
        _rp_mta_user opensmtpd /var/lib/opensmtpd/empty "OpenSMTPD (relayprobe tests)" || exit 1
        _rp_mta_user opensmtpq /var/lib/opensmtpd/empty "OpenSMTPD queue (relayprobe tests)" || exit 1
    ) 9>>"$RP_MTA_CACHE/.lock" || rc=$?
    ((rc == 0)) || { _os_err "os_fetch: could not provide OpenSMTPD (see above)"; return 1; }
    missing=$(ldd "$pkg/usr/sbin/smtpd" 2>/dev/null | awk '/not found/ {print $1}')
    if [[ -n $missing ]]; then
        _os_err "os_fetch: $pkg/usr/sbin/smtpd lacks libraries: $missing"
        return 1
    fi
    _OS_PKG=$pkg
    _OS_BIN=$pkg/usr/sbin/smtpd
    echo "$_OS_BIN"
}

# --- accessors ---------------------------------------------------------------

os_dir()  { _os_check_name "${1:-}" || return 1; _os_idir "$1"; }
os_conf() { _os_check_name "${1:-}" || return 1; echo "$(_os_idir "$1")/smtpd.conf"; }
os_port() { _os_check_name "${1:-}" || return 1; cat "$(_os_idir "$1")/port"; }
os_addr() { _os_check_name "${1:-}" || return 1; cat "$(_os_idir "$1")/addr"; }
os_pid()  { _os_check_name "${1:-}" || return 1; cat "$(_os_idir "$1")/daemon.pid"; }

os_log() {
    _os_check_name "${1:-}" || return 1
    local f
    f="$(_os_idir "$1")/smtpd.log"
    if [[ ! -e $f ]]; then
        _os_err "os_log: no log for instance '$1' ($f)"
        return 1
    fi
    cat "$f"
}

# --- configuration -------------------------------------------------------------

_os_write_config() {
    local idir=$1 addr=$2 port=$3; shift 3
    local profile=closed strict=0 a
    local -a pre=() matches=()
    while (($# > 0)); do
        case $1 in
            closed|open) profile=$1 ;;
            strict) strict=1 ;;
            *) break ;;
        esac
        shift
    done
    for a in "$@"; do
        case $a in
            closed|open|strict) _os_err "profile words must come first: '$a'"; return 1 ;;
            match[[:space:]]*) matches+=("$a") ;;
            *[![:space:]]*) pre+=("$a") ;;
            *) ;;
        esac
    done
    {
        echo "# Generated by tests/integration/opensmtpd.sh for instance $(basename "$idir") (profile $profile$( ((strict)) && echo ' strict'))."
        echo 'table local_domains { "relaytarget.test", "mx.relaytarget.test" }'
        if ((strict)); then
            echo 'table catchall { "postmaster" = "opensmtpd" }'
        else
            echo 'table catchall { "@" = "opensmtpd" }'
        fi
        echo "action \"local\" lmtp \"127.0.0.1:$OS_SINK\" rcpt-to virtual <catchall>"
        echo "action \"relay\" relay host \"smtp://127.0.0.1:$OS_SINK\""
        ((${#pre[@]})) && printf '%s\n' "${pre[@]}"
        echo "listen on $addr port $port hostname mx.relaytarget.test"
        ((${#matches[@]})) && printf '%s\n' "${matches[@]}"
        echo 'match from any for domain <local_domains> action "local"'
        if [[ $profile == open ]]; then
            echo 'match from any for any action "relay"'
        else
            echo 'match from local for any action "relay"'
        fi
    } >"$idir/smtpd.conf" || return 1
    chmod 644 "$idir/smtpd.conf"
}

# One attempt to read a "220 " greeting; politely QUITs.
_os_greets() {
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/$0/$1" || exit 1
        line=""
        while IFS= read -r -t 4 line <&3; do
            case $line in
                220-*) continue ;;
                "220 "*) printf "QUIT\r\n" >&3; exit 0 ;;
                *) exit 2 ;;
            esac
        done
        exit 1' "$1" "$2" 2>/dev/null
}

# Start the configured instance in its namespaces; record the PID of
# unshare (pid), of the daemon (daemon.pid) and its PID namespace.
_os_launch() {
    local name=$1 idir=$2 addr=$3 port=$4 upid dpid i deadline ns
    local -a flags=(-d)
    [[ ${OS_VERBOSE:-0} == 1 ]] && flags+=(-v)
    # unshare execs bash (PID 1 of the new namespaces), which mounts and
    # execs smtpd: the daemon is unshare's only child.  --kill-child: if
    # unshare is killed, so is the daemon (and with it the namespace).
    # All fds redirected: a daemon must not hold the caller's pipes open.
    # shellcheck disable=SC2016 # expanded by the inner bash
    (cd / && exec unshare --mount --pid --uts --fork --kill-child --propagation private -- \
        bash -c 'set -e
                 i=$1 pkg=$2; shift 2
                 hostname mx.relaytarget.test
                 mount --bind "$i/fs/var/spool" /var/spool
                 mount --bind "$i/fs/var/lib" /var/lib
                 mount --bind "$i/fs/run" /run
                 mount --bind "$pkg/usr/libexec" /usr/libexec
                 if [[ -e /etc/resolv.conf ]]; then
                     mount --bind "$i/resolv.conf" /etc/resolv.conf
                 fi
                 exec "$@"' _ "$idir" "$_OS_PKG" \
        "$_OS_BIN" "${flags[@]}" -f "$idir/smtpd.conf" \
        </dev/null >>"$idir/smtpd.log" 2>&1) &
    upid=$!
    echo "$upid" >"$idir/pid"
    deadline=$((SECONDS + OS_START_TIMEOUT))
    while :; do
        # (The file has no trailing newline: read "fails" but fills dpid.)
        dpid=
        { read -r dpid _ <"/proc/$upid/task/$upid/children"; } 2>/dev/null || true
        [[ $dpid =~ ^[0-9]+$ ]] && break
        _os_alive "$upid" || return 2
        ((SECONDS >= deadline)) && return 3
        sleep 0.01
    done
    echo "$dpid" >"$idir/daemon.pid"
    ns=$(readlink "/proc/$dpid/ns/pid" 2>/dev/null) || ns=
    [[ -n $ns ]] && echo "$ns" >"$idir/pidns"
    for ((i = 0; ; i++)); do
        if _os_greets "$addr" "$port"; then
            return 0
        fi
        _os_alive "$dpid" || return 2
        ((SECONDS >= deadline)) && return 3
        sleep 0.02
    done
}

os_start() {
    if (($# < 3)); then
        _os_err "usage: os_start NAME ADDR PORT|auto [closed|open] [strict] ['smtpd.conf line'...]"
        return 1
    fi
    local name=$1 addr=$2 port=$3; shift 3
    _os_check_name "$name" || return 1
    if [[ $EUID -ne 0 ]]; then
        _os_err "os_start: must run as root"
        return 1
    fi
    if [[ ! $addr =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ && $addr != ::1 ]]; then
        _os_err "os_start $name: ADDR must be loopback (127.x.y.z or ::1), got '$addr'"
        return 1
    fi
    if [[ $port != auto && ! ( $port =~ ^[0-9]+$ && $port -gt 0 && $port -lt 65536 ) ]]; then
        _os_err "os_start $name: bad port '$port'"
        return 1
    fi
    if [[ $port == 25 ]]; then
        _os_err "os_start $name: refusing port 25"
        return 1
    fi
    os_fetch >/dev/null || return 1
    local idir out
    idir=$(_os_idir "$name")
    if [[ -e $idir ]]; then
        if [[ -n "$(_os_pids "$idir")" ]]; then
            _os_err "os_start $name: instance already running in $idir"
            return 1
        fi
        rm -rf "$idir"
    fi

    local attempt rc tries=1 p
    [[ $port == auto ]] && tries=5
    for ((attempt = 1; attempt <= tries; attempt++)); do
        p=$port
        if [[ $port == auto ]]; then p=$(os_free_port) || return 1; fi
        if _os_port_in_use "$p" "$addr"; then
            _os_err "os_start $name: port $p is already in use on $addr"
            ((attempt < tries)) && continue
            return 1
        fi
        rm -rf "$idir"
        # smtpd creates /var/spool/smtpd itself (root, 711) and insists on
        # a root-owned, not group/world-writable chroot directory.
        mkdir -p "$idir/fs/var/spool" "$idir/fs/var/lib/opensmtpd/empty" "$idir/fs/run" || return 1
        chmod 755 "$idir/fs" "$idir/fs/var" "$idir/fs/var/spool" "$idir/fs/var/lib" \
            "$idir/fs/var/lib/opensmtpd" "$idir/fs/var/lib/opensmtpd/empty" "$idir/fs/run"
        printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$idir/resolv.conf"
        echo "$addr" >"$idir/addr"
        echo "$p" >"$idir/port"
        : >"$idir/smtpd.log"
        _os_write_config "$idir" "$addr" "$p" "$@" || return 1
        if ! out=$("$_OS_BIN" -n -f "$idir/smtpd.conf" 2>&1); then
            _os_err "os_start $name: configuration $idir/smtpd.conf rejected:"
            echo "$out" >&2
            return 1
        fi
        rc=0
        _os_launch "$name" "$idir" "$addr" "$p" || rc=$?
        ((rc == 0)) && return 0
        if grep -qs 'Address already in use' "$idir/smtpd.log" && ((attempt < tries)); then
            _os_err "os_start $name: lost a race for port $p, retrying"
            os_stop "$name" 2>/dev/null || true
            continue
        fi
        if ((rc == 2)); then
            _os_err "os_start $name: smtpd died before $addr:$p greeted"
        else
            _os_err "os_start $name: no '220 ' greeting on $addr:$p within ${OS_START_TIMEOUT}s"
        fi
        _os_err "---- log of $name ($idir/smtpd.log) ----"
        cat "$idir/smtpd.log" >&2 2>/dev/null || true
        _os_err "---- end of log ----"
        os_stop "$name" || true
        return 1
    done
    return 1
}

# --- stopping ----------------------------------------------------------------------

# Live PIDs of the instance: unshare itself and everything in its PID
# namespace.  The namespace is only looked for while its PID 1 (the daemon,
# recorded with its namespace) is alive or a zombie, i.e. while the
# namespace cannot have been freed and its inode number reused.
_os_pids() {
    local idir=$1 upid='' dpid='' ns='' c pid
    { read -r upid <"$idir/pid"; } 2>/dev/null || true
    { read -r dpid <"$idir/daemon.pid"; } 2>/dev/null || true
    { read -r ns <"$idir/pidns"; } 2>/dev/null || true
    if _os_alive "$upid"; then echo "$upid"; fi
    if [[ $dpid =~ ^[0-9]+$ && -n $ns ]] &&
       [[ "$(readlink "/proc/$dpid/ns/pid" 2>/dev/null)" == "$ns" ]]; then
        find /proc/[0-9]*/ns/pid -maxdepth 0 -lname "$ns" 2>/dev/null |
        while IFS= read -r c; do
            pid=${c#/proc/}; pid=${pid%/ns/pid}
            if _os_alive "$pid"; then echo "$pid"; fi
        done
    fi
    return 0
}

os_stop() {
    local name=${1:-}
    _os_check_name "$name" || return 1
    local idir upid='' dpid='' ns='' pid i left
    idir=$(_os_idir "$name")
    if [[ ! -d $idir ]]; then
        _os_err "os_stop: no instance '$name' under $OS_ROOT"
        return 1
    fi
    { read -r upid <"$idir/pid"; } 2>/dev/null || true
    { read -r dpid <"$idir/daemon.pid"; } 2>/dev/null || true
    { read -r ns <"$idir/pidns"; } 2>/dev/null || true
    if _os_alive "$dpid" && [[ -n $ns && "$(readlink "/proc/$dpid/ns/pid" 2>/dev/null)" == "$ns" ]]; then
        # smtpd's parent catches SIGTERM, tells its children to exit, waits.
        kill -TERM "$dpid" 2>/dev/null || true
        for ((i = 0; i < 150; i++)); do
            _os_alive "$dpid" || break
            sleep 0.02
        done
        if _os_alive "$dpid"; then
            _os_err "os_stop $name: smtpd $dpid still alive after 3 s, kill -9"
            kill -9 "$dpid" 2>/dev/null || true
        fi
    elif _os_alive "$upid" && [[ "$(readlink "/proc/$upid/exe" 2>/dev/null)" == */unshare ]]; then
        # Daemon not recorded (start interrupted): signal unshare's child.
        dpid=
        { read -r dpid _ <"/proc/$upid/task/$upid/children"; } 2>/dev/null || true
        if [[ $dpid =~ ^[0-9]+$ ]]; then
            kill -TERM "$dpid" 2>/dev/null || true
        else
            kill -TERM "$upid" 2>/dev/null || true
        fi
    fi
    # The daemon is PID 1 of its namespace: once it is gone the kernel has
    # killed the rest; unshare exits right after its child.
    for ((i = 0; i < 100; i++)); do
        left=$(_os_pids "$idir")
        [[ -z $left ]] && break
        sleep 0.02
    done
    if [[ -n $left ]]; then
        for pid in $left; do
            _os_err "os_stop $name: leftover pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)), kill -9"
            kill -9 "$pid" 2>/dev/null || true
        done
        for ((i = 0; i < 50; i++)); do
            left=$(_os_pids "$idir")
            [[ -z $left ]] && break
            sleep 0.02
        done
        if [[ -n $left ]]; then
            _os_err "os_stop $name: processes survive kill -9: ${left//$'\n'/ }"
            return 1
        fi
    fi
    # Reap unshare if it is our child (no-op otherwise; never blocks: it is
    # gone or a zombie by now).
    if [[ -n $upid ]] && ! _os_alive "$upid"; then wait "$upid" 2>/dev/null || true; fi
    rm -f "$idir/pid" "$idir/daemon.pid" "$idir/pidns"
    return 0
}

os_stop_all() {
    local d rc=0
    [[ -n "${OS_ROOT:-}" && -d "$OS_ROOT" ]] || return 0
    for d in "$OS_ROOT"/*/smtpd.conf; do
        [[ -e $d ]] || continue
        d=${d%/smtpd.conf}
        os_stop "${d##*/}" || rc=1
    done
    return $rc
}

os_cleanup() {
    local rc=0
    os_stop_all || rc=1
    if [[ $_OS_ROOT_OWNED == 1 && ${OS_KEEP:-0} != 1 && $rc == 0 && -d "${OS_ROOT:-}" ]]; then
        rm -rf "$OS_ROOT"
    elif [[ -d "${OS_ROOT:-}" ]]; then
        _os_err "instances kept in $OS_ROOT"
    fi
    return $rc
}
