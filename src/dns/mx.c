#include "dns/mx.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ares.h>

#include "core/util.h"

#define T_A 1
#define T_MX 15
#define T_AAAA 28

static const char *const kind_names[] = {
	[MX_FOUND] = "mx",
	[MX_IMPLICIT] = "implicit",
	[MX_NULL] = "null",
	[MX_NXDOMAIN] = "nxdomain",
	[MX_SERVFAIL] = "servfail",
	[MX_TIMEOUT] = "timeout",
	[MX_UNUSABLE] = "unusable",
	[MX_NO_MAIL] = "no-mail",
	[MX_ERROR] = "error",
};
_Static_assert(RP_ARRAY_LEN(kind_names) == MX_KIND_LAST, "mx kind names");

const char *mx_kind_name(enum mx_kind k)
{
	return (unsigned)k < MX_KIND_LAST ? kind_names[k] : "?";
}

bool mx_kind_testable(enum mx_kind k)
{
	return k == MX_FOUND || k == MX_IMPLICIT;
}

void mx_result_free(struct mx_result *res)
{
	if (!res)
		return;
	free(res->hosts);
	free(res);
}

void mx_sort_hosts(struct mx_host *h, size_t n)
{
	/* Insertion sort: stable, so equal preferences keep answer order. */
	for (size_t i = 1; i < n; i++) {
		struct mx_host x = h[i];
		size_t j = i;
		while (j > 0 && h[j - 1].preference > x.preference) {
			h[j] = h[j - 1];
			j--;
		}
		h[j] = x;
	}
}

struct lookup {
	struct dns_resolver *r;
	mx_cb cb;
	void *arg;
	struct mx_result *res;
	size_t pending;
};

struct addr_q {
	struct lookup *lk;
	size_t host;
	int family;
};

static bool same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static void done(struct lookup *lk)
{
	struct mx_result *res = lk->res;
	if (res->kind == MX_FOUND || res->kind == MX_IMPLICIT) {
		size_t usable = 0;
		for (size_t i = 0; i < res->nhosts; i++)
			if (res->hosts[i].naddrs)
				usable++;
		if (usable == 0) {
			bool timeout = false;
			for (size_t i = 0; i < res->nhosts; i++)
				if (res->hosts[i].a_status == DNS_TIMEOUT ||
				    res->hosts[i].aaaa_status == DNS_TIMEOUT)
					timeout = true;
			if (res->kind == MX_IMPLICIT) {
				res->kind = timeout ? MX_TIMEOUT : MX_NO_MAIL;
				snprintf(res->error, sizeof(res->error),
					 timeout ? "%s has no MX and its A/AAAA "
						   "lookup timed out"
						 : "%s has no MX and no A/AAAA "
						   "records: it receives no mail",
					 res->domain);
			} else {
				res->kind = MX_UNUSABLE;
				snprintf(res->error, sizeof(res->error),
					 "%s has MX records but no MX host has "
					 "an address%s (RFC 5321 §5.1: no "
					 "fallback to the domain's own address)",
					 res->domain,
					 timeout ? " (lookups timed out)" : "");
			}
		}
	}
	lk->cb(lk->arg, res);
	free(lk);
}

