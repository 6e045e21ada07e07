/*
 * audit/advice: the catalogue of finding ids: a title for each, and the
 * remediation fitted to the detected MTA (the exact Postfix main.cf lines,
 * Exim configuration, Sendmail, OpenSMTPD smtpd.conf, Exchange steps),
 * falling back to a general fix. Constant data; pure.
 */
#ifndef RP_AUDIT_ADVICE_H
#define RP_AUDIT_ADVICE_H

#include <stddef.h>

#include "audit/fingerprint.h"

struct advice_entry {
	const char *id;
	const char *title;
	const char *general; /* fix when the MTA is unknown or has no entry */
	const char *postfix;
	const char *exim;
	const char *sendmail;
	const char *opensmtpd;
	const char *exchange;
};

/* The entry for a finding id, or NULL for an unknown id. */
const struct advice_entry *advice_find(const char *id);
/* The fix for this MTA (NULL when there is nothing to change). */
const char *advice_fix(const struct advice_entry *e, enum mta m);
/* Every entry, for the README/man page and tests. */
const struct advice_entry *advice_all(size_t *n);

#endif
