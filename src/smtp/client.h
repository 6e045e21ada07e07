/*
 * smtp/client: the SMTP client as a state machine that does no I/O.
 *
 * The adapter (net/session) feeds it the bytes the server sent and gets
 * commands to send through ops->write. The machine runs the greeting, EHLO
 * (falling back to HELO), optional STARTTLS and re-EHLO, then a queue of
 * probe transactions: MAIL FROM, RCPT TO (only after a 2xx to MAIL unless
 * pipelining), then DATA and the message only for a transaction that
 * carries one (delivery proof, opt-in) and only after a 2xx to RCPT, then
 * RSET. It pipelines only when the server advertised PIPELINING: then a
 * test's MAIL, RCPT and RSET go in one group, and queued tests without a
 * message follow each other without waiting (up to 10 in flight; 3 until
 * the server has accepted a MAIL, see mail_accepted_before), so a
 * session's tests cost one or two round trips; DATA and single commands
 * wait for the answers before them. It ends with QUIT.
 *
 * Every transition goes through one set_state(); smtp_client_state_name()
 * names them for traces. 421 at any point, a dropped connection or a
 * protocol error ends the session; unfinished transactions can be taken
 * back with smtp_client_take_unfinished() and retried on a new session.
 * After a refused RSET the answers to tests pipelined behind it are not
 * trusted: they come back unfinished too.
 *
 * Ownership: the client owns queued transactions until it hands a finished
 * one to ops->txn_done (the receiver then owns it: smtp_txn_free). Callbacks
 * run inside smtp_client_feed/tls_done/eof/add_txn/quit; they may call
 * add_txn or quit but must not free the client (free it later, from the
 * event loop).
 */
#ifndef RP_SMTP_CLIENT_H
#define RP_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "smtp/ehlo.h"
#include "smtp/reply.h"

enum smtp_client_state {
	SMTP_ST_GREETING,
	SMTP_ST_EHLO,
	SMTP_ST_HELO,
	SMTP_ST_STARTTLS,
	SMTP_ST_TLS_HANDSHAKE,
	SMTP_ST_INJECT_WAIT, /* injection probe: listening after TLS */
	SMTP_ST_READY, /* idle: waiting for a transaction or QUIT */
	SMTP_ST_TXN,
	SMTP_ST_QUIT,
	SMTP_ST_DONE,
	SMTP_ST_FAILED,
	SMTP_ST_LAST
};

enum smtp_failure {
	SMTP_FAIL_NONE,
	SMTP_FAIL_CONNECT,  /* TCP connect failed (adapter) */
	SMTP_FAIL_TIMEOUT,  /* a phase timed out (adapter) */
	SMTP_FAIL_REFUSED,  /* greeting not 220, or EHLO and HELO refused */
	SMTP_FAIL_CLOSING,  /* 421 */
	SMTP_FAIL_DROPPED,  /* connection closed by the server */
	SMTP_FAIL_PROTOCOL, /* malformed or out-of-turn reply */
	SMTP_FAIL_TLS,      /* STARTTLS refused when required, handshake failed,
			       or plaintext after the 220 */
	SMTP_FAIL_INTERNAL, /* allocation failure */
	SMTP_FAIL_LAST
};

enum smtp_tls_policy {
	SMTP_TLS_NEVER,      /* plaintext only */
	SMTP_TLS_OPPORTUNISTIC, /* STARTTLS when offered */
	SMTP_TLS_REQUIRED,   /* STARTTLS or fail */
	SMTP_TLS_IMPLICIT,   /* adapter wraps TLS before the greeting */
};

struct smtp_txn {
	char *mail; /* argument after "MAIL FROM:", e.g. "<a@b>" */
	char *rcpt; /* argument after "RCPT TO:" */
	void *tag;  /* caller's */
	struct smtp_reply mail_reply;
	struct smtp_reply rcpt_reply; /* code 0 if RCPT was not sent */
	char *data;       /* message (CRLF lines, not dot-stuffed) or NULL */
	char *cmd;        /* a single command instead of MAIL/RCPT (VRFY,
			     EXPN); its reply goes to mail_reply */
	struct smtp_reply data_reply; /* reply to DATA (354 or refusal) */
	struct smtp_reply eod_reply;  /* reply after the final dot */
	bool rcpt_sent;
	bool started; /* MAIL FROM was sent; after take_unfinished: this was
			 the test the server was on when the session ended
			 (one attempt used), not one waiting behind it */
	struct smtp_txn *next;
};

