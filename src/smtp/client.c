#include "smtp/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

enum cmd {
	CMD_GREETING,
	CMD_EHLO,
	CMD_HELO,
	CMD_STARTTLS,
	CMD_MAIL,
	CMD_RCPT,
	CMD_RSET,
	CMD_DATA,
	CMD_EOD, /* the message and its final dot */
	CMD_RAW, /* a single command (VRFY, EXPN) */
	CMD_QUIT,
};

/* Replies owed at once. With PIPELINING a session keeps up to
 * MAX_PENDING / 3 test transactions (MAIL, RCPT, RSET each) in flight. */
#define MAX_PENDING 32
#define MAX_FLYING 10 /* tests in flight at once */

/* A reply owed: for which command, and for which transaction (NULL for
 * the greeting, EHLO, STARTTLS, QUIT). */
struct pend {
	enum cmd k;
	struct smtp_txn *t;
};

struct smtp_client {
	struct smtp_client_config cfg;
	char *helo_name;
	struct smtp_client_ops ops;
	void *arg;
	enum smtp_client_state state;
	struct smtp_reply_parser parser;

	struct pend pending[MAX_PENDING]; /* replies owed, oldest first */
	size_t npending;

	struct smtp_txn *queue_head, *queue_tail; /* not started */
	/* Started, not yet handed over, oldest first (linked by next). More
	 * than one only when pipelining. */
	struct smtp_txn *fly_head, *fly_tail;
	/* After the session ended: the transaction the server was on (whose
	 * reply was owed first), or NULL; the others in flight were only
	 * waiting in the pipeline and have not used an attempt. */
	struct smtp_txn *under_way;
	bool under_way_known;
	/* A refused RSET left the server's state unknown: answers to the
	 * transactions pipelined behind it are not trusted. */
	bool tainted;
	bool mail_accepted; /* a MAIL got a 2xx in this session */
	unsigned handed; /* tests handed over (finished) in this session */

	struct smtp_reply greeting;
	struct smtp_reply last;
	struct smtp_ehlo ehlo;
	struct smtp_ehlo ehlo_plain;
	bool have_ehlo_plain;
	bool tls_active;
	bool used_helo;
	bool pipelining;
	bool closed_reported;
	enum smtp_injection injection;
	unsigned long replies;
	bool idle_after_pop; /* the last reply was the only one owed */
	size_t unconsumed; /* bytes left in the current feed after a reply */
};

static const char *const state_names[] = {
	[SMTP_ST_GREETING] = "greeting",
	[SMTP_ST_EHLO] = "ehlo",
	[SMTP_ST_HELO] = "helo",
	[SMTP_ST_STARTTLS] = "starttls",
	[SMTP_ST_TLS_HANDSHAKE] = "tls-handshake",
	[SMTP_ST_INJECT_WAIT] = "inject-wait",
	[SMTP_ST_READY] = "ready",
	[SMTP_ST_TXN] = "transaction",
	[SMTP_ST_QUIT] = "quit",
	[SMTP_ST_DONE] = "done",
	[SMTP_ST_FAILED] = "failed",
};
_Static_assert(RP_ARRAY_LEN(state_names) == SMTP_ST_LAST,
	       "state_names must name every state");

static const char *const failure_names[] = {
	[SMTP_FAIL_NONE] = "none",
	[SMTP_FAIL_CONNECT] = "connect",
	[SMTP_FAIL_TIMEOUT] = "timeout",
	[SMTP_FAIL_REFUSED] = "refused",
	[SMTP_FAIL_CLOSING] = "service-closing",
	[SMTP_FAIL_DROPPED] = "dropped",
	[SMTP_FAIL_PROTOCOL] = "protocol-error",
	[SMTP_FAIL_TLS] = "tls-error",
	[SMTP_FAIL_INTERNAL] = "internal-error",
};
_Static_assert(RP_ARRAY_LEN(failure_names) == SMTP_FAIL_LAST,
	       "failure_names must name every failure");

const char *smtp_client_state_name(enum smtp_client_state s)
{
	return (unsigned)s < SMTP_ST_LAST ? state_names[s] : "?";
}

const char *smtp_failure_name(enum smtp_failure f)
{
	return (unsigned)f < SMTP_FAIL_LAST ? failure_names[f] : "?";
}

/* The only way the state changes. */
static void set_state(struct smtp_client *c, enum smtp_client_state s)
{
	c->state = s;
}

