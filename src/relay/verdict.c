#include "relay/verdict.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const verdict_names[] = {
	[V_CLOSED] = "closed",
	[V_INCONCLUSIVE] = "inconclusive",
	[V_SUSPECT] = "suspect",
	[V_OPEN] = "open",
	[V_UNREACHABLE] = "unreachable",
};
_Static_assert(RP_ARRAY_LEN(verdict_names) == V_LAST, "verdict names");

static const char *const severity_names[] = {
	[SEV_INFO] = "info",
	[SEV_WARNING] = "warning",
	[SEV_CRITICAL] = "critical",
};
_Static_assert(RP_ARRAY_LEN(severity_names) == SEV_LAST, "severity names");

static const char *const delivery_names[] = {
	[DELIVERY_NOT_ATTEMPTED] = "not-attempted",
	[DELIVERY_ACCEPTED_AT_DATA] = "accepted-at-data",
	[DELIVERY_REJECTED_AT_DATA] = "rejected-at-data",
	[DELIVERY_DELIVERED] = "delivered",
	[DELIVERY_NOT_DELIVERED] = "not-delivered",
};
_Static_assert(RP_ARRAY_LEN(delivery_names) == DELIVERY_LAST, "delivery names");

const char *delivery_name(enum delivery d)
{
	return (unsigned)d < DELIVERY_LAST ? delivery_names[d] : "?";
}

const char *verdict_name(enum verdict v)
{
	return (unsigned)v < V_LAST ? verdict_names[v] : "?";
}

const char *severity_name(enum severity s)
{
	return (unsigned)s < SEV_LAST ? severity_names[s] : "?";
}

int verdict_exit_code(enum verdict v)
{
	switch (v) {
	case V_CLOSED:
		return 0;
	case V_INCONCLUSIVE:
	case V_SUSPECT:
		return 1;
	case V_OPEN:
		return 2;
	case V_UNREACHABLE:
	case V_LAST:
		return 3;
	}
	return 3;
}

static int verdict_rank(enum verdict v)
{
	switch (v) {
	case V_CLOSED:
		return 0;
	case V_UNREACHABLE:
		return 1;
	case V_INCONCLUSIVE:
		return 2;
	case V_SUSPECT:
		return 3;
	case V_OPEN:
		return 4;
	case V_LAST:
		break;
	}
	return 1;
}

enum verdict verdict_worst(enum verdict a, enum verdict b)
{
	return verdict_rank(a) >= verdict_rank(b) ? a : b;
}

void test_result_clear(struct test_result *r)
{
	free(r->mail_from);
	free(r->rcpt_to);
	free(r->helo);
	free(r->note);
	smtp_reply_clear(&r->reply);
	smtp_reply_clear(&r->data_reply);
	memset(r, 0, sizeof(*r));
}

int findings_add(struct findings *f, const char *id, enum severity sev,
		 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	char *msg = malloc((size_t)n + 1);
	if (!msg)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	struct finding *nv = realloc(f->v, (f->n + 1) * sizeof(*nv));
	if (!nv) {
		free(msg);
		return -1;
	}
	f->v = nv;
	snprintf(f->v[f->n].id, sizeof(f->v[f->n].id), "%s", id);
	f->v[f->n].sev = sev;
	f->v[f->n].message = msg;
	f->v[f->n].title = NULL;
	f->v[f->n].fix = NULL;
	f->n++;
	return 0;
}

bool findings_has(const struct findings *f, const char *id)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].id, id) == 0)
			return true;
	return false;
}

void findings_clear(struct findings *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].message);
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

/* The effective (not superseded) result of a control, or NULL. */
static const struct test_result *control(const struct test_result *c, size_t n,
					 const char *id)
{
	const struct test_result *found = NULL;
	for (size_t i = 0; i < n; i++)
		if (!c[i].superseded && strcmp(c[i].t->id, id) == 0)
			found = &c[i];
	return found;
}

static bool accepted(const struct test_result *r)
{
	return r && r->c.outcome == OUT_ACCEPTED;
}

/* The control ran and the server said no (any refusal or deferral). */
static bool refused(const struct test_result *r)
{
	return r && (r->c.outcome == OUT_REJECTED ||
		     r->c.outcome == OUT_DEFERRED);
}

