/*
 * report: renders check results. Each output format is a small vtable
 * (struct report_ops) in a registry, so a new format is one new file and
 * one line in report.c. Renderers only read the results.
 *
 * Everything from a server is already escaped in the model; renderers
 * still escape anything else they print (targets, user options).
 */
#ifndef RP_REPORT_REPORT_H
#define RP_REPORT_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "check/result.h"

struct report_options {
	bool verbose; /* include the transcript */
	bool color;   /* ANSI colours (only on a terminal, not NO_COLOR) */
};

struct report_ops {
	const char *name;
	/* Returns 0, or -1 on allocation/output failure. */
	int (*render)(FILE *out, struct check_result *const *results,
		      size_t n, enum verdict overall,
		      const struct report_options *opt);
};

const struct report_ops *report_find(const char *name);

/* One blocklist result as a text line (shared by `check` and
 * `blocklist`). */
void report_blocklist_line(FILE *out, const struct bl_entry *e,
			   const char *indent);

/* One target as the JSON object `check --json` prints (without the
 * document's schema/version/exit_code); scan writes it as a JSONL line.
 * A new reference (jansson), NULL on no memory. */
json_t *report_target_json(const struct check_result *r, bool verbose);
/* The JSON document of one target's result, exactly as `check --json`
 * prints it for one target (schema relayprobe/1; serve stores and serves
 * it). The caller owns it; NULL when out of memory. */
json_t *report_result_json(const struct check_result *r);

/* A JSON string (or null) from text that may not be valid UTF-8: such
 * text is escaped first. Shared by every JSON writer (check, config-check). */
json_t *report_json_str(const char *s);

extern const struct report_ops report_text;
extern const struct report_ops report_json;
extern const struct report_ops report_nagios;

/* Totals over a run, for nagios perfdata and Prometheus. */
struct report_counts {
	size_t servers, open, suspect, unreachable, listings;
	long duration_ms;
};
void report_counts(struct check_result *const *r, size_t n,
		   struct report_counts *c);

/* Writes the metrics file for node_exporter (atomically). 0 or -1. */
int report_prometheus_textfile(const char *path,
			       struct check_result *const *r, size_t n,
			       enum verdict overall);

#endif
