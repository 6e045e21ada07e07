#include "scan/scan.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "check/check.h"
#include "check/gate.h"
#include "core/util.h"
#include "report/report.h"
#include "scan/input.h"
#include "scan/resume.h"
#include "scan/shared.h"
#include "scan/status.h"

struct scan;

/* One running target. */
struct sjob {
	struct scan *s;
	struct check_job *job;
	struct sjob *prev, *next;
	char target[SCAN_TARGET_MAX];
};

struct scan {
	const struct scan_options *o;
	struct check_config jcfg; /* what every job runs with */
	struct event_base *base;
	struct check_engine *engine;
	struct conn_gate *gate;
	struct shared_cache *shared;
	FILE *in;
	bool close_in;
	struct scan_reader reader;
	struct addr_set exclude, special;
	struct resume_set done_before;
	int out_fd;
	bool close_out;
	struct sjob *jobs; /* running */
	size_t running, max_running;
	bool eof, stopping, interrupted;
	int error; /* errno of a failed write/read, 0 */
	char errmsg[256];
	/* Counters for the progress line and the exit code. */
	long long total; /* targets of this shard to run, -1 unknown */
	long long finished, skipped, open, suspect;
	struct timespec t0;
	bool progress;
	struct event *refill, *sigint, *sigterm, *ticker;
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---------- output ---------- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One line, one write: a reader (or a resumed run) never sees half a
 * result, short of the disk filling mid-write. */
static void emit(struct scan *s, json_t *line)
{
	char *text = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER)
			  : NULL;
	json_decref(line);
	size_t n = text ? strlen(text) : 0;
	char *buf = text ? realloc(text, n + 2) : NULL;
	if (!buf) {
		free(text);
		s->error = ENOMEM;
		snprintf(s->errmsg, sizeof(s->errmsg), "out of memory");
		return;
	}
	buf[n] = '\n';
	buf[n + 1] = '\0';
	if (!s->error && write_all(s->out_fd, buf, n + 1) < 0) {
		s->error = errno;
		snprintf(s->errmsg, sizeof(s->errmsg), "cannot write the output: %s",
			 strerror(errno));
	}
	free(buf);
}

static json_t *line_head(const char *target, enum scan_status st)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "schema", json_string("relayprobe/1"));
	json_object_set_new(o, "target", json_string(target));
	json_object_set_new(o, "status", json_string(scan_status_name(st)));
	return o;
}

/* A line for a target no check ran for (invalid, excluded). */
static void emit_plain(struct scan *s, const char *target,
		       enum scan_status st, const char *why)
{
	json_t *o = line_head(target, st);
	if (o) {
		json_object_set_new(o, "verdict",
				    json_string(verdict_name(V_UNREACHABLE)));
		json_object_set_new(o, "error", json_string(why));
		json_object_set_new(o, "mx", json_null());
		json_object_set_new(o, "null_mx", json_false());
		json_object_set_new(o, "servers", json_array());
		json_object_set_new(
		    o, "exit_code",
		    json_integer(verdict_exit_code(V_UNREACHABLE)));
	}
	emit(s, o);
	s->finished++;
}

/* A finished line (from scan/shared, which may have held it until a
 * shared server's result was in). */
static void emit_line(void *arg, json_t *line, enum verdict v)
{
	struct scan *s = arg;
	emit(s, line);
	s->finished++;
	if (v == V_OPEN)
		s->open++;
	else if ((v == V_SUSPECT || v == V_INCONCLUSIVE) && s->o->relay)
		s->suspect++; /* without the relay test, no verdict counts */
}

static void finish_result(struct scan *s, struct check_result *r)
{
	enum scan_status st = scan_status_of(r);
	json_t *o = line_head(r->target, st);
	json_t *t = report_target_json(r, s->o->verbose);
	if (o && t) {
		json_object_update(o, t);
		json_object_set_new(o, "exit_code",
				    json_integer(verdict_exit_code(r->verdict)));
	} else {
		json_decref(o);
		o = NULL;
	}
	json_decref(t);
	if (!o) {
		emit(s, NULL); /* records the failure */
		return;
	}
	shared_finish(s->shared, o, r);
}

/* ---------- progress ---------- */

