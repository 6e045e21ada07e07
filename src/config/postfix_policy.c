#include "config/postfix_policy.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/netrange.h"

/* Technique bits. GENERIC: relays with a value relayprobe does not try
 * (a forged sender or HELO taken from the table). */
enum {
	TB_GENERIC = 1u << 0,
	TB_T01 = 1u << 1,
	TB_T02 = 1u << 2,
	TB_T03 = 1u << 3,
	TB_T04 = 1u << 4,
	TB_T06 = 1u << 6,
	TB_T07 = 1u << 7,
	TB_T08 = 1u << 8,
	TB_T09 = 1u << 9,
};
/* What passes when anything passes: the techniques every relay lets
 * through (routing tricks and literals depend on other settings). */
#define TB_ALL                                                                 \
	(TB_GENERIC | TB_T01 | TB_T02 | TB_T03 | TB_T04 | TB_T06 | TB_T07 |   \
	 TB_T08 | TB_T09)

static void mask_names(uint32_t m, char *out, size_t n)
{
	static const struct {
		uint32_t bit;
		const char *id;
	} names[] = {{TB_T01, "T01"}, {TB_T02, "T02"}, {TB_T03, "T03"},
		     {TB_T04, "T04"}, {TB_T06, "T06"}, {TB_T07, "T07"},
		     {TB_T08, "T08"}, {TB_T09, "T09"}};
	size_t k = 0;
	out[0] = '\0';
	for (size_t i = 0; i < RP_ARRAY_LEN(names); i++)
		if (m & names[i].bit)
			cfg_append(out, n, &k, "%s%s", k ? "," : "", names[i].id);
}

/* --- context --------------------------------------------------------------- */

struct pctx {
	const struct pf_conf *c;
	const struct pf_service *svc;
	const struct cfg_io *io;
	const struct cfg_options *o;
	struct cfg_report *r;
	char label[160];      /* "smtp/inet" */
	char *myhostname, *mydomain, *mydestination, *relay_domains;
	bool parent_access;   /* smtpd_access_maps in parent_domain_matches_subdomains */
	bool parent_relay;
	bool have_client;
	struct netrange client;
	/* permit_inet_interfaces: whether inet_interfaces names the client;
	 * worked out once per service (0 not yet, 1 no, 2 yes), since a
	 * list can repeat the restriction thousands of times. */
	int client_on_ifs;
	bool oom;
	/* The first parameter whose expansion failed (a $parameter loop,
	 * too deep, too many references or too long): named in the error
	 * instead of "out of memory". */
	char bad_param[64];
	/* mynetworks findings that relay, reported only when
	 * permit_mynetworks is reached before the relay check. */
	struct mynet_pend {
		const char *id;
		char *msg;
		char *fix;
	} pend[16];
	size_t npend;
};

/* The expanded value of a parameter for the service being evaluated (see
 * pf_value); remembers the first one that cannot be expanded. */
static char *value(struct pctx *x, const char *name)
{
	char *v = pf_value(x->c, x->svc, name);
	if (!v && !x->bad_param[0])
		snprintf(x->bad_param, sizeof(x->bad_param), "%s", name);
	return v;
}

