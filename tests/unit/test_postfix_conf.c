/* Unit tests for config/postfix_conf (main.cf, master.cf, postconf text,
 * $parameter expansion) and config/postfix_policy (the relay policy). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/postfix_conf.h"
#include "config/postfix_policy.h"

static void parse_main_ok(struct pf_conf *c, const char *text)
{
	char err[256] = "";
	if (pf_parse_main(c, text, strlen(text), "main.cf", err, sizeof(err)) != 0)
		fail_msg("parse failed: %s", err);
}

static void parse_master_ok(struct pf_conf *c, const char *text)
{
	char err[256] = "";
	if (pf_parse_master(c, text, strlen(text), "master.cf", err, sizeof(err)) != 0)
		fail_msg("parse failed: %s", err);
}

static void expect_main_error(const char *text, size_t len, const char *part)
{
	struct pf_conf c = {0};
	char err[256] = "";
	assert_int_equal(pf_parse_main(&c, text, len, "main.cf", err, sizeof(err)), -1);
	if (!strstr(err, part))
		fail_msg("error '%s' lacks '%s'", err, part);
	pf_conf_free(&c);
}

/* For texts without NUL bytes. */
#define EXPECT_MAIN_ERROR(text, part) expect_main_error(text, strlen(text), part)

static void test_main_lines(void **state)
{
	(void)state;
	struct pf_conf c = {0};
	parse_main_ok(&c, "# comment\n"
			  "\n"
			  "myhostname = mx.example.com\n"
			  "smtpd_relay_restrictions = permit_mynetworks,\n"
			  "    # a comment inside\n"
			  "\treject_unauth_destination\n"
			  "mynetworks=127.0.0.0/8\r\n"
			  "myhostname = other.example.com   \n");
	const struct pf_param *p = pf_main(&c, "smtpd_relay_restrictions");
	assert_non_null(p);
	assert_string_equal(p->value, "permit_mynetworks, reject_unauth_destination");
	assert_int_equal(p->line, 4);
	p = pf_main(&c, "mynetworks");
	assert_string_equal(p->value, "127.0.0.0/8");
	assert_int_equal(p->line, 7);
	p = pf_main(&c, "myhostname"); /* the last one wins */
	assert_string_equal(p->value, "other.example.com");
	assert_int_equal(p->line, 8);
	assert_null(pf_main(&c, "nothing"));
	pf_conf_free(&c);
}

static void test_main_errors(void **state)
{
	(void)state;
	EXPECT_MAIN_ERROR("a = b\nnot a setting\n", "main.cf:2: not a 'name = value'");
	EXPECT_MAIN_ERROR("a = b\nc = \x01\n", "main.cf:2: binary data");
	expect_main_error("a = b\0c\n", 7, "main.cf:1: binary data");
	EXPECT_MAIN_ERROR("b@d = x\n", "bad parameter name");
	size_t n = PF_MAX_LINE + 100;
	char *big = malloc(3 * n + 1);
	assert_non_null(big);
	memcpy(big, "x = ", 4);
	memset(big + 4, 'a', n - 4);
	big[n] = '\0';
	expect_main_error(big, n, "main.cf:1: line longer than");
	/* Many short continuation lines add up too. */
	size_t k = 0;
	k += (size_t)snprintf(big, n, "x = a\n");
	while (k + 3 < 3 * n) {
		big[k++] = ' ';
		big[k++] = 'b';
		big[k++] = '\n';
	}
	expect_main_error(big, k, "main.cf:1: logical line longer");
	free(big);
}

