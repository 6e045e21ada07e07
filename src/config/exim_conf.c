#include "config/exim_conf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct macro {
	char *name;
	char *value;
	int next; /* the previous macro in the same hash bucket, or -1 */
};

/* Macro names are looked up for every upper-case word of every line:
 * a hash keeps a file full of such words linear. */
#define EX_MAC_BUCKETS 1024
#define EX_MAX_MACROS 2000

static unsigned mac_hash(const char *s, size_t n)
{
	unsigned h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h % EX_MAC_BUCKETS;
}

/* Parser state across included files. */
struct px {
	struct ex_conf *c;
	const struct cfg_io *io;
	char *err;
	size_t errlen;
	const char *stack[EX_MAX_INCLUDE + 1];
	int depth;
	long lines;
	enum { SEC_MAIN, SEC_ACL, SEC_OTHER } sec;
	struct ex_acl *cur_acl;
	struct macro *mac;
	size_t nmac;
	int bucket[EX_MAC_BUCKETS]; /* newest macro of each bucket, or -1 */
	char *line;    /* logical line buffer, EX_MAX_LINE + 1 */
	char *xline;   /* after macro substitution, EX_MAX_EXPANSION + 1 */
};

#define PERR(...)                                                              \
	do {                                                                   \
		snprintf(x->err, x->errlen, __VA_ARGS__);                      \
		return -1;                                                     \
	} while (0)

