/*
 * serve/jobs: checks started from the API or the scheduler. At most
 * --max-checks run at once, --queue more wait; beyond that the API says
 * 429. Each check keeps its events (the live transcript) as server-sent
 * events so a stream opened late replays them. A finished check is
 * written to the database in a batch with the others of the same moment
 * (one transaction), and only after the commit is it reported complete:
 * the "done" event, state "done" in the API. Declared in serve/server.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "core/util.h"
#include "relay/verdict.h"
#include "report/report.h"
#include "serve/addr_policy.h"
#include "serve/server.h"

struct sse_sub {
	struct job *job;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
	struct sse_sub *next;
};

bool jobs_addr_filter(void *arg, const struct sockaddr *sa, socklen_t len,
		      char *why, size_t whylen)
{
	struct server *srv = arg;
	if (srv->opt->policy.allow_private)
		return true;
	enum addr_class c = addr_classify_sa(sa, len);
	if (c == ADDR_PUBLIC)
		return true;
	char ip[INET6_ADDRSTRLEN] = "?";
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  ip, sizeof(ip));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr, ip,
			  sizeof(ip));
	snprintf(why, whylen, "%s is a %s address", ip, addr_class_name(c));
	srv->m.ssrf_refused++;
	return false;
}

struct job *jobs_find(struct server *srv, const char *id)
{
	for (struct job *j = srv->jobs; j; j = j->next)
		if (strcmp(j->id, id) == 0)
			return j;
	return NULL;
}

int jobs_queue_position(struct server *srv, const struct job *j)
{
	if (j->state != JOB_QUEUED)
		return 0;
	int pos = 0;
	/* The list is newest first: count the queued ones behind us. */
	for (const struct job *x = j; x; x = x->next)
		if (x->state == JOB_QUEUED)
			pos++;
	return pos;
}

bool jobs_running_schedule(struct server *srv, int64_t schedule_id)
{
	for (struct job *j = srv->jobs; j; j = j->next)
		if (j->schedule_id == schedule_id && j->state != JOB_DONE)
			return true;
	return false;
}

static void sub_send(struct sse_sub *s, const void *data, size_t len)
{
	struct bufferevent *bev =
	    evhttp_connection_get_bufferevent(s->conn);
	/* A client that does not read gets no more than 1 MiB queued. */
	if (bev && evbuffer_get_length(bufferevent_get_output(bev)) > (1u << 20))
		return;
	struct evbuffer *b = evbuffer_new();
	if (!b)
		return;
	evbuffer_add(b, data, len);
	evhttp_send_reply_chunk(s->req, b);
	evbuffer_free(b);
}

/* One event to the log and every subscriber. data: a JSON value (taken). */
static void emit(struct job *j, const char *event, json_t *data)
{
	char *s = data ? json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER |
						  JSON_ENCODE_ANY)
		       : NULL;
	json_decref(data);
	if (!s)
		return;
	char *ev = rp_asprintf("event: %s\ndata: %s\n\n", event, s);
	free(s);
	if (!ev)
		return;
	size_t n = strlen(ev);
	bool keep = true;
	if (evbuffer_get_length(j->log) + n > JOB_LOG_MAX) {
		keep = false;
		if (!j->log_full) {
			j->log_full = true;
			static const char t[] =
			    "event: truncated\ndata: {}\n\n";
			evbuffer_add(j->log, t, sizeof(t) - 1);
			for (struct sse_sub *x = j->subs; x; x = x->next)
				sub_send(x, t, sizeof(t) - 1);
		}
	}
	if (keep || strcmp(event, "line") != 0) {
		evbuffer_add(j->log, ev, n);
		for (struct sse_sub *x = j->subs; x; x = x->next)
			sub_send(x, ev, n);
	}
	free(ev);
}

static json_t *server_ref(const struct server_result *s)
{
	return json_pack("{s:s, s:i, s:s?}", "address", s->address, "port",
			 (int)s->port, "host", s->host);
}

static void obs_server_start(void *arg, const struct server_result *s)
{
	emit(arg, "server", server_ref(s));
}