static char *lower_dup(const char *s)
{
	char *d = rp_strdup(s ? s : "");
	for (char *p = d; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/* Where a parameter comes from, for evidence. */
struct loc {
	const char *file;
	int line;
	char evidence[512];
	bool is_override;
};

static void locate(const struct pctx *x, const char *name, struct loc *l)
{
	const struct pf_param *p = pf_lookup(x->c, x->svc, name);
	bool over = false;
	if (p && x->svc)
		for (size_t i = 0; i < x->svc->over.n; i++)
			if (&x->svc->over.v[i] == p)
				over = true;
	l->is_override = over;
	if (p) {
		l->file = p->file;
		l->line = p->line;
		snprintf(l->evidence, sizeof(l->evidence),
			 over ? "-o %s=%s" : "%s = %s", p->name, p->value);
	} else {
		l->file = "(default)";
		l->line = 0;
		const char *d = pf_default(x->c, x->svc, name);
		snprintf(l->evidence, sizeof(l->evidence), "%s = %s (default)",
			 name, d ? d : "");
	}
}

/* "name = value" or "-o name=value" as the fix line, matching where the
 * setting lives. */
static char *fix_line(const struct loc *l, const char *name, const char *value)
{
	if (l->is_override) {
		/* master.cf splits arguments at white space: commas only, or
		 * the { name = value } form when the value needs blanks. */
		char *v = rp_strdup(value);
		if (!v)
			return NULL;
		size_t k = 0;
		for (size_t i = 0; v[i]; i++)
			if (!(v[i] == ' ' && i > 0 && v[i - 1] == ','))
				v[k++] = v[i];
		v[k] = '\0';
		char *r = strpbrk(v, " \t") ? rp_asprintf("-o { %s = %s }", name, v)
					   : rp_asprintf("-o %s=%s", name, v);
		free(v);
		return r;
	}
	return rp_asprintf("%s = %s", name, value);
}

static const char *svc_label(const struct pctx *x)
{
	return x->svc ? x->label : NULL;
}

/* --- lists ------------------------------------------------------------------ */

/* Splits a Postfix list (white space and commas; "{...}" kept whole). */
struct items {
	char **v;
	size_t n;
};

/* The next item of a Postfix list at s[*i] (white space and commas
 * separate items; "{...}" is kept whole): sets *start, returns the length,
 * 0 at the end. The one tokenizer for split_list and list_has. */
static size_t next_item(const char *s, size_t *i, size_t *start)
{
	size_t k = *i;
	while (s[k] && (isspace((unsigned char)s[k]) || s[k] == ','))
		k++;
	*start = k;
	int depth = 0;
	while (s[k] && (depth > 0 || !(isspace((unsigned char)s[k]) || s[k] == ','))) {
		if (s[k] == '{')
			depth++;
		else if (s[k] == '}' && depth > 0)
			depth--;
		k++;
	}
	*i = k;
	return k - *start;
}

static int split_list(const char *s, struct items *it)
{
	it->v = NULL;
	it->n = 0;
	size_t i = 0, cap = 0, st, len;
	if (!s) /* an unset parameter is an empty list */
		return 0;
	while ((len = next_item(s, &i, &st)) > 0) {
		if (it->n >= 100000)
			return -1;
		if (it->n == cap) { /* geometric: long lists stay linear */
			size_t nc = cap ? cap * 2 : 8;
			char **v = realloc(it->v, nc * sizeof(*v));
			if (!v)
				return -1;
			it->v = v;
			cap = nc;
		}
		if (!(it->v[it->n] = rp_strndup(s + st, len)))
			return -1;
		it->n++;
	}
	return 0;
}

static void items_free(struct items *it)
{
	for (size_t i = 0; i < it->n; i++)
		free(it->v[i]);
	free(it->v);
	it->v = NULL;
	it->n = 0;
}

/* Is word an item of the list? Walks the list in place, without copying. */
static bool list_has(const char *list, const char *word)
{
	if (!list)
		return false;
	size_t wl = strlen(word), i = 0, st, len;
	while ((len = next_item(list, &i, &st)) > 0)
		if (len == wl && strncasecmp(list + st, word, wl) == 0)
			return true;
	return false;
}

static int ci_cmp(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* The items of a list in case-insensitive order, for bsearch with ci_cmp:
 * membership tests of one list against another stay O(n log n) however
 * long an expanded parameter gets (a configuration can double a value at
 * each of 20 levels of $parameter). */
static int sorted_items(const char *s, struct items *it)
{
	if (split_list(s, it) < 0)
		return -1;
	if (it->n > 1)
		qsort(it->v, it->n, sizeof(*it->v), ci_cmp);
	return 0;
}

static bool sorted_has(const struct items *it, const char *word)
{
	return it->n > 0 &&
	       bsearch(&word, it->v, it->n, sizeof(*it->v), ci_cmp) != NULL;
}

struct item_at {
	const char *s;
	size_t i;
};

static int item_at_cmp(const void *a, const void *b)
{
	const struct item_at *x = a, *y = b;
	int c = strcasecmp(x->s, y->s);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* For each item of it, true when no earlier item equals it (ignoring
 * case); NULL when out of memory. The caller frees it. */
static bool *first_occurrences(const struct items *it)
{
	bool *first = calloc(it->n + 1, sizeof(*first));
	struct item_at *a = calloc(it->n + 1, sizeof(*a));
	if (!first || !a) {
		free(first);
		free(a);
		return NULL;
	}
	for (size_t i = 0; i < it->n; i++)
		a[i] = (struct item_at){it->v[i], i};
	if (it->n > 1)
		qsort(a, it->n, sizeof(*a), item_at_cmp);
	for (size_t k = 0; k < it->n; k++)
		if (k == 0 || strcasecmp(a[k].s, a[k - 1].s) != 0)
			first[a[k].i] = true;
	free(a);
	return first;
}

/* --- access tables ---------------------------------------------------------- */

struct akey {
	char *key;   /* lowercased; the pattern for regexp/pcre */
	bool ok;     /* the action permits (OK, all-numeric, permit) */
	bool pattern;/* regexp/pcre: matches what an attacker chooses */
};

struct atable {
	struct akey *v;
	size_t n;
	bool unreadable;
	char why[256];
};

static bool action_ok(const char *a)
{
	while (*a == ' ' || *a == '\t')
		a++;
	size_t n = 0;
	while (a[n] && !isspace((unsigned char)a[n]))
		n++;
	if (n == 2 && strncasecmp(a, "OK", 2) == 0)
		return true;
	if (n == 6 && strncasecmp(a, "permit", 6) == 0)
		return true;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)a[i]))
			return false;
	/* all-numerical: OK, unless it looks like an SMTP reject code */
	return !(n == 3 && (a[0] == '4' || a[0] == '5'));
}

static int akey_add(struct atable *t, const char *k, size_t kl, bool ok,
		    bool pattern)
{
	if (t->n >= 100000)
		return 0;
	struct akey *v = realloc(t->v, (t->n + 1) * sizeof(*v));
	if (!v)
		return -1;
	t->v = v;
	char *key = rp_strndup(k, kl);
	if (!key)
		return -1;
	for (char *p = key; *p && !pattern; p++)
		*p = (char)tolower((unsigned char)*p);
	v[t->n].key = key;
	v[t->n].ok = ok;
	v[t->n].pattern = pattern;
	t->n++;
	return 0;
}

/* "key value" lines (hash/texthash/... sources, cidr), or "/re/ action"
 * lines (regexp, pcre). */
static int table_lines(struct atable *t, const char *buf, bool regex)
{
	const char *p = buf;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t ll = nl ? (size_t)(nl - p) : strlen(p);
		const char *e = p + ll;
		const char *s = p;
		p = nl ? nl + 1 : e;
		while (s < e && isspace((unsigned char)*s))
			s++;
		if (s == e || *s == '#')
			continue;
		if (regex) {
			if (ll >= 2 && (strncasecmp(s, "if", 2) == 0 ||
					strncasecmp(s, "endif", 5) == 0))
				continue;
			char d = *s;
			const char *q = memchr(s + 1, d, (size_t)(e - s - 1));
			if (!q)
				continue;
			const char *act = q + 1;
			while (act < e && isalpha((unsigned char)*act))
				act++; /* flags */
			char a[64];
			snprintf(a, sizeof(a), "%.*s", (int)(e - act), act);
			if (akey_add(t, s, (size_t)(q - s + 1), action_ok(a),
				     true) < 0)
				return -1;
			continue;
		}
		const char *k = s;
		while (s < e && !isspace((unsigned char)*s))
			s++;
		char a[64];
		snprintf(a, sizeof(a), "%.*s", (int)(e - s), s);
		if (akey_add(t, k, (size_t)(s - k), action_ok(a), false) < 0)
			return -1;
	}
	return 0;
}

