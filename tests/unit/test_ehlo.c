/* Unit tests for smtp/ehlo: EHLO capabilities, greeting name, host names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "smtp/ehlo.h"

static void parse_reply(const char *s, struct smtp_reply *r)
{
	char err[128] = "";
	if (smtp_reply_parse_one(s, strlen(s), r, err, sizeof(err)) != 0)
		fail_msg("cannot parse '%s': %s", s, err);
}

static void postfix_ehlo(void **state)
{
	(void)state;
	struct smtp_reply r;
	parse_reply("250-mx.example.com\r\n"
		    "250-PIPELINING\r\n"
		    "250-SIZE 10240000\r\n"
		    "250-VRFY\r\n"
		    "250-ETRN\r\n"
		    "250-STARTTLS\r\n"
		    "250-AUTH PLAIN LOGIN\r\n"
		    "250-AUTH=PLAIN\r\n"
		    "250-ENHANCEDSTATUSCODES\r\n"
		    "250-8BITMIME\r\n"
		    "250-DSN\r\n"
		    "250-SMTPUTF8\r\n"
		    "250 CHUNKING\r\n",
		    &r);
	struct smtp_ehlo e;
	assert_int_equal(smtp_ehlo_parse(&r, &e), 0);
	assert_string_equal(e.name, "mx.example.com");
	assert_true(e.pipelining);
	assert_true(e.has_size);
	assert_int_equal(e.size, 10240000UL);
	assert_true(e.starttls);
	assert_non_null(e.auth);
	assert_string_equal(e.auth, "PLAIN LOGIN"); /* first AUTH line wins */
	assert_true(e.enhancedstatuscodes);
	assert_true(e.eightbitmime);
	assert_true(e.dsn);
	assert_true(e.smtputf8);
	assert_true(e.chunking);
	assert_int_equal(e.nkeywords, 12);
	assert_string_equal(e.keywords[0], "PIPELINING");
	assert_string_equal(e.keywords[11], "CHUNKING");
	smtp_ehlo_clear(&e);
	assert_null(e.name);
	assert_null(e.keywords);
	smtp_reply_clear(&r);
}

static void name_with_greeting_text(void **state)
{
	(void)state;
	struct smtp_reply r;
	parse_reply("250-smtp.example.org Hello client [192.0.2.9]\r\n"
		    "250 HELP\r\n",
		    &r);
	struct smtp_ehlo e;
	assert_int_equal(smtp_ehlo_parse(&r, &e), 0);
	assert_string_equal(e.name, "smtp.example.org");
	assert_false(e.starttls);
	assert_false(e.pipelining);
	assert_false(e.has_size);
	assert_null(e.auth);
	assert_int_equal(e.nkeywords, 1);
	smtp_ehlo_clear(&e);
	smtp_reply_clear(&r);
}

static void case_insensitive(void **state)
{
	(void)state;
	struct smtp_reply r;
	parse_reply("250-mx\r\n"
		    "250-pipelining\r\n"
		    "250-StartTLS\r\n"
		    "250-size 1000\r\n"
		    "250-8bitmime\r\n"
		    "250-auth=login cram-md5\r\n"
		    "250 dsn\r\n",
		    &r);
	struct smtp_ehlo e;
	assert_int_equal(smtp_ehlo_parse(&r, &e), 0);
	assert_true(e.pipelining);
	assert_true(e.starttls);
	assert_true(e.has_size);
	assert_int_equal(e.size, 1000);
	assert_true(e.eightbitmime);
	assert_true(e.dsn);
	assert_string_equal(e.auth, "login cram-md5");
	/* Keywords are kept as sent. */
	assert_string_equal(e.keywords[1], "StartTLS");
	smtp_ehlo_clear(&e);
	smtp_reply_clear(&r);
}

