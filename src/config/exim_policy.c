#include "config/exim_policy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/netrange.h"

/* Tri-state answers: can the attacker make a condition true / is it true
 * whatever the attacker does. */
enum tri { NO = 0, MAYBE = 1, YES = 2 };

static enum tri tri_min(enum tri a, enum tri b)
{
	return a < b ? a : b;
}

static enum tri tri_not(enum tri a)
{
	return (enum tri)(2 - a);
}

struct ectx {
	const struct ex_conf *c;
	const struct cfg_options *o;
	struct cfg_report *r;
	bool client_mode;       /* judging the --client address */
	struct netrange client;
	const char *primary;    /* primary_hostname, or "" */
	bool oom;
};

/* --- Exim lists -------------------------------------------------------------- */

struct elist {
	char **v;
	size_t n;
};

/* Splits an Exim list: separator ':' unless the list starts with "<c";
 * a doubled separator is a literal one. */
static int split_elist(const char *s, struct elist *l)
{
	l->v = NULL;
	l->n = 0;
	char sep = ':';
	while (*s == ' ' || *s == '\t')
		s++;
	if (s[0] == '<' && s[1] && !isspace((unsigned char)s[1]) &&
	    !isalnum((unsigned char)s[1])) {
		sep = s[1];
		s += 2;
	}
	size_t len = strlen(s);
	char *item = malloc(len + 1);
	if (!item)
		return -1;
	size_t i = 0;
	for (;;) {
		size_t n = 0;
		while (i < len) {
			if (s[i] == sep) {
				if (s[i + 1] == sep) {
					item[n++] = sep;
					i += 2;
					continue;
				}
				break;
			}
			item[n++] = s[i++];
		}
		item[n] = '\0';
		char *t = item;
		while (*t == ' ' || *t == '\t')
			t++;
		size_t tl = strlen(t);
		while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\t'))
			t[--tl] = '\0';
		if (l->n >= 100000)
			break;
		char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
		if (!v || !(v[l->n] = rp_strdup(t))) {
			if (v)
				l->v = v;
			free(item);
			return -1;
		}
		l->v = v;
		l->n++;
		if (i >= len)
			break;
		i++; /* the separator */
	}
	free(item);
	return 0;
}