static int table_load(const struct pctx *x, const char *spec, struct atable *t)
{
	memset(t, 0, sizeof(*t));
	while (strncasecmp(spec, "proxy:", 6) == 0)
		spec += 6;
	const char *colon = strchr(spec, ':');
	if (!colon) {
		t->unreadable = true;
		snprintf(t->why, sizeof(t->why), "'%.80s' is not type:name", spec);
		return 0;
	}
	size_t tl = (size_t)(colon - spec);
	const char *name = colon + 1;
	if (tl == 6 && strncasecmp(spec, "inline", 6) == 0) {
		size_t n = strlen(name);
		if (n < 2 || name[0] != '{' || name[n - 1] != '}') {
			t->unreadable = true;
			snprintf(t->why, sizeof(t->why), "bad inline table");
			return 0;
		}
		char *in = rp_strndup(name + 1, n - 2);
		struct items it;
		if (!in || split_list(in, &it) < 0) {
			free(in);
			return -1;
		}
		int rc = 0;
		for (size_t i = 0; i < it.n && rc == 0; i++) {
			char *e = it.v[i];
			size_t el = strlen(e);
			if (el >= 2 && e[0] == '{' && e[el - 1] == '}') {
				e[el - 1] = '\0';
				e++;
			}
			char *eq = strchr(e, '=');
			if (!eq)
				continue;
			char *k = e;
			while (isspace((unsigned char)*k))
				k++;
			size_t kl = (size_t)(eq - k);
			while (kl && isspace((unsigned char)k[kl - 1]))
				kl--;
			rc = akey_add(t, k, kl, action_ok(eq + 1), false);
		}
		items_free(&it);
		free(in);
		return rc;
	}
	if (tl == 6 && strncasecmp(spec, "static", 6) == 0) {
		char v[128];
		size_t n = strlen(name);
		if (n >= 2 && name[0] == '{' && name[n - 1] == '}')
			snprintf(v, sizeof(v), "%.*s", (int)(n - 2), name + 1);
		else
			snprintf(v, sizeof(v), "%s", name);
		return akey_add(t, "*", 1, action_ok(v), true);
	}
	static const char *const files[] = {"hash", "texthash", "lmdb", "cdb",
					     "btree", "dbm", "sdbm"};
	bool kv = false, rx = false, cidr = false;
	for (size_t i = 0; i < RP_ARRAY_LEN(files); i++)
		if (strlen(files[i]) == tl && strncasecmp(spec, files[i], tl) == 0)
			kv = true;
	if ((tl == 6 && strncasecmp(spec, "regexp", 6) == 0) ||
	    (tl == 4 && strncasecmp(spec, "pcre", 4) == 0))
		rx = true;
	if (tl == 4 && strncasecmp(spec, "cidr", 4) == 0)
		cidr = true;
	if (!kv && !rx && !cidr) {
		t->unreadable = true;
		snprintf(t->why, sizeof(t->why),
			 "%.*s tables cannot be read offline", (int)tl, spec);
		return 0;
	}
	if (!x->io || !x->io->read) {
		t->unreadable = true;
		snprintf(t->why, sizeof(t->why), "no file access");
		return 0;
	}
	char *buf = NULL, e[200];
	size_t len = 0;
	if (x->io->read(x->io->ctx, name, &buf, &len, e, sizeof(e)) < 0) {
		t->unreadable = true;
		snprintf(t->why, sizeof(t->why), "%s", e);
		return 0;
	}
	if (memchr(buf, '\0', len)) {
		free(buf);
		t->unreadable = true;
		snprintf(t->why, sizeof(t->why), "%.120s: binary data", name);
		return 0;
	}
	int rc = table_lines(t, buf, rx);
	free(buf);
	return rc;
}

static void table_free(struct atable *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].key);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* key matches domain d as an access-map domain key. */
static bool dom_match(const char *key, const char *d, bool parent)
{
	if (!d || !*d || !*key)
		return false;
	if (strcasecmp(key, d) == 0)
		return true;
	size_t kl = strlen(key), dl = strlen(d);
	if (key[0] == '.')
		return dl > kl && strcasecmp(d + dl - kl, key) == 0;
	return parent && dl > kl + 1 && d[dl - kl - 1] == '.' &&
	       strcasecmp(d + dl - kl, key) == 0;
}

/* --- mynetworks ------------------------------------------------------------- */

static int pend_add(struct pctx *x, const char *id, const char *fix, char *msg)
{
	if (!msg)
		return -1;
	if (x->npend >= RP_ARRAY_LEN(x->pend)) {
		free(msg);
		return 0;
	}
	char *f = fix ? rp_strdup(fix) : NULL;
	if (fix && !f) {
		free(msg);
		return -1;
	}
	x->pend[x->npend++] = (struct mynet_pend){id, msg, f};
	return 0;
}

/* Returns TB_ALL when mynetworks lets an outsider (or --client) relay via
 * permit_mynetworks, 0 otherwise; reports the ranges. */