static void progress_line(struct scan *s, bool last)
{
	if (!s->progress)
		return;
	double el = now_s() - ((double)s->t0.tv_sec + (double)s->t0.tv_nsec / 1e9);
	double rate = el > 0 ? (double)s->finished / el : 0;
	char total[32] = "?", eta[32] = "?";
	if (s->total >= 0) {
		snprintf(total, sizeof(total), "%lld", s->total);
		if (rate > 0 && s->total >= s->finished) {
			long left = (long)((double)(s->total - s->finished) / rate);
			snprintf(eta, sizeof(eta), "%ld:%02ld:%02ld", left / 3600,
				 left / 60 % 60, left % 60);
		}
	}
	fprintf(stderr, "\rscan: %lld/%s done, %.1f/s, ETA %s, %zu running, "
			"open relays %lld\033[K%s",
		s->finished, total, rate, eta, s->running, s->open,
		last ? "\n" : "");
	fflush(stderr);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	progress_line(arg, false);
}

/* ---------- jobs ---------- */

static void maybe_finish(struct scan *s)
{
	if ((s->eof || s->stopping || s->error) &&
	    (s->running == 0 || s->stopping) &&
	    (shared_held(s->shared) == 0 || s->stopping))
		event_base_loopexit(s->base, NULL);
}

static void unlink_job(struct scan *s, struct sjob *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		s->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	s->running--;
}

static void on_job_done(void *arg, struct check_job *job,
			struct check_result *res)
{
	struct sjob *j = arg;
	struct scan *s = j->s;
	unlink_job(s, j);
	if (res) {
		finish_result(s, res);
		check_result_free(res);
	} else {
		emit_plain(s, j->target, SCAN_PROTOCOL_ERROR,
			   "the check failed (out of memory)");
	}
	free(j);
	/* Start the next ones from the loop, not from inside this job's
	 * callback. */
	event_active(s->refill, EV_TIMEOUT, 0);
}

