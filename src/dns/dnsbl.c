#include "dns/dnsbl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Limits of the zones file (documented in dnsbl.h). */
#define MAX_LINE 4096
#define MAX_ZONES 200
#define MAX_ZONE_CODES 64
#define MAX_FILE (1024 * 1024)
#define DEFAULT_WEIGHT 10
/* A DNS name in text form without the trailing dot. */
#define MAX_NAME 253
#define MAX_LABEL 63

/* Generated at build time from data/zones.conf (cmake/EmbedFile.cmake). */
extern const char rp_default_zones[];
extern const size_t rp_default_zones_len;

/* ---- small helpers ---------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	RP_PRINTF(3, 4);

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint32_t host_order(struct in_addr a)
{
	return ntohl(a.s_addr);
}

static bool in_loopback8(struct in_addr a)
{
	return (host_order(a) >> 24) == 127;
}

static bool in_error24(struct in_addr a)
{
	return (host_order(a) >> 8) == 0x7fffffu; /* 127.255.255.0/24 */
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* Trims spaces and tabs in place; returns the new start. */
static char *trim(char *s)
{
	while (is_ws(*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && is_ws(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/*
 * A DNS name of dot-separated labels of 1-63 letters, digits and hyphens
 * (not first or last in a label), and underscores when allowed; at most
 * 253 characters and at least min_labels labels. No trailing dot.
 */
static bool valid_name(const char *s, size_t n, bool underscore,
		       size_t min_labels)
{
	if (n == 0 || n > MAX_NAME)
		return false;
	size_t labels = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			size_t len = i - start;
			if (len == 0 || len > MAX_LABEL)
				return false;
			if (s[start] == '-' || s[i - 1] == '-')
				return false;
			labels++;
			start = i + 1;
			continue;
		}
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) && c < 0x80) && c != '-' &&
		    !(underscore && c == '_'))
			return false;
	}
	return labels >= min_labels;
}

/* ---- parser ----------------------------------------------------------- */

struct parser {
	struct dnsbl_zones *out;
	size_t cap;           /* of out->v */
	size_t codes_cap;     /* of the current zone's codes */
	size_t errors_cap;    /* of the current zone's errors */
	bool have_kind, have_ipv6, have_weight, have_note;
	size_t line;
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, const char *fmt, ...) RP_PRINTF(2, 3);

