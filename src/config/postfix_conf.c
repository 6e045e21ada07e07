#include "config/postfix_conf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define ERR(...)                                                               \
	do {                                                                   \
		snprintf(err, errlen, __VA_ARGS__);                            \
		return -1;                                                     \
	} while (0)

/* --- logical lines ------------------------------------------------------- */

/* Iterates over logical lines: joins continuation lines (leading white
 * space) with one space, skips comments and blank lines. */
struct pf_lines {
	const char *buf;
	size_t len, pos;
	int lineno;     /* physical line number of the next line */
	const char *file;
};

/* Fills out (cap PF_MAX_LINE+1) with the next logical line; *start = its
 * first physical line. Returns 1 with a line, 0 at the end, -1 on error. */
static int next_logical(struct pf_lines *L, char *out, int *start, char *err,
			size_t errlen)
{
	size_t n = 0;
	bool have = false;
	while (L->pos < L->len) {
		const char *p = L->buf + L->pos;
		size_t rest = L->len - L->pos;
		const char *nl = memchr(p, '\n', rest);
		size_t ll = nl ? (size_t)(nl - p) : rest;
		int this_line = L->lineno;
		if (ll > PF_MAX_LINE)
			ERR("%s:%d: line longer than %d bytes", L->file,
			    this_line, PF_MAX_LINE);
		for (size_t i = 0; i < ll; i++) {
			unsigned char ch = (unsigned char)p[i];
			if (ch == 0 || (ch < 0x20 && ch != '\t' && ch != '\r') ||
			    ch == 0x7f)
				ERR("%s:%d: binary data (byte 0x%02x): not a "
				    "Postfix configuration file",
				    L->file, this_line, ch);
		}
		if (ll && p[ll - 1] == '\r')
			ll--;
		/* First non-blank. */
		size_t i = 0;
		while (i < ll && (p[i] == ' ' || p[i] == '\t'))
			i++;
		bool blank = i == ll;
		bool comment = !blank && p[i] == '#';
		bool cont = i > 0;
		if (have && !blank && !comment && !cont)
			break; /* a new logical line starts: leave it */
		L->pos += (nl ? (size_t)(nl - p) + 1 : rest);
		L->lineno++;
		if (blank || comment)
			continue;
		if (!have) {
			/* A continuation line with nothing before it is taken
			 * as a line of its own (Postfix warns likewise). */
			*start = this_line;
			have = true;
		} else if (n + 1 <= PF_MAX_LINE) {
			out[n++] = ' ';
		}
		size_t add = ll - i;
		if (n + add > PF_MAX_LINE)
			ERR("%s:%d: logical line longer than %d bytes",
			    L->file, *start, PF_MAX_LINE);
		memcpy(out + n, p + i, add);
		n += add;
	}
	if (!have)
		return 0;
	while (n && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	out[n] = '\0';
	return 1;
}

static bool valid_name(const char *s, size_t n)
{
	if (n == 0 || n > 200)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

static int params_add(struct pf_params *ps, const char *name, size_t nl,
		      const char *value, const char *file, int line)
{
	if (ps->n >= PF_MAX_PARAMS)
		return -2;
	struct pf_param *v = realloc(ps->v, (ps->n + 1) * sizeof(*v));
	if (!v)
		return -1;
	ps->v = v;
	struct pf_param *p = &v[ps->n];
	p->name = rp_strndup(name, nl);
	p->value = rp_strdup(value);
	p->file = rp_strdup(file);
	p->line = line;
	ps->n++;
	if (!p->name || !p->value || !p->file)
		return -1;
	return 0;
}

static struct pf_service *svc_add(struct pf_conf *c, const char *name,
				  size_t nl, const char *type, size_t tl,
				  const char *command, const char *file,
				  int line, const char *text)
{
	if (c->nsvc >= PF_MAX_SERVICES)
		return NULL;
	struct pf_service *v = realloc(c->svc, (c->nsvc + 1) * sizeof(*v));
	if (!v)
		return NULL;
	c->svc = v;
	struct pf_service *s = &v[c->nsvc++];
	memset(s, 0, sizeof(*s));
	s->name = rp_strndup(name, nl);
	s->type = rp_strndup(type, tl);
	s->command = rp_strdup(command);
	s->file = rp_strdup(file);
	s->line = line;
	s->text = rp_strdup(text);
	if (!s->name || !s->type || !s->command || !s->file || !s->text)
		return NULL;
	return s;
}

static struct pf_service *svc_find(struct pf_conf *c, const char *name,
				   size_t nl, const char *type, size_t tl)
{
	for (size_t i = 0; i < c->nsvc; i++)
		if (strlen(c->svc[i].name) == nl &&
		    strncmp(c->svc[i].name, name, nl) == 0 &&
		    strlen(c->svc[i].type) == tl &&
		    strncmp(c->svc[i].type, type, tl) == 0)
			return &c->svc[i];
	return NULL;
}

/* --- main.cf / postconf -n / postconf -P ----------------------------------- */

int pf_parse_main(struct pf_conf *c, const char *buf, size_t len,
		  const char *file, char *err, size_t errlen)
{
	struct pf_lines L = {.buf = buf, .len = len, .lineno = 1, .file = file};
	char *line = malloc(PF_MAX_LINE + 1);
	if (!line)
		ERR("%s: out of memory", file);
	int start = 0, rc, ret = 0;
	while ((rc = next_logical(&L, line, &start, err, errlen)) == 1) {
		char *eq = strchr(line, '=');
		if (!eq) {
			snprintf(err, errlen,
				 "%s:%d: not a 'name = value' line: '%.60s'",
				 file, start, line);
			ret = -1;
			break;
		}
		size_t nl = (size_t)(eq - line);
		while (nl && (line[nl - 1] == ' ' || line[nl - 1] == '\t'))
			nl--;
		const char *v = eq + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		/* postconf -P: service/type/name = value */
		const char *s1 = memchr(line, '/', nl);
		const char *s2 = s1 ? memchr(s1 + 1, '/', nl - (size_t)(s1 + 1 - line)) : NULL;
		int arc;
		if (s1 && s2) {
			const char *pn = s2 + 1;
			size_t pnl = nl - (size_t)(pn - line);
			if (!valid_name(pn, pnl) || s1 == line || s2 == s1 + 1) {
				snprintf(err, errlen,
					 "%s:%d: bad 'service/type/name' '%.60s'",
					 file, start, line);
				ret = -1;
				break;
			}
			struct pf_service *s =
			    svc_find(c, line, (size_t)(s1 - line), s1 + 1,
				     (size_t)(s2 - s1 - 1));
			if (!s) {
				/* postconf -P names smtpd services only by
				 * their overrides; treat them as smtpd. */
				s = svc_add(c, line, (size_t)(s1 - line), s1 + 1,
					    (size_t)(s2 - s1 - 1), "smtpd", file,
					    start, line);
				if (!s) {
					snprintf(err, errlen, "%s:%d: out of memory",
						 file, start);
					ret = -1;
					break;
				}
			}
			arc = params_add(&s->over, pn, pnl, v, file, start);
		} else {
			if (!valid_name(line, nl)) {
				snprintf(err, errlen,
					 "%s:%d: bad parameter name '%.60s'",
					 file, start, line);
				ret = -1;
				break;
			}
			arc = params_add(&c->main, line, nl, v, file, start);
		}
		if (arc < 0) {
			snprintf(err, errlen, arc == -2
				 ? "%s:%d: more than %d parameters"
				 : "%s:%d: out of memory (%d)",
				 file, start, PF_MAX_PARAMS);
			ret = -1;
			break;
		}
	}
	if (rc < 0)
		ret = -1;
	free(line);
	return ret;
}

/* --- master.cf ------------------------------------------------------------ */

/* Next whitespace-separated token of s at *i; "{ ... }" is one token (the
 * braces kept). Returns its length, 0 at the end, -1 on an open brace. */
static long next_token(const char *s, size_t *i, const char **tok)
{
	while (s[*i] == ' ' || s[*i] == '\t')
		(*i)++;
	if (!s[*i])
		return 0;
	*tok = s + *i;
	size_t st = *i;
	if (s[*i] == '{') {
		int depth = 0;
		for (; s[*i]; (*i)++) {
			if (s[*i] == '{')
				depth++;
			else if (s[*i] == '}' && --depth == 0)
				break;
		}
		if (!s[*i])
			return -1;
		(*i)++;
		return (long)(*i - st);
	}
	while (s[*i] && s[*i] != ' ' && s[*i] != '\t')
		(*i)++;
	return (long)(*i - st);
}

/* "name=value" or "{ name = value }" into the service's overrides. */
static int add_override(struct pf_service *s, const char *t, size_t tl,
			const char *file, int line)
{
	char *buf = rp_strndup(t, tl);
	if (!buf)
		return -1;
	char *p = buf;
	size_t n = tl;
	if (n >= 2 && p[0] == '{' && p[n - 1] == '}') {
		p[n - 1] = '\0';
		p++;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	char *eq = strchr(p, '=');
	int rc = -2;
	if (eq) {
		size_t nl = (size_t)(eq - p);
		while (nl && (p[nl - 1] == ' ' || p[nl - 1] == '\t'))
			nl--;
		char *v = eq + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		size_t vl = strlen(v);
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			v[--vl] = '\0';
		rc = valid_name(p, nl) ? params_add(&s->over, p, nl, v, file, line)
				       : -2;
	}
	free(buf);
	return rc;
}

int pf_parse_master(struct pf_conf *c, const char *buf, size_t len,
		    const char *file, char *err, size_t errlen)
{
	struct pf_lines L = {.buf = buf, .len = len, .lineno = 1, .file = file};
	char *line = malloc(PF_MAX_LINE + 1);
	if (!line)
		ERR("%s: out of memory", file);
	c->have_master = true;
	int start = 0, rc, ret = 0;
	while ((rc = next_logical(&L, line, &start, err, errlen)) == 1) {
		const char *f[8];
		long fl[8];
		size_t i = 0;
		int nf = 0;
		for (; nf < 8; nf++) {
			fl[nf] = next_token(line, &i, &f[nf]);
			if (fl[nf] <= 0)
				break;
		}
		if (nf < 8) {
			snprintf(err, errlen,
				 "%s:%d: a master.cf service needs 8 fields "
				 "(service type private unpriv chroot wakeup "
				 "maxproc command), got %d: '%.60s'",
				 file, start, nf, line);
			ret = -1;
			break;
		}
		char cmd[64];
		snprintf(cmd, sizeof(cmd), "%.*s", (int)(fl[7] < 63 ? fl[7] : 63),
			 f[7]);
		struct pf_service *s = svc_add(c, f[0], (size_t)fl[0], f[1],
					       (size_t)fl[1], cmd, file, start,
					       line);
		if (!s) {
			snprintf(err, errlen, "%s:%d: out of memory or too many "
				 "services", file, start);
			ret = -1;
			break;
		}
		/* Arguments: -o name=value, -o { name = value }, -oname=value. */
		const char *t;
		long tl;
		while ((tl = next_token(line, &i, &t)) != 0) {
			if (tl < 0) {
				snprintf(err, errlen, "%s:%d: unbalanced '{' in "
					 "service arguments", file, start);
				ret = -1;
				goto out;
			}
			if (tl >= 2 && t[0] == '-' && t[1] == 'o') {
				int arc;
				if (tl == 2) {
					tl = next_token(line, &i, &t);
					if (tl <= 0) {
						snprintf(err, errlen,
							 "%s:%d: -o without a value",
							 file, start);
						ret = -1;
						goto out;
					}
					arc = add_override(s, t, (size_t)tl, file,
							   start);
				} else {
					arc = add_override(s, t + 2,
							   (size_t)tl - 2, file,
							   start);
				}
				if (arc < 0) {
					snprintf(err, errlen, arc == -2
						 ? "%s:%d: -o takes name=value"
						 : "%s:%d: out of memory",
						 file, start);
					ret = -1;
					goto out;
				}
			}
		}
	}
	if (rc < 0)
		ret = -1;
out:
	free(line);
	return ret;
}

/* --- lookups and expansion ------------------------------------------------ */

static const struct pf_param *params_last(const struct pf_params *ps,
					  const char *name)
{
	for (size_t i = ps->n; i-- > 0;)
		if (strcmp(ps->v[i].name, name) == 0)
			return &ps->v[i];
	return NULL;
}

const struct pf_param *pf_main(const struct pf_conf *c, const char *name)
{
	return params_last(&c->main, name);
}

const struct pf_param *pf_lookup(const struct pf_conf *c,
				 const struct pf_service *svc,
				 const char *name)
{
	const struct pf_param *p = svc ? params_last(&svc->over, name) : NULL;
	return p ? p : params_last(&c->main, name);
}

static const struct {
	const char *name, *value;
} defaults[] = {
    {"smtpd_recipient_restrictions", ""},
    {"mydestination", "$myhostname, localhost.$mydomain, localhost"},
    {"smtpd_banner", "$myhostname ESMTP $mail_name"},
    {"disable_vrfy_command", "no"},
    {"smtpd_tls_auth_only", "no"},
    {"smtpd_sasl_auth_enable", "no"},
    {"allow_percent_hack", "yes"},
    {"swap_bangpath", "yes"},
    {"allow_untrusted_routing", "no"},
    {"mynetworks", ""},
    {"inet_interfaces", "all"},
    {"mail_name", "Postfix"},
    {"smtpd_null_access_lookup_key", "<>"},
    {"parent_domain_matches_subdomains",
     "debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_networks,"
     "qmqpd_authorized_clients,relay_domains,smtpd_access_maps"},
    {"compatibility_level", "0"},
};

struct sbuf;

/* compatibility_level as major*1000+minor ("3.6" -> 3006). Its expansion
 * spends the caller's budget (parent, when there is one): a fresh budget
 * at every level would let compatibility_level = $relay_domains ...
 * recurse exponentially. */
static long compat(const struct pf_conf *c, const struct pf_service *svc,
		   int depth, struct sbuf *parent);

static const char *compat_default(const struct pf_conf *c,
				  const struct pf_service *svc,
				  const char *name, int depth, struct sbuf *parent)
{
	if (strcmp(name, "smtpd_relay_restrictions") != 0 &&
	    strcmp(name, "mynetworks_style") != 0 &&
	    strcmp(name, "relay_domains") != 0)
		return NULL;
	long lvl = compat(c, svc, depth, parent);
	if (strcmp(name, "smtpd_relay_restrictions") == 0)
		return lvl < 1000 ? ""
				  : "permit_mynetworks, permit_sasl_authenticated, "
				    "defer_unauth_destination";
	if (strcmp(name, "mynetworks_style") == 0)
		return lvl < 2000 ? "subnet" : "host";
	if (strcmp(name, "relay_domains") == 0)
		return lvl < 2000 ? "$mydestination" : "";
	return NULL;
}

static const char *plain_default(const char *name)
{
	for (size_t i = 0; i < RP_ARRAY_LEN(defaults); i++)
		if (strcmp(defaults[i].name, name) == 0)
			return defaults[i].value;
	return NULL;
}

struct sbuf {
	char *s;
	size_t n, cap;
	bool fail;
	unsigned steps; /* parameter references followed */
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->fail)
		return;
	if (b->n + n + 1 > PF_MAX_EXPANSION) {
		b->fail = true;
		return;
	}
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (!p) {
			b->fail = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void expand_into(const struct pf_conf *c, const struct pf_service *svc,
			const char *t, size_t tl, struct sbuf *b, int depth);

static void value_into(const struct pf_conf *c, const struct pf_service *svc,
		       const char *name, size_t nl, struct sbuf *b, int depth)
{
	char nm[201];
	if (nl > 200 || depth > 20 || ++b->steps > PF_MAX_EXPANSION_STEPS) {
		b->fail = true;
		return;
	}
	memcpy(nm, name, nl);
	nm[nl] = '\0';
	const struct pf_param *p = pf_lookup(c, svc, nm);
	const char *v = p ? p->value : compat_default(c, svc, nm, depth, b);
	if (!v)
		v = plain_default(nm);
	if (v)
		expand_into(c, svc, v, strlen(v), b, depth + 1);
}

static bool is_set(const struct pf_conf *c, const struct pf_service *svc,
		   const char *name, size_t nl, int depth, struct sbuf *b)
{
	struct sbuf t = {.steps = b->steps};
	value_into(c, svc, name, nl, &t, depth);
	bool set = !t.fail && t.n > 0;
	b->steps = t.steps;
	if (t.steps > PF_MAX_EXPANSION_STEPS)
		b->fail = true;
	free(t.s);
	return set;
}

/* Index of the brace matching t[open] within tl, or tl. */
static size_t match_brace(const char *t, size_t tl, size_t open, char o,
			  char cl)
{
	int depth = 0;
	for (size_t i = open; i < tl; i++) {
		if (t[i] == o)
			depth++;
		else if (t[i] == cl && --depth == 0)
			return i;
	}
	return tl;
}

static void expand_into(const struct pf_conf *c, const struct pf_service *svc,
			const char *t, size_t tl, struct sbuf *b, int depth)
{
	if (depth > 20) {
		b->fail = true;
		return;
	}
	size_t i = 0;
	while (i < tl && !b->fail) {
		const char *d = memchr(t + i, '$', tl - i);
		if (!d) {
			sb_add(b, t + i, tl - i);
			break;
		}
		size_t k = (size_t)(d - t);
		sb_add(b, t + i, k - i);
		k++;
		if (k >= tl) {
			sb_add(b, "$", 1);
			break;
		}
		if (t[k] == '$') {
			sb_add(b, "$", 1);
			i = k + 1;
			continue;
		}
		if (t[k] == '{' || t[k] == '(') {
			char o = t[k], cl = o == '{' ? '}' : ')';
			size_t e = match_brace(t, tl, k, o, cl);
			if (e >= tl) { /* unterminated: keep literally */
				sb_add(b, t + k - 1, tl - k + 1);
				break;
			}
			const char *in = t + k + 1;
			size_t il = e - k - 1;
			i = e + 1;
			if (il && in[0] == '{')
				continue; /* ${{expr} op {expr} ? ...}: not ours */
			size_t nl = 0;
			while (nl < il && (isalnum((unsigned char)in[nl]) ||
					   in[nl] == '_'))
				nl++;
			if (nl < il && (in[nl] == '?' || in[nl] == ':')) {
				bool set = is_set(c, svc, in, nl, depth, b);
				const char *alt = in + nl + 1;
				size_t al = il - nl - 1;
				if (al >= 2 && alt[0] == '{' && alt[al - 1] == '}') {
					alt++;
					al -= 2;
				}
				if ((in[nl] == '?') == set)
					expand_into(c, svc, alt, al, b, depth + 1);
				continue;
			}
			value_into(c, svc, in, nl, b, depth);
			continue;
		}
		size_t nl = 0;
		while (k + nl < tl && (isalnum((unsigned char)t[k + nl]) ||
				       t[k + nl] == '_'))
			nl++;
		if (nl == 0) {
			sb_add(b, "$", 1);
			i = k;
			continue;
		}
		value_into(c, svc, t + k, nl, b, depth);
		i = k + nl;
	}
}

static long compat(const struct pf_conf *c, const struct pf_service *svc,
		   int depth, struct sbuf *parent)
{
	const struct pf_param *p = pf_lookup(c, svc, "compatibility_level");
	if (!p || depth > 20)
		return 0;
	struct sbuf b = {.steps = parent ? parent->steps : 0};
	expand_into(c, svc, p->value, strlen(p->value), &b, depth + 1);
	if (parent) {
		parent->steps = b.steps;
		if (b.steps > PF_MAX_EXPANSION_STEPS)
			parent->fail = true;
	}
	long maj = 0, min = 0;
	if (!b.fail && b.s) {
		char *end;
		maj = strtol(b.s, &end, 10);
		if (*end == '.')
			min = strtol(end + 1, NULL, 10);
	}
	free(b.s);
	if (maj < 0 || maj > 1000 || min < 0 || min > 999)
		return 0;
	return maj * 1000 + min;
}

const char *pf_default(const struct pf_conf *c, const struct pf_service *svc,
		       const char *name)
{
	const char *v = compat_default(c, svc, name, 0, NULL);
	return v ? v : plain_default(name);
}

char *pf_expand(const struct pf_conf *c, const struct pf_service *svc,
		const char *text)
{
	struct sbuf b = {0};
	expand_into(c, svc, text, strlen(text), &b, 0);
	if (b.fail) {
		free(b.s);
		return NULL;
	}
	return b.s ? b.s : rp_strdup("");
}

char *pf_value(const struct pf_conf *c, const struct pf_service *svc,
	       const char *name)
{
	struct sbuf b = {0};
	value_into(c, svc, name, strlen(name), &b, 0);
	if (b.fail) {
		free(b.s);
		return NULL;
	}
	return b.s ? b.s : rp_strdup("");
}

static void params_free(struct pf_params *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		free(ps->v[i].name);
		free(ps->v[i].value);
		free(ps->v[i].file);
	}
	free(ps->v);
	ps->v = NULL;
	ps->n = 0;
}

void pf_conf_free(struct pf_conf *c)
{
	params_free(&c->main);
	for (size_t i = 0; i < c->nsvc; i++) {
		free(c->svc[i].name);
		free(c->svc[i].type);
		free(c->svc[i].command);
		free(c->svc[i].file);
		free(c->svc[i].text);
		params_free(&c->svc[i].over);
	}
	free(c->svc);
	memset(c, 0, sizeof(*c));
}
