/*
 * config/configcheck: the `relayprobe config-check` command. Reads the
 * Postfix (main.cf + master.cf, or `postconf -n`/`-P` text on stdin) and/or
 * Exim configuration files with bounded reads, runs the evaluators and
 * prints the findings (text or JSON, the finding model of `check`). The
 * exit code is check's: 0 closed, 1 suspect/inconclusive, 2 open relay,
 * 3 bad input (unreadable, oversized or malformed configuration).
 *
 * This is the only module of src/config that touches files.
 */
#ifndef RP_CONFIG_CONFIGCHECK_H
#define RP_CONFIG_CONFIGCHECK_H

#include <stdbool.h>
#include <stdio.h>

#define CFG_MAX_FILE (4 * 1024 * 1024)

struct configcheck_opts {
	const char *postfix; /* DIR, main.cf path, or "-" (stdin) */
	const char *exim;    /* file, or "-" */
	const char *client;  /* --client ADDR, or NULL */
	bool json;
	bool color;
	/* Where auto-detection looks (tests point these elsewhere). */
	const char *etc_postfix;
	const char *etc_exim;
};

/* Runs the command; returns the exit code. Errors go to err_out. */
int configcheck_run(const struct configcheck_opts *o, FILE *out,
		    FILE *err_out);

/* Reads a whole file (path "-" is stdin), at most CFG_MAX_FILE bytes;
 * NUL-terminated heap buffer. 0 or -1 with err. Also the cfg_io reader. */
int configcheck_read(void *ctx, const char *path, char **buf, size_t *len,
		     char *err, size_t errlen);

#endif
