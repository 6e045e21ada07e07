#include "check/check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "check/server.h"
#include "core/util.h"
#include "dns/resolver.h"
#include "net/target.h"
#include "net/tls.h"

struct run;

struct tgt {
	struct run *run;
	struct target t;
	struct check_config cfg; /* per target: implicit TLS on 465 */
	struct check_result *res;
	struct server_check **checks;
	size_t nchecks;
};

struct run {
	struct event_base *base;
	SSL_CTX *ctx;
	struct dns_resolver *dns;
	struct tgt *tgts;
	size_t ntgts;
	size_t outstanding;
	int failed; /* internal failure */
};

static void finish_one(struct run *run)
{
	if (run->outstanding > 0 && --run->outstanding == 0)
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
	}
	return 0;
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

static void target_verdict(struct check_result *r)
{
	check_overall(&r, 1);
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
		if (!t->t.is_ip)
			need_dns = true;
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
	run.base = event_base_new();
	if (!run.base) {
		snprintf(err, errlen, "cannot create the event loop");
		goto out;
	}
	run.ctx = tls_client_ctx_new(err, errlen);
	if (!run.ctx)
		goto out;
	if (need_dns) {
		run.dns = dns_resolver_new(run.base, cfg->resolvers, 3000, 2,
					   err, errlen);
		if (!run.dns)
			goto out;
	}
	for (size_t i = 0; i < ntargets; i++) {
		struct tgt *t = &run.tgts[i];
		t->res = calloc(1, sizeof(*t->res));
		if (!t->res || !(t->res->target = rp_strdup(targets[i]))) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
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
		} else {
			run.outstanding++;
			dns_resolve_host(run.dns, t->t.host, on_resolved, t);
		}
	}
	if (run.outstanding > 0)
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
	for (size_t i = 0; i < ntargets; i++) {
		target_verdict(run.tgts[i].res);
		(*out)[i] = run.tgts[i].res;
		run.tgts[i].res = NULL;
	}
	*nout = ntargets;
	rc = 0;
out:
	for (size_t i = 0; i < run.ntgts; i++) {
		struct tgt *t = &run.tgts[i];
		for (size_t k = 0; k < t->nchecks; k++)
			server_check_free(t->checks[k]);
		free(t->checks);
		check_result_free(t->res);
	}
	free(run.tgts);
	dns_resolver_free(run.dns);
	if (run.ctx)
		SSL_CTX_free(run.ctx);
	if (run.base)
		event_base_free(run.base);
	return rc;
}