static void test_master(void **state)
{
	(void)state;
	struct pf_conf c = {0};
	parse_master_ok(&c,
			"smtp      inet  n       -       y       -       -       smtpd\n"
			"submission inet n       -       y       -       -       smtpd\n"
			"  -o syslog_name=postfix/submission\n"
			"  -o { smtpd_relay_restrictions = permit_sasl_authenticated, reject }\n"
			"  -osmtpd_tls_auth_only=yes\n"
			"pickup    unix  n       -       y       60      1       pickup\n");
	assert_true(c.have_master);
	assert_int_equal(c.nsvc, 3);
	assert_string_equal(c.svc[1].name, "submission");
	assert_string_equal(c.svc[1].command, "smtpd");
	assert_int_equal(c.svc[1].line, 2);
	assert_int_equal(c.svc[1].over.n, 3);
	const struct pf_param *p =
	    pf_lookup(&c, &c.svc[1], "smtpd_relay_restrictions");
	assert_string_equal(p->value, "permit_sasl_authenticated, reject");
	assert_string_equal(pf_lookup(&c, &c.svc[1], "smtpd_tls_auth_only")->value, "yes");
	assert_null(pf_lookup(&c, &c.svc[0], "smtpd_tls_auth_only"));
	pf_conf_free(&c);

	char err[256];
	struct pf_conf d = {0};
	const char *bad = "smtp inet n - y\n";
	assert_int_equal(pf_parse_master(&d, bad, strlen(bad), "master.cf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "master.cf:1: a master.cf service needs 8 fields"));
	pf_conf_free(&d);
	const char *open_brace = "smtp inet n - y - - smtpd -o { a = b\n";
	assert_int_equal(pf_parse_master(&d, open_brace, strlen(open_brace), "master.cf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "master.cf:1: "));
	pf_conf_free(&d);
}

static void test_postconf_P(void **state)
{
	(void)state;
	struct pf_conf c = {0};
	parse_main_ok(&c, "mynetworks = 127.0.0.0/8\n"
			  "submission/inet/smtpd_relay_restrictions = permit_sasl_authenticated,reject\n"
			  "submission/inet/syslog_name = postfix/submission\n");
	assert_int_equal(c.main.n, 1);
	assert_int_equal(c.nsvc, 1);
	assert_string_equal(c.svc[0].name, "submission");
	assert_string_equal(c.svc[0].type, "inet");
	assert_int_equal(c.svc[0].over.n, 2);
	pf_conf_free(&c);
}

static void test_expand(void **state)
{
	(void)state;
	struct pf_conf c = {0};
	parse_main_ok(&c, "myhostname = mx.example.com\n"
			  "mydomain = example.com\n"
			  "a = $myhostname ${mydomain} $(mydomain) $$x\n"
			  "b = ${mydomain?yes} ${nothing?no} ${nothing:fallback} ${mydomain:{no}}\n"
			  "loop1 = $loop2\n"
			  "loop2 = $loop1\n");
	char *v = pf_value(&c, NULL, "a");
	assert_string_equal(v, "mx.example.com example.com example.com $x");
	free(v);
	v = pf_value(&c, NULL, "b");
	assert_string_equal(v, "yes  fallback ");
	free(v);
	assert_null(pf_value(&c, NULL, "loop1")); /* bounded, refused */
	v = pf_value(&c, NULL, "mydestination"); /* Postfix's default */
	assert_string_equal(v, "mx.example.com, localhost.example.com, localhost");
	free(v);
	/* compatibility_level decides some defaults. */
	v = pf_value(&c, NULL, "smtpd_relay_restrictions");
	assert_string_equal(v, "");
	free(v);
	v = pf_value(&c, NULL, "mynetworks_style");
	assert_string_equal(v, "subnet");
	free(v);
	parse_main_ok(&c, "compatibility_level = 3.6\n");
	v = pf_value(&c, NULL, "smtpd_relay_restrictions");
	assert_string_equal(v, "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination");
	free(v);
	v = pf_value(&c, NULL, "mynetworks_style");
	assert_string_equal(v, "host");
	free(v);
	pf_conf_free(&c);
}

/* --- policy ------------------------------------------------------------------ */

static const char *base =
    "compatibility_level = 3.6\n"
    "myhostname = mx.relaytarget.test\n"
    "mydomain = relaytarget.test\n"
    "mydestination = relaytarget.test, mx.relaytarget.test, localhost\n"
    "mynetworks = 127.0.0.1/32\n"
    "disable_vrfy_command = yes\n"
    "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n";

/* Fake file reader: one table file. */
static int fake_read(void *ctx, const char *path, char **buf, size_t *len,
		     char *err, size_t errlen)
{
	(void)ctx;
	if (strcmp(path, "/etc/postfix/senders") == 0) {
		const char *t = "# x\nrelaytarget.test OK\nbad.example REJECT\n";
		*buf = strdup(t);
		*len = strlen(t);
		return *buf ? 0 : -1;
	}
	snprintf(err, errlen, "%s: cannot open: No such file", path);
	return -1;
}

static const struct cfg_io io = {fake_read, NULL};

static enum verdict eval(const char *extra, const char *master,
			 const char *client, struct cfg_report *r)
{
	struct pf_conf c = {0};
	parse_main_ok(&c, base);
	if (extra)
		parse_main_ok(&c, extra);
	if (master)
		parse_master_ok(&c, master);
	struct cfg_options o = {.client = client};
	char err[256] = "";
	memset(r, 0, sizeof(*r));
	if (pf_evaluate(&c, &io, &o, r, err, sizeof(err)) != 0)
		fail_msg("evaluate: %s", err);
	pf_conf_free(&c);
	return r->verdict;
}

static const struct cfg_finding *find(const struct cfg_report *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].id, id) == 0)
			return &r->v[i];
	return NULL;
}

static void test_policy_closed(void **state)
{
	(void)state;
	struct cfg_report r;
	assert_int_equal(eval(NULL, NULL, NULL, &r), V_CLOSED);
	assert_int_equal(r.n, 0);
	cfg_report_free(&r);
	/* The client outside mynetworks changes nothing. */
	assert_int_equal(eval(NULL, NULL, "127.0.0.2", &r), V_CLOSED);
	cfg_report_free(&r);
}

static void test_policy_mynetworks(void **state)
{
	(void)state;
	struct cfg_report r;
	assert_int_equal(eval("mynetworks = 0.0.0.0/0\n", NULL, NULL, &r), V_OPEN);
	const struct cfg_finding *f = find(&r, "mynetworks-open");
	assert_non_null(f);
	assert_int_equal(f->line, 1);
	assert_non_null(strstr(f->techniques, "T02"));
	assert_string_equal(f->fix, "mynetworks = 127.0.0.0/8 [::1]/128");
	cfg_report_free(&r);
	/* Loopback /8: fine from the internet, open from 127.0.0.2. */
	assert_int_equal(eval("mynetworks = 127.0.0.0/8\n", NULL, NULL, &r), V_CLOSED);
	cfg_report_free(&r);
	assert_int_equal(eval("mynetworks = 127.0.0.0/8\n", NULL, "127.0.0.2", &r), V_OPEN);
	assert_non_null(find(&r, "mynetworks-trusts-client"));
	cfg_report_free(&r);
	assert_int_equal(eval("mynetworks = 10.0.0.0/8, [2001:db8::]/32\n", NULL, NULL, &r), V_CLOSED);
	assert_non_null(find(&r, "mynetworks-private-range"));
	assert_non_null(find(&r, "mynetworks-public-range"));
	cfg_report_free(&r);
	/* Wide mynetworks, but permit_mynetworks is not in the lists. */
	assert_int_equal(eval("mynetworks = 0.0.0.0/0\n"
			      "smtpd_relay_restrictions = reject_unauth_destination\n",
			      NULL, NULL, &r), V_CLOSED);
	assert_null(find(&r, "mynetworks-open"));
	cfg_report_free(&r);
	/* Unset mynetworks with the old style default. */
	struct pf_conf c = {0};
	parse_main_ok(&c, "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n");
	char err[128];
	memset(&r, 0, sizeof(r));
	assert_int_equal(pf_evaluate(&c, &io, NULL, &r, err, sizeof(err)), 0);
	assert_int_equal(r.verdict, V_CLOSED);
	assert_non_null(find(&r, "mynetworks-style"));
	cfg_report_free(&r);
	pf_conf_free(&c);
}

static void test_policy_lists(void **state)
{
	(void)state;
	struct cfg_report r;
	assert_int_equal(eval("smtpd_relay_restrictions = check_sender_access "
			      "inline:{relaytarget.test=OK, <>=OK}, reject_unauth_destination\n",
			      NULL, NULL, &r), V_OPEN);
	const struct cfg_finding *f = find(&r, "relay-sender-access");
	assert_non_null(f);
	assert_string_equal(f->techniques, "T01,T03,T04");
	assert_string_equal(f->fix, "smtpd_relay_restrictions = reject_unauth_destination, "
			    "check_sender_access inline:{relaytarget.test=OK, <>=OK}");
	cfg_report_free(&r);
	assert_int_equal(eval("smtpd_relay_restrictions = check_helo_access "
			      "inline:{mx.relaytarget.test=OK}, reject_unauth_destination\n",
			      NULL, NULL, &r), V_OPEN);
	assert_string_equal(find(&r, "relay-helo-access")->techniques, "T09");
	cfg_report_free(&r);
	/* REJECT entries do not permit. */
	assert_int_equal(eval("smtpd_relay_restrictions = check_sender_access "
			      "inline:{relaytarget.test=REJECT}, reject_unauth_destination\n",
			      NULL, NULL, &r), V_CLOSED);
	cfg_report_free(&r);
	/* A file table, read through cfg_io. */
	assert_int_equal(eval("smtpd_relay_restrictions = check_sender_access "
			      "hash:/etc/postfix/senders, reject_unauth_destination\n",
			      NULL, NULL, &r), V_OPEN);
	cfg_report_free(&r);
	/* A table that cannot be read: suspect. */
	assert_int_equal(eval("smtpd_relay_restrictions = check_sender_access "
			      "hash:/nonexistent, reject_unauth_destination\n",
			      NULL, NULL, &r), V_SUSPECT);
	assert_non_null(find(&r, "relay-access-unverifiable"));
	cfg_report_free(&r);
	/* A permit in the recipient list behind a refusing relay list. */
	assert_int_equal(eval("smtpd_recipient_restrictions = check_sender_access "
			      "inline:{relaytarget.test=OK}, reject_unauth_destination\n",
			      NULL, NULL, &r), V_CLOSED);
	f = find(&r, "relay-sender-access");
	assert_non_null(f);
	assert_int_equal(f->sev, SEV_WARNING);
	cfg_report_free(&r);
	/* A plain permit ends the list: with nothing refusing elsewhere,
	 * Postfix refuses the configuration. */
	assert_int_equal(eval("smtpd_relay_restrictions = permit_mynetworks, permit, "
			      "reject_unauth_destination\n", NULL, NULL, &r), V_INCONCLUSIVE);
	assert_non_null(find(&r, "no-relay-restriction"));
	cfg_report_free(&r);
	assert_int_equal(eval("smtpd_relay_restrictions = permit_mynetworks, permit\n"
			      "smtpd_recipient_restrictions = reject_unauth_destination\n",
			      NULL, NULL, &r), V_CLOSED);
	assert_int_equal(find(&r, "relay-permit")->sev, SEV_WARNING);
	cfg_report_free(&r);
	/* Client access with --client. */
	assert_int_equal(eval("smtpd_relay_restrictions = check_client_access "
			      "inline:{127.0.0=OK}, reject_unauth_destination\n",
			      NULL, "127.0.0.2", &r), V_OPEN);
	cfg_report_free(&r);
	assert_int_equal(eval("relay_domains = com\n", NULL, NULL, &r), V_OPEN);
	assert_non_null(find(&r, "relay-domains-too-broad"));
	cfg_report_free(&r);
	/* warn_if_reject only warns; static:OK matches any HELO. */
	assert_int_equal(eval("smtpd_relay_restrictions = warn_if_reject reject_unauth_destination, "
			      "check_helo_access static:OK, reject_unauth_destination\n",
			      NULL, NULL, &r), V_OPEN);
	cfg_report_free(&r);
}

static size_t count_id(const struct cfg_report *r, const char *id)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += strcmp(r->v[i].id, id) == 0;
	return n;
}

