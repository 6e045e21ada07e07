/* serve/history: `relayprobe history TARGET`, the history serve keeps,
 * printed from the database (declared in serve/serve.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/util.h"
#include "serve/request.h"
#include "serve/serve.h"
#include "serve/store.h"

int serve_history(const char *db_path, const char *target, int limit,
		  bool json, FILE *out, FILE *errout)
{
	char norm[300], err[300];
	if (request_normalize_target(target, 25, norm, sizeof(norm), err,
				     sizeof(err)) != REQ_OK) {
		fprintf(errout, "relayprobe: %s\n", err);
		return 3;
	}
	struct store *st;
	if (store_open(db_path, true, &st, err, sizeof(err)) < 0) {
		fprintf(errout, "relayprobe: %s\n", err);
		return 3;
	}
	struct store_check *v;
	size_t n;
	if (store_history(st, norm, limit, false, &v, &n) < 0) {
		fprintf(errout, "relayprobe: cannot read the history of %s\n",
			norm);
		store_close(st);
		return 3;
	}
	store_close(st);
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(
			    a, json_pack("{s:s, s:I, s:I, s:s, s:I, s:s}", "id",
					 v[i].id, "started",
					 (json_int_t)v[i].started, "finished",
					 (json_int_t)v[i].finished, "verdict",
					 v[i].verdict, "duration_ms",
					 (json_int_t)v[i].duration_ms, "source",
					 v[i].source));
		json_t *doc = json_pack("{s:s, s:s, s:o}", "schema",
					"relayprobe/1", "target", norm,
					"checks", a ? a : json_array());
		if (doc)
			json_dumpf(doc, out,
				   JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out);
		json_decref(doc);
	} else {
		char *esc = rp_escape_dup(norm, strlen(norm));
		fprintf(out, "History of %s: %zu check%s\n", esc ? esc : "?",
			n, n == 1 ? "" : "s");
		free(esc);
		if (n)
			fprintf(out, "%-20s  %-12s  %9s  %-8s  %s\n",
				"FINISHED (UTC)", "VERDICT", "DURATION",
				"SOURCE", "ID");
		for (size_t i = 0; i < n; i++) {
			char when[32] = "?";
			time_t t = (time_t)v[i].finished;
			struct tm tm;
			if (gmtime_r(&t, &tm))
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
					 &tm);
			fprintf(out, "%-20s  %-12s  %8.1fs  %-8s  %s\n", when,
				v[i].verdict, (double)v[i].duration_ms / 1000.0,
				v[i].source, v[i].id);
		}
	}
	store_checks_free(v, n);
	return fflush(out) == 0 ? 0 : 3;
}
