/* Unit tests for serve/addr_policy: the SSRF guard's address classes and
 * the loose IPv4 spellings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "serve/addr_policy.h"

static enum addr_class cls_of(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, text, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		return addr_classify_sa((struct sockaddr *)a4, sizeof(*a4));
	}
	if (inet_pton(AF_INET6, text, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		return addr_classify_sa((struct sockaddr *)a6, sizeof(*a6));
	}
	fail_msg("bad test address %s", text);
	return ADDR_PUBLIC;
}

static void is(const char *text, enum addr_class want)
{
	enum addr_class got = cls_of(text);
	if (got != want)
		fail_msg("%s: %s, want %s", text, addr_class_name(got),
			 addr_class_name(want));
}

static void ipv4_classes(void **state)
{
	(void)state;
	is("0.0.0.0", ADDR_THIS_NETWORK);
	is("0.255.255.255", ADDR_THIS_NETWORK);
	is("10.0.0.1", ADDR_PRIVATE);
	is("10.255.255.255", ADDR_PRIVATE);
	is("11.0.0.1", ADDR_PUBLIC);
	is("100.63.255.255", ADDR_PUBLIC);
	is("100.64.0.0", ADDR_CGNAT);
	is("100.127.255.255", ADDR_CGNAT);
	is("100.128.0.0", ADDR_PUBLIC);
	is("100.100.100.200", ADDR_METADATA);
	is("127.0.0.1", ADDR_LOOPBACK);
	is("127.255.255.254", ADDR_LOOPBACK);
	is("128.0.0.1", ADDR_PUBLIC);
	is("169.254.0.1", ADDR_LINK_LOCAL);
	is("169.254.169.254", ADDR_METADATA);
	is("169.254.169.253", ADDR_LINK_LOCAL);
	is("172.15.255.255", ADDR_PUBLIC);
	is("172.16.0.0", ADDR_PRIVATE);
	is("172.31.255.255", ADDR_PRIVATE);
	is("172.32.0.0", ADDR_PUBLIC);
	is("192.0.0.8", ADDR_RESERVED);
	is("192.0.2.1", ADDR_DOCUMENTATION);
	is("192.0.3.1", ADDR_PUBLIC);
	is("192.88.99.1", ADDR_RESERVED);
	is("192.168.0.1", ADDR_PRIVATE);
	is("192.168.255.255", ADDR_PRIVATE);
	is("192.169.0.1", ADDR_PUBLIC);
	is("198.17.255.255", ADDR_PUBLIC);
	is("198.18.0.1", ADDR_BENCHMARKING);
	is("198.19.255.255", ADDR_BENCHMARKING);
	is("198.20.0.0", ADDR_PUBLIC);
	is("198.51.100.7", ADDR_DOCUMENTATION);
	is("203.0.113.9", ADDR_DOCUMENTATION);
	is("224.0.0.1", ADDR_MULTICAST);
	is("239.255.255.255", ADDR_MULTICAST);
	is("240.0.0.1", ADDR_RESERVED);
	is("255.255.255.254", ADDR_RESERVED);
	is("255.255.255.255", ADDR_BROADCAST);
	is("8.8.8.8", ADDR_PUBLIC);
	is("1.1.1.1", ADDR_PUBLIC);
	is("223.255.255.255", ADDR_PUBLIC);
}

static void ipv6_classes(void **state)
{
	(void)state;
	is("::", ADDR_THIS_NETWORK);
	is("::1", ADDR_LOOPBACK);
	is("::2", ADDR_THIS_NETWORK); /* compatible form of 0.0.0.2 */
	is("::1:0:0:1", ADDR_RESERVED);
	is("fe80::1", ADDR_LINK_LOCAL);
	is("febf::1", ADDR_LINK_LOCAL);
	is("fec0::1", ADDR_RESERVED);
	is("fc00::1", ADDR_PRIVATE);
	is("fdff:ffff::1", ADDR_PRIVATE);
	is("fd00:ec2::254", ADDR_METADATA);
	is("ff02::1", ADDR_MULTICAST);
	is("ff0e::101", ADDR_MULTICAST);
	is("2001:db8::1", ADDR_DOCUMENTATION);
	is("3fff::1", ADDR_DOCUMENTATION);
	is("3fff:0fff::1", ADDR_DOCUMENTATION);
	is("3fff:1000::1", ADDR_PUBLIC);
	is("2001:2::1", ADDR_BENCHMARKING);
	is("2001:10::1", ADDR_RESERVED);
	is("100::1", ADDR_RESERVED);
	is("5f00::1", ADDR_RESERVED);
	is("4000::1", ADDR_RESERVED);
	is("2a00:1450:4001::1", ADDR_PUBLIC);
	is("2001:4860:4860::8888", ADDR_PUBLIC);
	is("2600::1", ADDR_PUBLIC);
}

