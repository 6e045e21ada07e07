/*
 * relayprobe: is this mail server an open relay, and what would a spammer,
 * a blocklist or an auditor notice about it? main() parses the command
 * line, runs the command and turns the result into an exit code; it is
 * the only place that exits.
 */
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "check/check.h"
#include "check/lookup.h"
#include "check/receive.h"
#include "cli/options.h"
#include "config/configcheck.h"
#include "core/util.h"
#include "relay/technique.h"
#include "report/report.h"
#include "scan/scan.h"
#include "serve/serve.h"

#define EXIT_BAD_INPUT 3

static int cmd_tests(const struct cli *c)
{
	size_t n;
	const struct technique *t = technique_list(&n);
	if (c->json) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(
			    a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "id",
					 t[i].id, "name", t[i].name, "catches",
					 t[i].catches, "mail_from", t[i].mail,
					 "rcpt_to", t[i].rcpt, "helo_target",
					 t[i].helo == HELO_TARGET));
		size_t nc;
		const struct technique *ct = technique_controls(&nc);
		json_t *ca = json_array();
		for (size_t i = 0; ca && i < nc; i++)
			json_array_append_new(
			    ca, json_pack("{s:s, s:s, s:s, s:s}", "id", ct[i].id,
					  "why", ct[i].catches, "mail_from",
					  ct[i].mail, "rcpt_to", ct[i].rcpt));
		json_t *doc = json_pack("{s:s, s:o, s:o}", "schema",
					"relayprobe/1", "techniques", a,
					"controls", ca);
		if (!doc)
			return 1;
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(doc);
		return 0;
	}
	printf("%-5s %-22s %s\n", "ID", "NAME", "CATCHES");
	for (size_t i = 0; i < n; i++) {
		printf("%-5s %-22s %s\n", t[i].id, t[i].name, t[i].catches);
		printf("      %sMAIL FROM:%s  RCPT TO:%s\n",
		       t[i].helo == HELO_TARGET ? "EHLO {target_host}, " : "",
		       t[i].mail, t[i].rcpt);
	}
	size_t nc;
	const struct technique *ct = technique_controls(&nc);
	printf("\nControls (run with every check):\n");
	for (size_t i = 0; i < nc; i++)
		printf("%-13s RCPT TO:%-28s %s\n", ct[i].id, ct[i].rcpt,
		       ct[i].catches);
	return 0;
}

static bool want_color(const struct cli *c)
{
	if (c->color == COLOR_ALWAYS)
		return true;
	if (c->color == COLOR_NEVER)
		return false;
	const char *nc = getenv("NO_COLOR");
	if (nc && *nc)
		return false;
	return isatty(STDOUT_FILENO);
}

static int cmd_check(const struct cli *c)
{
	struct check_result **res = NULL;
	size_t n = 0;
	char err[512];
	if (check_run(&c->cfg, c->targets, c->ntargets, &res, &n, err,
		      sizeof(err)) < 0) {
		fprintf(stderr, "relayprobe: %s\n", err);
		return EXIT_BAD_INPUT;
	}
	enum verdict overall = check_overall(res, n);
	struct report_options ro = {.verbose = c->verbose,
				    .color = want_color(c)};
	const char *fmt = c->format ? c->format : c->json ? "json" : "text";
	const struct report_ops *out = report_find(fmt);
	int rc = verdict_exit_code(overall);
	if (!out || out->render(stdout, res, n, overall, &ro) < 0 ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "relayprobe: cannot write the report\n");
		rc = EXIT_BAD_INPUT;
	}
	if (c->prometheus_file &&
	    report_prometheus_textfile(c->prometheus_file, res, n, overall) < 0) {
		fprintf(stderr, "relayprobe: cannot write %s\n", c->prometheus_file);
		rc = EXIT_BAD_INPUT;
	}
	for (size_t i = 0; i < n; i++)
		check_result_free(res[i]);
	free(res);
	return rc;
}

int main(int argc, char **argv)
{
	/* A peer closing mid-write must be an error value, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	/* Many servers and sessions at once need descriptors: take what the
	 * hard limit allows (the soft default is often 1024). */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	struct cli c;
	char err[256];
	if (cli_parse(argc, argv, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "relayprobe: %s\n", err);
		cli_cleanup(&c);
		return EXIT_BAD_INPUT;
	}
	int rc = 0;
	switch (c.cmd) {
	case CLI_HELP:
		fputs(cli_usage(), stdout);
		break;
	case CLI_VERSION:
		printf("relayprobe %s\n", RELAYPROBE_VERSION);
		break;
	case CLI_TESTS:
		rc = cmd_tests(&c);
		break;
	case CLI_CHECK:
		OPENSSL_init_ssl(0, NULL);
		rc = cmd_check(&c);
		break;
	case CLI_MX:
		rc = lookup_mx(&c.cfg, c.targets, c.ntargets, c.json, stdout);
		break;
	case CLI_RECEIVE:
		rc = receive_run(&c.cfg, c.duration_s, c.json, stdout);
		break;
	case CLI_CONFIG_CHECK: {
		struct configcheck_opts co = {
		    .postfix = c.postfix_conf,
		    .exim = c.exim_conf,
		    .client = c.client,
		    .json = c.json || (c.format && strcmp(c.format, "json") == 0),
		    .color = want_color(&c),
		};
		rc = configcheck_run(&co, stdout, stderr);
		break;
	}
	case CLI_SCAN: {
		OPENSSL_init_ssl(0, NULL);
		char serr[512];
		rc = scan_run(&c.scan, &c.cfg, serr, sizeof(serr));
		if (rc == SCAN_EXIT_ERROR)
			fprintf(stderr, "relayprobe: %s\n", serr);
		break;
	}
	case CLI_SERVE: {
		OPENSSL_init_ssl(0, NULL);
		char serr[512];
		if (serve_run(&c.serve, &c.cfg, serr, sizeof(serr)) < 0) {
			fprintf(stderr, "relayprobe: %s\n", serr);
			rc = EXIT_BAD_INPUT;
		}
		break;
	}
	case CLI_HISTORY:
		rc = serve_history(c.serve.db_path, c.targets[0], c.limit,
				   c.json, stdout, stderr);
		break;
	case CLI_BLOCKLIST:
		rc = lookup_blocklists(&c.cfg, c.targets, c.ntargets, c.json,
				       stdout);
		break;
	}
	cli_cleanup(&c);
	return rc;
}
