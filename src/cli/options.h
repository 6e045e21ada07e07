/*
 * cli/options: turns argv into a command and a check_config. Every
 * mistake becomes one clear line (err) and exit code 3 in main; nothing
 * here prints or exits.
 *
 * Ownership: struct cli owns the strings it builds (resolver list);
 * others point into argv. cli_cleanup frees.
 */
#ifndef RP_CLI_OPTIONS_H
#define RP_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "check/config.h"
#include "scan/scan.h"
#include "serve/serve.h"

enum cli_command {
	CLI_HELP,
	CLI_VERSION,
	CLI_CHECK,
	CLI_TESTS,
	CLI_MX,
	CLI_BLOCKLIST,
	CLI_RECEIVE,
	CLI_CONFIG_CHECK,
	CLI_SCAN,
	CLI_SERVE,
	CLI_HISTORY,
};

enum cli_color { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

struct cli {
	enum cli_command cmd;
	struct check_config cfg;
	bool json;
	const char *format;          /* --format: text, json, nagios */
	const char *prometheus_file; /* --prometheus-textfile */
	bool verbose;
	enum cli_color color;
	char **targets; /* into argv */
	size_t ntargets;
	char *resolvers; /* owned */
	int duration_s;  /* receive --duration */
	/* config-check */
	const char *postfix_conf; /* --postfix DIR|FILE|- */
	const char *exim_conf;    /* --exim FILE|- */
	const char *client;       /* --client ADDR */
	struct scan_options scan; /* scan */
	struct serve_options serve; /* serve (and history: --db) */
	int limit;       /* history --limit */
};

/* Returns 0, or -1 with a one-line message in err. */
int cli_parse(int argc, char **argv, struct cli *out, char *err,
	      size_t errlen);
void cli_cleanup(struct cli *c);
/* Full --help text. */
const char *cli_usage(void);

#endif