static void on_addr(void *arg, enum dns_status st, const unsigned char *abuf,
		    int alen)
{
	struct addr_q *q = arg;
	struct lookup *lk = q->lk;
	struct mx_host *h = &lk->res->hosts[q->host];
	if (q->family == AF_INET)
		h->a_status = st;
	else
		h->aaaa_status = st;
	if (st == DNS_OK) {
		struct hostent *he = NULL;
		int rc = q->family == AF_INET
			     ? ares_parse_a_reply(abuf, alen, &he, NULL, NULL)
			     : ares_parse_aaaa_reply(abuf, alen, &he, NULL, NULL);
		if (rc == ARES_SUCCESS && he) {
			if (he->h_name && !same_name(he->h_name, h->name)) {
				h->cname = true;
				snprintf(h->canonical, sizeof(h->canonical),
					 "%s", he->h_name);
			}
			for (char **p = he->h_addr_list;
			     p && *p && h->naddrs < MX_MAX_ADDRS; p++) {
				struct dns_address *a = &h->addrs[h->naddrs];
				memset(a, 0, sizeof(*a));
				if (q->family == AF_INET) {
					struct sockaddr_in *s =
					    (struct sockaddr_in *)&a->ss;
					s->sin_family = AF_INET;
					memcpy(&s->sin_addr, *p, 4);
					a->len = sizeof(*s);
					inet_ntop(AF_INET, *p, a->text,
						  sizeof(a->text));
				} else {
					struct sockaddr_in6 *s =
					    (struct sockaddr_in6 *)&a->ss;
					s->sin6_family = AF_INET6;
					memcpy(&s->sin6_addr, *p, 16);
					a->len = sizeof(*s);
					inet_ntop(AF_INET6, *p, a->text,
						  sizeof(a->text));
				}
				h->naddrs++;
			}
		}
		if (he)
			ares_free_hostent(he);
	}
	free(q);
	if (--lk->pending == 0)
		done(lk);
}

static void resolve_hosts(struct lookup *lk)
{
	struct mx_result *res = lk->res;
	size_t queries = 0;
	for (size_t i = 0; i < res->nhosts; i++)
		if (!res->hosts[i].ip_literal)
			queries += 2;
	if (queries == 0) {
		done(lk);
		return;
	}
	/* Count first: callbacks may run before dns_query returns. */
	lk->pending = queries;
	for (size_t i = 0; i < res->nhosts; i++) {
		if (res->hosts[i].ip_literal)
			continue;
		static const int fams[] = {AF_INET, AF_INET6};
		for (size_t f = 0; f < 2; f++) {
			struct addr_q *q = calloc(1, sizeof(*q));
			if (!q) {
				if (--lk->pending == 0)
					done(lk);
				continue;
			}
			q->lk = lk;
			q->host = i;
			q->family = fams[f];
			dns_query(lk->r, res->hosts[i].name,
				  fams[f] == AF_INET ? T_A : T_AAAA, on_addr, q);
		}
	}
}

static bool looks_like_ip(const char *name)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", name);
	size_t n = strlen(buf);
	if (n && buf[n - 1] == '.')
		buf[n - 1] = '\0';
	struct in_addr a4;
	struct in6_addr a6;
	return inet_pton(AF_INET, buf, &a4) == 1 ||
	       inet_pton(AF_INET6, buf, &a6) == 1;
}

