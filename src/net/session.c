#include "net/session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "core/util.h"
#include "net/tls.h"

#define READ_CHUNK 16384
#define READ_HIGH_WATER (256 * 1024)

struct session {
	struct session_config cfg;
	char *sni;
	struct session_events ev;
	void *arg;
	struct smtp_client *client;
	struct bufferevent *bev;
	struct event *timer;
	bool connected;
	bool tls_handshaking;
	bool closed;
	char local[INET6_ADDRSTRLEN];
	char tls_version[32];
	char tls_cipher[96];
	struct tls_cert_facts facts;
	struct timespec t0;
	long t_connected, t_greeting, t_ready;
	long t_tls_start, tls_ms; /* the last handshake: start, duration */
};

/* How long the injection probe listens after the handshake: at least
 * this, and at least twice as long as the handshake took. A vulnerable
 * server answers the NOOP right after its handshake, but a slow peer (or
 * we, slowed by load or valgrind) can take longer than a fixed second to
 * get it to us: then the answer would be read as the EHLO's and the
 * server wrongly called safe. Never longer than the command timeout. */
#define INJECT_WAIT_MS 1000

static int inject_wait_ms(const struct session *s)
{
	long ms = INJECT_WAIT_MS;
	if (s->tls_ms > ms / 2)
		ms = 2 * s->tls_ms;
	if (ms > s->cfg.timeouts.command_ms)
		ms = s->cfg.timeouts.command_ms;
	return (int)ms;
}

static long since(const struct session *s)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - s->t0.tv_sec) * 1000 +
	       (now.tv_nsec - s->t0.tv_nsec) / 1000000;
}

static void arm_timer(struct session *s)
{
	if (s->closed)
		return;
	int ms;
	if (!s->connected)
		ms = s->cfg.timeouts.connect_ms;
	else if (s->tls_handshaking)
		ms = s->cfg.timeouts.tls_ms;
	else if (smtp_client_state(s->client) == SMTP_ST_INJECT_WAIT)
		ms = inject_wait_ms(s);
	else if (!smtp_client_waiting(s->client)) {
		evtimer_del(s->timer);
		return;
	} else if (smtp_client_state(s->client) == SMTP_ST_GREETING)
		ms = s->cfg.timeouts.greeting_ms;
	else
		ms = s->cfg.timeouts.command_ms;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(s->timer, &tv);
}

static void shut(struct session *s)
{
	if (s->closed)
		return;
	s->closed = true;
	evtimer_del(s->timer);
	if (s->bev)
		bufferevent_disable(s->bev, EV_READ | EV_WRITE);
}

/* --- smtp_client ops --- */

static int op_write(void *arg, const char *data, size_t len)
{
	struct session *s = arg;
	if (s->closed || !s->bev)
		return -1;
	if (bufferevent_write(s->bev, data, len) < 0)
		return -1;
	arm_timer(s);
	return 0;
}

static void op_ready(void *arg)
{
	struct session *s = arg;
	if (s->t_ready < 0)
		s->t_ready = since(s);
	if (s->ev.ready)
		s->ev.ready(s->arg);
}

static void op_txn_done(void *arg, struct smtp_txn *t)
{
	struct session *s = arg;
	if (s->ev.txn_done)
		s->ev.txn_done(s->arg, t);
	else
		smtp_txn_free(t);
}

static void op_idle(void *arg)
{
	struct session *s = arg;
	if (s->ev.idle)
		s->ev.idle(s->arg);
}

static void op_closed(void *arg, enum smtp_failure f, const char *why)
{
	struct session *s = arg;
	shut(s);
	if (s->ev.closed)
		s->ev.closed(s->arg, f, why);
}

static void op_line(void *arg, char dir, const char *line)
{
	struct session *s = arg;
	if (s->ev.line)
		s->ev.line(s->arg, dir, line);
}

static void bev_read(struct bufferevent *bev, void *arg);
static void bev_event(struct bufferevent *bev, short what, void *arg);

