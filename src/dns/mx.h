/*
 * dns/mx: where a domain's mail goes (RFC 5321 §5.1, RFC 7505). Looks up
 * the MX set (sorted by preference, ties kept in answer order), resolves
 * every MX host to all its A and AAAA addresses, and classifies the result:
 * MX found, implicit MX (no MX: the domain's own A/AAAA), null MX ("MX 0 .":
 * accepts no mail, test nothing), or an error (NXDOMAIN, SERVFAIL, timeout,
 * MX present but no host usable: never fall back to A/AAAA then). Flags MX
 * targets that are aliases (CNAME) or IP addresses written as names.
 *
 * Ownership: the callback receives a result it owns (mx_result_free).
 */
#ifndef RP_DNS_MX_H
#define RP_DNS_MX_H

#include <stdbool.h>
#include <stddef.h>

#include "dns/resolver.h"

#define MX_MAX_HOSTS 32
#define MX_MAX_ADDRS 32

enum mx_kind {
	MX_FOUND,
	MX_IMPLICIT,
	MX_NULL,
	MX_NXDOMAIN,
	MX_SERVFAIL,
	MX_TIMEOUT,
	MX_UNUSABLE,  /* MX records, but no host has an address */
	MX_NO_MAIL,   /* no MX and no A/AAAA */
	MX_ERROR,
	MX_KIND_LAST
};

const char *mx_kind_name(enum mx_kind k);
/* True when the domain has servers to test. */
bool mx_kind_testable(enum mx_kind k);

struct mx_host {
	char name[256];
	int preference;
	bool cname;       /* the MX target is an alias (RFC 2181 §10.3) */
	char canonical[256];
	bool ip_literal;  /* the MX data is an IP address, not a host name */
	struct dns_address addrs[MX_MAX_ADDRS];
	size_t naddrs;
	enum dns_status a_status, aaaa_status;
};

struct mx_result {
	char domain[256];
	enum mx_kind kind;
	char error[640]; /* human explanation for non-testable kinds */
	struct mx_host *hosts;
	size_t nhosts;
};

typedef void (*mx_cb)(void *arg, struct mx_result *res);

void mx_lookup(struct dns_resolver *r, const char *domain, mx_cb cb,
	       void *arg);
void mx_result_free(struct mx_result *res);

/* Stable sort of hosts by preference (exposed for tests). */
void mx_sort_hosts(struct mx_host *h, size_t n);

#endif
