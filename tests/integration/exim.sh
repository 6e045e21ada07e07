# shellcheck shell=bash
#
# tests/integration/exim.sh -- private, throw-away Exim 4.96 daemons for
# relayprobe's integration tests.  Source this file; do not execute it.
#
#   . tests/integration/exim.sh
#   trap ex_cleanup EXIT
#   ex_start closed 127.0.0.1 auto                  # closed relay (default)
#   ex_start open   127.0.0.1 auto open             # relays for everybody
#   ex_start hard   127.0.0.1 auto hardened vrfy    # no version; VRFY allowed
#   ex_start x      127.0.0.1 auto 'smtp_accept_max = 5' \
#                   'rcpt: accept senders = *@relaytarget.test'
#   relayprobe --source 127.0.0.2 "127.0.0.1:$(ex_port open)" ...
#
# What it does and why
# --------------------
# Exim conflicts with Postfix as Debian's MTA, so it is never installed: the
# harness downloads Debian 12's exim4-daemon-light with "apt-get download"
# into $RP_MTA_CACHE (default /var/cache/relayprobe-test, shared with
# opensmtpd.sh; under a lock, once) and unpacks it there with "dpkg -x".
# Debian's exim4 binary links libidn.so.12, which a Postfix-only system may
# lack: then libidn12 is unpacked too, and the daemon's mount namespace gets
# a private /etc/ld.so.cache (made with "ldconfig -X -C", the system's
# directories plus libidn12's).  LD_LIBRARY_PATH would not do: Exim
# re-executes its setuid-root binary from processes running as Debian-exim
# (every delivery), and ld.so ignores LD_LIBRARY_PATH for such a secure
# execution.  exim4-base/exim4-config are not needed: the binary alone runs
# a daemon with the generated config.  The only persistent change to the
# system is the system user "Debian-exim" (the binary's compiled-in
# exim_user), created with useradd if missing.
#
# Every instance lives under "$EX_ROOT/NAME": exim.conf (one generated file),
# spool/, log/ (mainlog, rejectlog, paniclog), daemon.log (stderr) and state
# files.  It is started as root with "exim4 -C exim.conf -bdf -oX PORT" (-bdf:
# daemon in the foreground, so the harness knows its PID).  Root may use -C
# without /etc/exim4/trusted_configs (that list only matters for callers
# other than root and the Exim user), so nothing under /etc or /usr/sbin has
# to be bind-mounted: exim_path names the unpacked binary for re-execs.
#
#  * Loopback only: local_interfaces = ADDR, port from -oX.
#  * Nothing leaves the machine: one manualroute router sends every address
#    (local domain included) to 127.0.0.1 port $EX_SINK (9: nothing listens)
#    with "self = send", and queue_only = true keeps accepted mail on the
#    spool anyway (the daemon runs no queue runner).  relayprobe never sends
#    DATA, so in practice nothing is ever queued.
#  * No DNS: primary_hostname is set (no hostname lookup), host_lookup and
#    rfc1413_hosts are empty (no PTR, no ident), all routing is manual.  As a
#    second fence the daemon runs in private mount and PID namespaces
#    (unshare --mount --pid --fork --kill-child) whose /etc/resolv.conf is a
#    bind-mounted file naming only 127.0.0.1.
#  * Delivery proof: with EX_SINK=PORT (relayprobe's --receiver port) and
#    the option 'no_queue_only', accepted mail really is delivered -- to
#    127.0.0.1:PORT, nowhere else.  Deliveries are re-executions of exim by
#    Debian-exim, which logs "exim user lost privilege for using -C option"
#    (root alone may use -C untrusted) and works anyway.
#  * The PID namespace is also how stopping is made leak-proof: the daemon is
#    its PID 1, and when it exits the kernel kills every process left in the
#    namespace (reception processes of open sessions included).  (unshare's
#    --kill-child does not cover Exim: the kernel drops the parent-death
#    signal when the setuid binary changes credentials; the trap must run
#    ex_cleanup, as with pf_cleanup.)  Processes
#    of an instance are found by their PID namespace (zombies count as gone:
#    PID 1 of the machine may not reap orphans here).
#  * Identity: primary_hostname mx.relaytarget.test; local domains
#    relaytarget.test and mx.relaytarget.test, any local part accepted.
#  * acl_check_rcpt is the one of Exim's default "configure" file, in its
#    order: restricted characters (local parts with @ % ! / |, leading dot)
#    are denied, postmaster@local is always accepted, "require verify =
#    sender", "accept hosts = +relay_from_hosts", "accept authenticated = *",
#    then "require message = relay not permitted, domains = +local_domains :
#    +relay_to_domains", "require verify = recipient", accept.  Exim's
#    anti-abuse defaults are kept (smtp_max_synprot_errors = 3, ...).
#  * STARTTLS is not offered (tls_advertise_hosts empty) unless the "tls"
#    profile is used: then Exim's own default applies (advertise to all, with
#    a self-signed certificate Exim generates itself when none is set).
#
# Defaults of Exim 4.96 as seen by a client (no acl_smtp_vrfy/expn set):
#   "VRFY x" -> 252 Administrative prohibition
#   "EXPN x" -> 550 Administrative prohibition
#   banner   -> 220 mx.relaytarget.test ESMTP Exim 4.96 <date>
#
# API (all functions print errors on stderr and return non-zero on failure;
# safe under "set -euo pipefail" in the caller)
# ---
#   ex_start NAME ADDR PORT [ARG...]
#       Create and start instance NAME on ADDR:PORT and wait (<=
#       $EX_START_TIMEOUT s) for its "220 " greeting.  ADDR: 127.x.y.z or
#       ::1.  PORT: a number or "auto" (a free port, retried on a bind race;
#       read it back with ex_port NAME).  Each ARG is one of
#         closed    relay_from_hosts = 127.0.0.1 (the default): a client
#                   bound to 127.0.0.2 (or ::1) is an outsider
#         open      relay_from_hosts = <; 0.0.0.0/0 ; ::/0 -- an open relay
#         hardened  smtp_banner = $smtp_active_hostname ESMTP (no version)
#         vrfy      acl_smtp_vrfy = accept
#         expn      acl_smtp_expn = accept
#         tls       remove "tls_advertise_hosts =" (Exim's default: *)
#         'key = value'   a main-section option line (or a bare boolean:
#                   'no_queue_only'); replaces the line of the same key
#                   ("hostlist relay_from_hosts = ..." included) or is added;
#                   unknown options make ex_start fail (exim -bV checks)
#         'rcpt: STATEMENT'  a raw line put at the top of acl_check_rcpt
#                   (before the default statements), e.g.
#                   'rcpt: accept senders = *@relaytarget.test'
#       Later ARGs override earlier ones.
#   ex_stop NAME        SIGTERM the daemon, make sure nothing of the instance
#                       is left (zombies count as gone), SIGKILL if needed.
#   ex_stop_all         ex_stop every instance under $EX_ROOT (trap-safe).
#   ex_cleanup          ex_stop_all, then remove $EX_ROOT if this file
#                       created it (EX_KEEP=1 keeps it for post-mortem).
#   ex_log NAME         print the instance's mainlog (+ paniclog, stderr).
#   ex_port NAME / ex_addr NAME / ex_dir NAME (instance dir) / ex_conf NAME
#                       (path of its exim.conf) / ex_pid NAME (daemon PID).
#   ex_free_port        print a random TCP port in 10000-31999 (below the ephemeral range) nobody uses.
#   ex_fetch            download + unpack Exim now (ex_start does it too);
#                       prints the path of the exim4 binary.
#
# Environment: EX_ROOT (default: mktemp -d, created when this file is
# sourced, exported), RP_MTA_CACHE (default /var/cache/relayprobe-test),
# EX_SINK (default 9), EX_START_TIMEOUT (default 15 s), EX_KEEP.

