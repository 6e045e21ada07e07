/* Unit tests for relay/technique: the catalogue and template expansion. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "relay/technique.h"

static const struct technique_vars full_vars = {
    .from = "relayprobe@gmail.com",
    .user = "relayprobe",
    .ext_user = "relaytest",
    .ext_domain = "gmail.com",
    .target_host = "mx.example.com",
    .target_domain = "example.com",
    .target_lit = "[192.0.2.1]",
    .tester_host = "probe.example.net",
    .mailbox = "me@example.org",
};

static void ids_unique(void **state)
{
	(void)state;
	size_t nt, nc;
	const struct technique *t = technique_list(&nt);
	const struct technique *c = technique_controls(&nc);
	assert_non_null(t);
	assert_non_null(c);
	assert_int_equal(nt, 25); /* T01-T22, T23a, T23b, T25 */
	assert_int_equal(nc, 4);
	const struct technique *all[64];
	size_t n = 0;
	for (size_t i = 0; i < nt; i++)
		all[n++] = &t[i];
	for (size_t i = 0; i < nc; i++)
		all[n++] = &c[i];
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(all[i]->id, all[j]->id) == 0)
				fail_msg("duplicate id %s", all[i]->id);
}

static void expected_ids_present(void **state)
{
	(void)state;
	char id[8];
	for (int i = 1; i <= 22; i++) {
		snprintf(id, sizeof(id), "T%02d", i);
		const struct technique *t = technique_find(id);
		if (!t)
			fail_msg("%s missing", id);
		assert_string_equal(t->id, id);
		assert_int_not_equal(t->kind, RCPT_CONTROL);
	}
	assert_non_null(technique_find("T23a"));
	assert_non_null(technique_find("T23b"));
	assert_non_null(technique_find("T25"));
	/* T24 is the "own domain" caveat, not a test. */
	assert_null(technique_find("T24"));
	assert_null(technique_find("T23"));
	assert_null(technique_find("T26"));
	assert_null(technique_find("t02")); /* ids are exact */
	assert_null(technique_find(""));

	static const char *const ctl[] = {"positive", "positive-bare",
					  "impossible", "random-local"};
	for (size_t i = 0; i < 4; i++) {
		const struct technique *t = technique_find(ctl[i]);
		assert_non_null(t);
		assert_int_equal(t->kind, RCPT_CONTROL);
	}
}

static void every_technique_described(void **state)
{
	(void)state;
	size_t nt, nc;
	const struct technique *lists[2] = {technique_list(&nt),
					    technique_controls(&nc)};
	size_t counts[2] = {nt, nc};
	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < counts[l]; i++) {
			const struct technique *t = &lists[l][i];
			assert_non_null(t->id);
			assert_non_null(t->name);
			assert_non_null(t->catches);
			assert_non_null(t->mail);
			assert_non_null(t->rcpt);
			assert_true(t->name[0] && t->catches[0]);
			assert_true(t->rcpt[0]);
			/* Each technique's ID resolves to itself. */
			assert_ptr_equal(technique_find(t->id), t);
		}
}

static void catalogue_semantics(void **state)
{
	(void)state;
	/* T25 needs a mailbox; nothing else does. */
	size_t nt;
	const struct technique *t = technique_list(&nt);
	for (size_t i = 0; i < nt; i++)
		assert_int_equal(t[i].needs_mailbox,
				 strcmp(t[i].id, "T25") == 0);
	assert_int_equal(technique_find("T25")->kind, RCPT_MAILBOX);
	assert_int_equal(technique_find("T09")->helo, HELO_TARGET);
	assert_int_equal(technique_find("T02")->helo, HELO_TESTER);
	assert_int_equal(technique_find("T02")->kind, RCPT_EXTERNAL);
	assert_false(technique_find("T02")->sender_trick);
	assert_true(technique_find("T01")->sender_trick);
	assert_int_equal(technique_find("T11")->kind, RCPT_OWN_ROUTED);
	assert_int_equal(technique_find("T23a")->kind, RCPT_OWN_ROUTED);
	/* The null sender is T01's trick. */
	assert_string_equal(technique_find("T01")->mail, "<>");
}

