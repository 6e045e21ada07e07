/* Unit tests for smtp/client: the sans-I/O SMTP client state machine,
 * driven with byte strings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/client.h"

#define HELO_NAME "probe.example.net"
#define MAX_DONE 16

/* What the callbacks saw. */
struct rec {
	struct smtp_client *c;
	char out[8192]; /* everything written, not yet taken */
	size_t outlen;
	int writes;
	bool write_fails;
	int ready, idle, closed, start_tls;
	enum smtp_failure fail;
	char why[256];
	struct smtp_txn *done[MAX_DONE];
	size_t ndone;
	char transcript[8192];
	/* Behaviour inside callbacks. */
	int idle_adds;     /* add this many transactions from idle ... */
	bool idle_quits;   /* ... then quit from idle */
	bool ready_adds;   /* add a transaction from ready */
	bool done_quits;   /* quit from txn_done */
	int done_at_closed; /* ndone when closed was called */
	enum smtp_client_state state_at_start_tls;
};

static int op_write(void *arg, const char *data, size_t len)
{
	struct rec *r = arg;
	if (r->write_fails)
		return -1;
	assert_true(r->outlen + len < sizeof(r->out));
	memcpy(r->out + r->outlen, data, len);
	r->outlen += len;
	r->out[r->outlen] = '\0';
	r->writes++;
	return 0;
}

static void op_ready(void *arg)
{
	struct rec *r = arg;
	r->ready++;
	if (r->ready_adds)
		assert_int_equal(smtp_client_add_txn(r->c, "<ready@a>",
						     "<ready@b>", NULL),
				 0);
}

static void op_start_tls(void *arg)
{
	struct rec *r = arg;
	r->start_tls++;
	r->state_at_start_tls = smtp_client_state(r->c);
}

static void op_txn_done(void *arg, struct smtp_txn *t)
{
	struct rec *r = arg;
	assert_true(r->ndone < MAX_DONE);
	assert_null(t->next);
	r->done[r->ndone++] = t;
	if (r->done_quits)
		smtp_client_quit(r->c);
}

static void op_idle(void *arg)
{
	struct rec *r = arg;
	r->idle++;
	if (r->idle_adds > 0) {
		r->idle_adds--;
		assert_int_equal(smtp_client_add_txn(r->c, "<idle@a>",
						     "<idle@b>", NULL),
				 0);
	} else if (r->idle_quits) {
		smtp_client_quit(r->c);
	}
}

static void op_closed(void *arg, enum smtp_failure f, const char *why)
{
	struct rec *r = arg;
	r->closed++;
	r->fail = f;
	r->done_at_closed = (int)r->ndone;
	snprintf(r->why, sizeof(r->why), "%s", why ? why : "");
}

static void op_line(void *arg, char dir, const char *line)
{
	struct rec *r = arg;
	size_t l = strlen(r->transcript);
	snprintf(r->transcript + l, sizeof(r->transcript) - l, "%c: %s\n", dir,
		 line);
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

static struct rec *new_rec_opened(enum smtp_tls_policy tls,
				  bool mail_accepted_before)
{
	struct rec *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	struct smtp_client_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.helo_name = HELO_NAME;
	cfg.tls = tls;
	cfg.mail_accepted_before = mail_accepted_before;
	smtp_limits_default(&cfg.limits);
	r->c = smtp_client_new(&cfg, &ops, r);
	assert_non_null(r->c);
	r->fail = SMTP_FAIL_LAST;
	return r;
}

static struct rec *new_rec(enum smtp_tls_policy tls)
{
	return new_rec_opened(tls, false);
}

static void free_rec(struct rec *r)
{
	smtp_client_free(r->c);
	for (size_t i = 0; i < r->ndone; i++)
		smtp_txn_free(r->done[i]);
	free(r);
}

static void feed(struct rec *r, const char *s)
{
	smtp_client_feed(r->c, s, strlen(s));
}

/* Feeds single-line replies one at a time, as a server answering one
 * command at a time sends them (several in one chunk without pipelining
 * is talking out of turn). */
static void feed_each(struct rec *r, const char *lines)
{
	const char *p = lines;
	while (*p) {
		const char *e = strstr(p, "\r\n");
		size_t n = e ? (size_t)(e - p) + 2 : strlen(p);
		char one[512];
		snprintf(one, sizeof(one), "%.*s", (int)n, p);
		feed(r, one);
		p += n;
	}
}

static void feed_bytes(struct rec *r, const char *s)
{
	for (size_t i = 0; s[i]; i++)
		smtp_client_feed(r->c, s + i, 1);
}

/* Asserts that exactly want was written since the last call, then
 * forgets it. */
static void expect_out(struct rec *r, const char *want)
{
	if (strcmp(r->out, want) != 0)
		fail_msg("written '%s', want '%s'", r->out, want);
	r->outlen = 0;
	r->out[0] = '\0';
}

static void expect_closed(struct rec *r, enum smtp_failure f)
{
	assert_int_equal(r->closed, 1);
	if (r->fail != f)
		fail_msg("closed with %s (%s), want %s",
			 smtp_failure_name(r->fail), r->why,
			 smtp_failure_name(f));
	assert_int_equal(smtp_client_state(r->c),
			 f == SMTP_FAIL_NONE ? SMTP_ST_DONE : SMTP_ST_FAILED);
	assert_false(smtp_client_waiting(r->c));
}

static const char *const EHLO_PLAIN = "250-mx.example.com\r\n"
				      "250-SIZE 10240000\r\n"
				      "250 8BITMIME\r\n";
static const char *const EHLO_PIPE = "250-mx.example.com\r\n"
				     "250-PIPELINING\r\n"
				     "250 8BITMIME\r\n";
static const char *const EHLO_TLS = "250-mx.example.com\r\n"
				    "250-PIPELINING\r\n"
				    "250-STARTTLS\r\n"
				    "250 8BITMIME\r\n";

/* Greeting plus EHLO reply: the client is ready. */
static void to_ready(struct rec *r, const char *ehlo)
{
	feed(r, "220 mx.example.com ESMTP Postfix\r\n");
	expect_out(r, "EHLO " HELO_NAME "\r\n");
	feed(r, ehlo);
	assert_int_equal(r->ready, 1);
	assert_int_equal(smtp_client_state(r->c), SMTP_ST_READY);
	expect_out(r, "");
}

static void greeting_sends_ehlo(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	assert_int_equal(smtp_client_state(r->c), SMTP_ST_GREETING);
	assert_true(smtp_client_waiting(r->c));
	assert_null(smtp_client_last_reply(r->c));
	expect_out(r, ""); /* the client does not speak first */
	feed(r, "220 mx.example.com ESMTP Postfix\r\n");
	expect_out(r, "EHLO " HELO_NAME "\r\n");
	assert_int_equal(smtp_client_state(r->c), SMTP_ST_EHLO);
	assert_true(smtp_client_waiting(r->c));
	assert_int_equal(smtp_client_greeting(r->c)->code, 220);
	assert_string_equal(smtp_client_greeting(r->c)->lines[0],
			    "mx.example.com ESMTP Postfix");
	assert_int_equal(smtp_client_last_reply(r->c)->code, 220);
	assert_int_equal(r->closed, 0);
	free_rec(r);
}

static void plain_transaction(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PLAIN);
	assert_int_equal(r->idle, 1);
	assert_false(smtp_client_waiting(r->c));
	assert_false(smtp_client_ehlo(r->c)->pipelining);
	assert_string_equal(smtp_client_ehlo(r->c)->name, "mx.example.com");
	assert_null(smtp_client_ehlo_plain(r->c));
	assert_false(smtp_client_used_helo(r->c));

	int tag = 42;
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b.example>",
					     "<c@gmail.com>", &tag),
			 0);
	expect_out(r, "MAIL FROM:<a@b.example>\r\n");
	assert_int_equal(smtp_client_state(r->c), SMTP_ST_TXN);
	assert_true(smtp_client_waiting(r->c));
	feed(r, "250 2.1.0 Ok\r\n");
	expect_out(r, "RCPT TO:<c@gmail.com>\r\n");
	feed(r, "554 5.7.1 <c@gmail.com>: Relay access denied\r\n");
	expect_out(r, "RSET\r\n");
	assert_int_equal(r->ndone, 0);
	feed(r, "250 2.0.0 Ok\r\n");
	expect_out(r, "");
	assert_int_equal(r->ndone, 1);
	struct smtp_txn *t = r->done[0];
	assert_ptr_equal(t->tag, &tag);
	assert_string_equal(t->mail, "<a@b.example>");
	assert_string_equal(t->rcpt, "<c@gmail.com>");
	assert_int_equal(t->mail_reply.code, 250);
	assert_true(t->rcpt_sent);
	assert_int_equal(t->rcpt_reply.code, 554);
	assert_string_equal(t->rcpt_reply.enhanced, "5.7.1");
	assert_int_equal(r->idle, 2);
	assert_int_equal(smtp_client_state(r->c), SMTP_ST_READY);
	assert_null(smtp_client_take_unfinished(r->c));

	smtp_client_quit(r->c);
	expect_out(r, "QUIT\r\n");
	assert_int_equal(smtp_client_state(r->c), SMTP_ST_QUIT);
	assert_true(smtp_client_waiting(r->c));
	/* No new work once quitting. */
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", NULL),
			 -1);
	feed(r, "221 2.0.0 Bye\r\n");
	expect_closed(r, SMTP_FAIL_NONE);
	assert_int_equal(r->ready, 1);
	/* Over: nothing accepted any more, nothing written. */
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", NULL),
			 -1);
	smtp_client_quit(r->c);
	feed(r, "250 late\r\n");
	smtp_client_eof(r->c);
	expect_out(r, "");
	assert_int_equal(r->closed, 1);
	free_rec(r);
}