static void obs_line(void *arg, const struct server_result *s,
		     const struct transcript_line *l)
{
	char dir[2] = {l->dir, 0};
	/* The text is escaped by the engine (printable ASCII); the page
	 * still only ever inserts it as text. */
	emit(arg, "line",
	     json_pack("{s:s, s:i, s:i, s:I, s:s, s:s}", "address", s->address,
		       "port", (int)s->port, "session", l->session, "ms",
		       (json_int_t)l->ms, "dir", dir, "line",
		       l->text ? l->text : ""));
}

static void obs_server_done(void *arg, const struct server_result *s)
{
	json_t *o = server_ref(s);
	if (o) {
		json_object_set_new(o, "verdict",
				    json_string(verdict_name(s->verdict)));
		if (s->error)
			json_object_set_new(o, "error", json_string(s->error));
	}
	emit(arg, "server_done", o);
}

static void unlink_job(struct server *srv, struct job *j)
{
	for (struct job **p = &srv->jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			return;
		}
}

static void end_subs(struct job *j)
{
	struct sse_sub *s = j->subs;
	j->subs = NULL;
	while (s) {
		struct sse_sub *n = s->next;
		evhttp_connection_set_closecb(s->conn, NULL, NULL);
		evhttp_send_reply_end(s->req);
		free(s);
		s = n;
	}
	j->nsubs = 0;
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	end_subs(j);
	if (j->log)
		evbuffer_free(j->log);
	free(j->json);
	free(j);
}

static void start_next(struct server *srv);

static void arm_flush(struct server *srv, int ms)
{
	if (srv->flush_armed)
		return;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(srv->flush_ev, &tv);
	srv->flush_armed = true;
}

static long since_ms(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 +
	       (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The check is over (result, or failure text): keep the document and
 * queue it for the next batched write. */
static void finish(struct job *j, json_t *doc, const char *verdict)
{
	struct server *srv = j->srv;
	if (j->state == JOB_RUNNING)
		srv->running--;
	j->state = JOB_SAVING;
	j->cj = NULL;
	j->json = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER)
		      : NULL;
	json_decref(doc);
	snprintf(j->verdict, sizeof(j->verdict), "%s", verdict);
	j->duration_ms = since_ms(&j->t0);
	j->finished = (int64_t)time(NULL);
	arm_flush(srv, 20);
	start_next(srv);
}

static json_t *failure_doc(const struct job *j, const char *msg)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:[], s:s, s:i}",
			 "schema", "relayprobe/1", "target", j->target,
			 "verdict", "unreachable", "error", msg, "mx",
			 json_null(), "null_mx", 0, "servers", "version",
			 RELAYPROBE_VERSION, "exit_code", 3);
}

static void on_done(void *arg, struct check_job *cj, struct check_result *res)
{
	struct job *j = arg;
	(void)cj;
	json_t *doc = report_result_json(res);
	struct report_counts c;
	report_counts(&res, 1, &c);
	j->open_servers = (int)c.open;
	j->listings = (int)c.listings;
	const char *v = verdict_name(res->verdict);
	if (!doc)
		doc = failure_doc(j, "out of memory rendering the result");
	finish(j, doc, v);
	check_result_free(res);
}

static int start_job(struct job *j, bool from_queue, char *err, size_t errlen)
{
	struct server *srv = j->srv;
	j->obs = (struct check_observer){
	    .server_start = obs_server_start,
	    .line = obs_line,
	    .server_done = obs_server_done,
	    .arg = j,
	};
	clock_gettime(CLOCK_MONOTONIC, &j->t0);
	j->started = (int64_t)time(NULL);
	j->cj = check_job_start(srv->engine, j->target, NULL, &j->obs, on_done,
				j, err, errlen);
	if (!j->cj)
		return -1;
	if (from_queue)
		srv->queued--;
	j->state = JOB_RUNNING;
	srv->running++;
	emit(j, "started", json_pack("{s:s, s:s}", "id", j->id, "target",
				     j->target));
	return 0;
}

