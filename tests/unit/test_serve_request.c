/* Unit tests for serve/request: API bodies, the public target policy,
 * webhook URLs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "serve/request.h"

static struct serve_policy pol;

static int setup(void **state)
{
	(void)state;
	serve_policy_defaults(&pol);
	return 0;
}

static void target_ok(const char *in, const char *norm)
{
	char out[300], err[256] = "";
	if (request_check_target(in, &pol, out, sizeof(out), err,
				 sizeof(err)) != REQ_OK)
		fail_msg("'%s' refused: %s", in, err);
	assert_string_equal(out, norm);
}

static void target_no(const char *in, enum request_error want,
		      const char *why)
{
	char out[300], err[256] = "";
	enum request_error rc =
	    request_check_target(in, &pol, out, sizeof(out), err, sizeof(err));
	if (rc != want)
		fail_msg("'%s': rc %d (%s), want %d", in, rc, err, want);
	if (why && !strstr(err, why))
		fail_msg("'%s': '%s' lacks '%s'", in, err, why);
}

static void public_targets(void **state)
{
	(void)state;
	target_ok("mail.example.com", "mail.example.com");
	target_ok("  Mail.Example.COM. ", "mail.example.com");
	target_ok("example.com:587", "example.com:587");
	target_ok("8.8.8.8", "8.8.8.8");
	target_ok("8.8.8.8:465", "8.8.8.8:465");
	target_ok("[2a00:1450::1]:25", "[2a00:1450::1]:25");
	target_ok("2a00:1450::1", "2a00:1450::1");
}

static void refused_targets(void **state)
{
	(void)state;
	target_no("", REQ_BAD, "empty");
	target_no("   ", REQ_BAD, "empty");
	target_no("bad host", REQ_BAD, NULL);
	target_no("mail.example.com:22", REQ_REFUSED, "port 22");
	target_no("mail.example.com:8025", REQ_REFUSED, "port");
	target_no("127.0.0.1", REQ_REFUSED, "loopback");
	target_no("127.0.0.1:25", REQ_REFUSED, "loopback");
	target_no("10.0.0.1", REQ_REFUSED, "private");
	target_no("172.16.5.4", REQ_REFUSED, "private");
	target_no("192.168.1.1:587", REQ_REFUSED, "private");
	target_no("169.254.169.254", REQ_REFUSED, "cloud-metadata");
	target_no("169.254.1.1", REQ_REFUSED, "link-local");
	target_no("100.64.0.1", REQ_REFUSED, "cgnat");
	target_no("224.0.0.1", REQ_REFUSED, "multicast");
	target_no("240.0.0.1", REQ_REFUSED, "reserved");
	target_no("255.255.255.255", REQ_REFUSED, "broadcast");
	target_no("0.0.0.0", REQ_REFUSED, "this-network");
	target_no("192.0.2.1", REQ_REFUSED, "documentation");
	target_no("198.18.0.1", REQ_REFUSED, "benchmarking");
	target_no("::1", REQ_REFUSED, "loopback");
	target_no("[::1]:25", REQ_REFUSED, "loopback");
	target_no("::ffff:127.0.0.1", REQ_REFUSED, "loopback");
	target_no("[::ffff:169.254.169.254]:25", REQ_REFUSED, "cloud-metadata");
	target_no("64:ff9b::10.0.0.1", REQ_REFUSED, "private");
	target_no("fd00:ec2::254", REQ_REFUSED, "cloud-metadata");
	target_no("fe80::1", REQ_REFUSED, "link-local");
	target_no("fc00::1", REQ_REFUSED, "private");
	target_no("2130706433", REQ_REFUSED, "127.0.0.1");
	target_no("2130706433:25", REQ_REFUSED, "127.0.0.1");
	target_no("0177.0.0.1", REQ_REFUSED, "127.0.0.1");
	target_no("0x7f.1", REQ_REFUSED, "127.0.0.1");
	target_no("0x7F000001", REQ_REFUSED, "127.0.0.1");
	target_no("127.1", REQ_REFUSED, "127.0.0.1");
	target_no("134744072", REQ_REFUSED, "8.8.8.8"); /* public but odd */
	target_no("localhost", REQ_REFUSED, "this machine");
	target_no("foo.localhost:25", REQ_REFUSED, "this machine");
}

static void allow_private(void **state)
{
	(void)state;
	pol.allow_private = true;
	target_ok("127.0.0.1", "127.0.0.1");
	target_ok("[::1]:25", "[::1]:25");
	target_ok("localhost", "localhost");
	/* Odd spellings stay refused: they are never needed. */
	target_no("2130706433", REQ_REFUSED, "spelling");
	/* Ports stay limited. */
	target_no("127.0.0.1:22", REQ_REFUSED, "port");
	pol.ports[pol.nports++] = 2525;
	target_ok("127.0.0.1:2525", "127.0.0.1:2525");
	serve_policy_defaults(&pol);
}

