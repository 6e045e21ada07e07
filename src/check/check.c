#include "check/check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "audit/audit.h"
#include "check/blocklist.h"
#include "check/reputation.h"
#include "check/server.h"
#include "check/vantage.h"
#include "dns/dnsbl.h"
#include "dns/mx.h"
#include "dns/rdns.h"
#include "core/util.h"
#include "dns/resolver.h"
#include "net/target.h"
#include "net/tls.h"


/* Tokens kept for --confirm (they can arrive before their test records its
 * 250 after the dot): a ring, so a long-running serve stays bounded. */
#define ARRIVED_MAX 4096

struct check_engine {
	struct event_base *base;
	const struct check_config *cfg;
	SSL_CTX *ctx;
	SSL_CTX *legacy_ctx;
	struct dns_resolver *dns; /* created on first need */
	bool dns_failed;
	char dns_err[256];
	struct dnsbl_zones zones;
	struct bl_run *bl;
	struct receiver *rcv; /* --confirm */
	char (*arrived)[48];
	size_t narrived, arrived_next;
	check_addr_filter filter;
	void *filter_arg;
	struct check_job *jobs; /* live jobs, a doubly linked list */
};

struct check_job {
	struct check_engine *e;
	struct check_job *prev, *next;
	struct target t;
	bool mx_lookup; /* a domain: test its MX hosts */
	struct check_config cfg; /* per job: implicit TLS on 465, observer */
	struct check_observer obs;
	bool has_obs;
	struct check_result *res;
	struct server_check **checks;
	bool *checks_done;
	size_t nchecks;
	size_t outstanding; /* server checks + DNS queries + start guard */
	bool waiting;       /* tests done, waiting for --confirm tokens */
	bool cancelled;
	bool finishing;
	struct event *wait_timer;
	struct event *fin; /* finishes the job outside any callback */
	check_job_done done;
	void *arg;
	char *domain_copy; /* the target domain for MX targets */
};

static void job_free(struct check_job *j);

/* ---------- delivery proof ---------- */

static bool token_arrived(const struct check_engine *e, const char *token)
{
	for (size_t a = 0; a < e->narrived; a++)
		if (strcmp(e->arrived[a], token) == 0)
			return true;
	return false;
}

/* Probes accepted at DATA whose token has not arrived yet. */
static size_t tokens_pending(const struct check_job *j)
{
	size_t n = 0;
	const struct check_result *r = j->res;
	for (size_t k = 0; r && k < r->nservers; k++)
		for (size_t i = 0; i < r->servers[k].ntests; i++) {
			const struct test_result *t = &r->servers[k].tests[i];
			if (t->delivery == DELIVERY_ACCEPTED_AT_DATA &&
			    !token_arrived(j->e, t->token))
				n++;
		}
	return n;
}

static void job_finish_soon(struct check_job *j)
{
	if (j->finishing)
		return;
	j->finishing = true;
	event_active(j->fin, EV_TIMEOUT, 0);
}

static void finish_one(struct check_job *j)
{
	if (j->outstanding == 0 || --j->outstanding > 0 || j->cancelled)
		goto cancelled;
	if (j->e->rcv && !j->waiting && tokens_pending(j) > 0) {
		/* Relays deliver later: wait for the tokens, or the limit. */
		j->waiting = true;
		struct timeval tv = {j->cfg.confirm_wait_s, 0};
		evtimer_add(j->wait_timer, &tv);
		return;
	}
	job_finish_soon(j);
	return;
cancelled:
	/* A cancelled job lingers only until its DNS queries come back. */
	if (j->cancelled && j->outstanding == 0)
		job_finish_soon(j);
}

static void on_wait_over(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	job_finish_soon(arg);
}

