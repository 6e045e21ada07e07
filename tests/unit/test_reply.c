/* Unit tests for smtp/reply: the bounded incremental reply parser. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/reply.h"

/* Parses exactly one reply from a C string; asserts success. */
static void parse_ok(const char *s, struct smtp_reply *r)
{
	char err[128] = "";
	int rc = smtp_reply_parse_one(s, strlen(s), r, err, sizeof(err));
	if (rc != 0)
		fail_msg("parse of '%s' failed: %s", s, err);
}

/* Feeds s to a fresh parser with the given limits and returns the status of
 * the first call that is not SMTP_PARSE_MORE (or MORE at the end). */
static enum smtp_parse_status feed_all(const struct smtp_limits *lim,
				       const char *s, size_t len,
				       struct smtp_reply *r, char *err,
				       size_t errlen)
{
	struct smtp_reply_parser p;
	assert_int_equal(smtp_reply_parser_init(&p, lim), 0);
	size_t used = 0;
	enum smtp_parse_status st =
	    smtp_reply_parser_feed(&p, s, len, &used, r, err, errlen);
	smtp_reply_parser_cleanup(&p);
	return st;
}

static void expect_error(const struct smtp_limits *lim, const char *s,
			 const char *err_part)
{
	struct smtp_reply r = {0};
	char err[128] = "";
	enum smtp_parse_status st = feed_all(lim, s, strlen(s), &r, err,
					     sizeof(err));
	if (st != SMTP_PARSE_ERROR)
		fail_msg("'%s' parsed with status %d, expected an error", s,
			 (int)st);
	assert_true(err[0] != '\0');
	if (err_part && !strstr(err, err_part))
		fail_msg("error for '%s' is '%s', expected '%s'", s, err,
			 err_part);
	smtp_reply_clear(&r);
}

static void single_line(void **state)
{
	(void)state;
	struct smtp_reply r;
	parse_ok("220 mx.example.com ESMTP Postfix\r\n", &r);
	assert_int_equal(r.code, 220);
	assert_string_equal(r.enhanced, "");
	assert_int_equal(r.nlines, 1);
	assert_string_equal(r.lines[0], "mx.example.com ESMTP Postfix");
	assert_int_equal(r.flags, 0);
	assert_true(smtp_reply_ok(&r));
	smtp_reply_clear(&r);
	assert_int_equal(r.code, 0);
	assert_null(r.lines);
	assert_int_equal(r.nlines, 0);
}

static void multi_line(void **state)
{
	(void)state;
	struct smtp_reply r;
	parse_ok("250-mx.example.com\r\n"
		 "250-PIPELINING\r\n"
		 "250-SIZE 10240000\r\n"
		 "250 8BITMIME\r\n",
		 &r);
	assert_int_equal(r.code, 250);
	assert_int_equal(r.nlines, 4);
	assert_string_equal(r.lines[0], "mx.example.com");
	assert_string_equal(r.lines[1], "PIPELINING");
	assert_string_equal(r.lines[2], "SIZE 10240000");
	assert_string_equal(r.lines[3], "8BITMIME");
	assert_string_equal(r.enhanced, "");
	smtp_reply_clear(&r);
}

static void enhanced_code(void **state)
{
	(void)state;
	struct smtp_reply r;
	parse_ok("554 5.7.1 text\r\n", &r);
	assert_int_equal(r.code, 554);
	assert_string_equal(r.enhanced, "5.7.1");
	assert_int_equal(r.nlines, 1);
	assert_string_equal(r.lines[0], "text");
	assert_false(smtp_reply_ok(&r));
	smtp_reply_clear(&r);

	/* Three-digit subject and detail. */
	parse_ok("556 5.1.10 <a@example.com>: nullMX\r\n", &r);
	assert_string_equal(r.enhanced, "5.1.10");
	assert_string_equal(r.lines[0], "<a@example.com>: nullMX");
	smtp_reply_clear(&r);

	/* The repeated enhanced code is stripped from continuation lines
	 * too. */
	parse_ok("550-5.7.1 first\r\n550 5.7.1 second\r\n", &r);
	assert_string_equal(r.enhanced, "5.7.1");
	assert_int_equal(r.nlines, 2);
	assert_string_equal(r.lines[0], "first");
	assert_string_equal(r.lines[1], "second");
	smtp_reply_clear(&r);

	/* Only an enhanced code, no text. */
	parse_ok("250 2.0.0\r\n", &r);
	assert_string_equal(r.enhanced, "2.0.0");
	assert_string_equal(r.lines[0], "");
	smtp_reply_clear(&r);
}

