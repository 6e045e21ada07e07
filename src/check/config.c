#include "check/config.h"

#include <string.h>

void check_config_defaults(struct check_config *c)
{
	memset(c, 0, sizeof(*c));
	c->port = 25;
	c->tls = TLS_MODE_AUTO;
	c->from = "relayprobe@gmail.com";
	c->to = "relaytest@gmail.com";
	c->timeouts.connect_ms = 10000;
	/* Generous: postscreen and greet_pause delay greetings 6-30 s. */
	c->timeouts.greeting_ms = 60000;
	c->timeouts.command_ms = 30000;
	c->timeouts.tls_ms = 15000;
	smtp_limits_default(&c->limits);
	c->max_sessions = 3;
	/* Postfix delays replies after 10 errors and drops at 20; 6 tests
	 * cost at most 12 errors when MAIL and RCPT both fail pipelined. */
	c->per_session = 5;
	c->backoff_ms = 2000;
	c->max_attempts = 3;
	c->max_transcript = 4000;
	c->confirm_wait_s = 30;
}
