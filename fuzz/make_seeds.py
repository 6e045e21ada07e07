#!/usr/bin/env python3
"""fuzz/make_seeds.py -- writes the hand-made seed inputs of every fuzz
target into fuzz/corpus/TARGET/seed-NAME (python3 stdlib only).

Seeds are small and meaningful: each is one realistic or one hostile case
in the input format the target's comment describes. Inputs the fuzzer
found (and `fuzz/run --merge` kept) sit next to them under libFuzzer's
SHA-1 names; regression inputs for fixed crashes are named crash-*.
Re-running this script rewrites the seeds only.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def u16(v):
    return struct.pack(">H", v)


# --- reply: [limits][n][n chunk sizes][stream] ---------------------------------
DEF = b"\x80"  # default limits
replies = {
    "greeting": b"220 mx.example.com ESMTP Postfix (Debian/GNU)\r\n",
    "ehlo": b"250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
            b"250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n",
    "enhanced-multiline": b"550-5.7.1 first\r\n550-5.7.1 second\r\n550 5.7.1 third\r\n",
    "relay-denied": b"554 5.7.1 <relaytest@gmail.com>: Relay access denied\r\n",
    "session": b"220 mx ESMTP\r\n250 mx\r\n250 2.1.0 Ok\r\n554 5.7.1 denied\r\n250 2.0.0 Ok\r\n221 Bye\r\n",
    "bare-lf": b"220 mx.example.com\n250-a\n250 b\n",
    "bare-cr": b"220 mx\rstill the same line\r\n",
    "nul-utf8": b"220 mx \x00 \xff\xfe \xc3\x28 \x1b[31m\r\n",
    "code-change": b"250-a\r\n251-b\r\n250 c\r\n",
    "code-999": b"999 what\r\n",
    "code-000": b"000 what\r\n",
    "no-text": b"250\r\n250-\r\n250 \r\n",
    "bad-sep": b"220*x\r\n",
    "short": b"22\r\n",
    "trailing": b"220 a\r\n250 unsolicited\r\n",
    "enhanced-odd": b"250 2.1.0\r\n451 5.1.1 class differs\r\n250 2.1234.5 too long\r\n550 5.7.1x\r\n",
    "421": b"421 4.3.2 Service shutting down\r\n",
}
for name, data in replies.items():
    write("reply", name, DEF + b"\x00" + data)           # byte by byte
write("reply", "chunks-3-7", DEF + b"\x02\x03\x07" + replies["ehlo"])
write("reply", "zero-chunks", DEF + b"\x03\x00\x05\x00" + replies["session"])
# small limits: max_line 8, max_lines 1, max_reply 16
write("reply", "small-limits", b"\x00\x01\x40" + replies["ehlo"])
write("reply", "long-line-limit-64", b"\x02\x00" + b"220 " + b"A" * 100 + b"\r\n")
write("reply", "many-lines", DEF + b"\x01\xff" + b"250-x\r\n" * 250 + b"250 end\r\n")

# --- ehlo: lines separated by LF ---------------------------------------------
ehlo = {
    "full": b"mx.example.com Hello [192.0.2.9]\nPIPELINING\nSIZE 10240000\nVRFY\nETRN\n"
            b"STARTTLS\nAUTH PLAIN LOGIN\nAUTH=PLAIN LOGIN\nENHANCEDSTATUSCODES\n8BITMIME\n"
            b"DSN\nSMTPUTF8\nCHUNKING",
    "esmtp-word": b"ESMTP ready\nSIZE",
    "literal": b"[192.0.2.1] hi\nsize 0\nstarttls=\npipelining x",
    "size-huge": b"mx.example.com\nSIZE 999999999999999999999999999999\nSIZE -5\nSIZE",
    "names": b"a-.example.com\n-a.example.com\nexample.123\nxn--bcher-kva.example\nlocalhost\n1.2.3.4\nmx.example.com.",
    "long-label": b"a" * 64 + b".example.com\n" + b"b" * 63 + b".example.com",
    "long-name": (b"a" * 60 + b".") * 4 + b"com\n" + (b"a" * 61 + b".") * 4 + b"com",
    "empty": b"",
    "spaces": b"   mx.example.com   \n\n \nAUTH\nAUTH ",
}
for name, data in ehlo.items():
    write("ehlo", name, data)

# --- client: [cfg][callbacks][ops...] ----------------------------------------
# ops: op%10 0-2 raw [op][len][bytes]; 3-4 canned [op][idx] (op&0x80: byte by
# byte); 5 eof; 6 tls_done (0x10 ok); 7 add; 8 quit; 9 fail/take (op>>4).
def canned(*idx, slow=False):
    return b"".join(bytes([0x83 if slow else 3, i]) for i in idx)


def raw(data):
    out = b""
    while data:
        out += b"\x00" + bytes([min(len(data), 255)]) + data[:255]
        data = data[255:]
    return out


CB_READY1_IDLEQUIT = 0x21
write("client", "closed-session", b"\x04" + bytes([CB_READY1_IDLEQUIT]) + canned(0, 2, 3, 4, 3, 10))
write("client", "closed-session-slow", b"\x04" + bytes([CB_READY1_IDLEQUIT]) + canned(0, 2, 3, 4, 3, 10, slow=True))
write("client", "pipelined", b"\x04\x22" + canned(0, 1, 11, 11, 10))
write("client", "starttls", b"\x05\x21" + canned(0, 1, 6) + b"\x16" + canned(1, 3, 4, 3, 10))
write("client", "starttls-injection", b"\x05\x21" + canned(0, 1, 12))
write("client", "starttls-fail", b"\x05\x21" + canned(0, 1, 6) + b"\x26")
write("client", "tls-required-refused", b"\x06\x21" + canned(0, 2))
write("client", "tls-required-530", b"\x06\x21" + canned(0, 1, 7))
write("client", "implicit", b"\x07\x21" + canned(0, 2, 3, 3, 3, 10))
write("client", "helo-fallback", b"\x04\x21" + canned(0, 9, 15, 3, 4, 3, 10))
write("client", "greeting-554", b"\x04\x00" + canned(14))
write("client", "421-at-rcpt", b"\x04\x21" + canned(0, 2, 3, 5))
write("client", "421-at-rset", b"\x04\x21" + canned(0, 2, 3, 4, 5) + b"\x99")
write("client", "raw-session", b"\x04\x21" + raw(replies["greeting"]) + raw(b"250 mx\r\n")
      + raw(b"250 ok\r\n550 no\r\n250 ok\r\n") + b"\x05")
write("client", "unsolicited", b"\x04\x21" + raw(b"220 a\r\n250 b\r\n250 c\r\n250 d\r\n"))
write("client", "eof-mid", b"\x04\x21" + canned(0, 2) + b"\x07" + b"\x05")
write("client", "timeouts", b"\x04\x21" + canned(0, 2, 3, 4, 3) + b"\x09\x19\x59\x79")
write("client", "write-fails", b"\x24\x21" + canned(0, 2, 3, 4))
write("client", "idle-adds", b"\x04\x0d" + canned(0, 2) + canned(3, 4, 3) * 4 + b"\x08" + canned(10))
write("client", "quit-early", b"\x04\x00\x08" + canned(0) + b"\x07\x08")
write("client", "small-limits-long", b"\x0c\x21" + raw(b"220 " + b"x" * 100 + b"\r\n"))
# add op: op>>4 10-12 a transaction with a message (DATA), 13-14 VRFY/EXPN
write("client", "data", b"\x04\x20" + canned(0, 2) + b"\xa7" + canned(3, 3) + raw(b"354 go ahead\r\n")
      + canned(3, 3) + canned(10))
write("client", "data-pipelined", b"\x04\x20" + canned(0, 1) + b"\xb7" + canned(3, 3) + raw(b"354 go\r\n")
      + canned(3, 3, 10))
write("client", "vrfy", b"\x04\x20" + canned(0, 2) + b"\xd7" + raw(b"252 2.0.0 postmaster\r\n") + b"\xe7"
      + raw(b"502 5.5.1 no\r\n") + canned(10))
# callbacks bit 0x80: the STARTTLS injection probe; 0xf9 = inject timeout
write("client", "inject-safe", b"\x05\xa1" + canned(0, 1, 6) + b"\x16\xf9" + canned(1, 3, 4, 3, 10))
write("client", "inject-in-tls", b"\x05\xa1" + canned(0, 1, 6) + b"\x16" + canned(3) + canned(1, 3, 4, 3, 10))
write("client", "inject-plaintext", b"\x05\xa1" + canned(0, 1) + raw(b"220 go\r\n250 ok\r\n"))
write("client", "take-unfinished", b"\x04\x21" + canned(0, 2) + b"\x07\x07\x17" + b"\xa9\xb9\xc9")

# --- target: [default port: 2 bytes][text] ------------------------------------
targets = [
    "mail.example.com", "mail.example.com:587", "192.0.2.1", "192.0.2.1:25",
    "[2001:db8::1]:25", "[::1]", "2001:db8::1", "localhost:2525", "bad_host!",
    ":25", "host:", "host:0", "host:65536", "host:00025", "[::1]x", "[192.0.2.1]",
    "a..b", "example.com.", "[::1]:", "[]", "[", "a:b:c", "::ffff:192.0.2.1",
    "x" * 300, ("a" * 63 + ".") * 4 + "com", "mail.example.com:99999",
    "-a.example.com", "a-.example.com", "1.2.3", "1.2.3.4.5", "example.123",
]
for i, t in enumerate(targets):
    write("target", "%02d" % i, u16(25) + t.encode())
write("target", "port-0-default", u16(0) + b"mx.example.com")

# --- zones: the file ------------------------------------------------------------
with open(os.path.join(ROOT, "data", "zones.conf"), "rb") as f:
    write("zones", "shipped", f.read())
with open(os.path.join(ROOT, "tests", "integration", "dns", "test-zones.conf"), "rb") as f:
    write("zones", "test-lab", f.read())
zones = {
    "minimal": b"[bl.example.org]\ncode 127.0.0.2 = listed\n",
    "full": b"# comment\n[Zen.Spamhaus.ORG.]\nkind = ip\nipv6 = yes\nweight = 40  # points\n"
            b"note = see FAQ#1\ncode 127.0.0.2 = SBL\ncode 127.0.0.4 = XBL\n"
            b"error 127.255.255.254 = public resolver\n\n[dbl.example.org]\nkind = domain\n"
            b"code 127.0.1.2 = spam domain\n",
    "crlf-tabs": b"[a.example]\r\n\tkind\t=\tip\t\r\ncode 127.0.0.2 = x\r\n",
    "utf8-comment": "# café ☕\n[a.example] # ünïcode\n".encode(),
    "dup-zone": b"[a.example]\n[A.example.]\n",
    "unknown-key": b"[a.example]\ncolour = red\n",
    "code-outside": b"[a.example]\ncode 10.0.0.2 = x\n",
    "code-error-range": b"[a.example]\ncode 127.255.255.1 = x\n",
    "dup-code": b"[a.example]\ncode 127.0.0.2 = x\nerror 127.0.0.2 = y\n",
    "domain-ipv6": b"[a.example]\nkind = domain\nipv6 = yes\n",
    "weight": b"[a.example]\nweight = 101\n[b.example]\nweight = 007\n",
    "before-section": b"kind = ip\n",
    "empty-value": b"[a.example]\nnote =\n",
    "no-meaning": b"[a.example]\ncode 127.0.0.2\n",
    "long-line": b"[a.example]\nnote = " + b"x" * 4100 + b"\n",
    "control-byte": b"[a.example]\nnote = a\x01b\n",
    "bad-section": b"[a]\n[.example]\n[a..b]\n[]\n",
    "empty": b"",
    "only-comments": b"# nothing\n   # here\n",
    "test-names": b"[dbl.example.org]\nkind = domain\ntest-listed = dbltest.com\ntest-unlisted = example.com\n"
                  b"code 127.0.1.2 = spam\n[x.example]\ntest-listed = 1.2.3.4\ntest-listed = a.b\n",
}
for name, data in zones.items():
    write("zones", name, data)
write("zones", "many-codes", b"[a.example]\n" + b"".join(
    b"code 127.0.%d.%d = c\n" % (i // 200, i % 200 + 2) for i in range(70)))


# --- dnsbl_answer ---------------------------------------------------------------
# [flags][ncodes][codes: 4 bytes + meaning][nerrors][errors: 4 bytes][status]
# [naddrs][addrs][outsz][zone]\0[subject]
def ans(flags, codes, errors, status, addrs, outsz, zone, subject):
    b = bytes([flags, len(codes)])
    for c, m in codes:
        b += bytes(c) + bytes([m])
    b += bytes([len(errors)])
    for e in errors:
        b += bytes(e)
    b += bytes([status, len(addrs)])
    for a in addrs:
        b += bytes(a)
    return b + bytes([outsz]) + zone + b"\0" + subject


L2, L4, L1 = (127, 0, 0, 2), (127, 0, 0, 4), (127, 0, 0, 1)
E = (127, 255, 255, 254)
Z = b"zen.spamhaus.org"
write("dnsbl_answer", "listed", ans(0, [(L2, 0), (L4, 1)], [E], 0, [L2], 255, Z, b"192.0.2.1"))
write("dnsbl_answer", "listed-several", ans(0, [(L2, 0), (L4, 1)], [E], 0, [L2, L4, L2, (127, 0, 0, 9)], 255, Z, b"192.0.2.1"))
write("dnsbl_answer", "error-code", ans(0, [(L2, 0)], [E], 0, [L2, E], 255, Z, b"192.0.2.1"))
write("dnsbl_answer", "error-range", ans(0, [(L2, 0)], [], 0, [(127, 255, 255, 252)], 255, Z, b"192.0.2.1"))
write("dnsbl_answer", "loopback-1", ans(0, [(L2, 0)], [], 0, [L1], 255, Z, b"192.0.2.1"))
write("dnsbl_answer", "loopback-1-documented", ans(0, [(L1, 2)], [], 0, [L1], 255, Z, b"192.0.2.1"))
write("dnsbl_answer", "outside-127", ans(8, [(L2, 0)], [], 0, [(192, 0, 2, 1)], 255, Z, b"192.0.2.1"))
write("dnsbl_answer", "nxdomain", ans(0, [(L2, 0)], [], 1, [], 255, Z, b"192.0.2.1"))
write("dnsbl_answer", "timeout", ans(0, [(L2, 0)], [], 5, [], 255, Z, b"192.0.2.1"))
write("dnsbl_answer", "servfail", ans(0, [], [], 3, [L2], 255, Z, b"192.0.2.1"))
write("dnsbl_answer", "ipv6", ans(2, [(L2, 0)], [], 0, [L2], 255, Z, b"2001:db8::1"))
write("dnsbl_answer", "ipv6-on-v4-zone", ans(0, [(L2, 0)], [], 0, [L2], 255, Z, b"2001:db8::1"))
write("dnsbl_answer", "domain", ans(1, [(L2, 0)], [], 0, [L2], 255, b"dbl.spamhaus.org", b"Example.COM."))
write("dnsbl_answer", "domain-ip-subject", ans(1, [(L2, 0)], [], 0, [L2], 255, b"dbl.spamhaus.org", b"1.2.3.4."))
write("dnsbl_answer", "small-out", ans(0, [(L2, 0)], [], 0, [L2], 12, Z, b"192.0.2.1"))
write("dnsbl_answer", "long-zone", ans(2, [], [], 0, [L2], 255, b"a" * 63 + b"." + b"b" * 63 + b"." + b"c" * 63 + b".org", b"::1"))
write("dnsbl_answer", "nine-distinct", ans(0, [], [], 0, [(127, 0, 0, i) for i in range(2, 12)], 255, Z, b"192.0.2.1"))
write("dnsbl_answer", "null-addrs", ans(16, [], [], 0, [L2], 255, Z, b"192.0.2.1"))


# --- classify: [mail code][rcpt code][mail enh]\0[rcpt enh]\0[wire replies] --
def cls(mcode, rcode, menh, renh, wire):
    return u16(mcode) + u16(rcode) + menh + b"\0" + renh + b"\0" + wire


cases = {
    "relay-denied": (250, 554, b"2.1.0", b"5.7.1", b"250 2.1.0 Ok\r\n554 5.7.1 <relaytest@gmail.com>: Relay access denied\r\n"),
    "454-relay": (250, 454, b"2.1.0", b"4.7.1", b"250 2.1.0 Ok\r\n454 4.7.1 <a@b>: Relay access denied\r\n"),
    "greylisted": (250, 450, b"2.1.0", b"4.2.0", b"250 2.1.0 Ok\r\n450 4.2.0 Greylisted, see http://postgrey.example/\r\n"),
    "starttls-first": (530, 0, b"5.7.0", b"", b"530 5.7.0 Must issue a STARTTLS command first\r\n"),
    "auth-required": (530, 0, b"5.7.0", b"", b"530 5.7.0 Authentication required\r\n"),
    "538": (250, 538, b"", b"5.7.11", b"250 ok\r\n538 5.7.11 Encryption required\r\n"),
    "unknown-user": (250, 550, b"2.1.0", b"5.1.1", b"250 2.1.0 Ok\r\n550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in local recipient table\r\n"),
    "blocked": (250, 554, b"", b"5.7.1", b"250 ok\r\n554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org\r\n"),
    "sender-rejected": (553, 0, b"5.1.8", b"", b"553 5.1.8 <a@b>: Sender address rejected: Domain not found\r\n"),
    "syntax": (250, 501, b"", b"5.1.3", b"250 ok\r\n501 5.1.3 Bad recipient address syntax\r\n"),
    "null-mx": (250, 556, b"", b"5.1.10", b"250 ok\r\n556 5.1.10 Recipient address rejected: Domain example.com does not accept mail (nullMX)\r\n"),
    "accepted": (250, 250, b"2.1.0", b"2.1.5", b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"),
    "temporary": (451, 0, b"4.3.0", b"", b"451 4.3.0 Temporary lookup failure\r\n"),
    "auth-535": (250, 535, b"", b"5.7.8", b"250 ok\r\n535 5.7.8 Authentication credentials invalid\r\n"),
    "policy": (250, 550, b"", b"5.7.1", b"250 ok\r\n550 5.7.1 Message rejected due to local policy\r\n"),
    "no-reply": (250, 0, b"2.1.0", b"", b"250 2.1.0 Ok\r\n"),
    "odd-codes": (999, 100, b"9.9.9", b"5.", b"250 x\r\n"),
    "echoed-words": (250, 550, b"", b"", b"250 ok\r\n550 <relay@greylist.blocked.example>: no\r\n"),
}
for name, c in cases.items():
    write("classify", name, cls(*c))


# --- template: [outsz][null mask] tmpl\0 from\0 user\0 ext_user\0 ext_domain\0
# target_host\0 target_domain\0 target_lit\0 tester_host\0 mailbox -----------
VARS = [b"relayprobe@gmail.com", b"relayprobe", b"relaytest", b"gmail.com",
        b"mx.example.com", b"example.com", b"[192.0.2.1]", b"probe.example.net",
        b"me@example.net"]
TEMPLATES = [
    "<>", "<{ext_user}@{ext_domain}>", "<{from}>", "<{user}@{target_host}>",
    "<{user}@{target_domain}>", "<{user}@{target_lit}>", "<{user}>",
    "<{user}@localhost>", "<{user}@{tester_host}>", "{ext_user}@{ext_domain}",
    "<{ext_user}%{ext_domain}@{target_lit}>", "<{ext_user}%{ext_domain}@{target_host}>",
    '<"{ext_user}@{ext_domain}">', '<"{ext_user}%{ext_domain}">',
    "<{ext_user}@{ext_domain}@{target_lit}>", '<"{ext_user}@{ext_domain}"@{target_lit}>',
    "<@{target_lit}:{ext_user}@{ext_domain}>", "<{ext_domain}!{ext_user}>",
    "<{ext_domain}!{ext_user}@{target_host}>", "<{ext_user}@{ext_domain}@>",
    "<{mailbox}>", "<postmaster@{target_domain}>", "<Postmaster>",
    "<{rand}@{rand}.invalid>", "<{rand}@{target_domain}>",
]


def tpl(outsz, mask, t, vals=VARS):
    return u16(outsz) + u16(mask) + t + b"\0" + b"\0".join(vals)


for i, t in enumerate(TEMPLATES):
    write("template", "catalogue-%02d" % i, tpl(600, 0, t.encode()))
write("template", "too-small", tpl(10, 0, b"<{from}>"))
write("template", "exact-fit", tpl(23, 0, b"<{from}>"))
write("template", "missing-mailbox", tpl(600, 1 << 8, b"<{mailbox}>"))
write("template", "empty-value", tpl(600, 0, b"<{user}@{target_host}>", VARS[:4] + [b""] + VARS[5:]))
write("template", "unclosed", tpl(600, 0, b"<{user@x>"))
write("template", "unknown-name", tpl(600, 0, b"<{nope}>{}{{from}}"))
write("template", "zero-size", tpl(0, 0, b""))
write("template", "ipv6-lit", tpl(600, 0, b"<{user}@{target_lit}>",
                                  VARS[:6] + [b"[IPv6:2001:db8::1]", b"2001:db8::1", b"a@b@c"]))
write("template", "no-fields", u16(600) + u16(0))


# --- postfix_conf: [mode] main.cf [0xFF master.cf [0xFF table]] ------------------
PF_MAIN = b"""# Generated by tests/integration/postfix.sh
compatibility_level = 3.6
myhostname = mx.relaytarget.test
mydomain = relaytarget.test
mydestination = relaytarget.test, mx.relaytarget.test, localhost
smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
mynetworks = 127.0.0.1/32
smtpd_relay_restrictions = permit_mynetworks,
    reject_unauth_destination
