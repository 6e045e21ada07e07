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

struct run;

struct tgt {
	struct run *run;
	struct target t;
	bool mx_lookup; /* a domain: test its MX hosts */
	struct check_config cfg; /* per target: implicit TLS on 465 */
	struct check_result *res;
	struct server_check **checks;
	size_t nchecks;
};

struct run {
	struct event_base *base;
	SSL_CTX *ctx;
	SSL_CTX *legacy_ctx;
	const struct check_config *cfg;
	struct dns_resolver *dns;
	struct dnsbl_zones zones;
	struct bl_run *bl;
	struct receiver *rcv;     /* --confirm */
	char (*arrived)[48];      /* tokens received (also before their
				     test recorded its 250 after the dot) */
	size_t narrived, carrived;
	struct event *wait_timer; /* --confirm-wait */
	bool waiting;             /* tests done, waiting for tokens */
	struct tgt *tgts;
	size_t ntgts;
	size_t outstanding;
	int failed; /* internal failure */
};

/* Probes accepted at DATA whose token has not arrived yet. */
static size_t tokens_pending(const struct run *run)
{
	size_t n = 0;
	for (size_t i = 0; i < run->ntgts; i++) {
		const struct check_result *r = run->tgts[i].res;
		for (size_t k = 0; r && k < r->nservers; k++)
			for (size_t j = 0; j < r->servers[k].ntests; j++)
				if (r->servers[k].tests[j].delivery ==
				    DELIVERY_ACCEPTED_AT_DATA) {
					bool seen = false;
					for (size_t a = 0; a < run->narrived; a++)
						if (strcmp(run->arrived[a],
							   r->servers[k].tests[j].token) == 0)
							seen = true;
					n += !seen;
				}
	}
	return n;
}

static void finish_one(struct run *run)
{
	if (run->outstanding == 0 || --run->outstanding > 0)
		return;
	if (run->rcv && !run->waiting && tokens_pending(run) > 0) {
		/* Relays deliver later: wait for the tokens, or the limit. */
		run->waiting = true;
		struct timeval tv = {run->cfg->confirm_wait_s, 0};
		evtimer_add(run->wait_timer, &tv);
		return;
	}
	event_base_loopexit(run->base, NULL);
}

static void on_wait_over(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopexit(((struct run *)arg)->base, NULL);
}

static void on_token(void *arg, const char *token, const char *peer)
{
	struct run *run = arg;
	/* An inline relay can deliver before it answers our final dot: keep
	 * every token, and match them again when the check ends. */
	if (run->narrived == run->carrived) {
		size_t nc = run->carrived ? run->carrived * 2 : 64;
		char(*nv)[48] = realloc(run->arrived, nc * sizeof(*nv));
		if (nv) {
			run->arrived = nv;
			run->carrived = nc;
		}
	}
	if (run->narrived < run->carrived)
		snprintf(run->arrived[run->narrived++], 48, "%s", token);
	for (size_t i = 0; i < run->ntgts; i++) {
		struct check_result *r = run->tgts[i].res;
		for (size_t k = 0; r && k < r->nservers; k++) {
			struct server_result *sr = &r->servers[k];
			for (size_t j = 0; j < sr->ntests; j++) {
				struct test_result *t = &sr->tests[j];
				if (strcmp(t->token, token) != 0)
					continue;
				t->delivery = DELIVERY_DELIVERED;
				free(t->note);
				t->note = rp_asprintf("delivered to the receiver "
						      "by %s", peer);
			}
		}
	}
	if (run->waiting && tokens_pending(run) == 0)
		event_base_loopexit(run->base, NULL);
}

static void server_done(void *arg, struct server_check *sc)
{
	struct tgt *t = arg;
	finish_one(t->run);
}