static void on_token(void *arg, const char *token, const char *peer)
{
	struct check_engine *e = arg;
	/* An inline relay can deliver before it answers our final dot: keep
	 * every token, and match them again when the job ends. */
	snprintf(e->arrived[e->arrived_next], 48, "%s", token);
	e->arrived_next = (e->arrived_next + 1) % ARRIVED_MAX;
	if (e->narrived < ARRIVED_MAX)
		e->narrived++;
	for (struct check_job *j = e->jobs; j; j = j->next) {
		struct check_result *r = j->res;
		for (size_t k = 0; r && k < r->nservers; k++) {
			struct server_result *sr = &r->servers[k];
			for (size_t i = 0; i < sr->ntests; i++) {
				struct test_result *t = &sr->tests[i];
				if (strcmp(t->token, token) != 0)
					continue;
				t->delivery = DELIVERY_DELIVERED;
				free(t->note);
				t->note = rp_asprintf("delivered to the receiver "
						      "by %s", peer);
			}
		}
		if (j->waiting && !j->cancelled && tokens_pending(j) == 0)
			job_finish_soon(j);
	}
}

static void server_done(void *arg, struct server_check *sc)
{
	struct check_job *j = arg;
	for (size_t i = 0; i < j->nchecks; i++)
		if (j->checks[i] == sc) {
			j->checks_done[i] = true;
			if (j->has_obs && j->obs.server_done)
				j->obs.server_done(j->obs.arg,
						   &j->res->servers[i]);
		}
	finish_one(j);
}

/* ---------- servers ---------- */

static socklen_t sockaddr_from_text(const char *text, uint16_t port,
				    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		return sizeof(*s6);
	}
	return 0;
}

static int add_server(struct check_job *t, const char *host,
		      const char *addrtext)
{
	struct check_result *res = t->res;
	/* Each address once, even when several names share it. */
	for (size_t i = 0; i < res->nservers; i++)
		if (strcmp(res->servers[i].address, addrtext) == 0)
			return 0;
	struct server_result *nv =
	    realloc(res->servers, (res->nservers + 1) * sizeof(*nv));
	if (nv)
		res->servers = nv;
	struct server_check **nc =
	    realloc(t->checks, (t->nchecks + 1) * sizeof(*nc));
	if (nc)
		t->checks = nc;
	bool *nd = realloc(t->checks_done, (t->nchecks + 1) * sizeof(*nd));
	if (nd)
		t->checks_done = nd;
	if (!nv || !nc || !nd)
		return -1;
	struct server_result *sr = &res->servers[res->nservers];
	memset(sr, 0, sizeof(*sr));
	sr->transcript.max = (size_t)t->cfg.max_transcript;
	sr->host = rp_strdup(host);
	/* Until its check decides otherwise: never "closed" by default. */
	sr->verdict = V_UNREACHABLE;
	snprintf(sr->address, sizeof(sr->address), "%s", addrtext);
	sr->port = t->t.port;
	sr->implicit_tls = t->cfg.tls == TLS_MODE_IMPLICIT;
	res->nservers++;
	t->checks[t->nchecks] = NULL;
	t->checks_done[t->nchecks] = false;
	t->nchecks++;
	if (!sr->host)
		return -1;
	/* The guard sees the very address that would be connected to. */
	struct check_engine *e = t->e;
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_from_text(addrtext, sr->port, &ss);
	char why[200] = "";
	if (!len) {
		sr->error = rp_asprintf("not an address: %s", addrtext);
	} else if (e->filter &&
		   !e->filter(e->filter_arg, (struct sockaddr *)&ss, len, why,
			      sizeof(why))) {
		sr->error = rp_asprintf("refused: %s", why[0] ? why : "policy");
		sr->verdict_reason = rp_asprintf("not tested: %s",
						 why[0] ? why : "policy");
	}
	if (sr->error)
		t->checks_done[t->nchecks - 1] = true;
	return 0;
}

/* ---------- DNS facts per server ---------- */

static struct dns_resolver *engine_dns(struct check_engine *e)
{
	if (!e->dns && !e->dns_failed) {
		e->dns = dns_resolver_new(e->base, e->cfg->resolvers, 3000, 2,
					  e->dns_err, sizeof(e->dns_err));
		if (!e->dns) {
			e->dns_failed = true;
		} else if (e->zones.n && !(e->bl = bl_run_new(e->dns, &e->zones))) {
			snprintf(e->dns_err, sizeof(e->dns_err), "out of memory");
			dns_resolver_free(e->dns);
			e->dns = NULL;
			e->dns_failed = true;
		}
	}
	return e->dns;
}

struct dns_job {
	struct check_job *t;
	size_t idx; /* server index: res->servers may move, indexes do not */
};

