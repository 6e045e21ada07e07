/* Unit tests for relay/classify on reply texts real servers send. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "relay/classify.h"

static void parse_reply(const char *s, struct smtp_reply *r)
{
	char err[128] = "";
	if (smtp_reply_parse_one(s, strlen(s), r, err, sizeof(err)) != 0)
		fail_msg("cannot parse '%s': %s", s, err);
}

/* Classifies the single reply s (CRLF appended) at RCPT or MAIL and checks
 * outcome and reason. */
static void check(const char *s, bool at_mail, enum outcome want_o,
		  enum reason want_r)
{
	char buf[512];
	size_t n = strlen(s);
	assert_true(n + 3 <= sizeof(buf));
	memcpy(buf, s, n);
	memcpy(buf + n, "\r\n", 3);
	struct smtp_reply r;
	parse_reply(buf, &r);
	struct classification c;
	memset(&c, 0xa5, sizeof(c));
	classify_reply(&r, at_mail, &c);
	smtp_reply_clear(&r); /* before any failure: no leak under ASan */
	if (c.outcome != want_o || c.reason != want_r)
		fail_msg("'%s' at %s: got %s/%s, want %s/%s", s,
			 at_mail ? "MAIL" : "RCPT", outcome_name(c.outcome),
			 reason_name(c.reason), outcome_name(want_o),
			 reason_name(want_r));
	assert_int_equal(c.at_mail, at_mail);
}

static void rcpt(const char *s, enum outcome o, enum reason r)
{
	check(s, false, o, r);
}

static void relay_denied(void **state)
{
	(void)state;
	/* Postfix reject_unauth_destination. */
	rcpt("554 5.7.1 <x@gmail.com>: Relay access denied", OUT_REJECTED,
	     R_RELAY_DENIED);
	/* Debian default defer_unauth_destination: a refusal, not a delay. */
	rcpt("454 4.7.1 <x@gmail.com>: Relay access denied", OUT_REJECTED,
	     R_RELAY_DENIED);
	/* qmail. */
	rcpt("553 sorry, that domain isn't in my list of allowed rcpthosts "
	     "(#5.7.1)",
	     OUT_REJECTED, R_RELAY_DENIED);
	/* Exim. */
	rcpt("550 relay not permitted", OUT_REJECTED, R_RELAY_DENIED);
	rcpt("550 5.7.1 relay not permitted", OUT_REJECTED, R_RELAY_DENIED);
	/* Sendmail. */
	rcpt("550 5.7.1 <x@gmail.com>... Relaying denied", OUT_REJECTED,
	     R_RELAY_DENIED);
	/* Exchange. */
	rcpt("550 5.7.54 SMTP; Unable to relay recipient in non-accepted "
	     "domain",
	     OUT_REJECTED, R_RELAY_DENIED);
	/* No text, only X.7.1. */
	rcpt("550 5.7.1 Message refused", OUT_REJECTED, R_RELAY_DENIED);
	/* Multi-line: the word may be on a later line. */
	check("550-5.7.1 Sorry\r\n550 5.7.1 relaying not allowed", false,
	      OUT_REJECTED, R_RELAY_DENIED);
}

static void deferred(void **state)
{
	(void)state;
	rcpt("450 4.2.0 <x>: Recipient address rejected: Greylisted, see "
	     "http://postgrey.schweikert.ch/help/example.com.html",
	     OUT_DEFERRED, R_GREYLISTED);
	rcpt("450 4.7.1 <x>: Recipient address rejected: Greylisted for 300 "
	     "seconds",
	     OUT_DEFERRED, R_GREYLISTED);
	rcpt("451 4.7.1 Please try again later", OUT_DEFERRED, R_TEMPORARY);
	rcpt("451 Temporary local problem - please try later", OUT_DEFERRED,
	     R_TEMPORARY);
	rcpt("452 4.5.3 Too many recipients", OUT_DEFERRED, R_TEMPORARY);
	/* A 5xx is never a delay, whatever its text says about greylisting
	 * (fuzz/corpus/classify/crash-greylist-5xx, found by fuzzing). */
	rcpt("550 5.7.1 Relay access denied (greylisting is not the reason)",
	     OUT_REJECTED, R_RELAY_DENIED);
	rcpt("554 graylist policy refusal", OUT_REJECTED, R_POLICY);
	rcpt("421 4.7.0 mx.example.com Error: too many errors", OUT_DEFERRED,
	     R_TEMPORARY);
}

