/*
 * check/check: runs the check of one target (domain, host, IP, host:port)
 * on an event loop someone else owns. A check_engine holds what all checks
 * on that loop share (TLS contexts, the c-ares resolver, blocklist zones,
 * the --confirm receiver); a check_job is one target: it parses the
 * target, resolves it to every address (MX rules for domains), runs a
 * server_check per address and the DNS facts, and hands back one
 * check_result. `check` runs a batch of jobs to completion (check_run);
 * `scan` and `serve` start jobs on their own loops and keep going.
 *
 * Ownership: the engine borrows cfg (and what it points to) for its whole
 * life. A job belongs to the engine until its done callback has returned:
 * the result passed to done() becomes the callee's (free it with
 * check_result_free), and the job is freed by the engine after done()
 * returns (the job pointer passed to done() is for identity only, and
 * done() must not free the engine). check_job_cancel() may be called at any
 * time before done(), but not from an observer callback; done is then never
 * called. check_engine_free cancels the jobs still running. Jobs finish
 * from an event of their own, never inside a server's or DNS callback.
 */
#ifndef RP_CHECK_CHECK_H
#define RP_CHECK_CHECK_H

#include <stddef.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "check/config.h"
#include "check/result.h"

struct check_engine;
struct check_job;

/* Watching a job as it runs (serve's live transcript). All optional. The
 * server_result is the one being filled; read it only during the call. */
struct check_observer {
	/* A server (address and port) is about to be tested. */
	void (*server_start)(void *arg, const struct server_result *s);
	/* One transcript line (escaped) was recorded for server s. */
	void (*line)(void *arg, const struct server_result *s,
		     const struct transcript_line *l);
	/* Server s is finished (its tests and verdict are final unless
	 * delivery proof is still waiting for tokens). */
	void (*server_done)(void *arg, const struct server_result *s);
	void *arg;
};

/*
 * Decides whether a resolved address may be connected to (serve's SSRF
 * guard). Called with every address just before its server is added; the
 * address checked is exactly the one connected to (no second lookup).
 * Return false with a reason in why to refuse: the server is reported
 * unreachable with error "refused: <why>" and never connected to.
 */
typedef bool (*check_addr_filter)(void *arg, const struct sockaddr *sa,
				  socklen_t len, char *why, size_t whylen);

typedef void (*check_job_done)(void *arg, struct check_job *job,
			       struct check_result *res);

/* NULL with err set (bad zones file, TLS context, resolver, receiver). */
struct check_engine *check_engine_new(struct event_base *base,
				      const struct check_config *cfg,
				      char *err, size_t errlen);
void check_engine_free(struct check_engine *e);

/* Refuse addresses with filter (NULL: allow all). */
void check_engine_set_filter(struct check_engine *e, check_addr_filter f,
			     void *arg);

/*
 * Starts checking target. cfg_override, when not NULL, replaces the
 * engine's configuration for this job (it must share the engine's
 * resolvers, zones, CA file and receiver settings; scan uses it for
 * --checks). Returns NULL with err set for an unusable target (syntax,
 * address family of --source) or no memory.
 */
struct check_job *check_job_start(struct check_engine *e, const char *target,
				  const struct check_config *cfg_override,
				  const struct check_observer *obs,
				  check_job_done done, void *arg, char *err,
				  size_t errlen);
void check_job_cancel(struct check_job *job);

/*
 * Runs targets to completion on a loop of its own. Returns 0 and fills out
 * and nout, or -1 with err set when the check could not run at all (bad
 * target, no memory, event loop failure). A target that cannot be resolved
 * or reached is a result (verdict unreachable), not an error.
 * Ownership: the caller frees each result with check_result_free and the
 * array with free().
 */
int check_run(const struct check_config *cfg, char *const *targets,
	      size_t ntargets, struct check_result ***out, size_t *nout,
	      char *err, size_t errlen);

/* Overall verdict of a result list: the worst server's. */
enum verdict check_overall(struct check_result *const *r, size_t n);

#endif