static bool wrap_tls(struct session *s, enum bufferevent_ssl_state st)
{
	char err[256];
	if (!s->cfg.tls_ctx) {
		smtp_client_tls_done(s->client, false, "no TLS context");
		return false;
	}
	SSL *ssl = SSL_new(s->cfg.tls_ctx);
	if (!ssl) {
		tls_last_error(err, sizeof(err), "cannot create TLS session");
		smtp_client_fail(s->client, SMTP_FAIL_TLS, err);
		return false;
	}
	if (s->sni)
		SSL_set_tlsext_host_name(ssl, s->sni);
	/* On failure libevent 2.1 may already have freed ssl and the
	 * underlying bufferevent (libevent #1774): forget both. */
	struct bufferevent *f = bufferevent_openssl_filter_new(
	    s->cfg.base, s->bev, ssl, st, BEV_OPT_CLOSE_ON_FREE);
	if (!f) {
		s->bev = NULL;
		smtp_client_fail(s->client, SMTP_FAIL_TLS,
				 "cannot start TLS on the connection");
		return false;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(f, 1);
	s->bev = f;
	bufferevent_setcb(f, bev_read, NULL, bev_event, s);
	bufferevent_setwatermark(f, EV_READ, 0, READ_HIGH_WATER);
	bufferevent_enable(f, EV_READ | EV_WRITE);
	s->tls_handshaking = true;
	s->t_tls_start = since(s);
	arm_timer(s);
	return true;
}

static void op_start_tls(void *arg)
{
	struct session *s = arg;
	if (evbuffer_get_length(bufferevent_get_input(s->bev)) > 0) {
		smtp_client_tls_done(s->client, false,
				     "server sent data after its 220 reply to "
				     "STARTTLS; upgrade refused");
		return;
	}
	wrap_tls(s, BUFFEREVENT_SSL_CONNECTING);
}

/* --- libevent callbacks --- */

static void bev_read(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char buf[READ_CHUNK];
	unsigned long replies0 = smtp_client_replies(s->client);
	enum smtp_client_state st0 = smtp_client_state(s->client);
	while (!s->closed && bev == s->bev && !s->tls_handshaking) {
		int n = evbuffer_remove(in, buf, sizeof(buf));
		if (n <= 0)
			break;
		if (s->t_greeting < 0)
			s->t_greeting = since(s);
		smtp_client_feed(s->client, buf, (size_t)n);
	}
	/* Restart the phase timer only on progress (a complete reply or a new
	 * state): a server dripping one byte at a time must not keep a phase
	 * alive forever. */
	if (s->closed)
		return;
	if (smtp_client_replies(s->client) != replies0 ||
	    smtp_client_state(s->client) != st0 ||
	    !evtimer_pending(s->timer, NULL))
		arm_timer(s);
}

static void record_tls(struct session *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	if (!ssl)
		return;
	tls_cert_facts(ssl, s->sni, &s->facts);
	snprintf(s->tls_version, sizeof(s->tls_version), "%s",
		 SSL_get_version(ssl));
	const char *c = SSL_get_cipher_name(ssl);
	snprintf(s->tls_cipher, sizeof(s->tls_cipher), "%s", c ? c : "");
}

static void note_local(struct session *s, evutil_socket_t fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
			  s->local, sizeof(s->local));
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
			  s->local, sizeof(s->local));
}

static void bev_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	if (s->closed)
		return;
	if (what & BEV_EVENT_CONNECTED) {
		if (!s->connected) {
			s->connected = true;
			s->t_connected = since(s);
			note_local(s, bufferevent_getfd(bev));
			if (s->cfg.smtp.tls == SMTP_TLS_IMPLICIT) {
				wrap_tls(s, BUFFEREVENT_SSL_CONNECTING);
				return;
			}
			arm_timer(s);
			return;
		}
		if (s->tls_handshaking) {
			s->tls_handshaking = false;
			s->tls_ms = since(s) - s->t_tls_start;
			record_tls(s);
			if (s->cfg.smtp.tls == SMTP_TLS_IMPLICIT &&
			    smtp_client_state(s->client) == SMTP_ST_GREETING) {
				smtp_client_set_tls_active(s->client);
				arm_timer(s);
				/* The greeting may already be buffered. */
				bev_read(s->bev, s);
				return;
			}
			smtp_client_tls_done(s->client, true, NULL);
			/* The phase changed without a write (the injection
			 * probe listens first): re-arm for the new phase. */
			arm_timer(s);
			bev_read(s->bev, s);
			return;
		}
		return;
	}
	char why[300];
	if (what & BEV_EVENT_EOF) {
		if (s->tls_handshaking) {
			s->tls_handshaking = false;
			if (smtp_client_state(s->client) == SMTP_ST_GREETING)
				smtp_client_fail(s->client, SMTP_FAIL_TLS,
						 "connection closed during the "
						 "TLS handshake");
			else
				smtp_client_tls_done(s->client, false,
						     "connection closed during "
						     "the TLS handshake");
			return;
		}
		smtp_client_eof(s->client);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		int e = EVUTIL_SOCKET_ERROR();
		if (!s->connected) {
			snprintf(why, sizeof(why), "connect failed: %s",
				 e ? strerror(e) : "error");
			smtp_client_fail(s->client, SMTP_FAIL_CONNECT, why);
			return;
		}
		if (s->tls_handshaking) {
			s->tls_handshaking = false;
			unsigned long se = bufferevent_get_openssl_error(bev);
			if (se) {
				char b[256];
				ERR_error_string_n(se, b, sizeof(b));
				snprintf(why, sizeof(why),
					 "TLS handshake failed: %s", b);
			} else {
				snprintf(why, sizeof(why),
					 "TLS handshake failed: %s",
					 e ? strerror(e) : "error");
			}
			if (smtp_client_state(s->client) == SMTP_ST_GREETING)
				smtp_client_fail(s->client, SMTP_FAIL_TLS, why);
			else
				smtp_client_tls_done(s->client, false, why);
			return;
		}
		snprintf(why, sizeof(why), "connection error: %s",
			 e ? strerror(e) : "reset");
		if (e == 0 || e == ECONNRESET || e == EPIPE)
			smtp_client_fail(s->client, SMTP_FAIL_DROPPED, why);
		else
			smtp_client_fail(s->client, SMTP_FAIL_DROPPED, why);
		return;
	}
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	char why[128];
	const char *phase;
	if (s->connected && !s->tls_handshaking &&
	    smtp_client_state(s->client) == SMTP_ST_INJECT_WAIT) {
		smtp_client_inject_timeout(s->client);
		arm_timer(s);
		return;
	}
	if (!s->connected)
		phase = "connect";
	else if (s->tls_handshaking)
		phase = "TLS handshake";
	else
		phase = smtp_client_state_name(smtp_client_state(s->client));
	snprintf(why, sizeof(why), "timed out waiting in phase %s", phase);
	smtp_client_fail(s->client, SMTP_FAIL_TIMEOUT, why);
}

