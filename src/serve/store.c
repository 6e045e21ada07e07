#include "serve/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/util.h"

struct store {
	sqlite3 *db;
};

/* Migration i brings the schema from version i to i+1. Never edit one
 * that has shipped: append. */
static const char *const migrations[] = {
	/* 1: checks and schedules */
	"CREATE TABLE checks ("
	"  id TEXT PRIMARY KEY,"
	"  target TEXT NOT NULL,"
	"  started INTEGER NOT NULL,"
	"  finished INTEGER NOT NULL,"
	"  verdict TEXT NOT NULL,"
	"  duration_ms INTEGER NOT NULL,"
	"  source TEXT NOT NULL,"
	"  result TEXT NOT NULL);"
	"CREATE INDEX checks_target_finished ON checks(target, finished);"
	"CREATE INDEX checks_verdict ON checks(verdict);"
	"CREATE TABLE schedules ("
	"  id INTEGER PRIMARY KEY,"
	"  target TEXT NOT NULL UNIQUE,"
	"  interval_s INTEGER NOT NULL,"
	"  webhook TEXT,"
	"  created INTEGER NOT NULL,"
	"  next_run INTEGER NOT NULL,"
	"  last_check TEXT NOT NULL DEFAULT '');",
};

static int exec(struct store *st, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "database: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int store_version(struct store *st)
{
	sqlite3_stmt *s;
	int v = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT version FROM schema_version",
			       -1, &s, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int migrate(struct store *st, char *err, size_t errlen)
{
	if (exec(st, "CREATE TABLE IF NOT EXISTS schema_version (version "
		     "INTEGER NOT NULL);",
		 err, errlen) < 0)
		return -1;
	int v = store_version(st);
	int latest = (int)RP_ARRAY_LEN(migrations);
	if (v > latest) {
		snprintf(err, errlen,
			 "database schema version %d is newer than this "
			 "relayprobe (%d)",
			 v, latest);
		return -1;
	}
	for (; v < latest; v++) {
		char upd[128];
		snprintf(upd, sizeof(upd),
			 "DELETE FROM schema_version;"
			 "INSERT INTO schema_version VALUES (%d);",
			 v + 1);
		if (exec(st, "BEGIN IMMEDIATE", err, errlen) < 0)
			return -1;
		if (exec(st, migrations[v], err, errlen) < 0 ||
		    exec(st, upd, err, errlen) < 0 ||
		    exec(st, "COMMIT", err, errlen) < 0) {
			exec(st, "ROLLBACK", err, 0);
			return -1;
		}
	}
	return 0;
}

int store_open(const char *path, bool readonly, struct store **out,
	       char *err, size_t errlen)
{
	*out = NULL;
	struct store *st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int flags = readonly ? SQLITE_OPEN_READONLY
			     : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: %s", path,
			 st->db ? sqlite3_errmsg(st->db) : "out of memory");
		store_close(st);
		return -1;
	}
	/* A reader (history) may meet serve's writer: wait, don't fail. */
	sqlite3_busy_timeout(st->db, 5000);
	if (!readonly &&
	    (exec(st, "PRAGMA journal_mode=WAL", err, errlen) < 0 ||
	     exec(st, "PRAGMA synchronous=FULL", err, errlen) < 0 ||
	     exec(st, "PRAGMA foreign_keys=ON", err, errlen) < 0 ||
	     migrate(st, err, errlen) < 0)) {
		store_close(st);
		return -1;
	}
	if (readonly && store_version(st) < 1) {
		snprintf(err, errlen, "%s is not a relayprobe database", path);
		store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	sqlite3_close(st->db);
	free(st);
}

int store_put_checks(struct store *st, const struct store_check *v, size_t n,
		     char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	if (exec(st, "BEGIN IMMEDIATE", err, errlen) < 0)
		return -1;
	if (sqlite3_prepare_v2(st->db,
			       "INSERT OR REPLACE INTO checks (id, target, "
			       "started, finished, verdict, duration_ms, "
			       "source, result) VALUES (?,?,?,?,?,?,?,?)",
			       -1, &s, NULL) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, v[i].id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, v[i].target, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, v[i].started);
		sqlite3_bind_int64(s, 4, v[i].finished);
		sqlite3_bind_text(s, 5, v[i].verdict, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 6, v[i].duration_ms);
		sqlite3_bind_text(s, 7, v[i].source, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 8, v[i].json ? v[i].json : "{}", -1,
				  SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (exec(st, "COMMIT", err, errlen) < 0)
		goto rollback;
	return 0;
fail:
	snprintf(err, errlen, "database: %s", sqlite3_errmsg(st->db));
	sqlite3_finalize(s);
rollback:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static char *col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? rp_strdup((const char *)t) : NULL;
}

static void col_copy(sqlite3_stmt *s, int i, char *dst, size_t dstlen)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	snprintf(dst, dstlen, "%s", t ? (const char *)t : "");
}

#define CHECK_COLS                                                             \
	"id, target, started, finished, verdict, duration_ms, source"

/* Reads a row of CHECK_COLS (+ result at column 7 when with_json). */
static int read_check(sqlite3_stmt *s, bool with_json, struct store_check *c)
{
	memset(c, 0, sizeof(*c));
	col_copy(s, 0, c->id, sizeof(c->id));
	c->target = col_dup(s, 1);
	c->started = sqlite3_column_int64(s, 2);
	c->finished = sqlite3_column_int64(s, 3);
	col_copy(s, 4, c->verdict, sizeof(c->verdict));
	c->duration_ms = (long)sqlite3_column_int64(s, 5);
	col_copy(s, 6, c->source, sizeof(c->source));
	if (with_json)
		c->json = col_dup(s, 7);
	if (!c->target || (with_json && !c->json)) {
		store_check_clear(c);
		return -1;
	}
	return 0;
}

/* Steps a query that yields at most one check and finalizes it: 0 with
 * *out filled, 1 when there is no such row, -1 on a database error. */
static int step_one(sqlite3_stmt *s, bool with_json, struct store_check *out)
{
	int rc = sqlite3_step(s);
	int ret = rc == SQLITE_ROW ? read_check(s, with_json, out)
		  : rc == SQLITE_DONE ? 1
				      : -1;
	sqlite3_finalize(s);
	return ret;
}

int store_get_check(struct store *st, const char *id, struct store_check *out)
{
	sqlite3_stmt *s;
	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(st->db,
			       "SELECT " CHECK_COLS ", result FROM checks "
			       "WHERE id = ?",
			       -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	return step_one(s, true, out);
}

int store_previous(struct store *st, const char *target, int64_t before,
		   const char *not_id, bool with_json, struct store_check *out)
{
	sqlite3_stmt *s;
	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(st->db,
			       /* Rows go in in the order checks complete:
				* the rowid breaks ties within a second. */
			       "SELECT " CHECK_COLS ", result FROM checks "
			       "WHERE target = ?1 AND (?2 = 0 OR finished <= ?2) "
			       "AND id != ?3 AND rowid < COALESCE((SELECT rowid "
			       "FROM checks WHERE id = ?3), 9223372036854775807) "
			       "ORDER BY rowid DESC LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, target, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, before);
	sqlite3_bind_text(s, 3, not_id ? not_id : "", -1, SQLITE_STATIC);
	return step_one(s, with_json, out);
}

int store_history(struct store *st, const char *target, int limit,
		  bool with_json, struct store_check **out, size_t *n)
{
	sqlite3_stmt *s;
	*out = NULL;
	*n = 0;
	if (limit <= 0)
		limit = 50;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT " CHECK_COLS ", result FROM checks "
			       "WHERE target = ? ORDER BY finished DESC, "
			       "rowid DESC LIMIT ?",
			       -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, target, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, limit);
	struct store_check *v = calloc((size_t)limit, sizeof(*v));
	int rc;
	size_t k = 0;
	while (v && (rc = sqlite3_step(s)) == SQLITE_ROW && k < (size_t)limit) {
		if (read_check(s, with_json, &v[k]) < 0)
			break;
		k++;
	}
	bool ok = v && (rc == SQLITE_DONE || k == (size_t)limit);
	sqlite3_finalize(s);
	if (!ok) {
		store_checks_free(v, k);
		return -1;
	}
	*out = v;
	*n = k;
	return 0;
}

void store_check_clear(struct store_check *c)
{
	free(c->target);
	free(c->json);
	c->target = c->json = NULL;
}

void store_checks_free(struct store_check *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		store_check_clear(&v[i]);
	free(v);
}

int store_schedule_add(struct store *st, const char *target, int interval_s,
		       const char *webhook, int64_t now, int64_t *id)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO schedules (target, interval_s, "
			       "webhook, created, next_run) VALUES (?,?,?,?,?)",
			       -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, target, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, interval_s);
	if (webhook)
		sqlite3_bind_text(s, 3, webhook, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 3);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, now); /* first run right away */
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_CONSTRAINT)
		return 1;
	if (rc != SQLITE_DONE)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int store_schedule_list(struct store *st, struct store_schedule **out,
			size_t *n)
{
	sqlite3_stmt *s;
	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT id, target, interval_s, webhook, created, "
			       "next_run, last_check FROM schedules ORDER BY id",
			       -1, &s, NULL) != SQLITE_OK)
		return -1;
	struct store_schedule *v = NULL;
	size_t k = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (k == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct store_schedule *nv = realloc(v, nc * sizeof(*v));
			if (!nv)
				break;
			v = nv;
			cap = nc;
		}
		struct store_schedule *x = &v[k];
		memset(x, 0, sizeof(*x));
		x->id = sqlite3_column_int64(s, 0);
		x->target = col_dup(s, 1);
		x->interval_s = sqlite3_column_int(s, 2);
		x->webhook = col_dup(s, 3);
		x->created = sqlite3_column_int64(s, 4);
		x->next_run = sqlite3_column_int64(s, 5);
		col_copy(s, 6, x->last_check, sizeof(x->last_check));
		k++;
		if (!x->target)
			break;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_schedules_free(v, k);
		return -1;
	}
	*out = v;
	*n = k;
	return 0;
}

int store_schedule_delete(struct store *st, int64_t id)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "DELETE FROM schedules WHERE id = ?", -1,
			       &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return -1;
	return sqlite3_changes(st->db) > 0 ? 0 : 1;
}

int store_schedule_update(struct store *st, int64_t id, int64_t next_run,
			  const char *last_check)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "UPDATE schedules SET next_run = CASE WHEN ?1 "
			       "< 0 THEN next_run ELSE ?1 END, last_check = "
			       "COALESCE(?2, last_check) WHERE id = ?3",
			       -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, next_run);
	if (last_check)
		sqlite3_bind_text(s, 2, last_check, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 2);
	sqlite3_bind_int64(s, 3, id);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

void store_schedules_free(struct store_schedule *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].target);
		free(v[i].webhook);
	}
	free(v);
}

int store_delete_check(struct store *st, const char *id)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "DELETE FROM checks WHERE id = ?", -1,
			       &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return -1;
	return sqlite3_changes(st->db) > 0 ? 0 : 1;
}
