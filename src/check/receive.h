/*
 * check/receive: `relayprobe receive`, the built-in receiver on its own.
 * Run it where the confirm domain's MX points while checks run elsewhere
 * with --send-to, or to see what it accepts: it prints each probe token
 * that arrives (a line, or a JSON line with --json) and a summary at the
 * end. Standalone it accepts any well-formed token at its domain.
 */
#ifndef RP_CHECK_RECEIVE_H
#define RP_CHECK_RECEIVE_H

#include <stdbool.h>
#include <stdio.h>

#include "check/config.h"

/* Runs for duration_s seconds (0: until SIGINT/SIGTERM). Exit code. */
int receive_run(const struct check_config *cfg, int duration_s, bool json,
		FILE *out);

#endif
