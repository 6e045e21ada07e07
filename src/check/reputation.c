#include "check/reputation.h"

#include <stdarg.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "check/result.h"

static void deduct(struct reputation *r, int points, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void deduct(struct reputation *r, int points, const char *fmt, ...)
{
	if (points <= 0 || r->n >= REP_MAX_DEDUCTIONS)
		return;
	struct rep_deduction *d = &r->d[r->n++];
	d->points = points;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
	r->score -= points;
}

void reputation_compute(const struct server_result *s, struct reputation *out)
{
	memset(out, 0, sizeof(*out));
	out->score = 100;
	for (size_t i = 0; i < s->nblocklists; i++) {
		const struct bl_entry *e = &s->blocklists[i];
		if (e->ans.status != DNSBL_LISTED)
			continue;
		char code[INET_ADDRSTRLEN] = "?";
		if (e->ans.ncodes)
			inet_ntop(AF_INET, &e->ans.codes[0], code, sizeof(code));
		deduct(out, e->weight, "listed on %s (%s%s%s)",
		       e->zone_name, code, e->meaning[0][0] ? ": " : "",
		       e->meaning[0][0] ? e->meaning[0] : "");
	}
	if (s->rdns_done) {
		if (s->nptr == 0)
			deduct(out, REP_NO_PTR,
			       "no reverse DNS (PTR) for %s: many receivers "
			       "refuse such senders", s->address);
		else if (!s->fcrdns)
			deduct(out, REP_NO_FCRDNS,
			       "the PTR name %s does not resolve back to %s "
			       "(no forward-confirmed rDNS)",
			       s->ptr[0], s->address);
		if (s->nptr > 0 && s->banner_ptr_match == 0)
			deduct(out, REP_BANNER_MISMATCH,
			       "the banner name does not match the PTR name %s",
			       s->ptr[0]);
	}
	if (out->score < 0)
		out->score = 0;
}
