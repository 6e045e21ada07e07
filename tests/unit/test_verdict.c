/* Unit tests for relay/verdict: verdicts from hand-built results. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "relay/verdict.h"

#define MAXR 32

struct fixture {
	struct test_result tests[MAXR];
	size_t ntests;
	struct test_result controls[MAXR];
	size_t ncontrols;
	struct findings f;
	enum verdict v;
	char *why;
	bool confirmed;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	for (size_t i = 0; i < fx->ntests; i++)
		test_result_clear(&fx->tests[i]);
	for (size_t i = 0; i < fx->ncontrols; i++)
		test_result_clear(&fx->controls[i]);
	findings_clear(&fx->f);
	free(fx->why);
	free(fx);
	return 0;
}

/* Fills r as the result of technique id whose deciding reply is the RCPT
 * reply text (CRLF-terminated), classified as the check would. */
static void from_reply(struct test_result *r, const char *id,
		       const char *reply)
{
	memset(r, 0, sizeof(*r));
	r->t = technique_find(id);
	assert_non_null(r->t);
	r->mail_from = rp_strdup("<relayprobe@gmail.com>");
	r->rcpt_to = rp_strdup(strcmp(id, "impossible") == 0
				? "<rpabcdefghij@rpabcdefghij.invalid>"
				: "<relaytest@gmail.com>");
	r->session = 1;
	char err[128] = "";
	if (smtp_reply_parse_one(reply, strlen(reply), &r->reply, err,
				 sizeof(err)) != 0)
		fail_msg("cannot parse '%s': %s", reply, err);
	classify_reply(&r->reply, false, &r->c);
}

/* Fills r with an outcome and reason set directly (no reply). */
static void direct(struct test_result *r, const char *id, enum outcome o,
		   enum reason why)
{
	memset(r, 0, sizeof(*r));
	r->t = technique_find(id);
	assert_non_null(r->t);
	r->rcpt_to = rp_strdup("<x@y>");
	r->c.outcome = o;
	r->c.reason = why;
}

static struct test_result *add_test(struct fixture *fx)
{
	assert_true(fx->ntests < MAXR);
	return &fx->tests[fx->ntests++];
}

static struct test_result *add_control(struct fixture *fx)
{
	assert_true(fx->ncontrols < MAXR);
	return &fx->controls[fx->ncontrols++];
}

static const char *const ACCEPT = "250 2.1.5 Ok\r\n";
static const char *const DENY = "554 5.7.1 <x@gmail.com>: Relay access "
				"denied\r\n";
static const char *const DENY454 = "454 4.7.1 <x@gmail.com>: Relay access "
				   "denied\r\n";
static const char *const UNKNOWN = "550 5.1.1 <x>: Recipient address "
				   "rejected: User unknown in local "
				   "recipient table\r\n";
static const char *const GREY = "450 4.2.0 <x>: Recipient address "
				"rejected: Greylisted, see "
				"http://postgrey.example/\r\n";

/* Every technique except T25 with the same reply. */
static void all_techniques(struct fixture *fx, const char *reply)
{
	size_t n;
	const struct technique *t = technique_list(&n);
	for (size_t i = 0; i < n; i++) {
		if (t[i].needs_mailbox)
			continue;
		from_reply(add_test(fx), t[i].id, reply);
	}
}

static void controls(struct fixture *fx, const char *positive,
		     const char *positive_bare, const char *impossible,
		     const char *random_local)
{
	if (positive)
		from_reply(add_control(fx), "positive", positive);
	if (positive_bare)
		from_reply(add_control(fx), "positive-bare", positive_bare);
	if (impossible)
		from_reply(add_control(fx), "impossible", impossible);
	if (random_local)
		from_reply(add_control(fx), "random-local", random_local);
}

