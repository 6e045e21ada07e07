/*
 * fuzz_zones: the blocklist zones file reader (dns/dnsbl:
 * dnsbl_zones_parse), the config reader that takes a user's --zones FILE.
 * Input: the file's bytes.
 *
 * Checks: on success every documented rule holds for what was read (zone
 * names valid and unique, lowercase, no trailing dot; weight 0-100; no
 * ipv6 on a domain zone; codes in 127/8 and not in 127.255.255/24, no
 * address twice in a zone; every meaning non-empty; at most 200 zones and
 * 64 codes/errors each); query names and test points work on every zone;
 * on failure the error is "line N: ..." (or an out-of-memory message) and
 * the output is empty.
 */
#include "fuzz.h"

#include <arpa/inet.h>
#include <ctype.h>

#include "dns/dnsbl.h"

static void check_zone(const struct dnsbl_zones *zs, size_t k)
{
	const struct dnsbl_zone *z = &zs->v[k];
	size_t n = strlen(z->name);
	FZ_CHECK(n >= 3 && n <= 253);
	FZ_CHECK(z->name[n - 1] != '.' && strchr(z->name, '.') != NULL);
	for (size_t i = 0; i < n; i++)
		FZ_CHECK(!isupper((unsigned char)z->name[i]) &&
			 (unsigned char)z->name[i] < 0x80);
	for (size_t j = 0; j < k; j++)
		FZ_CHECK(strcmp(zs->v[j].name, z->name) != 0);
	FZ_CHECK(z->kind == DNSBL_IP || z->kind == DNSBL_DOMAIN);
	FZ_CHECK(!(z->kind == DNSBL_DOMAIN && z->ipv6));
	FZ_CHECK(z->weight >= 0 && z->weight <= 100);
	FZ_CHECK(z->note == NULL || z->note[0] != '\0');
	/* test-listed / test-unlisted: domain names, any zone kind */
	if (z->test_listed)
		FZ_CHECK(z->test_listed[0] && strlen(z->test_listed) <= 253);
	if (z->test_unlisted)
		FZ_CHECK(z->test_unlisted[0] && strlen(z->test_unlisted) <= 253);
	FZ_CHECK(z->ncodes <= 64 && z->nerrors <= 64);
	for (size_t i = 0; i < z->ncodes + z->nerrors; i++) {
		const struct dnsbl_code *c =
		    i < z->ncodes ? &z->codes[i] : &z->errors[i - z->ncodes];
		uint32_t a = ntohl(c->addr.s_addr);
		FZ_CHECK((a >> 24) == 127);
		if (i < z->ncodes)
			FZ_CHECK((a >> 8) != 0x7fffffu);
		FZ_CHECK(c->meaning && c->meaning[0]);
		for (size_t j = 0; j < i; j++) {
			const struct dnsbl_code *d =
			    j < z->ncodes ? &z->codes[j]
					  : &z->errors[j - z->ncodes];
			FZ_CHECK(d->addr.s_addr != c->addr.s_addr);
		}
	}

	/* Query names and self-test points. */
	static const char *const subjects[] = {
	    "192.0.2.1", "127.0.0.2", "2001:db8::1", "::ffff:7f00:2",
	    "example.com", "EXAMPLE.com.", "test", "a_b.example", "1.2.3.4.",
	};
	for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
		char q[300];
		if (dnsbl_query_name(z, subjects[i], q, sizeof(q)) == 0) {
			size_t ql = strlen(q);
			FZ_CHECK(ql <= 253 && ql > n);
			FZ_CHECK(strcmp(q + ql - n, z->name) == 0);
			FZ_CHECK(q[ql - n - 1] == '.');
		}
		char tiny[8];
		if (dnsbl_query_name(z, subjects[i], tiny, sizeof(tiny)) == 0)
			FZ_CHECK(strlen(tiny) < sizeof(tiny));
	}
	for (int v6 = 0; v6 < 2; v6++) {
		const char *l = dnsbl_test_listed(z, v6);
		const char *u = dnsbl_test_unlisted(z, v6);
		FZ_CHECK((l == NULL) == (u == NULL));
		if (l && !(z->kind == DNSBL_DOMAIN &&
			   (z->test_listed || z->test_unlisted))) {
			char q[300];
			/* a built-in test point fits its zone when the zone
			 * leaves room (64 for an IPv6 nibble name) */
			FZ_CHECK(n + 66 > 253 ||
				 dnsbl_query_name(z, l, q, sizeof(q)) == 0);
		}
	}
	struct in_addr two;
	two.s_addr = htonl(0x7f000002u);
	struct dnsbl_answer ans;
	dnsbl_interpret(z, DNS_OK, &two, 1, &ans);
	FZ_CHECK(ans.status == DNSBL_LISTED || ans.status == DNSBL_UNKNOWN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnsbl_zones zs;
	char err[256];
	memset(&zs, 0xa5, sizeof(zs));
	if (dnsbl_zones_parse((const char *)data, size, &zs, err,
			      sizeof(err)) == 0) {
		FZ_CHECK(zs.n <= 200);
		FZ_CHECK(zs.n == 0 || zs.v != NULL);
		for (size_t i = 0; i < zs.n; i++)
			check_zone(&zs, i);
		dnsbl_zones_free(&zs);
		FZ_CHECK(zs.v == NULL && zs.n == 0);
	} else {
		FZ_CHECK(zs.v == NULL && zs.n == 0);
		FZ_CHECK(strncmp(err, "line ", 5) == 0 ||
			 strcmp(err, "out of memory") == 0);
		FZ_CHECK(strchr(err, '\n') == NULL);
	}
	/* Limits on the input are the caller's; the parser takes any size. */
	return 0;
}
