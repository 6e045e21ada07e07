#include "scan/input.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/util.h"
#include "net/target.h"

/* ---------- addresses ---------- */

int scan_addr_parse(const char *ip, uint8_t out[16])
{
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, ip, &a4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &a4, 4);
		return 4;
	}
	if (inet_pton(AF_INET6, ip, &a6) == 1) {
		memcpy(out, &a6, 16);
		return 6;
	}
	return 0;
}

/* "IP/PREFIX" or "IP" into the first and last address. The prefix counts
 * in the address's own family. Returns the family (4/6) or 0. */
static int parse_block(const char *text, uint8_t lo[16], uint8_t hi[16],
		       unsigned *host_bits)
{
	char ip[64];
	const char *slash = strchr(text, '/');
	size_t il = slash ? (size_t)(slash - text) : strlen(text);
	if (il == 0 || il >= sizeof(ip))
		return 0;
	memcpy(ip, text, il);
	ip[il] = '\0';
	int fam = scan_addr_parse(ip, lo);
	if (!fam)
		return 0;
	unsigned maxp = fam == 4 ? 32 : 128, prefix = maxp;
	if (slash) {
		const char *p = slash + 1;
		if (!*p || strlen(p) > 3)
			return 0;
		unsigned v = 0;
		for (; *p; p++) {
			if (!isdigit((unsigned char)*p))
				return 0;
			v = v * 10 + (unsigned)(*p - '0');
		}
		if (v > maxp)
			return 0;
		prefix = v;
	}
	unsigned bits = maxp - prefix; /* host bits */
	memcpy(hi, lo, 16);
	for (unsigned b = 0; b < bits; b++) {
		unsigned byte = 15 - b / 8, bit = b % 8;
		lo[byte] &= (uint8_t)~(1u << bit);
		hi[byte] |= (uint8_t)(1u << bit);
	}
	if (host_bits)
		*host_bits = bits;
	return fam;
}

static int cmp16(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 16);
}

static int range_cmp(const void *a, const void *b)
{
	return cmp16(((const struct addr_range *)a)->lo,
		     ((const struct addr_range *)b)->lo);
}

int addr_set_add(struct addr_set *s, const char *text)
{
	struct addr_range r;
	if (!parse_block(text, r.lo, r.hi, NULL))
		return -1;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 32;
		struct addr_range *nv = realloc(s->v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		s->v = nv;
		s->cap = nc;
	}
	s->v[s->n++] = r;
	s->sorted = false;
	return 0;
}

int addr_set_add_special(struct addr_set *s)
{
	/* IANA special-purpose registries (RFC 6890, 6598, 7723...). Not
	 * ::ffff:0:0/96: IPv4 is stored mapped, that would cover it all. */
	static const char *const special[] = {
	    "0.0.0.0/8",       "10.0.0.0/8",      "100.64.0.0/10",
	    "127.0.0.0/8",     "169.254.0.0/16",  "172.16.0.0/12",
	    "192.0.0.0/24",    "192.0.2.0/24",    "192.31.196.0/24",
	    "192.52.193.0/24", "192.88.99.0/24",  "192.168.0.0/16",
	    "192.175.48.0/24", "198.18.0.0/15",   "198.51.100.0/24",
	    "203.0.113.0/24",  "224.0.0.0/4",     "240.0.0.0/4",
	    "::/128",          "::1/128",         "64:ff9b::/96",
	    "64:ff9b:1::/48",  "100::/64",        "2001::/23",
	    "2001:db8::/32",   "2002::/16",       "3fff::/20",
	    "5f00::/16",       "fc00::/7",        "fe80::/10",
	    "ff00::/8",
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(special); i++)
		if (addr_set_add(s, special[i]) < 0)
			return -1;
	return 0;
}

static void trim(char **p, size_t *len)
{
	while (*len && isspace((unsigned char)**p)) {
		(*p)++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)(*p)[*len - 1]))
		(*len)--;
}

/* Reads one line into buf (at most cap-1 bytes kept, the rest of a long
 * line discarded). Returns the length, -1 at EOF with nothing read, -2 on
 * error; *toolong tells whether bytes were dropped. */