static void on_rdns(void *arg, struct rdns_result *r)
{
	struct dns_job *j = arg;
	struct check_job *t = j->t;
	if (r && !t->cancelled) {
		struct server_result *sr = &t->res->servers[j->idx];
		sr->rdns_done = true;
		sr->ptr_status = rp_strdup(dns_status_name(r->ptr_status));
		if (r->nnames && (sr->ptr = calloc(r->nnames, sizeof(char *))))
			for (size_t i = 0; i < r->nnames; i++)
				if ((sr->ptr[sr->nptr] = rp_escape_dup(
					 r->names[i], strlen(r->names[i]))))
					sr->nptr++;
		sr->fcrdns = r->fcrdns;
		if (r->fcrdns)
			sr->fcrdns_name = rp_strdup(r->fcrdns_name);
	}
	free(r);
	free(j);
	finish_one(t);
}

static void on_blocklists(void *arg, struct bl_result *r)
{
	struct dns_job *j = arg;
	struct check_job *t = j->t;
	if (r && !t->cancelled) {
		struct server_result *sr = &t->res->servers[j->idx];
		sr->blocklists_done = true;
		sr->blocklists = r->v;
		sr->nblocklists = r->n;
		r->v = NULL;
	}
	if (r)
		bl_result_free(r);
	free(j);
	finish_one(t);
}

/* Why DNS facts are not looked up for this address, or NULL. */
static const char *dns_skip(struct check_job *t, const char *address)
{
	const struct check_config *cfg = &t->cfg;
	if (cfg->no_dns_checks)
		return "--no-dns-checks";
	char why[100];
	if (!cfg->dns_private && vantage_is_near(address, "", why, sizeof(why)))
		return "special-purpose address (loopback, private, link-local): "
		       "public DNS knows nothing of it; --dns-private queries "
		       "anyway";
	if (!engine_dns(t->e))
		return "no resolver";
	return NULL;
}

static void start_dns(struct check_job *t, size_t idx)
{
	struct check_engine *e = t->e;
	struct server_result *sr = &t->res->servers[idx];
	const char *skip = dns_skip(t, sr->address);
	if (skip) {
		sr->dns_skip_reason = rp_strdup(skip);
		return;
	}
	sr->dns_checked = true;
	struct dns_job *j = calloc(1, sizeof(*j));
	if (j) {
		j->t = t;
		j->idx = idx;
		t->outstanding++;
		rdns_lookup(e->dns, sr->address, on_rdns, j);
	}
	if (e->bl && !t->cfg.no_blocklists) {
		j = calloc(1, sizeof(*j));
		if (j) {
			j->t = t;
			j->idx = idx;
			t->outstanding++;
			bl_check(e->bl, sr->address, on_blocklists, j);
		}
	}
}

/* Starts the server checks once res->servers no longer moves. */
static int start_servers(struct check_job *t)
{
	struct check_engine *e = t->e;
	for (size_t i = 0; i < t->res->nservers; i++) {
		struct server_result *sr = &t->res->servers[i];
		if (sr->error)
			continue; /* refused by the address filter */
		struct sockaddr_storage ss;
		socklen_t len = sockaddr_from_text(sr->address, sr->port, &ss);
		t->checks[i] = server_check_new(e->base, e->ctx, &t->cfg, sr,
						&ss, len, server_done, t);
		if (!t->checks[i])
			return -1;
		t->outstanding++;
		if (t->has_obs && t->obs.server_start)
			t->obs.server_start(t->obs.arg, sr);
		server_check_start(t->checks[i]);
		start_dns(t, i);
	}
	return 0;
}

