/* Unit tests for config/exim_conf (the configuration reader: options,
 * lists, ACLs, continuation lines, macros, .include) and
 * config/exim_policy (the RCPT ACL walk). Also: every config-check finding
 * id is documented in the README. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/exim_conf.h"
#include "config/exim_policy.h"

/* Fake files for .include. */
static int fake_read(void *ctx, const char *path, char **buf, size_t *len,
		     char *err, size_t errlen)
{
	(void)ctx;
	static const struct {
		const char *path, *text;
	} files[] = {
	    {"/etc/exim4/conf.d/main", "hostlist relay_from_hosts = <; 127.0.0.1 ; ::1\n"},
	    {"/etc/exim4/loop1", ".include /etc/exim4/loop2\n"},
	    {"/etc/exim4/loop2", "qualify_domain = x\n.include /etc/exim4/loop1\n"},
	    {"/etc/exim4/self", ".include /etc/exim4/self\n"},
	    {"/etc/exim4/rel", "keep_environment =\n"},
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (strcmp(path, files[i].path) == 0) {
			*buf = strdup(files[i].text);
			*len = strlen(files[i].text);
			return *buf ? 0 : -1;
		}
	snprintf(err, errlen, "%s: cannot open: No such file or directory", path);
	return -1;
}

static const struct cfg_io io = {fake_read, NULL};

#define ACL_DEFAULT \
    "acl_smtp_rcpt = acl_check_rcpt\n" \
    "primary_hostname = mx.relaytarget.test\n" \
    "domainlist local_domains = relaytarget.test : mx.relaytarget.test\n" \
    "domainlist relay_to_domains =\n" \
    "hostlist relay_from_hosts = 127.0.0.1\n" \
    "smtp_banner = $smtp_active_hostname ESMTP\n" \
    "begin acl\n" \
    "acl_check_rcpt:\n" \
    "%s" \
    "  accept  hosts         = :\n" \
    "  deny    message       = Restricted characters in address\n" \
    "          domains       = +local_domains\n" \
    "          local_parts   = ^[.] : ^.*[@%%!/|]\n" \
    "  deny    message       = Restricted characters in address\n" \
    "          domains       = !+local_domains\n" \
    "          local_parts   = ^[./|] : ^.*[@%%!] : ^.*/\\\\.\\\\./\n" \
    "  accept  local_parts   = postmaster\n" \
    "          domains       = +local_domains\n" \
    "  require verify        = sender\n" \
    "  accept  hosts         = +relay_from_hosts\n" \
    "          control       = submission\n" \
    "  accept  authenticated = *\n" \
    "          control       = submission\n" \
    "  require message       = relay not permitted\n" \
    "          domains       = +local_domains : +relay_to_domains\n" \
    "  require verify        = recipient\n" \
    "  accept\n" \
    "begin routers\n" \
    "sink:\n" \
    "  driver = manualroute\n"

static int parse(struct ex_conf *c, const char *text, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	return ex_parse(c, text, strlen(text), "exim.conf", &io, err, errlen);
}

static enum verdict eval(const char *pre_main, const char *rcpt_top,
			 const char *client, struct cfg_report *r)
{
	char text[8192];
	char body[6000];
	snprintf(body, sizeof(body), ACL_DEFAULT, rcpt_top ? rcpt_top : "");
	snprintf(text, sizeof(text), "%s%s", pre_main ? pre_main : "", body);
	struct ex_conf c;
	char err[256] = "";
	if (parse(&c, text, err, sizeof(err)) != 0)
		fail_msg("parse: %s", err);
	struct cfg_options o = {.client = client};
	memset(r, 0, sizeof(*r));
	if (ex_evaluate(&c, &o, r, err, sizeof(err)) != 0)
		fail_msg("evaluate: %s", err);
	ex_conf_free(&c);
	return r->verdict;
}

static const struct cfg_finding *find(const struct cfg_report *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].id, id) == 0)
			return &r->v[i];
	return NULL;
}

