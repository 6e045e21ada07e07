/*
 * serve/http_api: the JSON API under /api/v1 (checks, their event
 * streams, history, schedules), /metrics and /healthz. docs/api.md
 * documents every route; keep them in step. Declared in serve/server.h.
 */
#include <ctype.h>
#include <sys/queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>

#include "serve/diff.h"
#include "serve/request.h"
#include "serve/server.h"

static bool valid_id(const char *s, size_t n)
{
	if (n != STORE_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

/* The request body as a NUL-terminated string (evhttp already refused
 * bodies over the limit), or NULL. */
static char *body_text(struct evhttp_request *req, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	if (n > REQUEST_MAX_BODY)
		return NULL;
	char *s = malloc(n + 1);
	if (!s)
		return NULL;
	evbuffer_copyout(in, s, n);
	s[n] = '\0';
	*len = n;
	return s;
}

static bool is_json_request(struct evhttp_request *req)
{
	/* A cross-site form cannot send application/json without a CORS
	 * preflight, which this server never grants. */
	const char *ct = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Content-Type");
	return ct && strncasecmp(ct, "application/json", 16) == 0;
}

static bool authorized(struct server *srv, struct evhttp_request *req)
{
	if (!srv->token[0]) {
		http_send_error(req, 403,
				"this server has no API token (--token-file): "
				"schedules and deletion are disabled",
				0);
		return false;
	}
	const char *a = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Authorization");
	size_t tl = strlen(srv->token);
	if (a && strncmp(a, "Bearer ", 7) == 0 && strlen(a + 7) == tl &&
	    CRYPTO_memcmp(a + 7, srv->token, tl) == 0)
		return true;
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "WWW-Authenticate", "Bearer");
	http_send_error(req, 401, "missing or wrong API token", 0);
	return false;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static json_t *links(const char *id)
{
	char self[80], events[96], page[64];
	snprintf(self, sizeof(self), "/api/v1/checks/%s", id);
	snprintf(events, sizeof(events), "/api/v1/checks/%s/events", id);
	snprintf(page, sizeof(page), "/r/%s", id);
	return json_pack("{s:s, s:s, s:s}", "self", self, "events", events,
			 "page", page);
}

static const char *state_name(enum job_state s)
{
	return s == JOB_QUEUED ? "queued" : s == JOB_RUNNING ? "running"
							    : "saving";
}

static void post_check(struct server *srv, struct evhttp_request *req)
{
	if (!is_json_request(req)) {
		srv->m.rejected_invalid++;
		http_send_error(req, 415, "send Content-Type: application/json",
				0);
		return;
	}
	size_t len = 0;
	char *body = body_text(req, &len);
	if (!body) {
		http_send_error(req, 413, "request body too large", 0);
		return;
	}
	struct check_request cr;
	char err[300];
	enum request_error rc = request_parse_check(body, len, &srv->opt->policy,
						    &cr, err, sizeof(err));
	free(body);
	if (rc != REQ_OK) {
		if (rc == REQ_REFUSED)
			srv->m.rejected_policy++;
		else
			srv->m.rejected_invalid++;
		http_send_error(req, rc == REQ_REFUSED ? 422 : 400, err, 0);
		return;
	}
	char key[64];
	int retry = 0;
	http_client_key(srv, req, key, sizeof(key));
	if (!ratelimit_take(srv->rl_checks, key, now_ms(), &retry)) {
		srv->m.rejected_rate++;
		http_send_error(req, 429,
				"too many checks from your address; try again "
				"later",
				retry);
		return;
	}
	struct job *j;
	enum job_submit r =
	    jobs_submit(srv, cr.target, "api", 0, &j, err, sizeof(err));
	if (r == JOB_BUSY) {
		srv->m.rejected_busy++;
		http_send_error(req, 429, err, 10);
		return;
	}
	if (r == JOB_FAILED) {
		srv->m.rejected_invalid++;
		http_send_error(req, 400, err, 0);
		return;
	}
	char loc[80];
	snprintf(loc, sizeof(loc), "/api/v1/checks/%s", j->id);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location",
			  loc);
	http_send_json(req, 202,
		       json_pack("{s:s, s:s, s:s, s:i, s:o}", "id", j->id,
				 "target", j->target, "state",
				 state_name(j->state), "position",
				 jobs_queue_position(srv, j), "links",
				 links(j->id)));
}

/* previous run and the changes since, for a stored check. */
static void add_comparison(struct server *srv, json_t *doc,
			   const struct store_check *c, json_t *result)
{
	struct store_check prev;
	if (store_previous(srv->store, c->target, c->finished, c->id, true,
			   &prev) != 0) {
		json_object_set_new(doc, "previous", json_null());
		json_object_set_new(doc, "changes", json_array());
		return;
	}
	json_t *p = json_loads(prev.json, 0, NULL);
	bool alert;
	json_t *changes = diff_results(p, result, &alert);
	json_object_set_new(doc, "previous",
			    json_pack("{s:s, s:I, s:s}", "id", prev.id,
				      "finished", (json_int_t)prev.finished,
				      "verdict", prev.verdict));
	json_object_set_new(doc, "changes", changes ? changes : json_array());
	json_decref(p);
	store_check_clear(&prev);
}

static json_t *stored_doc(struct server *srv, const struct store_check *c,
			  bool full)
{
	json_t *doc = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:s}",
				"id", c->id, "target", c->target, "state",
				"done", "started", (json_int_t)c->started,
				"finished", (json_int_t)c->finished, "verdict",
				c->verdict, "duration_ms",
				(json_int_t)c->duration_ms, "source", c->source);
	if (!doc || !full)
		return doc;
	json_t *result = json_loads(c->json ? c->json : "null", 0, NULL);
	add_comparison(srv, doc, c, result);
	json_object_set_new(doc, "result", result ? result : json_null());
	json_object_set_new(doc, "links", links(c->id));
	return doc;
}