static void queued_before_ready(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	/* Work queued during the handshake waits for it. */
	assert_int_equal(smtp_client_add_txn(r->c, "<1@a>", "<1@b>", NULL), 0);
	assert_int_equal(smtp_client_add_txn(r->c, "<2@a>", "<2@b>", NULL), 0);
	expect_out(r, "");
	feed(r, "220 mx ESMTP\r\n");
	expect_out(r, "EHLO " HELO_NAME "\r\n");
	feed(r, EHLO_PLAIN);
	assert_int_equal(r->ready, 1);
	assert_int_equal(r->idle, 0);
	expect_out(r, "MAIL FROM:<1@a>\r\n");
	feed(r, "250 ok\r\n");
	expect_out(r, "RCPT TO:<1@b>\r\n");
	feed(r, "250 ok\r\n");
	expect_out(r, "RSET\r\n");
	feed(r, "250 ok\r\n");
	/* The second starts as soon as the first is done. */
	expect_out(r, "MAIL FROM:<2@a>\r\n");
	assert_int_equal(r->ndone, 1);
	assert_int_equal(r->idle, 0);
	feed_each(r, "250 ok\r\n250 ok\r\n250 ok\r\n");
	expect_out(r, "RCPT TO:<2@b>\r\nRSET\r\n");
	assert_int_equal(r->ndone, 2);
	assert_string_equal(r->done[1]->mail, "<2@a>");
	assert_int_equal(r->idle, 1);
	free_rec(r);
}

static void pipelined_transaction(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PIPE);
	assert_true(smtp_client_ehlo(r->c)->pipelining);
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", NULL), 0);
	/* All three before any reply. */
	expect_out(r, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRSET\r\n");
	feed(r, "250 2.1.0 Ok\r\n");
	expect_out(r, "");
	feed(r, "250 2.1.5 Ok\r\n250 2.0.0 Ok\r\n");
	expect_out(r, "");
	assert_int_equal(r->ndone, 1);
	assert_int_equal(r->done[0]->mail_reply.code, 250);
	assert_int_equal(r->done[0]->rcpt_reply.code, 250);
	assert_true(r->done[0]->rcpt_sent);
	free_rec(r);
}

static void pipelined_mail_rejected(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PIPE);
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", NULL), 0);
	expect_out(r, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRSET\r\n");
	feed(r, "553 5.7.1 sender refused\r\n"
		"503 5.5.1 Error: need MAIL command\r\n"
		"250 2.0.0 Ok\r\n");
	expect_out(r, "");
	assert_int_equal(r->ndone, 1);
	assert_int_equal(r->done[0]->mail_reply.code, 553);
	assert_true(r->done[0]->rcpt_sent);
	assert_int_equal(r->done[0]->rcpt_reply.code, 503);
	assert_int_equal(r->closed, 0);
	free_rec(r);
}

static void mail_rejected_no_rcpt(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PLAIN);
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", NULL), 0);
	expect_out(r, "MAIL FROM:<a@b>\r\n");
	feed(r, "550 5.7.1 <a@b>: Sender address rejected\r\n");
	expect_out(r, "RSET\r\n");
	feed(r, "250 2.0.0 Ok\r\n");
	expect_out(r, "");
	assert_int_equal(r->ndone, 1);
	assert_int_equal(r->done[0]->mail_reply.code, 550);
	assert_false(r->done[0]->rcpt_sent);
	assert_int_equal(r->done[0]->rcpt_reply.code, 0);
	assert_int_equal(r->closed, 0);

	/* A 4xx to MAIL: same. */
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", NULL), 0);
	expect_out(r, "MAIL FROM:<a@b>\r\n");
	feed(r, "451 4.3.0 later\r\n");
	expect_out(r, "RSET\r\n");
	feed(r, "250 ok\r\n");
	assert_int_equal(r->ndone, 2);
	assert_false(r->done[1]->rcpt_sent);
	free_rec(r);
}