static void no_enhanced_code(void **state)
{
	(void)state;
	struct smtp_reply r;
	/* Version-like text is not an enhanced code. */
	parse_ok("220 mail ESMTP 5.7.1x ready\r\n", &r);
	assert_string_equal(r.enhanced, "");
	assert_string_equal(r.lines[0], "mail ESMTP 5.7.1x ready");
	smtp_reply_clear(&r);

	parse_ok("554 5.7.1text\r\n", &r);
	assert_string_equal(r.enhanced, "");
	assert_string_equal(r.lines[0], "5.7.1text");
	smtp_reply_clear(&r);

	/* Class must match the reply code's first digit. */
	parse_ok("250 5.7.1 odd\r\n", &r);
	assert_string_equal(r.enhanced, "");
	assert_string_equal(r.lines[0], "5.7.1 odd");
	smtp_reply_clear(&r);

	/* Subject longer than 3 digits. */
	parse_ok("550 5.1234.1 x\r\n", &r);
	assert_string_equal(r.enhanced, "");
	smtp_reply_clear(&r);
}

static void code_only(void **state)
{
	(void)state;
	struct smtp_reply r;
	parse_ok("250\r\n", &r);
	assert_int_equal(r.code, 250);
	assert_int_equal(r.nlines, 1);
	assert_string_equal(r.lines[0], "");
	assert_string_equal(r.enhanced, "");
	smtp_reply_clear(&r);

	parse_ok("250 \r\n", &r);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.lines[0], "");
	smtp_reply_clear(&r);

	/* "250-" continuation with empty text. */
	parse_ok("250-\r\n250 x\r\n", &r);
	assert_int_equal(r.nlines, 2);
	assert_string_equal(r.lines[0], "");
	assert_string_equal(r.lines[1], "x");
	smtp_reply_clear(&r);
}

static void byte_at_a_time(void **state)
{
	(void)state;
	const char *s = "250-first line\r\n250 2.1.0 Ok\r\n";
	size_t len = strlen(s);
	struct smtp_reply_parser p;
	assert_int_equal(smtp_reply_parser_init(&p, NULL), 0);
	struct smtp_reply r = {0};
	char err[128];
	assert_false(smtp_reply_parser_busy(&p));
	for (size_t i = 0; i < len; i++) {
		size_t used = 99;
		enum smtp_parse_status st = smtp_reply_parser_feed(
		    &p, s + i, 1, &used, &r, err, sizeof(err));
		assert_int_equal(used, 1);
		if (i + 1 < len) {
			assert_int_equal(st, SMTP_PARSE_MORE);
			assert_true(smtp_reply_parser_busy(&p));
		} else {
			assert_int_equal(st, SMTP_PARSE_REPLY);
		}
	}
	assert_false(smtp_reply_parser_busy(&p));
	assert_int_equal(r.code, 250);
	assert_int_equal(r.nlines, 2);
	assert_string_equal(r.lines[0], "first line");
	/* The enhanced code is taken from the first line only; it had
	 * none, so the second keeps its "2.1.0". */
	assert_string_equal(r.enhanced, "");
	assert_string_equal(r.lines[1], "2.1.0 Ok");
	smtp_reply_clear(&r);
	smtp_reply_parser_cleanup(&p);
}

static void two_replies_one_buffer(void **state)
{
	(void)state;
	const char *s = "250 2.1.0 Ok\r\n550 5.1.1 nope\r\n25";
	size_t len = strlen(s);
	struct smtp_reply_parser p;
	assert_int_equal(smtp_reply_parser_init(&p, NULL), 0);
	struct smtp_reply r = {0};
	char err[128];
	size_t used = 0;
	assert_int_equal(smtp_reply_parser_feed(&p, s, len, &used, &r, err,
						sizeof(err)),
			 SMTP_PARSE_REPLY);
	assert_int_equal(used, strlen("250 2.1.0 Ok\r\n"));
	assert_int_equal(r.code, 250);
	assert_string_equal(r.lines[0], "Ok");
	smtp_reply_clear(&r);

	size_t off = used;
	assert_int_equal(smtp_reply_parser_feed(&p, s + off, len - off, &used,
						&r, err, sizeof(err)),
			 SMTP_PARSE_REPLY);
	assert_int_equal(used, strlen("550 5.1.1 nope\r\n"));
	assert_int_equal(r.code, 550);
	assert_string_equal(r.enhanced, "5.1.1");
	assert_string_equal(r.lines[0], "nope");
	smtp_reply_clear(&r);

	off += used;
	assert_int_equal(smtp_reply_parser_feed(&p, s + off, len - off, &used,
						&r, err, sizeof(err)),
			 SMTP_PARSE_MORE);
	assert_int_equal(used, 2);
	assert_true(smtp_reply_parser_busy(&p));
	assert_int_equal(smtp_reply_parser_feed(&p, "1 x\r\n", 5, &used, &r,
						err, sizeof(err)),
			 SMTP_PARSE_REPLY);
	assert_int_equal(r.code, 251);
	smtp_reply_clear(&r);
	smtp_reply_parser_cleanup(&p);
}