static void on_mx(void *arg, enum dns_status st, const unsigned char *abuf,
		  int alen)
{
	struct lookup *lk = arg;
	struct mx_result *res = lk->res;
	struct ares_mx_reply *mx = NULL;
	if (st == DNS_OK) {
		/* A CNAME-only answer (the domain is an alias, no MX at the
		 * end) is "no MX": implicit MX, as for NODATA. */
		int prc = ares_parse_mx_reply(abuf, alen, &mx);
		if (prc == ARES_ENODATA)
			st = DNS_NODATA;
		else if (prc != ARES_SUCCESS || !mx) {
			if (mx)
				ares_free_data(mx);
			res->kind = MX_ERROR;
			snprintf(res->error, sizeof(res->error),
				 "malformed MX answer for %s", res->domain);
			done(lk);
			return;
		}
	}
	switch (st) {
	case DNS_OK:
		break;
	case DNS_NODATA:
		/* RFC 5321 §5.1: no MX, so the domain itself is the MX. */
		res->kind = MX_IMPLICIT;
		res->hosts = calloc(1, sizeof(*res->hosts));
		if (!res->hosts) {
			res->kind = MX_ERROR;
			snprintf(res->error, sizeof(res->error), "out of memory");
			done(lk);
			return;
		}
		res->nhosts = 1;
		snprintf(res->hosts[0].name, sizeof(res->hosts[0].name), "%s",
			 res->domain);
		res->hosts[0].ip_literal = looks_like_ip(res->domain);
		resolve_hosts(lk);
		return;
	case DNS_NXDOMAIN:
		res->kind = MX_NXDOMAIN;
		snprintf(res->error, sizeof(res->error),
			 "%s does not exist (NXDOMAIN)", res->domain);
		done(lk);
		return;
	case DNS_SERVFAIL:
	case DNS_REFUSED:
		res->kind = MX_SERVFAIL;
		snprintf(res->error, sizeof(res->error),
			 "the MX lookup for %s failed (%s): the domain's DNS "
			 "is broken or the resolver refused",
			 res->domain, dns_status_name(st));
		done(lk);
		return;
	case DNS_TIMEOUT:
		res->kind = MX_TIMEOUT;
		snprintf(res->error, sizeof(res->error),
			 "the MX lookup for %s timed out", res->domain);
		done(lk);
		return;
	case DNS_ERROR:
	case DNS_STATUS_LAST:
		res->kind = MX_ERROR;
		snprintf(res->error, sizeof(res->error),
			 "the MX lookup for %s failed", res->domain);
		done(lk);
		return;
	}
	size_t n = 0;
	for (struct ares_mx_reply *m = mx; m; m = m->next)
		n++;
	if (n > MX_MAX_HOSTS)
		n = MX_MAX_HOSTS;
	res->hosts = calloc(n, sizeof(*res->hosts));
	if (!res->hosts) {
		ares_free_data(mx);
		res->kind = MX_ERROR;
		snprintf(res->error, sizeof(res->error), "out of memory");
		done(lk);
		return;
	}
	bool null_mx = false;
	for (struct ares_mx_reply *m = mx; m && res->nhosts < n; m = m->next) {
		const char *host = m->host ? m->host : "";
		if (host[0] == '\0' || strcmp(host, ".") == 0) {
			null_mx = true;
			continue;
		}
		struct mx_host *h = &res->hosts[res->nhosts++];
		snprintf(h->name, sizeof(h->name), "%s", host);
		h->preference = m->priority;
		h->ip_literal = looks_like_ip(host);
	}
	ares_free_data(mx);
	if (null_mx) {
		/* RFC 7505: "MX 0 ." means no mail; it must stand alone. */
		res->kind = MX_NULL;
		snprintf(res->error, sizeof(res->error),
			 res->nhosts ? "%s publishes a null MX mixed with other "
				       "MX records (RFC 7505 forbids it); "
				       "treated as accepting no mail"
				     : "%s publishes a null MX (RFC 7505): it "
				       "accepts no mail, nothing to test",
			 res->domain);
		res->nhosts = 0;
		done(lk);
		return;
	}
	res->kind = MX_FOUND;
	mx_sort_hosts(res->hosts, res->nhosts);
	resolve_hosts(lk);
}

void mx_lookup(struct dns_resolver *r, const char *domain, mx_cb cb, void *arg)
{
	struct mx_result *res = calloc(1, sizeof(*res));
	struct lookup *lk = calloc(1, sizeof(*lk));
	if (!res || !lk) {
		free(lk);
		if (res) {
			res->kind = MX_ERROR;
			snprintf(res->error, sizeof(res->error), "out of memory");
			cb(arg, res);
		}
		return;
	}
	snprintf(res->domain, sizeof(res->domain), "%s", domain);
	size_t dl = strlen(res->domain);
	if (dl && res->domain[dl - 1] == '.')
		res->domain[dl - 1] = '\0';
	lk->r = r;
	lk->cb = cb;
	lk->arg = arg;
	lk->res = res;
	dns_query(r, res->domain, T_MX, on_mx, lk);
}