/* Found by fuzzing (fuzz/corpus/postfix_conf/slow-relay-domains-expansion):
 * $parameter references that double a value at each level make
 * relay_domains and mydestination lists of thousands of items, and each
 * relay domain was looked up by splitting mydestination again (13 s for
 * a 1 KB input). Lookups are sorted now, and each domain is looked at
 * once however often the list repeats it. */
static void test_policy_expanded_lists(void **state)
{
	(void)state;
	struct cfg_report r;
	/* One finding per parameter line, naming the first broad domain. */
	assert_int_equal(eval("relay_domains = relaytarget.test, com, .net, COM, "
			      "com, .net\n",
			      NULL, NULL, &r), V_OPEN);
	assert_int_equal(count_id(&r, "relay-domains-too-broad"), 1);
	assert_non_null(strstr(find(&r, "relay-domains-too-broad")->message,
			       "'com'"));
	cfg_report_free(&r);

	/* 2^9 copies of "com local" in relay_domains; "local" is in
	 * mydestination (itself 2^9 items long), "com" is not. (Nine levels:
	 * expansion stops at PF_MAX_EXPANSION_STEPS references.) */
	char cfg[2048];
	size_t o = 0;
	o += (size_t)snprintf(cfg + o, sizeof(cfg) - o, "p0 = com local\n");
	for (int i = 1; i <= 9; i++)
		o += (size_t)snprintf(cfg + o, sizeof(cfg) - o,
				      "p%d = $p%d $p%d\n", i, i - 1, i - 1);
	o += (size_t)snprintf(cfg + o, sizeof(cfg) - o,
			      "q0 = local\n");
	for (int i = 1; i <= 9; i++)
		o += (size_t)snprintf(cfg + o, sizeof(cfg) - o,
				      "q%d = $q%d, $q%d\n", i, i - 1, i - 1);
	snprintf(cfg + o, sizeof(cfg) - o,
		 "relay_domains = $p9\nmydestination = $q9\n");
	assert_int_equal(eval(cfg, NULL, NULL, &r), V_OPEN);
	assert_int_equal(count_id(&r, "relay-domains-too-broad"), 1);
	assert_non_null(strstr(find(&r, "relay-domains-too-broad")->message,
			       "'com'"));
	cfg_report_free(&r);
}

