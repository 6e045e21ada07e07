/*
 * check/blocklist: runs DNS blocklist lookups for a check. Each zone is
 * self-tested once per run (RFC 5782 §5) before any subject is looked up;
 * subjects that arrive earlier wait. A zone that fails is "unusable" for
 * every subject, with the reason. Listings get their TXT reason.
 *
 * Ownership: the run borrows the resolver and the zones for its life;
 * results passed to callbacks are owned by the callee (bl_result_free).
 */
#ifndef RP_CHECK_BLOCKLIST_H
#define RP_CHECK_BLOCKLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "dns/dnsbl.h"
#include "dns/resolver.h"

/* Self-contained: results outlive the zones table, so an entry copies
 * what it needs (zone, weight, meanings) and ans.meanings must not be
 * used after the run; use meaning[] instead ("" = undocumented). */
struct bl_entry {
	const struct dnsbl_zone *zone; /* valid during the run only */
	char zone_name[256];
	int weight;
	struct dnsbl_answer ans;
	char meaning[DNSBL_MAX_CODES][160];
	char txt[512]; /* escaped TXT of a listing, or "" */
};

struct bl_result {
	char subject[256];
	struct bl_entry *v;
	size_t n;
};

void bl_result_free(struct bl_result *r);

struct bl_run;

struct bl_run *bl_run_new(struct dns_resolver *r,
			  const struct dnsbl_zones *zones);
/* Frees the run; lookups still pending are failed first. */
void bl_run_free(struct bl_run *run);

typedef void (*bl_cb)(void *arg, struct bl_result *res);

/* Looks subject (an IP address, or a domain) up in every zone that takes
 * it. The callback runs once, from the loop or before this returns. */
void bl_check(struct bl_run *run, const char *subject, bl_cb cb, void *arg);

#endif