/* "line N: reason"; always returns -1. */
static int fail(struct parser *p, const char *fmt, ...)
{
	if (!p->err || p->errlen == 0)
		return -1;
	int k = snprintf(p->err, p->errlen, "line %zu: ", p->line);
	if (k < 0 || (size_t)k >= p->errlen)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

static int oom(struct parser *p)
{
	set_err(p->err, p->errlen, "out of memory");
	return -1;
}

/* Copies at most 60 characters of s for an error message. */
static void shorten(const char *s, char *buf, size_t bufsz)
{
	size_t n = strlen(s);
	if (n + 1 <= bufsz) {
		memcpy(buf, s, n + 1);
		return;
	}
	memcpy(buf, s, bufsz - 4);
	memcpy(buf + bufsz - 4, "...", 4);
}

static struct dnsbl_zone *cur_zone(struct parser *p)
{
	return p->out->n ? &p->out->v[p->out->n - 1] : NULL;
}

static int parse_section(struct parser *p, char *s)
{
	size_t n = strlen(s);
	if (n < 2 || s[n - 1] != ']')
		return fail(p, "a section must be '[zone.name]'");
	s[n - 1] = '\0';
	char *name = trim(s + 1);
	n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		name[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		name[i] = (char)tolower((unsigned char)name[i]);
	if (!valid_name(name, n, false, 2)) {
		char shown[64];
		shorten(name, shown, sizeof(shown));
		return fail(p,
			    "invalid zone name '%s' (want letters, digits and "
			    "hyphens in dot-separated labels)",
			    shown);
	}
	for (size_t i = 0; i < p->out->n; i++)
		if (strcmp(p->out->v[i].name, name) == 0)
			return fail(p, "duplicate zone '%s'", name);
	if (p->out->n >= MAX_ZONES)
		return fail(p, "more than %d zones", MAX_ZONES);

	char *copy = rp_strdup(name);
	if (!copy)
		return oom(p);
	if (p->out->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 16;
		struct dnsbl_zone *v = realloc(p->out->v, ncap * sizeof(*v));
		if (!v) {
			free(copy);
			return oom(p);
		}
		p->out->v = v;
		p->cap = ncap;
	}
	struct dnsbl_zone *z = &p->out->v[p->out->n++];
	memset(z, 0, sizeof(*z));
	z->name = copy;
	z->kind = DNSBL_IP;
	z->ipv6 = false;
	z->weight = DEFAULT_WEIGHT;
	p->codes_cap = p->errors_cap = 0;
	p->have_kind = p->have_ipv6 = p->have_weight = p->have_note = false;
	return 0;
}

static int duplicate_key(struct parser *p, bool *seen, const char *key)
{
	if (*seen)
		return fail(p, "duplicate key '%s'", key);
	*seen = true;
	return 0;
}

static int parse_weight(struct parser *p, struct dnsbl_zone *z, const char *v)
{
	size_t n = strlen(v);
	int w = 0;
	bool ok = n >= 1 && n <= 3;
	for (size_t i = 0; ok && i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			ok = false;
		else
			w = w * 10 + (v[i] - '0');
	}
	if (!ok || w > 100)
		return fail(p, "weight must be a whole number from 0 to 100");
	z->weight = w;
	return 0;
}

/* "code ADDR = meaning" or "error ADDR = meaning". */
static int parse_code(struct parser *p, struct dnsbl_zone *z, bool is_error,
		      const char *addr_text, const char *meaning)
{
	const char *what = is_error ? "error" : "code";
	char shown[64];
	struct in_addr a;
	if (inet_pton(AF_INET, addr_text, &a) != 1) {
		shorten(addr_text, shown, sizeof(shown));
		return fail(p, "%s address '%s' is not an IPv4 address", what,
			    shown);
	}
	char at[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, at, sizeof(at));
	if (!in_loopback8(a))
		return fail(p, "%s address %s is outside 127.0.0.0/8", what,
			    at);
	if (!is_error && in_error24(a))
		return fail(p,
			    "code %s is in 127.255.255.0/24, which is for "
			    "errors: use 'error %s = ...'",
			    at, at);
	for (size_t i = 0; i < z->ncodes; i++)
		if (z->codes[i].addr.s_addr == a.s_addr)
			return fail(p, "%s is already a code of this zone", at);
	for (size_t i = 0; i < z->nerrors; i++)
		if (z->errors[i].addr.s_addr == a.s_addr)
			return fail(p, "%s is already an error of this zone",
				    at);

	struct dnsbl_code **arr = is_error ? &z->errors : &z->codes;
	size_t *n = is_error ? &z->nerrors : &z->ncodes;
	size_t *cap = is_error ? &p->errors_cap : &p->codes_cap;
	if (*n >= MAX_ZONE_CODES)
		return fail(p, "more than %d %s lines in zone '%s'",
			    MAX_ZONE_CODES, what, z->name);
	char *m = rp_strdup(meaning);
	if (!m)
		return oom(p);
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		struct dnsbl_code *v = realloc(*arr, ncap * sizeof(*v));
		if (!v) {
			free(m);
			return oom(p);
		}
		*arr = v;
		*cap = ncap;
	}
	(*arr)[*n].addr = a;
	(*arr)[*n].meaning = m;
	(*n)++;
	return 0;
}

static int parse_key(struct parser *p, char *s)
{
	char *eq = strchr(s, '=');
	if (!eq)
		return fail(p, "expected '[zone.name]' or 'key = value'");
	*eq = '\0';
	char *key = trim(s);
	char *value = trim(eq + 1);

	/* The first word names the key; only code and error take a second. */
	char *word = key, *rest = key;
	while (*rest && !is_ws(*rest))
		rest++;
	size_t wlen = (size_t)(rest - word);
	rest = trim(rest);
	bool is_code = wlen == 4 && strncmp(word, "code", 4) == 0;
	bool is_error = wlen == 5 && strncmp(word, "error", 5) == 0;
	bool simple = !*rest && (strcmp(key, "kind") == 0 ||
				 strcmp(key, "ipv6") == 0 ||
				 strcmp(key, "weight") == 0 ||
				 strcmp(key, "note") == 0 ||
				 strcmp(key, "test-listed") == 0 ||
				 strcmp(key, "test-unlisted") == 0);
	if (!simple && !((is_code || is_error) && *rest)) {
		char shown[64];
		shorten(key, shown, sizeof(shown));
		if ((is_code || is_error) && !*rest)
			return fail(p, "'%s' needs an address: '%s 127.0.0.2 "
				       "= meaning'",
				    shown, shown);
		return fail(p, "unknown key '%s'", shown);
	}

	struct dnsbl_zone *z = cur_zone(p);
	if (!z)
		return fail(p, "'%.*s' before any [zone] section", (int)wlen,
			    word);
	if (!*value)
		return fail(p, "'%.*s' has no value", (int)wlen, word);

	if (is_code || is_error)
		return parse_code(p, z, is_error, rest, value);
	if (strcmp(key, "kind") == 0) {
		if (duplicate_key(p, &p->have_kind, key))
			return -1;
		if (strcmp(value, "ip") == 0)
			z->kind = DNSBL_IP;
		else if (strcmp(value, "domain") == 0)
			z->kind = DNSBL_DOMAIN;
		else
			return fail(p, "kind must be 'ip' or 'domain'");
		if (z->kind == DNSBL_DOMAIN && z->ipv6)
			return fail(p,
				    "a domain zone cannot have 'ipv6 = yes'");
		return 0;
	}
	if (strcmp(key, "ipv6") == 0) {
		if (duplicate_key(p, &p->have_ipv6, key))
			return -1;
		if (strcmp(value, "yes") == 0)
			z->ipv6 = true;
		else if (strcmp(value, "no") == 0)
			z->ipv6 = false;
		else
			return fail(p, "ipv6 must be 'yes' or 'no'");
		if (z->kind == DNSBL_DOMAIN && z->ipv6)
			return fail(p,
				    "a domain zone cannot have 'ipv6 = yes'");
		return 0;
	}
	if (strcmp(key, "weight") == 0) {
		if (duplicate_key(p, &p->have_weight, key))
			return -1;
		return parse_weight(p, z, value);
	}
	if (strcmp(key, "test-listed") == 0 || strcmp(key, "test-unlisted") == 0) {
		bool listed = key[5] == 'l';
		char **dst = listed ? &z->test_listed : &z->test_unlisted;
		if (*dst)
			return fail(p, "'%s' given twice in one zone", key);
		if (!valid_name(value, strlen(value), false, 1))
			return fail(p, "'%s' must be a domain name", key);
		*dst = rp_strdup(value);
		return *dst ? 0 : oom(p);
	}
	/* note */
	if (duplicate_key(p, &p->have_note, key))
		return -1;
	z->note = rp_strdup(value);
	return z->note ? 0 : oom(p);
}

/* One line, without its end-of-line; n <= MAX_LINE. */
static int parse_line(struct parser *p, const char *raw, size_t n)
{
	/* A '#' at the start or after a space or tab starts a comment. */
	size_t end = n;
	for (size_t i = 0; i < n; i++)
		if (raw[i] == '#' && (i == 0 || is_ws(raw[i - 1]))) {
			end = i;
			break;
		}
	/* Control bytes nowhere; non-ASCII (UTF-8) only in comments. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)raw[i];
		bool bad = (c < 0x20 && c != '\t') || c == 0x7f ||
			   (c >= 0x80 && i < end);
		if (bad)
			return fail(p,
				    "byte 0x%02x at column %zu: only printable "
				    "ASCII and tabs are allowed outside "
				    "comments",
				    c, i + 1);
	}
	char buf[MAX_LINE + 1];
	memcpy(buf, raw, end);
	buf[end] = '\0';
	char *s = trim(buf);
	if (!*s)
		return 0;
	if (*s == '[')
		return parse_section(p, s);
	return parse_key(p, s);
}

int dnsbl_zones_parse(const char *text, size_t len, struct dnsbl_zones *out,
		      char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!out) {
		set_err(err, errlen, "no output");
		return -1;
	}
	out->v = NULL;
	out->n = 0;
	if (!text && len) {
		set_err(err, errlen, "no input");
		return -1;
	}
	struct parser p = {.out = out, .err = err, .errlen = errlen};
	size_t pos = 0;
	while (pos < len) {
		p.line++;
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		pos += n + (nl ? 1 : 0);
		if (n > 0 && start[n - 1] == '\r')
			n--; /* CRLF files */
		if (n > MAX_LINE) {
			fail(&p, "line longer than %d bytes", MAX_LINE);
			dnsbl_zones_free(out);
			return -1;
		}
		if (parse_line(&p, start, n) != 0) {
			dnsbl_zones_free(out);
			return -1;
		}
	}
	return 0;
}