static void prefix_traps(void **state)
{
	(void)state;
	struct smtp_reply r;
	parse_reply("250-mx.example.com\r\n"
		    "250-STARTTLSX\r\n"
		    "250-PIPELININGS\r\n"
		    "250-X-STARTTLS\r\n"
		    "250-SIZEX 100\r\n"
		    "250-AUTHX PLAIN\r\n"
		    "250-DSNX\r\n"
		    "250-8BITMIMEX\r\n"
		    "250-SMTPUTF8X\r\n"
		    "250-CHUNKINGX\r\n"
		    "250-XENHANCEDSTATUSCODES\r\n"
		    "250 STARTTL\r\n",
		    &r);
	struct smtp_ehlo e;
	assert_int_equal(smtp_ehlo_parse(&r, &e), 0);
	assert_false(e.starttls);
	assert_false(e.pipelining);
	assert_false(e.has_size);
	assert_int_equal(e.size, 0);
	assert_null(e.auth);
	assert_false(e.dsn);
	assert_false(e.eightbitmime);
	assert_false(e.smtputf8);
	assert_false(e.chunking);
	assert_false(e.enhancedstatuscodes);
	assert_int_equal(e.nkeywords, 11);
	smtp_ehlo_clear(&e);
	smtp_reply_clear(&r);
}

static void size_variants(void **state)
{
	(void)state;
	struct smtp_reply r;
	struct smtp_ehlo e;
	/* SIZE without a number: advertised, no limit known. */
	parse_reply("250-mx\r\n250 SIZE\r\n", &r);
	assert_int_equal(smtp_ehlo_parse(&r, &e), 0);
	assert_true(e.has_size);
	assert_int_equal(e.size, 0);
	smtp_ehlo_clear(&e);
	smtp_reply_clear(&r);

	/* SIZE 0 means unlimited. */
	parse_reply("250-mx\r\n250 SIZE 0\r\n", &r);
	assert_int_equal(smtp_ehlo_parse(&r, &e), 0);
	assert_true(e.has_size);
	assert_int_equal(e.size, 0);
	smtp_ehlo_clear(&e);
	smtp_reply_clear(&r);

	/* Garbage argument. */
	parse_reply("250-mx\r\n250 SIZE lots\r\n", &r);
	assert_int_equal(smtp_ehlo_parse(&r, &e), 0);
	assert_true(e.has_size);
	assert_int_equal(e.size, 0);
	smtp_ehlo_clear(&e);
	smtp_reply_clear(&r);
}

static void single_line_ehlo(void **state)
{
	(void)state;
	struct smtp_reply r;
	struct smtp_ehlo e;
	parse_reply("250 mx.example.com\r\n", &r);
	assert_int_equal(smtp_ehlo_parse(&r, &e), 0);
	assert_string_equal(e.name, "mx.example.com");
	assert_int_equal(e.nkeywords, 0);
	assert_null(e.keywords);
	smtp_ehlo_clear(&e);
	smtp_reply_clear(&r);

	/* An empty reply struct gives an empty result. */
	struct smtp_reply empty = {0};
	assert_int_equal(smtp_ehlo_parse(&empty, &e), 0);
	assert_null(e.name);
	assert_int_equal(e.nkeywords, 0);
	smtp_ehlo_clear(&e);
}

static void greeting_name(void **state)
{
	(void)state;
	struct smtp_reply r;
	char out[64];
	parse_reply("220 mx.example.com ESMTP Postfix (Debian/GNU)\r\n", &r);
	smtp_greeting_name(&r, out, sizeof(out));
	assert_string_equal(out, "mx.example.com");
	smtp_reply_clear(&r);

	/* Multi-line greeting: first line's first word. */
	parse_reply("220-first.example.net ESMTP\r\n220 second line\r\n", &r);
	smtp_greeting_name(&r, out, sizeof(out));
	assert_string_equal(out, "first.example.net");
	/* Truncated to the buffer, still terminated. */
	char small[6];
	smtp_greeting_name(&r, small, sizeof(small));
	assert_string_equal(small, "first");
	smtp_reply_clear(&r);

	/* Greeting with no text. */
	parse_reply("220\r\n", &r);
	snprintf(out, sizeof(out), "junk");
	smtp_greeting_name(&r, out, sizeof(out));
	assert_string_equal(out, "");
	smtp_reply_clear(&r);

	/* Leading spaces skipped. */
	parse_reply("220   spaced.example.com  ready\r\n", &r);
	smtp_greeting_name(&r, out, sizeof(out));
	assert_string_equal(out, "spaced.example.com");
	smtp_reply_clear(&r);

	/* A server that does not name itself: the word is returned as is;
	 * smtp_valid_hostname is what rejects it. */
	parse_reply("220 ESMTP ready\r\n", &r);
	smtp_greeting_name(&r, out, sizeof(out));
	assert_string_equal(out, "ESMTP");
	assert_false(smtp_valid_hostname(out));
	smtp_reply_clear(&r);

	struct smtp_reply empty = {0};
	snprintf(out, sizeof(out), "junk");
	smtp_greeting_name(&empty, out, sizeof(out));
	assert_string_equal(out, "");
}

