#!/usr/bin/env bash
# relayprobe config-check against real Exim 4.96 daemons (exim.sh): each
# daemon's own exim.conf goes through config-check, the running daemon
# through `relayprobe check` from 127.0.0.2 (outside relay_from_hosts),
# and the verdicts must agree (config_agree.sh). Then hostile Exim files:
# include loops, missing includes, binary junk, huge lines.
. "$(dirname "$0")/lib.sh"
# shellcheck source=exim.sh
. "$SRCDIR/tests/integration/exim.sh"
# shellcheck source=config_agree.sh
. "$SRCDIR/tests/integration/config_agree.sh"
trap 'ex_cleanup; _rp_cleanup' EXIT
# Many daemons start at once on a possibly busy machine: give them time.
# shellcheck disable=SC2034 # read by exim.sh
EX_START_TIMEOUT=60

A=127.0.0.1
ex_start closed $A auto closed || exit 1
declare -A STARTED=() START_RC=([closed]=0)
spawn() {
  local name=$1; shift
  ( ex_start "$name" $A auto "$@" >"$RP_OUT/start-$name.log" 2>&1 ) &
  STARTED[$name]=$!
}
spawn open open
spawn loop 'hostlist relay_from_hosts = 127.0.0.0/8'
spawn sender closed 'rcpt: accept senders = *@relaytarget.test'
spawn anyhost closed 'rcpt: accept hosts = *'
spawn hardened closed hardened 'percent_hack_domains = *'
spawn nullsender closed 'rcpt: accept senders = :'
spawn denyfirst open 'rcpt: deny message = relay not permitted' 'rcpt: domains = !+local_domains'
spawn lan closed 'hostlist relay_from_hosts = <; 127.0.0.1 ; 192.168.0.0/16'
spawn inline closed 'acl_smtp_rcpt = accept'
for n in "${!STARTED[@]}"; do
  wait "${STARTED[$n]}"; START_RC[$n]=$?
done

case_ex() {
  local name=$1 want=$2
  if [[ ${START_RC[$name]} != 0 ]]; then
    _fail "$name: ex_start" "$(tail -5 "$RP_OUT/start-$name.log")"
    return 1
  fi
  agree "$name" "$want" "$A:$(ex_port "$name")" --exim "$(ex_conf "$name")"
}
line_of() { grep -n -- "$2" "$(ex_conf "$1")" | head -1 | cut -d: -f1; }

# 1. Exim's default ACL with relay_from_hosts = 127.0.0.1: closed. The
#    default banner shows the version: both tools say so.
case_ex closed closed
jq_is closed.cc '.configs[0].mta' exim
has_finding closed version-disclosed
rp_check closed_audit --no-dns-checks --only T02 --source 127.0.0.2 "$A:$(ex_port closed)"
jq_is closed_audit '[.servers[0].findings[].id] | index("version-disclosed") != null' true

# 2. relay_from_hosts = 0.0.0.0/0 : ::/0 -- the hostlist line is named.
case_ex open open
has_finding open exim-relay-from-hosts-open exim.conf "$(line_of open 'hostlist relay_from_hosts')"
jq_is open.cc '[.configs[0].findings[] | select(.id == "exim-relay-from-hosts-open") | .message | test("accept hosts = \\+relay_from_hosts")][0]' true

# 3. relay_from_hosts = 127.0.0.0/8 holds the tester: open from 127.0.0.2,
#    closed for the internet.
case_ex loop open
has_finding loop exim-relay-from-hosts-client
cc_run loop_inet --exim "$(ex_conf loop)"
jq_is loop_inet.cc .verdict closed

# 4. An accept on a forgeable sender before the relay refusal: T04.
case_ex sender open
has_finding sender exim-accept-sender exim.conf "$(line_of sender 'accept senders = \*@relaytarget.test')"
jq_is sender.cc '[.configs[0].findings[] | select(.id == "exim-accept-sender") | .techniques[]] | join(",")' T04

# 5. accept hosts = * : every client.
case_ex anyhost open
has_finding anyhost exim-accept-any-host

# 6. Version-less banner, percent hack on: closed; the banner finding is
#    gone, the percent hack reported.
case_ex hardened closed
no_finding hardened version-disclosed
has_finding hardened exim-percent-hack