/* Errors do not name the file: callers put it in front of err. */
int dnsbl_zones_load(const char *path, struct dnsbl_zones *out, char *err,
		     size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!out) {
		set_err(err, errlen, "no output");
		return -1;
	}
	out->v = NULL;
	out->n = 0;
	if (!path) {
		set_err(err, errlen, "no file name");
		return -1;
	}
	FILE *f = fopen(path, "rb");
	if (!f) {
		set_err(err, errlen, "%s", strerror(errno));
		return -1;
	}
	char *buf = malloc(MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		set_err(err, errlen, "out of memory");
		return -1;
	}
	errno = 0;
	size_t n = fread(buf, 1, MAX_FILE + 1, f);
	int read_errno = errno;
	bool read_failed = ferror(f) != 0;
	fclose(f);
	if (read_failed) {
		free(buf);
		set_err(err, errlen, "%s",
			read_errno ? strerror(read_errno) : "read error");
		return -1;
	}
	if (n > MAX_FILE) {
		free(buf);
		set_err(err, errlen, "larger than 1 MiB");
		return -1;
	}
	int rc = dnsbl_zones_parse(buf, n, out, err, errlen);
	free(buf);
	return rc;
}

const char *dnsbl_default_zones(size_t *len)
{
	if (len)
		*len = rp_default_zones_len;
	return rp_default_zones;
}

