/* Unit tests for dns/dnsbl: the zones file parser (shipped default, errors
 * with line numbers, limits), query names, RFC 5782 test points and the
 * reading of answers (errors are never listings). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/dnsbl.h"

/* ---- helpers ---------------------------------------------------------- */

static void parse_ok(const char *text, struct dnsbl_zones *z)
{
	char err[256] = "";
	if (dnsbl_zones_parse(text, strlen(text), z, err, sizeof(err)) != 0)
		fail_msg("parse failed: %s\n--- input:\n%s", err, text);
}

/* Parsing text fails with exactly the message want. */
static void parse_err(const char *text, const char *want)
{
	struct dnsbl_zones z;
	memset(&z, 0xa5, sizeof(z));
	char err[256] = "";
	int rc = dnsbl_zones_parse(text, strlen(text), &z, err, sizeof(err));
	if (rc == 0) {
		dnsbl_zones_free(&z);
		fail_msg("parse accepted:\n%s\nwant error '%s'", text, want);
	}
	assert_null(z.v); /* the partial result is freed */
	assert_int_equal(z.n, 0);
	if (strcmp(err, want) != 0)
		fail_msg("input:\n%s\ngot  '%s'\nwant '%s'", text, err, want);
}

/* Parsing fails with a message starting with prefix ("line N: "). */
static void parse_err_prefix(const char *text, const char *prefix)
{
	struct dnsbl_zones z;
	char err[256] = "";
	int rc = dnsbl_zones_parse(text, strlen(text), &z, err, sizeof(err));
	if (rc == 0) {
		dnsbl_zones_free(&z);
		fail_msg("parse accepted:\n%s\nwant error '%s...'", text,
			 prefix);
	}
	assert_null(z.v);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("input:\n%s\ngot  '%s'\nwant '%s...'", text, err,
			 prefix);
}

static const struct dnsbl_zone *find_zone(const struct dnsbl_zones *z,
					  const char *name)
{
	for (size_t i = 0; i < z->n; i++)
		if (strcmp(z->v[i].name, name) == 0)
			return &z->v[i];
	return NULL;
}

static const char *code_meaning(const struct dnsbl_code *v, size_t n,
				const char *addr)
{
	struct in_addr a;
	assert_int_equal(inet_pton(AF_INET, addr, &a), 1);
	for (size_t i = 0; i < n; i++)
		if (v[i].addr.s_addr == a.s_addr)
			return v[i].meaning;
	return NULL;
}

static struct in_addr ip4(const char *s)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		fail_msg("bad test address %s", s);
	return a;
}

/* Growing string buffer for generated inputs. */
struct sbuf {
	char *p;
	size_t n, cap;
};

static void sb_add(struct sbuf *b, const char *s)
{
	size_t k = strlen(s);
	if (b->n + k + 1 > b->cap) {
		size_t cap = (b->n + k + 1) * 2;
		char *p = realloc(b->p, cap);
		assert_non_null(p);
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, k + 1);
	b->n += k;
}

/* ---- the shipped default ---------------------------------------------- */

static void default_zones_parse(void **state)
{
	(void)state;
	size_t len = 0;
	const char *text = dnsbl_default_zones(&len);
	assert_non_null(text);
	assert_true(len > 100);
	assert_int_equal(strlen(text), len); /* NUL-terminated, no NUL */

	struct dnsbl_zones z;
	char err[256] = "";
	int rc = dnsbl_zones_parse(text, len, &z, err, sizeof(err));
	if (rc != 0)
		fail_msg("default zones: %s", err);
	assert_true(z.n >= 5);

	const struct dnsbl_zone *zen = find_zone(&z, "zen.spamhaus.org");
	assert_non_null(zen);
	assert_int_equal(zen->kind, DNSBL_IP);
	assert_true(zen->ipv6);
	assert_non_null(zen->note);
	static const char *const zen_codes[] = {
	    "127.0.0.2", "127.0.0.3", "127.0.0.4",
	    "127.0.0.9", "127.0.0.10", "127.0.0.11",
	};
	for (size_t i = 0; i < sizeof(zen_codes) / sizeof(zen_codes[0]); i++)
		assert_non_null(
		    code_meaning(zen->codes, zen->ncodes, zen_codes[i]));
	assert_non_null(strstr(
	    code_meaning(zen->codes, zen->ncodes, "127.0.0.2"), "SBL"));
	assert_non_null(strstr(
	    code_meaning(zen->codes, zen->ncodes, "127.0.0.10"), "PBL"));
	assert_non_null(
	    code_meaning(zen->errors, zen->nerrors, "127.255.255.252"));
	assert_non_null(
	    code_meaning(zen->errors, zen->nerrors, "127.255.255.254"));
	assert_non_null(
	    code_meaning(zen->errors, zen->nerrors, "127.255.255.255"));

	const struct dnsbl_zone *dbl = find_zone(&z, "dbl.spamhaus.org");
	assert_non_null(dbl);
	assert_int_equal(dbl->kind, DNSBL_DOMAIN);
	assert_false(dbl->ipv6);
	assert_non_null(code_meaning(dbl->codes, dbl->ncodes, "127.0.1.2"));
	assert_non_null(code_meaning(dbl->codes, dbl->ncodes, "127.0.1.106"));
	assert_non_null(
	    code_meaning(dbl->errors, dbl->nerrors, "127.0.1.255"));

	assert_non_null(find_zone(&z, "bl.spamcop.net"));
	assert_non_null(find_zone(&z, "b.barracudacentral.org"));
	assert_non_null(find_zone(&z, "psbl.surriel.com"));
	assert_non_null(find_zone(&z, "bl.mailspike.net"));
	const struct dnsbl_zone *s5h = find_zone(&z, "all.s5h.net");
	assert_non_null(s5h);
	assert_true(s5h->ipv6);
	const struct dnsbl_zone *uce = find_zone(&z, "dnsbl-1.uceprotect.net");
	assert_non_null(uce);
	assert_true(uce->weight <= 10);
	assert_non_null(find_zone(&z, "ips.backscatterer.org"));

	/* Dead lists, lists that list the world, and ZEN's parts. */
	static const char *const dead[] = {
	    "sorbs", "manitu", "ahbl", "ordb", "dsbl", "unsubscore", "inps.de",
	    "burnt",
	};
	for (size_t i = 0; i < z.n; i++) {
		const struct dnsbl_zone *zz = &z.v[i];
		for (size_t j = 0; j < sizeof(dead) / sizeof(dead[0]); j++)
			if (strstr(zz->name, dead[j]))
				fail_msg("dead list %s in the default", zz->name);
		assert_string_not_equal(zz->name, "sbl.spamhaus.org");
		assert_string_not_equal(zz->name, "xbl.spamhaus.org");
		assert_string_not_equal(zz->name, "pbl.spamhaus.org");
		assert_string_not_equal(zz->name, "sbl-xbl.spamhaus.org");
		assert_string_not_equal(zz->name, "dnsbl-2.uceprotect.net");
		assert_string_not_equal(zz->name, "dnsbl-3.uceprotect.net");
		assert_true(zz->weight >= 0 && zz->weight <= 100);
		assert_non_null(zz->note);
		assert_true(zz->ncodes >= 1);
	}
	assert_null(find_zone(&z, "ix.dnsbl.manitu.net"));
	dnsbl_zones_free(&z);
	assert_null(z.v);
	assert_int_equal(z.n, 0);
}