# 7. The null sender trusted: T01.
case_ex nullsender open
jq_is nullsender.cc '[.configs[0].findings[] | select(.id == "exim-accept-sender") | .techniques[]] | join(",")' T01

# 8. An open relay_from_hosts, but a statement refusing other domains
#    comes first: closed.
case_ex denyfirst closed
no_finding denyfirst exim-relay-from-hosts-open

# 9. A whole private range in relay_from_hosts: a warning, closed from
#    outside.
case_ex lan closed
has_finding lan exim-relay-from-hosts-broad

# 10. The RCPT ACL given inline as "accept": everything relays.
case_ex inline open
has_finding inline exim-accept-unconditional exim.conf "$(line_of inline '^acl_smtp_rcpt')"

# --- hostile and malformed Exim files: one clear line, exit 3 ----------------
bad() {
  local what=$1 pattern=$2; shift 2
  "$RELAYPROBE" config-check "$@" >"$RP_OUT/bad.out" 2>"$RP_OUT/bad.err"
  local rc=$?
  if [[ $rc == 3 ]] && grep -qE -- "$pattern" "$RP_OUT/bad.err" && [[ $(wc -l <"$RP_OUT/bad.err") -le 2 ]]; then
    _pass "bad input: $what (exit 3)"
  else
    _fail "bad input: $what (exit 3)" "exit $rc: $(head -c 300 "$RP_OUT/bad.err")"
  fi
}
H=$RP_OUT/hostile
mkdir -p "$H"
printf 'primary_hostname = x.example\n.include %s/self.conf\n' "$H" >"$H/self.conf"
bad "file including itself" 'self.conf:2: .include loop' --exim "$H/self.conf"
printf 'primary_hostname = x.example\n.include %s/b.conf\n' "$H" >"$H/a.conf"
printf 'qualify_domain = x.example\n.include %s/a.conf\n' "$H" >"$H/b.conf"
bad "include loop through two files" 'b.conf:2: .include loop' --exim "$H/a.conf"
printf 'primary_hostname = x.example\n.include %s/missing.conf\n' "$H" >"$H/miss.conf"
bad "missing include" 'miss.conf:2: .include: .*cannot open' --exim "$H/miss.conf"
printf 'primary_hostname = x.example\n.include_if_exists %s/missing.conf\nacl_smtp_rcpt = acl_check_rcpt\nbegin acl\nacl_check_rcpt:\n  deny\n' "$H" >"$H/ifex.conf"
"$RELAYPROBE" config-check --exim "$H/ifex.conf" >/dev/null 2>&1
ok ".include_if_exists of a missing file is fine (closed, exit 0)" test $? = 0
head -c 2000 /dev/urandom >"$H/junk.conf"
bad "binary junk" 'binary data|not an Exim option line|line longer' --exim "$H/junk.conf"
{ printf 'primary_hostname = '; head -c 100000 /dev/zero | tr '\0' 'x'; echo; } >"$H/long.conf"
bad "huge line" 'long.conf:1: line longer than' --exim "$H/long.conf"
{ printf 'M1 = %s\n' "$(head -c 3000 /dev/zero | tr '\0' 'y')"; for i in $(seq 2 40); do echo "M$i = M$((i-1)) M$((i-1))"; done; } >"$H/macros.conf"
bad "macro explosion" 'after macro expansion' --exim "$H/macros.conf"
: >"$H/empty.conf"
bad "empty file" 'no settings' --exim "$H/empty.conf"
bad "missing file" 'cannot open' --exim "$H/nonexistent.conf"
bad "a directory" 'not a regular file' --exim "$H"
printf 'acl_smtp_rcpt = nosuchacl\n' >"$H/noacl.conf"
bad "acl_smtp_rcpt naming no ACL" "noacl.conf:1: acl_smtp_rcpt names 'nosuchacl'" --exim "$H/noacl.conf"
printf 'begin acl\n  hosts = *\n' >"$H/orphan.conf"
bad "ACL condition outside an ACL" 'orphan.conf:2: ACL statement outside an ACL' --exim "$H/orphan.conf"

finish