/* Evaluates main.cf text (after base when with_base) and expects the
 * evaluation to fail with an error containing want. */
static void expect_eval_error(bool with_base, const char *text,
			      const char *want)
{
	struct pf_conf c = {0};
	if (with_base)
		parse_main_ok(&c, base);
	parse_main_ok(&c, text);
	struct cfg_options o = {0};
	struct cfg_report r = {0};
	char err[256] = "";
	assert_int_equal(pf_evaluate(&c, &io, &o, &r, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s'", err, want);
	cfg_report_free(&r);
	pf_conf_free(&c);
}

/* A $parameter loop is named as such, not reported as out of memory. */
static void test_policy_expansion_loop(void **state)
{
	(void)state;
	expect_eval_error(true,
			  "myhostname = $a\na = $b\nb = $a\n"
			  "mydestination = $myhostname, localhost\n",
			  "cannot expand myhostname: a $parameter loop");
}

/* Found by fuzzing (fuzz/corpus/postfix_conf/slow-compat-level-recursion):
 * compatibility_level decides relay_domains' default, and expanding it
 * started a fresh reference budget at every level, so this looped 3^20
 * times (it never finished). It now spends the caller's budget. */
static void test_policy_compat_level_recursion(void **state)
{
	(void)state;
	expect_eval_error(false,
			  "compatibility_level = "
			  "$relay_domains$relay_domains$relay_domains\n"
			  "smtpd_relay_restrictions = permit_mynetworks, "
			  "reject_unauth_destination\n",
			  "cannot expand relay_domains");
}

static void test_policy_master_and_other(void **state)
{
	(void)state;
	struct cfg_report r;
	assert_int_equal(eval("smtpd_banner = $myhostname ESMTP $mail_name $mail_version\n"
			      "smtpd_sasl_auth_enable = yes\n"
			      "allow_percent_hack = yes\n",
			      "smtp inet n - y - - smtpd\n"
			      "submission inet n - y - - smtpd\n"
			      "  -o mynetworks=0.0.0.0/0\n"
			      "  -o smtpd_tls_auth_only=yes\n",
			      NULL, &r), V_OPEN);
	const struct cfg_finding *f = find(&r, "mynetworks-open");
	assert_non_null(f);
	assert_string_equal(f->file, "master.cf");
	assert_int_equal(f->line, 2);
	assert_string_equal(f->service, "submission/inet");
	/* master.cf splits at blanks: the brace form. */
	assert_string_equal(f->fix, "-o { mynetworks = 127.0.0.0/8 [::1]/128 }");
	f = find(&r, "version-disclosed");
	assert_non_null(f);
	assert_string_equal(f->service, "smtp/inet,submission/inet");
	f = find(&r, "auth-without-tls");
	assert_non_null(f);
	assert_string_equal(f->service, "smtp/inet"); /* submission has TLS-only */
	assert_non_null(find(&r, "percent-hack"));
	cfg_report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_main_lines),
	    cmocka_unit_test(test_main_errors),
	    cmocka_unit_test(test_master),
	    cmocka_unit_test(test_postconf_P),
	    cmocka_unit_test(test_expand),
	    cmocka_unit_test(test_policy_closed),
	    cmocka_unit_test(test_policy_mynetworks),
	    cmocka_unit_test(test_policy_lists),
	    cmocka_unit_test(test_policy_master_and_other),
	    cmocka_unit_test(test_policy_expanded_lists),
	    cmocka_unit_test(test_policy_expansion_loop),
	    cmocka_unit_test(test_policy_compat_level_recursion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