static int add_file(struct px *x, const char *file)
{
	char *n = x->c->files ? rp_asprintf("%s, %s", x->c->files, file)
			      : rp_strdup(file);
	if (!n)
		PERR("out of memory");
	free(x->c->files);
	x->c->files = n;
	return 0;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* Replaces macro names (whole identifiers starting with an upper-case
 * letter) in in, into x->xline. */
static int substitute(struct px *x, const char *in, const char *file, int ln)
{
	size_t n = 0;
	const char *p = in;
	while (*p) {
		if (isupper((unsigned char)*p) &&
		    (p == in || !(isalnum((unsigned char)p[-1]) || p[-1] == '_'))) {
			size_t l = 0;
			while (isalnum((unsigned char)p[l]) || p[l] == '_')
				l++;
			const char *rep = NULL;
			for (int i = x->bucket[mac_hash(p, l)]; i >= 0;
			     i = x->mac[i].next)
				if (strlen(x->mac[i].name) == l &&
				    strncmp(x->mac[i].name, p, l) == 0) {
					rep = x->mac[i].value;
					break;
				}
			const char *src = rep ? rep : p;
			size_t sl = rep ? strlen(rep) : l;
			if (n + sl > EX_MAX_EXPANSION)
				PERR("%s:%d: line longer than %d bytes after "
				     "macro expansion", file, ln, EX_MAX_EXPANSION);
			memcpy(x->xline + n, src, sl);
			n += sl;
			p += l;
			continue;
		}
		if (n + 1 > EX_MAX_EXPANSION)
			PERR("%s:%d: line longer than %d bytes after macro "
			     "expansion", file, ln, EX_MAX_EXPANSION);
		x->xline[n++] = *p++;
	}
	x->xline[n] = '\0';
	return 0;
}

static int process(struct px *x, const char *buf, size_t len, const char *file);

static int do_include(struct px *x, const char *arg, bool if_exists,
		      const char *file, int ln)
{
	char path[1024];
	if (arg[0] != '/') {
		/* Relative to the including file's directory. */
		const char *slash = strrchr(file, '/');
		snprintf(path, sizeof(path), "%.*s%s",
			 slash ? (int)(slash - file + 1) : 0, file, arg);
	} else {
		snprintf(path, sizeof(path), "%s", arg);
	}
	for (int i = 0; i <= x->depth; i++)
		if (x->stack[i] && strcmp(x->stack[i], path) == 0)
			PERR("%s:%d: .include loop: %.200s includes itself "
			     "(directly or through other files)", file, ln, path);
	if (x->depth + 1 > EX_MAX_INCLUDE)
		PERR("%s:%d: .include nested more than %d deep", file, ln,
		     EX_MAX_INCLUDE);
	if (!x->io || !x->io->read)
		PERR("%s:%d: .include %.200s: no file access", file, ln, path);
	char *b = NULL, e[300];
	size_t bl = 0;
	if (x->io->read(x->io->ctx, path, &b, &bl, e, sizeof(e)) < 0) {
		if (if_exists)
			return 0;
		PERR("%s:%d: .include: %s", file, ln, e);
	}
	char *saved_line = x->line;
	x->line = malloc(EX_MAX_LINE + 1);
	if (!x->line) {
		x->line = saved_line;
		free(b);
		PERR("out of memory");
	}
	x->depth++;
	int rc = process(x, b, bl, path);
	x->depth--;
	free(x->line);
	x->line = saved_line;
	free(b);
	return rc;
}

static int add_option(struct px *x, const char *kind, const char *name,
		      size_t nl, const char *value, const char *file, int ln)
{
	if (x->c->nopt >= 100000)
		PERR("%s:%d: too many options", file, ln);
	struct ex_option *v = realloc(x->c->opt, (x->c->nopt + 1) * sizeof(*v));
	if (!v)
		PERR("out of memory");
	x->c->opt = v;
	struct ex_option *o = &v[x->c->nopt++];
	o->kind = rp_strdup(kind);
	o->name = rp_strndup(name, nl);
	o->value = rp_strdup(value);
	o->file = rp_strdup(file);
	o->line = ln;
	if (!o->kind || !o->name || !o->value || !o->file)
		PERR("out of memory");
	return 0;
}

static bool is_verb(const char *w, size_t n)
{
	static const char *const verbs[] = {"accept", "deny",    "require",
					    "drop",   "defer",   "discard",
					    "warn"};
	for (size_t i = 0; i < RP_ARRAY_LEN(verbs); i++)
		if (strlen(verbs[i]) == n && strncmp(verbs[i], w, n) == 0)
			return true;
	return false;
}

static int add_cond(struct px *x, struct ex_stmt *s, const char *t,
		    const char *file, int ln)
{
	if (s->nc >= 1000)
		PERR("%s:%d: too many conditions in one statement", file, ln);
	struct ex_cond *v = realloc(s->c, (s->nc + 1) * sizeof(*v));
	if (!v)
		PERR("out of memory");
	s->c = v;
	struct ex_cond *c = &v[s->nc++];
	memset(c, 0, sizeof(*c));
	if (*t == '!') {
		c->neg = true;
		t++;
		while (*t == ' ' || *t == '\t')
			t++;
	}
	size_t nl = 0;
	while (isalnum((unsigned char)t[nl]) || t[nl] == '_' || t[nl] == '.')
		nl++;
	const char *eq = t + nl;
	while (*eq == ' ' || *eq == '\t')
		eq++;
	const char *val = "";
	if (*eq == '=') {
		val = eq + 1;
		while (*val == ' ' || *val == '\t')
			val++;
	} else if (*eq) {
		PERR("%s:%d: ACL condition '%.60s' is not 'name = value'", file,
		     ln, t);
	}
	c->name = rp_strndup(t, nl);
	c->value = rp_strdup(val);
	if (!c->name || !c->value)
		PERR("out of memory");
	char *v2 = trim(c->value);
	memmove(c->value, v2, strlen(v2) + 1);
	/* The statement as written, for evidence: bounded, so a statement
	 * of thousands of long conditions does not copy megabytes each. */
	if (strlen(s->text) < 2048) {
		char *tx = rp_asprintf("%s %s%.512s", s->text, c->neg ? "!" : "", t);
		if (!tx)
			PERR("out of memory");
		free(s->text);
		s->text = tx;
	}
	return 0;
}

static int acl_line(struct px *x, char *l, const char *file, int ln, bool indented)
{
	size_t n = strlen(l);
	if (!indented && n > 1 && l[n - 1] == ':' && !strpbrk(l, " \t=")) {
		if (x->c->nacl >= 10000)
			PERR("%s:%d: too many ACLs", file, ln);
		struct ex_acl *v = realloc(x->c->acl, (x->c->nacl + 1) * sizeof(*v));
		if (!v)
			PERR("out of memory");
		x->c->acl = v;
		struct ex_acl *a = &v[x->c->nacl++];
		memset(a, 0, sizeof(*a));
		a->name = rp_strndup(l, n - 1);
		a->file = rp_strdup(file);
		a->line = ln;
		x->cur_acl = a;
		if (!a->name || !a->file)
			PERR("out of memory");
		return 0;
	}
	if (!x->cur_acl || !x->c->nacl)
		PERR("%s:%d: ACL statement outside an ACL: '%.60s'", file, ln, l);
	struct ex_acl *a = &x->c->acl[x->c->nacl - 1];
	size_t wl = 0;
	while (isalpha((unsigned char)l[wl]))
		wl++;
	if (is_verb(l, wl) && (!l[wl] || l[wl] == ' ' || l[wl] == '\t')) {
		if (a->ns >= 10000)
			PERR("%s:%d: too many statements in ACL %s", file, ln,
			     a->name);
		struct ex_stmt *v = realloc(a->s, (a->ns + 1) * sizeof(*v));
		if (!v)
			PERR("out of memory");
		a->s = v;
		struct ex_stmt *s = &v[a->ns++];
		memset(s, 0, sizeof(*s));
		s->verb = rp_strndup(l, wl);
		s->file = rp_strdup(file);
		s->line = ln;
		s->text = rp_strndup(l, wl);
		if (!s->verb || !s->file || !s->text)
			PERR("out of memory");
		char *rest = trim(l + wl);
		return *rest ? add_cond(x, s, rest, file, ln) : 0;
	}
	if (!a->ns)
		PERR("%s:%d: ACL %s: a condition before any verb: '%.60s'", file,
		     ln, a->name, l);
	return add_cond(x, &a->s[a->ns - 1], l, file, ln);
}

static int main_line(struct px *x, char *l, const char *file, int ln)
{
	static const char *const kinds[] = {"hostlist", "domainlist",
					    "addresslist", "localpartlist"};
	const char *kind = "";
	for (size_t i = 0; i < RP_ARRAY_LEN(kinds); i++) {
		size_t kl = strlen(kinds[i]);
		if (strncmp(l, kinds[i], kl) == 0 && (l[kl] == ' ' || l[kl] == '\t')) {
			kind = kinds[i];
			l = trim(l + kl);
			break;
		}
	}
	size_t nl = 0;
	while (isalnum((unsigned char)l[nl]) || l[nl] == '_')
		nl++;
	if (nl == 0)
		PERR("%s:%d: not an Exim option line: '%.60s'", file, ln, l);
	const char *p = l + nl;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '=') {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		return add_option(x, kind, l, nl, p, file, ln);
	}
	if (*p == '\0' && !*kind) /* a boolean: "name" or "no_name" */
		return add_option(x, kind, l, nl, "true", file, ln);
	PERR("%s:%d: not an Exim option line: '%.60s'", file, ln, l);
}

