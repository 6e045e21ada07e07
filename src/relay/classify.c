#include "relay/classify.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

static const char *const outcome_names[] = {
	[OUT_ACCEPTED] = "accepted",
	[OUT_REJECTED] = "rejected",
	[OUT_DEFERRED] = "deferred",
	[OUT_AUTH_REQUIRED] = "auth-required",
	[OUT_TLS_REQUIRED] = "tls-required",
	[OUT_ERROR] = "error",
	[OUT_SKIPPED] = "skipped",
};
_Static_assert(RP_ARRAY_LEN(outcome_names) == OUT_LAST, "outcome names");

static const char *const reason_names[] = {
	[R_NONE] = "none",
	[R_RELAY_DENIED] = "relay-denied",
	[R_UNKNOWN_USER] = "unknown-user",
	[R_BAD_DOMAIN] = "bad-recipient-domain",
	[R_SYNTAX] = "syntax",
	[R_SENDER_REJECTED] = "sender-rejected",
	[R_CLIENT_BLOCKED] = "client-blocked",
	[R_POLICY] = "policy",
	[R_GREYLISTED] = "greylisted",
	[R_TEMPORARY] = "temporary",
	[R_AUTH] = "auth-required",
	[R_TLS] = "tls-required",
	[R_CONNECTION] = "connection",
	[R_NOT_APPLICABLE] = "not-applicable",
};
_Static_assert(RP_ARRAY_LEN(reason_names) == R_LAST, "reason names");

const char *outcome_name(enum outcome o)
{
	return (unsigned)o < OUT_LAST ? outcome_names[o] : "?";
}

const char *reason_name(enum reason r)
{
	return (unsigned)r < R_LAST ? reason_names[r] : "?";
}

static bool any(const char *text, const char *const *needles)
{
	for (; *needles; needles++)
		if (rp_contains_nocase(text, *needles))
			return true;
	return false;
}

/* "relay" as a word: relay, relays, relayed, relaying, relaying's... but
 * not inside a name such as "relaytarget.test". */
static bool relay_word(const char *t)
{
	for (const char *p = t; *p; p++) {
		if (strncasecmp(p, "relay", 5) != 0)
			continue;
		if (p > t && isalnum((unsigned char)p[-1]))
			continue;
		const char *q = p + 5;
		if (!isalpha((unsigned char)*q) ||
		    strncasecmp(q, "ing", 3) == 0 || strncasecmp(q, "ed", 2) == 0 ||
		    ((*q == 's' || *q == 'S') && !isalnum((unsigned char)q[1])))
			return true;
	}
	return false;
}

/* Enhanced code "c.s.d" subject/detail match ignoring the class digit. */
static bool enh(const struct smtp_reply *r, const char *sd)
{
	return r->enhanced[0] && strcmp(r->enhanced + 2, sd) == 0;
}

static const char *const blocked_words[] = {
	"blocked using", "listed", "spamhaus", "dnsbl", "rbl",
	"blacklist", "blocklist", "client host rejected",
	"helo command rejected", "reverse hostname", "cannot find your",
	NULL};
static const char *const relay_words[] = {
	"rcpthosts", "not local", "non-local", NULL};
static const char *const grey_words[] = {"greylist", "graylist", NULL};
static const char *const tls_words[] = {"starttls", "tls", "encrypt", NULL};
static const char *const user_words[] = {
	"user unknown", "unknown user", "no such user", "not found in",
	"unknown in", "mailbox unavailable", "does not exist",
	"invalid recipient", "no mailbox", "unrouteable", NULL};
static const char *const domain_words[] = {
	"nullmx", "null mx", "does not accept mail", "domain not found",
	"unknown domain", "host not found", "recipient domain", NULL};
static const char *const syntax_words[] = {
	"syntax", "restricted characters", "malformed", "bad address",
	"invalid address", NULL};

void classify_reply(const struct smtp_reply *r, bool at_mail,
		    struct classification *out)
{
	out->at_mail = at_mail;
	out->reason = R_NONE;
	if (r->code == 0) {
		out->outcome = OUT_ERROR;
		out->reason = R_CONNECTION;
		return;
	}
	if (r->code >= 200 && r->code < 300) {
		out->outcome = OUT_ACCEPTED;
		return;
	}
	if (r->code >= 300 && r->code < 400) {
		/* No 3xx is a valid answer to MAIL or RCPT. */
		out->outcome = OUT_ERROR;
		out->reason = R_CONNECTION;
		return;
	}
	char *text = smtp_reply_text(r);
	/* Servers echo the address back ("<relaytest@x>: ..."); words inside
	 * angle brackets are the client's, not the server's reason. */
	if (text) {
		bool in = false;
		for (char *p = text; *p; p++) {
			if (*p == '<')
				in = true;
			if (in) {
				if (*p == '>')
					in = false;
				*p = ' ';
			}
		}
	}
	const char *t = text ? text : "";

