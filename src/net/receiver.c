#include "net/receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "core/util.h"
#include "smtp/receiver.h"

#define MAX_LINE 2048
#define MAX_EXPECTED 65536
#define MAX_PER_PEER 16         /* connections from one address */
#define MAX_COMMANDS 200        /* per connection */
#define LIFETIME_S 120          /* per connection, whatever it does */
#define OUT_HIGH (16 * 1024)    /* stop reading while replies pile up */
#define CLOSE_GRACE_S 5         /* to write a last reply before closing */

struct conn;

struct receiver {
	struct receiver_config cfg;
	char *domain;
	char *hostname;
	receiver_cb cb;
	void *arg;
	struct evconnlistener *lis;
	struct conn *conns;
	int nconns;
	char (*expected)[PROBE_TOKEN_MAX];
	size_t nexpected;
	time_t rate_sec;
	int rate_count;
	struct receiver_stats stats;
};

struct conn {
	struct receiver *r;
	struct bufferevent *bev;
	struct recv_sm sm;
	char peer[64];
	bool closing;
	int commands;
	struct event *lifetime;
	struct conn *prev, *next;
};

static void conn_free(struct conn *c)
{
	struct receiver *r = c->r;
	if (c->prev)
		c->prev->next = c->next;
	else
		r->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	r->nconns--;
	if (c->lifetime)
		event_free(c->lifetime);
	bufferevent_free(c->bev);
	free(c);
}

static bool want(void *arg, const char *token)
{
	struct receiver *r = arg;
	if (r->cfg.any_token)
		return true;
	for (size_t i = 0; i < r->nexpected; i++)
		if (strcmp(r->expected[i], token) == 0)
			return true;
	return false;
}

static void say(struct conn *c, const char *reply)
{
	if (!reply[0])
		return;
	bufferevent_write(c->bev, reply, strlen(reply));
	bufferevent_write(c->bev, "\r\n", 2);
}

static void on_read(struct bufferevent *bev, void *arg);

/* Close once the reply has been written; read again once a client that
 * pipelines without reading has drained what it was sent. */
static void on_write_done(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	size_t out = evbuffer_get_length(bufferevent_get_output(bev));
	if (c->closing && out == 0) {
		conn_free(c);
		return;
	}
	if (!c->closing && out < OUT_HIGH / 2 &&
	    !(bufferevent_get_enabled(bev) & EV_READ)) {
		bufferevent_enable(bev, EV_READ);
		on_read(bev, c);
	}
}

/* A client that never reads must not hold the connection: give the last
 * reply a few seconds, then the write timeout frees it. */
static void close_after_reply(struct conn *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_free(c);
		return;
	}
	struct timeval tv = {CLOSE_GRACE_S, 0};
	bufferevent_set_timeouts(c->bev, NULL, &tv);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (!c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) > OUT_HIGH) {
			/* Back-pressure: no more replies until it reads. */
			bufferevent_disable(bev, EV_READ);
			return;
		}
		size_t n = 0;
		char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
		if (!line) {
			if (evbuffer_get_length(in) > MAX_LINE) {
				say(c, "500 5.5.2 line too long");
				c->r->stats.rejected++;
				close_after_reply(c);
			}
			return;
		}
		char reply[512];
		if (!recv_sm_in_data(&c->sm) && ++c->commands > MAX_COMMANDS) {
			free(line);
			say(c, "421 4.7.0 too many commands");
			c->r->stats.rejected++;
			close_after_reply(c);
			return;
		}
		enum recv_event ev = n > MAX_LINE
			? (snprintf(reply, sizeof(reply), "500 5.5.2 line too long"),
			   RECV_CLOSE)
			: recv_sm_line(&c->sm, line, n, reply, sizeof(reply));
		free(line);
		if (reply[0] == '5' || reply[0] == '4')
			c->r->stats.rejected++;
		say(c, reply);
		if (ev == RECV_MESSAGE) {
			c->r->stats.messages++;
			for (size_t i = 0; i < c->sm.ntokens; i++)
				if (c->r->cb)
					c->r->cb(c->r->arg, c->sm.tokens[i], c->peer);
			c->sm.ntokens = 0;
		}
		if (ev == RECV_CLOSE) {
			close_after_reply(c);
			return;
		}
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	if (what & BEV_EVENT_TIMEOUT) {
		if (c->closing) { /* the last reply could not be written */
			conn_free(c);
			return;
		}
		say(c, "421 4.4.2 timeout");
		close_after_reply(c);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(c);
}