struct session *session_new(const struct session_config *cfg,
			    const struct session_events *ev, void *arg,
			    char *err, size_t errlen)
{
	struct session *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->cfg.source = NULL;
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	s->t_connected = s->t_greeting = s->t_ready = -1;
	s->ev = *ev;
	s->arg = arg;
	if (cfg->sni && !(s->sni = rp_strdup(cfg->sni)))
		goto oom;
	static const struct smtp_client_ops ops = {
	    .write = op_write,
	    .ready = op_ready,
	    .start_tls = op_start_tls,
	    .txn_done = op_txn_done,
	    .idle = op_idle,
	    .closed = op_closed,
	    .line = op_line,
	};
	s->client = smtp_client_new(&cfg->smtp, &ops, s);
	s->timer = evtimer_new(cfg->base, on_timeout, s);
	if (!s->client || !s->timer)
		goto oom;

	int fd = socket(cfg->addr.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	if (cfg->source) {
		if (cfg->source->ss_family != cfg->addr.ss_family) {
			snprintf(err, errlen,
				 "source address family does not match the "
				 "server's");
			close(fd);
			goto fail;
		}
		if (bind(fd, (const struct sockaddr *)cfg->source,
			 cfg->sourcelen) < 0) {
			snprintf(err, errlen, "cannot bind source address: %s",
				 strerror(errno));
			close(fd);
			goto fail;
		}
	}
	s->bev = bufferevent_socket_new(cfg->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!s->bev) {
		close(fd);
		goto oom;
	}
	bufferevent_setcb(s->bev, bev_read, NULL, bev_event, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, READ_HIGH_WATER);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	arm_timer(s);
	if (bufferevent_socket_connect(s->bev,
				       (const struct sockaddr *)&cfg->addr,
				       (int)cfg->addrlen) < 0) {
		snprintf(err, errlen, "connect failed: %s", strerror(errno));
		goto fail;
	}
	return s;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	session_free(s);
	return NULL;
}

void session_free(struct session *s)
{
	if (!s)
		return;
	if (s->timer)
		event_free(s->timer);
	if (s->bev)
		bufferevent_free(s->bev);
	smtp_client_free(s->client);
	free(s->sni);
	free(s);
}

struct smtp_client *session_client(struct session *s)
{
	return s->client;
}

const char *session_local_address(const struct session *s)
{
	return s->local;
}

const char *session_tls_version(const struct session *s)
{
	return s->tls_version[0] ? s->tls_version : NULL;
}

const char *session_tls_cipher(const struct session *s)
{
	return s->tls_cipher[0] ? s->tls_cipher : NULL;
}

const struct tls_cert_facts *session_tls_facts(const struct session *s)
{
	return &s->facts;
}

void session_timings(const struct session *s, struct session_timings *out)
{
	out->connect_ms = s->t_connected;
	out->greeting_ms = s->t_greeting;
	out->ready_ms = s->t_ready;
}