/* ---- accepted syntax -------------------------------------------------- */

static void parse_full_zone(void **state)
{
	(void)state;
	struct dnsbl_zones z;
	parse_ok("# comment\n"
		 "\n"
		 "  [Zen.Example.ORG.]  # trailing comment\n"
		 "kind = ip\n"
		 "\tipv6=yes\n"
		 "weight = 0\n"
		 "note = free, see FAQ#1 (low volume)  # the comment goes\n"
		 "code 127.0.0.2 = spam source\n"
		 "code   127.0.0.10   =   policy: end users\n"
		 "error 127.255.255.254 = public resolver refused\n"
		 "error 127.0.1.255 = wrong kind of query\n"
		 "[dbl.example.org]\r\n"
		 "kind = domain\r\n"
		 "weight = 100\r\n"
		 "code 127.0.1.2 = spam domain\r\n"
		 "[min.example.org]",
		 &z);
	assert_int_equal(z.n, 3);
	const struct dnsbl_zone *a = &z.v[0];
	assert_string_equal(a->name, "zen.example.org");
	assert_int_equal(a->kind, DNSBL_IP);
	assert_true(a->ipv6);
	assert_int_equal(a->weight, 0);
	assert_string_equal(a->note, "free, see FAQ#1 (low volume)");
	assert_int_equal(a->ncodes, 2);
	assert_int_equal(a->codes[0].addr.s_addr, ip4("127.0.0.2").s_addr);
	assert_string_equal(a->codes[0].meaning, "spam source");
	assert_string_equal(a->codes[1].meaning, "policy: end users");
	assert_int_equal(a->nerrors, 2);
	assert_string_equal(a->errors[1].meaning, "wrong kind of query");

	const struct dnsbl_zone *b = &z.v[1];
	assert_string_equal(b->name, "dbl.example.org");
	assert_int_equal(b->kind, DNSBL_DOMAIN);
	assert_int_equal(b->weight, 100);
	assert_string_equal(b->codes[0].meaning, "spam domain");

	/* Defaults. */
	const struct dnsbl_zone *c = &z.v[2];
	assert_int_equal(c->kind, DNSBL_IP);
	assert_false(c->ipv6);
	assert_int_equal(c->weight, 10);
	assert_null(c->note);
	assert_int_equal(c->ncodes, 0);
	assert_int_equal(c->nerrors, 0);
	dnsbl_zones_free(&z);
	dnsbl_zones_free(&z); /* idempotent */
}

static void parse_empty(void **state)
{
	(void)state;
	struct dnsbl_zones z;
	char err[64] = "x";
	assert_int_equal(dnsbl_zones_parse("", 0, &z, err, sizeof(err)), 0);
	assert_int_equal(z.n, 0);
	assert_string_equal(err, "");
	dnsbl_zones_free(&z);
	assert_int_equal(dnsbl_zones_parse(NULL, 0, &z, err, sizeof(err)), 0);
	assert_int_equal(z.n, 0);
	parse_ok("# only comments\n\n   \n\t# and blanks\n", &z);
	assert_int_equal(z.n, 0);
	dnsbl_zones_free(&z);
	/* A NULL error buffer is allowed. */
	assert_int_equal(dnsbl_zones_parse("x", 1, &z, NULL, 0), -1);
}

static void parse_utf8_in_comments_only(void **state)
{
	(void)state;
	struct dnsbl_zones z;
	parse_ok("# Spamhaus \xe2\x80\x94 comment\n[a.example]\n"
		 "weight = 5 # caf\xc3\xa9\n",
		 &z);
	assert_int_equal(z.n, 1);
	dnsbl_zones_free(&z);
	parse_err("[a.example]\nnote = caf\xc3\xa9\n",
		  "line 2: byte 0xc3 at column 11: only printable ASCII and "
		  "tabs are allowed outside comments");
}