static void ehlo_refused_helo_fallback(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	feed(r, "220 as400.example.com ready\r\n");
	expect_out(r, "EHLO " HELO_NAME "\r\n");
	feed(r, "502 5.5.2 Error: command not recognized\r\n");
	expect_out(r, "HELO " HELO_NAME "\r\n");
	assert_int_equal(smtp_client_state(r->c), SMTP_ST_HELO);
	assert_true(smtp_client_used_helo(r->c));
	assert_int_equal(r->ready, 0);
	feed(r, "250 as400.example.com\r\n");
	assert_int_equal(r->ready, 1);
	assert_int_equal(smtp_client_state(r->c), SMTP_ST_READY);
	assert_true(smtp_client_used_helo(r->c));
	assert_string_equal(smtp_client_ehlo(r->c)->name,
			    "as400.example.com");
	assert_false(smtp_client_ehlo(r->c)->pipelining);
	/* No pipelining after HELO. */
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", NULL), 0);
	expect_out(r, "MAIL FROM:<a@b>\r\n");
	free_rec(r);
}

static void ehlo_and_helo_refused(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	feed(r, "220 mx ready\r\n");
	feed(r, "500 5.5.1 unrecognized\r\n");
	expect_out(r, "EHLO " HELO_NAME "\r\nHELO " HELO_NAME "\r\n");
	feed(r, "550 5.7.1 go away\r\n");
	expect_out(r, "QUIT\r\n");
	expect_closed(r, SMTP_FAIL_REFUSED);
	assert_int_equal(r->ready, 0);
	free_rec(r);

	/* A temporary EHLO refusal is not "not recognized": no HELO. */
	r = new_rec(SMTP_TLS_NEVER);
	feed(r, "220 mx ready\r\n");
	expect_out(r, "EHLO " HELO_NAME "\r\n");
	feed(r, "451 4.3.0 try later\r\n");
	expect_out(r, "QUIT\r\n");
	expect_closed(r, SMTP_FAIL_REFUSED);
	assert_false(smtp_client_used_helo(r->c));
	free_rec(r);
}

static void greeting_554(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	feed(r, "554 5.7.1 mx.example.com: no SMTP service here\r\n");
	/* RFC 5321 §3.1: the server waits for QUIT. */
	expect_out(r, "QUIT\r\n");
	expect_closed(r, SMTP_FAIL_REFUSED);
	assert_non_null(strstr(r->why, "554"));
	assert_int_equal(smtp_client_greeting(r->c)->code, 554);
	assert_int_equal(r->ready, 0);
	assert_int_equal(r->idle, 0);
	/* The 221 that follows is ignored. */
	feed(r, "221 bye\r\n");
	assert_int_equal(r->closed, 1);
	assert_int_equal(r->fail, SMTP_FAIL_REFUSED);
	free_rec(r);
}

static void greeting_421(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	feed(r, "421 4.3.2 mx.example.com too busy\r\n");
	expect_out(r, ""); /* the server is closing: no QUIT */
	expect_closed(r, SMTP_FAIL_CLOSING);
	free_rec(r);
}

static void closing_421_mid_transaction(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PLAIN);
	int tag1 = 1, tag2 = 2;
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", &tag1),
			 0);
	assert_int_equal(smtp_client_add_txn(r->c, "<e@f>", "<g@h>", &tag2),
			 0);
	expect_out(r, "MAIL FROM:<a@b>\r\n");
	feed(r, "250 2.1.0 Ok\r\n");
	expect_out(r, "RCPT TO:<c@d>\r\n");
	feed(r, "421 4.7.0 mx.example.com Error: too many errors\r\n");
	expect_out(r, "");
	expect_closed(r, SMTP_FAIL_CLOSING);
	assert_non_null(strstr(r->why, "too many errors"));
	assert_int_equal(r->ndone, 0);

	struct smtp_txn *t = smtp_client_take_unfinished(r->c);
	assert_non_null(t);
	assert_ptr_equal(t->tag, &tag1);
	assert_string_equal(t->mail, "<a@b>");
	assert_string_equal(t->rcpt, "<c@d>");
	/* Reset for a retry on a new session; "started" stays so the
	 * caller can count the attempt. */
	assert_true(t->started);
	assert_false(t->rcpt_sent);
	assert_int_equal(t->mail_reply.code, 0);
	assert_int_equal(t->rcpt_reply.code, 0);
	assert_null(t->next);
	smtp_txn_free(t);
	t = smtp_client_take_unfinished(r->c);
	assert_non_null(t);
	assert_ptr_equal(t->tag, &tag2);
	assert_false(t->started);
	assert_null(t->next);
	smtp_txn_free(t);
	assert_null(smtp_client_take_unfinished(r->c));
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", NULL),
			 -1);
	free_rec(r);
}

static void unfinished_freed_by_client(void **state)
{
	(void)state;
	/* Transactions left in the client are freed with it (ASan checks). */
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PIPE);
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", NULL), 0);
	assert_int_equal(smtp_client_add_txn(r->c, "<e@f>", "<g@h>", NULL), 0);
	feed(r, "250 ok\r\n");
	smtp_client_eof(r->c);
	expect_closed(r, SMTP_FAIL_DROPPED);
	free_rec(r);
}

static void starttls_upgrade(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_OPPORTUNISTIC);
	feed(r, "220 mx.example.com ESMTP\r\n");
	expect_out(r, "EHLO " HELO_NAME "\r\n");
	feed(r, EHLO_TLS);
	expect_out(r, "STARTTLS\r\n");
	assert_int_equal(smtp_client_state(r->c), SMTP_ST_STARTTLS);
	assert_int_equal(r->ready, 0);
	assert_int_equal(r->start_tls, 0);
	feed(r, "220 2.0.0 Ready to start TLS\r\n");
	assert_int_equal(r->start_tls, 1);
	assert_int_equal(r->state_at_start_tls, SMTP_ST_TLS_HANDSHAKE);
	assert_int_equal(smtp_client_state(r->c), SMTP_ST_TLS_HANDSHAKE);
	assert_true(smtp_client_waiting(r->c));
	assert_false(smtp_client_tls_active(r->c));
	expect_out(r, "");

	smtp_client_tls_done(r->c, true, NULL);
	assert_true(smtp_client_tls_active(r->c));
	expect_out(r, "EHLO " HELO_NAME "\r\n");
	assert_int_equal(r->ready, 0);
	feed(r, "250-mx.example.com\r\n250 AUTH PLAIN LOGIN\r\n");
	assert_int_equal(r->ready, 1);
	assert_int_equal(r->start_tls, 1);
	assert_int_equal(smtp_client_state(r->c), SMTP_ST_READY);
	expect_out(r, "");
	/* What was learnt in plaintext is kept apart. */
	const struct smtp_ehlo *plain = smtp_client_ehlo_plain(r->c);
	assert_non_null(plain);
	assert_true(plain->starttls);
	assert_true(plain->pipelining);
	const struct smtp_ehlo *e = smtp_client_ehlo(r->c);
	assert_false(e->starttls);
	assert_false(e->pipelining);
	assert_string_equal(e->auth, "PLAIN LOGIN");
	/* PIPELINING was only offered before TLS: not used now. */
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", NULL), 0);
	expect_out(r, "MAIL FROM:<a@b>\r\n");
	/* tls_done outside the handshake is ignored. */
	smtp_client_tls_done(r->c, true, NULL);
	expect_out(r, "");
	free_rec(r);
}

