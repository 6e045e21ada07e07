/*
 * serve/scheduler: scheduled re-tests. A one-second tick starts every
 * schedule that is due (unless its last run is still going, or serve is
 * busy: then it waits for a later tick). When a scheduled check has been
 * saved it is compared with the target's run before (serve/diff); a
 * change worth an alert counts in /metrics and, when the schedule has a
 * webhook, is POSTed there as JSON (10 s timeout, one retry). Declared in
 * serve/server.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>

#include "serve/diff.h"
#include "serve/request.h"
#include "serve/server.h"

struct hook {
	struct server *srv;
	struct evhttp_connection *conn;
};

static void hook_free_later(evutil_socket_t fd, short what, void *arg)
{
	struct hook *h = arg;
	(void)fd;
	(void)what;
	evhttp_connection_free(h->conn);
	free(h);
}

static void on_hook_done(struct evhttp_request *req, void *arg)
{
	struct hook *h = arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	if (code >= 200 && code < 300)
		h->srv->m.webhook_ok++;
	else {
		h->srv->m.webhook_failed++;
		fprintf(stderr, "relayprobe serve: webhook failed (%s %d)\n",
			code ? "HTTP" : "no answer", code);
	}
	/* Not inside the connection's own callback. */
	struct timeval zero = {0, 0};
	if (event_base_once(h->srv->base, -1, EV_TIMEOUT, hook_free_later, h,
			    &zero) < 0)
		h->srv->m.webhook_failed++; /* leaks one connection: rare */
}

static int post_webhook(struct server *srv, const char *url, json_t *body)
{
	struct webhook_url u;
	char err[200];
	if (request_parse_url(url, &u, err, sizeof(err)) < 0)
		return -1;
	char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		return -1;
	struct hook *h = calloc(1, sizeof(*h));
	if (!h) {
		free(text);
		return -1;
	}
	h->srv = srv;
	if (!srv->dns)
		srv->dns = evdns_base_new(srv->base,
					  EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (u.tls) {
		SSL *ssl = srv->webhook_tls ? SSL_new(srv->webhook_tls) : NULL;
		struct bufferevent *bev = NULL;
		if (ssl) {
			SSL_set_tlsext_host_name(ssl, u.host);
			SSL_set1_host(ssl, u.host);
			bev = bufferevent_openssl_socket_new(
			    srv->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
			    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
			if (!bev)
				SSL_free(ssl);
		}
		if (bev) {
			bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
			h->conn = evhttp_connection_base_bufferevent_new(
			    srv->base, srv->dns, bev, u.host, u.port);
		}
	} else {
		h->conn = evhttp_connection_base_new(srv->base, srv->dns,
						     u.host, u.port);
	}
	struct evhttp_request *req =
	    h->conn ? evhttp_request_new(on_hook_done, h) : NULL;
	if (!req) {
		if (h->conn)
			evhttp_connection_free(h->conn);
		free(h);
		free(text);
		return -1;
	}
	evhttp_connection_set_timeout(h->conn, 10);
	evhttp_connection_set_retries(h->conn, 1);
	struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
	char hostport[300];
	snprintf(hostport, sizeof(hostport), strchr(u.host, ':') ? "[%s]:%u" : "%s:%u",
		 u.host, u.port);
	evhttp_add_header(hd, "Host", hostport);
	evhttp_add_header(hd, "Content-Type", "application/json");
	evhttp_add_header(hd, "User-Agent", "relayprobe/" RELAYPROBE_VERSION);
	evhttp_add_header(hd, "Connection", "close");
	evbuffer_add(evhttp_request_get_output_buffer(req), text, strlen(text));
	free(text);
	if (evhttp_make_request(h->conn, req, EVHTTP_REQ_POST, u.path) < 0) {
		/* evhttp freed the request. */
		evhttp_connection_free(h->conn);
		free(h);
		return -1;
	}
	return 0;
}

void scheduler_check_saved(struct server *srv, const struct job *j)
{
	store_schedule_update(srv->store, j->schedule_id,
			      /* keep next_run */ -1, j->id);
	struct store_check prev;
	if (store_previous(srv->store, j->target, j->finished, j->id, true,
			   &prev) != 0)
		return; /* the first run: nothing to compare */
	json_t *a = json_loads(prev.json, 0, NULL);
	json_t *b = json_loads(j->json ? j->json : "{}", 0, NULL);
	bool alert = false;
	json_t *changes = diff_results(a, b, &alert);
	if (alert) {
		srv->m.alerts++;
		struct store_schedule *v;
		size_t n;
		const char *hook = NULL;
		if (store_schedule_list(srv->store, &v, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				if (v[i].id == j->schedule_id)
					hook = v[i].webhook;
			char link[600] = "";
			if (srv->opt->public_url)
				snprintf(link, sizeof(link), "%s/r/%s",
					 srv->opt->public_url, j->id);
			json_t *body = json_pack(
			    "{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:O, s:s?}",
			    "event", "relayprobe.change", "target", j->target,
			    "check_id", j->id, "previous_check_id", prev.id,
			    "verdict", j->verdict, "previous_verdict",
			    prev.verdict, "time", (json_int_t)j->finished,
			    "changes", changes, "link", link[0] ? link : NULL);
			if (hook && body && post_webhook(srv, hook, body) < 0)
				srv->m.webhook_failed++;
			json_decref(body);
			store_schedules_free(v, n);
		}
	}
	json_decref(changes);
	json_decref(a);
	json_decref(b);
	store_check_clear(&prev);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	(void)fd;
	(void)what;
	if (++srv->ticks % 10 == 0)
		jobs_ping(srv); /* keeps proxies from timing streams out */
	jobs_reap(srv);
	struct store_schedule *v;
	size_t n;
	if (store_schedule_list(srv->store, &v, &n) < 0)
		return;
	srv->schedules = (int64_t)n;
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < n; i++) {
		if (v[i].next_run > now || jobs_running_schedule(srv, v[i].id))
			continue;
		struct job *j;
		char err[256];
		enum job_submit r = jobs_submit(srv, v[i].target, "schedule",
						v[i].id, &j, err, sizeof(err));
		if (r == JOB_BUSY)
			break; /* a later tick */
		if (r == JOB_FAILED)
			fprintf(stderr, "relayprobe serve: schedule %lld: %s\n",
				(long long)v[i].id, err);
		store_schedule_update(srv->store, v[i].id,
				      now + v[i].interval_s, NULL);
	}
	store_schedules_free(v, n);
}

int scheduler_start(struct server *srv, char *err, size_t errlen)
{
	srv->tick_ev = event_new(srv->base, -1, EV_PERSIST, on_tick, srv);
	struct timeval one = {1, 0};
	if (!srv->tick_ev || evtimer_add(srv->tick_ev, &one) < 0) {
		snprintf(err, errlen, "cannot start the scheduler");
		return -1;
	}
	srv->webhook_tls = SSL_CTX_new(TLS_client_method());
	if (srv->webhook_tls) {
		SSL_CTX_set_default_verify_paths(srv->webhook_tls);
		SSL_CTX_set_verify(srv->webhook_tls, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_min_proto_version(srv->webhook_tls, TLS1_2_VERSION);
	}
	return 0;
}

void scheduler_stop(struct server *srv)
{
	if (srv->tick_ev)
		event_free(srv->tick_ev);
	srv->tick_ev = NULL;
	if (srv->dns)
		evdns_base_free(srv->dns, 0);
	srv->dns = NULL;
	if (srv->webhook_tls)
		SSL_CTX_free(srv->webhook_tls);
	srv->webhook_tls = NULL;
}