static void get_check(struct server *srv, struct evhttp_request *req,
		      const char *id)
{
	struct job *j = jobs_find(srv, id);
	if (j && j->state != JOB_DONE) {
		http_send_json(
		    req, 200,
		    json_pack("{s:s, s:s, s:s, s:I, s:i, s:o, s:o}", "id",
			      j->id, "target", j->target, "state",
			      state_name(j->state), "started",
			      (json_int_t)j->started, "position",
			      jobs_queue_position(srv, j), "result",
			      json_null(), "links", links(j->id)));
		return;
	}
	struct store_check c;
	int rc = store_get_check(srv->store, id, &c);
	if (rc < 0) {
		http_send_error(req, 500, "database error", 0);
		return;
	}
	if (rc > 0) {
		http_send_error(req, 404, "no such check", 0);
		return;
	}
	http_send_json(req, 200, stored_doc(srv, &c, true));
	store_check_clear(&c);
}

static void get_events(struct server *srv, struct evhttp_request *req,
		       const char *id)
{
	struct job *j = jobs_find(srv, id);
	if (j) {
		jobs_subscribe(srv, j, req);
		return;
	}
	struct store_check c;
	int rc = store_get_check(srv->store, id, &c);
	if (rc != 0) {
		http_send_error(req, rc < 0 ? 500 : 404,
				rc < 0 ? "database error" : "no such check", 0);
		return;
	}
	/* Finished before the stream was opened: just the end. */
	struct evbuffer *b = evbuffer_new();
	json_t *d = json_pack("{s:s, s:s, s:I}", "id", c.id, "verdict",
			      c.verdict, "duration_ms",
			      (json_int_t)c.duration_ms);
	char *s = d ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(d);
	store_check_clear(&c);
	if (!b || !s) {
		free(s);
		if (b)
			evbuffer_free(b);
		http_send_error(req, 500, "out of memory", 0);
		return;
	}
	evbuffer_add_printf(b, "event: done\ndata: %s\n\n", s);
	free(s);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", "text/event-stream");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void delete_check(struct server *srv, struct evhttp_request *req,
			 const char *id)
{
	if (!authorized(srv, req))
		return;
	struct job *j = jobs_find(srv, id);
	if (j && j->state != JOB_DONE) {
		http_send_error(req, 409, "the check is still running", 0);
		return;
	}
	if (j)
		jobs_forget(srv, j);
	int rc = store_delete_check(srv->store, id);
	if (rc != 0) {
		http_send_error(req, rc < 0 ? 500 : 404,
				rc < 0 ? "database error" : "no such check", 0);
		return;
	}
	http_send_json(req, 200, json_pack("{s:s, s:b}", "id", id, "deleted", 1));
}