static void on_mx(void *arg, struct mx_result *mx)
{
	struct check_job *t = arg;
	if (t->cancelled) {
		mx_result_free(mx);
		finish_one(t);
		return;
	}
	t->res->mx = mx;
	bool failed = false;
	if (!mx) {
		t->res->error = rp_strdup("out of memory");
	} else if (mx->kind == MX_NULL) {
		t->res->null_mx = true;
	} else if (!mx_kind_testable(mx->kind)) {
		t->res->error = rp_strdup(mx->error);
	} else {
		for (size_t h = 0; h < mx->nhosts && !failed; h++) {
			const struct mx_host *mh = &mx->hosts[h];
			for (size_t a = 0; a < mh->naddrs; a++) {
				if (add_server(t, mh->name, mh->addrs[a].text) < 0) {
					failed = true;
					break;
				}
				/* Remember every MX name using the address. */
				for (size_t k = 0; k < t->res->nservers; k++) {
					struct server_result *sr = &t->res->servers[k];
					if (strcmp(sr->address, mh->addrs[a].text))
						continue;
					char **nv = realloc(sr->mx_names,
							    (sr->nmx_names + 1) * sizeof(char *));
					if (nv) {
						sr->mx_names = nv;
						if ((nv[sr->nmx_names] = rp_strdup(mh->name)))
							sr->nmx_names++;
					}
				}
			}
		}
		if (failed || start_servers(t) < 0)
			t->res->error = rp_strdup("out of memory");
	}
	finish_one(t);
}

static void on_resolved(void *arg, int status, const struct dns_address *a,
			size_t n, const char *err)
{
	struct check_job *t = arg;
	if (t->cancelled) {
		finish_one(t);
		return;
	}
	if (status < 0) {
		t->res->error = rp_asprintf("%s: %s", t->t.host, err);
	} else {
		bool failed = false;
		for (size_t i = 0; i < n && !failed; i++)
			if (add_server(t, t->t.host, a[i].text) < 0)
				failed = true;
		if (failed || start_servers(t) < 0)
			t->res->error = rp_strdup("out of memory");
	}
	finish_one(t);
}

enum verdict check_overall(struct check_result *const *r, size_t n)
{
	enum verdict v = V_CLOSED;
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		if (r[i]->null_mx && r[i]->nservers == 0) {
			any = true;
			continue;
		}
		if (r[i]->error || r[i]->nservers == 0) {
			v = any ? verdict_worst(v, V_UNREACHABLE) : V_UNREACHABLE;
			any = true;
		}
		for (size_t k = 0; k < r[i]->nservers; k++) {
			enum verdict sv = r[i]->servers[k].verdict;
			v = any ? verdict_worst(v, sv) : sv;
			any = true;
		}
	}
	return v;
}

/* Findings and reputation from the DNS facts, once everything is in. */
static void dns_findings(struct server_result *s)
{
	if (!s->dns_checked)
		return;
	if (s->rdns_done) {
		if (s->nptr == 0)
			findings_add(&s->findings, "no-ptr", SEV_WARNING,
				     "%s has no reverse DNS (PTR %s): receivers "
				     "distrust mail from it",
				     s->address, s->ptr_status ? s->ptr_status : "?");
		else if (!s->fcrdns)
			findings_add(&s->findings, "fcrdns-failed", SEV_WARNING,
				     "PTR %s does not resolve back to %s "
				     "(forward-confirmed rDNS fails)",
				     s->ptr[0], s->address);
		s->banner_ptr_match = -1;
		/* The banner's name, or else the EHLO greeting's, is what
		 * receivers compare with the PTR. */
		char name[256] = "";
		if (s->banner) {
			size_t n = strcspn(s->banner, " ");
			snprintf(name, sizeof(name), "%.*s", (int)n, s->banner);
		}
		const char *names[2] = {name, s->ehlo_name};
		if ((name[0] || s->ehlo_name) && s->nptr) {
			s->banner_ptr_match = 0;
			for (size_t k = 0; k < 2; k++) {
				if (!names[k] || !names[k][0])
					continue;
				for (size_t i = 0; i < s->nptr; i++) {
					size_t a = strlen(names[k]), b = strlen(s->ptr[i]);
					if (b && s->ptr[i][b - 1] == '.')
						b--;
					if (a == b && strncasecmp(names[k], s->ptr[i], a) == 0)
						s->banner_ptr_match = 1;
				}
			}
			if (!s->banner_ptr_match)
				findings_add(&s->findings, "banner-ptr-mismatch",
					     SEV_INFO,
					     "the banner names %s (EHLO: %s) but "
					     "the PTR of %s is %s",
					     name[0] ? name : "nothing",
					     s->ehlo_name ? s->ehlo_name : "none",
					     s->address, s->ptr[0]);
		}
	}
	for (size_t i = 0; i < s->nblocklists; i++) {
		const struct bl_entry *e = &s->blocklists[i];
		char code[INET_ADDRSTRLEN] = "?";
		if (e->ans.ncodes)
			inet_ntop(AF_INET, &e->ans.codes[0], code, sizeof(code));
		if (e->ans.status == DNSBL_LISTED)
			findings_add(&s->findings, "blocklisted", SEV_CRITICAL,
				     "%s is listed on %s (%s: %s)%s%s",
				     s->address, e->zone_name, code,
				     e->meaning[0][0] ? e->meaning[0]
							: "undocumented code",
				     e->txt[0] ? "; " : "", e->txt);
		else if (e->ans.status == DNSBL_UNUSABLE)
			findings_add(&s->findings, "blocklist-unusable",
				     SEV_WARNING, "%s ignored: %s",
				     e->zone_name, e->ans.reason);
		else if (e->ans.status == DNSBL_UNKNOWN)
			findings_add(&s->findings, "blocklist-unknown", SEV_INFO,
				     "%s: status unknown: %s", e->zone_name,
				     e->ans.reason);
	}
	reputation_compute(s, &s->reputation);
	s->reputation_done = true;
}

