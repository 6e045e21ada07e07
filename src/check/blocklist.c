#include "check/blocklist.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#include "core/util.h"

#define T_A 1
#define T_TXT 16

enum zstate { Z_NEW, Z_TESTING, Z_OK, Z_FAILED };

struct zone_state {
	enum zstate st;
	int pending;
	char reason[200];
};

struct waiter {
	char *subject;
	bl_cb cb;
	void *arg;
	struct waiter *next;
};

struct bl_run {
	struct dns_resolver *r;
	const struct dnsbl_zones *zones;
	struct zone_state *zs;
	size_t testing; /* zones still self-testing */
	bool started;
	struct waiter *waiting;
};

void bl_result_free(struct bl_result *r)
{
	if (!r)
		return;
	free(r->v);
	free(r);
}

/* A-record addresses of an answer. */
static size_t answer_addrs(const unsigned char *abuf, int alen,
			   struct in_addr *out, size_t max)
{
	struct ares_addrttl ttls[DNSBL_MAX_CODES];
	int n = DNSBL_MAX_CODES;
	if (ares_parse_a_reply(abuf, alen, NULL, ttls, &n) != ARES_SUCCESS)
		return 0;
	size_t k = 0;
	for (int i = 0; i < n && k < max; i++)
		out[k++] = ttls[i].ipaddr;
	return k;
}

/* ---------- self-test ---------- */

struct st_q {
	struct bl_run *run;
	size_t zone;
	bool want_listed;
	char name[300];
};

static void start_subject(struct bl_run *run, const char *subject, bl_cb cb,
			  void *arg);

static void selftest_done(struct bl_run *run)
{
	if (run->testing > 0)
		return;
	struct waiter *w = run->waiting;
	run->waiting = NULL;
	while (w) {
		struct waiter *next = w->next;
		start_subject(run, w->subject, w->cb, w->arg);
		free(w->subject);
		free(w);
		w = next;
	}
}

static void on_selftest(void *arg, enum dns_status st, const unsigned char *abuf,
			int alen)
{
	struct st_q *q = arg;
	struct bl_run *run = q->run;
	const struct dnsbl_zone *z = &run->zones->v[q->zone];
	struct zone_state *zs = &run->zs[q->zone];
	struct in_addr addrs[DNSBL_MAX_CODES];
	size_t n = st == DNS_OK ? answer_addrs(abuf, alen, addrs, DNSBL_MAX_CODES) : 0;
	struct dnsbl_answer ans;
	dnsbl_interpret(z, st, addrs, n, &ans);
	if (zs->st != Z_FAILED) {
		if (ans.status == DNSBL_UNKNOWN) {
			zs->st = Z_FAILED;
			snprintf(zs->reason, sizeof(zs->reason),
				 "self-test query %.120s gave no usable answer: "
				 "%.120s", q->name, ans.reason);
		} else if (q->want_listed && ans.status != DNSBL_LISTED) {
			zs->st = Z_FAILED;
			snprintf(zs->reason, sizeof(zs->reason),
				 "self-test failed: test point %.120s is not "
				 "listed (RFC 5782 §5)", q->name);
		} else if (!q->want_listed && ans.status != DNSBL_NOT_LISTED) {
			zs->st = Z_FAILED;
			snprintf(zs->reason, sizeof(zs->reason),
				 "self-test failed: %.120s must never be listed "
				 "but is (RFC 5782 §5): the list answers for "
				 "everything", q->name);
		}
	}
	free(q);
	if (--zs->pending == 0) {
		if (zs->st != Z_FAILED)
			zs->st = Z_OK;
		run->testing--;
		selftest_done(run);
	}
}

