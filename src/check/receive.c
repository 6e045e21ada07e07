#include "check/receive.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "net/receiver.h"

struct rctx {
	FILE *out;
	bool json;
	unsigned long tokens;
};

static void on_token(void *arg, const char *token, const char *peer)
{
	struct rctx *c = arg;
	c->tokens++;
	/* Tokens and peers are validated ([a-z0-9-], an IP): safe to print. */
	if (c->json)
		fprintf(c->out, "{\"token\":\"%s\",\"peer\":\"%s\"}\n", token, peer);
	else
		fprintf(c->out, "delivered %s from %s\n", token, peer);
	fflush(c->out);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopexit(arg, NULL);
}

int receive_run(const struct check_config *cfg, int duration_s, bool json,
		FILE *out)
{
	struct event_base *base = event_base_new();
	if (!base) {
		fprintf(stderr, "relayprobe: cannot create the event loop\n");
		return 3;
	}
	struct rctx c = {out, json, 0};
	struct receiver_config rc = {
	    .base = base,
	    .addr = cfg->receiver_ss,
	    .addrlen = cfg->receiver_len,
	    .domain = cfg->confirm_domain,
	    .hostname = cfg->helo,
	    .any_token = true,
	};
	char err[256];
	struct receiver *r = receiver_new(&rc, on_token, &c, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "relayprobe: %s\n", err);
		event_base_free(base);
		return 3;
	}
	struct event *sigint = evsignal_new(base, SIGINT, on_stop, base);
	struct event *sigterm = evsignal_new(base, SIGTERM, on_stop, base);
	struct event *timer = evtimer_new(base, on_stop, base);
	if (sigint)
		event_add(sigint, NULL);
	if (sigterm)
		event_add(sigterm, NULL);
	if (timer && duration_s > 0) {
		struct timeval tv = {duration_s, 0};
		event_add(timer, &tv);
	}
	if (!json)
		fprintf(out, "receiving mail for probe tokens at %s on %s\n",
			cfg->confirm_domain, cfg->receiver);
	fflush(out);
	event_base_dispatch(base);
	struct receiver_stats st;
	receiver_stats(r, &st);
	if (json)
		fprintf(out,
			"{\"summary\":{\"connections\":%lu,\"refused_busy\":%lu,"
			"\"messages\":%lu,\"rejected\":%lu,\"tokens\":%lu}}\n",
			st.connections, st.refused_busy, st.messages,
			st.rejected, c.tokens);
	else
		fprintf(out,
			"%lu connections (%lu refused: too many), %lu messages, "
			"%lu commands refused, %lu tokens\n",
			st.connections, st.refused_busy, st.messages,
			st.rejected, c.tokens);
	receiver_free(r);
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	if (timer)
		event_free(timer);
	event_base_free(base);
	return 0;
}