static void decide(struct fixture *fx)
{
	fx->why = NULL;
	assert_int_equal(verdict_decide(fx->tests, fx->ntests, fx->controls,
					fx->ncontrols, fx->confirmed, &fx->f,
					&fx->v,
					&fx->why),
			 0);
	assert_non_null(fx->why);
	assert_true(fx->why[0] != '\0');
}

static const struct test_result *find_test(const struct fixture *fx,
					   const char *id)
{
	for (size_t i = 0; i < fx->ntests; i++)
		if (!fx->tests[i].superseded &&
		    strcmp(fx->tests[i].t->id, id) == 0)
			return &fx->tests[i];
	fail_msg("no test %s", id);
	return NULL;
}

static const struct finding *find_finding(const struct fixture *fx,
					  const char *id)
{
	for (size_t i = 0; i < fx->f.n; i++)
		if (strcmp(fx->f.v[i].id, id) == 0)
			return &fx->f.v[i];
	return NULL;
}

/* (a) */
static void all_refused_closed(void **state)
{
	struct fixture *fx = *state;
	all_techniques(fx, DENY);
	controls(fx, ACCEPT, ACCEPT, DENY, UNKNOWN);
	decide(fx);
	assert_int_equal(fx->v, V_CLOSED);
	assert_false(findings_has(&fx->f, "open-relay"));
	assert_false(findings_has(&fx->f, "suspect-relay"));
	assert_false(findings_has(&fx->f, "postmaster-refused"));
	assert_false(findings_has(&fx->f, "relay-deferred"));
	for (size_t i = 0; i < fx->ntests; i++)
		assert_false(fx->tests[i].conclusive);
}

/* Closed needs only one of the two postmaster controls. */
static void closed_with_one_postmaster(void **state)
{
	struct fixture *fx = *state;
	all_techniques(fx, UNKNOWN);
	controls(fx, DENY, ACCEPT, DENY, DENY);
	decide(fx);
	assert_int_equal(fx->v, V_CLOSED);
	assert_false(findings_has(&fx->f, "postmaster-refused"));
}

/* (b) */
static void external_accepted_open(void **state)
{
	struct fixture *fx = *state;
	all_techniques(fx, DENY);
	/* T02 accepted this time. */
	struct test_result *t02 = (struct test_result *)find_test(fx, "T02");
	test_result_clear(t02);
	from_reply(t02, "T02", ACCEPT);
	controls(fx, ACCEPT, ACCEPT, DENY, DENY);
	decide(fx);
	assert_int_equal(fx->v, V_OPEN);
	assert_true(find_test(fx, "T02")->conclusive);
	assert_false(find_test(fx, "T03")->conclusive);
	const struct finding *f = find_finding(fx, "open-relay");
	assert_non_null(f);
	assert_int_equal(f->sev, SEV_CRITICAL);
	assert_non_null(strstr(f->message, "T02"));
	assert_non_null(strstr(fx->why, "T02"));
	assert_false(findings_has(&fx->f, "catch-all"));
	assert_false(findings_has(&fx->f, "suspect-relay"));
}

/* Open even if the random-local control was accepted: T02's recipient is
 * external, so only the impossible control matters. */
static void external_accepted_open_despite_random_local(void **state)
{
	struct fixture *fx = *state;
	from_reply(add_test(fx), "T02", ACCEPT);
	controls(fx, ACCEPT, ACCEPT, DENY, ACCEPT);
	decide(fx);
	assert_int_equal(fx->v, V_OPEN);
	assert_true(fx->tests[0].conclusive);
}

/* (c) */
static void catch_all_suspect(void **state)
{
	struct fixture *fx = *state;
	all_techniques(fx, DENY);
	struct test_result *t02 = (struct test_result *)find_test(fx, "T02");
	test_result_clear(t02);
	from_reply(t02, "T02", ACCEPT);
	controls(fx, ACCEPT, ACCEPT, ACCEPT, ACCEPT);
	decide(fx);
	assert_int_equal(fx->v, V_SUSPECT);
	assert_false(find_test(fx, "T02")->conclusive);
	assert_true(findings_has(&fx->f, "suspect-relay"));
	const struct finding *ca = find_finding(fx, "catch-all");
	assert_non_null(ca);
	assert_int_equal(ca->sev, SEV_WARNING);
	assert_non_null(strstr(ca->message, ".invalid"));
	assert_false(findings_has(&fx->f, "open-relay"));
}