struct smtp_client_ops {
	/* Bytes to send to the server. Returns 0, or -1 if it cannot. */
	int (*write)(void *arg, const char *data, size_t len);
	/* Greeting, EHLO/HELO and any STARTTLS are done. */
	void (*ready)(void *arg);
	/* The server said 220 to STARTTLS with nothing after it: start the
	 * handshake, then call smtp_client_tls_done(). */
	void (*start_tls)(void *arg);
	/* A transaction finished; the receiver owns t. */
	void (*txn_done)(void *arg, struct smtp_txn *t);
	/* Ready and the queue is empty: add work or quit. */
	void (*idle)(void *arg);
	/* The session is over (failure NONE after a clean QUIT). */
	void (*closed)(void *arg, enum smtp_failure f, const char *why);
	/* Transcript: dir 'C' (we sent) or 'S' (server), escaped line. */
	void (*line)(void *arg, char dir, const char *line);
};

struct smtp_client_config {
	const char *helo_name; /* EHLO/HELO argument */
	enum smtp_tls_policy tls;
	struct smtp_limits limits;
	/* STARTTLS injection probe (CVE-2011-0411 class): send "STARTTLS"
	 * and "NOOP" in one write; a reply to the NOOP, in plaintext after
	 * the 220 or inside TLS before we speak, convicts the server. After
	 * the handshake the adapter waits, then calls
	 * smtp_client_inject_timeout(). */
	bool inject_probe;
	/* Pipelining window. Until the server accepts a MAIL in this session
	 * at most 3 tests are in flight: a server refusing everything (530
	 * STARTTLS or AUTH first, a refused sender) answers each of their 9
	 * commands with an error, and Postfix sleeps 1 s before every error
	 * after its tenth. true: the caller has seen this server accept MAIL
	 * before, so the whole window is open from the start. */
	bool mail_accepted_before;
};

enum smtp_injection {
	SMTP_INJ_NOT_TESTED,
	SMTP_INJ_SAFE,       /* the NOOP was discarded */
	SMTP_INJ_PLAINTEXT,  /* answered right after the 220, in plaintext */
	SMTP_INJ_IN_TLS,     /* answered inside TLS: the classic bug */
};

struct smtp_client;

struct smtp_client *smtp_client_new(const struct smtp_client_config *cfg,
				    const struct smtp_client_ops *ops,
				    void *arg);
void smtp_client_free(struct smtp_client *c);

/* Input from the adapter. */
void smtp_client_feed(struct smtp_client *c, const char *data, size_t len);
void smtp_client_tls_done(struct smtp_client *c, bool ok, const char *why);
void smtp_client_eof(struct smtp_client *c);
/* The adapter's failure (connect, timeout); ends the session. */
void smtp_client_fail(struct smtp_client *c, enum smtp_failure f,
		      const char *why);
/* Marks the transport as already encrypted (implicit TLS). */
void smtp_client_set_tls_active(struct smtp_client *c);

/* Work from the caller. Strings are copied. Returns 0 or -1 (no memory,
 * or the session is over). */
int smtp_client_add_txn(struct smtp_client *c, const char *mail,
			const char *rcpt, void *tag);
/* Same, continuing through DATA with message (copied) when RCPT gets a
 * 2xx. */
int smtp_client_add_txn_data(struct smtp_client *c, const char *mail,
			     const char *rcpt, const char *message, void *tag);
void smtp_client_quit(struct smtp_client *c);
/* Queues a single command (e.g. "VRFY postmaster"); its reply arrives in
 * the transaction's mail_reply through txn_done. */
int smtp_client_add_cmd(struct smtp_client *c, const char *cmd, void *tag);
/* Injection probe: the wait after the handshake is over. */
void smtp_client_inject_timeout(struct smtp_client *c);
enum smtp_injection smtp_client_injection(const struct smtp_client *c);

/* Removes and returns one unfinished transaction (after a failure), or
 * NULL. The caller owns it. */
struct smtp_txn *smtp_client_take_unfinished(struct smtp_client *c);
void smtp_txn_free(struct smtp_txn *t);

/* Observers. */
enum smtp_client_state smtp_client_state(const struct smtp_client *c);
const char *smtp_client_state_name(enum smtp_client_state s);
const char *smtp_failure_name(enum smtp_failure f);
/* True while a reply is owed by the server (arm a timeout). */
bool smtp_client_waiting(const struct smtp_client *c);
bool smtp_client_tls_active(const struct smtp_client *c);
/* Complete replies received so far: progress, for timeouts that must not
 * be reset by a server dripping bytes. */
unsigned long smtp_client_replies(const struct smtp_client *c);
const struct smtp_reply *smtp_client_greeting(const struct smtp_client *c);
/* The final EHLO reply's capabilities (after TLS if TLS was used). */
const struct smtp_ehlo *smtp_client_ehlo(const struct smtp_client *c);
/* True if HELO was used because EHLO was refused. */
bool smtp_client_used_helo(const struct smtp_client *c);
/* The last reply received (for error reports), or NULL. */
const struct smtp_reply *smtp_client_last_reply(const struct smtp_client *c);
/* Plaintext EHLO capabilities before STARTTLS (NULL if TLS not used). */
const struct smtp_ehlo *smtp_client_ehlo_plain(const struct smtp_client *c);

#endif