static void auth_and_tls(void **state)
{
	(void)state;
	rcpt("530 5.7.0 Must issue a STARTTLS command first", OUT_TLS_REQUIRED,
	     R_TLS);
	check("530 5.7.0 Must issue a STARTTLS command first", true,
	      OUT_TLS_REQUIRED, R_TLS);
	rcpt("530 Must issue a STARTTLS command first", OUT_TLS_REQUIRED,
	     R_TLS);
	rcpt("530 5.7.0 Authentication required", OUT_AUTH_REQUIRED, R_AUTH);
	check("530 5.7.0 Authentication required", true, OUT_AUTH_REQUIRED,
	      R_AUTH);
	rcpt("530 5.7.1 Client was not authenticated", OUT_AUTH_REQUIRED,
	     R_AUTH);
	rcpt("538 5.7.11 Encryption required", OUT_TLS_REQUIRED, R_TLS);
	/* 5.7.11 with another code. */
	rcpt("554 5.7.11 Encryption required for requested authentication "
	     "mechanism",
	     OUT_TLS_REQUIRED, R_TLS);
	/* 5.7.0 with "auth" in the text, not 530. */
	rcpt("550 5.7.0 Authentication required to send mail",
	     OUT_AUTH_REQUIRED, R_AUTH);
}

static void recipient_problems(void **state)
{
	(void)state;
	rcpt("550 5.1.1 <x>: Recipient address rejected: User unknown in "
	     "local recipient table",
	     OUT_REJECTED, R_UNKNOWN_USER);
	rcpt("550 5.1.1 <nobody@example.com>: Recipient address rejected: "
	     "User unknown in virtual mailbox table",
	     OUT_REJECTED, R_UNKNOWN_USER);
	rcpt("550 No such user here", OUT_REJECTED, R_UNKNOWN_USER);
	rcpt("556 5.1.10 <admin@example.com>: Recipient address rejected: "
	     "Domain example.com does not accept mail (nullMX)",
	     OUT_REJECTED, R_BAD_DOMAIN);
	rcpt("550 5.1.2 Host unknown", OUT_REJECTED, R_BAD_DOMAIN);
	rcpt("501 5.1.3 Bad recipient address syntax", OUT_REJECTED,
	     R_SYNTAX);
	rcpt("553 5.1.3 Bad recipient address syntax", OUT_REJECTED, R_SYNTAX);
	rcpt("501 Syntax error in parameters or arguments", OUT_REJECTED,
	     R_SYNTAX);
	rcpt("553 5.5.4 Invalid address", OUT_REJECTED, R_SYNTAX);
	rcpt("550 5.7.0 Message rejected by policy", OUT_REJECTED, R_POLICY);
	rcpt("554 Transaction failed", OUT_REJECTED, R_POLICY);
}

static void client_blocked(void **state)
{
	(void)state;
	rcpt("554 5.7.1 Service unavailable; Client host [1.2.3.4] blocked "
	     "using zen.spamhaus.org",
	     OUT_REJECTED, R_CLIENT_BLOCKED);
	rcpt("553 Blocked by PBL http://www.spamhaus.org/query/bl?ip=1.2.3.4",
	     OUT_REJECTED, R_CLIENT_BLOCKED);
	rcpt("450 4.7.1 Client host rejected: cannot find your reverse "
	     "hostname, [1.2.3.4]",
	     OUT_DEFERRED, R_CLIENT_BLOCKED);
	rcpt("554 5.7.1 <probe>: Helo command rejected: Host not found",
	     OUT_REJECTED, R_CLIENT_BLOCKED);
	check("554 5.7.1 Service unavailable; Client host [1.2.3.4] blocked "
	      "using zen.spamhaus.org",
	      true, OUT_REJECTED, R_CLIENT_BLOCKED);
}

