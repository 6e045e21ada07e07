/* Unit tests for scan/input, scan/resume and scan/status: the target
 * reader (comments, CIDR expansion and its cap, exclusions, special
 * ranges, long lines), shards (a partition of the input), the resume set
 * and the status of a result. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/input.h"
#include "scan/resume.h"
#include "scan/status.h"

/* Reads every item of text; returns how many, items in out[]. */
static size_t read_all(const char *text, struct scan_reader_config *cfg,
		       struct scan_item *out, size_t max)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	struct scan_reader r;
	scan_reader_init(&r, f, cfg);
	size_t n = 0;
	struct scan_item it;
	int rc;
	while ((rc = scan_reader_next(&r, &it)) == 1) {
		if (n < max)
			out[n] = it;
		n++;
	}
	assert_int_equal(rc, 0);
	fclose(f);
	return n;
}

static void test_lines(void **state)
{
	struct scan_reader_config cfg = {0};
	struct scan_item v[16];
	size_t n = read_all("# a comment\n\n  example.org  \nmx.example.org:587\n"
			    "192.0.2.1 # trailing comment\n[2001:db8::1]:25\r\n"
			    "bad target with spaces\nexample..org\n",
			    &cfg, v, 16);
	assert_int_equal(n, 6);
	assert_string_equal(v[0].target, "example.org");
	assert_int_equal(v[0].kind, SCAN_ITEM_TARGET);
	assert_int_equal(v[0].line, 3);
	assert_string_equal(v[1].target, "mx.example.org:587");
	assert_string_equal(v[2].target, "192.0.2.1");
	assert_string_equal(v[3].target, "[2001:db8::1]:25");
	assert_int_equal(v[4].kind, SCAN_ITEM_INVALID);
	assert_int_equal(v[5].kind, SCAN_ITEM_INVALID);
	assert_true(v[5].why[0] != '\0');
}

static void test_long_line(void **state)
{
	size_t big = 100000;
	char *text = malloc(big + 32);
	assert_non_null(text);
	memset(text, 'a', big);
	memcpy(text + big, "\nexample.org\n", 14);
	struct scan_reader_config cfg = {0};
	struct scan_item v[4];
	size_t n = read_all(text, &cfg, v, 4);
	free(text);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].kind, SCAN_ITEM_INVALID);
	assert_non_null(strstr(v[0].why, "too long"));
	assert_string_equal(v[1].target, "example.org");
	assert_int_equal(v[1].line, 2);
}

static void test_cidr(void **state)
{
	struct addr_set special = {0};
	assert_int_equal(addr_set_add_special(&special), 0);
	struct scan_reader_config cfg = {.special = &special,
					 .include_special = false,
					 .max_cidr_bits = 8};
	struct scan_item v[300];
	/* 198.51.100.0/24 is documentation space: skipped by default. */
	assert_int_equal(read_all("198.51.100.0/24\n", &cfg, v, 300), 0);
	/* A public block is expanded, network and broadcast included;
	 * a misaligned block is taken from its network address. */
	assert_int_equal(read_all("8.8.4.2/30\n", &cfg, v, 300), 4);
	assert_string_equal(v[0].target, "8.8.4.0");
	assert_string_equal(v[3].target, "8.8.4.3");
	cfg.include_special = true;
	assert_int_equal(read_all("127.3.0.0/24\n", &cfg, v, 300), 256);
	assert_string_equal(v[255].target, "127.3.0.255");
	assert_int_equal(v[255].line, 1);
	/* Over the cap: one invalid item, not 65536 lines. */
	assert_int_equal(read_all("127.0.0.0/16\n", &cfg, v, 300), 1);
	assert_int_equal(v[0].kind, SCAN_ITEM_INVALID);
	assert_non_null(strstr(v[0].why, "--max-cidr"));
	assert_int_equal(read_all("2001:db8::/126\n", &cfg, v, 300), 4);
	assert_string_equal(v[3].target, "2001:db8::3");
	assert_int_equal(read_all("10.0.0.0/33\n1.2.3.4/\n", &cfg, v, 300), 2);
	assert_int_equal(v[0].kind, SCAN_ITEM_INVALID);
	assert_int_equal(v[1].kind, SCAN_ITEM_INVALID);
	addr_set_free(&special);
}