static void selftest_start(struct bl_run *run)
{
	run->started = true;
	run->testing = run->zones->n;
	/* Count every query before sending any: callbacks may be synchronous. */
	for (size_t i = 0; i < run->zones->n; i++) {
		const struct dnsbl_zone *z = &run->zones->v[i];
		run->zs[i].st = Z_TESTING;
		run->zs[i].pending = (z->kind == DNSBL_IP && z->ipv6) ? 4 : 2;
	}
	if (run->zones->n == 0) {
		selftest_done(run);
		return;
	}
	for (size_t i = 0; i < run->zones->n; i++) {
		const struct dnsbl_zone *z = &run->zones->v[i];
		int rounds = run->zs[i].pending;
		for (int k = 0; k < rounds; k++) {
			bool v6 = k >= 2;
			bool listed = (k % 2) == 0;
			struct st_q *q = calloc(1, sizeof(*q));
			const char *tp = listed ? dnsbl_test_listed(z, v6)
						: dnsbl_test_unlisted(z, v6);
			if (!q || dnsbl_query_name(z, tp, q->name,
						   sizeof(q->name)) < 0) {
				free(q);
				run->zs[i].st = Z_FAILED;
				snprintf(run->zs[i].reason,
					 sizeof(run->zs[i].reason),
					 "cannot build the self-test query");
				if (--run->zs[i].pending == 0) {
					run->testing--;
					selftest_done(run);
				}
				continue;
			}
			q->run = run;
			q->zone = i;
			q->want_listed = listed;
			dns_query(run->r, q->name, T_A, on_selftest, q);
		}
	}
}

/* ---------- subjects ---------- */

struct subj {
	struct bl_run *run;
	struct bl_result *res;
	bl_cb cb;
	void *arg;
	size_t pending;
};

struct subj_q {
	struct subj *s;
	size_t entry;
	char name[300];
};

static void subj_done(struct subj *s)
{
	s->cb(s->arg, s->res);
	free(s);
}

static void on_txt(void *arg, enum dns_status st, const unsigned char *abuf,
		   int alen)
{
	struct subj_q *q = arg;
	struct subj *s = q->s;
	struct bl_entry *e = &s->res->v[q->entry];
	if (st == DNS_OK) {
		struct ares_txt_ext *txt = NULL;
		if (ares_parse_txt_reply_ext(abuf, alen, &txt) == ARES_SUCCESS) {
			/* First record only: chunks of one record join. */
			char raw[512];
			size_t o = 0;
			for (struct ares_txt_ext *t = txt; t; t = t->next) {
				if (t != txt && t->record_start)
					break;
				size_t n = t->length;
				if (o + n >= sizeof(raw))
					n = sizeof(raw) - 1 - o;
				memcpy(raw + o, t->txt, n);
				o += n;
			}
			rp_escape(raw, o, e->txt, sizeof(e->txt));
			ares_free_data(txt);
		}
	}
	free(q);
	if (--s->pending == 0)
		subj_done(s);
}

static void on_subject(void *arg, enum dns_status st, const unsigned char *abuf,
		       int alen)
{
	struct subj_q *q = arg;
	struct subj *s = q->s;
	struct bl_entry *e = &s->res->v[q->entry];
	struct in_addr addrs[DNSBL_MAX_CODES];
	size_t n = st == DNS_OK ? answer_addrs(abuf, alen, addrs, DNSBL_MAX_CODES) : 0;
	dnsbl_interpret(e->zone, st, addrs, n, &e->ans);
	for (size_t k = 0; k < e->ans.ncodes; k++) {
		snprintf(e->meaning[k], sizeof(e->meaning[k]), "%s",
			 e->ans.meanings[k] ? e->ans.meanings[k] : "");
		e->ans.meanings[k] = NULL;
	}
	if (e->ans.status == DNSBL_LISTED) {
		/* Reuse the query for the TXT reason. */
		s->pending++;
		dns_query(s->run->r, q->name, T_TXT, on_txt, q);
	} else {
		free(q);
	}
	if (--s->pending == 0)
		subj_done(s);
}

static bool subject_is_ip(const char *s)
{
	struct in6_addr a;
	return inet_pton(AF_INET, s, &a) == 1 || inet_pton(AF_INET6, s, &a) == 1;
}

