/* smtp/receiver (the built-in receiver's state machine) and
 * relay/probe_message (tokens, the probe). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "relay/probe_message.h"
#include "smtp/receiver.h"

static bool want_t02(void *arg, const char *token)
{
	(void)arg;
	return strcmp(token, "rp0123456789-t02") == 0;
}

static enum recv_event line(struct recv_sm *sm, const char *l, char *reply,
			    size_t sz)
{
	return recv_sm_line(sm, l, strlen(l), reply, sz);
}

static void accepts_a_waiting_token(void **state)
{
	(void)state;
	struct recv_sm sm;
	char r[512];
	recv_sm_init(&sm, "confirm.test", "rx.test", 1000, want_t02, NULL);
	recv_sm_greeting(&sm, r, sizeof(r));
	assert_true(strncmp(r, "220 ", 4) == 0);
	assert_int_equal(line(&sm, "EHLO relay.example", r, sizeof(r)), RECV_NONE);
	assert_true(strncmp(r, "250-", 4) == 0);
	line(&sm, "MAIL FROM:<x@y.z>", r, sizeof(r));
	assert_true(strncmp(r, "250", 3) == 0);
	line(&sm, "RCPT TO:<RP0123456789-T02@Confirm.Test>", r, sizeof(r));
	assert_true(strncmp(r, "250", 3) == 0);
	line(&sm, "DATA", r, sizeof(r));
	assert_true(strncmp(r, "354", 3) == 0);
	assert_int_equal(line(&sm, "Subject: x", r, sizeof(r)), RECV_NONE);
	assert_string_equal(r, "");
	assert_int_equal(line(&sm, ".", r, sizeof(r)), RECV_MESSAGE);
	assert_int_equal(sm.ntokens, 1);
	assert_string_equal(sm.tokens[0], "rp0123456789-t02");
	assert_int_equal(line(&sm, "QUIT", r, sizeof(r)), RECV_CLOSE);
}

static void refuses_everything_else(void **state)
{
	(void)state;
	struct recv_sm sm;
	char r[512];
	recv_sm_init(&sm, "confirm.test", "rx.test", 100, want_t02, NULL);
	line(&sm, "HELO a", r, sizeof(r));
	line(&sm, "RCPT TO:<rp0123456789-t02@confirm.test>", r, sizeof(r));
	assert_true(strncmp(r, "503", 3) == 0); /* no MAIL yet */
	line(&sm, "MAIL FROM:<x@y.z>", r, sizeof(r));
	line(&sm, "RCPT TO:<rp0123456789-t02@gmail.com>", r, sizeof(r));
	assert_true(strncmp(r, "550", 3) == 0); /* never relays */
	line(&sm, "RCPT TO:<rp0123456789-t03@confirm.test>", r, sizeof(r));
	assert_true(strncmp(r, "550", 3) == 0); /* nobody waits for it */
	line(&sm, "RCPT TO:<postmaster@confirm.test>", r, sizeof(r));
	assert_true(strncmp(r, "550", 3) == 0);
	line(&sm, "DATA", r, sizeof(r));
	assert_true(strncmp(r, "503", 3) == 0);
	line(&sm, "VRFY root", r, sizeof(r));
	assert_true(strncmp(r, "502", 3) == 0);
	/* Oversized message: 552 and no token. */
	line(&sm, "RCPT TO:<rp0123456789-t02@confirm.test>", r, sizeof(r));
	line(&sm, "DATA", r, sizeof(r));
	for (int i = 0; i < 10; i++)
		line(&sm, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", r, sizeof(r));
	assert_int_equal(line(&sm, ".", r, sizeof(r)), RECV_NONE);
	assert_true(strncmp(r, "552", 3) == 0);
	assert_int_equal(sm.ntokens, 0);
}

static void too_many_errors_close(void **state)
{
	(void)state;
	struct recv_sm sm;
	char r[512];
	recv_sm_init(&sm, "confirm.test", "rx.test", 100, want_t02, NULL);
	enum recv_event ev = RECV_NONE;
	for (int i = 0; i < 20 && ev != RECV_CLOSE; i++)
		ev = line(&sm, "GARBAGE", r, sizeof(r));
	assert_int_equal(ev, RECV_CLOSE);
	assert_true(strncmp(r, "421", 3) == 0);
	const char nul[] = {'M', 'A', 'I', 'L', '\0', 'x'};
	recv_sm_init(&sm, "confirm.test", "rx.test", 100, want_t02, NULL);
	recv_sm_line(&sm, nul, sizeof(nul), r, sizeof(r));
	assert_true(strncmp(r, "500", 3) == 0);
}

static void tokens(void **state)
{
	(void)state;
	char t[PROBE_TOKEN_MAX];
	assert_int_equal(probe_token("0123456789", "T23a", t, sizeof(t)), 0);
	assert_string_equal(t, "rp0123456789-t23a");
	assert_true(probe_token_valid(t));
	assert_int_equal(probe_token("01234", "T02", t, sizeof(t)), -1);
	assert_int_equal(probe_token("0123456789", "T-2", t, sizeof(t)), -1);
	assert_false(probe_token_valid("rp0123456789-"));
	assert_false(probe_token_valid("rp012345678G-t02"));
	assert_false(probe_token_valid("xrp0123456789-t02"));
	const char text[] = "Subject: relayprobe relay test rp0123456789-t11 end";
	assert_true(probe_find_token(text, sizeof(text) - 1, t, sizeof(t)));
	assert_string_equal(t, "rp0123456789-t11");
	assert_false(probe_find_token("nothing here", 12, t, sizeof(t)));
}

static void message(void **state)
{
	(void)state;
	struct probe_message_params p = {
	    .from = "me@example.org",
	    .to = "rp0123456789-t02@confirm.test",
	    .token = "rp0123456789-t02",
	    .technique = "T02 external-to-external",
	    .target = "192.0.2.1 port 25",
	    .tester = "probe.example.org",
	    .now = 0,
	};
	char *m = probe_message(&p);
	assert_non_null(m);
	assert_non_null(strstr(m, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
	assert_non_null(strstr(m, "Subject: relayprobe relay test rp0123456789-t02\r\n"));
	assert_non_null(strstr(m, "Message-ID: <rp0123456789-t02.0@example.org>\r\n"));
	assert_non_null(strstr(m, "To: <rp0123456789-t02@confirm.test>\r\n"));
	assert_non_null(strstr(m, "\r\n\r\n"));
	/* Every line ends in CRLF: no bare LF. */
	for (const char *c = m; *c; c++)
		if (*c == '\n')
			assert_true(c > m && c[-1] == '\r');
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(accepts_a_waiting_token),
	    cmocka_unit_test(refuses_everything_else),
	    cmocka_unit_test(too_many_errors_close),
	    cmocka_unit_test(tokens),
	    cmocka_unit_test(message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