static void free_codes(struct dnsbl_code *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].meaning);
	free(c);
}

void dnsbl_zones_free(struct dnsbl_zones *z)
{
	if (!z)
		return;
	for (size_t i = 0; z->v && i < z->n; i++) {
		struct dnsbl_zone *zz = &z->v[i];
		free(zz->name);
		free(zz->note);
		free(zz->test_listed);
		free(zz->test_unlisted);
		free_codes(zz->codes, zz->ncodes);
		free_codes(zz->errors, zz->nerrors);
	}
	free(z->v);
	z->v = NULL;
	z->n = 0;
}

/* ---- query names and test points -------------------------------------- */

int dnsbl_query_name(const struct dnsbl_zone *z, const char *subject,
		     char *out, size_t outsz)
{
	if (out && outsz)
		out[0] = '\0';
	if (!z || !z->name || !subject || !out || outsz == 0)
		return -1;

	char head[MAX_NAME + 2]; /* the part before ".zone" */
	struct in_addr a4;
	struct in6_addr a6;
	bool is4 = inet_pton(AF_INET, subject, &a4) == 1;
	bool is6 = !is4 && inet_pton(AF_INET6, subject, &a6) == 1;

	if (z->kind == DNSBL_IP) {
		if (is4) {
			const unsigned char *b = (const unsigned char *)&a4;
			snprintf(head, sizeof(head), "%u.%u.%u.%u", b[3], b[2],
				 b[1], b[0]);
		} else if (is6 && z->ipv6) {
			static const char hex[] = "0123456789abcdef";
			char *h = head;
			for (int i = 15; i >= 0; i--) {
				unsigned b = a6.s6_addr[i];
				*h++ = hex[b & 0xf];
				*h++ = '.';
				*h++ = hex[b >> 4];
				*h++ = '.';
			}
			h[-1] = '\0'; /* drop the last dot */
		} else {
			return -1; /* a name, or IPv6 on an IPv4-only zone */
		}
	} else {
		if (is4 || is6)
			return -1;
		size_t n = strnlen(subject, MAX_NAME + 2);
		if (n > 0 && subject[n - 1] == '.')
			n--;
		if (n == 0 || n > MAX_NAME)
			return -1;
		for (size_t i = 0; i < n; i++)
			head[i] = (char)tolower((unsigned char)subject[i]);
		head[n] = '\0';
		/* "1.2.3.4." is still an address. */
		if (inet_pton(AF_INET, head, &a4) == 1 ||
		    inet_pton(AF_INET6, head, &a6) == 1)
			return -1;
		if (!valid_name(head, n, true, 1))
			return -1;
	}
	size_t total = strlen(head) + 1 + strlen(z->name);
	if (total > MAX_NAME || total + 1 > outsz)
		return -1;
	snprintf(out, outsz, "%s.%s", head, z->name);
	return 0;
}

const char *dnsbl_test_listed(const struct dnsbl_zone *z, bool v6)
{
	if (!z)
		return NULL;
	if (z->kind == DNSBL_DOMAIN)
		return v6 ? NULL : z->test_listed ? z->test_listed : "test";
	if (v6)
		return z->ipv6 ? "::ffff:7f00:2" : NULL;
	return "127.0.0.2";
}

const char *dnsbl_test_unlisted(const struct dnsbl_zone *z, bool v6)
{
	if (!z)
		return NULL;
	if (z->kind == DNSBL_DOMAIN)
		return v6 ? NULL : z->test_unlisted ? z->test_unlisted : "invalid";
	if (v6)
		return z->ipv6 ? "::ffff:7f00:1" : NULL;
	return "127.0.0.1";
}