static void starttls_injection_refused(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_OPPORTUNISTIC);
	feed(r, "220 mx ESMTP\r\n");
	feed(r, EHLO_TLS);
	expect_out(r, "EHLO " HELO_NAME "\r\nSTARTTLS\r\n");
	/* CVE-2011-0411 class: plaintext queued behind the 220. */
	feed(r, "220 go\r\n250 injected\r\n");
	assert_int_equal(r->start_tls, 0);
	expect_closed(r, SMTP_FAIL_TLS);
	assert_int_equal(r->ready, 0);
	free_rec(r);

	/* Even a partial line behind the 220. */
	r = new_rec(SMTP_TLS_OPPORTUNISTIC);
	feed(r, "220 mx ESMTP\r\n");
	feed(r, EHLO_TLS);
	feed(r, "220 go\r\n2");
	assert_int_equal(r->start_tls, 0);
	expect_closed(r, SMTP_FAIL_TLS);
	free_rec(r);

	/* Plaintext arriving during the handshake. */
	r = new_rec(SMTP_TLS_OPPORTUNISTIC);
	feed(r, "220 mx ESMTP\r\n");
	feed(r, EHLO_TLS);
	feed(r, "220 go\r\n");
	assert_int_equal(r->start_tls, 1);
	feed(r, "250 injected\r\n");
	expect_closed(r, SMTP_FAIL_TLS);
	/* A late tls_done changes nothing. */
	r->outlen = 0;
	r->out[0] = '\0';
	smtp_client_tls_done(r->c, true, NULL);
	expect_out(r, "");
	assert_false(smtp_client_tls_active(r->c));
	assert_int_equal(r->closed, 1);
	free_rec(r);
}

static void starttls_handshake_failed(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_OPPORTUNISTIC);
	feed(r, "220 mx ESMTP\r\n");
	feed(r, EHLO_TLS);
	feed(r, "220 go\r\n");
	smtp_client_tls_done(r->c, false, "certificate verify failed");
	expect_closed(r, SMTP_FAIL_TLS);
	assert_string_equal(r->why, "certificate verify failed");
	assert_false(smtp_client_tls_active(r->c));
	free_rec(r);
}

static void starttls_refused(void **state)
{
	(void)state;
	/* Opportunistic: carry on in plaintext. */
	struct rec *r = new_rec(SMTP_TLS_OPPORTUNISTIC);
	feed(r, "220 mx ESMTP\r\n");
	feed(r, EHLO_TLS);
	expect_out(r, "EHLO " HELO_NAME "\r\nSTARTTLS\r\n");
	feed(r, "454 4.7.0 TLS not available due to local problem\r\n");
	assert_int_equal(r->ready, 1);
	assert_int_equal(r->start_tls, 0);
	assert_int_equal(smtp_client_state(r->c), SMTP_ST_READY);
	assert_false(smtp_client_tls_active(r->c));
	free_rec(r);

	/* Required: give up. */
	r = new_rec(SMTP_TLS_REQUIRED);
	feed(r, "220 mx ESMTP\r\n");
	feed(r, EHLO_TLS);
	expect_out(r, "EHLO " HELO_NAME "\r\nSTARTTLS\r\n");
	feed(r, "454 4.7.0 TLS not available due to local problem\r\n");
	expect_out(r, "QUIT\r\n");
	expect_closed(r, SMTP_FAIL_TLS);
	assert_int_equal(r->ready, 0);
	free_rec(r);
}

static void tls_required_not_offered(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_REQUIRED);
	feed(r, "220 mx ESMTP\r\n");
	feed(r, EHLO_PIPE);
	expect_out(r, "EHLO " HELO_NAME "\r\n");
	expect_closed(r, SMTP_FAIL_TLS);
	assert_int_equal(r->ready, 0);
	assert_int_equal(r->start_tls, 0);
	free_rec(r);

	/* Keyword trap: STARTTLSX is not STARTTLS. */
	r = new_rec(SMTP_TLS_REQUIRED);
	feed(r, "220 mx ESMTP\r\n");
	feed(r, "250-mx\r\n250 STARTTLSX\r\n");
	expect_out(r, "EHLO " HELO_NAME "\r\n");
	expect_closed(r, SMTP_FAIL_TLS);
	free_rec(r);
}

static void tls_never_ignores_starttls(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_TLS);
	assert_int_equal(r->start_tls, 0);
	assert_true(smtp_client_ehlo(r->c)->starttls);
	free_rec(r);
}

static void implicit_tls_no_starttls(void **state)
{
	(void)state;
	/* Already encrypted: REQUIRED is satisfied without STARTTLS, and an
	 * offered STARTTLS is not used again. */
	struct rec *r = new_rec(SMTP_TLS_REQUIRED);
	smtp_client_set_tls_active(r->c);
	assert_true(smtp_client_tls_active(r->c));
	to_ready(r, EHLO_TLS);
	assert_int_equal(r->start_tls, 0);
	free_rec(r);
}

static void unsolicited_reply(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PLAIN);
	assert_int_equal(r->idle, 1);
	feed(r, "250 extra\r\n");
	expect_closed(r, SMTP_FAIL_PROTOCOL);
	free_rec(r);

	/* A reply glued to the EHLO reply (desync). */
	r = new_rec(SMTP_TLS_NEVER);
	feed(r, "220 mx ESMTP\r\n");
	feed(r, "250 mx\r\n250 second\r\n");
	assert_int_equal(r->ready, 1);
	expect_closed(r, SMTP_FAIL_PROTOCOL);
	free_rec(r);
}

static void eof_mid_session(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PLAIN);
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", NULL), 0);
	smtp_client_eof(r->c);
	expect_closed(r, SMTP_FAIL_DROPPED);
	struct smtp_txn *t = smtp_client_take_unfinished(r->c);
	assert_non_null(t);
	smtp_txn_free(t);
	free_rec(r);

	/* Before the greeting. */
	r = new_rec(SMTP_TLS_NEVER);
	smtp_client_eof(r->c);
	expect_closed(r, SMTP_FAIL_DROPPED);
	free_rec(r);

	/* EOF after QUIT instead of 221 is a clean end. */
	r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PLAIN);
	smtp_client_quit(r->c);
	expect_out(r, "QUIT\r\n");
	smtp_client_eof(r->c);
	expect_closed(r, SMTP_FAIL_NONE);
	free_rec(r);
}

