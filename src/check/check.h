/*
 * check/check: runs `relayprobe check` over a list of targets. Parses each
 * target, resolves host names to every address (c-ares), and runs a
 * server_check per address and port, all on one event loop, then returns
 * one check_result per target.
 *
 * Ownership: the caller frees each result with check_result_free and the
 * array with free().
 */
#ifndef RP_CHECK_CHECK_H
#define RP_CHECK_CHECK_H

#include <stddef.h>

#include "check/config.h"
#include "check/result.h"

/*
 * Returns 0 and fills out and nout, or -1 with err set when the check could
 * not run at all (bad target, no memory, event loop failure). A target that
 * cannot be resolved or reached is a result (verdict unreachable), not an
 * error.
 */
int check_run(const struct check_config *cfg, char *const *targets,
	      size_t ntargets, struct check_result ***out, size_t *nout,
	      char *err, size_t errlen);

/* Overall verdict of a result list: the worst server's. */
enum verdict check_overall(struct check_result *const *r, size_t n);

#endif
