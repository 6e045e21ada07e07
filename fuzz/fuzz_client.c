/*
 * fuzz_client: the sans-I/O SMTP client state machine (smtp/client) run by
 * a script from the input: bytes from the server (raw, or well-formed
 * replies from a table so the fuzzer gets past the greeting), EOF, TLS
 * handshake results, transactions added (plain, with a message for DATA,
 * single commands such as VRFY), QUIT, adapter failures, the STARTTLS
 * injection probe and its timeout, and callbacks that add work or quit
 * from inside the machine, as the real scheduler does.
 *
 * Checks: the closed callback runs at most once and only when the session
 * is over; an over session owes no reply; every write is whole CRLF lines
 * (never a bare CR or LF); the reply count never goes down;
 * start_tls runs only in the TLS handshake state and ready only when
 * ready; transcript lines are escaped; finished transactions come back one
 * at a time; after the session ended, at most one unfinished test counts
 * as under way (those pipelined behind it only waited).
 */
#include "fuzz.h"

#include "smtp/client.h"

struct rec {
	struct smtp_client *c;
	int closed;
	enum smtp_failure fail;
	int writes;
	int write_fail_at; /* fail the Nth write (0: never) */
	int ready_adds;    /* transactions to add from ready */
	int idle_adds;     /* ... from idle */
	bool idle_quits;
	bool done_quits;
	int done;
	unsigned long replies; /* smtp_client_replies, never decreasing */
};

static const char *const addrs[] = {
    "<relayprobe@gmail.com>", "<relaytest@gmail.com>", "<>",
    "<postmaster@example.com>", "<\"a@b\"@[192.0.2.1]>", "<a%b@c>",
};

static void check_state(struct rec *r)
{
	enum smtp_client_state s = smtp_client_state(r->c);
	FZ_CHECK((unsigned)s < SMTP_ST_LAST);
	FZ_CHECK(strcmp(smtp_client_state_name(s), "?") != 0);
	FZ_CHECK(r->closed <= 1);
	bool over = s == SMTP_ST_DONE || s == SMTP_ST_FAILED;
	FZ_CHECK(over == (r->closed == 1));
	if (over)
		FZ_CHECK(!smtp_client_waiting(r->c));
	if (r->closed)
		FZ_CHECK((s == SMTP_ST_DONE) == (r->fail == SMTP_FAIL_NONE));
	const struct smtp_reply *g = smtp_client_greeting(r->c);
	FZ_CHECK(g != NULL);
	for (size_t i = 0; i < g->nlines; i++)
		FZ_CHECK(fz_printable(g->lines[i]));
	const struct smtp_reply *last = smtp_client_last_reply(r->c);
	if (last)
		FZ_CHECK(last->code >= 200 && last->code <= 599);
	enum smtp_injection inj = smtp_client_injection(r->c);
	FZ_CHECK(inj == SMTP_INJ_NOT_TESTED || inj == SMTP_INJ_SAFE ||
		 inj == SMTP_INJ_PLAINTEXT || inj == SMTP_INJ_IN_TLS);
	unsigned long n = smtp_client_replies(r->c);
	FZ_CHECK(n >= r->replies);
	r->replies = n;
	const struct smtp_ehlo *e = smtp_client_ehlo(r->c);
	FZ_CHECK(e != NULL);
	if (e->name)
		FZ_CHECK(strlen(e->name) < 256);
	(void)smtp_client_ehlo_plain(r->c);
	(void)smtp_client_used_helo(r->c);
	(void)smtp_client_tls_active(r->c);
}

static int op_write(void *arg, const char *data, size_t len)
{
	struct rec *r = arg;
	r->writes++;
	/* Whole CRLF lines (a command, the injection probe's pair, a
	 * message): never a bare CR or LF. */
	FZ_CHECK(len >= 2 && data[len - 2] == '\r' && data[len - 1] == '\n');
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\r')
			FZ_CHECK(i + 1 < len && data[i + 1] == '\n');
		if (data[i] == '\n')
			FZ_CHECK(i > 0 && data[i - 1] == '\r');
	}
	if (r->write_fail_at && r->writes == r->write_fail_at)
		return -1;
	return 0;
}