static const char *query_param(struct evhttp_request *req, const char *name,
			       struct evkeyvalq *q)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *qs = u ? evhttp_uri_get_query(u) : NULL;
	if (!qs || evhttp_parse_query_str(qs, q) < 0)
		return NULL;
	return evhttp_find_header(q, name);
}

static void get_history(struct server *srv, struct evhttp_request *req)
{
	struct evkeyvalq q = {0};
	TAILQ_INIT(&q);
	const char *t = query_param(req, "target", &q);
	const char *l = evhttp_find_header(&q, "limit");
	char norm[300], err[300];
	if (!t || request_normalize_target(t, srv->opt->policy.default_port,
					   norm, sizeof(norm), err,
					   sizeof(err)) != REQ_OK) {
		evhttp_clear_headers(&q);
		http_send_error(req, 400, t ? err : "give ?target=", 0);
		return;
	}
	int limit = 50;
	if (l) {
		char *end;
		long v = strtol(l, &end, 10);
		if (*end || v < 1 || v > 500) {
			evhttp_clear_headers(&q);
			http_send_error(req, 400, "limit is 1 to 500", 0);
			return;
		}
		limit = (int)v;
	}
	evhttp_clear_headers(&q);
	struct store_check *v;
	size_t n;
	if (store_history(srv->store, norm, limit, false, &v, &n) < 0) {
		http_send_error(req, 500, "database error", 0);
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, stored_doc(srv, &v[i], false));
	store_checks_free(v, n);
	http_send_json(req, 200, json_pack("{s:s, s:o}", "target", norm,
					   "checks", a ? a : json_array()));
}

static json_t *schedule_doc(const struct store_schedule *s)
{
	return json_pack("{s:I, s:s, s:i, s:f, s:s?, s:I, s:I, s:s?}", "id",
			 (json_int_t)s->id, "target", s->target,
			 "interval_seconds", s->interval_s, "every_hours",
			 s->interval_s / 3600.0, "webhook", s->webhook,
			 "created", (json_int_t)s->created, "next_run",
			 (json_int_t)s->next_run, "last_check",
			 s->last_check[0] ? s->last_check : NULL);
}