static void ipv6_embedding_ipv4(void **state)
{
	(void)state;
	/* IPv4-mapped: the kernel connects to the IPv4 address. */
	is("::ffff:127.0.0.1", ADDR_LOOPBACK);
	is("::ffff:7f00:1", ADDR_LOOPBACK);
	is("::ffff:10.1.2.3", ADDR_PRIVATE);
	is("::ffff:169.254.169.254", ADDR_METADATA);
	is("::ffff:100.64.1.1", ADDR_CGNAT);
	is("::ffff:8.8.8.8", ADDR_PUBLIC);
	is("::ffff:0.0.0.0", ADDR_THIS_NETWORK);
	/* SIIT */
	is("::ffff:0:127.0.0.1", ADDR_LOOPBACK);
	is("::ffff:0:8.8.8.8", ADDR_PUBLIC);
	/* IPv4-compatible (deprecated) */
	is("::127.0.0.1", ADDR_LOOPBACK);
	is("::8.8.8.8", ADDR_RESERVED);
	/* NAT64 */
	is("64:ff9b::127.0.0.1", ADDR_LOOPBACK);
	is("64:ff9b::a9fe:a9fe", ADDR_METADATA);
	is("64:ff9b::192.168.1.1", ADDR_PRIVATE);
	is("64:ff9b::8.8.8.8", ADDR_PUBLIC);
	is("64:ff9b:1::1", ADDR_PRIVATE);
	is("64:ff9b:1:ffff::8.8.8.8", ADDR_PRIVATE);
	/* 6to4 */
	is("2002:7f00:1::1", ADDR_LOOPBACK);
	is("2002:a00:1::1", ADDR_PRIVATE);
	is("2002:a9fe:a9fe::1", ADDR_METADATA);
	is("2002:808:808::1", ADDR_PUBLIC);
	/* Teredo: client 127.0.0.1 obfuscated is 80ff:fffe */
	is("2001:0:808:808::80ff:fffe", ADDR_LOOPBACK);
	is("2001:0:7f00:1::f7f7:f7f7", ADDR_LOOPBACK);
	is("2001:0:808:808::f7f7:f7f7", ADDR_PUBLIC);
}

static void sockaddr_guards(void **state)
{
	(void)state;
	struct sockaddr_in a4 = {.sin_family = AF_INET};
	a4.sin_addr.s_addr = htonl(0x08080808);
	assert_int_equal(addr_classify_sa((struct sockaddr *)&a4, sizeof(a4)),
			 ADDR_PUBLIC);
	/* Short length, unknown family, NULL: refused as reserved. */
	assert_int_equal(addr_classify_sa((struct sockaddr *)&a4, 4),
			 ADDR_RESERVED);
	struct sockaddr sa = {.sa_family = AF_UNIX};
	assert_int_equal(addr_classify_sa(&sa, sizeof(sa)), ADDR_RESERVED);
	assert_int_equal(addr_classify_sa(NULL, 0), ADDR_RESERVED);
	for (int c = 0; c <= ADDR_CLASS_COUNT; c++)
		assert_non_null(addr_class_name((enum addr_class)c));
	assert_string_equal(addr_class_name(ADDR_METADATA), "cloud-metadata");
}

static void loose(const char *s, uint32_t want, bool want_canonical)
{
	uint32_t ip = 0;
	bool canonical = !want_canonical;
	if (addr_parse_ipv4_loose(s, &ip, &canonical) != 0)
		fail_msg("'%s' not parsed", s);
	if (ip != want)
		fail_msg("'%s' -> %08x, want %08x", s, ip, want);
	assert_int_equal(canonical, want_canonical);
	/* Agrees with the C library's own reading. */
	struct in_addr a;
	if (inet_aton(s, &a) != 1 || ntohl(a.s_addr) != want)
		fail_msg("'%s': inet_aton disagrees", s);
}

