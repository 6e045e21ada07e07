/*
 * relay/verdict: decides one server's verdict from its test and control
 * results, marks which acceptances are conclusive, and adds findings.
 *
 *   open          at least one conclusive acceptance
 *   suspect       only inconclusive acceptances (relay, or catch-all /
 *                 black hole / late rejecter: delivery proof settles it)
 *   closed        every technique refused, and postmaster accepted
 *   inconclusive  deferred, auth required, sender or client refused, ...
 *   unreachable   no session could be held (decided by the caller)
 *
 * An acceptance of an external recipient is conclusive only if the
 * impossible-recipient control was refused; one of a routing form that ends
 * in the server's own domain only if the random-local-part control was
 * refused too.
 *
 * Ownership: test results own their strings (test_result_clear); findings
 * own their messages (findings_clear).
 */
#ifndef RP_RELAY_VERDICT_H
#define RP_RELAY_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"
#include "relay/classify.h"
#include "relay/technique.h"
#include "smtp/reply.h"

enum verdict {
	V_CLOSED,
	V_INCONCLUSIVE,
	V_SUSPECT,
	V_OPEN,
	V_UNREACHABLE,
	V_LAST
};

const char *verdict_name(enum verdict v);
/* Monitoring-plugin exit code: 0 closed, 1 suspect/inconclusive, 2 open,
 * 3 unreachable. */
int verdict_exit_code(enum verdict v);
/* The worse of two verdicts, for the overall verdict of several servers:
 * open > suspect > inconclusive > unreachable > closed. */
enum verdict verdict_worst(enum verdict a, enum verdict b);

/* How far a delivery probe got (relay-techniques.md §c, rungs E5-E7). */
enum delivery {
	DELIVERY_NOT_ATTEMPTED,
	DELIVERY_ACCEPTED_AT_DATA, /* 2xx after the final dot */
	DELIVERY_REJECTED_AT_DATA, /* DATA or end-of-data refused */
	DELIVERY_DELIVERED,        /* the token reached the receiver */
	DELIVERY_NOT_DELIVERED,    /* accepted, nothing arrived in time */
	DELIVERY_LAST
};
const char *delivery_name(enum delivery d);

struct test_result {
	const struct technique *t;
	char *mail_from; /* as sent */
	char *rcpt_to;
	char *helo;
	bool tls;
	struct classification c;
	bool conclusive;   /* for accepted: proves relaying */
	bool superseded;   /* a later attempt (over TLS, or a retry) replaced it */
	struct smtp_reply reply; /* the deciding reply; code 0 if none */
	char *note;        /* why skipped or errored, or NULL */
	enum delivery delivery;
	char token[48];    /* the probe's token, "" when no DATA */
	struct smtp_reply data_reply; /* deciding DATA/end-of-data reply */
	int session;       /* which session ran it (1-based), 0 if none */
};

void test_result_clear(struct test_result *r);

enum severity { SEV_INFO, SEV_WARNING, SEV_CRITICAL, SEV_LAST };
const char *severity_name(enum severity s);

struct finding {
	char id[40];
	enum severity sev;
	char *message;     /* what was seen: the evidence */
	const char *title; /* from audit/advice, set after the check */
	const char *fix;   /* remediation for the detected MTA, or NULL */
};

struct findings {
	struct finding *v;
	size_t n;
};

/* Appends a finding; returns 0 or -1 on allocation failure. */
int findings_add(struct findings *f, const char *id, enum severity sev,
		 const char *fmt, ...) RP_PRINTF(4, 5);
bool findings_has(const struct findings *f, const char *id);
void findings_clear(struct findings *f);

/*
 * Decides the verdict over the results that are not superseded, sets
 * `conclusive` on accepted tests, and appends findings (open-relay,
 * suspect-relay, catch-all, postmaster-refused, relay-deferred, ...).
 * *why receives a one-line explanation (heap; caller frees). Returns 0 or
 * -1 on allocation failure.
 */
/* confirmed: delivery proof was run (--confirm), so acceptances that were
 * refused at DATA or never arrived are not evidence of relaying, and a
 * delivered token is proof. */
int verdict_decide(struct test_result *tests, size_t ntests,
		   struct test_result *controls, size_t ncontrols,
		   bool confirmed, struct findings *f, enum verdict *out,
		   char **why);

#endif