static uint32_t eval_mynetworks(struct pctx *x)
{
	struct loc l;
	locate(x, "mynetworks", &l);
	char *v = value(x, "mynetworks");
	if (!v) {
		x->oom = true;
		return 0;
	}
	uint32_t m = 0;
	const char *fixv = "127.0.0.0/8 [::1]/128";
	if (!*v) {
		char *style = value(x, "mynetworks_style");
		struct loc sl;
		locate(x, "mynetworks_style", &sl);
		if (style && (strcasecmp(style, "subnet") == 0 ||
			      strcasecmp(style, "class") == 0)) {
			char *fx = rp_asprintf("mynetworks = %s", fixv);
			if (cfg_add(x->r, "mynetworks-style", SEV_WARNING,
				    CFG_HARDENING, sl.file, sl.line, svc_label(x),
				    sl.evidence, "", fx,
				    "mynetworks is not set, so Postfix trusts "
				    "every host of %s: behind NAT or on a shared "
				    "network that is every machine there, each "
				    "of which may relay",
				    strcasecmp(style, "class") == 0
					? "the whole class A/B/C network of each "
					  "interface"
					: "every subnet this host is attached to") < 0)
				x->oom = true;
			free(fx);
		}
		free(style);
		free(v);
		return 0;
	}
	struct items it;
	if (split_list(v, &it) < 0) {
		x->oom = true;
		free(v);
		return 0;
	}
	for (size_t i = 0; i < it.n; i++) {
		const char *e = it.v[i];
		bool neg = e[0] == '!';
		if (neg)
			e++;
		struct netrange n;
		if (netrange_parse(e, &n) < 0) {
			if (cfg_add(x->r, "mynetworks-unverifiable", SEV_INFO,
				    CFG_HARDENING, l.file, l.line, svc_label(x),
				    l.evidence, "", NULL,
				    "'%s' (a table, file or host name) cannot be "
				    "evaluated here; check what it holds", e) < 0)
				x->oom = true;
			continue;
		}
		if (neg)
			continue; /* exclusions only narrow */
		char *fx = fix_line(&l, "mynetworks", fixv);
		enum net_breadth b = netrange_breadth(&n);
		int rc = 0;
		if (b == NET_INTERNET) {
			m |= TB_ALL;
			rc = pend_add(x, "mynetworks-open", fx,
				      rp_asprintf("mynetworks holds %s: "
						  "permit_mynetworks lets any "
						  "client in it relay anything "
						  "(every technique passes)", e));
		} else if (b == NET_PUBLIC_WIDE) {
			rc = cfg_add(x->r, "mynetworks-public-range", SEV_WARNING,
				     CFG_HARDENING, l.file, l.line, svc_label(x),
				     l.evidence, "", fx,
				     "mynetworks holds the public range %s: every "
				     "host in it may relay; list only your own "
				     "servers", e);
		} else if (b == NET_PRIVATE_WIDE) {
			rc = cfg_add(x->r, "mynetworks-private-range", SEV_WARNING,
				     CFG_HARDENING, l.file, l.line, svc_label(x),
				     l.evidence, "", fx,
				     "mynetworks holds the whole private range %s: "
				     "behind NAT, a VPN or a shared network every "
				     "host there (and any malware on it) may "
				     "relay", e);
		}
		if (rc == 0 && x->have_client && netrange_contains(&n, &x->client) &&
		    b != NET_INTERNET) {
			m |= TB_ALL;
			rc = pend_add(x, "mynetworks-trusts-client", fx,
				      rp_asprintf("mynetworks holds %s, which "
						  "contains the client %s: it may "
						  "relay anything", e,
						  x->o->client));
		}
		free(fx);
		if (rc < 0)
			x->oom = true;
	}
	items_free(&it);
	free(v);
	return m;
}

/* --- restriction lists -------------------------------------------------------- */

static bool is_blocker(const char *w)
{
	static const char *const b[] = {
	    "reject_unauth_destination", "defer_unauth_destination", "reject",
	    "defer", "defer_if_permit", "check_relay_domains"};
	for (size_t i = 0; i < RP_ARRAY_LEN(b); i++)
		if (strcasecmp(w, b[i]) == 0)
			return true;
	return false;
}

/* Restrictions followed by one argument. */
static bool takes_arg(const char *w)
{
	if (strncasecmp(w, "check_", 6) == 0)
		return strcasecmp(w, "check_relay_domains") != 0;
	static const char *const a[] = {
	    "reject_rbl_client", "reject_rhsbl_client", "reject_rhsbl_sender",
	    "reject_rhsbl_helo", "reject_rhsbl_recipient",
	    "reject_rhsbl_reverse_client", "permit_dnswl_client",
	    "permit_rhswl_client", "reject_dnsbl_client", "reject_maps_rbl"};
	for (size_t i = 0; i < RP_ARRAY_LEN(a); i++)
		if (strcasecmp(w, a[i]) == 0)
			return true;
	return false;
}

/* A pending finding about one item of a list; reported only if what it
 * lets through also gets through the other list. */
struct hole {
	const char *id;
	enum severity sev;
	enum cfg_effect eff;
	uint32_t mask;
	char *msg;
	const char *item;
};

struct holes {
	struct hole v[64];
	size_t n;
};

static void hole_add(struct holes *h, const char *id, enum severity sev,
		     enum cfg_effect eff, uint32_t mask, const char *item,
		     char *msg)
{
	if (h->n >= RP_ARRAY_LEN(h->v) || !msg) {
		free(msg);
		return;
	}
	h->v[h->n++] = (struct hole){id, sev, eff, mask, msg, item};
}

struct listres {
	bool has_blocker;
	uint32_t pass;        /* techniques that get through the list */
	uint32_t maybe;       /* may get through (unreadable tables) */
	size_t blocker_index; /* index in items of the first blocker */
};

