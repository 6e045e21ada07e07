/*
 * serve/serve: `relayprobe serve`, the web tool and JSON API. One event
 * loop runs evhttp, the check engine (checks run in the same loop), the
 * scheduler of re-tests and the batched writes to SQLite.
 *
 * Ownership: serve_run borrows the options and the check configuration
 * for its whole run; it returns when SIGINT or SIGTERM arrives.
 */
#ifndef RP_SERVE_SERVE_H
#define RP_SERVE_SERVE_H

#include <stddef.h>
#include <sys/socket.h>

#include "check/config.h"
#include "serve/request.h"

#define SERVE_MAX_HOSTS 16

struct serve_options {
	const char *listen;              /* text, for messages */
	struct sockaddr_storage listen_ss;
	socklen_t listen_len;
	const char *db_path;             /* --db (relayprobe.db) */
	const char *token_file;          /* --token-file, or NULL */
	struct serve_policy policy;      /* --allow-private, --ports,
					    --min-interval */
	int max_checks;                  /* --max-checks: running at once */
	int max_queue;                   /* --queue: waiting beyond that */
	int rate_per_min;                /* --rate: checks a minute per client */
	const char *hosts[SERVE_MAX_HOSTS]; /* --allowed-host */
	size_t nhosts;
	const char *trusted_proxy;       /* --trusted-proxy IP */
	const char *public_url;          /* --public-url, for webhook links */
};

void serve_options_defaults(struct serve_options *o);

/* Runs until SIGINT/SIGTERM. 0, or -1 with err (cannot listen, open the
 * database, read the token file, start the engine). */
int serve_run(const struct serve_options *o, const struct check_config *cfg,
	      char *err, size_t errlen);

/* `relayprobe history TARGET`: prints the target's checks from the
 * database, newest first (text, or JSON). Returns the exit code: 0, or
 * 3 when the database cannot be read. */
int serve_history(const char *db_path, const char *target, int limit,
		  bool json, FILE *out, FILE *errout);

#endif