static void parser_line(void *arg, const char *line)
{
	struct smtp_client *c = arg;
	if (c->ops.line)
		c->ops.line(c->arg, 'S', line);
}

struct smtp_client *smtp_client_new(const struct smtp_client_config *cfg,
				    const struct smtp_client_ops *ops,
				    void *arg)
{
	struct smtp_client *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cfg = *cfg;
	c->helo_name = rp_strdup(cfg->helo_name ? cfg->helo_name : "localhost");
	c->ops = *ops;
	c->arg = arg;
	if (!c->helo_name ||
	    smtp_reply_parser_init(&c->parser, &cfg->limits) < 0) {
		free(c->helo_name);
		free(c);
		return NULL;
	}
	c->parser.on_line = parser_line;
	c->parser.on_line_arg = c;
	c->pending[c->npending++] = (struct pend){CMD_GREETING, NULL};
	set_state(c, SMTP_ST_GREETING);
	return c;
}

void smtp_txn_free(struct smtp_txn *t)
{
	if (!t)
		return;
	free(t->mail);
	free(t->rcpt);
	free(t->data);
	free(t->cmd);
	smtp_reply_clear(&t->mail_reply);
	smtp_reply_clear(&t->rcpt_reply);
	smtp_reply_clear(&t->data_reply);
	smtp_reply_clear(&t->eod_reply);
	free(t);
}

void smtp_client_free(struct smtp_client *c)
{
	if (!c)
		return;
	struct smtp_txn *t;
	while ((t = smtp_client_take_unfinished(c)))
		smtp_txn_free(t);
	smtp_reply_parser_cleanup(&c->parser);
	smtp_reply_clear(&c->greeting);
	smtp_reply_clear(&c->last);
	smtp_ehlo_clear(&c->ehlo);
	smtp_ehlo_clear(&c->ehlo_plain);
	free(c->helo_name);
	free(c);
}

static bool over(const struct smtp_client *c)
{
	return c->state == SMTP_ST_DONE || c->state == SMTP_ST_FAILED;
}

static void finish(struct smtp_client *c, enum smtp_failure f, const char *why)
{
	if (over(c))
		return;
	set_state(c, f == SMTP_FAIL_NONE ? SMTP_ST_DONE : SMTP_ST_FAILED);
	if (!c->under_way_known) {
		c->under_way_known = true;
		c->under_way = c->npending > 0 && c->pending[0].t
				   ? c->pending[0].t
				   : c->fly_head;
	}
	/* The server dropped a session that had finished tests: its budget
	 * ran out (Exim drops after 3 syntax errors, Postfix after 20
	 * errors), which is no fault of the test it was on. Blaming that one
	 * could use up its attempts while each session makes progress. */
	if ((f == SMTP_FAIL_DROPPED || f == SMTP_FAIL_CLOSING) && c->handed > 0)
		c->under_way = NULL;
	c->npending = 0;
	if (!c->closed_reported) {
		c->closed_reported = true;
		if (c->ops.closed)
			c->ops.closed(c->arg, f, why);
	}
}

/* Sends one command line and records which reply it is owed, for which
 * transaction (t, or NULL). */
static int send_cmdv(struct smtp_client *c, enum cmd k, struct smtp_txn *t,
		     const char *fmt, va_list ap) RP_PRINTF(4, 0);
static int send_cmdv(struct smtp_client *c, enum cmd k, struct smtp_txn *t,
		     const char *fmt, va_list ap)
{
	char line[2048];
	int n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2) {
		finish(c, SMTP_FAIL_INTERNAL, "command too long");
		return -1;
	}
	if (c->npending >= MAX_PENDING) {
		finish(c, SMTP_FAIL_INTERNAL, "too many commands in flight");
		return -1;
	}
	if (c->ops.line) {
		char shown[sizeof(line) * 4];
		rp_escape(line, (size_t)n, shown, sizeof(shown));
		c->ops.line(c->arg, 'C', shown);
	}
	line[n++] = '\r';
	line[n++] = '\n';
	c->pending[c->npending++] = (struct pend){k, t};
	if (c->ops.write(c->arg, line, (size_t)n) < 0) {
		finish(c, SMTP_FAIL_DROPPED, "cannot write to the connection");
		return -1;
	}
	return 0;
}