static void adapter_failures(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	smtp_client_fail(r->c, SMTP_FAIL_TIMEOUT, "greeting timeout");
	expect_closed(r, SMTP_FAIL_TIMEOUT);
	assert_string_equal(r->why, "greeting timeout");
	/* Reported once. */
	smtp_client_fail(r->c, SMTP_FAIL_CONNECT, "x");
	smtp_client_eof(r->c);
	assert_int_equal(r->closed, 1);
	assert_int_equal(r->fail, SMTP_FAIL_TIMEOUT);
	free_rec(r);

	/* A timeout waiting for the 221 is still a clean end. */
	r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PLAIN);
	smtp_client_quit(r->c);
	smtp_client_fail(r->c, SMTP_FAIL_TIMEOUT, "quit timeout");
	expect_closed(r, SMTP_FAIL_NONE);
	free_rec(r);

	/* Write failure. */
	r = new_rec(SMTP_TLS_NEVER);
	r->write_fails = true;
	feed(r, "220 mx ESMTP\r\n");
	expect_closed(r, SMTP_FAIL_DROPPED);
	free_rec(r);
}

static void malformed_reply(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	feed(r, "hello\r\n");
	expect_closed(r, SMTP_FAIL_PROTOCOL);
	expect_out(r, "");
	free_rec(r);

	r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PLAIN);
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", NULL), 0);
	feed(r, "250-ok\r\n251 changed\r\n");
	expect_closed(r, SMTP_FAIL_PROTOCOL);
	free_rec(r);

	/* Over-long line with the configured limit. */
	r = new_rec(SMTP_TLS_NEVER);
	char big[SMTP_DEFAULT_MAX_LINE + 16];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "220 ", 4);
	feed(r, big);
	expect_closed(r, SMTP_FAIL_PROTOCOL);
	free_rec(r);
}

static void byte_by_byte(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	feed_bytes(r, "220-mx.example.com ESMTP\r\n220 hello\r\n");
	expect_out(r, "EHLO " HELO_NAME "\r\n");
	feed_bytes(r, EHLO_PIPE);
	assert_int_equal(r->ready, 1);
	assert_true(smtp_client_ehlo(r->c)->pipelining);
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", NULL), 0);
	expect_out(r, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRSET\r\n");
	feed_bytes(r, "250 2.1.0 Ok\r\n550-5.1.1 no\r\n550 5.1.1 such user\r\n"
		      "250 2.0.0 Ok\r\n");
	assert_int_equal(r->ndone, 1);
	assert_int_equal(r->done[0]->rcpt_reply.code, 550);
	assert_int_equal(r->done[0]->rcpt_reply.nlines, 2);
	assert_int_equal(r->closed, 0);
	smtp_client_quit(r->c);
	feed_bytes(r, "221 bye\r\n");
	expect_closed(r, SMTP_FAIL_NONE);
	free_rec(r);
}

static void starttls_byte_by_byte(void **state)
{
	(void)state;
	/* The 220 to STARTTLS arriving in pieces is still clean. */
	struct rec *r = new_rec(SMTP_TLS_OPPORTUNISTIC);
	feed(r, "220 mx ESMTP\r\n");
	feed(r, EHLO_TLS);
	feed_bytes(r, "220 2.0.0 go ahead\r\n");
	assert_int_equal(r->start_tls, 1);
	assert_int_equal(r->closed, 0);
	free_rec(r);
}

static void transcript_lines(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	feed(r, "220 mx.example.com ESMTP\r\n");
	feed(r, "250-mx.example.com\r\n250 SIZE\r\n");
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", NULL), 0);
	const char s[] = "250 ok\x01\r\n";
	smtp_client_feed(r->c, s, sizeof(s) - 1);
	assert_string_equal(r->transcript,
			    "S: 220 mx.example.com ESMTP\n"
			    "C: EHLO " HELO_NAME "\n"
			    "S: 250-mx.example.com\n"
			    "S: 250 SIZE\n"
			    "C: MAIL FROM:<a@b>\n"
			    "S: 250 ok\\x01\n"
			    "C: RCPT TO:<c@d>\n");
	free_rec(r);
}

static void callbacks_drive_the_queue(void **state)
{
	(void)state;
	/* The real caller adds work from idle and quits when done. */
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	r->idle_adds = 2;
	r->idle_quits = true;
	feed(r, "220 mx ESMTP\r\n");
	feed(r, EHLO_PLAIN);
	expect_out(r, "EHLO " HELO_NAME "\r\nMAIL FROM:<idle@a>\r\n");
	feed_each(r, "250 ok\r\n250 ok\r\n250 ok\r\n");
	expect_out(r, "RCPT TO:<idle@b>\r\nRSET\r\nMAIL FROM:<idle@a>\r\n");
	feed_each(r, "250 ok\r\n250 ok\r\n250 ok\r\n");
	expect_out(r, "RCPT TO:<idle@b>\r\nRSET\r\nQUIT\r\n");
	assert_int_equal(r->ndone, 2);
	assert_int_equal(r->idle, 3);
	feed(r, "221 bye\r\n");
	expect_closed(r, SMTP_FAIL_NONE);
	free_rec(r);

	/* Work added from ready: idle is not called. */
	r = new_rec(SMTP_TLS_NEVER);
	r->ready_adds = true;
	feed(r, "220 mx ESMTP\r\n");
	feed(r, EHLO_PLAIN);
	expect_out(r, "EHLO " HELO_NAME "\r\nMAIL FROM:<ready@a>\r\n");
	assert_int_equal(r->idle, 0);
	free_rec(r);

	/* Quit from txn_done. */
	r = new_rec(SMTP_TLS_NEVER);
	r->done_quits = true;
	to_ready(r, EHLO_PIPE);
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", NULL), 0);
	assert_int_equal(smtp_client_add_txn(r->c, "<e@f>", "<g@h>", NULL), 0);
	/* Both in one pipelined group. */
	expect_out(r, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRSET\r\n"
		      "MAIL FROM:<e@f>\r\nRCPT TO:<g@h>\r\nRSET\r\n");
	feed_each(r, "250 ok\r\n250 ok\r\n250 ok\r\n");
	/* Quit with the second in flight: stop at once, no QUIT. */
	expect_out(r, "");
	expect_closed(r, SMTP_FAIL_NONE);
	assert_int_equal(r->ndone, 1);
	/* The second comes back without using an attempt. */
	struct smtp_txn *t = smtp_client_take_unfinished(r->c);
	assert_non_null(t);
	assert_string_equal(t->mail, "<e@f>");
	assert_false(t->started);
	smtp_txn_free(t);
	assert_null(smtp_client_take_unfinished(r->c));
	free_rec(r);
}

static void rset_refused(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PLAIN);
	int tag1 = 1, tag2 = 2;
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", &tag1),
			 0);
	assert_int_equal(smtp_client_add_txn(r->c, "<e@f>", "<g@h>", &tag2),
			 0);
	feed(r, "250 ok\r\n");
	feed(r, "250 ok\r\n");
	expect_out(r, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRSET\r\n");
	/* A server demanding STARTTLS answers 530 even to RSET. */
	feed(r, "530 5.7.0 Must issue a STARTTLS command first\r\n");
	/* The answered test still counts; the session leaves politely. */
	assert_int_equal(r->ndone, 1);
	assert_ptr_equal(r->done[0]->tag, &tag1);
	assert_int_equal(r->done[0]->rcpt_reply.code, 250);
	expect_out(r, "QUIT\r\n");
	assert_int_equal(smtp_client_state(r->c), SMTP_ST_QUIT);
	assert_int_equal(r->closed, 0);
	assert_int_equal(smtp_client_add_txn(r->c, "<x@y>", "<z@w>", NULL),
			 -1);
	feed(r, "221 2.0.0 Bye\r\n");
	expect_closed(r, SMTP_FAIL_NONE);
	assert_int_equal(r->idle, 1); /* no idle after the refused RSET */
	/* The queued test goes back to the caller, never started. */
	struct smtp_txn *t = smtp_client_take_unfinished(r->c);
	assert_non_null(t);
	assert_ptr_equal(t->tag, &tag2);
	assert_false(t->started);
	smtp_txn_free(t);
	assert_null(smtp_client_take_unfinished(r->c));
	free_rec(r);
}