"""
PF_MASTER = b"""smtp      inet  n       -       y       -       -       smtpd
submission inet n       -       y       -       -       smtpd
  -o syslog_name=postfix/submission
  -o { smtpd_relay_restrictions = permit_sasl_authenticated, reject }
  -osmtpd_tls_auth_only=yes
smtpd     pass  -       -       y       -       -       smtpd
pickup    unix  n       -       y       60      1       pickup
"""
FF = b"\xff"
write("postfix_conf", "harness", b"\0" + PF_MAIN)
write("postfix_conf", "harness-master", b"\0" + PF_MAIN + FF + PF_MASTER)
write("postfix_conf", "open-mynetworks", b"\1" + PF_MAIN + b"mynetworks = 0.0.0.0/0 [::]/0 !10.0.0.0/8\n")
write("postfix_conf", "client-loop", b"\1" + PF_MAIN + b"mynetworks = 127.0.0.0/8, hash:/etc/postfix/net, /etc/nets\n")
write("postfix_conf", "sender-inline", b"\0" + PF_MAIN +
      b"smtpd_relay_restrictions = check_sender_access inline:{relaytarget.test=OK, <>=OK, {x = REJECT no}}, reject_unauth_destination\n")
write("postfix_conf", "helo-table", b"\0" + PF_MAIN +
      b"smtpd_relay_restrictions = check_helo_access hash:/etc/postfix/helo, reject_unauth_destination\n"
      + FF + FF + b"mx.relaytarget.test OK\n# c\nlocalhost 250 ok\n")
write("postfix_conf", "pcre-table", b"\0" + PF_MAIN +
      b"smtpd_relay_restrictions = check_sender_access pcre:/etc/postfix/s.pcre, reject_unauth_destination\n"
      + FF + FF + b"if /x/\n/@relaytarget\\.test$/i OK\nendif\n/^/ DUNNO\n")
write("postfix_conf", "permit-nothing-else", b"\0" + PF_MAIN + b"smtpd_relay_restrictions = permit\n")
write("postfix_conf", "recipient-list", b"\0" + PF_MAIN +
      b"smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = warn_if_reject reject_unauth_destination, check_client_access cidr:/x, "
      b"check_recipient_access inline:{com=OK}, permit_mx_backup, permit_tls_all_clientcerts, reject_unauth_destination\n"
      + FF + FF + b"127.0.0.0/8 OK\n")
write("postfix_conf", "expansion", b"\0" + b"a = $b ${c?x} ${d:{y}} $(e) $$ ${{$compatibility_level} <level {2} ? {a} : {b}}\nb = $a\nc = 1\n"
      b"relay_domains = com .net $mydestination\nallow_untrusted_routing = yes\nswap_bangpath = yes\nallow_percent_hack = yes\n")
write("postfix_conf", "postconf-P", b"\0" + PF_MAIN +
      b"submission/inet/smtpd_relay_restrictions = permit\nsubmission/inet/mynetworks = 0.0.0.0/0\n")
write("postfix_conf", "bad-line", b"\0" + b"a = b\nthis is not\n")
write("postfix_conf", "bad-master", b"\0" + PF_MAIN + FF + b"smtp inet n - y\n")
write("postfix_conf", "open-brace", b"\0" + PF_MAIN + FF + b"smtp inet n - y - - smtpd -o { a = b\n")
write("postfix_conf", "binary", b"\0a = b\0c\n")
write("postfix_conf", "sasl-banner", b"\0" + PF_MAIN + b"smtpd_sasl_auth_enable = yes\nsmtpd_banner = $myhostname $mail_version\n")

# --- exim_conf: [mode] main [0xFF /a [0xFF /b]] ----------------------------------
EX = b"""primary_hostname = mx.relaytarget.test
domainlist local_domains = relaytarget.test : mx.relaytarget.test
domainlist relay_to_domains =
hostlist relay_from_hosts = 127.0.0.1
acl_smtp_rcpt = acl_check_rcpt
begin acl
acl_check_rcpt:
%s  accept  hosts         = :
  deny    message       = Restricted characters in address
          domains       = +local_domains
          local_parts   = ^[.] : ^.*[@%%!/|]
  accept  local_parts   = postmaster
          domains       = +local_domains
  require verify        = sender
  accept  hosts         = +relay_from_hosts
          control       = submission
  accept  authenticated = *
  require message       = relay not permitted
          domains       = +local_domains : +relay_to_domains
  require verify        = recipient
  accept