static void start_subject(struct bl_run *run, const char *subject, bl_cb cb,
			  void *arg)
{
	struct subj *s = calloc(1, sizeof(*s));
	struct bl_result *res = calloc(1, sizeof(*res));
	const struct dnsbl_zones *zones = run->zones;
	if (!s || !res ||
	    !(res->v = calloc(zones->n ? zones->n : 1, sizeof(*res->v)))) {
		free(s);
		bl_result_free(res);
		cb(arg, NULL);
		return;
	}
	snprintf(res->subject, sizeof(res->subject), "%s", subject);
	s->run = run;
	s->res = res;
	s->cb = cb;
	s->arg = arg;
	bool ip = subject_is_ip(subject);
	/* Fill the entries (zones that take this subject) first. */
	struct subj_q *qs[256] = {0};
	for (size_t i = 0; i < zones->n && res->n < RP_ARRAY_LEN(qs); i++) {
		const struct dnsbl_zone *z = &zones->v[i];
		if ((z->kind == DNSBL_IP) != ip)
			continue;
		struct bl_entry *e = &res->v[res->n];
		e->zone = z;
		snprintf(e->zone_name, sizeof(e->zone_name), "%s", z->name);
		e->weight = z->weight;
		char name[300];
		if (dnsbl_query_name(z, subject, name, sizeof(name)) < 0) {
			continue; /* e.g. IPv6 on an IPv4-only list */
		}
		if (run->zs[i].st == Z_FAILED) {
			e->ans.status = DNSBL_UNUSABLE;
			snprintf(e->ans.reason, sizeof(e->ans.reason), "%s",
				 run->zs[i].reason);
			res->n++;
			continue;
		}
		struct subj_q *q = calloc(1, sizeof(*q));
		if (!q) {
			e->ans.status = DNSBL_UNKNOWN;
			snprintf(e->ans.reason, sizeof(e->ans.reason),
				 "out of memory");
			res->n++;
			continue;
		}
		q->s = s;
		q->entry = res->n;
		snprintf(q->name, sizeof(q->name), "%s", name);
		qs[res->n] = q;
		res->n++;
		s->pending++;
	}
	if (s->pending == 0) {
		subj_done(s);
		return;
	}
	/* Hold one count while sending: answers may arrive synchronously. */
	s->pending++;
	size_t n = res->n;
	for (size_t i = 0; i < n; i++)
		if (qs[i])
			dns_query(run->r, qs[i]->name, T_A, on_subject, qs[i]);
	if (--s->pending == 0)
		subj_done(s);
}

struct bl_run *bl_run_new(struct dns_resolver *r,
			  const struct dnsbl_zones *zones)
{
	struct bl_run *run = calloc(1, sizeof(*run));
	if (!run)
		return NULL;
	run->r = r;
	run->zones = zones;
	run->zs = calloc(zones->n ? zones->n : 1, sizeof(*run->zs));
	if (!run->zs) {
		free(run);
		return NULL;
	}
	return run;
}

void bl_run_free(struct bl_run *run)
{
	if (!run)
		return;
	struct waiter *w = run->waiting;
	while (w) {
		struct waiter *next = w->next;
		w->cb(w->arg, NULL);
		free(w->subject);
		free(w);
		w = next;
	}
	free(run->zs);
	free(run);
}

void bl_check(struct bl_run *run, const char *subject, bl_cb cb, void *arg)
{
	if (run->started && run->testing == 0) {
		start_subject(run, subject, cb, arg);
		return;
	}
	struct waiter *w = calloc(1, sizeof(*w));
	if (!w || !(w->subject = rp_strdup(subject))) {
		free(w);
		cb(arg, NULL);
		return;
	}
	w->cb = cb;
	w->arg = arg;
	w->next = run->waiting;
	run->waiting = w;
	if (!run->started)
		selftest_start(run);
}