static void rset_refused_quit_from_txn_done(void **state)
{
	(void)state;
	/* The caller may quit from txn_done: one clean close, reported
	 * once. */
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	r->done_quits = true;
	to_ready(r, EHLO_PLAIN);
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", NULL), 0);
	feed_each(r, "250 ok\r\n250 ok\r\n");
	feed(r, "500 5.5.1 what?\r\n");
	assert_int_equal(r->ndone, 1);
	expect_closed(r, SMTP_FAIL_NONE);
	free_rec(r);
}

static void closing_421_after_answer(void **state)
{
	(void)state;
	/* Postfix answers 421 to the RSET after its error limit: the test
	 * was already answered, so it is handed over, not back. */
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PIPE);
	int tag1 = 1, tag2 = 2;
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", &tag1),
			 0);
	assert_int_equal(smtp_client_add_txn(r->c, "<e@f>", "<g@h>", &tag2),
			 0);
	expect_out(r, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRSET\r\n"
		      "MAIL FROM:<e@f>\r\nRCPT TO:<g@h>\r\nRSET\r\n");
	feed(r, "250 2.1.0 Ok\r\n"
		"554 5.7.1 <c@d>: Relay access denied\r\n"
		"421 4.7.0 mx.example.com Error: too many errors\r\n");
	assert_int_equal(r->ndone, 1);
	assert_ptr_equal(r->done[0]->tag, &tag1);
	assert_int_equal(r->done[0]->rcpt_reply.code, 554);
	assert_true(r->done[0]->started);
	expect_closed(r, SMTP_FAIL_CLOSING);
	assert_int_equal(r->done_at_closed, 1); /* handed over first */
	struct smtp_txn *t = smtp_client_take_unfinished(r->c);
	assert_non_null(t);
	assert_ptr_equal(t->tag, &tag2);
	assert_false(t->started);
	smtp_txn_free(t);
	assert_null(smtp_client_take_unfinished(r->c));
	free_rec(r);

	/* MAIL refused, then 421 to the RSET: answered too. */
	r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PLAIN);
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", NULL), 0);
	feed(r, "550 5.7.1 sender refused\r\n");
	expect_out(r, "MAIL FROM:<a@b>\r\nRSET\r\n");
	feed(r, "421 4.7.0 closing\r\n");
	assert_int_equal(r->ndone, 1);
	assert_int_equal(r->done[0]->mail_reply.code, 550);
	assert_false(r->done[0]->rcpt_sent);
	expect_closed(r, SMTP_FAIL_CLOSING);
	assert_null(smtp_client_take_unfinished(r->c));
	free_rec(r);
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void pipelined_group(void **state)
{
	(void)state;
	/* Tests queued before the server is ready go out as one group after
	 * EHLO: one round trip for all of them (RFC 2920). */
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	int tags[3] = {1, 2, 3};
	feed(r, "220 mx ESMTP\r\n");
	for (int i = 0; i < 3; i++) {
		char from[16];
		snprintf(from, sizeof(from), "<%d@a>", i + 1);
		assert_int_equal(smtp_client_add_txn(r->c, from, "<x@y>",
						     &tags[i]),
				 0);
	}
	expect_out(r, "EHLO " HELO_NAME "\r\n");
	feed(r, EHLO_PIPE);
	expect_out(r, "MAIL FROM:<1@a>\r\nRCPT TO:<x@y>\r\nRSET\r\n"
		      "MAIL FROM:<2@a>\r\nRCPT TO:<x@y>\r\nRSET\r\n"
		      "MAIL FROM:<3@a>\r\nRCPT TO:<x@y>\r\nRSET\r\n");
	assert_int_equal(smtp_client_state(r->c), SMTP_ST_TXN);
	/* Every answer in one read, each to its own test. */
	feed(r, "250 ok\r\n554 5.7.1 Relay access denied\r\n250 ok\r\n"
		"553 5.7.1 sender refused\r\n503 5.5.1 need MAIL\r\n250 ok\r\n"
		"250 ok\r\n250 2.1.5 ok\r\n250 ok\r\n");
	expect_out(r, "");
	assert_int_equal(r->ndone, 3);
	for (int i = 0; i < 3; i++)
		assert_ptr_equal(r->done[i]->tag, &tags[i]);
	assert_int_equal(r->done[0]->rcpt_reply.code, 554);
	assert_int_equal(r->done[1]->mail_reply.code, 553);
	assert_int_equal(r->done[1]->rcpt_reply.code, 503);
	assert_int_equal(r->done[2]->rcpt_reply.code, 250);
	assert_int_equal(smtp_client_state(r->c), SMTP_ST_READY);
	assert_int_equal(r->idle, 1);
	assert_int_equal(r->closed, 0);
	free_rec(r);
}

