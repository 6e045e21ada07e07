# shellcheck shell=bash
#
# tests/integration/postfix.sh -- private, throw-away Postfix instances for
# relayprobe's integration tests.  Source this file; do not execute it.
#
#   . tests/integration/postfix.sh
#   trap pf_cleanup EXIT
#   port=$(pf_free_port)
#   pf_start closed 127.0.0.1 "$port"                        # closed relay
#   pf_start open   127.0.0.1 auto 'mynetworks = 127.0.0.0/8' # open to 127/8
#   pf_start tls    127.0.0.1 auto TLS 'smtpd_tls_security_level = encrypt'
#   relayprobe --source 127.0.0.2 "127.0.0.1:$(pf_port open)" ...
#
# What it does and why
# --------------------
# Every instance is a complete, independent Postfix (Debian's postfix 3.7)
# living under "$PF_ROOT/NAME": its own config directory (conf/main.cf,
# conf/master.cf), queue_directory, data_directory and log file, started
# with "postfix -c DIR start".  Nothing of the system Postfix is used or
# touched (its /etc/postfix/main.cf need not even exist); port 25 is never
# used.  Must run as root (postfix start requires it).
#
#  * Loopback only, and nothing may leave the machine.  smtpd listens only on
#    ADDR:PORT (127.0.0.x or ::1).  Mail the instance would deliver -- for its
#    own domains (local_transport) or elsewhere (default/relay_transport,
#    relayhost) -- goes to smtp:[127.0.0.1]:9, a "sink" where nothing
#    listens, so a message that ever got queued would just be deferred.
#    relayprobe never sends DATA, so in practice nothing is ever queued.
#  * No DNS at all: smtp_dns_support_level = disabled (+ the old
#    disable_dns_lookups), smtpd_peername_lookup = no (otherwise smtpd does a
#    PTR lookup per connection), myhostname/mydomain set explicitly (no
#    gethostname/FQDN guessing), numeric next hops in brackets.
#  * chroot off for every service (master.cf column 5 = n): a chroot would
#    need /etc/services, resolv.conf, libraries, ... copied into the queue.
#  * Logging to a file without syslog (Postfix >= 3.4): maillog_file plus the
#    "postlog" unix-dgram service (postlogd) in master.cf, which the docs
#    require.  maillog_file must lie under one of maillog_file_prefixes
#    (default "/var, /dev/stdout"), so that is set to the instance dir.
#  * Identity of the target: mx.relaytarget.test / relaytarget.test; any
#    local part of relaytarget.test is accepted (local_recipient_maps empty).
#  * Relay policy by source address: mynetworks = 127.0.0.1/32, so a client
#    bound to 127.0.0.2 (or ::1) is an outsider; the default relay check is
#    "permit_mynetworks, reject_unauth_destination" (554 5.7.1 Relay access
#    denied).  Note Debian's own default would be defer_unauth_destination
#    (454, i.e. temporary) -- we make it a hard reject on purpose.
#  * Postfix's anti-abuse defaults are left alone (smtpd_soft_error_limit=10,
#    smtpd_error_sleep_time=1s, smtpd_hard_error_limit=20): tests see a
#    realistic Postfix.  Override them per instance if a test needs speed.
#
# API (all functions print errors on stderr and return non-zero on failure;
# safe under "set -euo pipefail" in the caller)
# ---
#   pf_start NAME ADDR PORT [ARG...]
#       Create and start instance NAME on ADDR:PORT and wait (<= ~15 s) for
#       its "220 " greeting.  ADDR: 127.0.0.x or ::1.  PORT: a number, or
#       "auto" (pick a free one, retried on a bind race; read it back with
#       pf_port NAME).  Each ARG is either a main.cf line "key = value"
#       (applied after the base config and after everything the pseudo-lines
#       below set, with postconf -e, so it overrides whatever the argument
#       order), or one of these pseudo-lines.  Unknown main.cf parameter
#       names and unknown pseudo-lines are errors.
#         CERT=KIND  offer STARTTLS (smtpd_tls_security_level = may) with
#                    certificate KIND, and only TLS >= 1.2
#                    (smtpd_tls_protocols and smtpd_tls_mandatory_protocols
#                    = >=TLSv1.2; see LEGACY_TLS).  KIND, each with its own
#                    RSA-2048 key, all but selfsigned issued by the test CA
#                    (pf_test_ca):
#                      valid       CN + SAN DNS:mx.relaytarget.test, valid
#                                  from 1 day ago for 365 days
#                      expiring    same name, valid from 60 days ago until
#                                  5 days from now
#                      expired     same name, valid from 200 days ago until
#                                  30 days ago
#                      wrongname   CN + SAN DNS:wrong.example.test only,
#                                  valid like "valid"
#                      selfsigned  CN + SAN DNS:mx.relaytarget.test, issued
#                                  by itself, valid like "valid"
#         TLS        the historical pseudo-line, as before: STARTTLS with a
#                    self-signed certificate and Postfix's stock protocol
#                    settings; now exactly "CERT=selfsigned LEGACY_TLS".
#         LEGACY_TLS accept TLS 1.0 and 1.1 too: smtpd_tls_protocols and
#                    smtpd_tls_mandatory_protocols = >=TLSv1, i.e. Postfix's
#                    defaults.  That is enough: a plain OpenSSL 3.0 server at
#                    its default security level 1 refuses TLS < 1.2 ("no
#                    suitable signature algorithm"), but Debian's Postfix
#                    3.7 smtpd completes TLS 1.0/1.1 handshakes (at "may"
#                    and "encrypt", cipher grade medium or high) with a
#                    client that allows them (openssl s_client -tls1
#                    -cipher 'DEFAULT:@SECLEVEL=0').  So a stock Postfix is
#                    "legacy", and CERT=KIND sets the >= 1.2 floor.  Implies
#                    CERT=valid unless a certificate is given.
#         SASL       Cyrus SASL against a private sasldb in the instance
#                    (conf/sasl/: smtpd.conf + sasldb2, one user,
#                    $PF_SASL_USER / $PF_SASL_PASS), EHLO offers "AUTH PLAIN
#                    LOGIN CRAM-MD5", in plaintext too (smtpd_tls_auth_only
#                    = no; alone, SASL adds no STARTTLS: add CERT=KIND for
#                    both).  Authenticated clients may relay
#                    (smtpd_relay_restrictions = permit_mynetworks,
#                    permit_sasl_authenticated, reject_unauth_destination).
#                    Wrong password: "535 5.7.8 Error: authentication
#                    failed: authentication failure".
#         SASL_TLS_ONLY  SASL, but AUTH is offered only after STARTTLS
#                    (smtpd_tls_auth_only = yes; before it, AUTH gets "503
#                    5.5.1 Error: authentication not enabled").  Implies
#                    CERT=valid unless a certificate is given.
#       At most one of TLS and CERT=KIND.  Certificates are made with the
#       openssl CLI on first use and kept in $PF_ROOT/.tls for every later
#       instance (leaf certificates are remade when older than a day, so
#       "expiring" stays within its window in a long-lived PF_ROOT).
#   pf_test_ca          print the path of the test CA's certificate (PEM,
#                       CN "relayprobe test CA"), to pass as a trusted CA
#                       file; makes it if needed.
#   pf_cert KIND        print the path of certificate KIND (PEM; makes it).
#   pf_stop NAME        postfix stop; make sure master and its children are
#                       gone (zombies count as gone), kill -9 by PID if not.
#   pf_stop_all         pf_stop every instance under $PF_ROOT (trap-safe).
#   pf_cleanup          pf_stop_all, then remove $PF_ROOT if this file
#                       created it (set PF_KEEP=1 to keep it for post-mortem).
#   pf_log NAME         print the instance's maillog.
#   pf_conf NAME ARG... change main.cf lines of a running instance + reload.
#   pf_port NAME / pf_addr NAME / pf_dir NAME (config dir) / pf_tls_cert
#                       (PEM of the self-signed certificate, to pin/verify;
#                       the same as pf_cert selfsigned).
#   pf_free_port        print a random TCP port in 10000-31999 (below the ephemeral range) nobody listens on.
#
# Environment: PF_ROOT (default: mktemp -d, created when this file is
# sourced, exported), PF_SINK (default 9), PF_START_TIMEOUT (default 15 s),
# PF_KEEP, PF_SASL_USER (default test@relaytarget.test), PF_SASL_PASS
# (default secret).  SASL needs saslpasswd2 (Debian package sasl2-bin) and
# the Cyrus plugins (libsasl2-modules, libsasl2-modules-db).