/* Evaluates an access check. Returns the techniques it permits. */
static uint32_t access_hole(struct pctx *x, const char *what, const char *spec,
			    struct holes *h, const char *item)
{
	struct atable t;
	if (table_load(x, spec, &t) < 0) {
		x->oom = true;
		return 0;
	}
	uint32_t m = 0;
	bool sender = strcasecmp(what, "check_sender_access") == 0;
	bool helo = strcasecmp(what, "check_helo_access") == 0;
	bool client = strcasecmp(what, "check_client_access") == 0;
	bool rcpt = strcasecmp(what, "check_recipient_access") == 0;
	bool dns = strncasecmp(what, "check_sender_", 13) == 0 ||
		   strncasecmp(what, "check_helo_", 11) == 0;
	if (t.unreadable) {
		if (sender || helo || client || dns || rcpt)
			hole_add(h, "relay-access-unverifiable", SEV_WARNING,
				 CFG_MAY_RELAY, TB_GENERIC, item,
				 rp_asprintf("%s %s cannot be read (%s): any OK "
					     "in it lets an outsider relay",
					     what, spec, t.why));
		table_free(&t);
		return 0;
	}
	char keys[400] = "";
	size_t kn = 0;
	char *null_key = value(x, "smtpd_null_access_lookup_key");
	for (size_t i = 0; i < t.n; i++) {
		const struct akey *k = &t.v[i];
		if (!k->ok)
			continue;
		cfg_append(keys, sizeof(keys), &kn, "%s%s", kn ? ", " : "", k->key);
		uint32_t km = 0;
		if (k->pattern) {
			km = TB_GENERIC;
		} else if (sender) {
			if (null_key && strcasecmp(k->key, null_key) == 0)
				km |= TB_T01;
			const char *at = strrchr(k->key, '@');
			const char *d = at ? at + 1 : k->key;
			if (at && at == k->key + strlen(k->key) - 1)
				d = "";
			if (dom_match(d, x->myhostname, x->parent_access) && !at)
				km |= TB_T03;
			if (dom_match(d, x->mydomain, x->parent_access) && !at)
				km |= TB_T04;
			if (strcasecmp(d, "localhost") == 0 && !at)
				km |= TB_T07;
			km |= TB_GENERIC;
		} else if (helo) {
			km = TB_GENERIC;
			if (dom_match(k->key, x->myhostname, x->parent_access))
				km |= TB_T09;
		} else if (client) {
			if (x->have_client) {
				struct netrange n;
				size_t cl = strlen(x->o->client), kl = strlen(k->key);
				if ((netrange_parse(k->key, &n) == 0 &&
				     netrange_contains(&n, &x->client)) ||
				    (kl < cl && strncmp(x->o->client, k->key, kl) == 0 &&
				     x->o->client[kl] == '.'))
					km = TB_ALL;
			}
		} else if (rcpt) {
			if (!strchr(k->key, '.') || strcmp(k->key, ".") == 0 ||
			    (k->key[0] == '.' && !strchr(k->key + 1, '.')))
				km = TB_ALL;
		} else if (dns) {
			km = TB_GENERIC;
		}
		m |= km;
	}
	free(null_key);
	char tech[160];
	mask_names(m, tech, sizeof(tech));
	if (m && sender)
		hole_add(h, "relay-sender-access", SEV_CRITICAL, CFG_RELAYS, m, item,
			 rp_asprintf("%s %s returns OK for %s: anyone who puts "
				     "such a sender in MAIL FROM relays%s%s%s",
				     what, spec, keys, *tech ? " (" : "",
				     *tech ? tech : "", *tech ? ")" : ""));
	else if (m && helo)
		hole_add(h, "relay-helo-access", SEV_CRITICAL, CFG_RELAYS, m, item,
			 rp_asprintf("%s %s returns OK for %s: anyone who says "
				     "EHLO with such a name relays%s%s%s",
				     what, spec, keys, *tech ? " (" : "",
				     *tech ? tech : "", *tech ? ")" : ""));
	else if (m && client)
		hole_add(h, "relay-client-access", SEV_CRITICAL, CFG_RELAYS, m, item,
			 rp_asprintf("%s %s returns OK for the client %s: it "
				     "may relay anything", what, spec,
				     x->o->client));
	else if (m && rcpt)
		hole_add(h, "relay-recipient-access", SEV_CRITICAL, CFG_RELAYS, m,
			 item,
			 rp_asprintf("%s %s returns OK for whole top-level "
				     "domains (%s): anyone may relay to them",
				     what, spec, keys));
	else if (m && dns)
		hole_add(h, "relay-dns-access", SEV_CRITICAL, CFG_RELAYS, m, item,
			 rp_asprintf("%s %s returns OK for %s: these lookups use "
				     "DNS data of the sender's domain, which the "
				     "sender controls", what, spec, keys));
	else if (kn && client)
		hole_add(h, "relay-client-access", SEV_WARNING, CFG_HARDENING, 0,
			 item,
			 rp_asprintf("%s %s lets these clients relay: %s; make "
				     "sure each is yours", what, spec, keys));
	else if (kn && rcpt)
		hole_add(h, "relay-recipient-access", SEV_WARNING, CFG_HARDENING,
			 0, item,
			 rp_asprintf("%s %s relays to %s for any client (a backup "
				     "MX setting belongs in relay_domains)",
				     what, spec, keys));
	table_free(&t);
	return m;
}