/* Appends "ID" to a comma-separated list in buf. */
static void list_add(char *buf, size_t sz, const char *id)
{
	size_t l = strlen(buf);
	snprintf(buf + l, sz - l, "%s%s", l ? ", " : "", id);
}

int verdict_decide(struct test_result *tests, size_t ntests,
		   struct test_result *controls, size_t ncontrols,
		   bool confirmed, struct findings *f, enum verdict *out,
		   char **why)
{
	const struct test_result *imp = control(controls, ncontrols, "impossible");
	const struct test_result *loc = control(controls, ncontrols, "random-local");
	const struct test_result *pos = control(controls, ncontrols, "positive");
	const struct test_result *posb = control(controls, ncontrols, "positive-bare");
	bool imp_refused = refused(imp);
	bool loc_refused = refused(loc);
	bool positive_ok = accepted(pos) || accepted(posb);

	char conclusive_ids[512] = "", inconclusive_ids[512] = "";
	char deferred_ids[512] = "", relay454_ids[256] = "";
	char delivered_ids[512] = "", refused_data_ids[512] = "";
	size_t n_delivered = 0;
	size_t n_acc = 0, n_conc = 0, n_refused = 0, n_tested = 0;
	size_t n_deferred = 0, n_auth = 0, n_tls = 0, n_error = 0;
	size_t n_sender = 0, n_blocked = 0;

	for (size_t i = 0; i < ntests; i++) {
		struct test_result *r = &tests[i];
		if (r->superseded)
			continue;
		r->conclusive = false;
		if (r->c.outcome == OUT_SKIPPED)
			continue;
		n_tested++;
		switch (r->c.outcome) {
		case OUT_ACCEPTED:
			if (r->delivery == DELIVERY_DELIVERED) {
				/* The token arrived: proof, whatever the
				 * controls say. */
				r->conclusive = true;
				n_delivered++;
				n_conc++;
				list_add(delivered_ids, sizeof(delivered_ids),
					 r->t->id);
				break;
			}
			if (confirmed &&
			    (r->delivery == DELIVERY_REJECTED_AT_DATA ||
			     r->delivery == DELIVERY_NOT_DELIVERED)) {
				/* Accepted at RCPT, then refused or dropped:
				 * not relaying (catch-all, late rejecter). */
				n_refused++;
				list_add(refused_data_ids,
					 sizeof(refused_data_ids), r->t->id);
				break;
			}
			n_acc++;
			if (r->t->kind == RCPT_OWN_ROUTED)
				r->conclusive = imp_refused && loc_refused;
			else
				r->conclusive = imp_refused;
			if (r->conclusive) {
				n_conc++;
				list_add(conclusive_ids, sizeof(conclusive_ids),
					 r->t->id);
			} else {
				list_add(inconclusive_ids,
					 sizeof(inconclusive_ids), r->t->id);
			}
			break;
		case OUT_REJECTED:
			if (reason_is_refusal(r->c.reason, r->t->sender_trick))
				n_refused++;
			else if (r->c.reason == R_CLIENT_BLOCKED)
				n_blocked++;
			else
				n_sender++;
			if (r->c.reason == R_RELAY_DENIED &&
			    r->reply.code >= 400 && r->reply.code < 500)
				list_add(relay454_ids, sizeof(relay454_ids),
					 r->t->id);
			break;
		case OUT_DEFERRED:
			if (r->c.reason == R_CLIENT_BLOCKED)
				n_blocked++;
			else if (r->c.reason == R_SENDER_REJECTED)
				n_sender++;
			else {
				n_deferred++;
				list_add(deferred_ids, sizeof(deferred_ids),
					 r->t->id);
			}
			break;
		case OUT_AUTH_REQUIRED:
			n_auth++;
			break;
		case OUT_TLS_REQUIRED:
			n_tls++;
			break;
		case OUT_ERROR:
			n_error++;
			break;
		case OUT_SKIPPED:
		case OUT_LAST:
			break;
		}
	}

	int rc = 0;
	if (accepted(imp))
		rc |= findings_add(f, "catch-all", SEV_WARNING,
				   "accepts mail for a domain that cannot exist "
				   "(%s): acceptances prove nothing without "
				   "delivery", imp->rcpt_to);
	if (!positive_ok && (pos || posb) && (refused(pos) || refused(posb)))
		rc |= findings_add(f, "postmaster-refused", SEV_WARNING,
				   "postmaster was refused (RFC 5321 §4.5.1 "
				   "requires it); the refusals may not be relay "
				   "decisions, or the target domain is wrong "
				   "(set --domain)");
	if (relay454_ids[0])
		rc |= findings_add(f, "relay-deferred", SEV_INFO,
				   "relaying is refused with a temporary 4xx "
				   "code (%s): senders will retry for days; "
				   "reject_unauth_destination answers 5xx",
				   relay454_ids);

	if (refused_data_ids[0])
		rc |= findings_add(f, "not-delivered", SEV_INFO,
				   "accepted at RCPT but refused at DATA or "
				   "never delivered: %s", refused_data_ids);
	if (n_delivered > 0) {
		*out = V_OPEN;
		rc |= findings_add(f, "open-relay", SEV_CRITICAL,
				   "open relay, proven: the probe sent with %s "
				   "was delivered to the receiver",
				   delivered_ids);
		*why = rp_asprintf("relayed probes were delivered (%s)",
				   delivered_ids);
	} else if (n_conc > 0) {
		*out = V_OPEN;
		rc |= findings_add(f, "open-relay", SEV_CRITICAL,
				   "open relay: the server accepted relaying "
				   "with %s, while refusing a recipient at a "
				   "domain that cannot exist", conclusive_ids);
		*why = rp_asprintf("relaying accepted (%s) and the controls "
				   "rule out a catch-all", conclusive_ids);
	} else if (n_acc > 0) {
		*out = V_SUSPECT;
		rc |= findings_add(f, "suspect-relay", SEV_WARNING,
				   "accepted at RCPT: %s; the controls show it "
				   "would accept any recipient there%s, so it "
				   "is a relay or a catch-all / black hole / "
				   "late rejecter; delivery proof (--confirm) "
				   "settles it",
				   inconclusive_ids,
				   imp_refused ? " (any local part at its own "
						 "domain: these routing forms "
						 "may be local mail)"
					       : "");
		*why = rp_asprintf("accepted %s, but the controls show it "
				   "accepts any recipient there",
				   inconclusive_ids);
	} else if (n_tested > 0 && n_refused == n_tested && positive_ok) {
		*out = V_CLOSED;
		if (refused_data_ids[0])
			*why = rp_asprintf("nothing was delivered: every "
					   "technique refused at RCPT or DATA, "
					   "or accepted and dropped (%s)",
					   refused_data_ids);
		else
			*why = rp_asprintf("all %zu techniques refused; "
					   "postmaster accepted", n_tested);
	} else {
		*out = V_INCONCLUSIVE;
		if (n_tested == 0)
			*why = rp_asprintf("no technique could be tested");
		else if (n_tls)
			*why = rp_asprintf("%zu techniques need TLS that could "
					   "not be used", n_tls);
		else if (n_auth)
			*why = rp_asprintf("authentication required before "
					   "anything could be tested (%zu "
					   "techniques)", n_auth);
		else if (n_blocked)
			*why = rp_asprintf("the server refused this client "
					   "itself (%zu techniques): relaying "
					   "untested from here", n_blocked);
		else if (n_deferred)
			*why = rp_asprintf("%zu techniques deferred (%s): "
					   "greylisting or a temporary policy; "
					   "retry with --retry-deferred",
					   n_deferred, deferred_ids);
		else if (n_sender)
			*why = rp_asprintf("the test sender was refused (%zu "
					   "techniques): relaying untested; try "
					   "--from", n_sender);
		else if (n_error)
			*why = rp_asprintf("%zu techniques ended in errors",
					   n_error);
		else if (!positive_ok)
			*why = rp_asprintf("every technique refused, but so "
					   "was postmaster: the refusals prove "
					   "nothing (set --domain?)");
		else
			*why = rp_asprintf("not every technique was refused");
	}
	if (!*why)
		rc = -1;
	return rc ? -1 : 0;
}