static void bare_lf(void **state)
{
	(void)state;
	struct smtp_reply r;
	parse_ok("250 ok\n", &r);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.lines[0], "ok");
	assert_true(r.flags & SMTP_REPLY_BARE_LF);
	assert_false(r.flags & SMTP_REPLY_NONPRINTABLE);
	smtp_reply_clear(&r);

	/* Mixed: flagged once any line ends in a bare LF. */
	parse_ok("250-a\r\n250 b\n", &r);
	assert_int_equal(r.nlines, 2);
	assert_true(r.flags & SMTP_REPLY_BARE_LF);
	smtp_reply_clear(&r);

	parse_ok("250 ok\r\n", &r);
	assert_false(r.flags & SMTP_REPLY_BARE_LF);
	smtp_reply_clear(&r);
}

static void nonprintable_escaped(void **state)
{
	(void)state;
	const char s[] = "250 a\0b\xff" "c\\d\r\n";
	struct smtp_reply r;
	char err[128];
	assert_int_equal(smtp_reply_parse_one(s, sizeof(s) - 1, &r, err,
					      sizeof(err)),
			 0);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.lines[0], "a\\x00b\\xffc\\\\d");
	assert_true(r.flags & SMTP_REPLY_NONPRINTABLE);
	assert_false(r.flags & SMTP_REPLY_BARE_LF);
	smtp_reply_clear(&r);

	/* A lone CR inside a line is data: kept, escaped, flagged. */
	parse_ok("250 a\rb\r\n", &r);
	assert_string_equal(r.lines[0], "a\\x0db");
	assert_true(r.flags & SMTP_REPLY_NONPRINTABLE);
	smtp_reply_clear(&r);
}

static void line_callback(void *arg, const char *line)
{
	char *buf = arg;
	size_t l = strlen(buf);
	snprintf(buf + l, 256 - l, "[%s]", line);
}

static void on_line_called(void **state)
{
	(void)state;
	char seen[256] = "";
	struct smtp_reply_parser p;
	assert_int_equal(smtp_reply_parser_init(&p, NULL), 0);
	p.on_line = line_callback;
	p.on_line_arg = seen;
	const char s[] = "250-x\x01y\r\n250 2.0.0 ok\r\n";
	struct smtp_reply r = {0};
	size_t used;
	char err[128];
	assert_int_equal(smtp_reply_parser_feed(&p, s, sizeof(s) - 1, &used,
						&r, err, sizeof(err)),
			 SMTP_PARSE_REPLY);
	/* Code included, escaped. */
	assert_string_equal(seen, "[250-x\\x01y][250 2.0.0 ok]");
	smtp_reply_clear(&r);
	smtp_reply_parser_cleanup(&p);
}

static void error_line_too_long(void **state)
{
	(void)state;
	struct smtp_limits lim = {.max_line = 16, .max_reply = 1024,
				  .max_lines = 10};
	/* Exactly max_line bytes (CRLF excluded) is fine. */
	struct smtp_reply r = {0};
	char err[128];
	const char *ok = "250 456789012345\r\n";
	assert_int_equal(feed_all(&lim, ok, strlen(ok), &r, err, sizeof(err)),
			 SMTP_PARSE_REPLY);
	smtp_reply_clear(&r);
	expect_error(&lim, "250 4567890123456\r\n", "longer");
	/* The error comes before the line ends: no CRLF needed. */
	expect_error(&lim, "250 45678901234567890", "longer");

	/* Default limit. */
	char *big = malloc(SMTP_DEFAULT_MAX_LINE + 16);
	memset(big, 'a', SMTP_DEFAULT_MAX_LINE + 8);
	memcpy(big, "250 ", 4);
	memcpy(big + SMTP_DEFAULT_MAX_LINE + 8, "\r\n", 3);
	expect_error(NULL, big, "longer");
	free(big);
}

