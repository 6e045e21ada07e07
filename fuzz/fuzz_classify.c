/*
 * fuzz_classify: turning replies into outcomes (relay/classify). Replies
 * come from the input twice: built directly (any code 0-999, any enhanced
 * code text, raw line bytes) and through the real reply parser.
 *
 * Input: [mail code: 2 bytes][rcpt code: 2 bytes][mail enhanced]\0
 * [rcpt enhanced]\0 then reply lines separated by LF, the first half for
 * MAIL and the rest for RCPT; the same bytes are also parsed as wire
 * replies.
 *
 * Checks: 2xx is accepted with reason none; code 0 and 3xx are errors;
 * 530/538 are auth- or tls-required; an outcome always has a reason that
 * belongs to it; names exist; classify_txn decides at MAIL exactly when
 * MAIL was not accepted.
 */
#include "fuzz.h"

#include "relay/classify.h"
#include "smtp/reply.h"

#define MAX_LINES 64

static void check(const struct smtp_reply *r, bool at_mail,
		  const struct classification *c)
{
	FZ_CHECK((unsigned)c->outcome < OUT_LAST);
	FZ_CHECK((unsigned)c->reason < R_LAST);
	FZ_CHECK(strcmp(outcome_name(c->outcome), "?") != 0);
	FZ_CHECK(strcmp(reason_name(c->reason), "?") != 0);
	FZ_CHECK(c->at_mail == at_mail);
	switch (c->outcome) {
	case OUT_ACCEPTED:
		FZ_CHECK(r->code >= 200 && r->code < 300);
		FZ_CHECK(c->reason == R_NONE);
		break;
	case OUT_ERROR:
		/* no answer, or a 3xx, which is no answer to MAIL/RCPT */
		FZ_CHECK(r->code == 0 || (r->code >= 300 && r->code < 400));
		FZ_CHECK(c->reason == R_CONNECTION);
		break;
	case OUT_TLS_REQUIRED:
		FZ_CHECK(c->reason == R_TLS);
		break;
	case OUT_AUTH_REQUIRED:
		FZ_CHECK(c->reason == R_AUTH);
		break;
	case OUT_DEFERRED:
		FZ_CHECK(c->reason == R_GREYLISTED || c->reason == R_TEMPORARY ||
			 c->reason == R_CLIENT_BLOCKED ||
			 c->reason == R_SENDER_REJECTED);
		break;
	case OUT_REJECTED:
		FZ_CHECK(c->reason != R_NONE && c->reason != R_GREYLISTED &&
			 c->reason != R_TEMPORARY && c->reason != R_AUTH &&
			 c->reason != R_TLS && c->reason != R_CONNECTION &&
			 c->reason != R_NOT_APPLICABLE);
		if (at_mail && c->reason != R_CLIENT_BLOCKED)
			FZ_CHECK(c->reason == R_SENDER_REJECTED ||
				 c->reason == R_RELAY_DENIED);
		break;
	case OUT_SKIPPED:
	case OUT_LAST:
		FZ_CHECK(!"classify never skips");
		break;
	}
	if (r->code >= 200 && r->code < 300)
		FZ_CHECK(c->outcome == OUT_ACCEPTED);
	if (r->code == 0 || (r->code >= 300 && r->code < 400))
		FZ_CHECK(c->outcome == OUT_ERROR);
	/* A 5xx is never deferred, even when its text says "greylist"
	 * (a bug found here; corpus input crash-greylist-5xx). */
	if (r->code >= 500 && r->code <= 599)
		FZ_CHECK(c->outcome != OUT_DEFERRED);
	if (r->code == 530 || r->code == 538)
		FZ_CHECK(c->outcome == OUT_TLS_REQUIRED ||
			 c->outcome == OUT_AUTH_REQUIRED);
	(void)reason_is_refusal(c->reason, true);
	(void)reason_is_refusal(c->reason, false);
}

static void both(const struct smtp_reply *mail, const struct smtp_reply *rcpt)
{
	struct classification c;
	classify_reply(mail, true, &c);
	check(mail, true, &c);
	classify_reply(rcpt, false, &c);
	check(rcpt, false, &c);
	classify_txn(mail, rcpt, &c);
	bool mail_decides = mail->code == 0 || !smtp_reply_ok(mail);
	FZ_CHECK(c.at_mail == mail_decides);
	check(mail_decides ? mail : rcpt, mail_decides, &c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	struct smtp_reply m = {0}, r = {0};
	m.code = fz_u16(&f) % 1000;
	r.code = fz_u16(&f) % 1000;
	char *me = fz_field(&f, '\0'), *re = fz_field(&f, '\0');
	if (!me || !re)
		goto out;
	snprintf(m.enhanced, sizeof(m.enhanced), "%s", me);
	snprintf(r.enhanced, sizeof(r.enhanced), "%s", re);
	/* the wire form starts here */
	const uint8_t *wire = f.p;
	size_t wirelen = f.n;
	char *lines[MAX_LINES];
	size_t n = 0;
	while (f.n > 0 && n < MAX_LINES && (lines[n] = fz_field(&f, '\n')))
		n++;
	m.lines = lines;
	m.nlines = n / 2;
	r.lines = lines + n / 2;
	r.nlines = n - n / 2;
	both(&m, &r);
	/* codes that parsed replies never have, on the same text */
	struct smtp_reply z = r;
	z.code = 0;
	both(&m, &z);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);

	/* Through the parser: the first two replies on the wire. */
	struct smtp_reply_parser p;
	if (smtp_reply_parser_init(&p, NULL) == 0) {
		struct smtp_reply got[2] = {{0}, {0}};
		size_t k = 0, used = 0;
		const char *d = (const char *)wire;
		size_t left = wirelen;
		char err[128];
		while (k < 2 && left > 0 &&
		       smtp_reply_parser_feed(&p, d, left, &used, &got[k], err,
					      sizeof(err)) == SMTP_PARSE_REPLY) {
			d += used;
			left -= used;
			k++;
		}
		if (k == 2)
			both(&got[0], &got[1]);
		else if (k == 1)
			both(&got[0], &got[0]);
		smtp_reply_clear(&got[0]);
		smtp_reply_clear(&got[1]);
		smtp_reply_parser_cleanup(&p);
	}
out:
	free(me);
	free(re);
	return 0;
}
