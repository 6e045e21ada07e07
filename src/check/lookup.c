#include "check/lookup.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "check/blocklist.h"
#include "core/util.h"
#include "dns/dnsbl.h"
#include "dns/mx.h"
#include "dns/resolver.h"
#include "report/report.h"
#include "smtp/ehlo.h"

json_t *report_mx_json(const struct mx_result *mx);

struct ctx {
	struct event_base *base;
	struct dns_resolver *dns;
	size_t outstanding;
};

static void one_done(struct ctx *c)
{
	if (c->outstanding > 0 && --c->outstanding == 0)
		event_base_loopexit(c->base, NULL);
}

static int setup(struct ctx *c, const struct check_config *cfg)
{
	char err[256];
	memset(c, 0, sizeof(*c));
	c->base = event_base_new();
	if (!c->base) {
		fprintf(stderr, "relayprobe: cannot create the event loop\n");
		return -1;
	}
	c->dns = dns_resolver_new(c->base, cfg->resolvers, 3000, 2, err,
				  sizeof(err));
	if (!c->dns) {
		fprintf(stderr, "relayprobe: %s\n", err);
		event_base_free(c->base);
		return -1;
	}
	return 0;
}

static void teardown(struct ctx *c)
{
	dns_resolver_free(c->dns);
	event_base_free(c->base);
}

static void put_name(FILE *out, const char *s)
{
	char *e = rp_escape_dup(s, strlen(s));
	fputs(e ? e : "?", out);
	free(e);
}

/* ---------- mx ---------- */

struct mx_slot {
	struct ctx *c;
	struct mx_result *res;
};

static void on_mx(void *arg, struct mx_result *res)
{
	struct mx_slot *s = arg;
	s->res = res;
	one_done(s->c);
}

int lookup_mx(const struct check_config *cfg, char *const *domains, size_t n,
	      bool json, FILE *out)
{
	for (size_t i = 0; i < n; i++)
		if (!smtp_valid_hostname(domains[i])) {
			fprintf(stderr, "relayprobe: '%.80s' is not a domain name\n",
				domains[i]);
			return 3;
		}
	struct ctx c;
	if (setup(&c, cfg) < 0)
		return 3;
	struct mx_slot *slots = calloc(n, sizeof(*slots));
	if (!slots) {
		teardown(&c);
		return 3;
	}
	c.outstanding = n;
	for (size_t i = 0; i < n; i++) {
		slots[i].c = &c;
		mx_lookup(c.dns, domains[i], on_mx, &slots[i]);
	}
	if (c.outstanding)
		event_base_dispatch(c.base);
	int rc = 0;
	json_t *arr = json ? json_array() : NULL;
	for (size_t i = 0; i < n; i++) {
		struct mx_result *r = slots[i].res;
		if (!r || !(mx_kind_testable(r->kind) || r->kind == MX_NULL))
			rc = 3;
		if (!r)
			continue;
		if (json) {
			json_array_append_new(arr, report_mx_json(r));
			continue;
		}
		fprintf(out, "%s: %s\n", r->domain, mx_kind_name(r->kind));
		if (r->error[0])
			fprintf(out, "  %s\n", r->error);
		for (size_t h = 0; h < r->nhosts; h++) {
			const struct mx_host *mh = &r->hosts[h];
			fprintf(out, "  %3d ", mh->preference);
			put_name(out, mh->name);
			if (mh->cname) {
				fputs("  [CNAME to ", out);
				put_name(out, mh->canonical);
				fputs(": an MX must not be an alias]", out);
			}
			if (mh->ip_literal)
				fputs("  [an IP address, not a host name]", out);
			fputc('\n', out);
			for (size_t a = 0; a < mh->naddrs; a++)
				fprintf(out, "        %s\n", mh->addrs[a].text);
			if (!mh->naddrs && mh->ip_literal)
				fprintf(out, "        not looked up: MX data must be a host name\n");
			else if (!mh->naddrs)
				fprintf(out, "        no address (A %s, AAAA %s)\n",
					dns_status_name(mh->a_status),
					dns_status_name(mh->aaaa_status));
		}
	}
	if (json) {
		json_t *doc = json_pack("{s:s, s:o}", "schema", "relayprobe/1",
					"mx", arr);
		if (doc) {
			json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			fputc('\n', out);
			json_decref(doc);
		}
	}
	for (size_t i = 0; i < n; i++)
		mx_result_free(slots[i].res);
	free(slots);
	teardown(&c);
	return rc;
}