/* ---- errors, with line numbers ---------------------------------------- */

static void error_unknown_key(void **state)
{
	(void)state;
	parse_err("[a.example]\nkind = ip\nwieght = 5\n",
		  "line 3: unknown key 'wieght'");
	parse_err("[a.example]\n\n# c\nKind = ip\n",
		  "line 4: unknown key 'Kind'");
	parse_err("[a.example]\nkind ip = ip\n",
		  "line 2: unknown key 'kind ip'");
	parse_err("[a.example]\ncode = x\n",
		  "line 2: 'code' needs an address: 'code 127.0.0.2 = "
		  "meaning'");
	parse_err("[a.example]\nkind ip\n",
		  "line 2: expected '[zone.name]' or 'key = value'");
	/* A long key is shortened in the message. */
	char buf[400];
	memset(buf, 'k', sizeof(buf));
	memcpy(buf + 300, " = v\n", 6);
	parse_err_prefix(buf, "line 1: unknown key 'kkkkkkkk");
}

static void error_before_zone(void **state)
{
	(void)state;
	parse_err("# c\n\ncode 127.0.0.2 = x\n[a.example]\n",
		  "line 3: 'code' before any [zone] section");
	parse_err("weight = 5\n", "line 1: 'weight' before any [zone] section");
}