# --- state -----------------------------------------------------------------

if [[ -z "${EX_ROOT:-}" ]]; then
    EX_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/relayprobe-ex.XXXXXX") || {
        echo "exim.sh: mktemp failed" >&2
        return 1
    }
    # Exim's reception processes run as Debian-exim and must traverse.
    chmod 755 "$EX_ROOT"
    _EX_ROOT_OWNED=1
fi
export EX_ROOT
: "${_EX_ROOT_OWNED:=0}"
: "${RP_MTA_CACHE:=/var/cache/relayprobe-test}"
: "${EX_SINK:=9}"
: "${EX_START_TIMEOUT:=15}"
_EX_USER=Debian-exim
_EX_BIN=
_EX_LIBPATH=
_EX_LDCACHE=

_ex_err() { echo "exim.sh: $*" >&2; }

_ex_check_name() {
    if [[ ! "${1:-}" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]]; then
        _ex_err "bad instance name '${1:-}' (use [A-Za-z0-9_.-])"
        return 1
    fi
}

_ex_idir() { printf '%s/%s\n' "$EX_ROOT" "$1"; }

# Liveness that treats zombies as dead (PID 1 may not reap orphans here).
_ex_alive() {
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
_ex_port_in_use() {
    local out
    out=$(ss -ltnH "sport = :$1" 2>/dev/null) || return 1
    [[ -n $out ]] || return 1
    [[ -z ${2:-} ]] && return 0
    local a=$2
    [[ $a == *:* ]] && a="[$a]"
    grep -qE "(^|[[:space:]])($(printf '%s' "$a" | sed 's/[].[]/\\&/g')|\*|0\.0\.0\.0|\[::\]):$1([[:space:]]|$)" <<<"$out"
}

ex_free_port() {
    local i p
    for ((i = 0; i < 200; i++)); do
        p=$(( 10000 + (RANDOM * 32768 + RANDOM) % 22000 ))  # below the ephemeral range (32768+): no outgoing socket can hold it
        _ex_port_in_use "$p" && continue
        if compgen -G "$EX_ROOT/*/port" >/dev/null &&
           grep -qxF "$p" "$EX_ROOT"/*/port 2>/dev/null; then
            continue
        fi
        echo "$p"
        return 0
    done
    _ex_err "ex_free_port: no free port found"
    return 1
}

# --- the software ------------------------------------------------------------

# _rp_mta_unpack PKG VERSION-PREFIX: make sure $RP_MTA_CACHE/root/PKG holds
# the unpacked Debian package PKG (version VERSION-PREFIX*), downloading it
# with "apt-get download" (after one "apt-get update" if that fails).  The
# caller holds the cache lock.  Shared with opensmtpd.sh (same code there).
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

ex_fetch() {
    if [[ -n $_EX_BIN && -x $_EX_BIN ]]; then echo "$_EX_BIN"; return 0; fi
    if [[ $EUID -ne 0 ]]; then
        _ex_err "ex_fetch: must run as root"
        return 1
    fi
    mkdir -p "$RP_MTA_CACHE" || return 1
    local bin=$RP_MTA_CACHE/root/exim4-daemon-light/usr/sbin/exim4 missing rc=0
    # One downloader at a time (tests may run in parallel).
    # A subshell: "exit" leaves only it (and releases the lock).
    (
        flock -w 600 9 || { _ex_err "ex_fetch: cannot lock $RP_MTA_CACHE/.lock"; exit 1; }
        _rp_mta_unpack exim4-daemon-light 4.96 || exit 1
        missing=$(ldd "$bin" 2>/dev/null | awk '/not found/ {print $1}')
        if [[ -n $missing ]]; then
            if [[ $missing != libidn.so.12 ]]; then
                _ex_err "ex_fetch: $bin lacks libraries: $missing"
                exit 1
            fi
            _rp_mta_unpack libidn12 "" || exit 1
        fi
        _rp_mta_user "$_EX_USER" /var/spool/exim4 "Exim MTA (relayprobe tests)" || exit 1
    ) 9>>"$RP_MTA_CACHE/.lock" || rc=$?
    ((rc == 0)) || { _ex_err "ex_fetch: could not provide Exim (see above)"; return 1; }
    _EX_LIBPATH=
    _EX_LDCACHE=
    # (Not "ldd | grep -q": with pipefail, grep's early exit fails ldd.)
    if [[ $(ldd "$bin" 2>/dev/null) == *'not found'* ]]; then
        local lib out
        lib=$(compgen -G "$RP_MTA_CACHE/root/libidn12/usr/lib/*/libidn.so.12" | head -n 1)
        if [[ -z $lib ]]; then
            _ex_err "ex_fetch: libidn.so.12 missing from the unpacked libidn12"
            return 1
        fi
        _EX_LIBPATH=${lib%/*}
        # Exim re-executes itself (deliveries, SIGHUP) from processes
        # running as Debian-exim: the setuid-root binary then runs in
        # secure-execution mode, where ld.so ignores LD_LIBRARY_PATH.  So
        # the daemon's mount namespace gets its own /etc/ld.so.cache: the
        # system's directories plus libidn12's.  -X: do not touch any
        # symlinks in those directories.
        if [[ ! -s $EX_ROOT/.ld.so.cache ]]; then
            printf '%s\ninclude /etc/ld.so.conf\n' "$_EX_LIBPATH" >"$EX_ROOT/.ld.so.conf"
            if ! out=$(ldconfig -X -C "$EX_ROOT/.ld.so.cache.tmp" -f "$EX_ROOT/.ld.so.conf" 2>&1); then
                _ex_err "ex_fetch: ldconfig -C failed: $out"
                return 1
            fi
            mv -f "$EX_ROOT/.ld.so.cache.tmp" "$EX_ROOT/.ld.so.cache" || return 1
        fi
        _EX_LDCACHE=$EX_ROOT/.ld.so.cache
    fi
    _EX_BIN=$bin
    echo "$bin"
}

# --- accessors ---------------------------------------------------------------

ex_dir()  { _ex_check_name "${1:-}" || return 1; _ex_idir "$1"; }
ex_conf() { _ex_check_name "${1:-}" || return 1; echo "$(_ex_idir "$1")/exim.conf"; }
ex_port() { _ex_check_name "${1:-}" || return 1; cat "$(_ex_idir "$1")/port"; }
ex_addr() { _ex_check_name "${1:-}" || return 1; cat "$(_ex_idir "$1")/addr"; }
ex_pid()  { _ex_check_name "${1:-}" || return 1; cat "$(_ex_idir "$1")/daemon.pid"; }

ex_log() {
    _ex_check_name "${1:-}" || return 1
    local idir f
    idir=$(_ex_idir "$1")
    if [[ ! -d $idir/log ]]; then
        _ex_err "ex_log: no instance '$1' under $EX_ROOT"
        return 1
    fi
    cat "$idir/log/mainlog" 2>/dev/null
    for f in "$idir/log/paniclog" "$idir/daemon.log"; do
        if [[ -s $f ]]; then echo "---- $(basename "$f") ----"; cat "$f"; fi
    done
    return 0
}

# --- configuration -------------------------------------------------------------

# Main options: parallel arrays of keys (everything left of "=", e.g.
# "hostlist relay_from_hosts") and full lines, so an ARG replaces a default.
_ex_set() {
    local line=$1 key i
    local -a words
    if [[ $line =~ ^[[:space:]]*([a-z0-9_]+([[:space:]]+[A-Za-z0-9_]+)?)[[:space:]]*=(.*)$ ]]; then
        read -r -a words <<<"${BASH_REMATCH[1]}"
        key="${words[*]}"
    elif [[ $line =~ ^[[:space:]]*(no_|not_)?([a-z0-9_]+)[[:space:]]*$ ]]; then
        # A bare boolean: "queue_only", "no_queue_only".
        key=${BASH_REMATCH[2]}
    else
        _ex_err "not an Exim option line 'key = value': '$line'"
        return 1
    fi
    for i in "${!_ex_keys[@]}"; do
        if [[ ${_ex_keys[$i]} == "$key" ]]; then
            _ex_lines[i]=$line
            return 0
        fi
    done
    _ex_keys+=("$key")
    _ex_lines+=("$line")
}

_ex_unset() {
    local i
    for i in "${!_ex_keys[@]}"; do
        if [[ ${_ex_keys[$i]} == "$1" ]]; then
            unset '_ex_keys[i]' '_ex_lines[i]'
        fi
    done
}

_ex_write_config() {
    local idir=$1 addr=$2; shift 2
    local a l
    local -a _ex_keys=() _ex_lines=() acl=()
    _ex_set 'primary_hostname = mx.relaytarget.test'
    _ex_set 'qualify_domain = relaytarget.test'
    _ex_set 'domainlist local_domains = relaytarget.test : mx.relaytarget.test'
    _ex_set 'domainlist relay_to_domains ='
    _ex_set 'hostlist relay_from_hosts = 127.0.0.1'
    _ex_set "local_interfaces = <; $addr"
    _ex_set 'acl_smtp_rcpt = acl_check_rcpt'
    _ex_set "spool_directory = $idir/spool"
    _ex_set "log_file_path = $idir/log/%slog"
    _ex_set "pid_file_path = $idir/exim.pid"
    _ex_set "exim_path = $_EX_BIN"
    _ex_set 'keep_environment ='  # (also silences "purging the environment")
    _ex_set 'queue_only = true'
    _ex_set 'never_users = root'
    _ex_set 'host_lookup ='
    _ex_set 'rfc1413_hosts ='
    _ex_set 'tls_advertise_hosts ='
    _ex_set 'log_selector = +smtp_connection +smtp_no_mail +smtp_protocol_error +smtp_syntax_error +incoming_interface +received_recipients'
    for a in "$@"; do
        case $a in
            closed)   _ex_set 'hostlist relay_from_hosts = 127.0.0.1' ;;
            open)     _ex_set 'hostlist relay_from_hosts = <; 0.0.0.0/0 ; ::/0' ;;
            hardened)
                # shellcheck disable=SC2016 # an Exim variable, not a shell one
                _ex_set 'smtp_banner = $smtp_active_hostname ESMTP' ;;
            vrfy)     _ex_set 'acl_smtp_vrfy = accept' ;;
            expn)     _ex_set 'acl_smtp_expn = accept' ;;
            tls)      _ex_unset 'tls_advertise_hosts' ;;
            rcpt:*)   l=${a#rcpt:}; acl+=("  ${l#"${l%%[![:space:]]*}"}") ;;
            *=*|no_*|not_*) _ex_set "$a" || return 1 ;;
            *)        _ex_err "unknown ex_start argument '$a' (profiles: closed open hardened vrfy expn tls; or 'key = value', 'rcpt: ...')"
                      return 1 ;;
        esac
    done
    {
        echo "# Generated by tests/integration/exim.sh for instance $(basename "$idir")."
        printf '%s\n' "${_ex_lines[@]}"
        cat <<EOF

begin acl

acl_check_rcpt:
EOF
        ((${#acl[@]})) && printf '%s\n' "${acl[@]}"
        # The default ACL of Exim's "configure", without DKIM/DNSBL parts.
        cat <<'EOF'
  accept  hosts         = :
  deny    message       = Restricted characters in address
          domains       = +local_domains
          local_parts   = ^[.] : ^.*[@%!/|]
  deny    message       = Restricted characters in address
          domains       = !+local_domains
          local_parts   = ^[./|] : ^.*[@%!] : ^.*/\\.\\./
  accept  local_parts   = postmaster
          domains       = +local_domains
  require verify        = sender
  accept  hosts         = +relay_from_hosts
          control       = submission
  accept  authenticated = *
          control       = submission
  require message       = relay not permitted
          domains       = +local_domains : +relay_to_domains
  require verify        = recipient
  accept

begin routers

# Everything, local domains included, goes to the loopback sink.
sink:
  driver     = manualroute
  route_list = * 127.0.0.1
  transport  = sink_smtp
  self       = send
  no_more

begin transports

sink_smtp:
  driver         = smtp
EOF
        echo "  port           = $EX_SINK"
        cat <<'EOF'
  hosts_avoid_tls = *

begin retry

*   *   F,2h,15m
EOF
    } >"$idir/exim.conf" || return 1
    chmod 644 "$idir/exim.conf"
}

# One attempt to read a "220 " greeting; politely QUITs.
_ex_greets() {
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

# Start the configured instance in its own mount+PID namespace; record the
# PID of unshare (pid), of the daemon (daemon.pid) and its PID namespace.
_ex_launch() {
    local name=$1 idir=$2 addr=$3 port=$4 upid dpid i deadline ns
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$idir/resolv.conf"
    # unshare execs bash (PID 1 of the new namespaces), which mounts and
    # execs exim: the daemon is unshare's only child.  --kill-child: if
    # unshare is killed, so is the daemon (and with it the namespace).
    # All fds redirected: a daemon must not hold the caller's pipes open.
    # shellcheck disable=SC2016 # expanded by the inner bash
    (cd / && exec unshare --mount --pid --fork --kill-child --propagation private -- \
        bash -c 'set -e
                 if [[ -e /etc/resolv.conf ]]; then
                     mount --bind "$1" /etc/resolv.conf
                 fi
                 if [[ -n $2 ]]; then
                     mount --bind "$2" /etc/ld.so.cache
                 fi
                 shift 2; exec "$@"' _ "$idir/resolv.conf" "$_EX_LDCACHE" \
        "$_EX_BIN" -C "$idir/exim.conf" -bdf -oX "$port" \
        </dev/null >>"$idir/daemon.log" 2>&1) &
    upid=$!
    echo "$upid" >"$idir/pid"
    deadline=$((SECONDS + EX_START_TIMEOUT))
    dpid=
    while [[ -z $dpid ]]; do
        # (The file has no trailing newline: read "fails" but fills dpid.)
        dpid=
        { read -r dpid _ <"/proc/$upid/task/$upid/children"; } 2>/dev/null || true
        [[ $dpid =~ ^[0-9]+$ ]] && break
        dpid=
        _ex_alive "$upid" || return 2
        ((SECONDS >= deadline)) && return 3
        sleep 0.01
    done
    echo "$dpid" >"$idir/daemon.pid"
    ns=$(readlink "/proc/$dpid/ns/pid" 2>/dev/null) || ns=
    [[ -n $ns ]] && echo "$ns" >"$idir/pidns"
    for ((i = 0; ; i++)); do
        if _ex_greets "$addr" "$port"; then
            return 0
        fi
        _ex_alive "$dpid" || return 2
        [[ -s $idir/log/paniclog ]] && return 4
        ((SECONDS >= deadline)) && return 3
        sleep 0.02
    done
}

ex_start() {
    if (($# < 3)); then
        _ex_err "usage: ex_start NAME ADDR PORT|auto [closed|open|hardened|vrfy|expn|tls|'key = value'|'rcpt: ...']..."
        return 1
    fi
    local name=$1 addr=$2 port=$3; shift 3
    _ex_check_name "$name" || return 1
    if [[ $EUID -ne 0 ]]; then
        _ex_err "ex_start: must run as root"
        return 1
    fi
    if [[ ! $addr =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ && $addr != ::1 ]]; then
        _ex_err "ex_start $name: ADDR must be loopback (127.x.y.z or ::1), got '$addr'"
        return 1
    fi
    if [[ $port != auto && ! ( $port =~ ^[0-9]+$ && $port -gt 0 && $port -lt 65536 ) ]]; then
        _ex_err "ex_start $name: bad port '$port'"
        return 1
    fi
    if [[ $port == 25 ]]; then
        _ex_err "ex_start $name: refusing port 25"
        return 1
    fi
    ex_fetch >/dev/null || return 1
    local idir out
    idir=$(_ex_idir "$name")
    if [[ -e $idir ]]; then
        if [[ -n "$(_ex_pids "$idir")" ]]; then
            _ex_err "ex_start $name: instance already running in $idir"
            return 1
        fi
        rm -rf "$idir"
    fi

    local attempt rc tries=1 p
    [[ $port == auto ]] && tries=5
    for ((attempt = 1; attempt <= tries; attempt++)); do
        p=$port
        if [[ $port == auto ]]; then p=$(ex_free_port) || return 1; fi
        if _ex_port_in_use "$p" "$addr"; then
            _ex_err "ex_start $name: port $p is already in use on $addr"
            ((attempt < tries)) && continue
            return 1
        fi
        rm -rf "$idir"
        mkdir -p "$idir/spool" "$idir/log" || return 1
        chown "$_EX_USER:" "$idir/spool" "$idir/log" || return 1
        chmod 750 "$idir/spool" "$idir/log"
        echo "$addr" >"$idir/addr"
        echo "$p" >"$idir/port"
        : >"$idir/daemon.log"
        _ex_write_config "$idir" "$addr" "$@" || return 1
        # Syntax check (unknown options, bad ACLs) before starting.
        if ! out=$(env ${_EX_LIBPATH:+LD_LIBRARY_PATH="$_EX_LIBPATH"} \
                   "$_EX_BIN" -C "$idir/exim.conf" -bV 2>&1 >/dev/null); then
            _ex_err "ex_start $name: configuration $idir/exim.conf rejected:"
            echo "$out" >&2
            return 1
        fi
        rc=0
        _ex_launch "$name" "$idir" "$addr" "$p" || rc=$?
        ((rc == 0)) && return 0
        if grep -rqs 'Address already in use' "$idir/log" "$idir/daemon.log" &&
           ((attempt < tries)); then
            _ex_err "ex_start $name: lost a race for port $p, retrying"
            ex_stop "$name" 2>/dev/null || true
            continue
        fi
        if ((rc == 2)); then
            _ex_err "ex_start $name: exim died before $addr:$p greeted"
        elif ((rc == 4)); then
            _ex_err "ex_start $name: paniclog written before $addr:$p greeted"
        else
            _ex_err "ex_start $name: no '220 ' greeting on $addr:$p within ${EX_START_TIMEOUT}s"
        fi
        _ex_err "---- logs of $name ($idir) ----"
        ex_log "$name" >&2 || true
        _ex_err "---- end of logs ----"
        ex_stop "$name" || true
        return 1
    done
    return 1
}

# --- stopping ----------------------------------------------------------------------

# Live PIDs of the instance: unshare itself and everything in its PID
# namespace.  The namespace is only looked for while its PID 1 (the daemon,
# recorded with its namespace) is alive or a zombie, i.e. while the
# namespace cannot have been freed and its inode number reused.
_ex_pids() {
    local idir=$1 upid='' dpid='' ns='' c pid
    { read -r upid <"$idir/pid"; } 2>/dev/null || true
    { read -r dpid <"$idir/daemon.pid"; } 2>/dev/null || true
    { read -r ns <"$idir/pidns"; } 2>/dev/null || true
    if _ex_alive "$upid"; then echo "$upid"; fi
    if [[ $dpid =~ ^[0-9]+$ && -n $ns ]] &&
       [[ "$(readlink "/proc/$dpid/ns/pid" 2>/dev/null)" == "$ns" ]]; then
        find /proc/[0-9]*/ns/pid -maxdepth 0 -lname "$ns" 2>/dev/null |
        while IFS= read -r c; do
            pid=${c#/proc/}; pid=${pid%/ns/pid}
            if _ex_alive "$pid"; then echo "$pid"; fi
        done
    fi
    return 0
}

ex_stop() {
    local name=${1:-}
    _ex_check_name "$name" || return 1
    local idir upid='' dpid='' ns='' pid i left
    idir=$(_ex_idir "$name")
    if [[ ! -d $idir ]]; then
        _ex_err "ex_stop: no instance '$name' under $EX_ROOT"
        return 1
    fi
    { read -r upid <"$idir/pid"; } 2>/dev/null || true
    { read -r dpid <"$idir/daemon.pid"; } 2>/dev/null || true
    { read -r ns <"$idir/pidns"; } 2>/dev/null || true
    # The daemon, if it still is the one we started (same PID namespace).
    if _ex_alive "$dpid" && [[ -n $ns && "$(readlink "/proc/$dpid/ns/pid" 2>/dev/null)" == "$ns" ]]; then
        kill -TERM "$dpid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            _ex_alive "$dpid" || break
            sleep 0.02
        done
        if _ex_alive "$dpid"; then
            _ex_err "ex_stop $name: daemon $dpid still alive after 2 s, kill -9"
            kill -9 "$dpid" 2>/dev/null || true
        fi
    elif _ex_alive "$upid" && [[ "$(readlink "/proc/$upid/exe" 2>/dev/null)" == */unshare ]]; then
        # Daemon not recorded (start interrupted): signal unshare's child.
        # (unshare --kill-child does not help here: the kernel drops the
        # parent-death signal when setuid exim4 changes credentials.)
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
        left=$(_ex_pids "$idir")
        [[ -z $left ]] && break
        sleep 0.02
    done
    if [[ -n $left ]]; then
        for pid in $left; do
            _ex_err "ex_stop $name: leftover pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)), kill -9"
            kill -9 "$pid" 2>/dev/null || true
        done
        for ((i = 0; i < 50; i++)); do
            left=$(_ex_pids "$idir")
            [[ -z $left ]] && break
            sleep 0.02
        done
        if [[ -n $left ]]; then
            _ex_err "ex_stop $name: processes survive kill -9: ${left//$'\n'/ }"
            return 1
        fi
    fi
    # Reap unshare if it is our child (no-op otherwise; never blocks: it is
    # gone or a zombie by now).
    if [[ -n $upid ]] && ! _ex_alive "$upid"; then wait "$upid" 2>/dev/null || true; fi
    rm -f "$idir/pid" "$idir/daemon.pid" "$idir/pidns"
    return 0
}

ex_stop_all() {
    local d rc=0
    [[ -n "${EX_ROOT:-}" && -d "$EX_ROOT" ]] || return 0
    for d in "$EX_ROOT"/*/exim.conf; do
        [[ -e $d ]] || continue
        d=${d%/exim.conf}
        ex_stop "${d##*/}" || rc=1
    done
    return $rc
}

ex_cleanup() {
    local rc=0
    ex_stop_all || rc=1
    if [[ $_EX_ROOT_OWNED == 1 && ${EX_KEEP:-0} != 1 && $rc == 0 && -d "${EX_ROOT:-}" ]]; then
        rm -rf "$EX_ROOT"
    elif [[ -d "${EX_ROOT:-}" ]]; then
        _ex_err "instances kept in $EX_ROOT"
    fi
    return $rc
}