static void valid_hostnames(void **state)
{
	(void)state;
	assert_true(smtp_valid_hostname("mx.example.com"));
	assert_true(smtp_valid_hostname("mx.example.com."));
	assert_true(smtp_valid_hostname("a.b"));
	assert_true(smtp_valid_hostname("MX-1.Example.COM"));
	assert_true(smtp_valid_hostname("123.example.com"));
	assert_true(smtp_valid_hostname("xn--bcher-kva.example"));
	assert_true(smtp_valid_hostname("a1.b2c")); /* top label not all digits */

	/* 63-character label is the maximum. */
	char name[300];
	memset(name, 'a', 63);
	snprintf(name + 63, sizeof(name) - 63, ".example.com");
	assert_true(smtp_valid_hostname(name));

	/* 253 characters in total is the maximum. */
	memset(name, 0, sizeof(name));
	size_t off = 0;
	while (off < 253) {
		size_t n = 253 - off >= 50 ? 49 : 253 - off;
		memset(name + off, 'b', n);
		off += n;
		if (off < 253)
			name[off++] = '.';
	}
	name[253] = '\0';
	assert_int_equal(strlen(name), 253);
	assert_true(smtp_valid_hostname(name));
}

static void invalid_hostnames(void **state)
{
	(void)state;
	assert_false(smtp_valid_hostname(""));
	assert_false(smtp_valid_hostname("."));
	assert_false(smtp_valid_hostname("ESMTP"));
	assert_false(smtp_valid_hostname("localhost"));
	assert_false(smtp_valid_hostname("localhost."));
	assert_false(smtp_valid_hostname("1.2.3.4"));
	assert_false(smtp_valid_hostname("192.0.2.1."));
	assert_false(smtp_valid_hostname("example.123"));
	assert_false(smtp_valid_hostname("a..b"));
	assert_false(smtp_valid_hostname(".a.b"));
	assert_false(smtp_valid_hostname("a.b.."));
	assert_false(smtp_valid_hostname("-a.com"));
	assert_false(smtp_valid_hostname("a-.com"));
	assert_false(smtp_valid_hostname("a.-com"));
	assert_false(smtp_valid_hostname("a.com-"));
	assert_false(smtp_valid_hostname("FOO_BAR.mxtoolbox.com"));
	assert_false(smtp_valid_hostname("a b.com"));
	assert_false(smtp_valid_hostname("[192.0.2.1]"));
	assert_false(smtp_valid_hostname("2001:db8::1"));
	assert_false(smtp_valid_hostname("mx.example.com\\x0d"));

	char name[300];
	/* 64-character label. */
	memset(name, 'a', 64);
	snprintf(name + 64, sizeof(name) - 64, ".example.com");
	assert_false(smtp_valid_hostname(name));

	/* 254 characters. */
	memset(name, 0, sizeof(name));
	for (size_t i = 0; i < 254; i++)
		name[i] = (i % 50 == 49) ? '.' : 'c';
	name[254] = '\0';
	assert_int_equal(strlen(name), 254);
	assert_false(smtp_valid_hostname(name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(postfix_ehlo),
	    cmocka_unit_test(name_with_greeting_text),
	    cmocka_unit_test(case_insensitive),
	    cmocka_unit_test(prefix_traps),
	    cmocka_unit_test(size_variants),
	    cmocka_unit_test(single_line_ehlo),
	    cmocka_unit_test(greeting_name),
	    cmocka_unit_test(valid_hostnames),
	    cmocka_unit_test(invalid_hostnames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
