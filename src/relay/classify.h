/*
 * relay/classify: turns the server's replies to one test transaction
 * (MAIL FROM, RCPT TO) into an outcome and a reason class: a rung of the
 * evidence ladder in shared/reference/relay-techniques.md §c.
 *
 * Decisions rest on the reply code and the RFC 3463 enhanced code first,
 * and on well-known texts only where codes are ambiguous: 530 means either
 * "authenticate" or "STARTTLS first"; 454 4.7.1 "Relay access denied" is a
 * refusal dressed as a temporary error; a 5.7.1 may be a relay denial or a
 * blocklisted client. Pure; no allocation.
 */
#ifndef RP_RELAY_CLASSIFY_H
#define RP_RELAY_CLASSIFY_H

#include <stdbool.h>

#include "smtp/reply.h"

enum outcome {
	OUT_ACCEPTED,
	OUT_REJECTED,
	OUT_DEFERRED,
	OUT_AUTH_REQUIRED,
	OUT_TLS_REQUIRED,
	OUT_ERROR,
	OUT_SKIPPED,
	OUT_LAST
};

enum reason {
	R_NONE,
	R_RELAY_DENIED,     /* refused because it would be relaying */
	R_UNKNOWN_USER,     /* recipient mailbox unknown or invalid */
	R_BAD_DOMAIN,       /* recipient domain bad, unknown or null MX */
	R_SYNTAX,           /* address syntax refused */
	R_SENDER_REJECTED,  /* MAIL FROM refused */
	R_CLIENT_BLOCKED,   /* our address/HELO blocked (DNSBL, PTR, ...) */
	R_POLICY,           /* another permanent refusal of the recipient */
	R_GREYLISTED,
	R_TEMPORARY,        /* other 4xx */
	R_AUTH,             /* authentication required */
	R_TLS,              /* STARTTLS required */
	R_CONNECTION,       /* the session failed before an answer */
	R_NOT_APPLICABLE,   /* skipped: nothing to test with */
	R_LAST
};

struct classification {
	enum outcome outcome;
	enum reason reason;
	bool at_mail; /* decided by the MAIL FROM reply */
};

const char *outcome_name(enum outcome o);
const char *reason_name(enum reason r);

/* Classifies one refusal or acceptance reply at stage MAIL (at_mail) or
 * RCPT. */
void classify_reply(const struct smtp_reply *r, bool at_mail,
		    struct classification *out);

/*
 * Classifies a finished transaction: the MAIL reply decides unless it was
 * 2xx, then the RCPT reply (code 0 when never received: OUT_ERROR).
 */
void classify_txn(const struct smtp_reply *mail, const struct smtp_reply *rcpt,
		  struct classification *out);

/* True for reasons that count as "the server refused this technique". A
 * refused sender counts only when the sender was the trick. */
bool reason_is_refusal(enum reason r, bool sender_trick);

#endif
