#include "audit/audit.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit/advice.h"
#include "audit/fingerprint.h"
#include "core/util.h"
#include "smtp/client.h"
#include "smtp/ehlo.h"

static void fingerprint(struct server_result *s)
{
	const char *texts[64];
	const char *srcs[64];
	size_t n = 0;
	char ehlo_first[300] = "";
	if (s->banner) {
		texts[n] = s->banner;
		srcs[n++] = "banner";
	}
	if (s->ehlo_name) {
		snprintf(ehlo_first, sizeof(ehlo_first), "%s", s->ehlo_name);
		texts[n] = ehlo_first;
		srcs[n++] = "ehlo";
	}
	for (size_t i = 0; i < s->nehlo && n < 40; i++) {
		texts[n] = s->ehlo[i];
		srcs[n++] = "ehlo";
	}
	const char *replies[] = {s->vrfy_reply, s->vrfy_random_reply,
				 s->expn_reply};
	for (size_t i = 0; i < RP_ARRAY_LEN(replies); i++)
		if (replies[i] && n < 64) {
			texts[n] = replies[i];
			srcs[n++] = "reply";
		}
	for (size_t i = 0; i < s->ntests && n < 64; i++)
		if (s->tests[i].reply.nlines) {
			texts[n] = s->tests[i].reply.lines[0];
			srcs[n++] = "reply";
		}
	struct fingerprint fp;
	fingerprint_detect(texts, srcs, n, &fp);
	s->mta = rp_strdup(mta_id(fp.mta));
	s->mta_name = rp_strdup(mta_name(fp.mta));
	s->mta_version = fp.version[0] ? rp_strdup(fp.version) : NULL;
	s->mta_evidence = fp.evidence[0] ? rp_strdup(fp.evidence) : NULL;
	if (fp.version[0] && fp.source && strcmp(fp.source, "reply") != 0)
		findings_add(&s->findings, "version-disclosed", SEV_WARNING,
			     "the %s reveals %s %s: \"%s\"", fp.source,
			     mta_name(fp.mta), fp.version, fp.evidence);
}

static enum mta mta_of(const struct server_result *s)
{
	for (int m = 0; m < MTA_LAST; m++)
		if (s->mta && strcmp(mta_id((enum mta)m), s->mta) == 0)
			return (enum mta)m;
	return MTA_UNKNOWN;
}

static bool has_mech(const char *mechs, const char *m)
{
	size_t l = strlen(m);
	for (const char *p = mechs; p && *p;) {
		while (*p == ' ')
			p++;
		if (strncasecmp(p, m, l) == 0 && (p[l] == ' ' || !p[l]))
			return true;
		p = strchr(p, ' ');
	}
	return false;
}

