/* --prometheus-textfile: metrics for node_exporter's textfile collector,
 * written to a temporary file and renamed, so a scrape never sees half. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "report/report.h"

/* Label values: backslash, quote and newline escaped (exposition format);
 * our strings are already printable ASCII. */
static void label(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		fputc(*s, f);
	}
}

int report_prometheus_textfile(const char *path,
			       struct check_result *const *r, size_t n,
			       enum verdict overall)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >=
	    (int)sizeof(tmp))
		return -1;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	struct report_counts c;
	report_counts(r, n, &c);
	fprintf(f,
		"# HELP relayprobe_servers_tested Servers (address and port) tested in the last run.\n"
		"# TYPE relayprobe_servers_tested gauge\nrelayprobe_servers_tested %zu\n"
		"# HELP relayprobe_open_relays Servers found to be open relays.\n"
		"# TYPE relayprobe_open_relays gauge\nrelayprobe_open_relays %zu\n"
		"# HELP relayprobe_suspect_relays Servers that accept relaying but may be catch-alls.\n"
		"# TYPE relayprobe_suspect_relays gauge\nrelayprobe_suspect_relays %zu\n"
		"# HELP relayprobe_blocklist_listings Blocklist listings of tested addresses.\n"
		"# TYPE relayprobe_blocklist_listings gauge\nrelayprobe_blocklist_listings %zu\n"
		"# HELP relayprobe_check_duration_seconds Longest server check of the last run.\n"
		"# TYPE relayprobe_check_duration_seconds gauge\nrelayprobe_check_duration_seconds %.3f\n"
		"# HELP relayprobe_exit_code Exit code of the last run (0 closed, 1 warning, 2 open relay, 3 unknown).\n"
		"# TYPE relayprobe_exit_code gauge\nrelayprobe_exit_code %d\n"
		"# HELP relayprobe_last_run_timestamp_seconds When the last run finished.\n"
		"# TYPE relayprobe_last_run_timestamp_seconds gauge\nrelayprobe_last_run_timestamp_seconds %lld\n"
		"# HELP relayprobe_server_verdict 1 for each server's verdict.\n"
		"# TYPE relayprobe_server_verdict gauge\n",
		c.servers, c.open, c.suspect, c.listings,
		(double)c.duration_ms / 1000.0, verdict_exit_code(overall),
		(long long)time(NULL));
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < r[i]->nservers; k++) {
			const struct server_result *s = &r[i]->servers[k];
			fputs("relayprobe_server_verdict{target=\"", f);
			label(f, r[i]->target);
			fprintf(f, "\",address=\"%s\",port=\"%u\",verdict=\"%s\"} 1\n",
				s->address, s->port, verdict_name(s->verdict));
		}
	bool bad = ferror(f) != 0;
	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}