static void target_verdict(struct check_result *r)
{
	for (size_t i = 0; i < r->nservers; i++) {
		dns_findings(&r->servers[i]);
		audit_server(&r->servers[i]);
	}
	if (r->null_mx && r->nservers == 0) {
		/* RFC 7505: no mail is accepted, so nothing can be relayed. */
		r->verdict = V_CLOSED;
		return;
	}
	r->verdict = check_overall(&r, 1);
}

/* ---------- jobs ---------- */

/* Parses the target and derives the job's configuration. */
static int job_prepare(const struct check_config *cfg, const char *target,
		       struct target *t, bool *mx, struct check_config *out,
		       char *err, size_t errlen)
{
	if (target_parse(target, cfg->port, t, err, errlen) < 0)
		return -1;
	*out = *cfg;
	*mx = false;
	if (t->port == 465 && !cfg->tls_set)
		out->tls = TLS_MODE_IMPLICIT;
	if (!t->is_ip) {
		/* A name without an explicit port is a mail domain
		 * (RFC 5321 §5.1: MX, else implicit MX). */
		*mx = !cfg->no_mx && !t->port_given &&
		      strcmp(t->host, "localhost") != 0;
		if (*mx && !cfg->domain)
			out->domain = NULL; /* set to the job's own copy */
	}
	if (cfg->source &&
	    cfg->source_ss.ss_family !=
		(t->family ? t->family : cfg->source_ss.ss_family)) {
		snprintf(err, errlen,
			 "--source %s is not of the same address family as "
			 "target %s",
			 cfg->source, target);
		return -1;
	}
	return 0;
}

/* Settles delivery proof, decides, hands the result over, frees the job:
 * always from its own event, never inside a server's or DNS callback. */
static void on_job_finish(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct check_job *j = arg;
	if (j->cancelled) {
		job_free(j);
		return;
	}
	struct check_result *r = j->res;
	for (size_t k = 0; j->e->rcv && k < r->nservers; k++) {
		struct server_result *sr = &r->servers[k];
		for (size_t i = 0; i < sr->ntests; i++) {
			struct test_result *t = &sr->tests[i];
			if (t->delivery != DELIVERY_ACCEPTED_AT_DATA)
				continue;
			t->delivery = token_arrived(j->e, t->token)
					  ? DELIVERY_DELIVERED
					  : DELIVERY_NOT_DELIVERED;
		}
		if (!sr->error) /* a session was held: decide now */
			server_result_decide(sr, true);
	}
	target_verdict(r);
	j->res = NULL;
	j->cancelled = true; /* check_job_cancel inside done() does nothing */
	if (j->done)
		j->done(j->arg, j, r);
	else
		check_result_free(r);
	job_free(j);
}

static void job_free(struct check_job *j)
{
	struct check_engine *e = j->e;
	if (j->prev)
		j->prev->next = j->next;
	else if (e->jobs == j)
		e->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	for (size_t k = 0; k < j->nchecks; k++)
		server_check_free(j->checks[k]);
	free(j->checks);
	free(j->checks_done);
	check_result_free(j->res);
	if (j->wait_timer)
		event_free(j->wait_timer);
	if (j->fin)
		event_free(j->fin);
	free(j->domain_copy);
	free(j);
}

