/*
 * relay/probe_message: the delivery probe. Every technique that a server
 * accepts can, when the user asks (--confirm, --send-to), continue through
 * DATA with a small message carrying a token unique to the run and the
 * technique: "rp" + 10 hex digits (the run) + "-" + the technique id in
 * lower case, e.g. "rp3f9a1c2b7e-t02". The token is the recipient's local
 * part in confirm mode, so the receiver can match it even when a relay
 * rewrites the address, and it is in the Subject and body too.
 *
 * Pure. Ownership: probe_message returns a heap string the caller frees.
 */
#ifndef RP_RELAY_PROBE_MESSAGE_H
#define RP_RELAY_PROBE_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define PROBE_TOKEN_MAX 48

/* run_id: 10 lowercase hex digits. Returns 0 or -1 (bad input/too small). */
int probe_token(const char *run_id, const char *technique_id, char *out,
		size_t outsz);
/* True if s is exactly a token. */
bool probe_token_valid(const char *s);
/* Finds the first token in text; copies it to out. */
bool probe_find_token(const char *text, size_t len, char *out, size_t outsz);

struct probe_message_params {
	const char *from;      /* envelope sender, without <> */
	const char *to;        /* envelope recipient, without <> */
	const char *token;
	const char *technique; /* id and name */
	const char *target;    /* server tested */
	const char *tester;    /* our EHLO name */
	time_t now;
};

/* The message: headers (Date, Message-ID, From, To, Subject, ...) and a
 * short body saying who sent it and why. CRLF line ends. NULL on error. */
char *probe_message(const struct probe_message_params *p);

#endif