static struct listres eval_list(struct pctx *x, const char *pname,
				const struct items *it, uint32_t mynets,
				struct holes *h)
{
	struct listres res = {.blocker_index = it->n};
	uint32_t pass = 0;
	for (size_t i = 0; i < it->n; i++) {
		const char *w = it->v[i];
		if (strcasecmp(w, "warn_if_reject") == 0) {
			i++; /* the next restriction only warns */
			if (i < it->n && takes_arg(it->v[i]))
				i++;
			continue;
		}
		if (is_blocker(w)) {
			res.has_blocker = true;
			res.blocker_index = i;
			res.pass = pass;
			return res;
		}
		if (strcasecmp(w, "permit") == 0) {
			/* Postfix ignores everything after a plain permit
			 * (it warns), the relay check included: this list
			 * lets everything through, and only the other list
			 * can still refuse relaying. */
			hole_add(h, "relay-permit", SEV_CRITICAL, CFG_RELAYS, TB_ALL,
				 w,
				 rp_asprintf("%s has a plain 'permit'%s: Postfix "
					     "ignores what follows it, so this list "
					     "lets every client relay (every "
					     "technique passes) unless the other "
					     "list refuses", pname,
					     i + 1 < it->n ? " before the relay "
							     "check" : ""));
			res.pass = TB_ALL;
			res.blocker_index = it->n;
			return res;
		} else if (strcasecmp(w, "permit_mynetworks") == 0) {
			pass |= mynets;
			if (mynets)
				hole_add(h, "(mynetworks)", SEV_CRITICAL,
					 CFG_RELAYS, mynets, w, rp_strdup(""));
		} else if (strcasecmp(w, "permit_inet_interfaces") == 0) {
			if (x->have_client && !x->client_on_ifs) {
				char *ifs = value(x, "inet_interfaces");
				x->client_on_ifs = ifs && list_has(ifs, x->o->client)
						       ? 2
						       : 1;
				free(ifs);
			}
			if (x->client_on_ifs == 2) {
				pass |= TB_ALL;
				hole_add(h, "relay-inet-interfaces", SEV_CRITICAL,
					 CFG_RELAYS, TB_ALL, w,
					 rp_asprintf("permit_inet_interfaces "
						     "trusts %s",
						     x->o->client));
			}
		} else if (strcasecmp(w, "permit_mx_backup") == 0) {
			hole_add(h, "permit-mx-backup", SEV_WARNING, CFG_HARDENING, 0,
				 w,
				 rp_asprintf("%s: permit_mx_backup relays for any "
					     "domain whose MX names this host, and "
					     "anyone can publish such an MX; list "
					     "backup domains in relay_domains",
					     pname));
		} else if (strcasecmp(w, "permit_tls_all_clientcerts") == 0) {
			hole_add(h, "permit-any-client-cert", SEV_WARNING,
				 CFG_HARDENING, 0, w,
				 rp_asprintf("%s: permit_tls_all_clientcerts lets "
					     "any client with a certificate from "
					     "any trusted CA relay; use "
					     "permit_tls_clientcerts with "
					     "relay_clientcerts", pname));
		} else if (takes_arg(w)) {
			const char *arg = i + 1 < it->n ? it->v[i + 1] : "";
			if (i + 1 < it->n)
				i++;
			if (strncasecmp(w, "check_", 6) == 0 &&
			    strlen(w) > 7 && strcasecmp(w + strlen(w) - 7, "_access") == 0 &&
			    strcasecmp(w, "check_policy_service") != 0)
				pass |= access_hole(x, w, arg, h, w);
		}
	}
	res.pass = TB_ALL; /* the end of a list lets the rest through */
	return res;
}

/* The list with the items in `bad` moved after the first blocker (a
 * blocker added when there is none): the corrected restriction list. */
static char *corrected(const struct items *it, const struct listres *lr,
		       const struct holes *h)
{
	size_t cap = 64;
	for (size_t i = 0; i < it->n; i++)
		cap += strlen(it->v[i]) + 2;
	cap += 40;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	size_t n = 0;
	out[0] = '\0';
	/* Indices of offending items (and their arguments). */
	bool *bad = calloc(it->n + 1, sizeof(bool));
	if (!bad) {
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < it->n && i < lr->blocker_index; i++) {
		for (size_t k = 0; k < h->n; k++)
			if (h->v[k].item == it->v[i] && h->v[k].eff != CFG_HARDENING) {
				bad[i] = true;
				if (takes_arg(it->v[i]) && i + 1 < it->n)
					bad[i + 1] = true;
			}
	}
	for (size_t i = 0; i < it->n; i++) {
		if (bad[i])
			continue;
		if (i == lr->blocker_index) {
			cfg_append(out, cap, &n, "%s%s", n ? ", " : "", it->v[i]);
			/* the moved items follow the blocker */
			for (size_t k = 0; k < it->n; k++)
				if (bad[k] && strcasecmp(it->v[k], "permit") != 0 &&
				    !(k > 0 && bad[k - 1] && takes_arg(it->v[k - 1])))
					cfg_append(
					    out, cap, &n, ", %s%s%s", it->v[k],
					    takes_arg(it->v[k]) && k + 1 < it->n ? " " : "",
					    takes_arg(it->v[k]) && k + 1 < it->n
						? it->v[k + 1] : "");
			continue;
		}
		cfg_append(out, cap, &n, "%s%s", n ? ", " : "", it->v[i]);
	}
	bool kept_blocker = false;
	for (size_t i = 0; i < it->n; i++)
		if (!bad[i] && is_blocker(it->v[i]))
			kept_blocker = true;
	if (!kept_blocker)
		cfg_append(out, cap, &n, "%sreject_unauth_destination",
			   n ? ", " : "");
	free(bad);
	return out;
}

