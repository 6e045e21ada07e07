/* Unit tests for serve/store: schema migrations, checks and history,
 * schedules, reopening, read-only use (a real SQLite file in /tmp). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "serve/store.h"

static char path[64];

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/tmp/rp-store-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	unlink(path); /* store_open creates it */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char p[96];
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	return 0;
}

static struct store_check mk(const char *id, const char *target,
			     int64_t finished, const char *verdict)
{
	struct store_check c;
	memset(&c, 0, sizeof(c));
	snprintf(c.id, sizeof(c.id), "%s", id);
	c.target = (char *)target;
	c.started = finished - 1;
	c.finished = finished;
	snprintf(c.verdict, sizeof(c.verdict), "%s", verdict);
	c.duration_ms = 1000;
	snprintf(c.source, sizeof(c.source), "api");
	c.json = (char *)"{\"verdict\":\"x\"}";
	return c;
}

static void checks_and_history(void **state)
{
	(void)state;
	struct store *st;
	char err[256];
	assert_int_equal(store_open(path, false, &st, err, sizeof(err)), 0);
	assert_int_equal(store_version(st), 1);
	struct store_check v[] = {
		mk("a1", "mx.example.com", 100, "closed"),
		mk("a2", "mx.example.com", 200, "open"),
		mk("b1", "other.example", 150, "closed"),
		mk("a3", "mx.example.com", 300, "closed"),
	};
	assert_int_equal(store_put_checks(st, v, 4, err, sizeof(err)), 0);

	struct store_check c;
	assert_int_equal(store_get_check(st, "a2", &c), 0);
	assert_string_equal(c.target, "mx.example.com");
	assert_string_equal(c.verdict, "open");
	assert_string_equal(c.json, "{\"verdict\":\"x\"}");
	assert_int_equal(c.finished, 200);
	store_check_clear(&c);
	assert_int_equal(store_get_check(st, "nope", &c), 1);
	/* SQL metacharacters are data, not SQL. */
	assert_int_equal(store_get_check(st, "' OR 1=1 --", &c), 1);

	struct store_check *h;
	size_t n;
	assert_int_equal(store_history(st, "mx.example.com", 10, false, &h, &n),
			 0);
	assert_int_equal(n, 3);
	assert_string_equal(h[0].id, "a3");
	assert_string_equal(h[1].id, "a2");
	assert_string_equal(h[2].id, "a1");
	assert_null(h[0].json);
	store_checks_free(h, n);
	assert_int_equal(store_history(st, "mx.example.com", 2, true, &h, &n),
			 0);
	assert_int_equal(n, 2);
	assert_non_null(h[1].json);
	store_checks_free(h, n);
	assert_int_equal(store_history(st, "none", 10, false, &h, &n), 0);
	assert_int_equal(n, 0);
	store_checks_free(h, n);

	/* The run before a3 is a2. */
	assert_int_equal(store_previous(st, "mx.example.com", 300, "a3", true,
					&c),
			 0);
	assert_string_equal(c.id, "a2");
	store_check_clear(&c);
	assert_int_equal(store_previous(st, "mx.example.com", 100, "a1", false,
					&c),
			 1);
	store_close(st);

	/* Reopened (read-only as `history` does): everything is there. */
	assert_int_equal(store_open(path, true, &st, err, sizeof(err)), 0);
	assert_int_equal(store_get_check(st, "a1", &c), 0);
	store_check_clear(&c);
	char e2[256];
	struct store_check bad = mk("z", "t", 1, "closed");
	assert_int_equal(store_put_checks(st, &bad, 1, e2, sizeof(e2)), -1);
	store_close(st);
}

static void schedules(void **state)
{
	(void)state;
	struct store *st;
	char err[256];
	assert_int_equal(store_open(path, false, &st, err, sizeof(err)), 0);
	int64_t id1, id2, id3;
	assert_int_equal(store_schedule_add(st, "mx.example.com", 3600,
					    "http://127.0.0.1:9/hook", 1000,
					    &id1),
			 0);
	assert_int_equal(store_schedule_add(st, "b.example", 7200, NULL, 1000,
					    &id2),
			 0);
	assert_int_equal(store_schedule_add(st, "mx.example.com", 60, NULL, 1,
					    &id3),
			 1);
	assert_int_equal(store_schedule_update(st, id1, 4600, "a1"), 0);
	struct store_schedule *v;
	size_t n;
	assert_int_equal(store_schedule_list(st, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, id1);
	assert_int_equal(v[0].interval_s, 3600);
	assert_int_equal(v[0].next_run, 4600);
	assert_string_equal(v[0].last_check, "a1");
	assert_string_equal(v[0].webhook, "http://127.0.0.1:9/hook");
	assert_null(v[1].webhook);
	assert_int_equal(v[1].next_run, 1000);
	store_schedules_free(v, n);
	assert_int_equal(store_schedule_delete(st, id2), 0);
	assert_int_equal(store_schedule_delete(st, id2), 1);
	assert_int_equal(store_schedule_list(st, &v, &n), 0);
	assert_int_equal(n, 1);
	store_schedules_free(v, n);
	store_close(st);
}

static void refuses_foreign_and_newer(void **state)
{
	(void)state;
	struct store *st;
	char err[256];
	/* A read-only open of a file that is not our database. */
	assert_int_equal(store_open("/nonexistent/x.db", true, &st, err,
				    sizeof(err)),
			 -1);
	assert_true(err[0] != '\0');
	assert_int_equal(store_open(path, false, &st, err, sizeof(err)), 0);
	store_close(st);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE schema_version SET version=99",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(path, false, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "newer"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(checks_and_history, setup,
						teardown),
		cmocka_unit_test_setup_teardown(schedules, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_foreign_and_newer,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