static void error_too_many_lines(void **state)
{
	(void)state;
	struct smtp_limits lim = {.max_line = 64, .max_reply = 4096,
				  .max_lines = 3};
	struct smtp_reply r = {0};
	char err[128];
	const char *three = "250-a\r\n250-b\r\n250 c\r\n";
	assert_int_equal(feed_all(&lim, three, strlen(three), &r, err,
				  sizeof(err)),
			 SMTP_PARSE_REPLY);
	assert_int_equal(r.nlines, 3);
	smtp_reply_clear(&r);
	expect_error(&lim, "250-a\r\n250-b\r\n250-c\r\n250 d\r\n", "many");
}

static void error_reply_too_big(void **state)
{
	(void)state;
	/* Each line "250-xxxxxx" is 10 bytes + CRLF = 12. */
	struct smtp_limits lim = {.max_line = 64, .max_reply = 30,
				  .max_lines = 100};
	struct smtp_reply r = {0};
	char err[128];
	const char *fits = "250-xxxxxx\r\n250 xxxxxx\r\n"; /* 24 */
	assert_int_equal(feed_all(&lim, fits, strlen(fits), &r, err,
				  sizeof(err)),
			 SMTP_PARSE_REPLY);
	smtp_reply_clear(&r);
	expect_error(&lim, "250-xxxxxx\r\n250-xxxxxx\r\n250 xxxxxx\r\n",
		     "size");
}

static void error_code_changes(void **state)
{
	(void)state;
	expect_error(NULL, "250-a\r\n251 b\r\n", "changes");
	expect_error(NULL, "250-a\r\n550 b\r\n", "changes");
}

static void error_bad_codes(void **state)
{
	(void)state;
	expect_error(NULL, "000 zero\r\n", "2xx-5xx");
	expect_error(NULL, "100 one\r\n", "2xx-5xx");
	expect_error(NULL, "600 six\r\n", "2xx-5xx");
	expect_error(NULL, "699 six\r\n", "2xx-5xx");
	expect_error(NULL, "999 nine\r\n", "2xx-5xx");
	expect_error(NULL, "250x\r\n", "space or hyphen");
	expect_error(NULL, "2500 ok\r\n", "space or hyphen");
	expect_error(NULL, "250\tok\r\n", "space or hyphen");
	expect_error(NULL, "25a ok\r\n", "3-digit");
	expect_error(NULL, "hello\r\n", "3-digit");
	expect_error(NULL, "25\r\n", "3-digit");
	expect_error(NULL, "\r\n", "3-digit");
	expect_error(NULL, " 250 ok\r\n", "3-digit");
	/* The bad line may be a continuation. */
	expect_error(NULL, "250-ok\r\nxyz\r\n", "3-digit");
}

static void parse_one_errors(void **state)
{
	(void)state;
	struct smtp_reply r;
	char err[128] = "";
	const char *two = "250 a\r\n250 b\r\n";
	assert_int_equal(smtp_reply_parse_one(two, strlen(two), &r, err,
					      sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "trailing"));
	assert_int_equal(r.code, 0);
	assert_int_equal(r.nlines, 0);
	assert_null(r.lines);

	err[0] = '\0';
	assert_int_equal(smtp_reply_parse_one("250-a\r\n", 7, &r, err,
					      sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "incomplete"));
	assert_int_equal(r.nlines, 0);

	err[0] = '\0';
	assert_int_equal(smtp_reply_parse_one("250 a", 5, &r, err,
					      sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "incomplete"));

	assert_int_equal(smtp_reply_parse_one("", 0, &r, err, sizeof(err)),
			 -1);
	assert_int_equal(smtp_reply_parse_one("xyz\r\n", 5, &r, err,
					      sizeof(err)),
			 -1);
	smtp_reply_clear(&r);
}

