/*
 * serve/server: the state `serve` shares between its parts (http_server,
 * http_api, jobs, scheduler, metrics): one struct server per process,
 * passed to every callback. Not a public interface: serve/serve.h is.
 *
 * Ownership: the server owns the jobs, their SSE subscribers and the
 * webhook connections; serve_run frees them all at the end.
 */
#ifndef RP_SERVE_SERVER_H
#define RP_SERVE_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "check/check.h"
#include "serve/ratelimit.h"
#include "serve/serve.h"
#include "serve/store.h"

#define JOB_LOG_MAX (2u << 20)  /* bytes of SSE events kept per check */
#define JOB_MAX_SUBS 16         /* event streams per check */

struct metrics {
	uint64_t checks[6];         /* by verdict (enum verdict order) +
				       [5] failed to start */
	uint64_t open_relays;       /* servers found open */
	uint64_t listings;          /* blocklist listings found */
	uint64_t rejected_rate, rejected_busy, rejected_invalid,
	    rejected_policy;
	uint64_t ssrf_refused;      /* addresses refused at connect time */
	uint64_t alerts, webhook_ok, webhook_failed;
	uint64_t store_failures;
	uint64_t http_requests;
	/* check duration histogram (seconds) */
	uint64_t dur_bucket[8];
	double dur_sum;
	uint64_t dur_count;
};

struct sse_sub;

/* DONE: saved and reported; kept a while (JOB_KEEP_DONE, JOB_KEEP_S) so
 * a stream opened late still replays the whole dialogue. */
enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_SAVING, JOB_DONE };
#define JOB_KEEP_DONE 32
#define JOB_KEEP_S 300

struct job {
	struct server *srv;
	char id[STORE_ID_LEN + 1];
	char target[300];
	char source[16];
	int64_t schedule_id;        /* 0: not a scheduled run */
	enum job_state state;
	int64_t started;            /* unix seconds */
	struct timespec t0;
	struct check_job *cj;
	struct check_observer obs;
	struct evbuffer *log;       /* every SSE event so far */
	bool log_full;
	struct sse_sub *subs;
	size_t nsubs;
	/* Filled when the check is done. */
	char *json;
	char verdict[16];
	long duration_ms;
	int64_t finished;
	int open_servers, listings;
	int64_t done_at;        /* monotonic seconds */
	struct job *next;
};

struct server {
	const struct serve_options *opt;
	const struct check_config *cfg;
	struct event_base *base;
	struct evhttp *http;
	struct check_engine *engine;
	struct store *store;
	struct ratelimit *rl_checks;   /* check starts per client */
	struct ratelimit *rl_requests; /* all requests per client */
	char token[256];               /* "" when no --token-file */
	struct job *jobs;              /* queued, running and saving */
	int running, queued;
	struct event *flush_ev;
	bool flush_armed;
	struct event *tick_ev;         /* scheduler */
	struct event *ping_ev;         /* SSE keep-alives */
	struct evdns_base *dns;        /* webhooks */
	SSL_CTX *webhook_tls;
	struct metrics m;
	int64_t schedules;             /* count, for /metrics */
	unsigned ticks;                /* scheduler ticks (seconds) */
};

/* http_server.c */
int http_start(struct server *srv, char *err, size_t errlen);
void http_stop(struct server *srv);
/* Sends a JSON document (takes the reference) with status code. */
void http_send_json(struct evhttp_request *req, int code, json_t *doc);
/* {"error": msg} with status code (and Retry-After when retry_s > 0). */
void http_send_error(struct evhttp_request *req, int code, const char *msg,
		     int retry_s);
/* The client's rate-limit key (peer, or the trusted proxy's
 * X-Forwarded-For). */
void http_client_key(struct server *srv, struct evhttp_request *req,
		     char *key, size_t keylen);

/* http_api.c: /api/v1/..., /metrics, /healthz. */
void api_handle(struct server *srv, struct evhttp_request *req,
		const char *path);

/* jobs.c */
enum job_submit { JOB_STARTED, JOB_WAITING, JOB_BUSY, JOB_FAILED };
enum job_submit jobs_submit(struct server *srv, const char *target,
			    const char *source, int64_t schedule_id,
			    struct job **out, char *err, size_t errlen);
struct job *jobs_find(struct server *srv, const char *id);
/* Position in the queue (1-based), 0 when running. */
int jobs_queue_position(struct server *srv, const struct job *j);
/* GET .../events: streams the job's events (replayed from the start). */
void jobs_subscribe(struct server *srv, struct job *j,
		    struct evhttp_request *req);
bool jobs_running_schedule(struct server *srv, int64_t schedule_id);
/* Writes every check still waiting to be saved; cancels running ones. */
void jobs_shutdown(struct server *srv);
/* The engine's address filter (the SSRF guard). */
bool jobs_addr_filter(void *arg, const struct sockaddr *sa, socklen_t len,
		      char *why, size_t whylen);
void jobs_ping(struct server *srv);
/* Forgets finished checks kept beyond JOB_KEEP_DONE / JOB_KEEP_S. */
void jobs_reap(struct server *srv);
/* Drops a finished check kept in memory (deleted by the API). */
void jobs_forget(struct server *srv, struct job *j);

/* scheduler.c */
int scheduler_start(struct server *srv, char *err, size_t errlen);
void scheduler_stop(struct server *srv);
/* A scheduled check was saved: compare with the run before, alert. */
void scheduler_check_saved(struct server *srv, const struct job *j);

/* metrics.c */
void metrics_check_done(struct metrics *m, const char *verdict,
			long duration_ms, int open_servers, int listings);
/* Prometheus text exposition. */
void metrics_render(const struct server *srv, struct evbuffer *out);

#endif