static void on_lifetime(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (c->closing) {
		conn_free(c);
		return;
	}
	say(c, "421 4.4.2 connection time limit");
	close_after_reply(c);
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct receiver *r = arg;
	r->stats.connections++;
	time_t now = time(NULL);
	if (now != r->rate_sec) {
		r->rate_sec = now;
		r->rate_count = 0;
	}
	bool busy = ++r->rate_count > r->cfg.max_rate ||
		    r->nconns >= r->cfg.max_conns;
	struct conn *c = calloc(1, sizeof(*c));
	struct bufferevent *bev = bufferevent_socket_new(
	    r->cfg.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c || !bev) {
		free(c);
		if (bev)
			bufferevent_free(bev);
		else
			evutil_closesocket(fd);
		return;
	}
	c->r = r;
	c->bev = bev;
	c->next = r->conns;
	if (r->conns)
		r->conns->prev = c;
	r->conns = c;
	r->nconns++;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr,
			  c->peer, sizeof(c->peer));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr,
			  c->peer, sizeof(c->peer));
	(void)salen;
	int same = 0;
	for (struct conn *o = r->conns; o; o = o->next)
		if (o != c && strcmp(o->peer, c->peer) == 0)
			same++;
	if (same >= MAX_PER_PEER)
		busy = true;
	c->lifetime = evtimer_new(r->cfg.base, on_lifetime, c);
	if (c->lifetime) {
		struct timeval life = {LIFETIME_S, 0};
		evtimer_add(c->lifetime, &life);
	}
	recv_sm_init(&c->sm, r->domain, r->hostname, r->cfg.max_message, want, r);
	bufferevent_setcb(bev, on_read, on_write_done, on_event, c);
	bufferevent_setwatermark(bev, EV_READ, 0, 64 * 1024);
	struct timeval tv = {r->cfg.timeout_ms / 1000,
			     (r->cfg.timeout_ms % 1000) * 1000};
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	if (busy) {
		r->stats.refused_busy++;
		say(c, "421 4.7.0 too many connections, try later");
		close_after_reply(c);
		return;
	}
	char greet[300];
	recv_sm_greeting(&c->sm, greet, sizeof(greet));
	say(c, greet);
}

struct receiver *receiver_new(const struct receiver_config *cfg,
			      receiver_cb cb, void *arg, char *err,
			      size_t errlen)
{
	struct receiver *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->cfg = *cfg;
	if (!r->cfg.max_message)
		r->cfg.max_message = 64 * 1024;
	/* A relay delivers our probes in parallel (Postfix: up to 20
	 * connections per destination): the limits must let one full run
	 * through at once, and stop a flood. */
	if (!r->cfg.max_conns)
		r->cfg.max_conns = 64;
	if (!r->cfg.max_rate)
		r->cfg.max_rate = 50;
	if (!r->cfg.timeout_ms)
		r->cfg.timeout_ms = 30000;
	r->cb = cb;
	r->arg = arg;
	r->domain = rp_strdup(cfg->domain);
	r->hostname = rp_strdup(cfg->hostname ? cfg->hostname : "relayprobe.invalid");
	r->expected = calloc(MAX_EXPECTED, sizeof(*r->expected));
	if (!r->domain || !r->hostname || !r->expected) {
		snprintf(err, errlen, "out of memory");
		receiver_free(r);
		return NULL;
	}
	r->lis = evconnlistener_new_bind(
	    cfg->base, on_accept, r,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    64, (const struct sockaddr *)&cfg->addr, (int)cfg->addrlen);
	if (!r->lis) {
		snprintf(err, errlen, "receiver cannot listen: %s",
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		receiver_free(r);
		return NULL;
	}
	return r;
}

void receiver_free(struct receiver *r)
{
	if (!r)
		return;
	if (r->lis)
		evconnlistener_free(r->lis);
	while (r->conns)
		conn_free(r->conns);
	free(r->expected);
	free(r->domain);
	free(r->hostname);
	free(r);
}

int receiver_expect(struct receiver *r, const char *token)
{
	if (r->nexpected >= MAX_EXPECTED || !probe_token_valid(token))
		return -1;
	snprintf(r->expected[r->nexpected++], PROBE_TOKEN_MAX, "%s", token);
	return 0;
}

void receiver_stats(const struct receiver *r, struct receiver_stats *out)
{
	*out = r->stats;
}