static int logical(struct px *x, char *l, const char *file, int ln)
{
	bool indented = l[0] == ' ' || l[0] == '\t';
	l = trim(l);
	if (!*l || *l == '#')
		return 0;
	if (*l == '.') {
		if (strncmp(l, ".include_if_exists", 18) == 0 &&
		    (l[18] == ' ' || l[18] == '\t'))
			return do_include(x, trim(l + 18), true, file, ln);
		if (strncmp(l, ".include", 8) == 0 && (l[8] == ' ' || l[8] == '\t'))
			return do_include(x, trim(l + 8), false, file, ln);
		return 0; /* .ifdef/.endif...: every branch is read */
	}
	/* Macro definition: NAME = value (NAME upper case first). */
	if (isupper((unsigned char)*l)) {
		size_t nl = 0;
		while (isalnum((unsigned char)l[nl]) || l[nl] == '_')
			nl++;
		const char *p = l + nl;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '=' || (*p == '=' && p[1] == '=')) {
			p += p[1] == '=' ? 2 : 1;
			while (*p == ' ' || *p == '\t')
				p++;
			if (x->nmac >= EX_MAX_MACROS)
				PERR("%s:%d: more than %d macros", file, ln,
				     EX_MAX_MACROS);
			if (substitute(x, p, file, ln) < 0)
				return -1;
			struct macro *v = realloc(x->mac, (x->nmac + 1) * sizeof(*v));
			if (!v)
				PERR("out of memory");
			x->mac = v;
			v[x->nmac].name = rp_strndup(l, nl);
			v[x->nmac].value = rp_strdup(x->xline);
			unsigned h = mac_hash(l, nl);
			v[x->nmac].next = x->bucket[h];
			x->bucket[h] = (int)x->nmac;
			x->nmac++;
			if (!v[x->nmac - 1].name || !v[x->nmac - 1].value)
				PERR("out of memory");
			return 0;
		}
	}
	if (x->nmac) {
		if (substitute(x, l, file, ln) < 0)
			return -1;
		l = x->xline;
	}
	if (strncmp(l, "begin", 5) == 0 && (l[5] == ' ' || l[5] == '\t')) {
		const char *s = trim(l + 5);
		x->sec = strcmp(s, "acl") == 0 ? SEC_ACL : SEC_OTHER;
		x->cur_acl = NULL;
		return 0;
	}
	if (x->sec == SEC_MAIN)
		return main_line(x, l, file, ln);
	if (x->sec == SEC_ACL)
		return acl_line(x, l, file, ln, indented);
	return 0;
}