static void schedules(struct server *srv, struct evhttp_request *req,
		      const char *rest)
{
	if (!authorized(srv, req))
		return;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	if (!*rest && cmd == EVHTTP_REQ_POST) {
		if (!is_json_request(req)) {
			http_send_error(req, 415,
					"send Content-Type: application/json", 0);
			return;
		}
		size_t len = 0;
		char *body = body_text(req, &len);
		struct schedule_request sr;
		char err[300];
		enum request_error rc =
		    body ? request_parse_schedule(body, len, &srv->opt->policy,
						  &sr, err, sizeof(err))
			 : REQ_BAD;
		free(body);
		if (rc != REQ_OK) {
			http_send_error(req, rc == REQ_REFUSED ? 422 : 400,
					body ? err : "bad body", 0);
			return;
		}
		int64_t id;
		int64_t now = (int64_t)time(NULL);
		int r = store_schedule_add(srv->store, sr.target, sr.interval_s,
					   sr.webhook[0] ? sr.webhook : NULL,
					   now, &id);
		if (r != 0) {
			http_send_error(req, r > 0 ? 409 : 500,
					r > 0 ? "this target is already "
						"scheduled"
					      : "database error",
					0);
			return;
		}
		struct store_schedule s = {
		    .id = id,
		    .target = sr.target,
		    .interval_s = sr.interval_s,
		    .webhook = sr.webhook[0] ? sr.webhook : NULL,
		    .created = now,
		    .next_run = now,
		};
		http_send_json(req, 201, schedule_doc(&s));
		return;
	}
	if (!*rest && cmd == EVHTTP_REQ_GET) {
		struct store_schedule *v;
		size_t n;
		if (store_schedule_list(srv->store, &v, &n) < 0) {
			http_send_error(req, 500, "database error", 0);
			return;
		}
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(a, schedule_doc(&v[i]));
		store_schedules_free(v, n);
		http_send_json(req, 200, json_pack("{s:o}", "schedules",
						   a ? a : json_array()));
		return;
	}
	if (rest[0] == '/' && cmd == EVHTTP_REQ_DELETE) {
		char *end;
		long long id = strtoll(rest + 1, &end, 10);
		if (*end || id <= 0) {
			http_send_error(req, 404, "no such schedule", 0);
			return;
		}
		int r = store_schedule_delete(srv->store, id);
		if (r != 0) {
			http_send_error(req, r > 0 ? 404 : 500,
					r > 0 ? "no such schedule"
					      : "database error",
					0);
			return;
		}
		http_send_json(req, 200,
			       json_pack("{s:I, s:b}", "id", (json_int_t)id,
					 "deleted", 1));
		return;
	}
	http_send_error(req, 405, "method not allowed", 0);
}

void api_handle(struct server *srv, struct evhttp_request *req,
		const char *path)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	bool get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD;
	if (strcmp(path, "/healthz") == 0 && get) {
		bool ok = store_version(srv->store) > 0;
		http_send_json(req, ok ? 200 : 503,
			       json_pack("{s:s, s:s, s:i, s:i}", "status",
					 ok ? "ok" : "database unavailable",
					 "version", RELAYPROBE_VERSION,
					 "running", srv->running, "queued",
					 srv->queued));
		return;
	}
	if (strcmp(path, "/metrics") == 0 && get) {
		struct evbuffer *b = evbuffer_new();
		if (!b) {
			evhttp_send_error(req, 500, "Out of memory");
			return;
		}
		metrics_render(srv, b);
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Content-Type",
				  "text/plain; version=0.0.4; charset=utf-8");
		evhttp_send_reply(req, 200, "OK", b);
		evbuffer_free(b);
		return;
	}
	static const char checks[] = "/api/v1/checks";
	size_t cl = sizeof(checks) - 1;
	if (strcmp(path, checks) == 0) {
		if (cmd == EVHTTP_REQ_POST)
			post_check(srv, req);
		else
			http_send_error(req, 405, "method not allowed", 0);
		return;
	}
	if (strncmp(path, checks, cl) == 0 && path[cl] == '/') {
		const char *id = path + cl + 1;
		const char *slash = strchr(id, '/');
		size_t il = slash ? (size_t)(slash - id) : strlen(id);
		char idb[STORE_ID_LEN + 1];
		if (!valid_id(id, il)) {
			http_send_error(req, 404, "no such check", 0);
			return;
		}
		memcpy(idb, id, il);
		idb[il] = '\0';
		if (!slash && get)
			get_check(srv, req, idb);
		else if (!slash && cmd == EVHTTP_REQ_DELETE)
			delete_check(srv, req, idb);
		else if (slash && strcmp(slash, "/events") == 0 && get)
			get_events(srv, req, idb);
		else
			http_send_error(req, slash ? 404 : 405,
					slash ? "not found"
					      : "method not allowed",
					0);
		return;
	}
	if (strcmp(path, "/api/v1/history") == 0 && get) {
		get_history(srv, req);
		return;
	}
	static const char sch[] = "/api/v1/schedules";
	if (strncmp(path, sch, sizeof(sch) - 1) == 0 &&
	    (path[sizeof(sch) - 1] == '\0' || path[sizeof(sch) - 1] == '/')) {
		schedules(srv, req, path + sizeof(sch) - 1);
		return;
	}
	http_send_error(req, 404, "not found", 0);
}