static bool addr_filter(void *arg, const struct sockaddr *sa, socklen_t len,
			char *why, size_t whylen)
{
	struct scan *s = arg;
	uint8_t a[16] = {0};
	if (sa->sa_family == AF_INET) {
		a[10] = a[11] = 0xff;
		memcpy(a + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else {
		return true;
	}
	if (addr_set_contains(&s->exclude, a)) {
		snprintf(why, whylen, SCAN_EXCLUDED_WHY " (--exclude)");
		return false;
	}
	if (!shared_claim(s->shared, sa)) {
		snprintf(why, whylen, "%s", SHARED_WHY);
		return false;
	}
	return true;
}

/* Starts one target, or writes its line at once. */
static void take(struct scan *s, const struct scan_item *it)
{
	if (!scan_shard_mine(it->target, s->o->shard_k, s->o->shard_n))
		return;
	if (resume_has(&s->done_before, it->target)) {
		s->skipped++;
		return;
	}
	if (it->kind == SCAN_ITEM_INVALID) {
		emit_plain(s, it->target, SCAN_INVALID_INPUT, it->why);
		return;
	}
	if (it->kind == SCAN_ITEM_EXCLUDED) {
		emit_plain(s, it->target, SCAN_EXCLUDED, it->why);
		return;
	}
	struct sjob *j = calloc(1, sizeof(*j));
	if (!j) {
		s->error = ENOMEM;
		snprintf(s->errmsg, sizeof(s->errmsg), "out of memory");
		return;
	}
	j->s = s;
	snprintf(j->target, sizeof(j->target), "%s", it->target);
	char err[300];
	j->job = check_job_start(s->engine, it->target, NULL, NULL, on_job_done,
				 j, err, sizeof(err));
	if (!j->job) {
		free(j);
		const char *why = strstr(err, "': ");
		emit_plain(s, it->target, SCAN_INVALID_INPUT, why ? why + 3 : err);
		return;
	}
	j->next = s->jobs;
	if (s->jobs)
		s->jobs->prev = j;
	s->jobs = j;
	s->running++;
}

static void fill(struct scan *s)
{
	while (!s->eof && !s->stopping && !s->error &&
	       s->running + shared_held(s->shared) < s->max_running) {
		struct scan_item it;
		int r = scan_reader_next(&s->reader, &it);
		if (r < 0) {
			s->error = errno ? errno : EIO;
			snprintf(s->errmsg, sizeof(s->errmsg),
				 "cannot read the targets: %s", strerror(s->error));
			break;
		}
		if (r == 0) {
			s->eof = true;
			break;
		}
		take(s, &it);
	}
	maybe_finish(s);
}

static void on_refill(evutil_socket_t fd, short what, void *arg)
{
	fill(arg);
}

/* First SIGINT/SIGTERM: no new checks, the running ones cancelled (they
 * have no line yet, so a resumed run does them again), then exit. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct scan *s = arg;
	s->stopping = true;
	s->interrupted = true;
	while (s->jobs) {
		struct sjob *j = s->jobs;
		unlink_job(s, j);
		check_job_cancel(j->job);
		free(j);
	}
	maybe_finish(s);
}

/* ---------- setup ---------- */

/* Counts the targets of this shard in a regular file (for the progress
 * line's total and ETA). -1 when the input is not a file. */
static long long count_targets(struct scan *s)
{
	const char *path = s->o->input;
	struct stat st;
	if (!path || strcmp(path, "-") == 0 || stat(path, &st) < 0 ||
	    !S_ISREG(st.st_mode))
		return -1;
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	struct scan_reader r;
	scan_reader_init(&r, f, &s->reader.cfg);
	struct scan_item it;
	long long n = 0;
	while (scan_reader_next(&r, &it) > 0)
		if (scan_shard_mine(it.target, s->o->shard_k, s->o->shard_n) &&
		    !resume_has(&s->done_before, it.target))
			n++;
	fclose(f);
	return n;
}

static int setup_files(struct scan *s, char *err, size_t errlen)
{
	const struct scan_options *o = s->o;
	if (o->exclude) {
		FILE *f = fopen(o->exclude, "r");
		if (!f) {
			snprintf(err, errlen, "cannot open %s: %s", o->exclude,
				 strerror(errno));
			return -1;
		}
		char e[200];
		int r = addr_set_load(&s->exclude, f, e, sizeof(e));
		fclose(f);
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", o->exclude, e);
			return -1;
		}
	}
	if (addr_set_add_special(&s->special) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const char *out = o->output ? o->output : o->resume;
	off_t good_end = -1;
	if (o->resume) {
		FILE *f = fopen(o->resume, "r");
		if (!f && errno != ENOENT) {
			snprintf(err, errlen, "cannot open %s: %s", o->resume,
				 strerror(errno));
			return -1;
		}
		if (f) {
			char e[200];
			off_t end;
			long n = resume_load(&s->done_before, f, &end, e,
					     sizeof(e));
			fclose(f);
			if (n < 0) {
				snprintf(err, errlen, "%s: %s", o->resume, e);
				return -1;
			}
			if (out && strcmp(out, o->resume) == 0)
				good_end = end;
		}
	}
	if (!o->input || strcmp(o->input, "-") == 0) {
		s->in = stdin;
	} else {
		s->in = fopen(o->input, "r");
		if (!s->in) {
			snprintf(err, errlen, "cannot open %s: %s", o->input,
				 strerror(errno));
			return -1;
		}
		s->close_in = true;
	}
	if (!out) {
		s->out_fd = STDOUT_FILENO;
		return 0;
	}
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC |
		    (o->resume ? O_APPEND : O_TRUNC);
	s->out_fd = open(out, flags, 0644);
	if (s->out_fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", out, strerror(errno));
		return -1;
	}
	s->close_out = true;
	/* A line cut short by a kill: drop it, it is done again. */
	if (good_end >= 0) {
		struct stat st;
		if (fstat(s->out_fd, &st) == 0 && st.st_size > good_end &&
		    ftruncate(s->out_fd, good_end) < 0) {
			snprintf(err, errlen, "cannot cut %s: %s", out,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Each session needs a descriptor; keep some for files and DNS. */
static unsigned fd_cap(unsigned want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return want;
	rlim_t room = rl.rlim_cur > 128 ? rl.rlim_cur - 128 : 16;
	return (rlim_t)want > room ? (unsigned)room : want;
}

int scan_run(const struct scan_options *o, const struct check_config *cfg,
	     char *err, size_t errlen)
{
	struct scan *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return SCAN_EXIT_ERROR;
	}
	int rc = SCAN_EXIT_ERROR;
	s->o = o;
	s->out_fd = -1;
	s->jcfg = *cfg;
	/* Transcripts cost memory per live check: only with -v. */
	if (!o->verbose)
		s->jcfg.max_transcript = 0;
	s->jcfg.no_relay = !o->relay;
	/* Each live session holds a reply-line buffer: RFC 5321 lines are at
	 * most 512 bytes, so 1 KB is generous (check keeps 4 KB). */
	if (s->jcfg.limits.max_line > 1024)
		s->jcfg.limits.max_line = 1024;
	if (!o->audit)
		s->jcfg.no_audit = true;
	if (!o->blocklist)
		s->jcfg.no_dns_checks = true;
	unsigned conc = fd_cap(o->concurrency ? o->concurrency : 1);
	if (conc < o->concurrency)
		fprintf(stderr,
			"relayprobe: -c %u is more than the descriptor limit "
			"allows; using %u\n",
			o->concurrency, conc);
	/* Checks at once: each wants up to --sessions sessions (3), one while
	 * it reads the banner; half of -c keeps the sessions busy without
	 * checks idling in the gate's queue, holding memory. */
	s->max_running = conc / 2 > 0 ? conc / 2 : 1;
	if (setup_files(s, err, errlen) < 0)
		goto out;
	struct scan_reader_config rc_cfg = {
	    .max_cidr_bits = o->max_cidr_bits,
	    .include_special = o->include_special,
	    .exclude = &s->exclude,
	    .special = &s->special,
	};
	scan_reader_init(&s->reader, s->in, &rc_cfg);
	s->progress = o->progress > 0 || (o->progress < 0 && isatty(STDERR_FILENO));
	s->total = s->progress ? count_targets(s) : -1;

	/* Thousands of sessions switch between reading and writing every
	 * round trip: let epoll coalesce those changes per loop iteration. */
	struct event_config *ec = event_config_new();
	if (ec)
		event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	s->base = ec ? event_base_new_with_config(ec) : NULL;
	if (ec)
		event_config_free(ec);
	if (!s->base)
		s->base = event_base_new();
	if (!s->base) {
		snprintf(err, errlen, "cannot create the event loop");
		goto out;
	}
	s->shared = shared_new(emit_line, s);
	if (!s->shared) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	s->gate = gate_new(s->base, conc, o->per_address ? o->per_address : 1,
			   o->rate);
	if (!s->gate) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	s->jcfg.gate = s->gate;
	s->engine = check_engine_new(s->base, &s->jcfg, err, errlen);
	if (!s->engine)
		goto out;
	check_engine_set_filter(s->engine, addr_filter, s);
	s->refill = event_new(s->base, -1, 0, on_refill, s);
	s->sigint = evsignal_new(s->base, SIGINT, on_signal, s);
	s->sigterm = evsignal_new(s->base, SIGTERM, on_signal, s);
	s->ticker = event_new(s->base, -1, EV_PERSIST, on_tick, s);
	if (!s->refill || !s->sigint || !s->sigterm || !s->ticker ||
	    event_add(s->sigint, NULL) < 0 || event_add(s->sigterm, NULL) < 0) {
		snprintf(err, errlen, "cannot set up the event loop");
		goto out;
	}
	if (s->progress) {
		struct timeval tv = {1, 0};
		event_add(s->ticker, &tv);
	}
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	event_active(s->refill, EV_TIMEOUT, 0);
	if (event_base_dispatch(s->base) < 0) {
		snprintf(err, errlen, "event loop failure");
		goto out;
	}
	progress_line(s, true);
	if (s->error) {
		snprintf(err, errlen, "%s", s->errmsg);
		rc = SCAN_EXIT_ERROR;
	} else if (s->interrupted) {
		rc = SCAN_EXIT_INTERRUPTED;
	} else {
		rc = s->open ? SCAN_EXIT_OPEN
		     : s->suspect ? SCAN_EXIT_SUSPECT
				  : SCAN_EXIT_CLEAN;
	}
out:
	while (s->jobs) {
		struct sjob *j = s->jobs;
		unlink_job(s, j);
		check_job_cancel(j->job);
		free(j);
	}
	check_engine_free(s->engine);
	shared_free(s->shared);
	gate_free(s->gate);
	if (s->refill)
		event_free(s->refill);
	if (s->sigint)
		event_free(s->sigint);
	if (s->sigterm)
		event_free(s->sigterm);
	if (s->ticker)
		event_free(s->ticker);
	if (s->base)
		event_base_free(s->base);
	if (s->close_in)
		fclose(s->in);
	if (s->close_out && close(s->out_fd) < 0 && rc != SCAN_EXIT_ERROR) {
		snprintf(err, errlen, "cannot write the output: %s",
			 strerror(errno));
		rc = SCAN_EXIT_ERROR;
	}
	addr_set_free(&s->exclude);
	addr_set_free(&s->special);
	resume_free(&s->done_before);
	free(s);
	return rc;
}
