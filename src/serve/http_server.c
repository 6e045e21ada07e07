/*
 * serve/http_server: evhttp on serve's loop: limits (header and body
 * size, timeouts), the Host check, security headers on every response,
 * the per-client request limit, the embedded page, and dispatch to the
 * API (http_api.c). Declared in serve/server.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "serve/request.h"
#include "serve/server.h"

extern const char rp_web_index_html[];
extern const size_t rp_web_index_html_len;
extern const char rp_web_app_js[];
extern const size_t rp_web_app_js_len;
extern const char rp_web_style_css[];
extern const size_t rp_web_style_css_len;

/* Scripts and styles only from our own files (no inline code, so
 * injected markup could not run even if it got in), no framing, no
 * plugins, fetches only to ourselves. */
static const char csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

static void security_headers(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Security-Policy", csp);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Cross-Origin-Opener-Policy", "same-origin");
	evhttp_add_header(h, "Cross-Origin-Resource-Policy", "same-origin");
	evhttp_add_header(h, "Permissions-Policy",
			  "camera=(), microphone=(), geolocation=()");
}

void http_send_json(struct evhttp_request *req, int code, json_t *doc)
{
	struct evbuffer *b = evbuffer_new();
	char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER)
		      : NULL;
	json_decref(doc);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (!b || !s) {
		free(s);
		if (b)
			evbuffer_free(b);
		evhttp_send_error(req, 500, "Out of memory");
		return;
	}
	evbuffer_add(b, s, strlen(s));
	evbuffer_add(b, "\n", 1);
	free(s);
	evhttp_send_reply(req, code, NULL, b);
	evbuffer_free(b);
}

void http_send_error(struct evhttp_request *req, int code, const char *msg,
		     int retry_s)
{
	if (retry_s > 0) {
		char r[16];
		snprintf(r, sizeof(r), "%d", retry_s);
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Retry-After", r);
	}
	http_send_json(req, code, json_pack("{s:s}", "error", msg));
}

void http_client_key(struct server *srv, struct evhttp_request *req,
		     char *key, size_t keylen)
{
	char *peer = NULL;
	ev_uint16_t port = 0;
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &peer,
				   &port);
	const char *addr = peer ? peer : "unknown";
	char fwd[64] = "";
	if (srv->opt->trusted_proxy && peer &&
	    strcmp(peer, srv->opt->trusted_proxy) == 0) {
		/* The proxy appends the address it saw: the last element is
		 * the only one not under the client's control. */
		const char *x = evhttp_find_header(
		    evhttp_request_get_input_headers(req), "X-Forwarded-For");
		if (x) {
			const char *last = strrchr(x, ',');
			last = last ? last + 1 : x;
			while (*last == ' ')
				last++;
			size_t n = strcspn(last, " ");
			unsigned char buf[16];
			if (n < sizeof(fwd)) {
				memcpy(fwd, last, n);
				fwd[n] = '\0';
				if (inet_pton(AF_INET, fwd, buf) == 1 ||
				    inet_pton(AF_INET6, fwd, buf) == 1)
					addr = fwd;
			}
		}
	}
	ratelimit_client_key(addr, key, keylen);
}

/* Host names this server answers to: --allowed-host, and the listen
 * address itself (with and without the port), plus localhost when it
 * listens on loopback. A request for any other host is a DNS-rebinding
 * attempt or a misrouted request. */