struct check_job *check_job_start(struct check_engine *e, const char *target,
				  const struct check_config *cfg_override,
				  const struct check_observer *obs,
				  check_job_done done, void *arg, char *err,
				  size_t errlen)
{
	const struct check_config *cfg = cfg_override ? cfg_override : e->cfg;
	struct check_job *j = calloc(1, sizeof(*j));
	if (!j) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	j->e = e;
	j->done = done;
	j->arg = arg;
	if (job_prepare(cfg, target, &j->t, &j->mx_lookup, &j->cfg, err,
			errlen) < 0) {
		free(j);
		return NULL;
	}
	if (j->mx_lookup && !cfg->domain) {
		j->domain_copy = rp_strdup(j->t.host);
		j->cfg.domain = j->domain_copy;
	}
	if (obs) {
		j->obs = *obs;
		j->has_obs = true;
		j->cfg.observer = &j->obs;
	}
	j->cfg.legacy_ctx = e->legacy_ctx;
	j->cfg.rcv = e->rcv;
	j->res = calloc(1, sizeof(*j->res));
	j->fin = event_new(e->base, -1, 0, on_job_finish, j);
	j->wait_timer = evtimer_new(e->base, on_wait_over, j);
	if (!j->res || !(j->res->target = rp_strdup(target)) || !j->fin ||
	    !j->wait_timer || (j->mx_lookup && !cfg->domain && !j->cfg.domain)) {
		snprintf(err, errlen, "out of memory");
		job_free(j);
		return NULL;
	}
	j->next = e->jobs;
	if (e->jobs)
		e->jobs->prev = j;
	e->jobs = j;
	/* A guard count while starting: a callback that runs before its
	 * dns_* call returns (c-ares does that) must not end the job early. */
	j->outstanding = 1;
	if (j->t.is_ip) {
		if (add_server(j, j->t.host, j->t.host) < 0 ||
		    start_servers(j) < 0)
			j->res->error = rp_strdup("out of memory");
	} else if (!engine_dns(e)) {
		j->res->error = rp_asprintf("%s: no resolver: %s", j->t.host,
					    e->dns_err);
	} else if (j->mx_lookup) {
		j->outstanding++;
		mx_lookup(e->dns, j->t.host, on_mx, j);
	} else {
		j->outstanding++;
		dns_resolve_host(e->dns, j->t.host, on_resolved, j);
	}
	finish_one(j); /* drop the guard */
	return j;
}

void check_job_cancel(struct check_job *j)
{
	if (!j || j->cancelled)
		return;
	j->cancelled = true;
	/* Server checks stop now; their done() will never come, so their
	 * counts go. DNS queries cannot be withdrawn: the job lingers,
	 * invisible, until they answer (or the resolver is freed). */
	for (size_t k = 0; k < j->nchecks; k++) {
		if (j->checks[k] && !j->checks_done[k] && j->outstanding)
			j->outstanding--;
		server_check_free(j->checks[k]);
		j->checks[k] = NULL;
		j->checks_done[k] = true;
	}
	if (j->waiting) {
		evtimer_del(j->wait_timer);
		j->waiting = false;
	}
	if (j->outstanding == 0 || j->finishing) {
		j->finishing = false; /* a pending finish now frees it */
		job_finish_soon(j);
	}
}

/* ---------- the engine ---------- */

