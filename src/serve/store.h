/*
 * serve/store: the SQLite database behind `serve` and `history`: finished
 * checks (the result's JSON document plus indexed columns: target, time,
 * verdict) and scheduled re-tests. Opens in WAL mode with
 * synchronous=FULL and migrates the schema by version (table
 * schema_version) so an old database opens in a new release.
 *
 * Durability: serve reports a check complete only after the transaction
 * holding it has committed. WAL + FULL fsyncs the WAL at every commit, so
 * a committed check survives kill -9 (NORMAL would too: the data is in the
 * kernel) and also a power loss (NORMAL would not). The cost, one fsync
 * per commit, is paid once per batch: serve writes every check finished
 * in the same short window in one transaction (store_put_checks).
 *
 * Ownership: a store is used from one thread. Records returned are the
 * caller's: free with store_check_clear / store_schedules_free.
 */
#ifndef RP_SERVE_STORE_H
#define RP_SERVE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

#define STORE_ID_LEN 32 /* hex characters of a check id */

struct store_check {
	char id[STORE_ID_LEN + 1];
	char *target;       /* as submitted (trimmed) */
	int64_t started;    /* unix seconds */
	int64_t finished;
	char verdict[16];
	long duration_ms;
	char source[16];    /* "api", "web", "schedule" */
	char *json;         /* the result document (report_result_json) */
};

struct store_schedule {
	int64_t id;
	char *target;
	int interval_s;
	char *webhook;      /* URL, or NULL */
	int64_t created;
	int64_t next_run;   /* unix seconds */
	char last_check[STORE_ID_LEN + 1]; /* "" before the first run */
};

/* readonly: for `history` (no migrations; a missing file is an error). */
int store_open(const char *path, bool readonly, struct store **out,
	       char *err, size_t errlen);
void store_close(struct store *st);
/* The schema version the database is at. */
int store_version(struct store *st);

/* Writes all n checks in one transaction. 0, or -1 with err (nothing
 * written). */
int store_put_checks(struct store *st, const struct store_check *v, size_t n,
		     char *err, size_t errlen);
/* 0 found, 1 not found, -1 error. */
int store_get_check(struct store *st, const char *id, struct store_check *out);
/* The newest check of target finished before `before` (0: any), without
 * its JSON unless with_json. 0 found, 1 none, -1 error. */
int store_previous(struct store *st, const char *target, int64_t before,
		   const char *not_id, bool with_json, struct store_check *out);
/* Up to limit checks of target, newest first; json filled when with_json.
 * 0 or -1. */
int store_history(struct store *st, const char *target, int limit,
		  bool with_json, struct store_check **out, size_t *n);
/* 0 deleted, 1 not found, -1 error. */
int store_delete_check(struct store *st, const char *id);
void store_check_clear(struct store_check *c);
void store_checks_free(struct store_check *v, size_t n);

/* Schedules. add: -1 error, 0 ok (*id set), 1 target already scheduled. */
int store_schedule_add(struct store *st, const char *target, int interval_s,
		       const char *webhook, int64_t now, int64_t *id);
int store_schedule_list(struct store *st, struct store_schedule **out,
			size_t *n);
/* 0 deleted, 1 not found, -1 error. */
int store_schedule_delete(struct store *st, int64_t id);
/* next_run < 0 keeps it; last_check NULL keeps it. */
int store_schedule_update(struct store *st, int64_t id, int64_t next_run,
			  const char *last_check);
void store_schedules_free(struct store_schedule *v, size_t n);

#endif