static void elist_free(struct elist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static const struct ex_option *named_list(const struct ectx *x,
					  const char *kind, const char *name)
{
	for (size_t i = x->c->nopt; i-- > 0;)
		if (strcmp(x->c->opt[i].name, name) == 0 &&
		    strcmp(x->c->opt[i].kind, kind) == 0)
			return &x->c->opt[i];
	return NULL;
}

/* Which named list (relay_from_hosts...) made a host list match. */
struct why {
	const struct ex_option *via; /* the named list that matched, or NULL */
	char item[128];              /* the item that matched */
};

typedef enum tri (*item_fn)(struct ectx *x, const char *item, int depth,
			    struct why *w);

/* Exim's list rule: the first item that matches decides (a negated one
 * means no match); with no match, a list ending in a negated item
 * matches. */
static enum tri eval_list(struct ectx *x, const char *kind, const char *value,
			  item_fn fn, int depth, struct why *w)
{
	if (depth > 10)
		return MAYBE;
	struct elist l;
	if (split_elist(value, &l) < 0) {
		x->oom = true;
		return NO;
	}
	enum tri res = NO;
	bool decided = false, last_neg = false;
	for (size_t i = 0; i < l.n && !decided; i++) {
		const char *it = l.v[i];
		bool neg = false;
		while (*it == '!') {
			neg = !neg;
			it++;
			while (*it == ' ' || *it == '\t')
				it++;
		}
		last_neg = neg;
		enum tri m;
		struct why sub = {0};
		if (it[0] == '+') {
			const struct ex_option *o = named_list(x, kind, it + 1);
			m = o ? eval_list(x, kind, o->value, fn, depth + 1, &sub)
			      : NO;
			if (m != NO && o && !sub.via)
				sub.via = o;
		} else {
			m = fn(x, it, depth, &sub);
			if (m != NO)
				snprintf(sub.item, sizeof(sub.item), "%s", it);
		}
		if (m == YES) {
			res = neg ? NO : YES;
			decided = true;
			if (!neg && w)
				*w = sub;
		} else if (m == MAYBE) {
			res = MAYBE;
			if (!neg && w)
				*w = sub;
		}
	}
	if (!decided && res == NO && l.n && last_neg)
		res = YES;
	elist_free(&l);
	return res;
}

/* A host-list item against the attacker (any internet host) or --client. */
static enum tri host_item(struct ectx *x, const char *it, int depth,
			  struct why *w)
{
	(void)depth;
	(void)w;
	if (strcmp(it, "*") == 0)
		return YES;
	struct netrange n;
	if (netrange_parse(it, &n) < 0) {
		/* Exim writes IPv6 networks with dots in some lists. */
		return NO; /* names, lookups, @[]: not an outsider's address */
	}
	if (x->client_mode)
		return netrange_contains(&n, &x->client) ? YES : NO;
	return netrange_breadth(&n) == NET_INTERNET ? YES : NO;
}

/* A domain-list item against a recipient domain the attacker picks
 * outside the server's own: only wildcards can match it. */
static enum tri domain_item(struct ectx *x, const char *it, int depth,
			    struct why *w)
{
	(void)x;
	(void)depth;
	(void)w;
	if (strcmp(it, "*") == 0)
		return YES;
	if (it[0] == '*') { /* "*.com", "*com": a whole top-level domain? */
		const char *d = it + 1;
		if (*d == '.')
			d++;
		return strchr(d, '.') ? NO : YES;
	}
	if (strncmp(it, "@mx_", 4) == 0)
		return YES; /* anyone can point an MX at this host */
	if (it[0] == '^')
		return strcmp(it, "^") == 0 || strncmp(it, "^.*", 3) == 0 ? MAYBE : NO;
	return NO;
}

/* --- conditions ----------------------------------------------------------------- */

struct cres {
	enum tri can;  /* the attacker can make it true */
	enum tri must; /* it is true whatever the attacker does */
	bool modifier; /* not a condition at all */
	bool sender;   /* decided by the (forgeable) sender */
	bool hosts;    /* decided by the client address */
	char tech[64]; /* techniques a sender condition lets through */
	struct why w;
};

static bool domain_in(const struct ectx *x, const char *d, const char *listname)
{
	const struct ex_option *o = named_list(x, "domainlist", listname);
	if (!o)
		return false;
	struct elist l;
	if (split_elist(o->value, &l) < 0)
		return false;
	bool in = false;
	for (size_t i = 0; i < l.n && !in; i++)
		in = strcasecmp(l.v[i], d) == 0 ||
		     (strcmp(l.v[i], "@") == 0 && strcasecmp(d, x->primary) == 0);
	elist_free(&l);
	return in;
}

/* senders = ...: the sender is the attacker's to choose. */
static void senders_tech(struct ectx *x, const char *value, struct cres *r)
{
	struct elist l;
	if (split_elist(value, &l) < 0) {
		x->oom = true;
		return;
	}
	size_t n = 0;
	bool all = false;
	for (size_t i = 0; i < l.n; i++) {
		const char *it = l.v[i];
		if (it[0] == '!')
			continue;
		const char *id = NULL;
		if (!*it && l.n <= 2)
			id = "T01";
		else if (strcmp(it, "*") == 0)
			all = true;
		if (!*it || all) {
			if (id && !strstr(r->tech, id))
				cfg_append(r->tech, sizeof(r->tech), &n, "%s%s", n ? "," : "", id);
			continue;
		}
		const char *d = strrchr(it, '@');
		d = d ? d + 1 : it;
		if (*d == '*')
			d++;
		const char *ids[3] = {NULL, NULL, NULL};
		if (*x->primary && strcasecmp(d, x->primary) == 0)
			ids[0] = "T03";
		if (domain_in(x, d, "local_domains"))
			ids[1] = strcasecmp(d, x->primary) == 0 ? NULL : "T04";
		if (strcasecmp(d, "localhost") == 0)
			ids[2] = "T07";
		for (int k = 0; k < 3; k++)
			if (ids[k] && !strstr(r->tech, ids[k]))
				cfg_append(r->tech, sizeof(r->tech), &n, "%s%s", n ? "," : "", ids[k]);
	}
	if (all)
		snprintf(r->tech, sizeof(r->tech), "T01,T02,T03,T04,T07,T09");
	elist_free(&l);
}

static bool is_modifier(const char *n)
{
	static const char *const m[] = {
	    "message", "log_message", "logwrite", "control", "set", "delay",
	    "add_header", "remove_header", "queue", "udpsend", "continue",
	    "endpass", "debug", "log_reject_target"};
	for (size_t i = 0; i < RP_ARRAY_LEN(m); i++)
		if (strcmp(n, m[i]) == 0)
			return true;
	return false;
}

static struct cres eval_cond(struct ectx *x, const struct ex_cond *c)
{
	struct cres r = {.can = MAYBE, .must = MAYBE};
	const char *n = c->name;
	if (is_modifier(n)) {
		r.modifier = true;
		return r;
	}
	if (strcmp(n, "hosts") == 0) {
		enum tri m = eval_list(x, "hostlist", c->value, host_item, 0, &r.w);
		r.can = r.must = m;
		r.hosts = true;
	} else if (strcmp(n, "domains") == 0) {
		/* The attacker picks the domain (outside the local ones). */
		enum tri m = eval_list(x, "domainlist", c->value, domain_item, 0,
				       &r.w);
		r.can = m;
		r.must = m == YES && strcmp(c->value, "*") == 0 ? YES : m;
	} else if (strcmp(n, "senders") == 0 || strcmp(n, "sender_domains") == 0) {
		bool star = strcmp(c->value, "*") == 0;
		r.can = *c->value || strcmp(c->value, ":") == 0 ? YES : NO;
		r.must = star ? YES : NO;
		r.sender = true;
		senders_tech(x, c->value, &r);
	} else if (strcmp(n, "local_parts") == 0 || strcmp(n, "recipients") == 0) {
		r.can = YES;
		r.must = strcmp(c->value, "*") == 0 ? YES : NO;
	} else if (strcmp(n, "authenticated") == 0) {
		r.can = r.must = NO; /* an outsider has no credentials */
	} else if (strcmp(n, "verify") == 0) {
		r.can = YES; /* a real sender/recipient verifies */
		r.must = NO;
	} else if (strcmp(n, "condition") == 0) {
		const char *v = c->value;
		if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1"))
			r.can = r.must = YES;
		else if (!*v || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
			 !strcmp(v, "0"))
			r.can = r.must = NO;
	} else if (strcmp(n, "encrypted") == 0) {
		r.can = YES; /* an attacker can start TLS */
		r.must = NO;
	}
	if (c->neg) {
		enum tri can = tri_not(r.must), must = tri_not(r.can);
		r.can = can;
		r.must = must;
		r.sender = false;
	}
	return r;
}

/* --- the ACL walk ---------------------------------------------------------------- */

static void hole(struct ectx *x, const struct ex_stmt *s, enum tri can,
		 const struct cres *cr, size_t ncr)
{
	const struct cres *hosts = NULL, *sender = NULL;
	for (size_t i = 0; i < ncr; i++) {
		if (cr[i].modifier)
			continue;
		if (cr[i].hosts && cr[i].can != NO)
			hosts = &cr[i];
		if (cr[i].sender)
			sender = &cr[i];
	}
	/* What every relay path lets through (a real sender and recipient;
	 * unqualified senders and unresolvable names fail "verify = sender"). */
	const char *all = "T01,T02,T03,T04,T07,T09";
	int rc = 0;
	if (can == MAYBE) {
		rc = cfg_add(x->r, "exim-accept-unverifiable", SEV_WARNING,
			     CFG_MAY_RELAY, s->file, s->line, NULL, s->text, "",
			     "move this accept after the statement that refuses "
			     "other domains (require domains = +local_domains : "
			     "+relay_to_domains)",
			     "this accept comes before the relay refusal and "
			     "depends on a condition that cannot be evaluated "
			     "here: if an outsider can meet it, it relays");
	} else if (hosts && hosts->w.via) {
		const struct ex_option *o = hosts->w.via;
		char *ev = rp_asprintf("hostlist %s = %s", o->name, o->value);
		char *fx = rp_asprintf("hostlist %s = <; 127.0.0.1 ; ::1 (and only "
				       "your own hosts)", o->name);
		rc = cfg_add(x->r, x->client_mode ? "exim-relay-from-hosts-client"
						  : "exim-relay-from-hosts-open",
			     SEV_CRITICAL, CFG_RELAYS, o->file, o->line, NULL, ev,
			     all, fx,
			     "%s holds %s, so the statement at %s:%d ('accept "
			     "hosts = +%s') lets %s relay anything",
			     o->name, hosts->w.item, s->file, s->line, o->name,
			     x->client_mode ? x->o->client : "any internet host");
		free(ev);
		free(fx);
	} else if (hosts) {
		rc = cfg_add(x->r, x->client_mode ? "exim-accept-client"
						  : "exim-accept-any-host",
			     SEV_CRITICAL, CFG_RELAYS, s->file, s->line, NULL,
			     s->text, all,
			     "hosts = +relay_from_hosts (with relay_from_hosts "
			     "listing only your own hosts), or remove the statement",
			     "this accept matches %s (item '%s') before the relay "
			     "refusal: it may relay anything",
			     x->client_mode ? x->o->client : "any internet host",
			     hosts->w.item);
	} else if (sender) {
		rc = cfg_add(x->r, "exim-accept-sender", SEV_CRITICAL, CFG_RELAYS,
			     s->file, s->line, NULL, s->text,
			     sender->tech,
			     "authenticate your users (accept authenticated = *) "
			     "instead of trusting MAIL FROM, or move the statement "
			     "after 'require domains = +local_domains : "
			     "+relay_to_domains'",
			     "this accept trusts the sender address, which any "
			     "client can forge in MAIL FROM, before the relay "
			     "refusal");
	} else {
		rc = cfg_add(x->r, "exim-accept-unconditional", SEV_CRITICAL,
			     CFG_RELAYS, s->file, s->line, NULL, s->text, all,
			     "require message = relay not permitted\n"
			     "          domains = +local_domains : +relay_to_domains "
			     "(before this accept)",
			     "this accept is reached by any client for any "
			     "recipient domain: nothing refuses other domains "
			     "before it");
	}
	if (rc < 0)
		x->oom = true;
}

static void walk(struct ectx *x, const struct ex_acl *a)
{
	for (size_t i = 0; i < a->ns; i++) {
		const struct ex_stmt *s = &a->s[i];
		struct cres *cr = calloc(s->nc + 1, sizeof(*cr));
		if (!cr) {
			x->oom = true;
			return;
		}
		enum tri can = YES, must = YES, some_cannot = NO;
		for (size_t k = 0; k < s->nc; k++) {
			cr[k] = eval_cond(x, &s->c[k]);
			if (cr[k].modifier)
				continue;
			can = tri_min(can, cr[k].can);
			must = tri_min(must, cr[k].must);
			if (cr[k].can == NO)
				some_cannot = YES;
		}
		bool stop = false;
		const char *v = s->verb;
		if (strcmp(v, "accept") == 0) {
			if (can != NO)
				hole(x, s, can, cr, s->nc);
			stop = must == YES;
		} else if (!strcmp(v, "deny") || !strcmp(v, "drop") ||
			   !strcmp(v, "defer") || !strcmp(v, "discard")) {
			stop = must == YES;
		} else if (strcmp(v, "require") == 0) {
			stop = some_cannot == YES;
		}
		free(cr);
		if (stop)
			return;
	}
	/* The end of an ACL denies. */
}

/* --- other settings ------------------------------------------------------------- */

static void relay_from_hosts_breadth(struct ectx *x)
{
	const struct ex_option *o = named_list(x, "hostlist", "relay_from_hosts");
	if (!o)
		return;
	struct elist l;
	if (split_elist(o->value, &l) < 0) {
		x->oom = true;
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct netrange n;
		if (l.v[i][0] == '!' || netrange_parse(l.v[i], &n) < 0)
			continue;
		enum net_breadth b = netrange_breadth(&n);
		if (b != NET_PUBLIC_WIDE && b != NET_PRIVATE_WIDE)
			continue;
		char *ev = rp_asprintf("hostlist relay_from_hosts = %s", o->value);
		if (!ev || cfg_add(x->r, "exim-relay-from-hosts-broad", SEV_WARNING,
				   CFG_HARDENING, o->file, o->line, NULL, ev, "",
				   "hostlist relay_from_hosts = <; 127.0.0.1 ; ::1 "
				   "(and only your own hosts)",
				   "relay_from_hosts holds %s %s: every host there "
				   "may relay", b == NET_PUBLIC_WIDE
				   ? "the wide public range" : "the whole private range",
				   l.v[i]) < 0)
			x->oom = true;
		free(ev);
	}
	elist_free(&l);
}

static void other(struct ectx *x)
{
	const struct ex_option *b = ex_option(x->c, "smtp_banner");
	if (!b || strstr(b->value, "$version_number") ||
	    strstr(b->value, "${version_number}") ||
	    strstr(b->value, "$version_string")) {
		char *ev = b ? rp_asprintf("smtp_banner = %s", b->value) : NULL;
		if (cfg_add(x->r, "version-disclosed", SEV_WARNING, CFG_HARDENING,
			    b ? b->file : "(default)", b ? b->line : 0, NULL,
			    b ? ev : "smtp_banner = $smtp_active_hostname ESMTP "
				     "Exim $version_number $tod_full (default)",
			    "", "smtp_banner = $smtp_active_hostname ESMTP",
			    "the banner shows Exim's version: attackers learn "
			    "which exploits to try") < 0)
			x->oom = true;
		free(ev);
	}
	const struct ex_option *p = ex_option(x->c, "percent_hack_domains");
	if (p && *p->value) {
		char *ev = rp_asprintf("percent_hack_domains = %s", p->value);
		if (!ev || cfg_add(x->r, "exim-percent-hack", SEV_WARNING,
				   CFG_HARDENING, p->file, p->line, NULL, ev, "",
				   "percent_hack_domains =",
				   "user%%elsewhere@%s is rewritten and forwarded "
				   "once the ACL accepts it as local: safe only as "
				   "long as acl_check_rcpt denies local parts "
				   "containing %% (T11, T12, T14)", p->value) < 0)
			x->oom = true;
		free(ev);
	}
}

int ex_evaluate(const struct ex_conf *c, const struct cfg_options *o,
		struct cfg_report *r, char *err, size_t errlen)
{
	struct ectx x = {.c = c, .o = o, .r = r};
	r->mta = "exim";
	const struct ex_option *ph = ex_option(c, "primary_hostname");
	x.primary = ph ? ph->value : "";
	bool have_client = false;
	if (o && o->client) {
		if (netrange_parse(o->client, &x.client) < 0) {
			snprintf(err, errlen, "--client must be an IP address, "
				 "not '%.60s'", o->client);
			return -1;
		}
		have_client = true;
	}
	const struct ex_option *ar = ex_option(c, "acl_smtp_rcpt");
	if (!ar || !*ar->value) {
		if (cfg_add(r, "exim-no-rcpt-acl", SEV_INFO, CFG_HARDENING,
			    ar ? ar->file : "(default)", ar ? ar->line : 0, NULL,
			    NULL, "", "acl_smtp_rcpt = acl_check_rcpt",
			    "without an RCPT ACL Exim refuses every recipient "
			    "from SMTP clients: closed, but no mail gets in") < 0)
			x.oom = true;
	} else {
		const struct ex_acl *a = ex_acl(c, ar->value);
		size_t vl = 0;
		while (ar->value[vl] && ar->value[vl] != ' ' && ar->value[vl] != '\t')
			vl++;
		if (!a && vl == 6 && strncmp(ar->value, "accept", 6) == 0) {
			/* Inline ACL text: "acl_smtp_rcpt = accept" relays. */
			struct ex_stmt st = {.verb = "accept", .file = ar->file,
					     .line = ar->line, .text = ar->value};
			const char *rest = ar->value + vl;
			while (*rest == ' ' || *rest == '\t')
				rest++;
			if (*rest)
				hole(&x, &st, MAYBE, NULL, 0);
			else
				hole(&x, &st, YES, NULL, 0);
			a = NULL;
		} else if (!a && ((vl == 4 && strncmp(ar->value, "deny", 4) == 0) ||
				  (vl == 4 && strncmp(ar->value, "drop", 4) == 0))) {
			/* Inline "deny": every recipient refused. */
		} else if (!a) {
			snprintf(err, errlen,
				 "%s:%d: acl_smtp_rcpt names '%.60s', but no ACL "
				 "of that name is defined after 'begin acl'",
				 ar->file, ar->line, ar->value);
			return -1;
		}
		if (a)
			walk(&x, a);
		if (a && have_client) {
			x.client_mode = true;
			walk(&x, a);
			x.client_mode = false;
		}
	}
	relay_from_hosts_breadth(&x);
	other(&x);
	if (x.oom || cfg_decide(r) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}