static void not_loose(const char *s)
{
	uint32_t ip;
	bool c;
	if (addr_parse_ipv4_loose(s, &ip, &c) == 0)
		fail_msg("'%s' parsed as %08x", s, ip);
}

static void ipv4_spellings(void **state)
{
	(void)state;
	loose("127.0.0.1", 0x7f000001, true);
	loose("0.0.0.0", 0, true);
	loose("255.255.255.255", 0xffffffff, true);
	loose("2130706433", 0x7f000001, false);
	loose("017700000001", 0x7f000001, false);
	loose("0x7f000001", 0x7f000001, false);
	loose("0X7F000001", 0x7f000001, false);
	loose("0177.0.0.1", 0x7f000001, false);
	loose("0177.0000.0000.0001", 0x7f000001, false);
	loose("0x7f.0.0.1", 0x7f000001, false);
	loose("0x7f.1", 0x7f000001, false);
	loose("127.1", 0x7f000001, false);
	loose("127.0.1", 0x7f000001, false);
	loose("10.1", 0x0a000001, false);
	loose("0xa9.0xfe.0xa9.0xfe", 0xa9fea9fe, false);
	loose("169.254.43518", 0xa9fea9fe, false);
	loose("2852039166", 0xa9fea9fe, false);
	loose("0", 0, false);
	loose("0x0", 0, false);
	loose("010.0.0.1", 0x08000001, false);
	loose("4294967295", 0xffffffff, false);
	not_loose("");
	not_loose("4294967296");
	not_loose("256.0.0.1");
	not_loose("1.2.3.256");
	not_loose("1.2.65536");
	not_loose("1.16777216");
	not_loose("1.2.3.4.5");
	not_loose("08.0.0.1");
	not_loose("0x.0.0.1");
	not_loose("1..2.3");
	not_loose(".1.2.3");
	not_loose("1.2.3.4.");
	not_loose("1.2.3.-4");
	not_loose("+1.2.3.4");
	not_loose(" 1.2.3.4");
	not_loose("1.2.3.4 ");
	not_loose("mail.example.com");
	not_loose("0xg");
	not_loose("99999999999999999999999");
}

static void inspect(const char *host, int want_rc, bool want_literal,
		    enum addr_class want_cls, const char *want_canon)
{
	bool lit;
	enum addr_class c;
	char canon[64];
	int rc = addr_inspect_host(host, &lit, &c, canon, sizeof(canon));
	if (rc != want_rc || lit != want_literal || c != want_cls)
		fail_msg("'%s': rc %d literal %d class %s", host, rc, lit,
			 addr_class_name(c));
	if (want_canon)
		assert_string_equal(canon, want_canon);
}

static void inspect_hosts(void **state)
{
	(void)state;
	inspect("mail.example.com", 0, false, ADDR_PUBLIC, NULL);
	inspect("bad.cafe", 0, false, ADDR_PUBLIC, NULL);
	inspect("8.8.8.8", 0, true, ADDR_PUBLIC, "8.8.8.8");
	inspect("127.0.0.1", 0, true, ADDR_LOOPBACK, "127.0.0.1");
	inspect("2130706433", -1, true, ADDR_LOOPBACK, "127.0.0.1");
	inspect("0177.0.0.1", -1, true, ADDR_LOOPBACK, "127.0.0.1");
	inspect("0x7f.1", -1, true, ADDR_LOOPBACK, "127.0.0.1");
	inspect("134744072", -1, true, ADDR_PUBLIC, "8.8.8.8");
	inspect("1.2.3.4.5", -1, true, ADDR_RESERVED, NULL);
	inspect("999.1.1.1", -1, true, ADDR_RESERVED, NULL);
	inspect("::1", 0, true, ADDR_LOOPBACK, "::1");
	inspect("::ffff:127.0.0.1", 0, true, ADDR_LOOPBACK, "::ffff:127.0.0.1");
	inspect("fe80::1%eth0", -1, true, ADDR_LINK_LOCAL, "fe80::1");
	inspect("2a00:1450::1", 0, true, ADDR_PUBLIC, "2a00:1450::1");
	inspect("not:an:address:::", 0, false, ADDR_PUBLIC, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_classes),
		cmocka_unit_test(ipv6_classes),
		cmocka_unit_test(ipv6_embedding_ipv4),
		cmocka_unit_test(sockaddr_guards),
		cmocka_unit_test(ipv4_spellings),
		cmocka_unit_test(inspect_hosts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
