/* Nagios/Icinga plugin output: one status line with performance data; the
 * exit code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) is relayprobe's own. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "report/report.h"

static const char *state(enum verdict v)
{
	switch (verdict_exit_code(v)) {
	case 0:
		return "OK";
	case 1:
		return "WARNING";
	case 2:
		return "CRITICAL";
	default:
		return "UNKNOWN";
	}
}

void report_counts(struct check_result *const *r, size_t n,
		   struct report_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < r[i]->nservers; k++) {
			const struct server_result *s = &r[i]->servers[k];
			c->servers++;
			if (s->verdict == V_OPEN)
				c->open++;
			if (s->verdict == V_SUSPECT)
				c->suspect++;
			if (s->verdict == V_UNREACHABLE)
				c->unreachable++;
			for (size_t b = 0; b < s->nblocklists; b++)
				if (s->blocklists[b].ans.status == DNSBL_LISTED)
					c->listings++;
			if (s->duration_ms > c->duration_ms)
				c->duration_ms = s->duration_ms;
		}
}

static int render(FILE *out, struct check_result *const *results, size_t n,
		  enum verdict overall, const struct report_options *opt)
{
	struct report_counts c;
	report_counts(results, n, &c);
	char what[512] = "";
	size_t o = 0;
	for (size_t i = 0; i < n && o < sizeof(what) - 1; i++) {
		const struct check_result *r = results[i];
		char *t = rp_escape_dup(r->target, strlen(r->target));
		o += (size_t)snprintf(what + o, sizeof(what) - o, "%s%s %s",
				      i ? ", " : "", t ? t : "?",
				      verdict_name(r->verdict));
		free(t);
		if (o >= sizeof(what))
			o = sizeof(what) - 1;
	}
	fprintf(out,
		"RELAYPROBE %s - %s; %zu server%s tested, %zu open relay%s, "
		"%zu suspect, %zu blocklist listing%s | servers=%zu;;;0 "
		"open_relays=%zu;;;0 suspect=%zu;;;0 listings=%zu;;;0 "
		"unreachable=%zu;;;0 duration=%.3fs;;;0\n",
		state(overall), what, c.servers, c.servers == 1 ? "" : "s",
		c.open, c.open == 1 ? "" : "s", c.suspect, c.listings,
		c.listings == 1 ? "" : "s", c.servers, c.open, c.suspect,
		c.listings, c.unreachable, (double)c.duration_ms / 1000.0);
	(void)opt;
	return ferror(out) ? -1 : 0;
}

const struct report_ops report_nagios = {
	.name = "nagios",
	.render = render,
};
