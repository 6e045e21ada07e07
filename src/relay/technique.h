/*
 * relay/technique: the catalogue of open-relay test techniques (T01-T25 of
 * shared/reference/relay-techniques.md §a) and the three controls, as
 * constant data, plus the expansion of their address templates for one
 * server.
 *
 * Templates use placeholders: {from} (the external sender address),
 * {user} (its local part), {ext_user}/{ext_domain} (the external recipient's
 * parts), {target_host}, {target_domain}, {target_lit} (the server's address
 * literal: "[192.0.2.1]" or "[IPv6:2001:db8::1]"), {tester_host},
 * {mailbox} (the user's own mailbox, T25) and {rand} (random letters,
 * fresh per expansion).
 *
 * Ownership: the catalogue is static and read-only. Expanded strings are
 * written into caller buffers.
 */
#ifndef RP_RELAY_TECHNIQUE_H
#define RP_RELAY_TECHNIQUE_H

#include <stdbool.h>
#include <stddef.h>

/* Where the recipient ends up, as the server would read it. Decides which
 * control must fail for an acceptance to be conclusive. */
enum rcpt_kind {
	RCPT_EXTERNAL,   /* final domain is the external one */
	RCPT_OWN_ROUTED, /* ends in the server's own name or literal, or has
			    no domain: a routing trick in the local part */
	RCPT_MAILBOX,    /* the user's own mailbox (T25) */
	RCPT_CONTROL,    /* a control, not a technique */
};

enum helo_kind {
	HELO_TESTER, /* our own name (default) */
	HELO_TARGET, /* the server's own host name (T09) */
};

struct technique {
	const char *id;      /* stable: "T01" ... "T25", or a control id */
	const char *name;    /* short name */
	const char *catches; /* one line: the mistake it exposes */
	const char *mail;    /* MAIL FROM argument template */
	const char *rcpt;    /* RCPT TO argument template */
	enum helo_kind helo;
	enum rcpt_kind kind;
	bool sender_trick;   /* the sender is what is being tested, so a
				refused sender is a refused technique */
	bool needs_mailbox;  /* skipped unless the user named a mailbox */
};

/* Values substituted into templates. Any may be NULL/empty except where a
 * template needs it (then expansion fails). */
struct technique_vars {
	const char *from;
	const char *user;
	const char *ext_user;
	const char *ext_domain;
	const char *target_host;
	const char *target_domain;
	const char *target_lit;
	const char *tester_host;
	const char *mailbox;
};

/* The techniques, in catalogue order. */
const struct technique *technique_list(size_t *n);
/* Controls: "positive", "positive-bare", "impossible", "random-local". */
const struct technique *technique_controls(size_t *n);
const struct technique *technique_find(const char *id);

/*
 * Expands template tmpl into out. Returns 0, or -1 when the result does not
 * fit or a placeholder has no value (then out names the missing one).
 */
int technique_expand(const char *tmpl, const struct technique_vars *v,
		     char *out, size_t outsz);

/*
 * Address literal for an IP in RFC 5321 §4.1.3 form: "[192.0.2.1]" or
 * "[IPv6:2001:db8::1]". Returns 0, or -1 if ip is not an IP address.
 */
int technique_address_literal(const char *ip, char *out, size_t outsz);

/* Splits "local@domain" at the last '@'. Returns 0, or -1 if malformed. */
int technique_split_address(const char *addr, char *local, size_t localsz,
			    char *domain, size_t domainsz);

#endif
