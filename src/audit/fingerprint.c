#include "audit/fingerprint.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

static const char *const names[] = {
	[MTA_UNKNOWN] = "unknown",       [MTA_POSTFIX] = "Postfix",
	[MTA_EXIM] = "Exim",             [MTA_SENDMAIL] = "Sendmail",
	[MTA_OPENSMTPD] = "OpenSMTPD",   [MTA_EXCHANGE] = "Microsoft Exchange",
	[MTA_QMAIL] = "qmail",           [MTA_HARAKA] = "Haraka",
	[MTA_ZIMBRA] = "Zimbra",         [MTA_COURIER] = "Courier",
	[MTA_HMAILSERVER] = "hMailServer", [MTA_MDAEMON] = "MDaemon",
};
_Static_assert(RP_ARRAY_LEN(names) == MTA_LAST, "mta names");

static const char *const ids[] = {
	[MTA_UNKNOWN] = "unknown",     [MTA_POSTFIX] = "postfix",
	[MTA_EXIM] = "exim",           [MTA_SENDMAIL] = "sendmail",
	[MTA_OPENSMTPD] = "opensmtpd", [MTA_EXCHANGE] = "exchange",
	[MTA_QMAIL] = "qmail",         [MTA_HARAKA] = "haraka",
	[MTA_ZIMBRA] = "zimbra",       [MTA_COURIER] = "courier",
	[MTA_HMAILSERVER] = "hmailserver", [MTA_MDAEMON] = "mdaemon",
};
_Static_assert(RP_ARRAY_LEN(ids) == MTA_LAST, "mta ids");

const char *mta_name(enum mta m)
{
	return (unsigned)m < MTA_LAST ? names[m] : "?";
}

const char *mta_id(enum mta m)
{
	return (unsigned)m < MTA_LAST ? ids[m] : "unknown";
}

/* Markers in order of specificity (Zimbra before Postfix: Zimbra's MTA is
 * Postfix and says so too). */
static const struct {
	enum mta mta;
	const char *marker;
} markers[] = {
	{MTA_ZIMBRA, "zimbra"},
	{MTA_HMAILSERVER, "hmailserver"},
	{MTA_MDAEMON, "mdaemon"},
	{MTA_EXCHANGE, "microsoft esmtp mail service"},
	{MTA_EXCHANGE, "microsoft exchange"},
	{MTA_EXCHANGE, "microsoft smtp server"},
	{MTA_OPENSMTPD, "opensmtpd"},
	{MTA_HARAKA, "haraka"},
	{MTA_COURIER, "courier"},
	{MTA_EXIM, "exim"},
	{MTA_SENDMAIL, "sendmail"},
	{MTA_POSTFIX, "postfix"},
	{MTA_QMAIL, "qmail"},
};

/* A version right after the marker ("Exim 4.96", "Sendmail 8.15.2/8.15.2",
 * "Postfix 3.7.11", "MDaemon 21.0.1", "Version: 15.1.2507.6"). */
static void version_after(const char *text, const char *at, size_t ml,
			  char *out, size_t outsz)
{
	const char *p = at + ml;
	while (*p == ' ' || *p == '/' || *p == ':' || *p == '(' || *p == 'v' ||
	       *p == 'V')
		p++;
	size_t n = 0;
	while ((isdigit((unsigned char)p[n]) || p[n] == '.') && n + 1 < outsz)
		n++;
	while (n && p[n - 1] == '.')
		n--;
	if (n && isdigit((unsigned char)p[0]) && memchr(p, '.', n)) {
		memcpy(out, p, n);
		out[n] = '\0';
		return;
	}
	/* Exchange: "Version: 15.1.2507.6" anywhere in the text. */
	const char *v = NULL;
	for (const char *q = text; *q; q++)
		if (strncasecmp(q, "version", 7) == 0) {
			v = q + 7;
			break;
		}
	if (v) {
		while (*v == ' ' || *v == ':')
			v++;
		n = 0;
		while ((isdigit((unsigned char)v[n]) || v[n] == '.') && n + 1 < outsz)
			n++;
		if (n && memchr(v, '.', n)) {
			memcpy(out, v, n);
			out[n] = '\0';
		}
	}
}

static const char *find_nocase(const char *h, const char *needle)
{
	size_t nl = strlen(needle);
	for (; *h; h++)
		if (strncasecmp(h, needle, nl) == 0)
			return h;
	return NULL;
}

void fingerprint_detect(const char *const *texts, const char *const *sources,
			size_t n, struct fingerprint *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		if (!texts[i])
			continue;
		for (size_t k = 0; k < RP_ARRAY_LEN(markers); k++) {
			const char *at = find_nocase(texts[i], markers[k].marker);
			if (!at)
				continue;
			out->mta = markers[k].mta;
			out->source = sources ? sources[i] : NULL;
			snprintf(out->evidence, sizeof(out->evidence), "%s",
				 texts[i]);
			version_after(texts[i], at, strlen(markers[k].marker),
				      out->version, sizeof(out->version));
			return;
		}
	}
	/* qmail's greeting is bare; its replies carry "(#5.x.y)" codes. */
	for (size_t i = 0; i < n; i++)
		if (texts[i] && strstr(texts[i], "(#5.") ) {
			out->mta = MTA_QMAIL;
			out->source = sources ? sources[i] : NULL;
			snprintf(out->evidence, sizeof(out->evidence), "%s",
				 texts[i]);
			return;
		}
}