static long read_line(FILE *f, char *buf, size_t cap, bool *toolong)
{
	size_t n = 0;
	int c;
	*toolong = false;
	bool any = false;
	while ((c = getc(f)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		if (n + 1 < cap)
			buf[n++] = (char)c;
		else
			*toolong = true;
	}
	buf[n] = '\0';
	if (c == EOF && ferror(f))
		return -2;
	if (!any)
		return -1;
	return (long)n;
}

int addr_set_load(struct addr_set *s, FILE *f, char *err, size_t errlen)
{
	char buf[SCAN_LINE_MAX];
	unsigned long line = 0;
	long n;
	bool toolong;
	while ((n = read_line(f, buf, sizeof(buf), &toolong)) >= 0) {
		line++;
		char *p = buf;
		size_t len = (size_t)n;
		char *hash = memchr(p, '#', len);
		if (hash)
			len = (size_t)(hash - p);
		trim(&p, &len);
		if (len == 0)
			continue;
		p[len] = '\0';
		if (toolong || addr_set_add(s, p) < 0) {
			char esc[80];
			rp_escape(p, len, esc, sizeof(esc));
			snprintf(err, errlen,
				 "line %lu: '%s' is not an address or CIDR block",
				 line, esc);
			return -1;
		}
	}
	if (n == -2) {
		snprintf(err, errlen, "read error: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Sorted and merged: overlapping or adjacent ranges become one, so a
 * binary search over lo finds the only candidate. */
static void normalise(struct addr_set *s)
{
	if (s->sorted)
		return;
	qsort(s->v, s->n, sizeof(*s->v), range_cmp);
	size_t w = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (w > 0 && cmp16(s->v[i].lo, s->v[w - 1].hi) <= 0) {
			if (cmp16(s->v[i].hi, s->v[w - 1].hi) > 0)
				memcpy(s->v[w - 1].hi, s->v[i].hi, 16);
		} else {
			s->v[w++] = s->v[i];
		}
	}
	s->n = w;
	s->sorted = true;
}

bool addr_set_contains(struct addr_set *s, const uint8_t a[16])
{
	if (!s || s->n == 0)
		return false;
	normalise(s);
	size_t lo = 0, hi = s->n; /* first range with lo > a */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp16(s->v[mid].lo, a) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && cmp16(a, s->v[lo - 1].hi) <= 0;
}

bool addr_set_contains_text(struct addr_set *s, const char *ip)
{
	uint8_t a[16];
	return scan_addr_parse(ip, a) && addr_set_contains(s, a);
}

void addr_set_free(struct addr_set *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---------- shards ---------- */

uint64_t scan_target_hash(const char *target)
{
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *p = (const unsigned char *)target; *p; p++)
		h = (h ^ (uint64_t)tolower(*p)) * 1099511628211ULL;
	/* Mix the high bits down: shards take h mod N. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

int scan_shard_parse(const char *text, unsigned *k, unsigned *n, char *err,
		     size_t errlen)
{
	char *end;
	errno = 0;
	unsigned long a = strtoul(text, &end, 10);
	if (end == text || *end != '/' || !isdigit((unsigned char)text[0]))
		goto bad;
	const char *p = end + 1;
	if (!isdigit((unsigned char)*p))
		goto bad;
	unsigned long b = strtoul(p, &end, 10);
	if (*end || errno || b < 1 || b > 1000000 || a >= b)
		goto bad;
	*k = (unsigned)a;
	*n = (unsigned)b;
	return 0;
bad:
	snprintf(err, errlen,
		 "--shard takes K/N with 0 <= K < N (e.g. 0/4), not '%.40s'",
		 text);
	return -1;
}

bool scan_shard_mine(const char *target, unsigned k, unsigned n)
{
	return n <= 1 || scan_target_hash(target) % n == k;
}

/* ---------- reader ---------- */

void scan_reader_init(struct scan_reader *r, FILE *in,
		      const struct scan_reader_config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->in = in;
	r->cfg = *cfg;
}

static void invalid(struct scan_item *out, const char *line, size_t len,
		    const char *why)
{
	out->kind = SCAN_ITEM_INVALID;
	rp_escape(line, len, out->target, sizeof(out->target));
	snprintf(out->why, sizeof(out->why), "%s", why);
}

static void addr_text(int family, const uint8_t a[16], char *out, size_t cap)
{
	if (family == 4)
		inet_ntop(AF_INET, a + 12, out, (socklen_t)cap);
	else
		inet_ntop(AF_INET6, a, out, (socklen_t)cap);
}

int scan_reader_feed_line(struct scan_reader *r, const char *line,
			  size_t len, struct scan_item *out)
{
	memset(out, 0, sizeof(*out));
	out->line = r->line;
	char buf[SCAN_LINE_MAX];
	if (len >= sizeof(buf)) {
		invalid(out, line, 60, "line too long");
		return 1;
	}
	memcpy(buf, line, len);
	buf[len] = '\0';
	char *p = buf;
	char *hash = memchr(p, '#', len);
	if (hash)
		len = (size_t)(hash - p);
	trim(&p, &len);
	if (len == 0)
		return 0;
	p[len] = '\0';
	if (strlen(p) != len) {
		invalid(out, p, len, "contains a NUL byte");
		return 1;
	}
	if (strchr(p, '/')) {
		uint8_t lo[16], hi[16];
		unsigned bits = 0;
		int fam = parse_block(p, lo, hi, &bits);
		if (!fam) {
			invalid(out, p, len, "not a CIDR block (IP/PREFIX)");
			return 1;
		}
		if (bits > r->cfg.max_cidr_bits) {
			char why[120];
			snprintf(why, sizeof(why),
				 "CIDR block larger than the cap of %llu "
				 "addresses (--max-cidr %u)",
				 1ULL << r->cfg.max_cidr_bits,
				 r->cfg.max_cidr_bits);
			invalid(out, p, len, why);
			return 1;
		}
		r->in_block = true;
		r->family = fam;
		memcpy(r->cur, lo, 16);
		r->left = 1ULL << bits;
		r->block_line = r->line;
		return 0;
	}
	struct target t;
	char err[300];
	if (target_parse(p, 25, &t, err, sizeof(err)) < 0) {
		const char *why = strstr(err, "': ");
		invalid(out, p, len, why ? why + 3 : err);
		return 1;
	}
	snprintf(out->target, sizeof(out->target), "%s", p);
	if (t.is_ip && addr_set_contains_text(r->cfg.exclude, t.host)) {
		out->kind = SCAN_ITEM_EXCLUDED;
		snprintf(out->why, sizeof(out->why),
			 "in the exclusion list (--exclude)");
		return 1;
	}
	out->kind = SCAN_ITEM_TARGET;
	return 1;
}

static void increment(uint8_t a[16])
{
	for (int i = 15; i >= 0; i--)
		if (++a[i] != 0)
			break;
}

/* The next address of the block being expanded, skipping exclusions. */
static int next_in_block(struct scan_reader *r, struct scan_item *out)
{
	while (r->left > 0) {
		uint8_t a[16];
		memcpy(a, r->cur, 16);
		r->left--;
		increment(r->cur);
		if (addr_set_contains(r->cfg.exclude, a))
			continue;
		if (!r->cfg.include_special &&
		    addr_set_contains(r->cfg.special, a))
			continue;
		memset(out, 0, sizeof(*out));
		out->kind = SCAN_ITEM_TARGET;
		out->line = r->block_line;
		addr_text(r->family, a, out->target, sizeof(out->target));
		return 1;
	}
	r->in_block = false;
	return 0;
}

int scan_reader_next(struct scan_reader *r, struct scan_item *out)
{
	for (;;) {
		if (r->in_block && next_in_block(r, out))
			return 1;
		char buf[SCAN_LINE_MAX + 1];
		bool toolong;
		long n = read_line(r->in, buf, sizeof(buf), &toolong);
		if (n == -2)
			return -1;
		if (n == -1)
			return 0;
		r->line++;
		if (toolong) {
			memset(out, 0, sizeof(*out));
			out->line = r->line;
			invalid(out, buf, 60, "line too long");
			return 1;
		}
		if (scan_reader_feed_line(r, buf, (size_t)n, out))
			return 1;
	}
}