/* (d) */
static void own_routed_needs_random_local(void **state)
{
	struct fixture *fx = *state;
	from_reply(add_test(fx), "T02", DENY);
	from_reply(add_test(fx), "T11", ACCEPT);
	controls(fx, ACCEPT, ACCEPT, DENY, ACCEPT);
	decide(fx);
	assert_int_equal(fx->v, V_SUSPECT);
	assert_false(fx->tests[1].conclusive);
	assert_true(findings_has(&fx->f, "suspect-relay"));
	assert_false(findings_has(&fx->f, "open-relay"));
	assert_false(findings_has(&fx->f, "catch-all"));
}

static void own_routed_open_when_random_local_refused(void **state)
{
	struct fixture *fx = *state;
	from_reply(add_test(fx), "T02", DENY);
	from_reply(add_test(fx), "T11", ACCEPT);
	controls(fx, ACCEPT, ACCEPT, DENY, UNKNOWN);
	decide(fx);
	assert_int_equal(fx->v, V_OPEN);
	assert_true(fx->tests[1].conclusive);
	assert_false(fx->tests[0].conclusive);
	assert_true(findings_has(&fx->f, "open-relay"));
}

/* Without controls nothing is conclusive. */
static void accepted_without_controls_suspect(void **state)
{
	struct fixture *fx = *state;
	from_reply(add_test(fx), "T02", ACCEPT);
	decide(fx);
	assert_int_equal(fx->v, V_SUSPECT);
	assert_false(fx->tests[0].conclusive);
}

/* (e) */
static void all_greylisted_inconclusive(void **state)
{
	struct fixture *fx = *state;
	all_techniques(fx, GREY);
	controls(fx, GREY, GREY, GREY, GREY);
	for (size_t i = 0; i < fx->ntests; i++)
		assert_int_equal(fx->tests[i].c.outcome, OUT_DEFERRED);
	decide(fx);
	assert_int_equal(fx->v, V_INCONCLUSIVE);
	assert_false(findings_has(&fx->f, "open-relay"));
	assert_false(findings_has(&fx->f, "relay-deferred"));
}

/* (f) */
static void postmaster_refused_inconclusive(void **state)
{
	struct fixture *fx = *state;
	all_techniques(fx, DENY);
	controls(fx, DENY, DENY, DENY, DENY);
	decide(fx);
	assert_int_equal(fx->v, V_INCONCLUSIVE);
	const struct finding *f = find_finding(fx, "postmaster-refused");
	assert_non_null(f);
	assert_int_equal(f->sev, SEV_WARNING);
}

/* Controls missing altogether: cannot be closed. */
static void no_controls_not_closed(void **state)
{
	struct fixture *fx = *state;
	all_techniques(fx, DENY);
	decide(fx);
	assert_int_equal(fx->v, V_INCONCLUSIVE);
	/* Nothing to say about postmaster if it was never asked. */
	assert_false(findings_has(&fx->f, "postmaster-refused"));
}

/* (g) */
static void superseded_ignored(void **state)
{
	struct fixture *fx = *state;
	struct test_result *old = add_test(fx);
	from_reply(old, "T02", ACCEPT);
	old->superseded = true;
	from_reply(add_test(fx), "T02", DENY);
	/* A superseded accepted impossible control is ignored too. */
	struct test_result *oldimp = add_control(fx);
	from_reply(oldimp, "impossible", ACCEPT);
	oldimp->superseded = true;
	controls(fx, ACCEPT, ACCEPT, DENY, DENY);
	decide(fx);
	assert_int_equal(fx->v, V_CLOSED);
	assert_false(findings_has(&fx->f, "catch-all"));
	assert_false(findings_has(&fx->f, "open-relay"));
	assert_false(findings_has(&fx->f, "suspect-relay"));
}

