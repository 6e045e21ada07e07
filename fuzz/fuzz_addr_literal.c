/*
 * fuzz_addr_literal: serve's reading of address literals (serve/
 * addr_policy): addr_parse_ipv4_loose and addr_inspect_host, the first
 * line of the SSRF guard. Input: the text.
 *
 * Checks: the loose parser agrees with the C library's inet_aton on every
 * input it accepts (same address), and never calls a string canonical
 * unless inet_pton reads the same address from it; addr_inspect_host's
 * canonical text parses back to an address of the same class.
 */
#include "fuzz.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "serve/addr_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	char *in = fz_field(&f, '\0');
	if (!in)
		return 0;
	uint32_t ip;
	bool canonical;
	if (addr_parse_ipv4_loose(in, &ip, &canonical) == 0) {
		struct in_addr a;
		FZ_CHECK(inet_aton(in, &a) == 1 && ntohl(a.s_addr) == ip);
		if (canonical) {
			struct in_addr b;
			FZ_CHECK(inet_pton(AF_INET, in, &b) == 1 &&
				 ntohl(b.s_addr) == ip);
		}
	}
	bool lit;
	enum addr_class cls;
	char canon[64];
	int rc = addr_inspect_host(in, &lit, &cls, canon, sizeof(canon));
	FZ_CHECK(rc == 0 || rc == -1);
	FZ_CHECK((unsigned)cls < ADDR_CLASS_COUNT);
	if (lit && canon[0]) {
		struct in6_addr a6;
		struct in_addr a4;
		if (inet_pton(AF_INET, canon, &a4) == 1)
			FZ_CHECK(addr_classify_v4(ntohl(a4.s_addr)) == cls);
		else {
			FZ_CHECK(inet_pton(AF_INET6, canon, &a6) == 1);
			FZ_CHECK(addr_classify_v6(a6.s6_addr) == cls);
		}
	}
	if (!lit)
		FZ_CHECK(rc == 0 && cls == ADDR_PUBLIC);
	free(in);
	return 0;
}
