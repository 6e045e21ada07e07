/* Unit tests for core/util: rp_escape, rp_contains_nocase, rp_random_hex. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static void escape_printable_kept(void **state)
{
	(void)state;
	char out[64];
	const char *in = "250 mx.example.com ~!@#$%^&*()";
	size_t n = rp_escape(in, strlen(in), out, sizeof(out));
	assert_int_equal(n, strlen(in));
	assert_string_equal(out, in);
}

static void escape_backslash_doubled(void **state)
{
	(void)state;
	char out[16];
	size_t n = rp_escape("a\\b", 3, out, sizeof(out));
	assert_int_equal(n, 4);
	assert_string_equal(out, "a\\\\b");
}

static void escape_controls_and_high_bytes(void **state)
{
	(void)state;
	char out[64];
	const char in[] = {'a', '\0', '\r', '\n', '\t', 0x1b, 0x7f,
			   (char)0x80, (char)0xff, 'z'};
	size_t n = rp_escape(in, sizeof(in), out, sizeof(out));
	assert_string_equal(out,
			    "a\\x00\\x0d\\x0a\\x09\\x1b\\x7f\\x80\\xffz");
	assert_int_equal(n, strlen(out));
}

static void escape_truncation_returns_needed(void **state)
{
	(void)state;
	char out[5];
	memset(out, 'X', sizeof(out));
	/* Needs "ab\x01cd" = 8 bytes. */
	size_t n = rp_escape("ab\x01" "cd", 5, out, sizeof(out));
	assert_int_equal(n, 8);
	assert_int_equal(strlen(out), sizeof(out) - 1); /* terminated */
	assert_memory_equal(out, "ab\\x", 4);

	/* Size 0: nothing written, size still reported. */
	assert_int_equal(rp_escape("\xff\xff", 2, NULL, 0), 8);

	/* Size 1: just the terminator. */
	char one[1] = {'X'};
	assert_int_equal(rp_escape("abc", 3, one, 1), 3);
	assert_int_equal(one[0], '\0');

	/* Exactly fitting. */
	char fit[5];
	assert_int_equal(rp_escape("\\\\", 2, fit, sizeof(fit)), 4);
	assert_string_equal(fit, "\\\\\\\\");
}

static void escape_empty_input(void **state)
{
	(void)state;
	char out[4] = "zzz";
	assert_int_equal(rp_escape("", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void escape_dup_matches(void **state)
{
	(void)state;
	char *s = rp_escape_dup("x\0y\\", 4);
	assert_non_null(s);
	assert_string_equal(s, "x\\x00y\\\\");
	free(s);
}

static void contains_nocase(void **state)
{
	(void)state;
	assert_true(rp_contains_nocase("554 Relay Access Denied",
				       "relay access denied"));
	assert_true(rp_contains_nocase("GREYLISTED", "greylist"));
	assert_true(rp_contains_nocase("abc", "ABC"));
	assert_true(rp_contains_nocase("xxabc", "abc")); /* at the end */
	assert_true(rp_contains_nocase("aab", "ab"));    /* after a false start */
	assert_true(rp_contains_nocase("anything", ""));
	assert_true(rp_contains_nocase("", ""));
	assert_false(rp_contains_nocase("", "a"));
	assert_false(rp_contains_nocase("ab", "abc"));
	assert_false(rp_contains_nocase("relay", "relays"));
	assert_false(rp_contains_nocase("r e l a y", "relay"));
}

static bool all_lower_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static void random_hex_length_charset(void **state)
{
	(void)state;
	char buf[130];
	for (size_t n = 0; n <= 64; n += 8) {
		memset(buf, 'Z', sizeof(buf));
		rp_random_hex(buf, n);
		assert_int_equal(strlen(buf), 2 * n);
		assert_true(all_lower_hex(buf));
		/* Nothing written after the terminator. */
		assert_int_equal(buf[2 * n + 1], 'Z');
	}
	rp_random_hex(buf, 1);
	assert_int_equal(strlen(buf), 2);
	assert_true(all_lower_hex(buf));
}

static void random_hex_differs(void **state)
{
	(void)state;
	char a[33], b[33];
	rp_random_hex(a, 16);
	rp_random_hex(b, 16);
	assert_string_not_equal(a, b);
}

static void strdup_helpers(void **state)
{
	(void)state;
	assert_null(rp_strdup(NULL));
	char *s = rp_strndup("abcdef", 3);
	assert_string_equal(s, "abc");
	free(s);
	s = rp_strndup("ab", 10);
	assert_string_equal(s, "ab");
	free(s);
	s = rp_asprintf("%s-%d", "x", 42);
	assert_string_equal(s, "x-42");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(escape_printable_kept),
	    cmocka_unit_test(escape_backslash_doubled),
	    cmocka_unit_test(escape_controls_and_high_bytes),
	    cmocka_unit_test(escape_truncation_returns_needed),
	    cmocka_unit_test(escape_empty_input),
	    cmocka_unit_test(escape_dup_matches),
	    cmocka_unit_test(contains_nocase),
	    cmocka_unit_test(random_hex_length_charset),
	    cmocka_unit_test(random_hex_differs),
	    cmocka_unit_test(strdup_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