/* (h) */
static void relay_454_finding(void **state)
{
	struct fixture *fx = *state;
	all_techniques(fx, DENY454);
	controls(fx, ACCEPT, ACCEPT, DENY454, DENY454);
	assert_int_equal(fx->tests[0].c.outcome, OUT_REJECTED);
	assert_int_equal(fx->tests[0].c.reason, R_RELAY_DENIED);
	decide(fx);
	/* A 454 relay denial is a refusal. */
	assert_int_equal(fx->v, V_CLOSED);
	const struct finding *f = find_finding(fx, "relay-deferred");
	assert_non_null(f);
	assert_int_equal(f->sev, SEV_INFO);
	assert_non_null(strstr(f->message, "T02"));
}

static void relay_554_no_454_finding(void **state)
{
	struct fixture *fx = *state;
	from_reply(add_test(fx), "T02", DENY);
	from_reply(add_test(fx), "T03", DENY454);
	controls(fx, ACCEPT, ACCEPT, DENY, DENY);
	decide(fx);
	assert_int_equal(fx->v, V_CLOSED);
	const struct finding *f = find_finding(fx, "relay-deferred");
	assert_non_null(f);
	assert_non_null(strstr(f->message, "T03"));
	assert_null(strstr(f->message, "T02"));
}

/* (i) */
static void skipped_does_not_block_closed(void **state)
{
	struct fixture *fx = *state;
	all_techniques(fx, DENY);
	struct test_result *t25 = add_test(fx);
	direct(t25, "T25", OUT_SKIPPED, R_NOT_APPLICABLE);
	controls(fx, ACCEPT, ACCEPT, DENY, DENY);
	decide(fx);
	assert_int_equal(fx->v, V_CLOSED);
}

static void only_skipped_inconclusive(void **state)
{
	struct fixture *fx = *state;
	direct(add_test(fx), "T25", OUT_SKIPPED, R_NOT_APPLICABLE);
	controls(fx, ACCEPT, ACCEPT, DENY, DENY);
	decide(fx);
	assert_int_equal(fx->v, V_INCONCLUSIVE);
}

/* Refusals that are not relay decisions keep the verdict open. */
static void non_refusals_inconclusive(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		enum outcome o;
		enum reason r;
	} cases[] = {
	    {OUT_REJECTED, R_CLIENT_BLOCKED},
	    {OUT_DEFERRED, R_TEMPORARY},
	    {OUT_AUTH_REQUIRED, R_AUTH},
	    {OUT_TLS_REQUIRED, R_TLS},
	    {OUT_ERROR, R_CONNECTION},
	    /* T02's sender is not the trick: a refused sender proves
	     * nothing. */
	    {OUT_REJECTED, R_SENDER_REJECTED},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		from_reply(add_test(fx), "T03", DENY);
		direct(add_test(fx), "T02", cases[i].o, cases[i].r);
		controls(fx, ACCEPT, ACCEPT, DENY, DENY);
		decide(fx);
		if (fx->v != V_INCONCLUSIVE)
			fail_msg("%s/%s gave %s", outcome_name(cases[i].o),
				 reason_name(cases[i].r),
				 verdict_name(fx->v));
		/* Reset for the next case. */
		teardown(state);
		setup(state);
		fx = *state;
	}
}

/* A refused sender is a refusal when the sender is the technique. */
static void sender_trick_refused_counts(void **state)
{
	struct fixture *fx = *state;
	from_reply(add_test(fx), "T02", DENY);
	/* T03's trick is the sender: MAIL refused means refused. */
	struct test_result *t03 = add_test(fx);
	direct(t03, "T03", OUT_REJECTED, R_SENDER_REJECTED);
	t03->c.at_mail = true;
	controls(fx, ACCEPT, ACCEPT, DENY, DENY);
	decide(fx);
	assert_int_equal(fx->v, V_CLOSED);
}

