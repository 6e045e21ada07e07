/*
 * dns/rdns: reverse DNS of an address: its PTR names, and whether one of
 * them resolves back to the same address (forward-confirmed rDNS, which
 * receivers and blocklists check).
 *
 * Ownership: the callback owns the result (free()).
 */
#ifndef RP_DNS_RDNS_H
#define RP_DNS_RDNS_H

#include <stdbool.h>
#include <stddef.h>

#include "dns/resolver.h"

#define RDNS_MAX_NAMES 4

struct rdns_result {
	char address[64];
	enum dns_status ptr_status;
	char names[RDNS_MAX_NAMES][256];
	size_t nnames;
	bool fcrdns;           /* a PTR name resolves back to the address */
	char fcrdns_name[256]; /* that name */
};

typedef void (*rdns_cb)(void *arg, struct rdns_result *res);

/* ip is an IPv4 or IPv6 address in text form. */
void rdns_lookup(struct dns_resolver *r, const char *ip, rdns_cb cb, void *arg);

/* "4.3.2.1.in-addr.arpa" / 32 nibbles + ".ip6.arpa". Returns 0 or -1. */
int rdns_reverse_name(const char *ip, char *out, size_t outsz);

#endif
