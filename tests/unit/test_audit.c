/* audit/fingerprint and audit/advice. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/advice.h"
#include "audit/fingerprint.h"

static void detect(const char *text, enum mta want, const char *version)
{
	const char *texts[] = {text};
	const char *srcs[] = {"banner"};
	struct fingerprint fp;
	fingerprint_detect(texts, srcs, 1, &fp);
	assert_int_equal(fp.mta, want);
	assert_string_equal(fp.version, version);
}

static void fingerprints(void **state)
{
	(void)state;
	detect("mx.example.com ESMTP Postfix (Debian/GNU)", MTA_POSTFIX, "");
	detect("mx.example.com ESMTP Postfix 3.7.11", MTA_POSTFIX, "3.7.11");
	detect("mail.example.com ESMTP Exim 4.96 Sat, 28 Nov 2026 15:00:00 +0000",
	       MTA_EXIM, "4.96");
	detect("mail.example.com ESMTP Sendmail 8.15.2/8.15.2; Sat, 28 Nov 2026",
	       MTA_SENDMAIL, "8.15.2");
	detect("mail.example.com ESMTP OpenSMTPD", MTA_OPENSMTPD, "");
	detect("EX01.corp.example Microsoft ESMTP MAIL Service ready at Sat, 28 Nov 2026",
	       MTA_EXCHANGE, "");
	detect("mail.example.com ESMTP Haraka/3.0.2 ready", MTA_HARAKA, "3.0.2");
	detect("mail.example.com ESMTP MDaemon 21.0.1; Sat", MTA_MDAEMON, "21.0.1");
	detect("mail.example.com ESMTP hMailServer", MTA_HMAILSERVER, "");
	detect("mail.example.com ESMTP Postfix - Zimbra", MTA_ZIMBRA, "");
	detect("mail.example.com Courier mail server ready", MTA_COURIER, "");
	detect("mail.example.com ESMTP", MTA_UNKNOWN, "");
	/* qmail: bare banner, but "(#5.x.y)" reply codes. */
	const char *texts[] = {"mail.example.com ESMTP",
			       "sorry, that domain isn't in my list of allowed "
			       "rcpthosts (#5.7.1)"};
	struct fingerprint fp;
	fingerprint_detect(texts, NULL, 2, &fp);
	assert_int_equal(fp.mta, MTA_QMAIL);
	assert_string_equal(mta_id(MTA_EXCHANGE), "exchange");
	assert_string_equal(mta_name(MTA_OPENSMTPD), "OpenSMTPD");
}

static void advice(void **state)
{
	(void)state;
	const struct advice_entry *e = advice_find("open-relay");
	assert_non_null(e);
	assert_non_null(strstr(advice_fix(e, MTA_POSTFIX),
			       "reject_unauth_destination"));
	assert_non_null(strstr(advice_fix(e, MTA_EXIM), "relay_from_hosts"));
	assert_string_equal(advice_fix(e, MTA_UNKNOWN), e->general);
	assert_null(advice_find("no-such-finding"));
	size_t n;
	const struct advice_entry *all = advice_all(&n);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(all[i].title);
		for (size_t k = i + 1; k < n; k++)
			assert_string_not_equal(all[i].id, all[k].id);
	}
}

/* Every finding id the code can emit has a catalogue entry: scan the
 * sources for findings_add(..., "id", ...). */
static void every_emitted_id_is_catalogued(void **state)
{
	(void)state;
	static const char *const files[] = {
	    "src/relay/verdict.c", "src/check/check.c", "src/check/server.c",
	    "src/audit/audit.c"};
	size_t checked = 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", RP_SOURCE_DIR, files[i]);
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		char line[1024];
		bool pending = false;
		while (fgets(line, sizeof(line), f)) {
			/* Call sites only: "findings_add(&..." or "(f, ". */
			char *p = strstr(line, "findings_add(&");
			if (!p)
				p = strstr(line, "findings_add(f,");
			if (p)
				pending = true;
			if (!pending)
				continue;
			char *q = strchr(p ? p : line, '"');
			if (!q)
				continue;
			char *end = strchr(q + 1, '"');
			assert_non_null(end);
			*end = '\0';
			if (!advice_find(q + 1))
				fail_msg("finding id '%s' (%s) has no catalogue "
					 "entry", q + 1, files[i]);
			checked++;
			pending = false;
		}
		fclose(f);
	}
	assert_true(checked >= 25);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fingerprints),
	    cmocka_unit_test(advice),
	    cmocka_unit_test(every_emitted_id_is_catalogued),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