static void audit_findings(struct server_result *s)
{
	/* Banner name. */
	if (s->banner) {
		char name[256];
		size_t n = strcspn(s->banner, " ");
		snprintf(name, sizeof(name), "%.*s", (int)n, s->banner);
		if (!smtp_valid_hostname(name))
			findings_add(&s->findings, "banner-not-fqdn", SEV_INFO,
				     "the greeting's first word \"%s\" is not a "
				     "fully qualified host name", name);
	}
	/* VRFY: disclosure means it tells a real user from a made-up one. */
	/* VRFY is live when it verifies (250/251), or when its 252 turns
	 * into "unknown user" (550/551/553) for a made-up name (Postfix). A
	 * 252 for both, or a syntax refusal (501), tells nothing. */
	bool unknown = s->vrfy_random_code == 550 ||
		       s->vrfy_random_code == 551 || s->vrfy_random_code == 553;
	if (s->vrfy_code == 250 || s->vrfy_code == 251 ||
	    (s->vrfy_code == 252 && unknown))
		findings_add(&s->findings, "vrfy-enabled", SEV_WARNING,
			     "VRFY answers: postmaster -> \"%s\", a made-up "
			     "user -> \"%s\"%s",
			     s->vrfy_reply, s->vrfy_random_reply,
			     unknown ? ": it tells real users from others"
				     : "");
	if (s->expn_code == 250)
		findings_add(&s->findings, "expn-enabled", SEV_WARNING,
			     "EXPN postmaster -> \"%s\"", s->expn_reply);
	/* AUTH before TLS. */
	if (s->auth_plain) {
		bool clear = has_mech(s->auth_plain, "PLAIN") ||
			     has_mech(s->auth_plain, "LOGIN");
		if (clear)
			findings_add(&s->findings, "plaintext-auth-without-tls",
				     SEV_CRITICAL,
				     "AUTH %s is offered on an unencrypted "
				     "session: passwords can cross the network "
				     "in clear", s->auth_plain);
		else
			findings_add(&s->findings, "auth-without-tls",
				     SEV_WARNING,
				     "AUTH %s is offered before STARTTLS",
				     s->auth_plain);
	}
	/* STARTTLS. */
	if (!s->starttls_offered && !s->implicit_tls && s->banner)
		findings_add(&s->findings, "starttls-missing", SEV_WARNING,
			     "the server does not offer STARTTLS: mail to it "
			     "travels in clear");
	if (s->injection == SMTP_INJ_PLAINTEXT || s->injection == SMTP_INJ_IN_TLS)
		findings_add(&s->findings, "starttls-injection", SEV_CRITICAL,
			     "a NOOP sent in plaintext together with STARTTLS "
			     "was answered %s: an attacker can inject commands "
			     "into the encrypted session",
			     s->injection == SMTP_INJ_IN_TLS
				 ? "inside the TLS session"
				 : "in plaintext right after the 220");
	if (s->legacy_tls == 1)
		findings_add(&s->findings, "tls-legacy-protocols", SEV_WARNING,
			     "the server accepted a %s handshake",
			     s->legacy_tls_version ? s->legacy_tls_version
						   : "TLS 1.0/1.1");
	/* Certificate. */
	const struct tls_cert_facts *c = &s->cert;
	if (c->present) {
		if (c->expired)
			findings_add(&s->findings, "tls-cert-expired",
				     SEV_CRITICAL,
				     "the certificate (%s) expired %ld days ago",
				     c->subject, -c->days_left);
		else if (c->days_left < AUDIT_CERT_EXPIRING_DAYS)
			findings_add(&s->findings, "tls-cert-expiring",
				     SEV_WARNING,
				     "the certificate (%s) expires in %ld days "
				     "(threshold %d)", c->subject, c->days_left,
				     AUDIT_CERT_EXPIRING_DAYS);
		if (c->self_signed)
			findings_add(&s->findings, "tls-cert-self-signed",
				     SEV_WARNING,
				     "the certificate is self-signed (%s)",
				     c->subject);
		else if (!c->chain_ok && !c->expired)
			findings_add(&s->findings, "tls-cert-untrusted",
				     SEV_WARNING,
				     "the certificate chain does not verify: %s "
				     "(issuer %s)", c->verify_error, c->issuer);
		if (c->name_checked && !c->name_ok)
			findings_add(&s->findings, "tls-cert-name-mismatch",
				     SEV_WARNING,
				     "the certificate does not name %s (subject "
				     "%s, names: %s)", c->checked_name,
				     c->subject, c->sans[0] ? c->sans : "none");
	}
	/* Timings. */
	if (s->t_connect_ms > AUDIT_CONNECT_SLOW_MS)
		findings_add(&s->findings, "slow-transaction", SEV_INFO,
			     "TCP connect took %ld ms (threshold %d ms)",
			     s->t_connect_ms, AUDIT_CONNECT_SLOW_MS);
	if (s->t_greeting_ms > AUDIT_GREETING_SLOW_MS)
		findings_add(&s->findings, "greeting-slow", SEV_INFO,
			     "the greeting took %ld ms (threshold %d ms)",
			     s->t_greeting_ms, AUDIT_GREETING_SLOW_MS);
	if (s->t_ehlo_ms > AUDIT_EHLO_SLOW_MS)
		findings_add(&s->findings, "slow-transaction", SEV_INFO,
			     "EHLO took %ld ms (threshold %d ms)", s->t_ehlo_ms,
			     AUDIT_EHLO_SLOW_MS);
	if (s->t_txn_ms > AUDIT_TXN_SLOW_MS)
		findings_add(&s->findings, "slow-transaction", SEV_INFO,
			     "a MAIL/RCPT/RSET transaction took %ld ms "
			     "(threshold %d ms)", s->t_txn_ms, AUDIT_TXN_SLOW_MS);
}

void audit_server(struct server_result *s)
{
	if (s->verdict != V_UNREACHABLE && s->banner) {
		fingerprint(s);
		if (s->audited)
			audit_findings(s);
	}
	enum mta m = mta_of(s);
	for (size_t i = 0; i < s->findings.n; i++) {
		struct finding *f = &s->findings.v[i];
		const struct advice_entry *e = advice_find(f->id);
		if (!e)
			continue;
		f->title = e->title;
		f->fix = advice_fix(e, m);
	}
}