/* ---------- blocklist ---------- */

#define MAX_SUBJECTS 256

struct bl_slot {
	struct ctx *c;
	struct bl_run *run;
	char subject[256];
	struct bl_result *res;
	char error[200];
	struct bl_slot *addr_slots; /* for names: one per address */
	size_t naddr;
};

static void on_bl(void *arg, struct bl_result *res)
{
	struct bl_slot *s = arg;
	s->res = res;
	one_done(s->c);
}

static void on_host(void *arg, int status, const struct dns_address *a,
		    size_t n, const char *err)
{
	struct bl_slot *s = arg;
	if (status == 0 && n > 0 &&
	    (s->addr_slots = calloc(n, sizeof(*s->addr_slots)))) {
		s->naddr = n;
		s->c->outstanding += n;
		for (size_t i = 0; i < n; i++) {
			struct bl_slot *as = &s->addr_slots[i];
			as->c = s->c;
			as->run = s->run;
			snprintf(as->subject, sizeof(as->subject), "%s", a[i].text);
			bl_check(s->run, as->subject, on_bl, as);
		}
	} else if (status != 0) {
		snprintf(s->error, sizeof(s->error), "%s", err ? err : "lookup failed");
	}
	one_done(s->c);
}

static int worst(int rc, const struct bl_result *r)
{
	if (!r)
		return rc > 1 ? rc : 1;
	for (size_t i = 0; i < r->n; i++) {
		enum dnsbl_status st = r->v[i].ans.status;
		if (st == DNSBL_LISTED)
			rc = 2;
		else if ((st == DNSBL_UNKNOWN || st == DNSBL_UNUSABLE) && rc < 1)
			rc = 1;
	}
	return rc;
}

static json_t *bl_json(const struct bl_result *r)
{
	json_t *a = json_array();
	for (size_t i = 0; r && a && i < r->n; i++) {
		const struct bl_entry *e = &r->v[i];
		json_t *codes = json_array();
		for (size_t k = 0; codes && k < e->ans.ncodes; k++) {
			char cbuf[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &e->ans.codes[k], cbuf, sizeof(cbuf));
			json_array_append_new(
			    codes, json_pack("{s:s, s:s?}", "code", cbuf,
					     "meaning", e->meaning[k][0] ? e->meaning[k] : NULL));
		}
		json_array_append_new(
		    a, json_pack("{s:s, s:s, s:o, s:s?, s:s?, s:i}", "zone",
				 e->zone_name, "status",
				 dnsbl_status_name(e->ans.status), "codes", codes,
				 "txt", e->txt[0] ? e->txt : NULL, "reason",
				 e->ans.reason[0] ? e->ans.reason : NULL,
				 "weight", e->weight));
	}
	return a;
}

static void print_bl(FILE *out, const struct bl_result *r, const char *indent)
{
	for (size_t i = 0; r && i < r->n; i++)
		report_blocklist_line(out, &r->v[i], indent);
}