static void report_holes(struct pctx *x, const char *pname, const struct loc *l,
			 const struct items *it, const struct listres *lr,
			 struct holes *h, uint32_t other_pass)
{
	char *fixed = NULL;
	for (size_t k = 0; k < h->n; k++) {
		const struct hole *o = &h->v[k];
		enum cfg_effect eff = o->eff;
		enum severity sev = o->sev;
		const char *shadow = "";
		if (eff == CFG_RELAYS && !(o->mask & other_pass)) {
			/* The other list refuses what this one lets in: not a
			 * relay today, but one edit away from it. */
			eff = CFG_HARDENING;
			sev = SEV_WARNING;
			shadow = "; the other restriction list refuses relaying, "
				 "so this is not an open relay as configured";
		}
		char tech[160];
		mask_names(o->mask, tech, sizeof(tech));
		if (strcmp(o->id, "(mynetworks)") == 0) {
			struct loc ml;
			locate(x, "mynetworks", &ml);
			for (size_t q = 0; q < x->npend; q++)
				if (cfg_add(x->r, x->pend[q].id, sev, eff,
					    ml.file, ml.line, svc_label(x),
					    ml.evidence,
					    eff == CFG_RELAYS ? tech : "",
					    x->pend[q].fix, "%s (reached through %s)%s",
					    x->pend[q].msg, pname, shadow) < 0)
					x->oom = true;
			continue;
		}
		char *fix = NULL;
		if (o->eff != CFG_HARDENING) {
			if (!fixed)
				fixed = corrected(it, lr, h);
			fix = fixed ? fix_line(l, pname, fixed) : NULL;
		}
		if (cfg_add(x->r, o->id, sev, eff, l->file, l->line, svc_label(x),
			    l->evidence, eff == CFG_RELAYS ? tech : "", fix,
			    "%s%s", o->msg, shadow) < 0)
			x->oom = true;
		free(fix);
	}
	free(fixed);
}

static void eval_restrictions(struct pctx *x, uint32_t mynets)
{
	static const char *const names[2] = {"smtpd_relay_restrictions",
					     "smtpd_recipient_restrictions"};
	struct items it[2] = {{0}};
	struct holes *h = calloc(2, sizeof(struct holes));
	struct listres lr[2];
	struct loc l[2];
	if (!h) {
		x->oom = true;
		return;
	}
	for (int i = 0; i < 2; i++) {
		locate(x, names[i], &l[i]);
		char *v = value(x, names[i]);
		if (!v || split_list(v, &it[i]) < 0)
			x->oom = true;
		free(v);
		lr[i] = eval_list(x, names[i], &it[i], mynets, &h[i]);
	}
	if (!lr[0].has_blocker && !lr[1].has_blocker) {
		char *fx = fix_line(&l[0], names[0],
				    "permit_mynetworks, permit_sasl_authenticated, "
				    "reject_unauth_destination");
		if (cfg_add(x->r, "no-relay-restriction", SEV_CRITICAL,
			    CFG_HARDENING, l[0].file, l[0].line, svc_label(x),
			    l[0].evidence, "", fx,
			    "neither smtpd_relay_restrictions nor "
			    "smtpd_recipient_restrictions has "
			    "reject_unauth_destination (or defer_unauth_destination, "
			    "reject, defer): Postfix refuses to run smtpd with "
			    "this (fatal error), and without that refusal it "
			    "would relay for everybody") < 0)
			x->oom = true;
		free(fx);
		x->r->verdict = V_INCONCLUSIVE;
	} else {
		report_holes(x, names[0], &l[0], &it[0], &lr[0], &h[0], lr[1].pass);
		report_holes(x, names[1], &l[1], &it[1], &lr[1], &h[1], lr[0].pass);
	}
	for (int i = 0; i < 2; i++) {
		for (size_t k = 0; k < h[i].n; k++)
			free(h[i].v[k].msg);
		items_free(&it[i]);
	}
	free(h);
}

/* --- the other settings -------------------------------------------------------- */

static bool yes(const char *v)
{
	return v && (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
		     strcmp(v, "1") == 0);
}

static void simple(struct pctx *x, const char *name, const char *id,
		   enum severity sev, enum cfg_effect eff, const char *tech,
		   const char *fixv, const char *why)
{
	struct loc l;
	locate(x, name, &l);
	char *fx = fix_line(&l, name, fixv);
	if (cfg_add(x->r, id, sev, eff, l.file, l.line, svc_label(x), l.evidence,
		    tech, fx, "%s", why) < 0)
		x->oom = true;
	free(fx);
}