static void names_and_codes(void **state)
{
	(void)state;
	assert_string_equal(verdict_name(V_CLOSED), "closed");
	assert_string_equal(verdict_name(V_INCONCLUSIVE), "inconclusive");
	assert_string_equal(verdict_name(V_SUSPECT), "suspect");
	assert_string_equal(verdict_name(V_OPEN), "open");
	assert_string_equal(verdict_name(V_UNREACHABLE), "unreachable");
	assert_string_equal(verdict_name(V_LAST), "?");
	assert_string_equal(severity_name(SEV_INFO), "info");
	assert_string_equal(severity_name(SEV_WARNING), "warning");
	assert_string_equal(severity_name(SEV_CRITICAL), "critical");
	assert_string_equal(severity_name(SEV_LAST), "?");

	assert_int_equal(verdict_exit_code(V_CLOSED), 0);
	assert_int_equal(verdict_exit_code(V_SUSPECT), 1);
	assert_int_equal(verdict_exit_code(V_INCONCLUSIVE), 1);
	assert_int_equal(verdict_exit_code(V_OPEN), 2);
	assert_int_equal(verdict_exit_code(V_UNREACHABLE), 3);
}

static void worst_ordering(void **state)
{
	(void)state;
	/* Ascending badness. */
	static const enum verdict order[] = {V_CLOSED, V_UNREACHABLE,
					     V_INCONCLUSIVE, V_SUSPECT,
					     V_OPEN};
	size_t n = sizeof(order) / sizeof(order[0]);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			enum verdict want = order[i > j ? i : j];
			if (verdict_worst(order[i], order[j]) != want)
				fail_msg("worst(%s, %s) = %s, want %s",
					 verdict_name(order[i]),
					 verdict_name(order[j]),
					 verdict_name(verdict_worst(
					     order[i], order[j])),
					 verdict_name(want));
		}
}

static void findings_api(void **state)
{
	(void)state;
	struct findings f = {0};
	assert_false(findings_has(&f, "x"));
	assert_int_equal(findings_add(&f, "a", SEV_INFO, "n=%d", 5), 0);
	assert_int_equal(findings_add(&f, "b", SEV_CRITICAL, "%s", "text"), 0);
	assert_int_equal(f.n, 2);
	assert_true(findings_has(&f, "a"));
	assert_true(findings_has(&f, "b"));
	assert_false(findings_has(&f, "c"));
	assert_string_equal(f.v[0].message, "n=5");
	assert_int_equal(f.v[1].sev, SEV_CRITICAL);
	/* An over-long id is truncated, not overflowed. */
	char longid[100];
	memset(longid, 'i', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_int_equal(findings_add(&f, longid, SEV_INFO, "x"), 0);
	assert_int_equal(strlen(f.v[2].id), sizeof(f.v[2].id) - 1);
	findings_clear(&f);
	assert_int_equal(f.n, 0);
	assert_null(f.v);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(all_refused_closed),
	    T(closed_with_one_postmaster),
	    T(external_accepted_open),
	    T(external_accepted_open_despite_random_local),
	    T(catch_all_suspect),
	    T(own_routed_needs_random_local),
	    T(own_routed_open_when_random_local_refused),
	    T(accepted_without_controls_suspect),
	    T(all_greylisted_inconclusive),
	    T(postmaster_refused_inconclusive),
	    T(no_controls_not_closed),
	    T(superseded_ignored),
	    T(relay_454_finding),
	    T(relay_554_no_454_finding),
	    T(skipped_does_not_block_closed),
	    T(only_skipped_inconclusive),
	    T(non_refusals_inconclusive),
	    T(sender_trick_refused_counts),
	    cmocka_unit_test(names_and_codes),
	    cmocka_unit_test(worst_ordering),
	    cmocka_unit_test(findings_api),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
