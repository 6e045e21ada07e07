/*
 * serve/serve: serve_run builds the server (database, check engine with
 * the address filter, HTTP, scheduler) on one event loop and tears it
 * down in reverse order on SIGINT/SIGTERM, writing the checks that
 * finished but were not yet saved.
 */
#include "serve/serve.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "serve/server.h"

int jobs_init(struct server *srv);

void serve_options_defaults(struct serve_options *o)
{
	memset(o, 0, sizeof(*o));
	serve_policy_defaults(&o->policy);
	o->db_path = "relayprobe.db";
	o->max_checks = 4;
	o->max_queue = 32;
	o->rate_per_min = 6;
}

static int read_token(const char *path, char *out, size_t outlen, char *err,
		      size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read --token-file %s", path);
		return -1;
	}
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0004))
		fprintf(stderr,
			"relayprobe serve: warning: %s is readable by "
			"everyone\n",
			path);
	char line[512];
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	size_t n = strcspn(line, "\r\n");
	line[n] = '\0';
	while (n && isspace((unsigned char)line[n - 1]))
		line[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)line[i])) {
			snprintf(err, errlen, "--token-file: the token must be "
					      "printable, without spaces");
			return -1;
		}
	if (n < 16 || n >= outlen) {
		snprintf(err, errlen,
			 "--token-file: the token must be 16 to %zu characters "
			 "(e.g. openssl rand -hex 32)",
			 outlen - 1);
		return -1;
	}
	memcpy(out, line, n + 1);
	return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int serve_run(const struct serve_options *o, const struct check_config *cfg,
	      char *err, size_t errlen)
{
	struct server srv;
	memset(&srv, 0, sizeof(srv));
	srv.opt = o;
	srv.cfg = cfg;
	int rc = -1;
	struct event *sigint = NULL, *sigterm = NULL;
	if (o->token_file &&
	    read_token(o->token_file, srv.token, sizeof(srv.token), err,
		       errlen) < 0)
		return -1;
	srv.base = event_base_new();
	if (!srv.base) {
		snprintf(err, errlen, "cannot create the event loop");
		return -1;
	}
	double per_s = (double)o->rate_per_min / 60.0;
	srv.rl_checks = ratelimit_new(4096, per_s, o->rate_per_min);
	srv.rl_requests = ratelimit_new(4096, 20.0, 200.0);
	if (!srv.rl_checks || !srv.rl_requests) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (store_open(o->db_path, false, &srv.store, err, errlen) < 0)
		goto out;
	srv.engine = check_engine_new(srv.base, cfg, err, errlen);
	if (!srv.engine)
		goto out;
	check_engine_set_filter(srv.engine, jobs_addr_filter, &srv);
	if (jobs_init(&srv) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (http_start(&srv, err, errlen) < 0 ||
	    scheduler_start(&srv, err, errlen) < 0)
		goto out;
	sigint = evsignal_new(srv.base, SIGINT, on_signal, srv.base);
	sigterm = evsignal_new(srv.base, SIGTERM, on_signal, srv.base);
	if (!sigint || !sigterm || evsignal_add(sigint, NULL) < 0 ||
	    evsignal_add(sigterm, NULL) < 0) {
		snprintf(err, errlen, "cannot catch signals");
		goto out;
	}
	fprintf(stderr,
		"relayprobe serve: listening on http://%s/ (database %s%s%s)\n",
		o->listen, o->db_path,
		o->policy.allow_private ? ", private addresses allowed" : "",
		srv.token[0] ? ", API token set" : "");
	if (event_base_dispatch(srv.base) < 0) {
		snprintf(err, errlen, "event loop failed");
		goto out;
	}
	fprintf(stderr, "relayprobe serve: stopping\n");
	rc = 0;
out:
	http_stop(&srv); /* no new requests; open streams are closed */
	jobs_shutdown(&srv);
	scheduler_stop(&srv);
	if (srv.engine)
		check_engine_free(srv.engine);
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	store_close(srv.store);
	ratelimit_free(srv.rl_checks);
	ratelimit_free(srv.rl_requests);
	event_base_free(srv.base);
	return rc;
}