/* ---- answers ---------------------------------------------------------- */

static const char *const status_names[] = {
	[DNSBL_LISTED] = "listed",
	[DNSBL_NOT_LISTED] = "not-listed",
	[DNSBL_UNKNOWN] = "unknown",
	[DNSBL_UNUSABLE] = "unusable",
};
_Static_assert(sizeof(status_names) / sizeof(status_names[0]) ==
		   DNSBL_STATUS_LAST,
	       "dnsbl status names");

const char *dnsbl_status_name(enum dnsbl_status s)
{
	return (unsigned)s < DNSBL_STATUS_LAST ? status_names[s] : "?";
}

static const struct dnsbl_code *find_code(const struct dnsbl_code *v,
					  size_t n, struct in_addr a)
{
	for (size_t i = 0; v && i < n; i++)
		if (v[i].addr.s_addr == a.s_addr)
			return &v[i];
	return NULL;
}

static void unknown(struct dnsbl_answer *out, const char *fmt, ...)
	RP_PRINTF(2, 3);

static void unknown(struct dnsbl_answer *out, const char *fmt, ...)
{
	out->status = DNSBL_UNKNOWN;
	out->ncodes = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

static const char *status_reason(enum dns_status st)
{
	switch (st) {
	case DNS_TIMEOUT:
		return "timeout: the list did not answer";
	case DNS_SERVFAIL:
		return "SERVFAIL: the list's servers or your resolver failed";
	case DNS_REFUSED:
		return "query refused (REFUSED): use your own resolver";
	case DNS_ERROR:
		return "DNS error: the query could not be made";
	default:
		return "unexpected DNS status";
	}
}

void dnsbl_interpret(const struct dnsbl_zone *z, enum dns_status st,
		     const struct in_addr *addrs, size_t naddrs,
		     struct dnsbl_answer *out)
{
	memset(out, 0, sizeof(*out));
	if (st == DNS_NXDOMAIN || st == DNS_NODATA) {
		out->status = DNSBL_NOT_LISTED;
		return;
	}
	if (st != DNS_OK) {
		unknown(out, "%s", status_reason(st));
		return;
	}
	if (naddrs == 0) {
		/* An answer without A records is NODATA by another name. */
		out->status = DNSBL_NOT_LISTED;
		return;
	}
	if (!addrs || !z) {
		unknown(out, "no answer to read");
		return;
	}

	char at[INET_ADDRSTRLEN];
	/* Error markers first, over all answers: they take precedence. */
	for (size_t i = 0; i < naddrs; i++)
		if (!in_loopback8(addrs[i])) {
			inet_ntop(AF_INET, &addrs[i], at, sizeof(at));
			unknown(out,
				"answer %s is outside 127.0.0.0/8: your "
				"resolver rewrites NXDOMAIN (or a wildcard)",
				at);
			return;
		}
	for (size_t i = 0; i < naddrs; i++) {
		const struct dnsbl_code *e =
			find_code(z->errors, z->nerrors, addrs[i]);
		if (e) {
			inet_ntop(AF_INET, &addrs[i], at, sizeof(at));
			unknown(out, "error code %s: %s", at,
				e->meaning ? e->meaning : "(no meaning)");
			return;
		}
	}
	for (size_t i = 0; i < naddrs; i++)
		if (in_error24(addrs[i])) {
			inet_ntop(AF_INET, &addrs[i], at, sizeof(at));
			unknown(out,
				"error code %s (undocumented for this zone)",
				at);
			return;
		}
	struct in_addr lo;
	lo.s_addr = htonl(0x7f000001u);
	for (size_t i = 0; i < naddrs; i++)
		if (addrs[i].s_addr == lo.s_addr &&
		    !find_code(z->codes, z->ncodes, lo)) {
			unknown(out, "127.0.0.1 is not a listing: a DNS "
				     "blocker or a refused query");
			return;
		}

	out->status = DNSBL_LISTED;
	for (size_t i = 0; i < naddrs && out->ncodes < DNSBL_MAX_CODES; i++) {
		bool seen = false;
		for (size_t j = 0; j < out->ncodes; j++)
			if (out->codes[j].s_addr == addrs[i].s_addr)
				seen = true;
		if (seen)
			continue;
		const struct dnsbl_code *c =
			find_code(z->codes, z->ncodes, addrs[i]);
		out->codes[out->ncodes] = addrs[i];
		out->meanings[out->ncodes] = c ? c->meaning : NULL;
		out->ncodes++;
	}
}