static void test_parse(void **state)
{
	(void)state;
	struct ex_conf c;
	char err[256] = "";
	const char *t = "# comment\n"
			"MAIN_NETS = 127.0.0.1 : \\\n"
			"   ::::1\n"
			"hostlist relay_from_hosts = MAIN_NETS\n"
			".ifdef FOO\n"
			"no_queue_only\n"
			".endif\n"
			".include /etc/exim4/rel\n"
			"begin acl\n"
			"check:\n"
			"  accept hosts = +relay_from_hosts\n"
			"         !senders = :\n"
			"  deny\n";
	assert_int_equal(parse(&c, t, err, sizeof(err)), 0);
	const struct ex_option *o = ex_option(&c, "relay_from_hosts");
	assert_non_null(o);
	assert_string_equal(o->kind, "hostlist");
	assert_string_equal(o->value, "127.0.0.1 : ::::1");
	assert_int_equal(o->line, 4);
	assert_string_equal(ex_option(&c, "no_queue_only")->value, "true");
	assert_non_null(ex_option(&c, "keep_environment"));
	assert_string_equal(ex_option(&c, "keep_environment")->file, "/etc/exim4/rel");
	const struct ex_acl *a = ex_acl(&c, "check");
	assert_non_null(a);
	assert_int_equal(a->ns, 2);
	assert_string_equal(a->s[0].verb, "accept");
	assert_int_equal(a->s[0].line, 11);
	assert_int_equal(a->s[0].nc, 2);
	assert_string_equal(a->s[0].c[1].name, "senders");
	assert_true(a->s[0].c[1].neg);
	assert_string_equal(c.files, "exim.conf, /etc/exim4/rel");
	ex_conf_free(&c);
}

static void expect_error(const char *text, size_t len, const char *part)
{
	struct ex_conf c = {0};
	char err[256] = "";
	assert_int_equal(ex_parse(&c, text, len, "exim.conf", &io, err, sizeof(err)), -1);
	if (!strstr(err, part))
		fail_msg("error '%s' lacks '%s'", err, part);
	ex_conf_free(&c);
}

/* For texts without NUL bytes. */
#define EXPECT_ERROR(text, part) expect_error(text, strlen(text), part)

