#!/usr/bin/env bash
# Delivery proof (--confirm, --send-to, `relayprobe receive`) against real
# Postfix instances whose relayhost is relayprobe's own receiver. Nothing
# leaves loopback: the receiver listens on 127.0.0.1 and takes only tokens.
. "$(dirname "$0")/lib.sh"

RP=$(pf_free_port)
CONFIRM=(--confirm --confirm-domain confirm.test --receiver "127.0.0.1:$RP")

# 1. An open relay (trusts everyone) that hands mail to our receiver:
#    suspect without --confirm (it also accepts the impossible recipient),
#    open with it, and the delivered techniques are named.
pf_start open 127.0.0.1 auto 'mynetworks = 127.0.0.0/8' "relayhost = [127.0.0.1]:$RP" 'default_transport = smtp' 'relay_transport = smtp' || exit 1
rp_check open_plain --source 127.0.0.2 "127.0.0.1:$(pf_port open)"
jq_is open_plain .verdict suspect
jq_is open_plain '[.servers[0].transcript[] | select(.dir == "C" and .line == "DATA")] | length' 0
jq_is open_plain '[.servers[0].tests[].delivery] | unique | join(",")' not-attempted
rp_check open_confirm "${CONFIRM[@]}" --confirm-wait 30 --source 127.0.0.2 "127.0.0.1:$(pf_port open)"
rc_is 2
jq_is open_confirm .verdict open
jq_is open_confirm '.servers[0].tests[] | select(.id == "T02") | [.delivery, (.token | test("^rp[0-9a-f]{10}-t02$") | tostring), .rcpt_to] | join(" ")' \
  "delivered true <$(jq -r '.servers[0].tests[] | select(.id == "T02") | .token' "$RP_OUT/open_confirm.json")@confirm.test>"
jq_is open_confirm '[.servers[0].tests[] | select(.delivery == "delivered")] | length >= 10' true
jq_is open_confirm '.servers[0].findings[] | select(.id == "open-relay") | .message | test("delivered")' true
# Probes go only to the confirm domain: never to controls, never elsewhere.
jq_is open_confirm '[.servers[0].controls[].delivery] | unique | join(",")' not-attempted
jq_is open_confirm '[.servers[0].tests[] | select(.token != null) | .rcpt_to | test("confirm\\.test")] | all' true
# One probe per technique at most.
jq_is open_confirm '.servers[0] as $s | ([$s.transcript[] | select(.dir == "C" and .line == "DATA")] | length) == ([$s.tests[] | select(.delivery != "not-attempted")] | length)' true

# 2. A catch-all: accepts every recipient, delivers it locally (all goes to
#    one local mailbox): suspect without --confirm, closed with it.
pf_start catchall 127.0.0.1 auto \
  'smtpd_relay_restrictions = check_recipient_access static:OK, reject_unauth_destination' \
  'virtual_alias_maps = static:catchall@relaytarget.test' || exit 1
rp_check catch_plain --source 127.0.0.2 "127.0.0.1:$(pf_port catchall)"
jq_is catch_plain .verdict suspect
rp_check catch_confirm "${CONFIRM[@]}" --confirm-wait 4 --source 127.0.0.2 "127.0.0.1:$(pf_port catchall)"
rc_is 0
jq_is catch_confirm .verdict closed
jq_is catch_confirm '[.servers[0].tests[] | select(.result == "accepted") | .delivery] | unique | join(",")' not-delivered
jq_is catch_confirm '.servers[0].verdict_reason | test("nothing was delivered")' true

# 3. Accepts at RCPT, refuses at end-of-data: not open, the refusal shown.
pf_start eod 127.0.0.1 auto 'mynetworks = 127.0.0.0/8' "relayhost = [127.0.0.1]:$RP" 'default_transport = smtp' 'relay_transport = smtp' \
  'smtpd_end_of_data_restrictions = check_client_access static:REJECT' || exit 1
rp_check eod_confirm "${CONFIRM[@]}" --confirm-wait 4 --source 127.0.0.2 "127.0.0.1:$(pf_port eod)"
jq_is eod_confirm '.verdict != "open"' true
jq_is eod_confirm '.servers[0].tests[] | select(.id == "T02") | [.delivery, (.data_reply.code | tostring)] | join(" ")' 'rejected-at-data 554'

# 4. --send-to: probes go to the user's mailbox; tokens listed, awaiting
#    confirmation. The relay (open) delivers to our receiver as if it were
#    the user's mail server.
rp_check sendto --send-to me@confirm.test --source 127.0.0.2 "127.0.0.1:$(pf_port open)"
jq_is sendto '.servers[0].tests[] | select(.id == "T02") | [.rcpt_to, .delivery] | join(" ")' '<me@confirm.test> accepted-at-data'
jq_is sendto '[.servers[0].findings[] | select(.id == "awaiting-confirmation") | .message | test("rp[0-9a-f]{10}-t02")] | any' true
jq_is sendto '.servers[0].tests[] | select(.id == "T25") | .rcpt_to' '<me@confirm.test>'