static void start_next(struct server *srv)
{
	while (srv->running < srv->opt->max_checks && srv->queued > 0) {
		/* The oldest queued job is the last in the list. */
		struct job *oldest = NULL;
		for (struct job *j = srv->jobs; j; j = j->next)
			if (j->state == JOB_QUEUED)
				oldest = j;
		if (!oldest)
			return;
		char err[256];
		if (start_job(oldest, true, err, sizeof(err)) < 0) {
			srv->queued--;
			oldest->state = JOB_RUNNING; /* finish() counts it down */
			srv->running++;
			finish(oldest, failure_doc(oldest, err), "unreachable");
		}
	}
}

enum job_submit jobs_submit(struct server *srv, const char *target,
			    const char *source, int64_t schedule_id,
			    struct job **out, char *err, size_t errlen)
{
	*out = NULL;
	bool now = srv->running < srv->opt->max_checks;
	if (!now && srv->queued >= srv->opt->max_queue) {
		snprintf(err, errlen,
			 "busy: %d checks running and %d waiting; try again "
			 "later",
			 srv->running, srv->queued);
		return JOB_BUSY;
	}
	struct job *j = calloc(1, sizeof(*j));
	if (!j || !(j->log = evbuffer_new())) {
		free(j);
		snprintf(err, errlen, "out of memory");
		return JOB_FAILED;
	}
	j->srv = srv;
	rp_random_hex(j->id, STORE_ID_LEN / 2);
	snprintf(j->target, sizeof(j->target), "%s", target);
	snprintf(j->source, sizeof(j->source), "%s", source);
	j->schedule_id = schedule_id;
	j->state = JOB_QUEUED;
	j->started = (int64_t)time(NULL);
	if (now) {
		if (start_job(j, false, err, errlen) < 0) {
			srv->m.checks[5]++;
			job_free(j);
			return JOB_FAILED;
		}
	} else {
		srv->queued++;
		emit(j, "queued", json_pack("{s:s, s:i}", "id", j->id,
					    "position", srv->queued));
	}
	j->next = srv->jobs;
	srv->jobs = j;
	*out = j;
	return now ? JOB_STARTED : JOB_WAITING;
}

/* The batched write: every check waiting to be saved, one transaction.
 * Only after the commit are they reported done and forgotten here. */
static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	(void)fd;
	(void)what;
	srv->flush_armed = false;
	size_t n = 0;
	for (struct job *j = srv->jobs; j; j = j->next)
		n += j->state == JOB_SAVING;
	if (n == 0)
		return;
	struct store_check *v = calloc(n, sizeof(*v));
	struct job **js = calloc(n, sizeof(*js));
	if (!v || !js) {
		free(v);
		free(js);
		arm_flush(srv, 1000);
		return;
	}
	size_t k = 0;
	for (struct job *j = srv->jobs; j && k < n; j = j->next) {
		if (j->state != JOB_SAVING)
			continue;
		struct store_check *c = &v[k];
		memcpy(c->id, j->id, sizeof(c->id));
		c->target = j->target;
		c->started = j->started;
		c->finished = j->finished;
		snprintf(c->verdict, sizeof(c->verdict), "%s", j->verdict);
		c->duration_ms = j->duration_ms;
		snprintf(c->source, sizeof(c->source), "%s", j->source);
		c->json = j->json;
		js[k++] = j;
	}
	char err[256];
	if (store_put_checks(srv->store, v, k, err, sizeof(err)) < 0) {
		srv->m.store_failures++;
		fprintf(stderr, "relayprobe serve: %s (will retry)\n", err);
		free(v);
		free(js);
		arm_flush(srv, 1000);
		return;
	}
	free(v);
	for (size_t i = 0; i < k; i++) {
		struct job *j = js[i];
		metrics_check_done(&srv->m, j->verdict, j->duration_ms,
				   j->open_servers, j->listings);
		emit(j, "done", json_pack("{s:s, s:s, s:I}", "id", j->id,
					  "verdict", j->verdict, "duration_ms",
					  (json_int_t)j->duration_ms));
		end_subs(j);
		j->state = JOB_DONE;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		j->done_at = now.tv_sec;
		if (j->schedule_id)
			scheduler_check_saved(srv, j);
		free(j->json); /* the database has it */
		j->json = NULL;
	}
	free(js);
	jobs_reap(srv);
}