static int add_server(struct tgt *t, const char *host,
		      const struct sockaddr_storage *ss, socklen_t len,
		      const char *addrtext)
{
	struct check_result *res = t->res;
	/* Each address once, even when several names share it. */
	for (size_t i = 0; i < res->nservers; i++)
		if (strcmp(res->servers[i].address, addrtext) == 0)
			return 0;
	struct server_result *nv =
	    realloc(res->servers, (res->nservers + 1) * sizeof(*nv));
	struct server_check **nc =
	    realloc(t->checks, (t->nchecks + 1) * sizeof(*nc));
	if (nv)
		res->servers = nv;
	if (nc)
		t->checks = nc;
	if (!nv || !nc)
		return -1;
	struct server_result *sr = &res->servers[res->nservers];
	memset(sr, 0, sizeof(*sr));
	sr->host = rp_strdup(host);
	/* Until its check decides otherwise: never "closed" by default. */
	sr->verdict = V_UNREACHABLE;
	snprintf(sr->address, sizeof(sr->address), "%s", addrtext);
	sr->port = t->t.port;
	sr->implicit_tls = t->cfg.tls == TLS_MODE_IMPLICIT;
	struct sockaddr_storage a = *ss;
	if (a.ss_family == AF_INET)
		((struct sockaddr_in *)&a)->sin_port = htons(t->t.port);
	else
		((struct sockaddr_in6 *)&a)->sin6_port = htons(t->t.port);
	res->nservers++;
	t->nchecks++;
	t->checks[t->nchecks - 1] = NULL;
	(void)len;
	return 0;
}

/* ---------- DNS facts per server ---------- */

struct dns_job {
	struct tgt *t;
	size_t idx; /* server index: res->servers may move, indexes do not */
};

static void on_rdns(void *arg, struct rdns_result *r)
{
	struct dns_job *j = arg;
	struct server_result *sr = &j->t->res->servers[j->idx];
	if (r) {
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
		free(r);
	}
	struct run *run = j->t->run;
	free(j);
	finish_one(run);
}

static void on_blocklists(void *arg, struct bl_result *r)
{
	struct dns_job *j = arg;
	struct server_result *sr = &j->t->res->servers[j->idx];
	if (r) {
		sr->blocklists_done = true;
		sr->blocklists = r->v;
		sr->nblocklists = r->n;
		r->v = NULL;
		bl_result_free(r);
	}
	struct run *run = j->t->run;
	free(j);
	finish_one(run);
}

/* Why DNS facts are not looked up for this address, or NULL. */
static const char *dns_skip(const struct run *run, const char *address)
{
	const struct check_config *cfg = run->cfg;
	if (cfg->no_dns_checks)
		return "--no-dns-checks";
	if (!run->dns)
		return "no resolver";
	char why[100];
	if (!cfg->dns_private && vantage_is_near(address, "", why, sizeof(why)))
		return "special-purpose address (loopback, private, link-local): "
		       "public DNS knows nothing of it; --dns-private queries "
		       "anyway";
	return NULL;
}

static void start_dns(struct tgt *t, size_t idx)
{
	struct run *run = t->run;
	struct server_result *sr = &t->res->servers[idx];
	const char *skip = dns_skip(run, sr->address);
	if (skip) {
		sr->dns_skip_reason = rp_strdup(skip);
		return;
	}
	sr->dns_checked = true;
	struct dns_job *j = calloc(1, sizeof(*j));
	if (j) {
		j->t = t;
		j->idx = idx;
		run->outstanding++;
		rdns_lookup(run->dns, sr->address, on_rdns, j);
	}
	if (run->bl) {
		j = calloc(1, sizeof(*j));
		if (j) {
			j->t = t;
			j->idx = idx;
			run->outstanding++;
			bl_check(run->bl, sr->address, on_blocklists, j);
		}
	}
}