static void test_parse_errors(void **state)
{
	(void)state;
	EXPECT_ERROR("a = b\n.include /etc/exim4/self\n", "/etc/exim4/self:1: .include loop");
	EXPECT_ERROR(".include /etc/exim4/loop1\n", "/etc/exim4/loop2:2: .include loop");
	EXPECT_ERROR("a = 1\n.include /nope\n", "exim.conf:2: .include: /nope: cannot open");
	const char *ok_if = ".include_if_exists /nope\na = 1\n";
	struct ex_conf c = {0};
	char err[256];
	assert_int_equal(ex_parse(&c, ok_if, strlen(ok_if), "exim.conf", &io, err, sizeof(err)), 0);
	ex_conf_free(&c);
	EXPECT_ERROR("a = 1\nb = \x02\n", "exim.conf:2: binary data");
	expect_error("a = b\0\n", 7, "exim.conf:1: binary data");
	EXPECT_ERROR("!!! nonsense\n", "exim.conf:1: not an Exim option line");
	EXPECT_ERROR("begin acl\n  accept hosts = *\n", "exim.conf:2: ACL statement outside an ACL");
	EXPECT_ERROR("begin acl\nx:\n  hosts = *\n", "exim.conf:3: ACL x: a condition before any verb");
	/* A macro that doubles on every line grows past the bound. */
	char big[4096];
	size_t k = (size_t)snprintf(big, sizeof(big), "M0 = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
	for (int i = 1; i < 20; i++)
		k += (size_t)snprintf(big + k, sizeof(big) - k, "M%d = M%d M%d\n", i, i - 1, i - 1);
	expect_error(big, k, "after macro expansion");
}

static void test_policy(void **state)
{
	(void)state;
	struct cfg_report r;
	assert_int_equal(eval(NULL, NULL, NULL, &r), V_CLOSED);
	assert_null(find(&r, "version-disclosed"));
	cfg_report_free(&r);
	assert_int_equal(eval(NULL, NULL, "127.0.0.2", &r), V_CLOSED);
	cfg_report_free(&r);
	/* relay_from_hosts holding everything (the later line wins). */
	assert_int_equal(eval(NULL, NULL, NULL, &r), V_CLOSED);
	cfg_report_free(&r);
	char text[256];
	snprintf(text, sizeof(text), "hostlist relay_from_hosts = <; 0.0.0.0/0 ; ::/0\n");
	/* Prepended options come before the default one, which wins: use
	 * an ACL line instead. */
	assert_int_equal(eval(NULL, "  accept hosts = *\n", NULL, &r), V_OPEN);
	assert_non_null(find(&r, "exim-accept-any-host"));
	assert_int_equal(find(&r, "exim-accept-any-host")->line, 9);
	cfg_report_free(&r);
	assert_int_equal(eval(NULL, "  accept senders = *@relaytarget.test : *@localhost\n", NULL, &r), V_OPEN);
	assert_string_equal(find(&r, "exim-accept-sender")->techniques, "T04,T07");
	cfg_report_free(&r);
	assert_int_equal(eval(NULL, "  accept senders = :\n", NULL, &r), V_OPEN);
	assert_string_equal(find(&r, "exim-accept-sender")->techniques, "T01");
	cfg_report_free(&r);
	assert_int_equal(eval(NULL, "  accept hosts = 127.0.0.0/8\n", "127.0.0.2", &r), V_OPEN);
	assert_non_null(find(&r, "exim-accept-client"));
	cfg_report_free(&r);
	assert_int_equal(eval(NULL, "  accept condition = ${if eq{$sender_host_address}{1.2.3.4}}\n",
			      NULL, &r), V_SUSPECT);
	assert_non_null(find(&r, "exim-accept-unverifiable"));
	cfg_report_free(&r);
	/* A deny of other domains first closes everything after it. */
	assert_int_equal(eval(NULL, "  deny domains = !+local_domains\n  accept hosts = *\n",
			      NULL, &r), V_CLOSED);
	cfg_report_free(&r);
	/* Authenticated users only: closed. */
	assert_int_equal(eval(NULL, "  accept authenticated = *\n", NULL, &r), V_CLOSED);
	cfg_report_free(&r);
	/* A relay_from_hosts defined twice: the last definition counts. */
	struct ex_conf c;
	char err[256];
	const char *t = "acl_smtp_rcpt = r\n"
			"hostlist relay_from_hosts = 127.0.0.1\n"
			"hostlist relay_from_hosts = <; 0.0.0.0/0 ; ::/0\n"
			"percent_hack_domains = *\n"
			"begin acl\nr:\n"
			"  accept hosts = +relay_from_hosts\n"
			"  deny\n";
	assert_int_equal(parse(&c, t, err, sizeof(err)), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ex_evaluate(&c, NULL, &r, err, sizeof(err)), 0);
	assert_int_equal(r.verdict, V_OPEN);
	const struct cfg_finding *f = find(&r, "exim-relay-from-hosts-open");
	assert_non_null(f);
	assert_int_equal(f->line, 3);
	assert_non_null(find(&r, "version-disclosed")); /* the default banner */
	assert_non_null(find(&r, "exim-percent-hack"));
	cfg_report_free(&r);
	ex_conf_free(&c);
	/* No RCPT ACL: Exim refuses every recipient. */
	t = "primary_hostname = x.example\n";
	assert_int_equal(parse(&c, t, err, sizeof(err)), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ex_evaluate(&c, NULL, &r, err, sizeof(err)), 0);
	assert_int_equal(r.verdict, V_CLOSED);
	assert_non_null(find(&r, "exim-no-rcpt-acl"));
	cfg_report_free(&r);
	ex_conf_free(&c);
	/* Inline ACL text: "accept" relays, "deny" refuses. */
	t = "acl_smtp_rcpt = accept\n";
	assert_int_equal(parse(&c, t, err, sizeof(err)), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ex_evaluate(&c, NULL, &r, err, sizeof(err)), 0);
	assert_int_equal(r.verdict, V_OPEN);
	assert_non_null(find(&r, "exim-accept-unconditional"));
	cfg_report_free(&r);
	ex_conf_free(&c);
	t = "acl_smtp_rcpt = deny\n";
	assert_int_equal(parse(&c, t, err, sizeof(err)), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ex_evaluate(&c, NULL, &r, err, sizeof(err)), 0);
	assert_int_equal(r.verdict, V_CLOSED);
	cfg_report_free(&r);
	ex_conf_free(&c);
	/* An ACL name that does not exist: an error. */
	t = "acl_smtp_rcpt = nothere\n";
	assert_int_equal(parse(&c, t, err, sizeof(err)), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ex_evaluate(&c, NULL, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exim.conf:1: acl_smtp_rcpt names 'nothere'"));
	cfg_report_free(&r);
	ex_conf_free(&c);
}

/* Every finding id is in the README's table (docs stay complete). */
static void test_ids_documented(void **state)
{
	(void)state;
	FILE *f = fopen(RP_SOURCE_DIR "/README.md", "r");
	assert_non_null(f);
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	size_t nid;
	const struct cfg_id *ids = cfg_ids(&nid);
	assert_true(nid >= 30);
	for (size_t i = 0; i < nid; i++) {
		char pat[80];
		snprintf(pat, sizeof(pat), "| `%s` |", ids[i].id);
		if (!strstr(buf, pat))
			fail_msg("finding id %s is not in README.md", ids[i].id);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_policy),
	    cmocka_unit_test(test_ids_documented),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