void jobs_forget(struct server *srv, struct job *j)
{
	if (j->state != JOB_DONE)
		return;
	unlink_job(srv, j);
	job_free(j);
}

void jobs_reap(struct server *srv)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int kept = 0;
	struct job **p = &srv->jobs;
	while (*p) {
		struct job *j = *p;
		if (j->state == JOB_DONE &&
		    (++kept > JOB_KEEP_DONE || now.tv_sec - j->done_at > JOB_KEEP_S)) {
			*p = j->next;
			job_free(j);
			continue;
		}
		p = &j->next;
	}
}

static void on_sub_close(struct evhttp_connection *conn, void *arg)
{
	struct sse_sub *s = arg;
	struct job *j = s->job;
	(void)conn;
	/* A client that went away mid-stream: libevent 2.1 detaches the
	 * unfinished request from the connection and leaves it to us
	 * (evhttp_connection_incoming_fail). Still attached (the server
	 * shutting down): the connection frees it. */
	if (!evhttp_request_get_connection(s->req))
		evhttp_request_free(s->req);
	for (struct sse_sub **p = &j->subs; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			j->nsubs--;
			break;
		}
	free(s);
}

void jobs_subscribe(struct server *srv, struct job *j,
		    struct evhttp_request *req)
{
	(void)srv;
	if (j->state == JOB_DONE) {
		/* The whole dialogue, ending with "done". */
		struct evbuffer *b = evbuffer_new();
		if (!b) {
			http_send_error(req, 500, "out of memory", 0);
			return;
		}
		evbuffer_add_buffer_reference(b, j->log);
		struct evkeyvalq *h = evhttp_request_get_output_headers(req);
		evhttp_add_header(h, "Content-Type", "text/event-stream");
		evhttp_add_header(h, "Cache-Control", "no-store");
		evhttp_send_reply(req, 200, "OK", b);
		evbuffer_free(b);
		return;
	}
	if (j->nsubs >= JOB_MAX_SUBS) {
		http_send_error(req, 429, "too many streams for this check", 5);
		return;
	}
	struct sse_sub *s = calloc(1, sizeof(*s));
	if (!s) {
		http_send_error(req, 500, "out of memory", 0);
		return;
	}
	s->job = j;
	s->req = req;
	s->conn = evhttp_request_get_connection(req);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", "text/event-stream");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Accel-Buffering", "no"); /* nginx: stream */
	evhttp_send_reply_start(req, 200, "OK");
	evhttp_connection_set_closecb(s->conn, on_sub_close, s);
	s->next = j->subs;
	j->subs = s;
	j->nsubs++;
	/* Everything so far, then live. */
	size_t len = evbuffer_get_length(j->log);
	if (len) {
		struct evbuffer *b = evbuffer_new();
		if (b) {
			evbuffer_add_buffer_reference(b, j->log);
			evhttp_send_reply_chunk(req, b);
			evbuffer_free(b);
		}
	}
}

void jobs_ping(struct server *srv)
{
	static const char ping[] = ": keep-alive\n\n";
	for (struct job *j = srv->jobs; j; j = j->next)
		for (struct sse_sub *s = j->subs; s; s = s->next)
			sub_send(s, ping, sizeof(ping) - 1);
}

int jobs_init(struct server *srv);
int jobs_init(struct server *srv)
{
	srv->flush_ev = evtimer_new(srv->base, on_flush, srv);
	return srv->flush_ev ? 0 : -1;
}

void jobs_shutdown(struct server *srv)
{
	/* Checks finished but not yet written: write them now. */
	if (srv->flush_ev) {
		evtimer_del(srv->flush_ev);
		srv->flush_armed = false;
		on_flush(-1, 0, srv);
	}
	struct job *j = srv->jobs;
	srv->jobs = NULL;
	while (j) {
		struct job *n = j->next;
		if (j->cj)
			check_job_cancel(j->cj);
		job_free(j);
		j = n;
	}
	srv->running = srv->queued = 0;
	if (srv->flush_ev)
		event_free(srv->flush_ev);
	srv->flush_ev = NULL;
}