/* Starts the server checks once res->servers no longer moves. */
static int start_servers(struct tgt *t)
{
	struct run *run = t->run;
	for (size_t i = 0; i < t->res->nservers; i++) {
		struct server_result *sr = &t->res->servers[i];
		struct sockaddr_storage ss;
		memset(&ss, 0, sizeof(ss));
		socklen_t len;
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		if (inet_pton(AF_INET, sr->address, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons(sr->port);
			len = sizeof(*s4);
		} else if (inet_pton(AF_INET6, sr->address, &s6->sin6_addr) ==
			   1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(sr->port);
			len = sizeof(*s6);
		} else {
			return -1;
		}
		t->checks[i] = server_check_new(run->base, run->ctx, &t->cfg,
						sr, &ss, len, server_done, t);
		if (!t->checks[i])
			return -1;
		run->outstanding++;
		server_check_start(t->checks[i]);
		start_dns(t, i);
	}
	return 0;
}

static void on_mx(void *arg, struct mx_result *mx)
{
	struct tgt *t = arg;
	t->res->mx = mx;
	if (!mx) {
		t->res->error = rp_strdup("out of memory");
	} else if (mx->kind == MX_NULL) {
		t->res->null_mx = true;
	} else if (!mx_kind_testable(mx->kind)) {
		t->res->error = rp_strdup(mx->error);
	} else {
		for (size_t h = 0; h < mx->nhosts; h++) {
			const struct mx_host *mh = &mx->hosts[h];
			for (size_t a = 0; a < mh->naddrs; a++) {
				size_t before = t->res->nservers;
				if (add_server(t, mh->name, &mh->addrs[a].ss,
					       mh->addrs[a].len,
					       mh->addrs[a].text) < 0) {
					t->run->failed = 1;
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
				(void)before;
			}
		}
		if (!t->run->failed && start_servers(t) < 0)
			t->run->failed = 1;
	}
	finish_one(t->run);
}

static void on_resolved(void *arg, int status, const struct dns_address *a,
			size_t n, const char *err)
{
	struct tgt *t = arg;
	if (status < 0) {
		t->res->error = rp_asprintf("%s: %s", t->t.host, err);
	} else {
		for (size_t i = 0; i < n; i++)
			if (add_server(t, t->t.host, &a[i].ss, a[i].len,
				       a[i].text) < 0)
				t->run->failed = 1;
		if (!t->run->failed && start_servers(t) < 0)
			t->run->failed = 1;
	}
	finish_one(t->run);
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

int check_run(const struct check_config *cfg, char *const *targets,
	      size_t ntargets, struct check_result ***out, size_t *nout,
	      char *err, size_t errlen)
{
	struct run run;
	memset(&run, 0, sizeof(run));
	int rc = -1;
	*out = NULL;
	*nout = 0;
	run.tgts = calloc(ntargets ? ntargets : 1, sizeof(*run.tgts));
	if (!run.tgts) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	run.ntgts = ntargets;
	bool need_dns = false;
	for (size_t i = 0; i < ntargets; i++) {
		struct tgt *t = &run.tgts[i];
		t->run = &run;
		if (target_parse(targets[i], cfg->port, &t->t, err, errlen) < 0)
			goto out;
		t->cfg = *cfg;
		if (t->t.port == 465 && !cfg->tls_set)
			t->cfg.tls = TLS_MODE_IMPLICIT;
		if (!t->t.is_ip) {
			need_dns = true;
			/* A name without an explicit port is a mail domain
			 * (RFC 5321 §5.1: MX, else implicit MX). */
			t->mx_lookup = !cfg->no_mx && !t->t.port_given &&
				       strcmp(t->t.host, "localhost") != 0;
			if (t->mx_lookup && !cfg->domain)
				t->cfg.domain = t->t.host;
		}
		if (cfg->source && cfg->source_ss.ss_family !=
				       (t->t.family ? t->t.family
						    : cfg->source_ss.ss_family)) {
			snprintf(err, errlen,
				 "--source %s is not of the same address "
				 "family as target %s",
				 cfg->source, targets[i]);
			goto out;
		}
	}
	run.cfg = cfg;
	/* Addresses get DNS facts (PTR, blocklists) unless turned off. */
	if (!cfg->no_dns_checks)
		for (size_t i = 0; i < ntargets; i++) {
			char why[100];
			if (!run.tgts[i].t.is_ip || cfg->dns_private ||
			    !vantage_is_near(run.tgts[i].t.host, "", why,
					     sizeof(why)))
				need_dns = true;
		}
	if (need_dns && !cfg->no_dns_checks && !cfg->no_blocklists) {
		int zrc;
		if (cfg->zones_path) {
			zrc = dnsbl_zones_load(cfg->zones_path, &run.zones, err,
					       errlen);
		} else {
			size_t zl;
			const char *zt = dnsbl_default_zones(&zl);
			zrc = dnsbl_zones_parse(zt, zl, &run.zones, err, errlen);
		}
		if (zrc < 0) {
			char e2[300];
			snprintf(e2, sizeof(e2), "%s", err);
			snprintf(err, errlen, "zones file %s: %s",
				 cfg->zones_path ? cfg->zones_path : "(built in)",
				 e2);
			goto out;
		}
	}
	run.base = event_base_new();
	if (!run.base) {
		snprintf(err, errlen, "cannot create the event loop");
		goto out;
	}
	run.ctx = tls_client_ctx_new(cfg->ca_file, err, errlen);
	if (!run.ctx)
		goto out;
	if (!cfg->no_audit) {
		run.legacy_ctx = tls_legacy_ctx_new(err, errlen);
		if (!run.legacy_ctx)
			goto out;
		for (size_t i = 0; i < ntargets; i++)
			run.tgts[i].cfg.legacy_ctx = run.legacy_ctx;
	}
	if (need_dns) {
		run.dns = dns_resolver_new(run.base, cfg->resolvers, 3000, 2,
					   err, errlen);
		if (!run.dns)
			goto out;
		if (run.zones.n && !(run.bl = bl_run_new(run.dns, &run.zones))) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	if (cfg->confirm) {
		struct receiver_config rcfg = {
		    .base = run.base,
		    .addr = cfg->receiver_ss,
		    .addrlen = cfg->receiver_len,
		    .domain = cfg->confirm_domain,
		    .hostname = cfg->helo,
		};
		run.rcv = receiver_new(&rcfg, on_token, &run, err, errlen);
		run.wait_timer = evtimer_new(run.base, on_wait_over, &run);
		if (!run.rcv || !run.wait_timer)
			goto out;
		for (size_t i = 0; i < ntargets; i++)
			run.tgts[i].cfg.rcv = run.rcv;
	}
	for (size_t i = 0; i < ntargets; i++) {
		struct tgt *t = &run.tgts[i];
		t->res = calloc(1, sizeof(*t->res));
		if (!t->res || !(t->res->target = rp_strdup(targets[i]))) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	/* A guard count while starting: a callback that runs before its
	 * dns_* call returns (c-ares does that) must not end the loop early. */
	run.outstanding++;
	for (size_t i = 0; i < ntargets; i++) {
		struct tgt *t = &run.tgts[i];
		if (t->t.is_ip) {
			struct sockaddr_storage ss;
			memset(&ss, 0, sizeof(ss));
			ss.ss_family = (sa_family_t)t->t.family;
			if (add_server(t, t->t.host, &ss, 0, t->t.host) < 0 ||
			    start_servers(t) < 0) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
		} else if (t->mx_lookup) {
			run.outstanding++;
			mx_lookup(run.dns, t->t.host, on_mx, t);
		} else {
			run.outstanding++;
			dns_resolve_host(run.dns, t->t.host, on_resolved, t);
		}
	}
	finish_one(&run); /* drop the guard */
	if (run.outstanding > 0 || run.waiting)
		event_base_dispatch(run.base);
	if (run.failed) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	*out = calloc(ntargets ? ntargets : 1, sizeof(**out));
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; cfg->confirm && i < ntargets; i++) {
		struct check_result *r = run.tgts[i].res;
		for (size_t k = 0; k < r->nservers; k++) {
			struct server_result *sr = &r->servers[k];
			for (size_t j = 0; j < sr->ntests; j++) {
				struct test_result *t = &sr->tests[j];
				if (t->delivery != DELIVERY_ACCEPTED_AT_DATA)
					continue;
				t->delivery = DELIVERY_NOT_DELIVERED;
				for (size_t a = 0; a < run.narrived; a++)
					if (strcmp(run.arrived[a], t->token) == 0)
						t->delivery = DELIVERY_DELIVERED;
			}
			if (!sr->error) /* a session was held: decide now */
				server_result_decide(sr, true);
		}
	}
	for (size_t i = 0; i < ntargets; i++) {
		target_verdict(run.tgts[i].res);
		(*out)[i] = run.tgts[i].res;
		run.tgts[i].res = NULL;
	}
	*nout = ntargets;
	rc = 0;
out:
	/* The resolver first: destroying it fails pending queries, whose
	 * callbacks still use the targets and the blocklist run. */
	dns_resolver_free(run.dns);
	run.dns = NULL;
	bl_run_free(run.bl);
	run.bl = NULL;
	for (size_t i = 0; i < run.ntgts; i++) {
		struct tgt *t = &run.tgts[i];
		for (size_t k = 0; k < t->nchecks; k++)
			server_check_free(t->checks[k]);
		free(t->checks);
		check_result_free(t->res);
	}
	free(run.tgts);
	free(run.arrived);
	receiver_free(run.rcv);
	if (run.wait_timer)
		event_free(run.wait_timer);
	dnsbl_zones_free(&run.zones);
	if (run.ctx)
		SSL_CTX_free(run.ctx);
	if (run.legacy_ctx)
		SSL_CTX_free(run.legacy_ctx);
	if (run.base)
		event_base_free(run.base);
	return rc;
}