static void check_bodies(void **state)
{
	(void)state;
	struct check_request r;
	char err[256];
	const char *ok = "{\"target\": \"mx.example.com\"}";
	assert_int_equal(request_parse_check(ok, strlen(ok), &pol, &r, err,
					     sizeof(err)),
			 REQ_OK);
	assert_string_equal(r.target, "mx.example.com");
	static const char *const bad[] = {
		"",
		"{",
		"[]",
		"\"x\"",
		"{}",
		"{\"target\": 5}",
		"{\"target\": null}",
		"{\"target\": \"a.example\", \"extra\": 1}",
		"{\"target\": \"a.example\", \"target\": \"b.example\"}",
		"{\"target\": \"a\\u0000.example\"}",
		"{\"target\": \"<script>\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (request_parse_check(bad[i], strlen(bad[i]), &pol, &r, err,
					sizeof(err)) == REQ_OK)
			fail_msg("accepted: %s", bad[i]);
	const char *priv = "{\"target\": \"10.1.1.1\"}";
	assert_int_equal(request_parse_check(priv, strlen(priv), &pol, &r, err,
					     sizeof(err)),
			 REQ_REFUSED);
	/* Over the size limit. */
	static char big[REQUEST_MAX_BODY + 10];
	memset(big, ' ', sizeof(big));
	assert_int_equal(request_parse_check(big, sizeof(big), &pol, &r, err,
					     sizeof(err)),
			 REQ_BAD);
	assert_non_null(strstr(err, "over"));
}

static void schedule_bodies(void **state)
{
	(void)state;
	struct schedule_request s;
	char err[256];
	const char *a = "{\"target\":\"mx.example.com\",\"every_hours\":6,"
			"\"webhook\":\"https://hooks.example.net/x?y=1\"}";
	assert_int_equal(request_parse_schedule(a, strlen(a), &pol, &s, err,
						sizeof(err)),
			 REQ_OK);
	assert_int_equal(s.interval_s, 6 * 3600);
	assert_string_equal(s.webhook, "https://hooks.example.net/x?y=1");
	const char *b = "{\"target\":\"mx.example.com\",\"interval_seconds\":60}";
	assert_int_equal(request_parse_schedule(b, strlen(b), &pol, &s, err,
						sizeof(err)),
			 REQ_BAD); /* under the minimum */
	pol.min_interval_s = 1;
	assert_int_equal(request_parse_schedule(b, strlen(b), &pol, &s, err,
						sizeof(err)),
			 REQ_OK);
	assert_int_equal(s.interval_s, 60);
	assert_string_equal(s.webhook, "");
	static const char *const bad[] = {
		"{\"target\":\"mx.example.com\"}",
		"{\"target\":\"mx.example.com\",\"every_hours\":1,"
		"\"interval_seconds\":3600}",
		"{\"target\":\"mx.example.com\",\"every_hours\":\"1\"}",
		"{\"target\":\"mx.example.com\",\"every_hours\":-1}",
		"{\"target\":\"mx.example.com\",\"every_hours\":100000}",
		"{\"target\":\"mx.example.com\",\"every_hours\":1,"
		"\"webhook\":\"ftp://x\"}",
		"{\"target\":\"mx.example.com\",\"every_hours\":1,"
		"\"webhook\":\"http://user:pw@x/\"}",
		"{\"target\":\"mx.example.com\",\"every_hours\":1,"
		"\"webhook\":\"http:// x/\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (request_parse_schedule(bad[i], strlen(bad[i]), &pol, &s,
					   err, sizeof(err)) == REQ_OK)
			fail_msg("accepted: %s", bad[i]);
	serve_policy_defaults(&pol);
}

static void urls(void **state)
{
	(void)state;
	struct webhook_url u;
	char err[200];
	assert_int_equal(request_parse_url("http://127.0.0.1:8080/hook", &u,
					   err, sizeof(err)),
			 0);
	assert_false(u.tls);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 8080);
	assert_string_equal(u.path, "/hook");
	assert_int_equal(request_parse_url("https://hooks.example.net", &u, err,
					   sizeof(err)),
			 0);
	assert_true(u.tls);
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/");
	assert_int_equal(request_parse_url("http://[::1]:9/a?b#frag", &u, err,
					   sizeof(err)),
			 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.path, "/a?b");
	assert_int_equal(request_parse_url("http://h.example?q=1", &u, err,
					   sizeof(err)),
			 0);
	assert_string_equal(u.path, "/?q=1");
	assert_int_equal(request_parse_url("gopher://x/", &u, err, sizeof(err)),
			 -1);
	assert_int_equal(request_parse_url("http:///x", &u, err, sizeof(err)),
			 -1);
	assert_int_equal(request_parse_url("http://x:99999/", &u, err,
					   sizeof(err)),
			 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(public_targets, setup),
		cmocka_unit_test_setup(refused_targets, setup),
		cmocka_unit_test_setup(allow_private, setup),
		cmocka_unit_test_setup(check_bodies, setup),
		cmocka_unit_test_setup(schedule_bodies, setup),
		cmocka_unit_test_setup(urls, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