static void error_zone_names(void **state)
{
	(void)state;
	parse_err("[a.example]\n[b.example]\n\n[A.Example.]\n",
		  "line 4: duplicate zone 'a.example'");
	parse_err_prefix("[a..example]\n", "line 1: invalid zone name");
	parse_err_prefix("[.a.example]\n", "line 1: invalid zone name");
	parse_err_prefix("[-a.example]\n", "line 1: invalid zone name");
	parse_err_prefix("[a-.example]\n", "line 1: invalid zone name");
	parse_err_prefix("[a_b.example]\n", "line 1: invalid zone name");
	parse_err_prefix("[a b.example]\n", "line 1: invalid zone name");
	parse_err_prefix("[single]\n", "line 1: invalid zone name");
	parse_err_prefix("[]\n", "line 1: invalid zone name");
	parse_err_prefix("[.]\n", "line 1: invalid zone name");
	parse_err("\n[a.example\n", "line 2: a section must be '[zone.name]'");
	parse_err("[a.example] x\n", "line 1: a section must be '[zone.name]'");
	/* Label of 64 characters; of 63 is fine. */
	char buf[200];
	snprintf(buf, sizeof(buf), "[%.64s.example]\n",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaa");
	parse_err_prefix(buf, "line 1: invalid zone name");
	snprintf(buf, sizeof(buf), "[%.63s.example]\n",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaa");
	struct dnsbl_zones z;
	parse_ok(buf, &z);
	dnsbl_zones_free(&z);
	/* Name of 254 characters. */
	struct sbuf sb = {0};
	sb_add(&sb, "[");
	for (int i = 0; i < 127; i++)
		sb_add(&sb, i ? ".a" : "a");
	sb_add(&sb, "a]\n"); /* 127 labels "a" + 126 dots + 1 = 254 */
	parse_err_prefix(sb.p, "line 1: invalid zone name");
	free(sb.p);
}

static void error_codes(void **state)
{
	(void)state;
	parse_err("[a.example]\ncode 10.0.0.2 = x\n",
		  "line 2: code address 10.0.0.2 is outside 127.0.0.0/8");
	parse_err("[a.example]\n\nerror 128.0.0.1 = x\n",
		  "line 3: error address 128.0.0.1 is outside 127.0.0.0/8");
	parse_err("[a.example]\ncode 127.0.0.256 = x\n",
		  "line 2: code address '127.0.0.256' is not an IPv4 address");
	parse_err("[a.example]\ncode 127.1 = x\n",
		  "line 2: code address '127.1' is not an IPv4 address");
	parse_err("[a.example]\ncode ::1 = x\n",
		  "line 2: code address '::1' is not an IPv4 address");
	parse_err("[a.example]\ncode 127.0.0.2 x = x\n",
		  "line 2: code address '127.0.0.2 x' is not an IPv4 address");
	parse_err("[a.example]\ncode 127.255.255.3 = x\n",
		  "line 2: code 127.255.255.3 is in 127.255.255.0/24, which is "
		  "for errors: use 'error 127.255.255.3 = ...'");
	parse_err("[a.example]\ncode 127.0.0.2 = x\ncode 127.0.0.2 = y\n",
		  "line 3: 127.0.0.2 is already a code of this zone");
	parse_err("[a.example]\nerror 127.0.0.5 = x\ncode 127.0.0.5 = y\n",
		  "line 3: 127.0.0.5 is already an error of this zone");
	parse_err("[a.example]\ncode 127.0.0.2 =\n",
		  "line 2: 'code' has no value");
	/* The same code in two zones is fine. */
	struct dnsbl_zones z;
	parse_ok("[a.example]\ncode 127.0.0.2 = x\n"
		 "[b.example]\ncode 127.0.0.2 = x\n",
		 &z);
	dnsbl_zones_free(&z);
}

static void error_values(void **state)
{
	(void)state;
	const char *bad_weights[] = {"101", "-1", "+5", "abc", "1000", "5.0",
				     "0x10", "4 0", "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad_weights) / sizeof(bad_weights[0]);
	     i++) {
		char buf[128];
		snprintf(buf, sizeof(buf), "[a.example]\nweight = %s\n",
			 bad_weights[i]);
		parse_err(buf, "line 2: weight must be a whole number from 0 "
			       "to 100");
	}
	parse_err("[a.example]\nweight =\n", "line 2: 'weight' has no value");
	parse_err("[a.example]\nkind = url\n",
		  "line 2: kind must be 'ip' or 'domain'");
	parse_err("[a.example]\nkind = IP\n",
		  "line 2: kind must be 'ip' or 'domain'");
	parse_err("[a.example]\nipv6 = true\n",
		  "line 2: ipv6 must be 'yes' or 'no'");
	parse_err("[a.example]\nkind = domain\nipv6 = yes\n",
		  "line 3: a domain zone cannot have 'ipv6 = yes'");
	parse_err("[a.example]\nipv6 = yes\nkind = domain\n",
		  "line 3: a domain zone cannot have 'ipv6 = yes'");
	parse_err("[a.example]\nkind = ip\nkind = ip\n",
		  "line 3: duplicate key 'kind'");
	parse_err("[a.example]\nnote = a\nnote = b\n",
		  "line 3: duplicate key 'note'");
	parse_err("[a.example]\nweight = 1\n[b.example]\nweight = 2\n"
		  "weight = 3\n",
		  "line 5: duplicate key 'weight'");
	/* Keys are per zone: a second zone may set them again. */
	struct dnsbl_zones z;
	parse_ok("[a.example]\nkind = domain\n[b.example]\nipv6 = yes\n", &z);
	dnsbl_zones_free(&z);
}

static void error_bytes_and_lines(void **state)
{
	(void)state;
	struct dnsbl_zones z;
	char err[256];
	/* NUL inside a line: the length decides, not strlen. */
	static const char nul[] = "[a.example]\nnote = a\0b\n";
	assert_int_equal(
	    dnsbl_zones_parse(nul, sizeof(nul) - 1, &z, err, sizeof(err)), -1);
	assert_string_equal(err, "line 2: byte 0x00 at column 9: only printable "
				 "ASCII and tabs are allowed outside comments");
	parse_err_prefix("[a.example]\n\nnote = a\rb\n", "line 3: byte 0x0d");
	parse_err_prefix("[a.example]\nnote = \x1b[31m\n", "line 2: byte 0x1b");
	parse_err_prefix("# \x7f\n", "line 1: byte 0x7f");
	/* Lines: 4096 bytes are allowed, 4097 are not (CR not counted). */
	char *buf = malloc(4096 + 16);
	assert_non_null(buf);
	memset(buf, '#', 4096);
	memcpy(buf + 4096, "\r\n", 3);
	assert_int_equal(
	    dnsbl_zones_parse(buf, strlen(buf), &z, err, sizeof(err)), 0);
	dnsbl_zones_free(&z);
	memcpy(buf + 4096, "#\n[a.example]\n", 15);
	parse_err(buf, "line 1: line longer than 4096 bytes");
	/* Without a final newline too, and on a later line. */
	memset(buf, '#', 4098);
	buf[0] = '\n';
	buf[4098] = '\0'; /* line 2: 4097 bytes, no newline */
	parse_err(buf, "line 2: line longer than 4096 bytes");
	free(buf);
}

static void limits(void **state)
{
	(void)state;
	struct sbuf sb = {0};
	char line[64];
	for (int i = 0; i < 200; i++) {
		snprintf(line, sizeof(line), "[z%d.example]\n", i);
		sb_add(&sb, line);
	}
	struct dnsbl_zones z;
	parse_ok(sb.p, &z);
	assert_int_equal(z.n, 200);
	assert_string_equal(z.v[199].name, "z199.example");
	dnsbl_zones_free(&z);
	sb_add(&sb, "[z200.example]\n");
	parse_err(sb.p, "line 201: more than 200 zones");
	free(sb.p);

	/* 64 codes and 64 errors per zone. */
	memset(&sb, 0, sizeof(sb));
	sb_add(&sb, "[a.example]\n");
	for (int i = 0; i < 64; i++) {
		snprintf(line, sizeof(line), "code 127.0.0.%d = c%d\n", i + 2,
			 i);
		sb_add(&sb, line);
		snprintf(line, sizeof(line), "error 127.0.1.%d = e%d\n", i, i);
		sb_add(&sb, line);
	}
	parse_ok(sb.p, &z);
	assert_int_equal(z.v[0].ncodes, 64);
	assert_int_equal(z.v[0].nerrors, 64);
	assert_string_equal(z.v[0].codes[63].meaning, "c63");
	assert_string_equal(z.v[0].errors[63].meaning, "e63");
	dnsbl_zones_free(&z);
	size_t keep = sb.n;
	sb_add(&sb, "code 127.0.2.1 = too many\n");
	parse_err(sb.p, "line 130: more than 64 code lines in zone "
			"'a.example'");
	sb.n = keep;
	sb.p[keep] = '\0';
	sb_add(&sb, "error 127.0.2.1 = too many\n");
	parse_err(sb.p, "line 130: more than 64 error lines in zone "
			"'a.example'");
	free(sb.p);
}

static void error_leaves_nothing(void **state)
{
	(void)state;
	/* An error after several complete zones frees them all (ASan checks
	 * for leaks). */
	parse_err("[a.example]\nnote = n\ncode 127.0.0.2 = x\n"
		  "error 127.255.255.254 = y\n"
		  "[b.example]\nkind = domain\ncode 127.0.1.2 = z\n"
		  "bogus = 1\n",
		  "line 8: unknown key 'bogus'");
}

/* Mutations of the default file must never crash (ASan/UBSan run). */
static void parse_mutations(void **state)
{
	(void)state;
	size_t len;
	const char *def = dnsbl_default_zones(&len);
	char *buf = malloc(len + 1);
	assert_non_null(buf);
	uint32_t x = 12345;
	static const char alphabet[] = "[]=#.\n\r\t 0127abz-_\xff";
	for (int iter = 0; iter < 3000; iter++) {
		memcpy(buf, def, len);
		int nmut = 1 + iter % 8;
		for (int m = 0; m < nmut; m++) {
			x = x * 1664525u + 1013904223u;
			size_t pos = (x >> 8) % len;
			x = x * 1664525u + 1013904223u;
			buf[pos] = alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
		}
		x = x * 1664525u + 1013904223u;
		size_t cut = (iter % 3 == 0) ? (x >> 4) % (len + 1) : len;
		struct dnsbl_zones z;
		char err[128];
		if (dnsbl_zones_parse(buf, cut, &z, err, sizeof(err)) == 0) {
			for (size_t i = 0; i < z.n; i++) {
				char out[300];
				dnsbl_query_name(&z.v[i], "192.0.2.1", out,
						 sizeof(out));
			}
			dnsbl_zones_free(&z);
		} else {
			assert_null(z.v);
			assert_true(strncmp(err, "line ", 5) == 0);
		}
	}
	free(buf);
}

static void load_file(void **state)
{
	(void)state;
	char path[] = "/tmp/test_dnsbl_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("[a.example]\nkind = ip\nbad key = 1\n", f);
	fclose(f);

	struct dnsbl_zones z;
	char err[512];
	assert_int_equal(dnsbl_zones_load(path, &z, err, sizeof(err)), -1);
	/* Callers name the file themselves. */
	assert_string_equal(err, "line 3: unknown key 'bad key'");
	assert_null(z.v);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[a.example]\ncode 127.0.0.2 = x\n", f);
	fclose(f);
	assert_int_equal(dnsbl_zones_load(path, &z, err, sizeof(err)), 0);
	assert_int_equal(z.n, 1);
	dnsbl_zones_free(&z);

	/* Over 1 MiB of comments. */
	f = fopen(path, "w");
	assert_non_null(f);
	char line[1024];
	memset(line, '#', sizeof(line) - 1);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\0';
	for (int i = 0; i < 1100; i++)
		fputs(line, f);
	fclose(f);
	assert_int_equal(dnsbl_zones_load(path, &z, err, sizeof(err)), -1);
	assert_string_equal(err, "larger than 1 MiB");
	unlink(path);

	assert_int_equal(dnsbl_zones_load(path, &z, err, sizeof(err)), -1);
	assert_string_equal(err, "No such file or directory");
	assert_int_equal(dnsbl_zones_load("/", &z, err, sizeof(err)), -1);
	assert_string_equal(err, "Is a directory");
}

/* ---- query names ------------------------------------------------------ */

struct fixture {
	struct dnsbl_zones z;
	const struct dnsbl_zone *ip6; /* kind ip, ipv6 yes */
	const struct dnsbl_zone *ip4; /* kind ip, ipv6 no */
	const struct dnsbl_zone *dom; /* kind domain */
	const struct dnsbl_zone *lo;  /* documents 127.0.0.1 */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	char err[256];
	static const char text[] =
	    "[zen.spamhaus.org]\nkind = ip\nipv6 = yes\nweight = 40\n"
	    "code 127.0.0.2 = SBL: spam source\n"
	    "code 127.0.0.10 = PBL: end-user range\n"
	    "error 127.255.255.252 = typing error in the zone name\n"
	    "error 127.255.255.254 = public resolver refused: use your own "
	    "resolver\n"
	    "[bl.spamcop.net]\nkind = ip\ncode 127.0.0.2 = listed\n"
	    "[dbl.spamhaus.org]\nkind = domain\n"
	    "code 127.0.1.2 = spam domain\n"
	    "error 127.0.1.255 = IP queried on a domain list\n"
	    "[lo.example.net]\ncode 127.0.0.1 = listed (this list uses .1)\n";
	if (dnsbl_zones_parse(text, strlen(text), &f->z, err, sizeof(err))) {
		fprintf(stderr, "fixture: %s\n", err);
		free(f);
		return -1;
	}
	f->ip6 = &f->z.v[0];
	f->ip4 = &f->z.v[1];
	f->dom = &f->z.v[2];
	f->lo = &f->z.v[3];
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	dnsbl_zones_free(&f->z);
	free(f);
	return 0;
}

static void qn_ok(const struct dnsbl_zone *z, const char *subject,
		  const char *want)
{
	char out[300];
	memset(out, 'x', sizeof(out));
	if (dnsbl_query_name(z, subject, out, sizeof(out)) != 0)
		fail_msg("%s on %s rejected", subject, z->name);
	assert_string_equal(out, want);
}

static void qn_bad(const struct dnsbl_zone *z, const char *subject)
{
	char out[300];
	memset(out, 'x', sizeof(out));
	if (dnsbl_query_name(z, subject, out, sizeof(out)) == 0)
		fail_msg("%s on %s accepted: %s", subject, z->name, out);
	assert_string_equal(out, "");
}

static void query_names_ip(void **state)
{
	struct fixture *f = *state;
	qn_ok(f->ip6, "1.2.3.4", "4.3.2.1.zen.spamhaus.org");
	qn_ok(f->ip4, "192.0.2.99", "99.2.0.192.bl.spamcop.net");
	qn_ok(f->ip6, "127.0.0.2", "2.0.0.127.zen.spamhaus.org");
	qn_ok(f->ip6, "2001:db8::1",
	      "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	      ".zen.spamhaus.org");
	/* RFC 5782 §2.4 example form; upper case input, lower case output. */
	qn_ok(f->ip6, "2001:DB8:ABC:123::42",
	      "2.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.3.2.1.0.c.b.a.0.8.b.d.0.1.0.0.2"
	      ".zen.spamhaus.org");
	/* The IPv6 test point stays IPv6 (nibbles). */
	qn_ok(f->ip6, "::ffff:7f00:2",
	      "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
	      ".zen.spamhaus.org");
	qn_ok(f->ip6, "::ffff:127.0.0.2",
	      "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
	      ".zen.spamhaus.org");
	/* IPv6 on a zone without ipv6; names on IP zones; junk. */
	qn_bad(f->ip4, "2001:db8::1");
	qn_bad(f->ip4, "::ffff:7f00:2");
	qn_bad(f->ip6, "mail.example.com");
	qn_bad(f->ip6, "1.2.3.4.");
	qn_bad(f->ip6, " 1.2.3.4");
	qn_bad(f->ip6, "1.2.3");
	qn_bad(f->ip6, "1.2.3.256");
	qn_bad(f->ip6, "fe80::1%eth0");
	qn_bad(f->ip6, "");
}

static void query_names_domain(void **state)
{
	struct fixture *f = *state;
	qn_ok(f->dom, "example.com", "example.com.dbl.spamhaus.org");
	qn_ok(f->dom, "Mail.Example.COM.", "mail.example.com.dbl.spamhaus.org");
	qn_ok(f->dom, "dbltest.com", "dbltest.com.dbl.spamhaus.org");
	qn_ok(f->dom, "test", "test.dbl.spamhaus.org");
	qn_ok(f->dom, "_spf.example.com", "_spf.example.com.dbl.spamhaus.org");
	qn_bad(f->dom, "1.2.3.4");
	qn_bad(f->dom, "1.2.3.4.");
	qn_bad(f->dom, "2001:db8::1");
	qn_bad(f->dom, "");
	qn_bad(f->dom, ".");
	qn_bad(f->dom, "example..com");
	qn_bad(f->dom, ".example.com");
	qn_bad(f->dom, "example.com..");
	qn_bad(f->dom, "-example.com");
	qn_bad(f->dom, "exa mple.com");
	qn_bad(f->dom, "ex\"ample.com");
	qn_bad(f->dom, "b\xc3\xa4r.com");
	/* The whole query must fit in 253 characters. */
	char name[300];
	memset(name, 'a', sizeof(name));
	for (size_t i = 60; i < 240; i += 61)
		name[i] = '.';
	name[236] = '\0'; /* 236 + ".dbl.spamhaus.org" (17) = 253 */
	char out[300];
	assert_int_equal(dnsbl_query_name(f->dom, name, out, sizeof(out)), 0);
	assert_int_equal(strlen(out), 253);
	name[236] = 'a';
	name[237] = '\0';
	assert_int_equal(dnsbl_query_name(f->dom, name, out, sizeof(out)), -1);
}

static void query_names_buffer(void **state)
{
	struct fixture *f = *state;
	const char *want = "4.3.2.1.zen.spamhaus.org";
	size_t need = strlen(want) + 1;
	char out[64];
	assert_int_equal(dnsbl_query_name(f->ip6, "1.2.3.4", out, need), 0);
	assert_string_equal(out, want);
	memset(out, 'x', sizeof(out));
	assert_int_equal(dnsbl_query_name(f->ip6, "1.2.3.4", out, need - 1),
			 -1);
	assert_int_equal(out[0], '\0');
	assert_int_equal(dnsbl_query_name(f->ip6, "1.2.3.4", out, 1), -1);
	assert_int_equal(dnsbl_query_name(f->ip6, "1.2.3.4", out, 0), -1);
	assert_int_equal(dnsbl_query_name(f->ip6, "2001:db8::1", out,
					  sizeof(out)),
			 -1); /* 64 nibble characters + zone > 63 */
	assert_int_equal(dnsbl_query_name(f->ip6, NULL, out, sizeof(out)), -1);
	assert_int_equal(dnsbl_query_name(NULL, "1.2.3.4", out, sizeof(out)),
			 -1);
}

static void test_points(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(dnsbl_test_listed(f->ip6, false), "127.0.0.2");
	assert_string_equal(dnsbl_test_unlisted(f->ip6, false), "127.0.0.1");
	assert_string_equal(dnsbl_test_listed(f->ip6, true), "::ffff:7f00:2");
	assert_string_equal(dnsbl_test_unlisted(f->ip6, true), "::ffff:7f00:1");
	assert_string_equal(dnsbl_test_listed(f->ip4, false), "127.0.0.2");
	assert_null(dnsbl_test_listed(f->ip4, true));
	assert_null(dnsbl_test_unlisted(f->ip4, true));
	assert_string_equal(dnsbl_test_listed(f->dom, false), "test");
	assert_string_equal(dnsbl_test_unlisted(f->dom, false), "invalid");
	assert_null(dnsbl_test_listed(f->dom, true));
	/* Every test point makes a valid query on its own zone. */
	char out[300];
	assert_int_equal(dnsbl_query_name(f->ip6, dnsbl_test_listed(f->ip6, true),
					  out, sizeof(out)),
			 0);
	assert_int_equal(dnsbl_query_name(f->dom, dnsbl_test_unlisted(f->dom,
								     false),
					  out, sizeof(out)),
			 0);
	assert_string_equal(out, "invalid.dbl.spamhaus.org");
}

/* ---- answers ---------------------------------------------------------- */

static void interp(const struct dnsbl_zone *z, enum dns_status st,
		   const char *a1, const char *a2, struct dnsbl_answer *out)
{
	struct in_addr v[2];
	size_t n = 0;
	if (a1)
		v[n++] = ip4(a1);
	if (a2)
		v[n++] = ip4(a2);
	memset(out, 0xa5, sizeof(*out));
	dnsbl_interpret(z, st, n ? v : NULL, n, out);
}

static void expect_unknown(const struct dnsbl_zone *z, enum dns_status st,
			   const char *a1, const char *a2, const char *reason)
{
	struct dnsbl_answer a;
	interp(z, st, a1, a2, &a);
	if (a.status != DNSBL_UNKNOWN)
		fail_msg("%s/%s/%s: got %s, want unknown", dns_status_name(st),
			 a1 ? a1 : "-", a2 ? a2 : "-",
			 dnsbl_status_name(a.status));
	assert_int_equal(a.ncodes, 0);
	assert_string_equal(a.reason, reason);
}

static void interpret_not_listed(void **state)
{
	struct fixture *f = *state;
	struct dnsbl_answer a;
	interp(f->ip6, DNS_NXDOMAIN, NULL, NULL, &a);
	assert_int_equal(a.status, DNSBL_NOT_LISTED);
	assert_string_equal(a.reason, "");
	assert_int_equal(a.ncodes, 0);
	interp(f->ip6, DNS_NODATA, NULL, NULL, &a);
	assert_int_equal(a.status, DNSBL_NOT_LISTED);
	interp(f->ip6, DNS_OK, NULL, NULL, &a);
	assert_int_equal(a.status, DNSBL_NOT_LISTED);
}

static void interpret_listed(void **state)
{
	struct fixture *f = *state;
	struct dnsbl_answer a;
	interp(f->ip6, DNS_OK, "127.0.0.2", NULL, &a);
	assert_int_equal(a.status, DNSBL_LISTED);
	assert_string_equal(a.reason, "");
	assert_int_equal(a.ncodes, 1);
	assert_int_equal(a.codes[0].s_addr, ip4("127.0.0.2").s_addr);
	assert_string_equal(a.meanings[0], "SBL: spam source");

	/* Undocumented code: still listed, no meaning. */
	interp(f->ip6, DNS_OK, "127.0.0.7", NULL, &a);
	assert_int_equal(a.status, DNSBL_LISTED);
	assert_int_equal(a.ncodes, 1);
	assert_int_equal(a.codes[0].s_addr, ip4("127.0.0.7").s_addr);
	assert_null(a.meanings[0]);

	/* Two codes, in answer order; a repeated answer counts once. */
	interp(f->ip6, DNS_OK, "127.0.0.10", "127.0.0.2", &a);
	assert_int_equal(a.status, DNSBL_LISTED);
	assert_int_equal(a.ncodes, 2);
	assert_string_equal(a.meanings[0], "PBL: end-user range");
	assert_string_equal(a.meanings[1], "SBL: spam source");
	interp(f->ip6, DNS_OK, "127.0.0.2", "127.0.0.2", &a);
	assert_int_equal(a.ncodes, 1);

	/* 127.0.0.1 documented by the zone is a listing. */
	interp(f->lo, DNS_OK, "127.0.0.1", NULL, &a);
	assert_int_equal(a.status, DNSBL_LISTED);
	assert_string_equal(a.meanings[0], "listed (this list uses .1)");

	/* Domain list. */
	interp(f->dom, DNS_OK, "127.0.1.2", NULL, &a);
	assert_int_equal(a.status, DNSBL_LISTED);
	assert_string_equal(a.meanings[0], "spam domain");

	/* More answers than DNSBL_MAX_CODES: the first ones are kept. */
	struct in_addr many[12];
	for (int i = 0; i < 12; i++)
		many[i].s_addr = htonl(0x7f000002u + (uint32_t)i);
	dnsbl_interpret(f->ip6, DNS_OK, many, 12, &a);
	assert_int_equal(a.status, DNSBL_LISTED);
	assert_int_equal(a.ncodes, DNSBL_MAX_CODES);
	assert_int_equal(a.codes[7].s_addr, many[7].s_addr);
}

static void interpret_errors(void **state)
{
	struct fixture *f = *state;
	expect_unknown(f->ip6, DNS_OK, "127.255.255.254", NULL,
		       "error code 127.255.255.254: public resolver refused: "
		       "use your own resolver");
	expect_unknown(f->ip6, DNS_OK, "127.255.255.250", NULL,
		       "error code 127.255.255.250 (undocumented for this "
		       "zone)");
	expect_unknown(f->ip4, DNS_OK, "127.255.255.254", NULL,
		       "error code 127.255.255.254 (undocumented for this "
		       "zone)");
	expect_unknown(f->ip6, DNS_OK, "127.0.0.1", NULL,
		       "127.0.0.1 is not a listing: a DNS blocker or a refused "
		       "query");
	expect_unknown(f->ip6, DNS_OK, "10.0.0.1", NULL,
		       "answer 10.0.0.1 is outside 127.0.0.0/8: your resolver "
		       "rewrites NXDOMAIN (or a wildcard)");
	/* Errors win over listings, whatever the order. */
	expect_unknown(f->ip6, DNS_OK, "127.0.0.2", "127.255.255.254",
		       "error code 127.255.255.254: public resolver refused: "
		       "use your own resolver");
	expect_unknown(f->ip6, DNS_OK, "127.255.255.254", "127.0.0.2",
		       "error code 127.255.255.254: public resolver refused: "
		       "use your own resolver");
	expect_unknown(f->ip6, DNS_OK, "127.0.0.2", "127.0.0.1",
		       "127.0.0.1 is not a listing: a DNS blocker or a refused "
		       "query");
	expect_unknown(f->ip6, DNS_OK, "127.0.0.2", "192.0.2.1",
		       "answer 192.0.2.1 is outside 127.0.0.0/8: your resolver "
		       "rewrites NXDOMAIN (or a wildcard)");
	/* A zone's own error outside 127.255.255.0/24 (DBL, IP queried). */
	expect_unknown(f->dom, DNS_OK, "127.0.1.255", NULL,
		       "error code 127.0.1.255: IP queried on a domain list");
	expect_unknown(f->dom, DNS_OK, "127.0.1.2", "127.0.1.255",
		       "error code 127.0.1.255: IP queried on a domain list");
	/* An undocumented 127.0.0.1 is an error even on a domain list. */
	expect_unknown(f->dom, DNS_OK, "127.0.0.1", NULL,
		       "127.0.0.1 is not a listing: a DNS blocker or a refused "
		       "query");
}

static void interpret_status(void **state)
{
	struct fixture *f = *state;
	expect_unknown(f->ip6, DNS_TIMEOUT, NULL, NULL,
		       "timeout: the list did not answer");
	expect_unknown(f->ip6, DNS_SERVFAIL, NULL, NULL,
		       "SERVFAIL: the list's servers or your resolver failed");
	expect_unknown(f->ip6, DNS_REFUSED, NULL, NULL,
		       "query refused (REFUSED): use your own resolver");
	expect_unknown(f->ip6, DNS_ERROR, NULL, NULL,
		       "DNS error: the query could not be made");
	/* Addresses given with a failure status are ignored. */
	expect_unknown(f->ip6, DNS_TIMEOUT, "127.0.0.2", NULL,
		       "timeout: the list did not answer");
	expect_unknown(f->ip6, DNS_STATUS_LAST, NULL, NULL,
		       "unexpected DNS status");
}

static void status_names(void **state)
{
	(void)state;
	assert_string_equal(dnsbl_status_name(DNSBL_LISTED), "listed");
	assert_string_equal(dnsbl_status_name(DNSBL_NOT_LISTED), "not-listed");
	assert_string_equal(dnsbl_status_name(DNSBL_UNKNOWN), "unknown");
	assert_string_equal(dnsbl_status_name(DNSBL_UNUSABLE), "unusable");
	assert_string_equal(dnsbl_status_name(DNSBL_STATUS_LAST), "?");
}

/* Domain lists may name their operator's own test points. */
static void test_names_per_zone(void **state)
{
	(void)state;
	static const char text[] = "[dbl.example.org]\nkind = domain\n"
				   "test-listed = dbltest.com\n"
				   "test-unlisted = nothere.example\n"
				   "[plain.example.org]\nkind = domain\n";
	struct dnsbl_zones z;
	char err[128];
	assert_int_equal(dnsbl_zones_parse(text, sizeof(text) - 1, &z, err,
					   sizeof(err)), 0);
	assert_string_equal(dnsbl_test_listed(&z.v[0], false), "dbltest.com");
	assert_string_equal(dnsbl_test_unlisted(&z.v[0], false), "nothere.example");
	assert_string_equal(dnsbl_test_listed(&z.v[1], false), "test");
	dnsbl_zones_free(&z);
	static const char bad[] = "[d.example.org]\nkind = domain\n"
				  "test-listed = not a name\n";
	assert_int_equal(dnsbl_zones_parse(bad, sizeof(bad) - 1, &z, err,
					   sizeof(err)), -1);
	/* The shipped DBL entry uses Spamhaus's documented test name. */
	size_t len;
	const char *def = dnsbl_default_zones(&len);
	assert_int_equal(dnsbl_zones_parse(def, len, &z, err, sizeof(err)), 0);
	bool found = false;
	for (size_t i = 0; i < z.n; i++)
		if (strcmp(z.v[i].name, "dbl.spamhaus.org") == 0) {
			assert_string_equal(dnsbl_test_listed(&z.v[i], false),
					    "dbltest.com");
			found = true;
		}
	assert_true(found);
	dnsbl_zones_free(&z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_per_zone),
	    cmocka_unit_test(default_zones_parse),
	    cmocka_unit_test(parse_full_zone),
	    cmocka_unit_test(parse_empty),
	    cmocka_unit_test(parse_utf8_in_comments_only),
	    cmocka_unit_test(error_unknown_key),
	    cmocka_unit_test(error_before_zone),
	    cmocka_unit_test(error_zone_names),
	    cmocka_unit_test(error_codes),
	    cmocka_unit_test(error_values),
	    cmocka_unit_test(error_bytes_and_lines),
	    cmocka_unit_test(limits),
	    cmocka_unit_test(error_leaves_nothing),
	    cmocka_unit_test(parse_mutations),
	    cmocka_unit_test(load_file),
	    cmocka_unit_test_setup_teardown(query_names_ip, setup, teardown),
	    cmocka_unit_test_setup_teardown(query_names_domain, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(query_names_buffer, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_points, setup, teardown),
	    cmocka_unit_test_setup_teardown(interpret_not_listed, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(interpret_listed, setup, teardown),
	    cmocka_unit_test_setup_teardown(interpret_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(interpret_status, setup, teardown),
	    cmocka_unit_test(status_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