static int send_cmd(struct smtp_client *c, enum cmd k, const char *fmt, ...)
    RP_PRINTF(3, 4);
static int send_cmd(struct smtp_client *c, enum cmd k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = send_cmdv(c, k, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

/* A command of transaction t. */
static int send_tcmd(struct smtp_client *c, enum cmd k, struct smtp_txn *t,
		     const char *fmt, ...) RP_PRINTF(4, 5);
static int send_tcmd(struct smtp_client *c, enum cmd k, struct smtp_txn *t,
		     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = send_cmdv(c, k, t, fmt, ap);
	va_end(ap);
	return rc;
}

/* Sends the message dot-stuffed (RFC 5321 §4.5.2), then CRLF.CRLF. The
 * transcript shows a summary, not the body. */
static void send_message(struct smtp_client *c, struct smtp_txn *t,
			 const char *msg)
{
	size_t len = strlen(msg);
	size_t cap = len * 2 + 8;
	char *buf = malloc(cap);
	if (!buf) {
		finish(c, SMTP_FAIL_INTERNAL, "out of memory");
		return;
	}
	size_t o = 0;
	bool bol = true;
	for (size_t i = 0; i < len; i++) {
		if (bol && msg[i] == '.')
			buf[o++] = '.';
		buf[o++] = msg[i];
		bol = msg[i] == '\n';
	}
	if (!bol) {
		buf[o++] = '\r';
		buf[o++] = '\n';
	}
	memcpy(buf + o, ".\r\n", 3);
	o += 3;
	if (c->npending >= MAX_PENDING) {
		free(buf);
		finish(c, SMTP_FAIL_INTERNAL, "too many commands in flight");
		return;
	}
	if (c->ops.line) {
		char note[96];
		snprintf(note, sizeof(note), "(message, %zu bytes)", len);
		c->ops.line(c->arg, 'C', note);
		c->ops.line(c->arg, 'C', ".");
	}
	c->pending[c->npending++] = (struct pend){CMD_EOD, t};
	if (c->ops.write(c->arg, buf, o) < 0)
		finish(c, SMTP_FAIL_DROPPED, "cannot write to the connection");
	free(buf);
}

static void send_ehlo(struct smtp_client *c)
{
	set_state(c, SMTP_ST_EHLO);
	send_cmd(c, CMD_EHLO, "EHLO %s", c->helo_name);
}

static void start_next_txn(struct smtp_client *c);

static void become_ready(struct smtp_client *c, bool announce)
{
	set_state(c, SMTP_ST_READY);
	if (announce && c->ops.ready)
		c->ops.ready(c->arg);
	if (c->state == SMTP_ST_READY)
		start_next_txn(c);
}

static bool plain_txn(const struct smtp_txn *t)
{
	return !t->data && !t->cmd;
}

/* May the next queued transaction start now? Alone when nothing is in
 * flight. Behind others only with PIPELINING, and only a plain test
 * behind plain tests: RFC 2920 §3.1 lets MAIL, RCPT and RSET appear
 * anywhere in a group, while DATA waits for its RCPT answer and a single
 * command (VRFY, EXPN) must end a group. Sending a session's tests in one
 * group costs one round trip instead of one per test. */
static bool can_start(const struct smtp_client *c, const struct smtp_txn *t)
{
	if (!c->fly_head)
		return c->state == SMTP_ST_READY;
	size_t flying = 0;
	for (const struct smtp_txn *f = c->fly_head; f; f = f->next)
		flying++;
	/* Slow start: 3 tests (9 possible errors) until a MAIL is accepted;
	 * see smtp_client_config.mail_accepted_before. */
	bool open = c->mail_accepted || c->cfg.mail_accepted_before;
	return c->state == SMTP_ST_TXN && c->pipelining && !c->tainted &&
	       plain_txn(t) && plain_txn(c->fly_tail) &&
	       flying < (open ? MAX_FLYING : 3) &&
	       c->npending + 3 <= MAX_PENDING;
}

static void start_txn(struct smtp_client *c)
{
	struct smtp_txn *t = c->queue_head;
	c->queue_head = t->next;
	if (!c->queue_head)
		c->queue_tail = NULL;
	t->next = NULL;
	if (c->fly_tail)
		c->fly_tail->next = t;
	else
		c->fly_head = t;
	c->fly_tail = t;
	t->started = true;
	set_state(c, SMTP_ST_TXN);
	if (t->cmd) {
		send_tcmd(c, CMD_RAW, t, "%s", t->cmd);
		return;
	}
	if (send_tcmd(c, CMD_MAIL, t, "MAIL FROM:%s", t->mail) < 0)
		return;
	if (c->pipelining) {
		/* RFC 2920: MAIL, RCPT and RSET may share a group. DATA waits
		 * for the RCPT answer: a message goes only where accepted. */
		t->rcpt_sent = true;
		if (send_tcmd(c, CMD_RCPT, t, "RCPT TO:%s", t->rcpt) < 0)
			return;
		if (!t->data)
			send_tcmd(c, CMD_RSET, t, "RSET");
	}
}

static void start_next_txn(struct smtp_client *c)
{
	while (!over(c) && c->queue_head && can_start(c, c->queue_head))
		start_txn(c);
	if (c->state == SMTP_ST_READY && !c->fly_head && !c->queue_head &&
	    c->ops.idle)
		c->ops.idle(c->arg);
}

/* Takes t out of the in-flight list (it is there). */
static void unlink_flying(struct smtp_client *c, struct smtp_txn *t)
{
	struct smtp_txn **pp = &c->fly_head, *prev = NULL;
	while (*pp && *pp != t) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = t->next;
	if (c->fly_tail == t)
		c->fly_tail = prev;
	t->next = NULL;
}

static void hand_over(struct smtp_client *c, struct smtp_txn *t)
{
	unlink_flying(c, t);
	c->handed++;
	if (c->ops.txn_done)
		c->ops.txn_done(c->arg, t);
	else
		smtp_txn_free(t);
}

static void txn_complete(struct smtp_client *c, struct smtp_txn *t)
{
	unlink_flying(c, t);
	c->handed++;
	if (!c->fly_head && c->state == SMTP_ST_TXN)
		set_state(c, SMTP_ST_READY);
	if (c->ops.txn_done)
		c->ops.txn_done(c->arg, t);
	else
		smtp_txn_free(t);
	start_next_txn(c);
}

static void on_greeting(struct smtp_client *c, struct smtp_reply *r)
{
	smtp_reply_clear(&c->greeting);
	c->greeting = *r;
	memset(r, 0, sizeof(*r));
	if (c->greeting.code == 220) {
		send_ehlo(c);
		return;
	}
	/* RFC 5321 §3.1: after a 554 greeting the server waits for QUIT. */
	char why[128];
	snprintf(why, sizeof(why), "greeting was %d, not 220",
		 c->greeting.code);
	if (c->greeting.code != 421)
		send_cmd(c, CMD_QUIT, "QUIT");
	finish(c, SMTP_FAIL_REFUSED, why);
}

static void on_hello(struct smtp_client *c, enum cmd k, struct smtp_reply *r)
{
	if (r->code == 250) {
		struct smtp_ehlo caps;
		if (k == CMD_EHLO) {
			if (smtp_ehlo_parse(r, &caps) < 0) {
				finish(c, SMTP_FAIL_INTERNAL, "out of memory");
				return;
			}
		} else {
			memset(&caps, 0, sizeof(caps));
			char name[256];
			smtp_greeting_name(r, name, sizeof(name));
			caps.name = rp_strdup(name);
		}
		smtp_ehlo_clear(&c->ehlo);
		c->ehlo = caps;
		c->pipelining = caps.pipelining;
		if (!c->tls_active && caps.starttls &&
		    (c->cfg.tls == SMTP_TLS_OPPORTUNISTIC ||
		     c->cfg.tls == SMTP_TLS_REQUIRED)) {
			set_state(c, SMTP_ST_STARTTLS);
			if (c->cfg.inject_probe) {
				/* One write: STARTTLS, then a NOOP nobody
				 * should ever answer. */
				static const char both[] = "STARTTLS\r\nNOOP\r\n";
				if (c->ops.line) {
					c->ops.line(c->arg, 'C', "STARTTLS");
					c->ops.line(c->arg, 'C', "NOOP (sent with STARTTLS)");
				}
				c->pending[c->npending++] =
				    (struct pend){CMD_STARTTLS, NULL};
				if (c->ops.write(c->arg, both, sizeof(both) - 1) < 0)
					finish(c, SMTP_FAIL_DROPPED,
					       "cannot write to the connection");
				return;
			}
			send_cmd(c, CMD_STARTTLS, "STARTTLS");
			return;
		}
		if (!c->tls_active && c->cfg.tls == SMTP_TLS_REQUIRED) {
			finish(c, SMTP_FAIL_TLS,
			       "TLS required but the server does not offer "
			       "STARTTLS");
			return;
		}
		become_ready(c, true);
		return;
	}
	if (k == CMD_EHLO && r->code >= 500) {
		/* RFC 5321 §3.2: fall back to HELO. */
		c->used_helo = true;
		set_state(c, SMTP_ST_HELO);
		send_cmd(c, CMD_HELO, "HELO %s", c->helo_name);
		return;
	}
	char why[128];
	snprintf(why, sizeof(why), "%s refused with %d",
		 k == CMD_EHLO ? "EHLO" : "HELO", r->code);
	send_cmd(c, CMD_QUIT, "QUIT");
	finish(c, SMTP_FAIL_REFUSED, why);
}

static void on_starttls(struct smtp_client *c, struct smtp_reply *r)
{
	if (r->code == 220) {
		/* Bytes after the 220 would be read as if encrypted: the
		 * CVE-2011-0411 injection class. Refuse to upgrade. */
		if (c->unconsumed > 0 || smtp_reply_parser_busy(&c->parser)) {
			if (c->cfg.inject_probe)
				c->injection = SMTP_INJ_PLAINTEXT;
			finish(c, SMTP_FAIL_TLS,
			       "server sent data after its 220 reply to "
			       "STARTTLS; upgrade refused");
			return;
		}
		set_state(c, SMTP_ST_TLS_HANDSHAKE);
		if (c->ops.start_tls)
			c->ops.start_tls(c->arg);
		return;
	}
	if (c->cfg.tls == SMTP_TLS_REQUIRED) {
		char why[96];
		snprintf(why, sizeof(why), "STARTTLS refused with %d", r->code);
		send_cmd(c, CMD_QUIT, "QUIT");
		finish(c, SMTP_FAIL_TLS, why);
		return;
	}
	become_ready(c, true);
}

static void on_txn_reply(struct smtp_client *c, enum cmd k,
			 struct smtp_txn *t, struct smtp_reply *r)
{
	if (!t) {
		finish(c, SMTP_FAIL_PROTOCOL, "reply without a transaction");
		return;
	}
	switch (k) {
	case CMD_MAIL:
		t->mail_reply = *r;
		memset(r, 0, sizeof(*r));
		if (smtp_reply_ok(&t->mail_reply) && !c->mail_accepted) {
			c->mail_accepted = true;
			start_next_txn(c); /* the whole window opens */
		}
		if (!c->pipelining) {
			if (smtp_reply_ok(&t->mail_reply)) {
				t->rcpt_sent = true;
				send_tcmd(c, CMD_RCPT, t, "RCPT TO:%s", t->rcpt);
			} else {
				send_tcmd(c, CMD_RSET, t, "RSET");
			}
		}
		return;
	case CMD_RCPT:
		t->rcpt_reply = *r;
		memset(r, 0, sizeof(*r));
		if (t->data && smtp_reply_ok(&t->mail_reply) &&
		    smtp_reply_ok(&t->rcpt_reply))
			send_tcmd(c, CMD_DATA, t, "DATA");
		else if (!c->pipelining || t->data)
			send_tcmd(c, CMD_RSET, t, "RSET");
		return;
	case CMD_DATA:
		t->data_reply = *r;
		memset(r, 0, sizeof(*r));
		if (t->data_reply.code == 354)
			send_message(c, t, t->data);
		else
			send_tcmd(c, CMD_RSET, t, "RSET");
		return;
	case CMD_EOD:
		t->eod_reply = *r;
		memset(r, 0, sizeof(*r));
		send_tcmd(c, CMD_RSET, t, "RSET");
		return;
	case CMD_RAW:
		t->mail_reply = *r;
		memset(r, 0, sizeof(*r));
		txn_complete(c, t);
		return;
	case CMD_RSET:
		if (r->code != 250) {
			/* RFC 5321 §4.1.1.5 says RSET must succeed, but a
			 * server demanding STARTTLS answers 530 to it too.
			 * Either way this session cannot run another test
			 * cleanly: finish this one and leave politely; the
			 * queued ones, and any pipelined behind this one
			 * (their answers are not trusted now), go back to
			 * the caller. With pipelining, a refused RSET after
			 * an accepted RCPT more likely means the answers are
			 * out of step (a reply too many: the 250 we took for
			 * RCPT's was MAIL's); never report an acceptance
			 * from such a dialogue: that test goes back too. */
			c->tainted = true;
			bool behind = c->fly_head != t || t->next != NULL;
			bool untrusted =
			    c->pipelining && smtp_reply_ok(&t->rcpt_reply);
			if (untrusted) {
				c->under_way_known = true;
				c->under_way = t;
			} else {
				hand_over(c, t);
			}
			if (over(c))
				return;
			set_state(c, SMTP_ST_QUIT);
			if (send_cmd(c, CMD_QUIT, "QUIT") < 0 || !behind)
				return;
			/* Tests were pipelined behind it: their answers are
			 * not wanted, and a server refusing everything may
			 * make us wait for each (Postfix sleeps 1 s per error
			 * after its tenth, and "530 STARTTLS first" is an
			 * error): leave now. Those tests used no attempt. */
			if (!untrusted) {
				c->under_way_known = true;
				c->under_way = NULL;
			}
			finish(c, SMTP_FAIL_NONE, NULL);
			return;
		}
		txn_complete(c, t);
		return;
	case CMD_GREETING:
	case CMD_EHLO:
	case CMD_HELO:
	case CMD_STARTTLS:
	case CMD_QUIT:
		break;
	}
	finish(c, SMTP_FAIL_INTERNAL, "unexpected command kind");
}

static void on_reply(struct smtp_client *c, struct smtp_reply *r)
{
	c->replies++;
	smtp_reply_clear(&c->last);
	if (smtp_reply_copy(&c->last, r) < 0) {
		finish(c, SMTP_FAIL_INTERNAL, "out of memory");
		return;
	}
	if (c->npending == 0) {
		finish(c, SMTP_FAIL_PROTOCOL,
		       "server sent a reply nobody asked for");
		return;
	}
	enum cmd k = c->pending[0].k;
	struct smtp_txn *pt = c->pending[0].t;
	memmove(c->pending, c->pending + 1,
		(c->npending - 1) * sizeof(c->pending[0]));
	c->npending--;
	c->idle_after_pop = c->npending == 0;

	if (k == CMD_QUIT) {
		finish(c, SMTP_FAIL_NONE, NULL);
		return;
	}
	if (r->code == 421) {
		/* A test already answered (Postfix says 421 to the RSET after
		 * its error limit) is complete: hand it over, not back. */
		struct smtp_txn *t = pt;
		bool answered =
		    t && ((t->mail_reply.code && !smtp_reply_ok(&t->mail_reply)) ||
			  (t->rcpt_reply.code &&
			   (!t->data || !smtp_reply_ok(&t->rcpt_reply) ||
			    t->eod_reply.code ||
			    (t->data_reply.code && t->data_reply.code != 354))));
		/* The transaction the 421 answered was under way, unless
		 * already answered; those pipelined behind it were not. */
		c->under_way_known = true;
		c->under_way = answered ? NULL : t;
		if (answered)
			hand_over(c, t);
		char why[160];
		char *text = smtp_reply_text(r);
		snprintf(why, sizeof(why), "421 service closing: %.120s",
			 text ? text : "");
		free(text);
		finish(c, SMTP_FAIL_CLOSING, why);
		return;
	}
	switch (k) {
	case CMD_GREETING:
		on_greeting(c, r);
		return;
	case CMD_EHLO:
	case CMD_HELO:
		on_hello(c, k, r);
		return;
	case CMD_STARTTLS:
		on_starttls(c, r);
		return;
	case CMD_MAIL:
	case CMD_RCPT:
	case CMD_RSET:
	case CMD_DATA:
	case CMD_EOD:
	case CMD_RAW:
		if (c->tainted)
			return; /* stays unfinished: retried elsewhere */
		on_txn_reply(c, k, pt, r);
		return;
	case CMD_QUIT:
		return;
	}
}

/* Parses and drops complete replies (the answer to an injected NOOP). */
static void smtp_client_feed_discard(struct smtp_client *c, const char *data,
				     size_t len)
{
	while (len > 0) {
		struct smtp_reply r = {0};
		size_t used = 0;
		char err[128];
		enum smtp_parse_status st = smtp_reply_parser_feed(
		    &c->parser, data, len, &used, &r, err, sizeof(err));
		smtp_reply_clear(&r);
		if (st != SMTP_PARSE_REPLY)
			return;
		data += used;
		len -= used;
	}
}

void smtp_client_feed(struct smtp_client *c, const char *data, size_t len)
{
	while (len > 0 && !over(c)) {
		if (c->state == SMTP_ST_TLS_HANDSHAKE) {
			finish(c, SMTP_FAIL_TLS,
			       "server sent plaintext during the TLS upgrade");
			return;
		}
		if (c->state == SMTP_ST_INJECT_WAIT) {
			/* Anything now answers the NOOP sent in plaintext:
			 * the server executed injected input inside TLS. */
			c->injection = SMTP_INJ_IN_TLS;
			smtp_client_feed_discard(c, data, len);
			send_ehlo(c);
			return;
		}
		struct smtp_reply r = {0};
		size_t used = 0;
		char err[128];
		enum smtp_parse_status st = smtp_reply_parser_feed(
		    &c->parser, data, len, &used, &r, err, sizeof(err));
		if (st == SMTP_PARSE_ERROR) {
			finish(c, SMTP_FAIL_PROTOCOL, err);
			return;
		}
		if (st == SMTP_PARSE_MORE)
			return;
		data += used;
		len -= used;
		c->unconsumed = len;
		c->idle_after_pop = false;
		on_reply(c, &r);
		smtp_reply_clear(&r);
		c->unconsumed = 0;
		if (!over(c) && c->idle_after_pop && len > 0 &&
		    c->state != SMTP_ST_TLS_HANDSHAKE) {
			/* Nothing was owed, yet more came with that reply:
			 * the server talks out of turn (or replies before
			 * commands), and would desynchronise every answer. */
			finish(c, SMTP_FAIL_PROTOCOL,
			       "server sent data before it was asked (out of "
			       "turn)");
			return;
		}
	}
}

void smtp_client_tls_done(struct smtp_client *c, bool ok, const char *why)
{
	if (c->state != SMTP_ST_TLS_HANDSHAKE)
		return;
	if (!ok) {
		finish(c, SMTP_FAIL_TLS, why ? why : "TLS handshake failed");
		return;
	}
	c->tls_active = true;
	/* RFC 3207 §4.2: forget what was learnt before and say EHLO again. */
	smtp_ehlo_clear(&c->ehlo_plain);
	c->ehlo_plain = c->ehlo;
	c->have_ehlo_plain = true;
	memset(&c->ehlo, 0, sizeof(c->ehlo));
	c->pipelining = false;
	if (c->cfg.inject_probe) {
		/* Listen first: a reply now answers the injected NOOP. */
		c->injection = SMTP_INJ_SAFE;
		set_state(c, SMTP_ST_INJECT_WAIT);
		return;
	}
	send_ehlo(c);
}

void smtp_client_inject_timeout(struct smtp_client *c)
{
	if (c->state == SMTP_ST_INJECT_WAIT)
		send_ehlo(c);
}

enum smtp_injection smtp_client_injection(const struct smtp_client *c)
{
	return c->injection;
}

int smtp_client_add_cmd(struct smtp_client *c, const char *cmd, void *tag)
{
	if (over(c) || c->state == SMTP_ST_QUIT)
		return -1;
	struct smtp_txn *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->cmd = rp_strdup(cmd);
	t->mail = rp_strdup("");
	t->rcpt = rp_strdup("");
	t->tag = tag;
	if (!t->cmd || !t->mail || !t->rcpt) {
		smtp_txn_free(t);
		return -1;
	}
	if (c->queue_tail)
		c->queue_tail->next = t;
	else
		c->queue_head = t;
	c->queue_tail = t;
	if (c->state == SMTP_ST_READY || c->state == SMTP_ST_TXN)
		start_next_txn(c);
	return 0;
}

void smtp_client_set_tls_active(struct smtp_client *c)
{
	c->tls_active = true;
}

void smtp_client_eof(struct smtp_client *c)
{
	if (c->state == SMTP_ST_QUIT) {
		finish(c, SMTP_FAIL_NONE, NULL);
		return;
	}
	finish(c, SMTP_FAIL_DROPPED, "server closed the connection");
}

void smtp_client_fail(struct smtp_client *c, enum smtp_failure f,
		      const char *why)
{
	if (c->state == SMTP_ST_QUIT && f == SMTP_FAIL_TIMEOUT) {
		/* A server slow to answer QUIT has still done its work. */
		finish(c, SMTP_FAIL_NONE, NULL);
		return;
	}
	finish(c, f, why);
}

int smtp_client_add_txn(struct smtp_client *c, const char *mail,
			const char *rcpt, void *tag)
{
	return smtp_client_add_txn_data(c, mail, rcpt, NULL, tag);
}

int smtp_client_add_txn_data(struct smtp_client *c, const char *mail,
			     const char *rcpt, const char *message, void *tag)
{
	if (over(c) || c->state == SMTP_ST_QUIT)
		return -1;
	struct smtp_txn *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->mail = rp_strdup(mail);
	t->rcpt = rp_strdup(rcpt);
	t->data = message ? rp_strdup(message) : NULL;
	t->tag = tag;
	if (!t->mail || !t->rcpt || (message && !t->data)) {
		smtp_txn_free(t);
		return -1;
	}
	if (c->queue_tail)
		c->queue_tail->next = t;
	else
		c->queue_head = t;
	c->queue_tail = t;
	if (c->state == SMTP_ST_READY || c->state == SMTP_ST_TXN)
		start_next_txn(c);
	return 0;
}

void smtp_client_quit(struct smtp_client *c)
{
	if (over(c) || c->state == SMTP_ST_QUIT)
		return;
	if (c->state != SMTP_ST_READY) {
		/* Mid-handshake, or tests in flight: just stop; the adapter
		 * closes the socket. Tests in flight come back unfinished
		 * without using an attempt: the caller stopped them, not the
		 * server. */
		c->under_way_known = true;
		c->under_way = NULL;
		finish(c, SMTP_FAIL_NONE, NULL);
		return;
	}
	set_state(c, SMTP_ST_QUIT);
	send_cmd(c, CMD_QUIT, "QUIT");
}

struct smtp_txn *smtp_client_take_unfinished(struct smtp_client *c)
{
	struct smtp_txn *t = c->fly_head;
	if (t) {
		unlink_flying(c, t);
		/* Taken while the session is live (the caller gave up on it):
		 * its owed replies now belong to nobody, which the reply
		 * handler treats as a protocol error, never as t. */
		for (size_t i = 0; i < c->npending; i++)
			if (c->pending[i].t == t)
				c->pending[i].t = NULL;
		/* Only the one the server was on has used an attempt. */
		if (c->under_way_known && t != c->under_way)
			t->started = false;
		if (t == c->under_way)
			c->under_way = NULL;
	} else if ((t = c->queue_head)) {
		c->queue_head = t->next;
		if (!c->queue_head)
			c->queue_tail = NULL;
	} else {
		return NULL;
	}
	t->next = NULL;
	smtp_reply_clear(&t->mail_reply);
	smtp_reply_clear(&t->rcpt_reply);
	smtp_reply_clear(&t->data_reply);
	smtp_reply_clear(&t->eod_reply);
	t->rcpt_sent = false;
	/* started stays for the one under way: the caller counts attempts
	 * with it. */
	return t;
}

enum smtp_client_state smtp_client_state(const struct smtp_client *c)
{
	return c->state;
}

bool smtp_client_waiting(const struct smtp_client *c)
{
	return c->npending > 0 || c->state == SMTP_ST_TLS_HANDSHAKE ||
	       c->state == SMTP_ST_INJECT_WAIT;
}

bool smtp_client_tls_active(const struct smtp_client *c)
{
	return c->tls_active;
}

const struct smtp_reply *smtp_client_greeting(const struct smtp_client *c)
{
	return &c->greeting;
}

const struct smtp_ehlo *smtp_client_ehlo(const struct smtp_client *c)
{
	return &c->ehlo;
}

const struct smtp_ehlo *smtp_client_ehlo_plain(const struct smtp_client *c)
{
	return c->have_ehlo_plain ? &c->ehlo_plain : NULL;
}

bool smtp_client_used_helo(const struct smtp_client *c)
{
	return c->used_helo;
}

const struct smtp_reply *smtp_client_last_reply(const struct smtp_client *c)
{
	return c->last.code ? &c->last : NULL;
}

unsigned long smtp_client_replies(const struct smtp_client *c)
{
	return c->replies;
}