static void test_exclude(void **state)
{
	struct addr_set ex = {0};
	const char *file = "# ours\n127.3.0.8/29\n127.3.0.100\n::1\n";
	FILE *f = fmemopen((void *)file, strlen(file), "r");
	char err[200];
	assert_int_equal(addr_set_load(&ex, f, err, sizeof(err)), 0);
	fclose(f);
	assert_true(addr_set_contains_text(&ex, "127.3.0.8"));
	assert_true(addr_set_contains_text(&ex, "127.3.0.15"));
	assert_false(addr_set_contains_text(&ex, "127.3.0.16"));
	assert_true(addr_set_contains_text(&ex, "::1"));
	assert_false(addr_set_contains_text(&ex, "::2"));
	assert_false(addr_set_contains_text(&ex, "example.org"));
	struct scan_reader_config cfg = {.exclude = &ex, .include_special = true,
					 .max_cidr_bits = 16};
	struct scan_item v[64];
	/* In a block: skipped silently. A single line: reported. */
	size_t n = read_all("127.3.0.0/27\n127.3.0.100:2525\n", &cfg, v, 64);
	assert_int_equal(n, 32 - 8 + 1);
	assert_int_equal(v[n - 1].kind, SCAN_ITEM_EXCLUDED);
	for (size_t i = 0; i + 1 < n; i++)
		assert_false(addr_set_contains_text(&ex, v[i].target));
	addr_set_free(&ex);
	const char *badfile = "127.0.0.1\nnot-an-address\n";
	f = fmemopen((void *)badfile, strlen(badfile), "r");
	assert_int_equal(addr_set_load(&ex, f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2"));
	fclose(f);
	addr_set_free(&ex);
}

static void test_shards(void **state)
{
	unsigned k, n;
	char err[200];
	assert_int_equal(scan_shard_parse("0/4", &k, &n, err, sizeof(err)), 0);
	assert_int_equal(k, 0);
	assert_int_equal(n, 4);
	assert_int_equal(scan_shard_parse("3/4", &k, &n, err, sizeof(err)), 0);
	assert_int_equal(scan_shard_parse("4/4", &k, &n, err, sizeof(err)), -1);
	assert_int_equal(scan_shard_parse("1/0", &k, &n, err, sizeof(err)), -1);
	assert_int_equal(scan_shard_parse("-1/4", &k, &n, err, sizeof(err)), -1);
	assert_int_equal(scan_shard_parse("1/4x", &k, &n, err, sizeof(err)), -1);
	assert_int_equal(scan_shard_parse("", &k, &n, err, sizeof(err)), -1);
	/* Every target in exactly one of N shards, and the shards are not
	 * empty or lopsided over many targets. */
	unsigned counts[5] = {0};
	for (int i = 0; i < 5000; i++) {
		char t[64];
		snprintf(t, sizeof(t), "host%d.example.org", i);
		int owners = 0;
		for (unsigned s = 0; s < 5; s++)
			if (scan_shard_mine(t, s, 5)) {
				owners++;
				counts[s]++;
			}
		assert_int_equal(owners, 1);
	}
	for (unsigned s = 0; s < 5; s++)
		assert_in_range(counts[s], 800, 1200);
	/* Case does not move a target. */
	for (unsigned s = 0; s < 7; s++)
		assert_int_equal(scan_shard_mine("Example.ORG", s, 7),
				 scan_shard_mine("example.org", s, 7));
	assert_true(scan_shard_mine("x", 0, 1));
}

static void test_resume(void **state)
{
	const char *out =
	    "{\"target\":\"a.example\",\"status\":\"success\"}\n"
	    "not json\n"
	    "{\"status\":\"success\"}\n"
	    "{\"target\":\"127.0.0.1:2525\",\"status\":\"connection-refused\"}\n"
	    "{\"target\":\"cut.example\",\"sta";
	FILE *f = fmemopen((void *)out, strlen(out), "r");
	struct resume_set s = {0};
	off_t end = -1;
	char err[200];
	assert_int_equal(resume_load(&s, f, &end, err, sizeof(err)), 2);
	fclose(f);
	assert_int_equal((size_t)end, strlen(out) - strlen("{\"target\":\"cut.example\",\"sta"));
	assert_true(resume_has(&s, "a.example"));
	assert_true(resume_has(&s, "A.Example"));
	assert_true(resume_has(&s, "127.0.0.1:2525"));
	assert_false(resume_has(&s, "cut.example"));
	assert_false(resume_has(&s, "b.example"));
	for (int i = 0; i < 10000; i++) {
		char t[32];
		snprintf(t, sizeof(t), "h%d", i);
		assert_int_equal(resume_add(&s, t), 0);
	}
	assert_true(resume_has(&s, "h9999"));
	assert_true(resume_has(&s, "a.example"));
	assert_false(resume_has(&s, "h10000"));
	resume_free(&s);
}

static void test_status(void **state)
{
	assert_int_equal(scan_status_of_error(NULL), SCAN_SUCCESS);
	assert_int_equal(scan_status_of_error("connect: connect failed: "
					      "Connection refused"),
			 SCAN_CONN_REFUSED);
	assert_int_equal(scan_status_of_error("timeout: timed out waiting in "
					      "phase connect"),
			 SCAN_CONN_TIMEOUT);
	assert_int_equal(scan_status_of_error("timeout: timed out waiting in "
					      "phase greeting"),
			 SCAN_IO_TIMEOUT);
	assert_int_equal(scan_status_of_error("refused: 554 go away"),
			 SCAN_PROTOCOL_ERROR);
	assert_int_equal(scan_status_of_error("refused: excluded (--exclude)"),
			 SCAN_EXCLUDED);
	assert_int_equal(scan_status_of_error("dropped: connection closed"),
			 SCAN_PROTOCOL_ERROR);

	struct server_result sv[2];
	memset(sv, 0, sizeof(sv));
	struct check_result r = {.target = "x", .servers = sv, .nservers = 0};
	assert_int_equal(scan_status_of(&r), SCAN_DNS_ERROR);
	r.null_mx = true;
	assert_int_equal(scan_status_of(&r), SCAN_SUCCESS);
	r.null_mx = false;
	r.nservers = 2;
	sv[0].verdict = sv[1].verdict = V_UNREACHABLE;
	sv[0].error = "refused: excluded (--exclude)";
	sv[1].error = "timeout: timed out waiting in phase connect";
	assert_int_equal(scan_status_of(&r), SCAN_CONN_TIMEOUT);
	sv[1].error = "refused: excluded (--exclude)";
	assert_int_equal(scan_status_of(&r), SCAN_EXCLUDED);
	sv[1].verdict = V_CLOSED;
	sv[1].error = NULL;
	assert_int_equal(scan_status_of(&r), SCAN_SUCCESS);
	for (int s = 0; s < SCAN_STATUS_LAST; s++)
		assert_string_not_equal(scan_status_name((enum scan_status)s), "?");
	assert_string_equal(scan_status_name(SCAN_IO_TIMEOUT), "io-timeout");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines),   cmocka_unit_test(test_long_line),
	    cmocka_unit_test(test_cidr),    cmocka_unit_test(test_exclude),
	    cmocka_unit_test(test_shards),  cmocka_unit_test(test_resume),
	    cmocka_unit_test(test_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