static void sender_rejected(void **state)
{
	(void)state;
	/* Postfix delays sender restrictions to RCPT (smtpd_delay_reject). */
	rcpt("553 5.7.1 <a@b>: Sender address rejected: not owned by user",
	     OUT_REJECTED, R_SENDER_REJECTED);
	rcpt("450 4.1.8 <a@b>: Sender address rejected: Domain not found",
	     OUT_DEFERRED, R_SENDER_REJECTED);
	rcpt("550 5.7.27 <a@b>: Sender address rejected: Domain b does not "
	     "accept mail (nullMX)",
	     OUT_REJECTED, R_SENDER_REJECTED);
	/* At MAIL: a 5xx is a sender refusal whatever its words, even
	 * "relay". */
	check("550 5.7.1 Access denied", true, OUT_REJECTED,
	      R_SENDER_REJECTED);
	check("553 5.7.1 <a@b>: Sender address rejected: not owned by user",
	      true, OUT_REJECTED, R_SENDER_REJECTED);
	check("550 relaying prohibited for this sender", true, OUT_REJECTED,
	      R_SENDER_REJECTED);
	check("451 4.3.0 Temporary failure", true, OUT_DEFERRED, R_TEMPORARY);
}

static void accepted(void **state)
{
	(void)state;
	rcpt("250 2.1.5 Ok", OUT_ACCEPTED, R_NONE);
	rcpt("251 User not local; will forward to <x@gmail.com>", OUT_ACCEPTED,
	     R_NONE);
	check("250 2.1.0 Ok", true, OUT_ACCEPTED, R_NONE);
	/* "relay" in an acceptance does not matter. */
	rcpt("250 2.1.5 relay ok", OUT_ACCEPTED, R_NONE);

	struct smtp_reply none = {0};
	struct classification c;
	classify_reply(&none, false, &c);
	assert_int_equal(c.outcome, OUT_ERROR);
	assert_int_equal(c.reason, R_CONNECTION);
}

static void txn(const char *mail, const char *rcpt_s, enum outcome o,
		enum reason r, bool at_mail)
{
	struct smtp_reply m = {0}, rc = {0};
	if (mail)
		parse_reply(mail, &m);
	if (rcpt_s)
		parse_reply(rcpt_s, &rc);
	struct classification c;
	classify_txn(&m, &rc, &c);
	smtp_reply_clear(&m);
	smtp_reply_clear(&rc);
	if (c.outcome != o || c.reason != r || c.at_mail != at_mail)
		fail_msg("MAIL %s / RCPT %s: got %s/%s at_mail=%d, want "
			 "%s/%s at_mail=%d",
			 mail ? mail : "-", rcpt_s ? rcpt_s : "-",
			 outcome_name(c.outcome), reason_name(c.reason),
			 c.at_mail, outcome_name(o), reason_name(r), at_mail);
}

static void classify_transactions(void **state)
{
	(void)state;
	txn("250 2.1.0 Ok\r\n", "250 2.1.5 Ok\r\n", OUT_ACCEPTED, R_NONE,
	    false);
	txn("250 2.1.0 Ok\r\n", "554 5.7.1 <x@gmail.com>: Relay access "
				"denied\r\n",
	    OUT_REJECTED, R_RELAY_DENIED, false);
	/* MAIL refused decides, whatever RCPT says. */
	txn("553 5.1.8 <a@b>: Sender address rejected: Domain not found\r\n",
	    NULL, OUT_REJECTED, R_SENDER_REJECTED, true);
	txn("550 5.7.1 Access denied\r\n", "503 5.5.1 Error: need MAIL "
					   "command\r\n",
	    OUT_REJECTED, R_SENDER_REJECTED, true);
	txn("451 4.3.0 Try later\r\n", NULL, OUT_DEFERRED, R_TEMPORARY, true);
	txn("530 5.7.0 Must issue a STARTTLS command first\r\n", NULL,
	    OUT_TLS_REQUIRED, R_TLS, true);
	/* RCPT never answered. */
	txn("250 2.1.0 Ok\r\n", NULL, OUT_ERROR, R_CONNECTION, false);
	/* MAIL never answered. */
	txn(NULL, NULL, OUT_ERROR, R_CONNECTION, true);
}