# --- state -----------------------------------------------------------------

if [[ -z "${PF_ROOT:-}" ]]; then
    PF_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/relayprobe-pf.XXXXXX") || {
        echo "postfix.sh: mktemp failed" >&2
        return 1
    }
    # Postfix daemons drop to user "postfix" and must be able to traverse.
    chmod 755 "$PF_ROOT"
    _PF_ROOT_OWNED=1
fi
export PF_ROOT
: "${_PF_ROOT_OWNED:=0}"
: "${PF_SINK:=9}"
: "${PF_START_TIMEOUT:=15}"
: "${PF_SASL_USER:=test@relaytarget.test}"
: "${PF_SASL_PASS:=secret}"

_pf_err() { echo "postfix.sh: $*" >&2; }

_pf_check_name() {
    if [[ ! "${1:-}" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]]; then
        _pf_err "bad instance name '${1:-}' (use [A-Za-z0-9_.-])"
        return 1
    fi
}

_pf_idir() { printf '%s/%s\n' "$PF_ROOT" "$1"; }

# Liveness that treats zombies as dead (PID 1 may not reap orphans here).
# Pure bash: these run in polling loops, forks add up on a busy machine.
_pf_alive() {
    local pid=${1:-} k v
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    { while read -r k v _; do
          if [[ $k == State: ]]; then
              # Explicit status: a bare return inside a trap would
              # return the trap's entry status, not this test's.
              if [[ $v != Z && $v != X ]]; then return 0; else return 1; fi
          fi
      done <"/proc/$pid/status"; } 2>/dev/null
    return 1
}

