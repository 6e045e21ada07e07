/*
 * fuzz_dnsbl_answer: reading blocklist answers (dns/dnsbl:
 * dnsbl_interpret) and building query names (dnsbl_query_name) for a zone
 * made from the input.
 *
 * Input: [flags][ncodes][codes: 4 bytes + flag each][nerrors][errors:
 * 4 bytes each][query status][naddrs][addrs: 4 bytes each][outsz]
 * [zone name]\0[subject].
 *
 * Checks (dns/dnsbl.h): never "listed" for a failed query, an answer
 * outside 127/8, a zone error code, 127.255.255.0/24 or an undocumented
 * 127.0.0.1; listed answers carry 1-8 distinct codes, each one of the
 * answers, with the zone's meaning; unknown always says why; query names
 * fit, end in ".zone" and exist only for subjects the zone takes.
 */
#include "fuzz.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "dns/dnsbl.h"

#define MAX_ADDRS 24

static struct in_addr take_addr(struct fz *f, bool loopbackish)
{
	uint8_t b[4];
	for (int i = 0; i < 4; i++)
		b[i] = fz_u8(f);
	/* Mostly 127.x: that is where the interesting rules are. */
	if (loopbackish && b[0] < 0xc0)
		b[0] = 127;
	struct in_addr a;
	memcpy(&a.s_addr, b, 4);
	return a;
}

static const struct dnsbl_code *find(const struct dnsbl_code *v, size_t n,
				     struct in_addr a)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].addr.s_addr == a.s_addr)
			return &v[i];
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *const meanings[] = {"SBL: direct spam source", "m2", "m3"};
	struct fz f = {data, size};
	uint8_t flags = fz_u8(&f);
	struct dnsbl_zone z;
	memset(&z, 0, sizeof(z));
	z.kind = (flags & 1) ? DNSBL_DOMAIN : DNSBL_IP;
	z.ipv6 = flags & 2;
	z.weight = 10;
	struct dnsbl_code codes[8], errors[8];
	z.ncodes = fz_u8(&f) % 9;
	for (size_t i = 0; i < z.ncodes; i++) {
		codes[i].addr = take_addr(&f, true);
		codes[i].meaning = meanings[fz_u8(&f) % 3];
	}
	z.nerrors = fz_u8(&f) % 9;
	for (size_t i = 0; i < z.nerrors; i++) {
		errors[i].addr = take_addr(&f, true);
		/* parsed zones always have a meaning; be harsher here */
		errors[i].meaning = (flags & 4) ? NULL : meanings[i % 3];
	}
	z.codes = z.ncodes ? codes : NULL;
	z.errors = z.nerrors ? errors : NULL;
	enum dns_status st = (enum dns_status)(fz_u8(&f) % DNS_STATUS_LAST);
	size_t naddrs = fz_u8(&f) % (MAX_ADDRS + 1);
	struct in_addr addrs[MAX_ADDRS];
	for (size_t i = 0; i < naddrs; i++)
		addrs[i] = take_addr(&f, !(flags & 8));
	size_t outsz = fz_u8(&f);
	char *zname = fz_field(&f, '\0');
	char *subject = fz_field(&f, '\0');
	if (!zname || !subject)
		goto out;
	z.name = zname[0] ? zname : "bl.example.org";

	struct dnsbl_answer a;
	memset(&a, 0x5a, sizeof(a));
	dnsbl_interpret(&z, st, (flags & 16) ? NULL : addrs, naddrs, &a);
	FZ_CHECK(a.status == DNSBL_LISTED || a.status == DNSBL_NOT_LISTED ||
		 a.status == DNSBL_UNKNOWN);
	FZ_CHECK(strcmp(dnsbl_status_name(a.status), "?") != 0);
	FZ_CHECK(memchr(a.reason, '\0', sizeof(a.reason)) != NULL);
	if (st == DNS_NXDOMAIN || st == DNS_NODATA)
		FZ_CHECK(a.status == DNSBL_NOT_LISTED);
	else if (st != DNS_OK)
		FZ_CHECK(a.status == DNSBL_UNKNOWN);
	if (a.status == DNSBL_UNKNOWN)
		FZ_CHECK(a.reason[0] != '\0' && a.ncodes == 0);
	if (a.status == DNSBL_NOT_LISTED)
		FZ_CHECK(a.ncodes == 0);
	if (a.status == DNSBL_LISTED) {
		FZ_CHECK(st == DNS_OK && naddrs > 0 && !(flags & 16));
		struct in_addr lo;
		lo.s_addr = htonl(0x7f000001u);
		size_t distinct = 0;
		for (size_t i = 0; i < naddrs; i++) {
			uint32_t h = ntohl(addrs[i].s_addr);
			FZ_CHECK((h >> 24) == 127);
			FZ_CHECK((h >> 8) != 0x7fffffu);
			FZ_CHECK(!find(z.errors, z.nerrors, addrs[i]));
			if (addrs[i].s_addr == lo.s_addr)
				FZ_CHECK(find(z.codes, z.ncodes, lo));
			bool seen = false;
			for (size_t j = 0; j < i; j++)
				if (addrs[j].s_addr == addrs[i].s_addr)
					seen = true;
			if (!seen)
				distinct++;
		}
		FZ_CHECK(a.ncodes >= 1 && a.ncodes <= DNSBL_MAX_CODES);
		FZ_CHECK(a.ncodes == (distinct < DNSBL_MAX_CODES ? distinct
								 : DNSBL_MAX_CODES));
		for (size_t i = 0; i < a.ncodes; i++) {
			bool among = false;
			for (size_t j = 0; j < naddrs; j++)
				if (addrs[j].s_addr == a.codes[i].s_addr)
					among = true;
			FZ_CHECK(among);
			for (size_t j = 0; j < i; j++)
				FZ_CHECK(a.codes[j].s_addr != a.codes[i].s_addr);
			const struct dnsbl_code *c =
			    find(z.codes, z.ncodes, a.codes[i]);
			FZ_CHECK(a.meanings[i] == (c ? c->meaning : NULL));
		}
	}

	/* Query names, into a buffer of the size the input says. */
	char *out = malloc(outsz ? outsz : 1);
	if (out) {
		int rc = dnsbl_query_name(&z, subject, out, outsz);
		if (outsz)
			FZ_CHECK(memchr(out, '\0', outsz) != NULL);
		if (rc == 0) {
			size_t ql = strlen(out), zl = strlen(z.name);
			FZ_CHECK(outsz > 0 && ql < outsz && ql <= 253);
			FZ_CHECK(ql > zl + 1 && out[ql - zl - 1] == '.' &&
				 strcmp(out + ql - zl, z.name) == 0);
			unsigned char buf[16];
			bool v4 = inet_pton(AF_INET, subject, buf) == 1;
			bool v6 = inet_pton(AF_INET6, subject, buf) == 1;
			if (z.kind == DNSBL_IP)
				FZ_CHECK(v4 || (v6 && z.ipv6));
			else
				FZ_CHECK(!v4 && !v6);
		}
		free(out);
	}
	(void)dnsbl_test_listed(&z, flags & 32);
	(void)dnsbl_test_unlisted(&z, flags & 32);
out:
	free(zname);
	free(subject);
	return 0;
}
