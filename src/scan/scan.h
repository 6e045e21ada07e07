/*
 * scan/scan: `relayprobe scan`, many targets on one event loop. It streams
 * targets from a file or stdin (scan/input), keeps at most `concurrency`
 * checks running (check/check jobs), lets every SMTP session through a
 * connection gate (check/gate: total sessions, sessions per address, new
 * connections per second), tests an address:port shared by several targets
 * once and reuses its result, and writes one JSON line per target, each
 * with one write() as soon as the target is finished, so an interrupted
 * run leaves only complete lines. SIGINT/SIGTERM stop it cleanly: no new
 * checks, the running ones cancelled, every finished line on disk.
 *
 * Ownership: scan_run owns everything it builds and frees it before it
 * returns; the options and the check_config are borrowed.
 */
#ifndef RP_SCAN_SCAN_H
#define RP_SCAN_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "check/config.h"

struct scan_options {
	const char *input;        /* FILE, "-" or NULL: stdin */
	const char *output;       /* -o FILE, or NULL: stdout */
	const char *resume;       /* --resume FILE, or NULL */
	const char *exclude;      /* --exclude FILE, or NULL */
	unsigned shard_k, shard_n; /* --shard K/N (n 0 or 1: everything) */
	unsigned concurrency;     /* -c: sessions (and checks) at once */
	double rate;              /* --rate: new connections per second, 0 off */
	unsigned per_address;     /* --per-address: sessions per IP at once */
	unsigned max_cidr_bits;   /* --max-cidr BITS */
	bool include_special;     /* --include-special */
	bool relay, audit, blocklist; /* --checks */
	bool verbose;             /* -v: transcripts in the lines */
	int progress;             /* --progress: 1 on, 0 off, -1 auto (tty) */
};

/* Exit codes of scan. */
#define SCAN_EXIT_CLEAN 0       /* no open relay found */
#define SCAN_EXIT_SUSPECT 1     /* a suspect or inconclusive server */
#define SCAN_EXIT_OPEN 2        /* at least one open relay */
#define SCAN_EXIT_ERROR 3       /* could not run (bad option or file) */
#define SCAN_EXIT_INTERRUPTED 130 /* stopped by SIGINT/SIGTERM */

void scan_options_defaults(struct scan_options *o);
/* Runs the scan. Returns an exit code above; on SCAN_EXIT_ERROR a
 * message is in err. */
int scan_run(const struct scan_options *o, const struct check_config *cfg,
	     char *err, size_t errlen);

#endif
