/* Unit tests for check/vantage: is the tester near the server? */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "check/vantage.h"

static void near(const char *local, const char *server, const char *why_part)
{
	char why[128] = "";
	if (!vantage_is_near(local, server, why, sizeof(why)))
		fail_msg("%s (server %s) not near", local, server);
	if (!strstr(why, why_part))
		fail_msg("%s: why '%s', want '%s'", local, why, why_part);
}

static void far(const char *local, const char *server)
{
	char why[128] = "";
	if (vantage_is_near(local, server, why, sizeof(why)))
		fail_msg("%s (server %s) near: %s", local, server, why);
}

static void ipv4_special(void **state)
{
	(void)state;
	const char *srv = "203.0.113.5";
	near("127.0.0.2", srv, "loopback");
	near("127.255.255.254", srv, "loopback");
	near("10.1.2.3", srv, "private");
	near("172.16.0.1", srv, "private");
	near("172.31.255.255", srv, "private");
	near("192.168.1.1", srv, "private");
	near("100.64.0.1", srv, "carrier-grade");
	near("100.127.255.255", srv, "carrier-grade");
	near("169.254.1.1", srv, "link-local");
}

static void ipv4_boundaries(void **state)
{
	(void)state;
	const char *srv = "203.0.113.5";
	far("172.15.255.255", srv);
	far("172.32.0.1", srv);
	far("192.169.0.1", srv);
	far("100.63.255.255", srv);
	far("100.128.0.1", srv);
	far("11.0.0.1", srv);
	far("126.255.255.255", srv);
	far("128.0.0.1", srv);
	far("169.253.1.1", srv);
}

static void ipv4_same_subnet(void **state)
{
	(void)state;
	near("198.51.100.7", "198.51.100.9", "/24");
	near("198.51.100.7", "198.51.100.7", "/24");
	far("198.51.100.7", "198.51.101.7");
	far("198.51.100.7", "203.0.113.5");
	/* Server not an IPv4 address: only the local checks apply. */
	far("198.51.100.7", "2001:db8::1");
	far("198.51.100.7", "mx.example.com");
}

static void ipv6_special(void **state)
{
	(void)state;
	const char *srv = "2001:db8:aaaa::25";
	near("::1", srv, "loopback");
	near("fd00::1", srv, "unique-local");
	near("fc00::1", srv, "unique-local");
	near("fe80::1", srv, "link-local");
	near("febf::1", srv, "link-local");
	far("fec0::1", srv);
	far("2001:db8:bbbb::1", srv);
	far("::2", srv);
}

static void ipv6_same_64(void **state)
{
	(void)state;
	near("2001:db8:1:2::5", "2001:db8:1:2::9", "/64");
	near("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::", "/64");
	far("2001:db8:1:3::5", "2001:db8:1:2::9");
	far("2001:db8:1:2::5", "198.51.100.9");
}

static void not_an_address(void **state)
{
	(void)state;
	far("", "198.51.100.9");
	far("localhost", "127.0.0.1");
	far("mx.example.com", "198.51.100.9");
}

static void why_is_bounded(void **state)
{
	(void)state;
	char why[6];
	memset(why, 'Z', sizeof(why));
	assert_true(vantage_is_near("127.0.0.1", "192.0.2.1", why,
				    sizeof(why)));
	assert_int_equal(strlen(why), sizeof(why) - 1);
}

static void local_address_loopback(void **state)
{
	(void)state;
	struct sockaddr_storage dst;
	memset(&dst, 0, sizeof(dst));
	struct sockaddr_in *d = (struct sockaddr_in *)&dst;
	d->sin_family = AF_INET;
	d->sin_port = htons(9);
	assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &d->sin_addr), 1);
	char out[64] = "";
	assert_int_equal(vantage_local_address(&dst, sizeof(*d), NULL, 0, out,
					       sizeof(out)),
			 0);
	assert_string_equal(out, "127.0.0.1");

	/* From a chosen source address. */
	struct sockaddr_storage src;
	memset(&src, 0, sizeof(src));
	struct sockaddr_in *s = (struct sockaddr_in *)&src;
	s->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "127.0.0.3", &s->sin_addr), 1);
	assert_int_equal(vantage_local_address(&dst, sizeof(*d), &src,
					       sizeof(*s), out, sizeof(out)),
			 0);
	assert_string_equal(out, "127.0.0.3");

	/* Output buffer too small. */
	char tiny[4];
	assert_int_equal(vantage_local_address(&dst, sizeof(*d), NULL, 0, tiny,
					       sizeof(tiny)),
			 -1);

	/* A source address that is not ours fails. */
	assert_int_equal(inet_pton(AF_INET, "192.0.2.123", &s->sin_addr), 1);
	assert_int_equal(vantage_local_address(&dst, sizeof(*d), &src,
					       sizeof(*s), out, sizeof(out)),
			 -1);
}

static void local_address_ipv6_loopback(void **state)
{
	(void)state;
	struct sockaddr_storage dst;
	memset(&dst, 0, sizeof(dst));
	struct sockaddr_in6 *d = (struct sockaddr_in6 *)&dst;
	d->sin6_family = AF_INET6;
	d->sin6_port = htons(9);
	d->sin6_addr = in6addr_loopback;
	char out[64] = "";
	if (vantage_local_address(&dst, sizeof(*d), NULL, 0, out,
				  sizeof(out)) != 0)
		skip(); /* no IPv6 loopback in this environment */
	assert_string_equal(out, "::1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ipv4_special),
	    cmocka_unit_test(ipv4_boundaries),
	    cmocka_unit_test(ipv4_same_subnet),
	    cmocka_unit_test(ipv6_special),
	    cmocka_unit_test(ipv6_same_64),
	    cmocka_unit_test(not_an_address),
	    cmocka_unit_test(why_is_bounded),
	    cmocka_unit_test(local_address_loopback),
	    cmocka_unit_test(local_address_ipv6_loopback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
