/* Unit tests for net/target: parsing what the user typed as a target. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>

#include "net/target.h"

static void ok(const char *in, const char *host, bool is_ip, int family,
	       uint16_t port, bool port_given)
{
	struct target t;
	char err[256] = "";
	if (target_parse(in, 25, &t, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", in, err);
	if (strcmp(t.host, host) != 0)
		fail_msg("'%s': host '%s', want '%s'", in, t.host, host);
	assert_int_equal(t.is_ip, is_ip);
	assert_int_equal(t.family, family);
	assert_int_equal(t.port, port);
	assert_int_equal(t.port_given, port_given);
}

static void bad(const char *in, const char *why_part)
{
	struct target t;
	char err[256] = "";
	if (target_parse(in, 25, &t, err, sizeof(err)) == 0)
		fail_msg("'%s' accepted as host '%s' port %u", in, t.host,
			 t.port);
	assert_true(err[0] != '\0');
	if (why_part && !strstr(err, why_part))
		fail_msg("'%s': error '%s' does not mention '%s'", in, err,
			 why_part);
}

static void host_names(void **state)
{
	(void)state;
	ok("mail.example.com", "mail.example.com", false, 0, 25, false);
	ok("mail.example.com:587", "mail.example.com", false, 0, 587, true);
	ok("mail.example.com.", "mail.example.com", false, 0, 25, false);
	ok("localhost", "localhost", false, 0, 25, false);
	ok("localhost:2525", "localhost", false, 0, 2525, true);
	ok("MX1.Example.COM:1", "MX1.Example.COM", false, 0, 1, true);
	ok("mx.example.com:65535", "mx.example.com", false, 0, 65535, true);
}

static void default_port_used(void **state)
{
	(void)state;
	struct target t;
	char err[128];
	assert_int_equal(target_parse("mx.example.com", 465, &t, err,
				      sizeof(err)),
			 0);
	assert_int_equal(t.port, 465);
	assert_false(t.port_given);
}

static void ipv4(void **state)
{
	(void)state;
	ok("192.0.2.1", "192.0.2.1", true, AF_INET, 25, false);
	ok("192.0.2.1:25", "192.0.2.1", true, AF_INET, 25, true);
	ok("192.0.2.1:587", "192.0.2.1", true, AF_INET, 587, true);
}

static void ipv6(void **state)
{
	(void)state;
	ok("[2001:db8::1]:465", "2001:db8::1", true, AF_INET6, 465, true);
	ok("[::1]", "::1", true, AF_INET6, 25, false);
	ok("::1", "::1", true, AF_INET6, 25, false);
	ok("2001:db8::25", "2001:db8::25", true, AF_INET6, 25, false);
	ok("[::ffff:192.0.2.1]:25", "::ffff:192.0.2.1", true, AF_INET6, 25,
	   true);
}

static void errors(void **state)
{
	(void)state;
	bad("", "empty");
	bad("mail.example.com:0", "port");
	bad("mail.example.com:65536", "port");
	bad("mail.example.com:99999", "port");
	bad("mail.example.com:abc", "port");
	bad("mail.example.com:", "port");
	bad("mail.example.com:-1", "port");
	bad("mail.example.com:25x", "port");
	bad("host:0", NULL);
	bad("host:65536", NULL);
	bad("host:abc", NULL);
	bad("[::1", "]");
	bad("[1.2.3.4]:25", "IPv6");
	bad("[mail.example.com]", "IPv6");
	bad("[]", NULL);
	bad("[::1]x", "junk");
	bad("[::1]:", "port");
	bad("[::1]:0", "port");
	bad("bad_host", NULL);
	bad("bad_host.example.com", NULL);
	bad("a b", "spaces");
	bad(" mail.example.com", "spaces");
	bad("mail.example.com\n", NULL);
	bad("ESMTP", NULL);
	bad("-mail.example.com", NULL);
	bad("a..b", NULL);
	bad("mail.example.com:25:26", NULL);
	bad(":25", NULL);
	bad("1.2.3.4.5", NULL);
	bad("fe80::1%eth0", NULL);
}

static void too_long(void **state)
{
	(void)state;
	char in[600];
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	bad(in, NULL);
	/* Long but shaped like a host name (labels of 60). */
	for (size_t i = 60; i < sizeof(in) - 1; i += 61)
		in[i] = '.';
	bad(in, NULL);
}

static void parse_port(void **state)
{
	(void)state;
	uint16_t p = 0;
	assert_int_equal(target_parse_port("25", &p), 0);
	assert_int_equal(p, 25);
	assert_int_equal(target_parse_port("1", &p), 0);
	assert_int_equal(p, 1);
	assert_int_equal(target_parse_port("65535", &p), 0);
	assert_int_equal(p, 65535);
	assert_int_equal(target_parse_port("00587", &p), 0);
	assert_int_equal(p, 587);

	p = 7;
	assert_int_equal(target_parse_port("0", &p), -1);
	assert_int_equal(target_parse_port("65536", &p), -1);
	assert_int_equal(target_parse_port("99999", &p), -1);
	assert_int_equal(target_parse_port("", &p), -1);
	assert_int_equal(target_parse_port("-1", &p), -1);
	assert_int_equal(target_parse_port("+25", &p), -1);
	assert_int_equal(target_parse_port(" 25", &p), -1);
	assert_int_equal(target_parse_port("25 ", &p), -1);
	assert_int_equal(target_parse_port("2a", &p), -1);
	assert_int_equal(target_parse_port("000025", &p), -1);
	assert_int_equal(target_parse_port("4294967321", &p), -1);
	assert_int_equal(p, 7); /* untouched on failure */
}

/* The refused input is quoted escaped: no newline or terminal escape
 * sequence gets through (fuzz/corpus/target/crash-escape-in-error and
 * crash-newline-in-error, found by fuzzing). */
static void error_escapes_input(void **state)
{
	(void)state;
	struct target t;
	char err[256];
	assert_int_equal(target_parse("\x1b[2J\x1b]0;pwned\a evil.example", 25,
				      &t, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "invalid target "
				 "'\\x1b[2J\\x1b]0;pwned\\x07 evil.example': "
				 "contains spaces or control characters");
	assert_int_equal(target_parse(":1]x+\nx", 25, &t, err, sizeof(err)),
			 -1);
	assert_null(strchr(err, '\n'));
	assert_non_null(strstr(err, "\\x0a"));
	for (const char *p = err; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(host_names),
	    cmocka_unit_test(default_port_used),
	    cmocka_unit_test(ipv4),
	    cmocka_unit_test(ipv6),
	    cmocka_unit_test(errors),
	    cmocka_unit_test(too_long),
	    cmocka_unit_test(parse_port),
	    cmocka_unit_test(error_escapes_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
