/*
 * smtp/ehlo: reads what a server says about itself: the name in its 220
 * greeting and the capabilities in its EHLO reply (RFC 5321 §4.1.1.1 and
 * the extension RFCs). Pure; works on parsed replies, whose text is already
 * escaped and bounded by smtp/reply.
 *
 * Ownership: struct smtp_ehlo owns its strings; smtp_ehlo_clear() frees.
 */
#ifndef RP_SMTP_EHLO_H
#define RP_SMTP_EHLO_H

#include <stdbool.h>
#include <stddef.h>

#include "smtp/reply.h"

struct smtp_ehlo {
	char *name;       /* first word of the first line (server's claim) */
	bool starttls;    /* RFC 3207 */
	bool pipelining;  /* RFC 2920 */
	bool eightbitmime;
	bool smtputf8;
	bool chunking;
	bool enhancedstatuscodes;
	bool dsn;
	bool has_size;
	unsigned long size; /* SIZE argument, 0 when none or unlimited */
	char *auth;         /* AUTH mechanisms as sent, or NULL */
	char **keywords;    /* every capability line after the first */
	size_t nkeywords;
};

/* Fills *out from a 250 EHLO reply. Returns 0, -1 on allocation failure. */
int smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ehlo *out);
void smtp_ehlo_clear(struct smtp_ehlo *e);

/*
 * Copies into out (size outsz) the first word of a greeting's text, which
 * RFC 5321 §4.2 says should be the server's name. Empty when none.
 */
void smtp_greeting_name(const struct smtp_reply *greeting, char *out,
			size_t outsz);

/* True if s is a syntactically valid host name: LDH labels of 1-63
 * characters, at least two labels, at most 253 characters, a top label
 * that is not all digits. "ESMTP", "localhost" and IP addresses fail. */
bool smtp_valid_hostname(const char *s);

#endif