static void eval_other(struct pctx *x)
{
	/* relay_domains: whole top-level domains. */
	struct items it, dest = {0};
	if (x->relay_domains && split_list(x->relay_domains, &it) == 0) {
		/* mydestination sorted to look domains up in, and each
		 * domain's first occurrence: one finding per domain, however
		 * often an expanded list repeats it. */
		bool *first = NULL;
		if (sorted_items(x->mydestination, &dest) < 0 ||
		    !(first = first_occurrences(&it)))
			x->oom = true;
		for (size_t i = 0; i < it.n && !x->oom; i++) {
			const char *d = it.v[i];
			if (strchr(d, ':') || d[0] == '/')
				continue;
			const char *dd = d[0] == '.' ? d + 1 : d;
			if (!*dd || strchr(dd, '.') || strcasecmp(dd, "localhost") == 0 ||
			    strcasecmp(dd, "localdomain") == 0 ||
			    sorted_has(&dest, d))
				continue;
			if (!first[i])
				continue;
			if (d[0] != '.' && !x->parent_relay)
				continue;
			struct loc l;
			locate(x, "relay_domains", &l);
			char *why = rp_asprintf(
			    "relay_domains holds '%s', which matches every "
			    "domain under it: anyone may relay to all of them", d);
			char *fx = fix_line(&l, "relay_domains",
					    "(only the domains you are backup MX for)");
			if (!why || cfg_add(x->r, "relay-domains-too-broad",
					    SEV_CRITICAL, CFG_RELAYS, l.file, l.line,
					    svc_label(x), l.evidence, "T02", fx,
					    "%s", why) < 0)
				x->oom = true;
			free(why);
			free(fx);
		}
		free(first);
		items_free(&dest);
		items_free(&it);
	}
	char *v = value(x, "allow_untrusted_routing");
	if (yes(v)) {
		bool rd = x->relay_domains && *x->relay_domains;
		simple(x, "allow_untrusted_routing", "untrusted-routing",
		       rd ? SEV_CRITICAL : SEV_WARNING, CFG_HARDENING, "", "no",
		       rd ? "allow_untrusted_routing = yes lets outsiders send "
			    "user%elsewhere@ and elsewhere!user@ addresses at "
			    "relay_domains, which the next hop then forwards "
			    "(routing tricks T11, T12, T21, T22 through a backup "
			    "MX)"
			  : "allow_untrusted_routing = yes: sender-specified "
			    "routing would be forwarded as soon as relay_domains "
			    "is set");
	}
	free(v);
	const struct pf_param *p;
	if ((p = pf_lookup(x->c, x->svc, "allow_percent_hack")) && yes(p->value))
		simple(x, "allow_percent_hack", "percent-hack", SEV_INFO,
		       CFG_HARDENING, "", "no",
		       "allow_percent_hack = yes rewrites user%domain@here to "
		       "user@domain; reject_unauth_destination still sees the "
		       "rewritten domain, so this is not a relay by itself (T11, "
		       "T12 are refused), but nothing needs it today");
	if ((p = pf_lookup(x->c, x->svc, "swap_bangpath")) && yes(p->value))
		simple(x, "swap_bangpath", "bang-path", SEV_INFO, CFG_HARDENING,
		       "", "no",
		       "swap_bangpath = yes rewrites site!user to user@site; "
		       "the relay check sees the rewritten domain (T20-T22 are "
		       "refused), but UUCP paths are not needed today");
	char *sasl = value(x, "smtpd_sasl_auth_enable");
	char *tao = value(x, "smtpd_tls_auth_only");
	if (yes(sasl) && !yes(tao))
		simple(x, "smtpd_tls_auth_only", "auth-without-tls", SEV_WARNING,
		       CFG_HARDENING, "", "yes",
		       "SASL is enabled and smtpd_tls_auth_only is not: AUTH "
		       "(and passwords) can cross the network in plaintext");
	free(sasl);
	free(tao);
	char *vr = value(x, "disable_vrfy_command");
	if (vr && !yes(vr))
		simple(x, "disable_vrfy_command", "vrfy-enabled", SEV_WARNING,
		       CFG_HARDENING, "", "yes",
		       "VRFY answers: address harvesters can tell real users "
		       "from made-up ones");
	free(vr);
	struct loc bl;
	locate(x, "smtpd_banner", &bl);
	const struct pf_param *bp = pf_lookup(x->c, x->svc, "smtpd_banner");
	if (bp && (strstr(bp->value, "$mail_version") ||
		   strstr(bp->value, "${mail_version}") ||
		   strstr(bp->value, "$(mail_version)"))) {
		char *fx = fix_line(&bl, "smtpd_banner", "$myhostname ESMTP");
		if (cfg_add(x->r, "version-disclosed", SEV_WARNING, CFG_HARDENING,
			    bl.file, bl.line, svc_label(x), bl.evidence, "", fx,
			    "the banner shows $mail_version: attackers learn "
			    "which exploits to try") < 0)
			x->oom = true;
		free(fx);
	}
}

/* --- the services ------------------------------------------------------------- */

static void eval_service(struct pctx *x)
{
	x->client_on_ifs = 0; /* a service may override inet_interfaces */
	char *hn = value(x, "myhostname");
	char *dn = value(x, "mydomain");
	x->myhostname = lower_dup(hn);
	x->mydomain = lower_dup(dn);
	free(hn);
	free(dn);
	x->mydestination = value(x, "mydestination");
	x->relay_domains = value(x, "relay_domains");
	char *pm = value(x, "parent_domain_matches_subdomains");
	x->parent_access = pm && list_has(pm, "smtpd_access_maps");
	x->parent_relay = pm && list_has(pm, "relay_domains");
	free(pm);
	if (!x->myhostname || !x->mydomain || !x->mydestination ||
	    !x->relay_domains)
		x->oom = true;
	uint32_t mynets = eval_mynetworks(x);
	eval_restrictions(x, mynets);
	eval_other(x);
	for (size_t i = 0; i < x->npend; i++) {
		free(x->pend[i].msg);
		free(x->pend[i].fix);
	}
	x->npend = 0;
	free(x->myhostname);
	free(x->mydomain);
	free(x->mydestination);
	free(x->relay_domains);
	x->myhostname = x->mydomain = x->mydestination = x->relay_domains = NULL;
}

static bool is_smtpd(const struct pf_service *s)
{
	return strcmp(s->command, "smtpd") == 0 &&
	       (strcmp(s->type, "inet") == 0 || strcmp(s->type, "pass") == 0);
}

int pf_evaluate(const struct pf_conf *c, const struct cfg_io *io,
		const struct cfg_options *o, struct cfg_report *r, char *err,
		size_t errlen)
{
	struct pctx x = {.c = c, .io = io, .o = o, .r = r};
	r->mta = "postfix";
	if (o && o->client) {
		if (netrange_parse(o->client, &x.client) < 0) {
			snprintf(err, errlen, "--client must be an IP address, "
				 "not '%.60s'", o->client);
			return -1;
		}
		x.have_client = true;
	}
	size_t n = 0;
	for (size_t i = 0; i < c->nsvc; i++) {
		if (!is_smtpd(&c->svc[i]))
			continue;
		x.svc = &c->svc[i];
		snprintf(x.label, sizeof(x.label), "%s/%s", x.svc->name,
			 x.svc->type);
		if (cfg_add_service(r, x.label) < 0)
			x.oom = true;
		eval_service(&x);
		n++;
	}
	if (n == 0) {
		x.svc = NULL;
		eval_service(&x);
	}
	if (x.oom && x.bad_param[0]) {
		snprintf(err, errlen,
			 "cannot expand %s: a $parameter loop (fatal to Postfix "
			 "as well), nesting deeper than 20 levels, more than %d "
			 "references or a value over %d KiB",
			 x.bad_param, PF_MAX_EXPANSION_STEPS,
			 PF_MAX_EXPANSION / 1024);
		return -1;
	}
	if (x.oom || cfg_decide(r) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}
