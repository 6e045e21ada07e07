#include "config/cfg_report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cfg_id ids[] = {
    /* Postfix */
    {"mynetworks-open", "mynetworks trusts the whole internet (or a large part of it)"},
    {"mynetworks-trusts-client", "mynetworks trusts the client address given with --client"},
    {"mynetworks-public-range", "mynetworks trusts a wide public range"},
    {"mynetworks-private-range", "mynetworks trusts a whole private range (everything behind the NAT)"},
    {"mynetworks-style", "mynetworks comes from mynetworks_style subnet/class"},
    {"mynetworks-unverifiable", "mynetworks uses a table, file or host name that cannot be evaluated"},
    {"relay-permit", "a plain permit before reject_unauth_destination"},
    {"relay-sender-access", "check_sender_access grants OK before reject_unauth_destination: a forged sender relays"},
    {"relay-helo-access", "check_helo_access grants OK before reject_unauth_destination: a forged HELO relays"},
    {"relay-client-access", "check_client_access trusts clients before reject_unauth_destination"},
    {"relay-recipient-access", "check_recipient_access grants OK to outside domains before reject_unauth_destination"},
    {"relay-dns-access", "an access check on DNS data the sender controls grants OK before reject_unauth_destination"},
    {"relay-access-unverifiable", "an access table before reject_unauth_destination cannot be read"},
    {"relay-inet-interfaces", "permit_inet_interfaces trusts the client given with --client"},
    {"permit-mx-backup", "permit_mx_backup relays for any domain whose MX points here"},
    {"permit-any-client-cert", "permit_tls_all_clientcerts trusts any certificate a trusted CA signed"},
    {"no-relay-restriction", "no reject_unauth_destination in either restriction list"},
    {"relay-domains-too-broad", "relay_domains matches whole top-level domains"},
    {"untrusted-routing", "allow_untrusted_routing = yes forwards sender-routed addresses"},
    {"percent-hack", "allow_percent_hack rewrites user%domain@here"},
    {"bang-path", "swap_bangpath rewrites site!user"},
    {"auth-without-tls", "AUTH offered before TLS (smtpd_tls_auth_only = no)"},
    {"vrfy-enabled", "VRFY enabled"},
    {"version-disclosed", "software version in the SMTP banner"},
    /* Exim */
    {"exim-relay-from-hosts-open", "relay_from_hosts trusts the whole internet (or a large part of it)"},
    {"exim-relay-from-hosts-client", "relay_from_hosts trusts the client address given with --client"},
    {"exim-relay-from-hosts-broad", "relay_from_hosts trusts a wide public or a whole private range"},
    {"exim-accept-any-host", "acl_check_rcpt accepts any host before the relay deny"},
    {"exim-accept-client", "acl_check_rcpt accepts the client given with --client before the relay deny"},
    {"exim-accept-sender", "acl_check_rcpt accepts on the (forgeable) sender before the relay deny"},
    {"exim-accept-unconditional", "acl_check_rcpt accepts unconditionally before the relay deny"},
    {"exim-accept-unverifiable", "acl_check_rcpt accepts on a condition that cannot be evaluated before the relay deny"},
    {"exim-no-rcpt-acl", "no acl_smtp_rcpt: Exim refuses every recipient"},
    {"exim-percent-hack", "percent_hack_domains rewrites user%domain@here"},
};

const struct cfg_id *cfg_ids(size_t *n)
{
	*n = RP_ARRAY_LEN(ids);
	return ids;
}

const char *cfg_title(const char *id)
{
	for (size_t i = 0; i < RP_ARRAY_LEN(ids); i++)
		if (strcmp(ids[i].id, id) == 0)
			return ids[i].title;
	return id;
}

static int append_service(struct cfg_finding *f, const char *service)
{
	if (!service)
		return 0;
	if (!f->service) {
		f->service = rp_strdup(service);
		return f->service ? 0 : -1;
	}
	/* Already listed? (exact item in the comma list) */
	size_t sl = strlen(service);
	for (const char *p = f->service; p && *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		if (l == sl && strncmp(p, service, sl) == 0)
			return 0;
		p = c ? c + 1 : NULL;
	}
	char *n = rp_asprintf("%s,%s", f->service, service);
	if (!n)
		return -1;
	free(f->service);
	f->service = n;
	return 0;
}