static void pipeline_window(void **state)
{
	(void)state;
	/* Slow start: 3 tests in flight until the server accepts a MAIL (a
	 * server refusing everything must not collect more than 9 errors
	 * from one group); then up to 10, each answered test letting the
	 * next go. */
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PIPE);
	for (int i = 0; i < 12; i++)
		assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>",
						     NULL),
				 0);
	assert_int_equal(count_of(r->out, "MAIL FROM"), 3);
	assert_int_equal(count_of(r->out, "RSET"), 3);
	r->outlen = 0;
	r->out[0] = '\0';
	feed(r, "250 ok\r\n"); /* MAIL accepted: the window opens */
	assert_int_equal(count_of(r->out, "MAIL FROM"), 7);
	r->outlen = 0;
	r->out[0] = '\0';
	feed(r, "554 no\r\n");
	expect_out(r, "");
	feed(r, "250 ok\r\n");
	expect_out(r, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRSET\r\n");
	assert_int_equal(r->ndone, 1);
	free_rec(r);

	/* A server that accepted MAIL before (on another session): the
	 * whole window from the start. */
	r = new_rec_opened(SMTP_TLS_NEVER, true);
	to_ready(r, EHLO_PIPE);
	for (int i = 0; i < 12; i++)
		assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>",
						     NULL),
				 0);
	assert_int_equal(count_of(r->out, "MAIL FROM"), 10);
	free_rec(r);

	/* A server refusing every MAIL never opens it: 3 tests, 9 errors. */
	r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PIPE);
	for (int i = 0; i < 5; i++)
		assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>",
						     NULL),
				 0);
	r->outlen = 0;
	r->out[0] = '\0';
	feed(r, "530 5.7.0 Must issue a STARTTLS command first\r\n"
		"530 5.7.0 Must issue a STARTTLS command first\r\n");
	expect_out(r, "");
	free_rec(r);
}

static void pipeline_waits_for_data_and_commands(void **state)
{
	(void)state;
	/* A test with a message, or a single command, never joins a
	 * group: DATA needs the RCPT answer, VRFY must end a group. */
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PIPE);
	assert_int_equal(smtp_client_add_txn(r->c, "<1@a>", "<c@d>", NULL), 0);
	assert_int_equal(smtp_client_add_txn_data(r->c, "<2@a>", "<c@d>",
						  "Subject: x\r\n\r\nhi\r\n",
						  NULL),
			 0);
	assert_int_equal(smtp_client_add_cmd(r->c, "VRFY postmaster", NULL), 0);
	assert_int_equal(smtp_client_add_txn(r->c, "<3@a>", "<c@d>", NULL), 0);
	expect_out(r, "MAIL FROM:<1@a>\r\nRCPT TO:<c@d>\r\nRSET\r\n");
	feed(r, "250 ok\r\n250 ok\r\n250 ok\r\n");
	expect_out(r, "MAIL FROM:<2@a>\r\nRCPT TO:<c@d>\r\n");
	feed(r, "250 ok\r\n250 ok\r\n");
	expect_out(r, "DATA\r\n");
	feed(r, "354 go\r\n");
	expect_out(r, "Subject: x\r\n\r\nhi\r\n.\r\n");
	feed(r, "250 queued\r\n");
	expect_out(r, "RSET\r\n");
	feed(r, "250 ok\r\n");
	expect_out(r, "VRFY postmaster\r\n");
	feed(r, "252 maybe\r\n");
	expect_out(r, "MAIL FROM:<3@a>\r\nRCPT TO:<c@d>\r\nRSET\r\n");
	feed(r, "250 ok\r\n250 ok\r\n250 ok\r\n");
	assert_int_equal(r->ndone, 4);
	assert_int_equal(r->done[1]->eod_reply.code, 250);
	assert_int_equal(r->done[2]->mail_reply.code, 252);
	free_rec(r);
}

static void pipeline_dropped_midway(void **state)
{
	(void)state;
	/* The server drops the connection while on the second of three
	 * pipelined tests: the first is answered; the others come back
	 * without using an attempt: a session that finished a test and is
	 * then dropped ran out of the server's budget (Exim's 3 syntax
	 * errors), no fault of the test it was on. */
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PIPE);
	int tags[3] = {1, 2, 3};
	for (int i = 0; i < 3; i++)
		assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>",
						     &tags[i]),
				 0);
	feed(r, "250 ok\r\n554 no\r\n250 ok\r\n250 ok\r\n");
	smtp_client_eof(r->c);
	expect_closed(r, SMTP_FAIL_DROPPED);
	assert_int_equal(r->ndone, 1);
	struct smtp_txn *t = smtp_client_take_unfinished(r->c);
	assert_non_null(t);
	assert_ptr_equal(t->tag, &tags[1]);
	assert_false(t->started);
	assert_int_equal(t->mail_reply.code, 0); /* reset for the retry */
	assert_null(t->next);
	smtp_txn_free(t);
	t = smtp_client_take_unfinished(r->c);
	assert_non_null(t);
	assert_ptr_equal(t->tag, &tags[2]);
	assert_false(t->started);
	smtp_txn_free(t);
	assert_null(smtp_client_take_unfinished(r->c));
	free_rec(r);

	/* 421 to the second test's MAIL: the same. */
	r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PIPE);
	for (int i = 0; i < 3; i++)
		assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>",
						     &tags[i]),
				 0);
	feed(r, "250 ok\r\n554 no\r\n250 ok\r\n421 4.7.0 closing\r\n");
	expect_closed(r, SMTP_FAIL_CLOSING);
	assert_int_equal(r->ndone, 1);
	t = smtp_client_take_unfinished(r->c);
	assert_ptr_equal(t->tag, &tags[1]);
	assert_false(t->started);
	smtp_txn_free(t);
	t = smtp_client_take_unfinished(r->c);
	assert_ptr_equal(t->tag, &tags[2]);
	assert_false(t->started);
	smtp_txn_free(t);
	assert_null(smtp_client_take_unfinished(r->c));
	free_rec(r);
}

static void pipeline_rset_refused(void **state)
{
	(void)state;
	/* A refused RSET leaves the server's state unknown: the answers to
	 * the test pipelined behind it are ignored, it comes back
	 * unfinished, and the session leaves. */
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PIPE);
	int tag1 = 1, tag2 = 2;
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", &tag1),
			 0);
	assert_int_equal(smtp_client_add_txn(r->c, "<e@f>", "<g@h>", &tag2),
			 0);
	expect_out(r, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRSET\r\n"
		      "MAIL FROM:<e@f>\r\nRCPT TO:<g@h>\r\nRSET\r\n");
	feed(r, "250 ok\r\n554 no\r\n500 5.5.1 what?\r\n");
	/* QUIT, and the session ends at once: the answers still owed for
	 * the test behind are not waited for (a server refusing everything
	 * may be sleeping on each). */
	expect_out(r, "QUIT\r\n");
	expect_closed(r, SMTP_FAIL_NONE);
	assert_int_equal(r->ndone, 1);
	assert_ptr_equal(r->done[0]->tag, &tag1);
	assert_false(smtp_client_waiting(r->c));
	struct smtp_txn *t = smtp_client_take_unfinished(r->c);
	assert_non_null(t);
	assert_ptr_equal(t->tag, &tag2);
	assert_int_equal(t->mail_reply.code, 0);
	assert_false(t->started); /* no attempt used */
	smtp_txn_free(t);
	assert_null(smtp_client_take_unfinished(r->c));
	free_rec(r);
}