static void expand_one(const struct technique *t, const char *which,
		       const char *want)
{
	char out[256];
	const char *tmpl = strcmp(which, "mail") == 0 ? t->mail : t->rcpt;
	if (technique_expand(tmpl, &full_vars, out, sizeof(out)) != 0)
		fail_msg("%s %s did not expand: %s", t->id, which, out);
	if (strcmp(out, want) != 0)
		fail_msg("%s %s: got '%s', want '%s'", t->id, which, out, want);
}

static void expand_templates(void **state)
{
	(void)state;
	expand_one(technique_find("T01"), "mail", "<>");
	expand_one(technique_find("T01"), "rcpt", "<relaytest@gmail.com>");
	expand_one(technique_find("T02"), "mail", "<relayprobe@gmail.com>");
	expand_one(technique_find("T03"), "mail", "<relayprobe@mx.example.com>");
	expand_one(technique_find("T04"), "mail", "<relayprobe@example.com>");
	expand_one(technique_find("T05"), "mail", "<relayprobe@[192.0.2.1]>");
	expand_one(technique_find("T06"), "mail", "<relayprobe>");
	expand_one(technique_find("T07"), "mail", "<relayprobe@localhost>");
	expand_one(technique_find("T08"), "mail",
		   "<relayprobe@probe.example.net>");
	expand_one(technique_find("T10"), "rcpt", "relaytest@gmail.com");
	expand_one(technique_find("T11"), "mail", "<relayprobe@[192.0.2.1]>");
	expand_one(technique_find("T11"), "rcpt",
		   "<relaytest%gmail.com@[192.0.2.1]>");
	expand_one(technique_find("T12"), "rcpt",
		   "<relaytest%gmail.com@mx.example.com>");
	expand_one(technique_find("T13"), "rcpt", "<\"relaytest@gmail.com\">");
	expand_one(technique_find("T14"), "rcpt", "<\"relaytest%gmail.com\">");
	expand_one(technique_find("T15"), "rcpt",
		   "<relaytest@gmail.com@[192.0.2.1]>");
	expand_one(technique_find("T16"), "rcpt",
		   "<\"relaytest@gmail.com\"@[192.0.2.1]>");
	expand_one(technique_find("T17"), "rcpt",
		   "<relaytest@gmail.com@mx.example.com>");
	expand_one(technique_find("T18"), "rcpt",
		   "<@[192.0.2.1]:relaytest@gmail.com>");
	expand_one(technique_find("T19"), "rcpt",
		   "<@mx.example.com:relaytest@gmail.com>");
	expand_one(technique_find("T20"), "rcpt", "<gmail.com!relaytest>");
	expand_one(technique_find("T21"), "rcpt",
		   "<gmail.com!relaytest@[192.0.2.1]>");
	expand_one(technique_find("T22"), "rcpt",
		   "<gmail.com!relaytest@mx.example.com>");
	expand_one(technique_find("T23a"), "rcpt", "<relaytest@gmail.com@>");
	expand_one(technique_find("T23b"), "rcpt", "<relaytest%gmail.com@>");
	expand_one(technique_find("T25"), "rcpt", "<me@example.org>");
	expand_one(technique_find("positive"), "rcpt",
		   "<postmaster@example.com>");
	expand_one(technique_find("positive-bare"), "rcpt", "<Postmaster>");
}

static void expand_every_template(void **state)
{
	(void)state;
	/* With every variable set, every template expands and leaves no
	 * placeholder behind. */
	size_t nt, nc;
	const struct technique *lists[2] = {technique_list(&nt),
					    technique_controls(&nc)};
	size_t counts[2] = {nt, nc};
	char out[256];
	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < counts[l]; i++) {
			const struct technique *t = &lists[l][i];
			assert_int_equal(technique_expand(t->mail, &full_vars,
							  out, sizeof(out)),
					 0);
			assert_null(strchr(out, '{'));
			assert_int_equal(technique_expand(t->rcpt, &full_vars,
							  out, sizeof(out)),
					 0);
			assert_null(strchr(out, '{'));
			assert_null(strchr(out, '}'));
		}
}