static void copy_and_text(void **state)
{
	(void)state;
	struct smtp_reply r, c;
	parse_ok("550-5.7.1 one\r\n550-5.7.1 two\r\n550 5.7.1 three\n", &r);
	assert_int_equal(smtp_reply_copy(&c, &r), 0);
	assert_int_equal(c.code, 550);
	assert_string_equal(c.enhanced, "5.7.1");
	assert_int_equal(c.nlines, 3);
	assert_int_equal(c.flags, r.flags);
	assert_true(c.flags & SMTP_REPLY_BARE_LF);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(c.lines[i], r.lines[i]);
		assert_ptr_not_equal(c.lines[i], r.lines[i]); /* deep */
	}
	char *t = smtp_reply_text(&r);
	assert_string_equal(t, "one\ntwo\nthree");
	free(t);
	smtp_reply_clear(&r);
	/* The copy survives the original. */
	t = smtp_reply_text(&c);
	assert_string_equal(t, "one\ntwo\nthree");
	free(t);
	smtp_reply_clear(&c);

	/* Empty reply: copy and text still work. */
	struct smtp_reply empty = {0};
	assert_int_equal(smtp_reply_copy(&c, &empty), 0);
	assert_int_equal(c.code, 0);
	assert_null(c.lines);
	t = smtp_reply_text(&empty);
	assert_string_equal(t, "");
	free(t);
	smtp_reply_clear(&c);
}

static void huge_multiline_bounded(void **state)
{
	(void)state;
	/* 100,000 continuation lines fed in 4 KiB chunks. */
	const size_t nlines = 100000;
	const char *line = "250-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
	size_t ll = strlen(line);
	size_t total = nlines * ll;
	char *buf = malloc(total);
	assert_non_null(buf);
	for (size_t i = 0; i < nlines; i++)
		memcpy(buf + i * ll, line, ll);
	buf[total - ll + 3] = ' '; /* the last line ends the reply */

	struct smtp_reply_parser p;
	assert_int_equal(smtp_reply_parser_init(&p, NULL), 0);
	struct smtp_reply r = {0};
	char err[128] = "";
	enum smtp_parse_status st = SMTP_PARSE_MORE;
	size_t off = 0;
	while (off < total) {
		size_t n = total - off < 4096 ? total - off : 4096;
		size_t used = 0;
		st = smtp_reply_parser_feed(&p, buf + off, n, &used, &r, err,
					    sizeof(err));
		if (st != SMTP_PARSE_MORE)
			break;
		off += used;
	}
	assert_int_equal(st, SMTP_PARSE_ERROR);
	assert_true(err[0] != '\0');
	/* It stopped long before the end. */
	assert_true(off < total / 10);
	assert_true(p.cur.nlines <= SMTP_DEFAULT_MAX_LINES);
	smtp_reply_clear(&r);
	smtp_reply_parser_cleanup(&p);
	free(buf);
}

static void limits_default_and_clamp(void **state)
{
	(void)state;
	struct smtp_limits lim;
	smtp_limits_default(&lim);
	assert_int_equal(lim.max_line, SMTP_DEFAULT_MAX_LINE);
	assert_int_equal(lim.max_reply, SMTP_DEFAULT_MAX_REPLY);
	assert_int_equal(lim.max_lines, SMTP_DEFAULT_MAX_LINES);

	/* Zero limits are clamped to something usable, not 0-byte lines. */
	struct smtp_limits zero = {0, 1024, 0};
	struct smtp_reply r = {0};
	char err[128];
	assert_int_equal(feed_all(&zero, "250 ok\r\n", 8, &r, err,
				  sizeof(err)),
			 SMTP_PARSE_REPLY);
	assert_int_equal(r.code, 250);
	smtp_reply_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(single_line),
	    cmocka_unit_test(multi_line),
	    cmocka_unit_test(enhanced_code),
	    cmocka_unit_test(no_enhanced_code),
	    cmocka_unit_test(code_only),
	    cmocka_unit_test(byte_at_a_time),
	    cmocka_unit_test(two_replies_one_buffer),
	    cmocka_unit_test(bare_lf),
	    cmocka_unit_test(nonprintable_escaped),
	    cmocka_unit_test(on_line_called),
	    cmocka_unit_test(error_line_too_long),
	    cmocka_unit_test(error_too_many_lines),
	    cmocka_unit_test(error_reply_too_big),
	    cmocka_unit_test(error_code_changes),
	    cmocka_unit_test(error_bad_codes),
	    cmocka_unit_test(parse_one_errors),
	    cmocka_unit_test(copy_and_text),
	    cmocka_unit_test(huge_multiline_bounded),
	    cmocka_unit_test(limits_default_and_clamp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