static bool host_allowed(struct server *srv, const char *host)
{
	if (!host || !*host || strlen(host) > 300)
		return false;
	char h[320];
	size_t n = strlen(host);
	for (size_t i = 0; i <= n; i++)
		h[i] = (char)tolower((unsigned char)host[i]);
	for (size_t i = 0; i < srv->opt->nhosts; i++) {
		const char *a = srv->opt->hosts[i];
		size_t al = strlen(a);
		if (strcasecmp(h, a) == 0 ||
		    (strncasecmp(h, a, al) == 0 && h[al] == ':'))
			return true;
	}
	/* The listen address as IP:PORT ("127.0.0.1:8025", "[::1]:8025"). */
	char ip[INET6_ADDRSTRLEN];
	const struct sockaddr_storage *ss = &srv->opt->listen_ss;
	uint16_t port;
	bool v6 = ss->ss_family == AF_INET6;
	bool loop;
	if (v6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
		loop = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
	} else {
		const struct sockaddr_in *a = (const void *)ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		port = ntohs(a->sin_port);
		loop = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	char want[96];
	const char *names[3] = {ip, loop ? "localhost" : NULL,
				loop && !v6 ? "127.0.0.1" : NULL};
	for (size_t i = 0; i < 3; i++) {
		if (!names[i])
			continue;
		bool lit6 = strchr(names[i], ':') != NULL;
		snprintf(want, sizeof(want), lit6 ? "[%s]" : "%s", names[i]);
		if (strcmp(h, want) == 0)
			return true;
		snprintf(want, sizeof(want), lit6 ? "[%s]:%u" : "%s:%u",
			 names[i], port);
		if (strcmp(h, want) == 0)
			return true;
	}
	return false;
}

static void send_static(struct evhttp_request *req, const char *type,
			const char *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	if (!b) {
		evhttp_send_error(req, 500, "Out of memory");
		return;
	}
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evbuffer_add_reference(b, body, len, NULL, NULL);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	srv->m.http_requests++;
	security_headers(req);
	const char *host = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Host");
	if (!host_allowed(srv, host)) {
		http_send_error(req, 421,
				"unknown Host (start serve with --allowed-host "
				"NAME to answer to it)",
				0);
		return;
	}
	char key[64];
	http_client_key(srv, req, key, sizeof(key));
	int retry = 0;
	if (!ratelimit_take(srv->rl_requests, key, now_ms(), &retry)) {
		srv->m.rejected_rate++;
		http_send_error(req, 429, "too many requests", retry);
		return;
	}
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = u ? evhttp_uri_get_path(u) : NULL;
	if (!path || !*path)
		path = "/";
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	bool get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD;
	if (strncmp(path, "/api/", 5) == 0 || strcmp(path, "/metrics") == 0 ||
	    strcmp(path, "/healthz") == 0) {
		api_handle(srv, req, path);
		return;
	}
	const char *html = "text/html; charset=utf-8";
	if (get && (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0 ||
		    (strncmp(path, "/r/", 3) == 0 && strlen(path) < 80)))
		send_static(req, html, rp_web_index_html, rp_web_index_html_len);
	else if (get && strcmp(path, "/app.js") == 0)
		send_static(req, "text/javascript; charset=utf-8",
			    rp_web_app_js, rp_web_app_js_len);
	else if (get && strcmp(path, "/style.css") == 0)
		send_static(req, "text/css; charset=utf-8", rp_web_style_css,
			    rp_web_style_css_len);
	else if (!get)
		http_send_error(req, 405, "method not allowed", 0);
	else
		http_send_error(req, 404, "not found", 0);
}

int http_start(struct server *srv, char *err, size_t errlen)
{
	srv->http = evhttp_new(srv->base);
	if (!srv->http) {
		snprintf(err, errlen, "cannot create the HTTP server");
		return -1;
	}
	evhttp_set_max_headers_size(srv->http, 8192);
	evhttp_set_max_body_size(srv->http, REQUEST_MAX_BODY);
	/* Read and write timeouts of idle or stuck connections; event
	 * streams send a keep-alive comment more often than this. */
	evhttp_set_timeout(srv->http, 30);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
						  EVHTTP_REQ_POST |
						  EVHTTP_REQ_DELETE);
	evhttp_set_gencb(srv->http, on_request, srv);
	evutil_socket_t fd = socket(srv->opt->listen_ss.ss_family,
				    SOCK_STREAM, 0);
	if (fd < 0 || evutil_make_socket_nonblocking(fd) < 0 ||
	    evutil_make_listen_socket_reuseable(fd) < 0 ||
	    evutil_make_socket_closeonexec(fd) < 0 ||
	    bind(fd, (const struct sockaddr *)&srv->opt->listen_ss,
		 srv->opt->listen_len) < 0 ||
	    listen(fd, 128) < 0 || !evhttp_accept_socket_with_handle(srv->http, fd)) {
		snprintf(err, errlen, "cannot listen on %s: %s",
			 srv->opt->listen, evutil_socket_error_to_string(
					       evutil_socket_geterror(fd)));
		if (fd >= 0)
			evutil_closesocket(fd);
		return -1;
	}
	return 0;
}

void http_stop(struct server *srv)
{
	if (srv->http)
		evhttp_free(srv->http);
	srv->http = NULL;
}
