#include "dns/rdns.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#define T_A 1
#define T_PTR 12
#define T_AAAA 28

int rdns_reverse_name(const char *ip, char *out, size_t outsz)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, ip, &a4) == 1) {
		const unsigned char *b = (const unsigned char *)&a4;
		int n = snprintf(out, outsz, "%u.%u.%u.%u.in-addr.arpa", b[3],
				 b[2], b[1], b[0]);
		return (n < 0 || (size_t)n >= outsz) ? -1 : 0;
	}
	if (inet_pton(AF_INET6, ip, &a6) == 1) {
		static const char hex[] = "0123456789abcdef";
		if (outsz < 64 + 9)
			return -1;
		size_t o = 0;
		for (int i = 15; i >= 0; i--) {
			out[o++] = hex[a6.s6_addr[i] & 15];
			out[o++] = '.';
			out[o++] = hex[a6.s6_addr[i] >> 4];
			out[o++] = '.';
		}
		memcpy(out + o, "ip6.arpa", 9);
		return 0;
	}
	return -1;
}

struct lookup {
	struct dns_resolver *r;
	rdns_cb cb;
	void *arg;
	struct rdns_result *res;
	int family;
	unsigned char bin[16];
	size_t pending;
};

static void finish(struct lookup *lk)
{
	lk->cb(lk->arg, lk->res);
	free(lk);
}

struct fwd_q {
	struct lookup *lk;
	size_t idx;
};

static void on_forward(void *arg, enum dns_status st, const unsigned char *abuf,
		       int alen)
{
	struct fwd_q *q = arg;
	struct lookup *lk = q->lk;
	if (st == DNS_OK) {
		struct hostent *he = NULL;
		int rc = lk->family == AF_INET
			     ? ares_parse_a_reply(abuf, alen, &he, NULL, NULL)
			     : ares_parse_aaaa_reply(abuf, alen, &he, NULL, NULL);
		size_t alen_bin = lk->family == AF_INET ? 4 : 16;
		if (rc == ARES_SUCCESS && he) {
			for (char **p = he->h_addr_list; p && *p; p++)
				if (memcmp(*p, lk->bin, alen_bin) == 0 &&
				    !lk->res->fcrdns) {
					lk->res->fcrdns = true;
					snprintf(lk->res->fcrdns_name,
						 sizeof(lk->res->fcrdns_name),
						 "%s", lk->res->names[q->idx]);
				}
		}
		if (he)
			ares_free_hostent(he);
	}
	free(q);
	if (--lk->pending == 0)
		finish(lk);
}

static void on_ptr(void *arg, enum dns_status st, const unsigned char *abuf,
		   int alen)
{
	struct lookup *lk = arg;
	struct rdns_result *res = lk->res;
	res->ptr_status = st;
	if (st == DNS_OK) {
		struct hostent *he = NULL;
		int rc = ares_parse_ptr_reply(abuf, alen, lk->bin,
					      lk->family == AF_INET ? 4 : 16,
					      lk->family, &he);
		if (rc == ARES_SUCCESS && he) {
			if (he->h_name && he->h_name[0])
				snprintf(res->names[res->nnames++],
					 sizeof(res->names[0]), "%s", he->h_name);
			for (char **p = he->h_aliases;
			     p && *p && res->nnames < RDNS_MAX_NAMES; p++)
				snprintf(res->names[res->nnames++],
					 sizeof(res->names[0]), "%s", *p);
		} else {
			res->ptr_status = DNS_NODATA;
		}
		if (he)
			ares_free_hostent(he);
	}
	if (res->nnames == 0) {
		finish(lk);
		return;
	}
	lk->pending = res->nnames;
	size_t n = res->nnames;
	for (size_t i = 0; i < n; i++) {
		struct fwd_q *q = calloc(1, sizeof(*q));
		if (!q) {
			if (--lk->pending == 0)
				finish(lk);
			continue;
		}
		q->lk = lk;
		q->idx = i;
		dns_query(lk->r, res->names[i],
			  lk->family == AF_INET ? T_A : T_AAAA, on_forward, q);
	}
}

void rdns_lookup(struct dns_resolver *r, const char *ip, rdns_cb cb, void *arg)
{
	struct rdns_result *res = calloc(1, sizeof(*res));
	struct lookup *lk = calloc(1, sizeof(*lk));
	char name[128];
	if (!res || !lk) {
		free(lk);
		free(res);
		cb(arg, NULL);
		return;
	}
	snprintf(res->address, sizeof(res->address), "%s", ip);
	lk->r = r;
	lk->cb = cb;
	lk->arg = arg;
	lk->res = res;
	if (inet_pton(AF_INET, ip, lk->bin) == 1)
		lk->family = AF_INET;
	else if (inet_pton(AF_INET6, ip, lk->bin) == 1)
		lk->family = AF_INET6;
	if (!lk->family || rdns_reverse_name(ip, name, sizeof(name)) < 0) {
		res->ptr_status = DNS_ERROR;
		finish(lk);
		return;
	}
	dns_query(r, name, T_PTR, on_ptr, lk);
}