static void refusal_truth_table(void **state)
{
	(void)state;
	static const struct {
		enum reason r;
		bool plain, trick;
	} cases[] = {
	    {R_NONE, false, false},
	    {R_RELAY_DENIED, true, true},
	    {R_UNKNOWN_USER, true, true},
	    {R_BAD_DOMAIN, true, true},
	    {R_SYNTAX, true, true},
	    {R_SENDER_REJECTED, false, true},
	    {R_CLIENT_BLOCKED, false, false},
	    {R_POLICY, true, true},
	    {R_GREYLISTED, false, false},
	    {R_TEMPORARY, false, false},
	    {R_AUTH, false, false},
	    {R_TLS, false, false},
	    {R_CONNECTION, false, false},
	    {R_NOT_APPLICABLE, false, false},
	};
	assert_int_equal(sizeof(cases) / sizeof(cases[0]), R_LAST);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (reason_is_refusal(cases[i].r, false) != cases[i].plain ||
		    reason_is_refusal(cases[i].r, true) != cases[i].trick)
			fail_msg("reason_is_refusal(%s) wrong",
				 reason_name(cases[i].r));
	}
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(outcome_name(OUT_ACCEPTED), "accepted");
	assert_string_equal(outcome_name(OUT_REJECTED), "rejected");
	assert_string_equal(outcome_name(OUT_DEFERRED), "deferred");
	assert_string_equal(outcome_name(OUT_AUTH_REQUIRED), "auth-required");
	assert_string_equal(outcome_name(OUT_TLS_REQUIRED), "tls-required");
	assert_string_equal(outcome_name(OUT_ERROR), "error");
	assert_string_equal(outcome_name(OUT_SKIPPED), "skipped");
	assert_string_equal(outcome_name(OUT_LAST), "?");
	assert_string_equal(outcome_name((enum outcome)-1), "?");

	assert_string_equal(reason_name(R_NONE), "none");
	assert_string_equal(reason_name(R_RELAY_DENIED), "relay-denied");
	assert_string_equal(reason_name(R_UNKNOWN_USER), "unknown-user");
	assert_string_equal(reason_name(R_BAD_DOMAIN), "bad-recipient-domain");
	assert_string_equal(reason_name(R_SYNTAX), "syntax");
	assert_string_equal(reason_name(R_SENDER_REJECTED), "sender-rejected");
	assert_string_equal(reason_name(R_CLIENT_BLOCKED), "client-blocked");
	assert_string_equal(reason_name(R_GREYLISTED), "greylisted");
	assert_string_equal(reason_name(R_TLS), "tls-required");
	assert_string_equal(reason_name(R_AUTH), "auth-required");
	assert_string_equal(reason_name(R_LAST), "?");
	for (int i = 0; i < R_LAST; i++) {
		assert_non_null(reason_name((enum reason)i));
		assert_string_not_equal(reason_name((enum reason)i), "?");
	}
}

/* Regression: a server echoing relaytest@... is not saying "relay". */
static void echoed_relaytest_temp_failure(void **state)
{
	(void)state;
	rcpt("451 4.3.0 <relaytest@gmail.com>: Temporary lookup failure",
	     OUT_DEFERRED, R_TEMPORARY);
}

/* Regression: same, for an unknown user behind a routing form. */
static void echoed_relaytest_unknown_user(void **state)
{
	(void)state;
	rcpt("550 5.1.1 <relaytest%gmail.com@[192.0.2.1]>: Recipient address "
	     "rejected: User unknown in local recipient table",
	     OUT_REJECTED, R_UNKNOWN_USER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(relay_denied),
	    cmocka_unit_test(deferred),
	    cmocka_unit_test(auth_and_tls),
	    cmocka_unit_test(recipient_problems),
	    cmocka_unit_test(client_blocked),
	    cmocka_unit_test(sender_rejected),
	    cmocka_unit_test(accepted),
	    cmocka_unit_test(classify_transactions),
	    cmocka_unit_test(refusal_truth_table),
	    cmocka_unit_test(names),
	    cmocka_unit_test(echoed_relaytest_temp_failure),
	    cmocka_unit_test(echoed_relaytest_unknown_user),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