static const char *const messages[] = {
    "Subject: probe\r\n\r\nbody\r\n",
    "Subject: dots\r\n\r\n.\r\n..\r\n.leading dot\r\n",
    "",
};

static void add(struct rec *r, int i)
{
	if (i >= 13)
		(void)smtp_client_add_cmd(r->c, i == 13 ? "VRFY postmaster"
						       : "EXPN staff", r);
	else if (i >= 10)
		(void)smtp_client_add_txn_data(r->c, addrs[i % 6],
					       addrs[(i + 1) % 6],
					       messages[i - 10], r);
	else
		(void)smtp_client_add_txn(r->c, addrs[i % 6],
					  addrs[(i + 1) % 6], r);
}

static void op_ready(void *arg)
{
	struct rec *r = arg;
	FZ_CHECK(smtp_client_state(r->c) == SMTP_ST_READY);
	for (int i = 0; i < r->ready_adds; i++)
		add(r, i);
}

static void op_start_tls(void *arg)
{
	struct rec *r = arg;
	FZ_CHECK(smtp_client_state(r->c) == SMTP_ST_TLS_HANDSHAKE);
	FZ_CHECK(!smtp_client_tls_active(r->c));
}

static void op_txn_done(void *arg, struct smtp_txn *t)
{
	struct rec *r = arg;
	FZ_CHECK(t != NULL && t->next == NULL && t->tag == r);
	FZ_CHECK(t->started);
	if (t->rcpt_reply.code)
		FZ_CHECK(t->rcpt_sent);
	r->done++;
	smtp_txn_free(t);
	if (r->done_quits)
		smtp_client_quit(r->c);
}

static void op_idle(void *arg)
{
	struct rec *r = arg;
	FZ_CHECK(smtp_client_state(r->c) == SMTP_ST_READY);
	if (r->idle_adds > 0) {
		r->idle_adds--;
		add(r, r->idle_adds);
	} else if (r->idle_quits) {
		smtp_client_quit(r->c);
	}
}

static void op_closed(void *arg, enum smtp_failure f, const char *why)
{
	struct rec *r = arg;
	r->closed++;
	r->fail = f;
	FZ_CHECK((unsigned)f < SMTP_FAIL_LAST);
	FZ_CHECK(strcmp(smtp_failure_name(f), "?") != 0);
	if (f != SMTP_FAIL_NONE)
		FZ_CHECK(why != NULL);
	if (why)
		FZ_CHECK(strlen(why) < 4096);
}

static void op_line(void *arg, char dir, const char *line)
{
	(void)arg;
	FZ_CHECK(dir == 'C' || dir == 'S');
	FZ_CHECK(fz_printable(line));
}

static const struct smtp_client_ops ops = {
    .write = op_write,
    .ready = op_ready,
    .start_tls = op_start_tls,
    .txn_done = op_txn_done,
    .idle = op_idle,
    .closed = op_closed,
    .line = op_line,
};