int cfg_add(struct cfg_report *r, const char *id, enum severity sev,
	    enum cfg_effect eff, const char *file, int line,
	    const char *service, const char *evidence, const char *techniques,
	    const char *fix, const char *fmt, ...)
{
	for (size_t i = 0; i < r->n; i++) {
		struct cfg_finding *f = &r->v[i];
		if (strcmp(f->id, id) == 0 && f->line == line &&
		    strcmp(f->file ? f->file : "", file ? file : "") == 0)
			return append_service(f, service);
	}
	if (r->n >= 1000)
		return 0; /* a bound; hostile configs cannot grow it further */
	struct cfg_finding *nv = realloc(r->v, (r->n + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	r->v = nv;
	struct cfg_finding *f = &nv[r->n];
	memset(f, 0, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "%s", id);
	f->sev = sev;
	f->effect = eff;
	f->line = line;
	f->file = rp_strdup(file ? file : "");
	f->evidence = evidence ? rp_escape_dup(evidence, strlen(evidence))
			       : NULL;
	f->fix = fix ? rp_strdup(fix) : NULL;
	snprintf(f->techniques, sizeof(f->techniques), "%s",
		 techniques ? techniques : "");
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len >= 0 && (f->message = malloc((size_t)len + 1))) {
		va_start(ap, fmt);
		vsnprintf(f->message, (size_t)len + 1, fmt, ap);
		va_end(ap);
	}
	r->n++;
	if (!f->file || !f->message || (evidence && !f->evidence) ||
	    (fix && !f->fix))
		return -1;
	return append_service(f, service);
}

int cfg_add_service(struct cfg_report *r, const char *name)
{
	for (size_t i = 0; i < r->nsvc; i++)
		if (strcmp(r->svc[i].name, name) == 0)
			return 0;
	if (r->nsvc >= 10000)
		return 0;
	struct cfg_service *v = realloc(r->svc, (r->nsvc + 1) * sizeof(*v));
	if (!v)
		return -1;
	r->svc = v;
	v[r->nsvc].verdict = V_CLOSED;
	if (!(v[r->nsvc].name = rp_strdup(name)))
		return -1;
	r->nsvc++;
	return 0;
}

/* name is an item of the comma-separated list. */
static bool in_list(const char *list, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = list; p && *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		if (l == nl && strncmp(p, name, nl) == 0)
			return true;
		p = c ? c + 1 : NULL;
	}
	return false;
}

static void decide_services(struct cfg_report *r)
{
	for (size_t k = 0; k < r->nsvc; k++) {
		enum verdict v = V_CLOSED;
		for (size_t i = 0; i < r->n; i++) {
			const struct cfg_finding *f = &r->v[i];
			if (!f->service || !in_list(f->service, r->svc[k].name))
				continue;
			if (f->effect == CFG_RELAYS)
				v = V_OPEN;
			else if (f->effect == CFG_MAY_RELAY && v != V_OPEN)
				v = V_SUSPECT;
			else if (strcmp(f->id, "no-relay-restriction") == 0 &&
				 v == V_CLOSED)
				v = V_INCONCLUSIVE;
		}
		r->svc[k].verdict = v;
	}
}

int cfg_decide(struct cfg_report *r)
{
	decide_services(r);
	size_t relays = 0, may = 0;
	const char *first = NULL;
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].effect == CFG_RELAYS) {
			if (!relays)
				first = r->v[i].id;
			relays++;
		} else if (r->v[i].effect == CFG_MAY_RELAY) {
			may++;
		}
	}
	free(r->verdict_reason);
	if (relays) {
		r->verdict = V_OPEN;
		r->verdict_reason = rp_asprintf(
		    "an untrusted client can relay (%s%s)", first,
		    relays > 1 ? " and more" : "");
	} else if (may) {
		r->verdict = V_SUSPECT;
		r->verdict_reason = rp_strdup(
		    "relaying depends on tables or conditions that could not be "
		    "evaluated");
	} else if (r->verdict == V_INCONCLUSIVE) {
		r->verdict_reason = rp_strdup(
		    "the configuration could not be evaluated completely");
	} else {
		r->verdict = V_CLOSED;
		r->verdict_reason = rp_strdup(
		    "every path for an untrusted client reaches the relay "
		    "refusal first");
	}
	return r->verdict_reason ? 0 : -1;
}

void cfg_append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	if (cap == 0 || *len >= cap - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n < 0)
		buf[*len] = '\0';
	else if ((size_t)n >= cap - *len)
		*len = cap - 1;
	else
		*len += (size_t)n;
}

void cfg_report_free(struct cfg_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].file);
		free(r->v[i].service);
		free(r->v[i].evidence);
		free(r->v[i].message);
		free(r->v[i].fix);
	}
	free(r->v);
	for (size_t i = 0; i < r->nsvc; i++)
		free(r->svc[i].name);
	free(r->svc);
	free(r->files);
	free(r->verdict_reason);
	memset(r, 0, sizeof(*r));
}