static void expand_ipv6_literal(void **state)
{
	(void)state;
	struct technique_vars v = full_vars;
	v.target_lit = "[IPv6:2001:db8::1]";
	char out[128];
	assert_int_equal(technique_expand(technique_find("T18")->rcpt, &v, out,
					  sizeof(out)),
			 0);
	assert_string_equal(out, "<@[IPv6:2001:db8::1]:relaytest@gmail.com>");
}

static void expand_missing_variable(void **state)
{
	(void)state;
	struct technique_vars v = full_vars;
	char out[128];
	v.mailbox = NULL;
	assert_int_equal(technique_expand(technique_find("T25")->rcpt, &v, out,
					  sizeof(out)),
			 -1);
	assert_non_null(strstr(out, "mailbox")); /* names the missing one */

	v = full_vars;
	v.target_lit = ""; /* empty counts as missing */
	assert_int_equal(technique_expand(technique_find("T11")->rcpt, &v, out,
					  sizeof(out)),
			 -1);
	assert_non_null(strstr(out, "target_lit"));

	/* Unknown placeholder. */
	assert_int_equal(technique_expand("<{nonsense}>", &full_vars, out,
					  sizeof(out)),
			 -1);
	/* Unterminated placeholder. */
	assert_int_equal(technique_expand("<{from", &full_vars, out,
					  sizeof(out)),
			 -1);
	/* A template without placeholders is copied. */
	assert_int_equal(technique_expand("<>", &full_vars, out, sizeof(out)),
			 0);
	assert_string_equal(out, "<>");
	assert_int_equal(technique_expand("", &full_vars, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void expand_too_small(void **state)
{
	(void)state;
	const char *tmpl = technique_find("T11")->rcpt;
	const char *want = "<relaytest%gmail.com@[192.0.2.1]>";
	size_t need = strlen(want) + 1;
	char out[128];
	/* Exactly enough room. */
	assert_int_equal(technique_expand(tmpl, &full_vars, out, need), 0);
	assert_string_equal(out, want);
	/* One byte short: fails, never writes past outsz. */
	memset(out, 'Z', sizeof(out));
	assert_int_equal(technique_expand(tmpl, &full_vars, out, need - 1), -1);
	for (size_t i = need - 1; i < sizeof(out); i++)
		assert_int_equal(out[i], 'Z');
	/* Literal characters only. */
	memset(out, 'Z', sizeof(out));
	assert_int_equal(technique_expand("<abc>", &full_vars, out, 5), -1);
	assert_int_equal(out[5], 'Z');
	assert_int_equal(technique_expand("<abc>", &full_vars, out, 6), 0);
	assert_string_equal(out, "<abc>");
	/* Variable overflows. */
	assert_int_equal(technique_expand("{from}", &full_vars, out, 10), -1);
}

static bool all_lower(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 'a' || s[i] > 'z')
			return false;
	return true;
}

static void expand_rand(void **state)
{
	(void)state;
	char a[64], b[64];
	assert_int_equal(technique_expand("{rand}", &full_vars, a, sizeof(a)),
			 0);
	assert_int_equal(strlen(a), 12);
	assert_true(all_lower(a, 12));
	assert_int_equal(technique_expand("{rand}", &full_vars, b, sizeof(b)),
			 0);
	assert_int_equal(strlen(b), 12);
	assert_true(all_lower(b, 12));
	assert_string_not_equal(a, b);

	/* The impossible control: two fresh values in one expansion. */
	char out[128];
	assert_int_equal(technique_expand(technique_find("impossible")->rcpt,
					  &full_vars, out, sizeof(out)),
			 0);
	/* "<" + 12 + "@" + 12 + ".invalid>" */
	assert_int_equal(strlen(out), 1 + 12 + 1 + 12 + 9);
	assert_int_equal(out[0], '<');
	assert_true(all_lower(out + 1, 12));
	assert_int_equal(out[13], '@');
	assert_true(all_lower(out + 14, 12));
	assert_string_equal(out + 26, ".invalid>");

	assert_int_equal(technique_expand(technique_find("random-local")->rcpt,
					  &full_vars, out, sizeof(out)),
			 0);
	assert_int_equal(strlen(out), 1 + 12 + strlen("@example.com>"));
	assert_true(all_lower(out + 1, 12));
	assert_string_equal(out + 13, "@example.com>");
}

static void address_literal(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(technique_address_literal("192.0.2.1", out,
						   sizeof(out)),
			 0);
	assert_string_equal(out, "[192.0.2.1]");
	assert_int_equal(technique_address_literal("2001:db8::1", out,
						   sizeof(out)),
			 0);
	assert_string_equal(out, "[IPv6:2001:db8::1]");
	assert_int_equal(technique_address_literal("2001:0db8::0001", out,
						   sizeof(out)),
			 0);
	assert_string_equal(out, "[IPv6:2001:db8::1]");
	assert_int_equal(technique_address_literal("2001:DB8:0:0:0:0:0:1", out,
						   sizeof(out)),
			 0);
	assert_string_equal(out, "[IPv6:2001:db8::1]");
	assert_int_equal(technique_address_literal("::1", out, sizeof(out)), 0);
	assert_string_equal(out, "[IPv6:::1]");

	assert_int_equal(technique_address_literal("", out, sizeof(out)), -1);
	assert_int_equal(technique_address_literal("mx.example.com", out,
						   sizeof(out)),
			 -1);
	assert_int_equal(technique_address_literal("192.0.2.256", out,
						   sizeof(out)),
			 -1);
	assert_int_equal(technique_address_literal("[192.0.2.1]", out,
						   sizeof(out)),
			 -1);
	assert_int_equal(technique_address_literal("2001:db8::1::2", out,
						   sizeof(out)),
			 -1);
	/* Output too small. */
	assert_int_equal(technique_address_literal("192.0.2.1", out, 11), -1);
	assert_int_equal(technique_address_literal("192.0.2.1", out, 12), 0);
	assert_int_equal(technique_address_literal("2001:db8::1", out, 18),
			 -1);
}

static void split_address(void **state)
{
	(void)state;
	char l[64], d[64];
	assert_int_equal(technique_split_address("relaytest@gmail.com", l,
						 sizeof(l), d, sizeof(d)),
			 0);
	assert_string_equal(l, "relaytest");
	assert_string_equal(d, "gmail.com");

	/* Split at the last '@'. */
	assert_int_equal(technique_split_address("\"a@b\"@example.com", l,
						 sizeof(l), d, sizeof(d)),
			 0);
	assert_string_equal(l, "\"a@b\"");
	assert_string_equal(d, "example.com");

	assert_int_equal(technique_split_address("nodomain", l, sizeof(l), d,
						 sizeof(d)),
			 -1);
	assert_int_equal(technique_split_address("@example.com", l, sizeof(l),
						 d, sizeof(d)),
			 -1);
	assert_int_equal(technique_split_address("user@", l, sizeof(l), d,
						 sizeof(d)),
			 -1);
	assert_int_equal(technique_split_address("", l, sizeof(l), d,
						 sizeof(d)),
			 -1);
	/* Buffers too small. */
	assert_int_equal(technique_split_address("abcd@e.f", l, 4, d,
						 sizeof(d)),
			 -1);
	assert_int_equal(technique_split_address("abc@e.f", l, 4, d, sizeof(d)),
			 0);
	assert_int_equal(technique_split_address("a@example.com", l, sizeof(l),
						 d, 11),
			 -1);
	assert_int_equal(technique_split_address("a@example.com", l, sizeof(l),
						 d, 12),
			 0);
	assert_string_equal(d, "example.com");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ids_unique),
	    cmocka_unit_test(expected_ids_present),
	    cmocka_unit_test(every_technique_described),
	    cmocka_unit_test(catalogue_semantics),
	    cmocka_unit_test(expand_templates),
	    cmocka_unit_test(expand_every_template),
	    cmocka_unit_test(expand_ipv6_literal),
	    cmocka_unit_test(expand_missing_variable),
	    cmocka_unit_test(expand_too_small),
	    cmocka_unit_test(expand_rand),
	    cmocka_unit_test(address_literal),
	    cmocka_unit_test(split_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