# PIDs of live processes whose cwd is inside the instance directory. master
# and every daemon it spawns chdir() into queue_directory, so this finds the
# whole instance, whatever the command line says (master runs as plain
# "/usr/lib/postfix/sbin/master -w", with MAIL_CONFIG in its environment).
_pf_pids() {
    local idir=$1 c pid
    # One find instead of a readlink per process.
    find /proc/[0-9]*/cwd -maxdepth 0 -lname "$idir/*" 2>/dev/null |
    while IFS= read -r c; do
        pid=${c#/proc/}; pid=${pid%/cwd}
        if _pf_alive "$pid"; then echo "$pid"; fi
    done
    return 0
}

_pf_master_pid() {
    local pid=
    { read -r pid <"$1/queue/pid/master.pid"; } 2>/dev/null || true
    if [[ $pid =~ ^[0-9]+$ ]]; then echo "$pid"; fi
    return 0
}

# PORT [ADDR]: something listens on PORT (on ADDR, or on a wildcard
# address, when ADDR is given: the same port on other addresses is fine).
_pf_port_in_use() {
    local out
    out=$(ss -ltnH "sport = :$1" 2>/dev/null) || return 1
    [[ -n $out ]] || return 1
    [[ -z ${2:-} ]] && return 0
    local a=$2
    [[ $a == *:* ]] && a="[$a]"
    grep -qE "(^|[[:space:]])($(printf '%s' "$a" | sed 's/[].[]/\\&/g')|\*|0\.0\.0\.0|\[::\]):$1([[:space:]]|$)" <<<"$out"
}

pf_free_port() {
    local i p
    for ((i = 0; i < 200; i++)); do
        p=$(( 10000 + (RANDOM * 32768 + RANDOM) % 22000 ))  # below the ephemeral range (32768+): no outgoing socket can hold it
        _pf_port_in_use "$p" && continue
        # Also skip ports already assigned to (maybe not yet listening)
        # instances of this PF_ROOT.
        if compgen -G "$PF_ROOT/*/port" >/dev/null &&
           grep -qxF "$p" "$PF_ROOT"/*/port 2>/dev/null; then
            continue
        fi
        echo "$p"
        return 0
    done
    _pf_err "pf_free_port: no free port found"
    return 1
}

# --- certificates (openssl CLI), once per PF_ROOT --------------------------
#
# $PF_ROOT/.tls holds a private test CA (ca.pem/ca.key, with the "openssl ca"
# config ca.cnf and its database ca.db/) and one certificate per kind
# (KIND.pem, KIND.key, KIND.made = epoch when made).  "openssl x509"/"req"
# of OpenSSL 3.0 cannot backdate a certificate, "openssl ca" can
# (-startdate/-enddate), so every certificate, the self-signed ones
# included, is signed by "openssl ca".  Made under a lock (flock) so that
# instances started in parallel in one PF_ROOT share one CA.

_PF_CERT_KINDS='valid expiring expired wrongname selfsigned'

# N days from now as an X.509 UTCTime (RFC 5280 wants UTCTime up to 2049).
_pf_utctime() { date -u -d "@$((EPOCHSECONDS + $1 * 86400))" +%y%m%d%H%M%SZ; }

_pf_ca_conf() {
    local d=$1
    mkdir -p "$d/ca.db/new" || return 1
    : >"$d/ca.db/index.txt"
    echo 1000 >"$d/ca.db/serial"
    # subjectAltName comes from the environment ($ENV::PF_SAN), so that one
    # section serves every name.
    cat >"$d/ca.cnf" <<EOF
# Generated by tests/integration/postfix.sh: the relayprobe test CA.
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = $d/ca.db
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ policy_any ]
commonName = supplied
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
[ ext_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ ext_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:\$ENV::PF_SAN
[ ext_self ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:\$ENV::PF_SAN
EOF
}

# Make certificate KIND (or the CA, KIND "ca") in directory D.  Caller
# holds the lock.
_pf_mkcert() {
    local d=$1 kind=$2 cn=mx.relaytarget.test ext=ext_leaf from=-1 to=365
    local -a signer=(-cert "$d/ca.pem" -keyfile "$d/ca.key")
    case $kind in
        ca)         cn="relayprobe test CA" ext=ext_ca from=-400 to=3650 ;;
        valid)      ;;
        expiring)   from=-60 to=5 ;;
        expired)    from=-200 to=-30 ;;
        wrongname)  cn=wrong.example.test ;;
        selfsigned) ext=ext_self ;;
        *) _pf_err "unknown certificate kind '$kind' (one of: $_PF_CERT_KINDS)"
           return 1 ;;
    esac
    [[ $kind == ca || $kind == selfsigned ]] &&
        signer=(-selfsign -keyfile "$d/$kind.key.tmp")
    rm -f "$d/$kind".*.tmp
    if ! { PF_SAN=$cn openssl req -config "$d/ca.cnf" -new -newkey rsa:2048 \
               -nodes -subj "/CN=$cn" -keyout "$d/$kind.key.tmp" \
               -out "$d/$kind.csr.tmp" &&
           PF_SAN=$cn openssl ca -config "$d/ca.cnf" -batch -notext \
               -extensions "$ext" -startdate "$(_pf_utctime "$from")" \
               -enddate "$(_pf_utctime "$to")" "${signer[@]}" \
               -in "$d/$kind.csr.tmp" -out "$d/$kind.pem.tmp"; } \
            >"$d/openssl.log" 2>&1; then
        _pf_err "making certificate '$kind' with openssl failed:"
        cat "$d/openssl.log" >&2
        return 1
    fi
    rm -f "$d/$kind.csr.tmp"
    chmod 600 "$d/$kind.key.tmp"
    # The .pem appears last: its presence means the pair is complete.
    mv -f "$d/$kind.key.tmp" "$d/$kind.key" &&
    mv -f "$d/$kind.pem.tmp" "$d/$kind.pem" &&
    echo "$EPOCHSECONDS" >"$d/$kind.made"
}

# KIND is usable: pem + key there, and (but for the CA, valid for 10
# years) made less than a day ago.
_pf_cert_fresh() {
    local d=$1 kind=$2 made=0
    [[ -s $d/$kind.pem && -s $d/$kind.key ]] || return 1
    [[ $kind == ca ]] && return 0
    { read -r made <"$d/$kind.made"; } 2>/dev/null || return 1
    [[ $made =~ ^[0-9]+$ ]] && ((EPOCHSECONDS - made < 86400))
}

# Certificate KIND (or "ca"), made once per PF_ROOT.
_pf_cert_material() {
    local kind=$1 d=$PF_ROOT/.tls
    _pf_cert_fresh "$d" "$kind" && return 0
    if [[ $kind != ca && " $_PF_CERT_KINDS " != *" $kind "* ]]; then
        _pf_err "unknown certificate kind '$kind' (one of: $_PF_CERT_KINDS)"
        return 1
    fi
    mkdir -p "$d" || return 1
    (
        flock 9 || exit 1
        _pf_cert_fresh "$d" "$kind" && exit 0
        [[ -s $d/ca.cnf ]] || _pf_ca_conf "$d" || exit 1
        if [[ $kind != selfsigned ]] && ! _pf_cert_fresh "$d" ca; then
            _pf_mkcert "$d" ca || exit 1
        fi
        [[ $kind == ca ]] || _pf_mkcert "$d" "$kind"
    ) 9>"$d/.lock"
}

pf_cert() {
    _pf_cert_material "${1:-}" || return 1
    echo "$PF_ROOT/.tls/$1.pem"
}

pf_test_ca() {
    _pf_cert_material ca || return 1
    echo "$PF_ROOT/.tls/ca.pem"
}

pf_tls_cert() { pf_cert selfsigned; }

# --- SASL ------------------------------------------------------------------

# Cyrus SASL for the instance in IDIR: conf/sasl/smtpd.conf (smtpd_sasl_path
# = smtpd; cyrus_sasl_config_path points here) and a private sasldb with
# one user.  smtpd runs as user postfix, chroot off: the sasldb only needs
# to be readable by group postfix.
_pf_sasl_setup() {
    local s=$1/conf/sasl out
    if ! command -v saslpasswd2 >/dev/null; then
        _pf_err "SASL: saslpasswd2 not found (Debian package sasl2-bin; scripts/deps.sh)"
        return 1
    fi
    if [[ $PF_SASL_USER != ?*@?* ]]; then
        _pf_err "SASL: PF_SASL_USER must be user@realm, got '$PF_SASL_USER'"
        return 1
    fi
    mkdir -p "$s" || return 1
    cat >"$s/smtpd.conf" <<EOF
# Generated by tests/integration/postfix.sh.
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $s/sasldb2
mech_list: PLAIN LOGIN CRAM-MD5
EOF
    # -u: the realm explicitly (else saslpasswd2 asks for this host's FQDN).
    if ! out=$(printf '%s' "$PF_SASL_PASS" |
               saslpasswd2 -f "$s/sasldb2" -p -c -u "${PF_SASL_USER##*@}" \
                   "${PF_SASL_USER%@*}" 2>&1); then
        _pf_err "SASL: saslpasswd2 failed: $out"
        return 1
    fi
    chown root:postfix "$s/sasldb2" && chmod 640 "$s/sasldb2"
}

pf_dir()  { _pf_check_name "${1:-}" || return 1; echo "$(_pf_idir "$1")/conf"; }
pf_port() { _pf_check_name "${1:-}" || return 1; cat "$(_pf_idir "$1")/port"; }
pf_addr() { _pf_check_name "${1:-}" || return 1; cat "$(_pf_idir "$1")/addr"; }

pf_log() {
    _pf_check_name "${1:-}" || return 1
    local f
    f="$(_pf_idir "$1")/maillog"
    if [[ ! -e $f ]]; then
        _pf_err "pf_log: no maillog for instance '$1' ($f)"
        return 1
    fi
    cat "$f"
}

# One attempt to read a "220 " greeting; politely QUITs. An instance in
# TLS wrapper mode (smtps, port 465 style) greets only inside TLS.
_pf_greets() {
    local addr=$1 port=$2 wrapper=${3:-no}
    if [[ $wrapper == yes ]]; then
        local host=$addr got
        [[ $host == *:* ]] && host="[$host]"
        # -quiet implies -ign_eof: s_client sends QUIT, prints the 220 and
        # the 221, and exits when the server closes.  The timeout is only a
        # bound; the caller may run with pipefail, hence "|| true".
        got=$(printf 'QUIT\r\n' | timeout 3 openssl s_client -connect "$host:$port" \
            -quiet 2>/dev/null || true)
        [[ $got == "220 "* ]]
        return
    fi
    # bash opens /dev/tcp via getaddrinfo, so "::1" works as a host.
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
        exit 1' "$addr" "$port" 2>/dev/null
}

# Split "key = value" into _pf_k / _pf_v.
_pf_split() {
    local line=$1
    if [[ ! "$line" =~ ^[[:space:]]*([A-Za-z0-9_]+)[[:space:]]*=(.*)$ ]]; then
        _pf_err "not a main.cf 'key = value' line: '$line'"
        return 1
    fi
    _pf_k=${BASH_REMATCH[1]}
    _pf_v=${BASH_REMATCH[2]}
    _pf_v=${_pf_v#"${_pf_v%%[![:space:]]*}"}
}

# Every Postfix program that reads main.cf re-reads it every 300 ms for as
# long as its mtime is within ~1 s of "now" (dict_load_file_xt: "pausing to
# let main.cf finish"), so a freshly written main.cf costs ~2 s on *each*
# postconf/postfix call.  Backdate it after every write.
_pf_backdate() {
    touch -d "@$((EPOCHSECONDS - 10))" "$1/main.cf" "$1/master.cf"
}

# Apply main.cf lines; reject parameter names Postfix does not know.
_pf_apply() {
    local conf=$1; shift
    local l out
    (($# == 0)) && return 0
    for l in "$@"; do _pf_split "$l" || return 1; done
    if ! out=$(postconf -c "$conf" -e "$@" 2>&1); then
        _pf_err "postconf -e failed: $out"
        return 1
    fi
    _pf_backdate "$conf" || return 1
    # postconf -n warns "unused parameter: foo=bar" for unknown names
    # (typos would otherwise silently do nothing).
    out=$(postconf -c "$conf" -n 2>&1 >/dev/null | grep -i 'unused parameter') || true
    if [[ -n $out ]]; then
        _pf_err "unknown main.cf parameter(s) in $conf: $out"
        return 1
    fi
}

_pf_write_config() {
    local idir=$1 addr=$2 port=$3 conf=$1/conf
    local iface svc protocols
    if [[ $addr == *:* ]]; then
        iface="[$addr]"; svc="[$addr]:$port"; protocols=all
    else
        iface=$addr; svc="$addr:$port"; protocols=ipv4
        # Postfix insists that inet_interfaces names an address assigned to
        # an interface (else "fatal: no local interface found", logged only
        # to syslog). Only 127.0.0.1 is assigned on lo, yet Linux answers on
        # all of 127/8: keep 127.0.0.1 here and bind ADDR in master.cf.
        [[ $addr == 127.* && $addr != 127.0.0.1 ]] && iface=127.0.0.1
    fi
    mkdir -p "$conf" "$idir/data" "$idir/queue" || return 1
    # data_directory must belong to the mail_owner (postfix check fixes
    # the queue itself).
    chown postfix: "$idir/data" || return 1
    : >"$idir/maillog"
    cat >"$conf/main.cf" <<EOF
# Generated by tests/integration/postfix.sh for instance $(basename "$idir").
compatibility_level = 3.6
queue_directory = $idir/queue
data_directory = $idir/data
maillog_file = $idir/maillog
maillog_file_prefixes = $idir
syslog_name = postfix-$(basename "$idir")

inet_interfaces = $iface
inet_protocols = $protocols

myhostname = mx.relaytarget.test
mydomain = relaytarget.test
myorigin = relaytarget.test
mydestination = relaytarget.test, mx.relaytarget.test, localhost
smtpd_banner = \$myhostname ESMTP \$mail_name (Debian/GNU)
mynetworks = 127.0.0.1/32
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination

# Accept any local part; deliver everything to the loopback sink.
local_recipient_maps =
alias_maps =
alias_database =
local_transport = smtp:[127.0.0.1]:$PF_SINK
default_transport = smtp:[127.0.0.1]:$PF_SINK
relay_transport = smtp:[127.0.0.1]:$PF_SINK
relayhost = [127.0.0.1]:$PF_SINK

# No DNS, ever.
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
disable_dns_lookups = yes
smtp_host_lookup = native
smtpd_peername_lookup = no

biff = no
append_dot_mydomain = no
readme_directory = no
smtpd_tls_security_level = none
smtp_tls_security_level = none
EOF
    # private/unpriv/chroot/wakeup/maxproc; chroot is "n" everywhere.
    cat >"$conf/master.cf" <<EOF
# Generated by tests/integration/postfix.sh.
$svc inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    echo "$addr" >"$idir/addr"
    echo "$port" >"$idir/port"
    _pf_backdate "$conf"
}

# A pristine queue directory, made once per PF_ROOT by "postfix check"
# (i.e. Postfix's own post-install create-missing: ~16 directories with the
# right owners/modes, ~2.5 s of shell).  Instances get a "cp -a" of it, and
# their own "postfix start" then only verifies it (~0.5 s).
_pf_skeleton() {
    local skel=$PF_ROOT/.skel out
    [[ -f $skel/ok ]] && return 0
    rm -rf "$skel"
    mkdir -p "$skel" || return 1
    _pf_write_config "$skel" 127.0.0.1 1 || return 1
    if ! out=$(postfix -c "$skel/conf" check 2>&1); then
        _pf_err "postfix check (queue skeleton in $skel) failed:"; echo "$out" >&2
        return 1
    fi
    [[ -n $out ]] && printf '%s\n' "$out" | sed 's/^/postfix.sh: check: /' >&2
    touch "$skel/ok"
}

# Start an already configured instance and wait for its greeting.
_pf_launch() {
    local name=$1 idir=$2 conf=$2/conf addr=$3 port=$4 out i deadline
    # "postfix start" runs the same checks as "postfix check" (check-fatal:
    # create-missing, postlog service present, postsuper; check-warn:
    # ownership/permissions) before it starts master -w.
    if ! out=$(postfix -c "$conf" start 2>&1); then
        _pf_err "pf_start $name: postfix start failed:"; echo "$out" >&2
        return 1
    fi
    [[ -n $out ]] && printf '%s\n' "$out" | sed "s/^/postfix.sh: $name: start: /" >&2
    local wrapper
    wrapper=$(postconf -c "$conf" -h smtpd_tls_wrappermode 2>/dev/null) || wrapper=no
    deadline=$((SECONDS + PF_START_TIMEOUT))
    for ((i = 0; ; i++)); do
        if _pf_greets "$addr" "$port" "$wrapper"; then
            return 0
        fi
        # Give up early when master died (e.g. bind failed) or a daemon
        # hit a fatal error (e.g. smtpd refusing its restriction lists:
        # master would just keep respawning it until the timeout).
        if ((i > 3)) && ! _pf_alive "$(_pf_master_pid "$idir")"; then
            return 2
        fi
        if grep -qE '(fatal|panic): ' "$idir/maillog" 2>/dev/null; then
            return 4
        fi
        ((SECONDS >= deadline)) && return 3
        sleep 0.05
    done
}

pf_start() {
    if (($# < 3)); then
        _pf_err "usage: pf_start NAME ADDR PORT|auto [TLS|CERT=KIND|LEGACY_TLS|SASL|SASL_TLS_ONLY|'key = value'...]"
        return 1
    fi
    local name=$1 addr=$2 port=$3; shift 3
    _pf_check_name "$name" || return 1
    if [[ $EUID -ne 0 ]]; then
        _pf_err "pf_start: must run as root (postfix start requires it)"
        return 1
    fi
    if [[ ! $addr =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ && $addr != ::1 ]]; then
        _pf_err "pf_start $name: ADDR must be loopback (127.x.y.z or ::1), got '$addr'"
        return 1
    fi
    if [[ $port != auto && ! ( $port =~ ^[0-9]+$ && $port -gt 0 && $port -lt 65536 ) ]]; then
        _pf_err "pf_start $name: bad port '$port'"
        return 1
    fi
    if [[ $port == 25 ]]; then
        _pf_err "pf_start $name: refusing port 25"
        return 1
    fi
    local idir
    idir=$(_pf_idir "$name")
    if [[ -e $idir ]]; then
        if [[ -n "$(_pf_pids "$idir")" ]]; then
            _pf_err "pf_start $name: instance already running in $idir"
            return 1
        fi
        rm -rf "$idir"
    fi

    # Pseudo-lines become main.cf lines placed before the caller's, which
    # thus override them.
    local a cert='' legacy=0 sasl=''
    local -a lines=() pre=()
    for a in "$@"; do
        case $a in
            TLS|CERT=*)
                if [[ -n $cert ]]; then
                    _pf_err "pf_start $name: only one of TLS and CERT=KIND, got '$a' after '$cert'"
                    return 1
                fi
                cert=$a ;;
            LEGACY_TLS)    legacy=1 ;;
            SASL)          [[ $sasl == tls_only ]] || sasl=yes ;;
            SASL_TLS_ONLY) sasl=tls_only ;;
            *)
                if [[ $a =~ ^[A-Z][A-Z0-9_]*$ ]]; then
                    _pf_err "pf_start $name: unknown pseudo-line '$a' (TLS, CERT=KIND, LEGACY_TLS, SASL, SASL_TLS_ONLY)"
                    return 1
                fi
                lines+=("$a") ;;
        esac
    done
    # LEGACY_TLS and SASL_TLS_ONLY need a certificate.
    if ((legacy)) || [[ $sasl == tls_only ]]; then : "${cert:=CERT=valid}"; fi
    if [[ $cert == TLS ]]; then cert=CERT=selfsigned legacy=1; fi
    if [[ -n $cert ]]; then
        _pf_cert_material "${cert#CERT=}" || return 1
        local v=">=TLSv1.2"
        ((legacy)) && v=">=TLSv1"
        pre+=("smtpd_tls_cert_file = $PF_ROOT/.tls/${cert#CERT=}.pem"
              "smtpd_tls_key_file = $PF_ROOT/.tls/${cert#CERT=}.key"
              "smtpd_tls_security_level = may"
              "smtpd_tls_loglevel = 1"
              "smtpd_tls_protocols = $v"
              "smtpd_tls_mandatory_protocols = $v")
    fi
    if [[ -n $sasl ]]; then
        local only=no
        [[ $sasl == tls_only ]] && only=yes
        pre+=("smtpd_sasl_auth_enable = yes"
              "smtpd_sasl_type = cyrus"
              "smtpd_sasl_path = smtpd"
              "cyrus_sasl_config_path = $idir/conf/sasl"
              "smtpd_tls_auth_only = $only"
              "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination")
    fi
    lines=("${pre[@]}" "${lines[@]}")

    _pf_skeleton || return 1
    local attempt rc tries=1 p
    [[ $port == auto ]] && tries=5
    for ((attempt = 1; attempt <= tries; attempt++)); do
        p=$port
        if [[ $port == auto ]]; then p=$(pf_free_port) || return 1; fi
        if _pf_port_in_use "$p" "$addr"; then
            _pf_err "pf_start $name: port $p is already in use on $addr"
            ((attempt < tries)) && continue
            return 1
        fi
        rm -rf "$idir"
        mkdir -p "$idir" || return 1
        _pf_write_config "$idir" "$addr" "$p" || return 1
        if [[ -n $sasl ]]; then _pf_sasl_setup "$idir" || return 1; fi
        rmdir "$idir/queue" && cp -a "$PF_ROOT/.skel/queue" "$idir/queue" || return 1
        # The copy was verified by "postfix check"; skip the ~1 s re-check
        # that "postfix start" would do (PF_FULL_CHECK=1 to keep it).
        [[ ${PF_FULL_CHECK:-0} == 1 ]] || : >"$idir/queue/quick-start"
        _pf_apply "$idir/conf" "${lines[@]}" || return 1
        rc=0
        _pf_launch "$name" "$idir" "$addr" "$p" || rc=$?
        ((rc == 0)) && return 0
        # Start failed, master gone or no greeting: find out why, clean up,
        # maybe retry.
        if ((rc != 3)) && grep -q 'Address already in use' "$idir/maillog" 2>/dev/null &&
           ((attempt < tries)); then
            _pf_err "pf_start $name: lost a race for port $p, retrying"
            pf_stop "$name" 2>/dev/null || true
            continue
        fi
        if ((rc == 1)); then
            :   # _pf_launch printed postfix start's complaint
        elif ((rc == 2)); then
            _pf_err "pf_start $name: postfix master died before $addr:$p greeted"
        elif ((rc == 4)); then
            _pf_err "pf_start $name: fatal error in the maillog before $addr:$p greeted"
        else
            _pf_err "pf_start $name: no '220 ' greeting on $addr:$p within ${PF_START_TIMEOUT}s"
        fi
        _pf_err "---- maillog of $name ($idir/maillog) ----"
        cat "$idir/maillog" >&2 2>/dev/null || true
        _pf_err "---- end of maillog ----"
        pf_stop "$name" || true
        return 1
    done
    return 1
}

pf_conf() {
    if (($# < 2)); then
        _pf_err "usage: pf_conf NAME 'key = value'..."
        return 1
    fi
    local name=$1; shift
    _pf_check_name "$name" || return 1
    local conf out
    conf="$(_pf_idir "$name")/conf"
    [[ -f $conf/main.cf ]] || { _pf_err "pf_conf: no instance '$name'"; return 1; }
    _pf_apply "$conf" "$@" || return 1
    if ! out=$(postfix -c "$conf" reload 2>&1); then
        _pf_err "pf_conf $name: postfix reload failed:"; echo "$out" >&2
        return 1
    fi
}

pf_stop() {
    local name=${1:-}
    _pf_check_name "$name" || return 1
    local idir conf mpid pid i left
    idir=$(_pf_idir "$name")
    conf=$idir/conf
    if [[ ! -d $idir ]]; then
        _pf_err "pf_stop: no instance '$name' under $PF_ROOT"
        return 1
    fi
    mpid=$(_pf_master_pid "$idir")
    if [[ -n $mpid ]] && _pf_alive "$mpid"; then
        postfix -c "$conf" stop >/dev/null 2>&1 || true
        # postfix stop returns once master has been signalled; wait for it.
        for ((i = 0; i < 100; i++)); do
            _pf_alive "$mpid" || break
            sleep 0.05
        done
        if _pf_alive "$mpid"; then
            _pf_err "pf_stop $name: master $mpid still alive after 5 s, kill -9"
            kill -9 "$mpid" 2>/dev/null || true
        fi
    fi
    # Daemons exit when master's status pipe closes; give them a moment,
    # then kill -9 what is left of *this* instance, by PID.
    for ((i = 0; i < 40; i++)); do
        left=$(_pf_pids "$idir")
        [[ -z $left ]] && return 0
        sleep 0.05
    done
    for pid in $left; do
        _pf_err "pf_stop $name: leftover pid $pid ($(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)), kill -9"
        kill -9 "$pid" 2>/dev/null || true
    done
    for ((i = 0; i < 40; i++)); do
        [[ -z "$(_pf_pids "$idir")" ]] && return 0
        sleep 0.05
    done
    _pf_err "pf_stop $name: processes survive kill -9: $(_pf_pids "$idir" | tr '\n' ' ')"
    return 1
}

pf_stop_all() {
    local d rc=0
    [[ -n "${PF_ROOT:-}" && -d "$PF_ROOT" ]] || return 0
    for d in "$PF_ROOT"/*/conf/main.cf; do
        [[ -e $d ]] || continue
        d=${d%/conf/main.cf}
        pf_stop "${d##*/}" || rc=1
    done
    return $rc
}

pf_cleanup() {
    local rc=0
    pf_stop_all || rc=1
    if [[ $_PF_ROOT_OWNED == 1 && ${PF_KEEP:-0} != 1 && $rc == 0 && -d "${PF_ROOT:-}" ]]; then
        rm -rf "$PF_ROOT"
    elif [[ -d "${PF_ROOT:-}" ]]; then
        _pf_err "instances kept in $PF_ROOT"
    fi
    return $rc
}