static int process(struct px *x, const char *buf, size_t len, const char *file)
{
	x->stack[x->depth] = file;
	if (add_file(x, file) < 0)
		return -1;
	size_t pos = 0;
	int lineno = 1;
	while (pos < len) {
		size_t n = 0;
		int start = lineno;
		bool more = true;
		while (more && pos < len) {
			const char *p = buf + pos;
			const char *nl = memchr(p, '\n', len - pos);
			size_t ll = nl ? (size_t)(nl - p) : len - pos;
			pos += nl ? ll + 1 : ll;
			if (++x->lines > EX_MAX_LINES)
				PERR("%s:%d: more than %d lines in all", file,
				     lineno, EX_MAX_LINES);
			if (ll > EX_MAX_LINE)
				PERR("%s:%d: line longer than %d bytes", file,
				     lineno, EX_MAX_LINE);
			for (size_t i = 0; i < ll; i++) {
				unsigned char ch = (unsigned char)p[i];
				if (ch == 0 || (ch < 0x20 && ch != '\t' && ch != '\r') ||
				    ch == 0x7f)
					PERR("%s:%d: binary data (byte 0x%02x): not "
					     "an Exim configuration file", file,
					     lineno, ch);
			}
			lineno++;
			if (ll && p[ll - 1] == '\r')
				ll--;
			size_t s = 0;
			if (n > 0) /* a continuation: leading blanks go */
				while (s < ll && (p[s] == ' ' || p[s] == '\t'))
					s++;
			size_t e = ll;
			while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t'))
				e--;
			more = e > s && p[e - 1] == '\\';
			if (more)
				e--;
			if (n + (e - s) > EX_MAX_LINE)
				PERR("%s:%d: logical line longer than %d bytes",
				     file, start, EX_MAX_LINE);
			memcpy(x->line + n, p + s, e - s);
			n += e - s;
		}
		x->line[n] = '\0';
		if (logical(x, x->line, file, start) < 0)
			return -1;
	}
	return 0;
}

int ex_parse(struct ex_conf *c, const char *buf, size_t len, const char *file,
	     const struct cfg_io *io, char *err, size_t errlen)
{
	struct px x = {.c = c, .io = io, .err = err, .errlen = errlen};
	for (size_t i = 0; i < EX_MAC_BUCKETS; i++)
		x.bucket[i] = -1;
	x.line = malloc(EX_MAX_LINE + 1);
	x.xline = malloc(EX_MAX_EXPANSION + 1);
	int rc = -1;
	if (!x.line || !x.xline)
		snprintf(err, errlen, "out of memory");
	else
		rc = process(&x, buf, len, file);
	free(x.line);
	free(x.xline);
	for (size_t i = 0; i < x.nmac; i++) {
		free(x.mac[i].name);
		free(x.mac[i].value);
	}
	free(x.mac);
	return rc;
}

const struct ex_option *ex_option(const struct ex_conf *c, const char *name)
{
	for (size_t i = c->nopt; i-- > 0;)
		if (strcmp(c->opt[i].name, name) == 0)
			return &c->opt[i];
	return NULL;
}

const struct ex_acl *ex_acl(const struct ex_conf *c, const char *name)
{
	for (size_t i = 0; i < c->nacl; i++)
		if (strcmp(c->acl[i].name, name) == 0)
			return &c->acl[i];
	return NULL;
}

void ex_conf_free(struct ex_conf *c)
{
	for (size_t i = 0; i < c->nopt; i++) {
		free(c->opt[i].kind);
		free(c->opt[i].name);
		free(c->opt[i].value);
		free(c->opt[i].file);
	}
	free(c->opt);
	for (size_t i = 0; i < c->nacl; i++) {
		struct ex_acl *a = &c->acl[i];
		for (size_t j = 0; j < a->ns; j++) {
			for (size_t k = 0; k < a->s[j].nc; k++) {
				free(a->s[j].c[k].name);
				free(a->s[j].c[k].value);
			}
			free(a->s[j].c);
			free(a->s[j].verb);
			free(a->s[j].file);
			free(a->s[j].text);
		}
		free(a->s);
		free(a->name);
		free(a->file);
	}
	free(c->acl);
	free(c->files);
	memset(c, 0, sizeof(*c));
}
