/*
 * audit/fingerprint: which MTA a server runs, and its version where shown,
 * from what it says: the greeting, the EHLO reply and other reply texts.
 * Pure. The result selects the remediation advice (audit/advice).
 */
#ifndef RP_AUDIT_FINGERPRINT_H
#define RP_AUDIT_FINGERPRINT_H

#include <stddef.h>

enum mta {
	MTA_UNKNOWN,
	MTA_POSTFIX,
	MTA_EXIM,
	MTA_SENDMAIL,
	MTA_OPENSMTPD,
	MTA_EXCHANGE,
	MTA_QMAIL,
	MTA_HARAKA,
	MTA_ZIMBRA,
	MTA_COURIER,
	MTA_HMAILSERVER,
	MTA_MDAEMON,
	MTA_LAST
};

const char *mta_name(enum mta m);
/* Stable id for JSON: "postfix", "exim", ... "unknown". */
const char *mta_id(enum mta m);

struct fingerprint {
	enum mta mta;
	char version[64];   /* "4.96", "3.7.11", or "" when not shown */
	char evidence[256]; /* the text that gave it away */
	const char *source; /* "banner", "ehlo", "reply" or NULL */
};

/* texts: the greeting's text, then EHLO lines, then other replies, in
 * that order of trust. */
void fingerprint_detect(const char *const *texts, const char *const *sources,
			size_t n, struct fingerprint *out);

#endif