/* Well-formed replies, so that the fuzzer reaches every state. */
static const char *const canned[] = {
    "220 mx.example.com ESMTP\r\n",
    "250-mx.example.com\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n",
    "250-mx.example.com\r\n250 SIZE 1000\r\n",
    "250 2.0.0 Ok\r\n",
    "554 5.7.1 <a@b>: Relay access denied\r\n",
    "421 4.3.2 closing\r\n",
    "220 2.0.0 Ready to start TLS\r\n",
    "530 5.7.0 Must issue a STARTTLS command first\r\n",
    "451 4.3.0 try later\r\n",
    "502 5.5.1 EHLO not implemented\r\n",
    "221 2.0.0 Bye\r\n",
    "250 ok\r\n250 ok\r\n250 ok\r\n",
    "220 go\r\n250 injected\r\n",
    "250-mx\r\n",
    "554 no service\r\n",
    "250 mx.example.com\r\n",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	uint8_t cfg = fz_u8(&f), cb = fz_u8(&f);
	struct rec r;
	memset(&r, 0, sizeof(r));
	struct smtp_client_config conf;
	memset(&conf, 0, sizeof(conf));
	conf.tls = (enum smtp_tls_policy)(cfg & 3);
	conf.helo_name = (cfg & 4) ? "probe.example.net" : NULL;
	smtp_limits_default(&conf.limits);
	if (cfg & 8) {
		conf.limits.max_line = 64;
		conf.limits.max_lines = 4;
		conf.limits.max_reply = 256;
	}
	r.write_fail_at = (cfg >> 4) & 15;
	r.ready_adds = cb & 3;
	r.idle_adds = (cb >> 2) & 7;
	r.idle_quits = cb & 0x20;
	r.done_quits = cb & 0x40;
	conf.inject_probe = cb & 0x80;
	r.c = smtp_client_new(&conf, &ops, &r);
	if (!r.c)
		return 0;
	if (conf.tls == SMTP_TLS_IMPLICIT)
		smtp_client_set_tls_active(r.c);
	check_state(&r);

	while (f.n > 0) {
		uint8_t op = fz_u8(&f);
		switch (op % 10) {
		case 0:
		case 1:
		case 2: { /* raw bytes from the server */
			size_t n;
			const uint8_t *b = fz_bytes(&f, fz_u8(&f), &n);
			smtp_client_feed(r.c, (const char *)b, n);
			break;
		}
		case 3:
		case 4: { /* a well-formed reply */
			const char *s = canned[fz_u8(&f) % 16];
			if (op & 0x80) /* byte by byte */
				for (size_t i = 0; s[i]; i++)
					smtp_client_feed(r.c, s + i, 1);
			else
				smtp_client_feed(r.c, s, strlen(s));
			break;
		}
		case 5:
			smtp_client_eof(r.c);
			break;
		case 6:
			smtp_client_tls_done(r.c, op & 0x10,
					     (op & 0x20) ? "handshake failed" : NULL);
			break;
		case 7:
			add(&r, op >> 4);
			break;
		case 8:
			smtp_client_quit(r.c);
			break;
		case 9: {
			uint8_t k = op >> 4;
			if (k < 4)
				smtp_client_fail(r.c, SMTP_FAIL_TIMEOUT, "timed out");
			else if (k < 6)
				smtp_client_fail(r.c, SMTP_FAIL_CONNECT, "refused");
			else if (k < 8)
				smtp_client_fail(r.c, SMTP_FAIL_DROPPED, "reset");
			else if (k == 15)
				smtp_client_inject_timeout(r.c);
			else {
				struct smtp_txn *t = smtp_client_take_unfinished(r.c);
				if (t) {
					FZ_CHECK(t->next == NULL);
					FZ_CHECK(t->rcpt_reply.code == 0 &&
						 t->mail_reply.code == 0);
					smtp_txn_free(t);
				}
			}
			break;
		}
		}
		check_state(&r);
	}
	/* After the session ended, at most one unfinished test has used an
	 * attempt: the one the server was on; those pipelined behind it
	 * only waited. */
	enum smtp_client_state end = smtp_client_state(r.c);
	bool ended = end == SMTP_ST_DONE || end == SMTP_ST_FAILED;
	int under_way = 0;
	struct smtp_txn *t;
	while ((t = smtp_client_take_unfinished(r.c))) {
		FZ_CHECK(t->next == NULL);
		if (t->started && t->cmd == NULL)
			under_way++;
		smtp_txn_free(t);
	}
	if (ended)
		FZ_CHECK(under_way <= 1);
	smtp_client_free(r.c);
	return 0;
}
