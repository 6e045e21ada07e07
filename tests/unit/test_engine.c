/*
 * The check engine's job life cycle on a loop the test owns: done() gets
 * the result, the observer sees servers and transcript lines, cancel stops
 * a job without done(), the address filter refuses before any connection,
 * and freeing the engine with jobs running cleans up. The only peer is a
 * loopback port nobody listens on (connection refused) or a loopback
 * listener the test holds (accepts, never answers).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "check/check.h"
#include "check/config.h"

struct seen {
	int done, starts, lines, server_done;
	struct check_result *res;
	struct event_base *base;
};

static void on_done(void *arg, struct check_job *job, struct check_result *r)
{
	(void)job;
	struct seen *s = arg;
	s->done++;
	s->res = r;
	event_base_loopexit(s->base, NULL);
}

static void obs_start(void *arg, const struct server_result *sr)
{
	(void)sr;
	((struct seen *)arg)->starts++;
}

static void obs_line(void *arg, const struct server_result *sr,
		     const struct transcript_line *l)
{
	(void)sr;
	assert_non_null(l->text);
	((struct seen *)arg)->lines++;
}

static void obs_done(void *arg, const struct server_result *sr)
{
	(void)sr;
	((struct seen *)arg)->server_done++;
}

/* A loopback port with nothing listening: bind, read the port, close. */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t l = sizeof(sa);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &l), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static void config(struct check_config *c)
{
	check_config_defaults(c);
	c->no_dns_checks = true;
	c->max_attempts = 1;
	c->timeouts.connect_ms = 2000;
}

static void test_refused_port_is_unreachable(void **st)
{
	(void)st;
	struct check_config cfg;
	config(&cfg);
	struct seen s = {0};
	s.base = event_base_new();
	char err[256];
	struct check_engine *e = check_engine_new(s.base, &cfg, err, sizeof(err));
	assert_non_null(e);
	char target[64];
	snprintf(target, sizeof(target), "127.0.0.1:%d", free_port());
	struct check_observer o = {obs_start, obs_line, obs_done, &s};
	assert_non_null(check_job_start(e, target, NULL, &o, on_done, &s, err,
					sizeof(err)));
	assert_int_equal(s.done, 0); /* never inside check_job_start */
	event_base_dispatch(s.base);
	assert_int_equal(s.done, 1);
	assert_non_null(s.res);
	assert_int_equal(s.res->nservers, 1);
	assert_int_equal(s.res->servers[0].verdict, V_UNREACHABLE);
	assert_int_equal(s.starts, 1);
	assert_int_equal(s.server_done, 1);
	assert_true(s.lines >= 1); /* at least "connecting to ..." */
	assert_int_equal((int)s.res->servers[0].transcript.n, s.lines);
	check_result_free(s.res);
	check_engine_free(e);
	event_base_free(s.base);
}

static bool refuse_all(void *arg, const struct sockaddr *sa, socklen_t len,
		       char *why, size_t whylen)
{
	(void)sa;
	(void)len;
	(*(int *)arg)++;
	snprintf(why, whylen, "test policy");
	return false;
}

static void test_filter_refuses_before_connecting(void **st)
{
	(void)st;
	struct check_config cfg;
	config(&cfg);
	struct seen s = {0};
	s.base = event_base_new();
	char err[256];
	struct check_engine *e = check_engine_new(s.base, &cfg, err, sizeof(err));
	int calls = 0;
	check_engine_set_filter(e, refuse_all, &calls);
	struct check_observer o = {obs_start, obs_line, obs_done, &s};
	assert_non_null(check_job_start(e, "[::1]:2525", NULL, &o, on_done, &s,
					err, sizeof(err)));
	event_base_dispatch(s.base);
	assert_int_equal(calls, 1);
	assert_int_equal(s.done, 1);
	assert_int_equal(s.starts, 0); /* no server was started */
	assert_int_equal(s.res->servers[0].verdict, V_UNREACHABLE);
	assert_string_equal(s.res->servers[0].error, "refused: test policy");
	assert_int_equal(s.res->servers[0].sessions, 0);
	check_result_free(s.res);
	check_engine_free(e);
	event_base_free(s.base);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopexit(arg, NULL);
}

static void test_cancel_and_free_with_jobs(void **st)
{
	(void)st;
	/* A listener that accepts (the kernel does) and never answers. */
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t l = sizeof(sa);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &l), 0);
	char target[64];
	snprintf(target, sizeof(target), "127.0.0.1:%d", ntohs(sa.sin_port));

	struct check_config cfg;
	config(&cfg);
	struct seen s = {0};
	s.base = event_base_new();
	char err[256];
	struct check_engine *e = check_engine_new(s.base, &cfg, err, sizeof(err));
	struct check_job *a = check_job_start(e, target, NULL, NULL, on_done,
					      &s, err, sizeof(err));
	struct check_job *b = check_job_start(e, target, NULL, NULL, on_done,
					      &s, err, sizeof(err));
	assert_non_null(a);
	assert_non_null(b);
	/* Let them connect and wait for a greeting, then cancel one. */
	struct event *tick = evtimer_new(s.base, on_tick, s.base);
	struct timeval tv = {0, 200000};
	evtimer_add(tick, &tv);
	event_base_dispatch(s.base);
	check_job_cancel(a);
	check_job_cancel(a); /* twice is harmless */
	evtimer_add(tick, &tv);
	event_base_dispatch(s.base);
	assert_int_equal(s.done, 0);
	/* b still runs: freeing the engine cancels and frees it. */
	check_engine_free(e);
	assert_int_equal(s.done, 0);
	event_free(tick);
	event_base_free(s.base);
	close(lfd);
}

static void test_bad_target_is_an_error(void **st)
{
	(void)st;
	struct check_config cfg;
	config(&cfg);
	struct event_base *base = event_base_new();
	char err[256] = "";
	struct check_engine *e = check_engine_new(base, &cfg, err, sizeof(err));
	assert_null(check_job_start(e, "127.0.0.1:99999", NULL, NULL, NULL,
				    NULL, err, sizeof(err)));
	assert_true(strlen(err) > 0);
	check_engine_free(e);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refused_port_is_unreachable),
	    cmocka_unit_test(test_filter_refuses_before_connecting),
	    cmocka_unit_test(test_cancel_and_free_with_jobs),
	    cmocka_unit_test(test_bad_target_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