	if (r->code == 530 || r->code == 538 || enh(r, "7.11")) {
		/* 530 is both RFC 4954's "authenticate" and RFC 3207's
		 * "STARTTLS first": the text tells them apart. */
		if (r->code == 538 || enh(r, "7.11") || any(t, tls_words)) {
			out->outcome = OUT_TLS_REQUIRED;
			out->reason = R_TLS;
		} else {
			out->outcome = OUT_AUTH_REQUIRED;
			out->reason = R_AUTH;
		}
		goto done;
	}
	if (r->code == 535 || enh(r, "7.0") || enh(r, "7.8")) {
		if (rp_contains_nocase(t, "auth")) {
			out->outcome = OUT_AUTH_REQUIRED;
			out->reason = R_AUTH;
			goto done;
		}
	}
	bool temp = r->code < 500;
	/* Greylisting is a temporary refusal: a 5xx that mentions it ("not
	 * greylisting, relay denied") is permanent and classified below. */
	if (temp && any(t, grey_words)) {
		out->outcome = OUT_DEFERRED;
		out->reason = R_GREYLISTED;
		goto done;
	}
	if (any(t, blocked_words)) {
		out->outcome = temp ? OUT_DEFERRED : OUT_REJECTED;
		out->reason = R_CLIENT_BLOCKED;
		goto done;
	}
	if (rp_contains_nocase(t, "sender address rejected") ||
	    enh(r, "1.7") || enh(r, "1.8") || enh(r, "7.27")) {
		/* Postfix delays sender checks to RCPT (smtpd_delay_reject). */
		out->outcome = temp ? OUT_DEFERRED : OUT_REJECTED;
		out->reason = R_SENDER_REJECTED;
		goto done;
	}
	if (r->code == 501 && !at_mail) {
		/* A syntax refusal, whatever words the address contains. */
		out->outcome = OUT_REJECTED;
		out->reason = R_SYNTAX;
		goto done;
	}
	if ((relay_word(t) || any(t, relay_words)) && !at_mail) {
		/* 454 4.7.1 "Relay access denied" (Postfix
		 * defer_unauth_destination) is a refusal, not a delay. */
		out->outcome = OUT_REJECTED;
		out->reason = R_RELAY_DENIED;
		goto done;
	}
	if (temp) {
		out->outcome = OUT_DEFERRED;
		out->reason = R_TEMPORARY;
		goto done;
	}
	out->outcome = OUT_REJECTED;
	if (at_mail) {
		out->reason = R_SENDER_REJECTED;
		goto done;
	}
	if (enh(r, "1.1") || any(t, user_words))
		out->reason = R_UNKNOWN_USER;
	else if (enh(r, "1.2") || enh(r, "1.10") || r->code == 556 ||
		 any(t, domain_words))
		out->reason = R_BAD_DOMAIN;
	else if (enh(r, "1.3") || enh(r, "5.2") || enh(r, "5.4") ||
		 r->code == 501 || r->code == 500 || any(t, syntax_words))
		out->reason = R_SYNTAX;
	else if (enh(r, "7.1"))
		out->reason = R_RELAY_DENIED;
	else if (rp_contains_nocase(t, "sender"))
		out->reason = R_SENDER_REJECTED;
	else
		out->reason = R_POLICY;
done:
	free(text);
}

void classify_txn(const struct smtp_reply *mail, const struct smtp_reply *rcpt,
		  struct classification *out)
{
	if (mail->code == 0 || !smtp_reply_ok(mail)) {
		classify_reply(mail, true, out);
		return;
	}
	classify_reply(rcpt, false, out);
}

bool reason_is_refusal(enum reason r, bool sender_trick)
{
	switch (r) {
	case R_RELAY_DENIED:
	case R_UNKNOWN_USER:
	case R_BAD_DOMAIN:
	case R_SYNTAX:
	case R_POLICY:
		return true;
	case R_SENDER_REJECTED:
		return sender_trick;
	case R_NONE:
	case R_CLIENT_BLOCKED:
	case R_GREYLISTED:
	case R_TEMPORARY:
	case R_AUTH:
	case R_TLS:
	case R_CONNECTION:
	case R_NOT_APPLICABLE:
	case R_LAST:
		return false;
	}
	return false;
}