static void pipeline_out_of_step(void **state)
{
	(void)state;
	/* A reply too many: MAIL's two 250s make RCPT look accepted and the
	 * RCPT refusal land on RSET. The acceptance is never reported: the
	 * test goes back (one attempt used) and the session leaves. */
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PIPE);
	int tag = 1;
	assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>", &tag), 0);
	expect_out(r, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRSET\r\n");
	feed(r, "250 ok\r\n250 extra\r\n554 5.7.1 Relay access denied\r\n");
	expect_out(r, "QUIT\r\n");
	assert_int_equal(r->ndone, 0);
	feed(r, "250 ok\r\n221 bye\r\n");
	expect_closed(r, SMTP_FAIL_NONE);
	assert_int_equal(r->ndone, 0);
	struct smtp_txn *t = smtp_client_take_unfinished(r->c);
	assert_non_null(t);
	assert_ptr_equal(t->tag, &tag);
	assert_true(t->started);
	assert_int_equal(t->rcpt_reply.code, 0);
	smtp_txn_free(t);
	assert_null(smtp_client_take_unfinished(r->c));
	free_rec(r);
}

static void quit_during_handshake(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	feed(r, "220 mx ESMTP\r\n");
	expect_out(r, "EHLO " HELO_NAME "\r\n");
	smtp_client_quit(r->c);
	/* Nothing sent mid-command; the adapter just closes. */
	expect_out(r, "");
	expect_closed(r, SMTP_FAIL_NONE);
	free_rec(r);
}

static void no_data_ever(void **state)
{
	(void)state;
	/* Even a server that accepts everything gets no DATA. */
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	to_ready(r, EHLO_PIPE);
	for (int i = 0; i < 3; i++)
		assert_int_equal(smtp_client_add_txn(r->c, "<a@b>", "<c@d>",
						     NULL),
				 0);
	for (int i = 0; i < 3; i++)
		feed(r, "250 ok\r\n250 ok\r\n250 ok\r\n");
	assert_int_equal(r->ndone, 3);
	assert_null(strstr(r->out, "DATA"));
	assert_null(strstr(r->transcript, "C: DATA"));
	free_rec(r);
}

static void state_and_failure_names(void **state)
{
	(void)state;
	for (int s = 0; s < SMTP_ST_LAST; s++) {
		const char *n = smtp_client_state_name((enum smtp_client_state)s);
		assert_non_null(n);
		assert_true(n[0] != '\0');
		assert_string_not_equal(n, "?");
		for (int o = 0; o < s; o++)
			assert_string_not_equal(
			    n, smtp_client_state_name((enum smtp_client_state)o));
	}
	assert_string_equal(smtp_client_state_name(SMTP_ST_LAST), "?");
	for (int f = 0; f < SMTP_FAIL_LAST; f++) {
		const char *n = smtp_failure_name((enum smtp_failure)f);
		assert_non_null(n);
		assert_string_not_equal(n, "?");
	}
	assert_string_equal(smtp_failure_name(SMTP_FAIL_LAST), "?");
	assert_string_equal(smtp_failure_name(SMTP_FAIL_NONE), "none");
}

static void default_helo_name(void **state)
{
	(void)state;
	struct rec *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	struct smtp_client_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.tls = SMTP_TLS_NEVER;
	smtp_limits_default(&cfg.limits);
	r->c = smtp_client_new(&cfg, &ops, r);
	assert_non_null(r->c);
	feed(r, "220 mx ESMTP\r\n");
	expect_out(r, "EHLO localhost\r\n");
	free_rec(r);
}

/* A reply arriving with another when nothing more was owed: out of turn. */
static void out_of_turn_is_protocol_error(void **state)
{
	(void)state;
	struct rec *r = new_rec(SMTP_TLS_NEVER);
	feed(r, "220 mx ESMTP\r\n250 ready before you asked\r\n");
	assert_int_equal(r->closed, 1);
	assert_int_equal(r->fail, SMTP_FAIL_PROTOCOL);
	free_rec(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(out_of_turn_is_protocol_error),
	    cmocka_unit_test(greeting_sends_ehlo),
	    cmocka_unit_test(plain_transaction),
	    cmocka_unit_test(queued_before_ready),
	    cmocka_unit_test(pipelined_transaction),
	    cmocka_unit_test(pipelined_mail_rejected),
	    cmocka_unit_test(mail_rejected_no_rcpt),
	    cmocka_unit_test(ehlo_refused_helo_fallback),
	    cmocka_unit_test(ehlo_and_helo_refused),
	    cmocka_unit_test(greeting_554),
	    cmocka_unit_test(greeting_421),
	    cmocka_unit_test(closing_421_mid_transaction),
	    cmocka_unit_test(unfinished_freed_by_client),
	    cmocka_unit_test(starttls_upgrade),
	    cmocka_unit_test(starttls_injection_refused),
	    cmocka_unit_test(starttls_handshake_failed),
	    cmocka_unit_test(starttls_refused),
	    cmocka_unit_test(tls_required_not_offered),
	    cmocka_unit_test(tls_never_ignores_starttls),
	    cmocka_unit_test(implicit_tls_no_starttls),
	    cmocka_unit_test(unsolicited_reply),
	    cmocka_unit_test(eof_mid_session),
	    cmocka_unit_test(adapter_failures),
	    cmocka_unit_test(malformed_reply),
	    cmocka_unit_test(byte_by_byte),
	    cmocka_unit_test(starttls_byte_by_byte),
	    cmocka_unit_test(transcript_lines),
	    cmocka_unit_test(callbacks_drive_the_queue),
	    cmocka_unit_test(rset_refused),
	    cmocka_unit_test(rset_refused_quit_from_txn_done),
	    cmocka_unit_test(closing_421_after_answer),
	    cmocka_unit_test(pipelined_group),
	    cmocka_unit_test(pipeline_window),
	    cmocka_unit_test(pipeline_waits_for_data_and_commands),
	    cmocka_unit_test(pipeline_dropped_midway),
	    cmocka_unit_test(pipeline_rset_refused),
	    cmocka_unit_test(pipeline_out_of_step),
	    cmocka_unit_test(quit_during_handshake),
	    cmocka_unit_test(no_data_ever),
	    cmocka_unit_test(state_and_failure_names),
	    cmocka_unit_test(default_helo_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
