/*
 * smtp/receiver: the server side of relayprobe's built-in receiver, as a
 * state machine that does no I/O. It is fed one command line at a time
 * (CRLF removed) and answers with one reply. It accepts mail only for
 * recipients at its domain whose local part is a probe token the caller
 * is waiting for, only up to max_message bytes, and reports each complete
 * message's tokens. Everything else gets a refusal: it relays nothing and
 * keeps nothing but the tokens.
 *
 * Ownership: the caller owns the struct (recv_sm_init/recv_sm_cleanup).
 */
#ifndef RP_SMTP_RECEIVER_H
#define RP_SMTP_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "relay/probe_message.h"

#define RECV_MAX_RCPTS 16

enum recv_event {
	RECV_NONE,
	RECV_MESSAGE, /* a message was accepted: see tokens */
	RECV_CLOSE,   /* close the connection after the reply */
};

struct recv_sm {
	const char *domain;
	const char *hostname;
	/* Is a test waiting for this token? */
	bool (*want)(void *arg, const char *token);
	void *arg;
	size_t max_message;
	int state;
	char from[256];
	char tokens[RECV_MAX_RCPTS][PROBE_TOKEN_MAX];
	size_t ntokens;
	size_t msglen;
	bool too_big;
	int errors;
};

void recv_sm_init(struct recv_sm *sm, const char *domain, const char *hostname,
		  size_t max_message, bool (*want)(void *, const char *),
		  void *arg);
/* True while message lines are being read (they are not commands). */
bool recv_sm_in_data(const struct recv_sm *sm);
/* The 220 greeting. */
void recv_sm_greeting(const struct recv_sm *sm, char *reply, size_t sz);
/*
 * One line from the client. reply receives the answer to send ("" while
 * reading message lines). On RECV_MESSAGE, sm->tokens/ntokens hold the
 * message's tokens until the next call.
 */
enum recv_event recv_sm_line(struct recv_sm *sm, const char *line, size_t len,
			     char *reply, size_t sz);

#endif