int lookup_blocklists(const struct check_config *cfg, char *const *subjects,
		      size_t n, bool json, FILE *out)
{
	if (n > MAX_SUBJECTS) {
		fprintf(stderr, "relayprobe: at most %d subjects\n", MAX_SUBJECTS);
		return 3;
	}
	for (size_t i = 0; i < n; i++) {
		struct in6_addr a;
		if (inet_pton(AF_INET, subjects[i], &a) != 1 &&
		    inet_pton(AF_INET6, subjects[i], &a) != 1 &&
		    !smtp_valid_hostname(subjects[i])) {
			fprintf(stderr,
				"relayprobe: '%.80s' is not an IP address, host "
				"or domain\n", subjects[i]);
			return 3;
		}
	}
	struct dnsbl_zones zones = {0};
	char err[300];
	int zrc;
	if (cfg->zones_path) {
		zrc = dnsbl_zones_load(cfg->zones_path, &zones, err, sizeof(err));
	} else {
		size_t zl;
		const char *zt = dnsbl_default_zones(&zl);
		zrc = dnsbl_zones_parse(zt, zl, &zones, err, sizeof(err));
	}
	if (zrc < 0) {
		fprintf(stderr, "relayprobe: zones file %s: %s\n",
			cfg->zones_path ? cfg->zones_path : "(built in)", err);
		return 3;
	}
	struct ctx c;
	if (setup(&c, cfg) < 0) {
		dnsbl_zones_free(&zones);
		return 3;
	}
	struct bl_run *run = bl_run_new(c.dns, &zones);
	struct bl_slot *slots = calloc(n ? n : 1, sizeof(*slots));
	if (!run || !slots) {
		free(slots);
		bl_run_free(run);
		teardown(&c);
		dnsbl_zones_free(&zones);
		return 3;
	}
	for (size_t i = 0; i < n; i++) {
		struct in6_addr a;
		bool ip = inet_pton(AF_INET, subjects[i], &a) == 1 ||
			  inet_pton(AF_INET6, subjects[i], &a) == 1;
		c.outstanding += ip ? 1 : 2;
	}
	for (size_t i = 0; i < n; i++) {
		struct bl_slot *s = &slots[i];
		struct in6_addr a;
		s->c = &c;
		s->run = run;
		snprintf(s->subject, sizeof(s->subject), "%s", subjects[i]);
		bool ip = inet_pton(AF_INET, subjects[i], &a) == 1 ||
			  inet_pton(AF_INET6, subjects[i], &a) == 1;
		bl_check(run, s->subject, on_bl, s);
		if (!ip)
			dns_resolve_host(c.dns, s->subject, on_host, s);
	}
	if (c.outstanding)
		event_base_dispatch(c.base);
	int rc = 0;
	json_t *arr = json ? json_array() : NULL;
	for (size_t i = 0; i < n; i++) {
		struct bl_slot *s = &slots[i];
		rc = worst(rc, s->res);
		if (json) {
			json_t *addrs = json_array();
			for (size_t k = 0; k < s->naddr; k++)
				json_array_append_new(
				    addrs, json_pack("{s:s, s:o}", "address",
						     s->addr_slots[k].subject,
						     "blocklists",
						     bl_json(s->addr_slots[k].res)));
			json_array_append_new(
			    arr, json_pack("{s:s, s:o, s:o, s:s?}", "subject",
					   s->subject, "blocklists",
					   bl_json(s->res), "addresses", addrs,
					   "error", s->error[0] ? s->error : NULL));
		} else {
			fprintf(out, "%s\n", s->subject);
			print_bl(out, s->res, "  ");
			if (s->error[0])
				fprintf(out, "  addresses: %s\n", s->error);
			for (size_t k = 0; k < s->naddr; k++) {
				fprintf(out, "  %s\n", s->addr_slots[k].subject);
				print_bl(out, s->addr_slots[k].res, "    ");
			}
		}
		for (size_t k = 0; k < s->naddr; k++)
			rc = worst(rc, s->addr_slots[k].res);
	}
	if (json) {
		json_t *doc = json_pack("{s:s, s:o, s:i}", "schema",
					"relayprobe/1", "subjects", arr,
					"exit_code", rc);
		if (doc) {
			json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			fputc('\n', out);
			json_decref(doc);
		}
	} else {
		fprintf(out, "%s\n", rc == 2 ? "LISTED" : rc == 1 ? "UNKNOWN (some lists did not give a usable answer)" : "NOT LISTED");
	}
	for (size_t i = 0; i < n; i++) {
		bl_result_free(slots[i].res);
		for (size_t k = 0; k < slots[i].naddr; k++)
			bl_result_free(slots[i].addr_slots[k].res);
		free(slots[i].addr_slots);
	}
	free(slots);
	bl_run_free(run);
	teardown(&c);
	dnsbl_zones_free(&zones);
	return rc;
}