# 5. Options that would send probes elsewhere are refused.
err=$("$RELAYPROBE" check --confirm --to x@example.org 127.0.0.1 2>&1 >/dev/null); rc=$?
ok "--confirm without domain/receiver or with --to is refused (exit 3)" test "$rc" = 3

# 6. The receiver on its own, attacked: unknown recipient, wrong domain,
#    garbage, an oversized message, a flood beyond its limits.
RP2=$(pf_free_port)
"$RELAYPROBE" receive --json --receiver "127.0.0.1:$RP2" --confirm-domain confirm.test --duration 8 \
  >"$RP_OUT/recv.jsonl" 2>"$RP_OUT/recv.err" &
rpid=$!
# Wait until it listens (not a fixed sleep: under valgrind it starts slowly).
# ss, not a test connection: every connection counts against its rate limit.
for _ in $(seq 200); do
  [ -n "$(ss -Hltn "sport = :$RP2" 2>/dev/null)" ] && break
  sleep 0.05
done
python3 - "$RP2" >"$RP_OUT/attack.txt" 2>&1 <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def session(lines, read=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    f = s.makefile("rb")
    out = [f.readline().decode(errors="replace").strip()]
    for l in lines:
        s.sendall(l if isinstance(l, bytes) else (l + "\r\n").encode())
        if read:
            try:
                out.append(f.readline().decode(errors="replace").strip())
            except Exception as e:
                out.append("ERR " + str(e))
    s.close()
    return out
print("unknown", session(["HELO t", "MAIL FROM:<a@b.c>", "RCPT TO:<nobody@confirm.test>"])[-1])
print("domain", session(["HELO t", "MAIL FROM:<a@b.c>", "RCPT TO:<rp0123456789-t02@gmail.com>"])[-1])
print("garbage", session([b"\x00\xff\x1b[2J\r\n"])[-1])
print("longline", session([b"A" * 10000 + b"\r\n"])[-1])
big = session(["HELO t", "MAIL FROM:<a@b.c>", "RCPT TO:<rp0123456789-t02@confirm.test>", "DATA"])
s = socket.create_connection(("127.0.0.1", port), timeout=5); f = s.makefile("rb"); f.readline()
for l in ["HELO t", "MAIL FROM:<a@b.c>", "RCPT TO:<rp0123456789-t03@confirm.test>", "DATA"]:
    s.sendall((l + "\r\n").encode()); f.readline()
s.sendall(b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 200 + b".\r\n")
print("oversize", f.readline().decode().strip()); s.close()
print("good", session(["HELO t", "MAIL FROM:<a@b.c>", "RCPT TO:<rp0123456789-t04@confirm.test>", "DATA", "Subject: ok\r\n\r\nhello\r\n."])[-1])
# The flood holds every connection open: then the per-address limit (16)
# refuses the rest whatever the speed. Closed one by one, 60 connections
# trip the rate limit (50 a second) only on a machine fast enough to make
# them within one calendar second (not under valgrind).
codes, held = [], []
for i in range(60):
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        codes.append(c.makefile("rb").readline()[:3].decode()); held.append(c)
    except Exception as e:
        codes.append("ERR")
for c in held:
    c.close()
print("flood", codes.count("220"), codes.count("421"))
PY
wait "$rpid"
ok "receiver ran to its --duration and exited 0" test $? = 0
grep -q '^unknown 550' "$RP_OUT/attack.txt" && _pass "unknown recipient refused (550)" || _fail "unknown recipient refused" "$(cat "$RP_OUT/attack.txt")"
grep -q '^domain 550' "$RP_OUT/attack.txt" && _pass "other domain refused (550): no relaying" || _fail "other domain refused"
grep -q '^garbage 5' "$RP_OUT/attack.txt" && _pass "garbage refused (5xx)" || _fail "garbage refused"
grep -q '^longline 500' "$RP_OUT/attack.txt" && _pass "overlong line refused (500)" || _fail "overlong line refused"
grep -q '^oversize 552' "$RP_OUT/attack.txt" && _pass "oversized message refused (552)" || _fail "oversized message refused"
grep -q '^good 250' "$RP_OUT/attack.txt" && _pass "a proper probe is accepted (250)" || _fail "a proper probe is accepted"
awk '/^flood/ { exit !($3 > 0 && $2 <= 55) }' "$RP_OUT/attack.txt" && _pass "a flood beyond the limits gets 421: $(grep ^flood "$RP_OUT/attack.txt")" \
  || _fail "flood limited" "$(grep ^flood "$RP_OUT/attack.txt")"
ok "only the proper probe's token was reported" bash -c "grep -c '\"token\"' '$RP_OUT/recv.jsonl' | grep -qx 1 && grep -q 'rp0123456789-t04' '$RP_OUT/recv.jsonl'"
ok "oversized message's token not reported" bash -c "! grep -q 'rp0123456789-t03' '$RP_OUT/recv.jsonl'"

finish