begin routers
sink:
  driver = manualroute
"""


def ex(top=b""):
    return EX.replace(b"%s", top).replace(b"%%", b"%")


write("exim_conf", "default", b"\0" + ex())
write("exim_conf", "open", b"\0hostlist relay_from_hosts = <; 0.0.0.0/0 ; ::/0\n" + ex().replace(b"hostlist relay_from_hosts = 127.0.0.1\n", b""))
write("exim_conf", "client", b"\1" + ex(b"  accept hosts = 127.0.0.0/8 : !10.0.0.0/8\n"))
write("exim_conf", "senders", b"\0" + ex(b"  accept senders = *@relaytarget.test : : *@localhost\n"))
write("exim_conf", "condition", b"\0" + ex(b"  accept condition = ${if eq{1}{1}}\n  deny domains = !+local_domains\n"))
write("exim_conf", "include", b"\0.include /a\n.include_if_exists /c\n" + ex() + FF + b"MAC = 1.2.3.4\n.include /b\n" + FF + b"hostlist h = MAC : \\\n  5.6.7.8\n")
write("exim_conf", "include-loop", b"\0.include /a\n" + FF + b".include /b\n" + FF + b".include /a\n")
write("exim_conf", "macros", b"\0M1 = xxxxxxxxxxxxxxxx\nM2 = M1 M1\nM3 = M2 M2\nsmtp_banner = M3 $version_number\npercent_hack_domains = *\n")
write("exim_conf", "no-acl", b"\0acl_smtp_rcpt = nothere\n")
write("exim_conf", "orphan", b"\0begin acl\n  hosts = *\n")
write("exim_conf", "binary", b"\0a = \x01\n")
# a = $b$b, b = $c$c, ...: exponential work with an empty result (bounded
# by PF_MAX_EXPANSION_STEPS; once took minutes per input).
write("postfix_conf", "expansion-bomb", b"\0" + b"".join(
    b"p%d = $p%d$p%d ${p%d?$p%d}\n" % (i, i + 1, i + 1, i + 1, i + 1) for i in range(30))
    + b"p30 =\nmyhostname = $p0\nsmtpd_relay_restrictions = check_sender_access inline:{$p0=OK}, reject_unauth_destination\n")