struct check_engine *check_engine_new(struct event_base *base,
				      const struct check_config *cfg,
				      char *err, size_t errlen)
{
	struct check_engine *e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->base = base;
	e->cfg = cfg;
	if (!cfg->no_dns_checks && !cfg->no_blocklists) {
		int zrc;
		if (cfg->zones_path) {
			zrc = dnsbl_zones_load(cfg->zones_path, &e->zones, err,
					       errlen);
		} else {
			size_t zl;
			const char *zt = dnsbl_default_zones(&zl);
			zrc = dnsbl_zones_parse(zt, zl, &e->zones, err, errlen);
		}
		if (zrc < 0) {
			char e2[300];
			snprintf(e2, sizeof(e2), "%s", err);
			snprintf(err, errlen, "zones file %s: %s",
				 cfg->zones_path ? cfg->zones_path : "(built in)",
				 e2);
			goto fail;
		}
	}
	e->ctx = tls_client_ctx_new(cfg->ca_file, err, errlen);
	if (!e->ctx)
		goto fail;
	if (!cfg->no_audit) {
		e->legacy_ctx = tls_legacy_ctx_new(err, errlen);
		if (!e->legacy_ctx)
			goto fail;
	}
	if (cfg->confirm) {
		struct receiver_config rcfg = {
		    .base = base,
		    .addr = cfg->receiver_ss,
		    .addrlen = cfg->receiver_len,
		    .domain = cfg->confirm_domain,
		    .hostname = cfg->helo,
		};
		e->arrived = calloc(ARRIVED_MAX, sizeof(*e->arrived));
		if (!e->arrived) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		e->rcv = receiver_new(&rcfg, on_token, e, err, errlen);
		if (!e->rcv)
			goto fail;
	}
	return e;
fail:
	check_engine_free(e);
	return NULL;
}

void check_engine_set_filter(struct check_engine *e, check_addr_filter f,
			     void *arg)
{
	e->filter = f;
	e->filter_arg = arg;
}

void check_engine_free(struct check_engine *e)
{
	if (!e)
		return;
	/* Jobs still here are cancelled; the resolver goes first: freeing it
	 * fails pending queries, whose callbacks still use the jobs and the
	 * blocklist run. */
	for (struct check_job *j = e->jobs; j; j = j->next)
		check_job_cancel(j);
	dns_resolver_free(e->dns);
	e->dns = NULL;
	bl_run_free(e->bl);
	e->bl = NULL;
	while (e->jobs)
		job_free(e->jobs);
	free(e->arrived);
	receiver_free(e->rcv);
	dnsbl_zones_free(&e->zones);
	if (e->ctx)
		SSL_CTX_free(e->ctx);
	if (e->legacy_ctx)
		SSL_CTX_free(e->legacy_ctx);
	free(e);
}

/* ---------- check_run: a batch on a loop of its own ---------- */

struct batch {
	struct event_base *base;
	struct check_result **out;
	size_t left;
};

struct batch_slot {
	struct batch *b;
	size_t idx;
};

static void batch_done(void *arg, struct check_job *job,
		       struct check_result *res)
{
	(void)job;
	struct batch_slot *s = arg;
	s->b->out[s->idx] = res;
	if (--s->b->left == 0)
		event_base_loopexit(s->b->base, NULL);
}

int check_run(const struct check_config *cfg, char *const *targets,
	      size_t ntargets, struct check_result ***out, size_t *nout,
	      char *err, size_t errlen)
{
	*out = NULL;
	*nout = 0;
	/* Every target is checked for syntax before anything starts. */
	for (size_t i = 0; i < ntargets; i++) {
		struct target t;
		struct check_config c;
		bool mx;
		if (job_prepare(cfg, targets[i], &t, &mx, &c, err, errlen) < 0)
			return -1;
	}
	int rc = -1;
	struct batch b = {0};
	struct batch_slot *slots = calloc(ntargets ? ntargets : 1,
					  sizeof(*slots));
	b.out = calloc(ntargets ? ntargets : 1, sizeof(*b.out));
	b.base = event_base_new();
	struct check_engine *e = NULL;
	if (!slots || !b.out || !b.base) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	e = check_engine_new(b.base, cfg, err, errlen);
	if (!e)
		goto out;
	b.left = ntargets;
	for (size_t i = 0; i < ntargets; i++) {
		slots[i] = (struct batch_slot){&b, i};
		if (!check_job_start(e, targets[i], NULL, NULL, batch_done,
				     &slots[i], err, errlen))
			goto out;
	}
	if (b.left > 0)
		event_base_dispatch(b.base);
	for (size_t i = 0; i < ntargets; i++)
		if (!b.out[i]) {
			snprintf(err, errlen, "internal error: a check never "
					      "finished");
			goto out;
		}
	*out = b.out;
	b.out = NULL;
	*nout = ntargets;
	rc = 0;
out:
	check_engine_free(e);
	for (size_t i = 0; b.out && i < ntargets; i++)
		check_result_free(b.out[i]);
	free(b.out);
	free(slots);
	if (b.base)
		event_base_free(b.base);
	return rc;
}
