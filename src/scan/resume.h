/*
 * scan/resume: the set of targets an earlier run already wrote (--resume
 * FILE). It reads a scan's JSONL output, keeps a 64-bit hash of each
 * line's "target" (scan_target_hash: 8 bytes per target, not the lines),
 * and answers "done already?". A last line without its newline (the run
 * was killed mid-write) does not count, and resume_load reports where the
 * complete lines end so the file can be cut there before appending.
 *
 * Ownership: the set owns its table; resume_free releases it.
 */
#ifndef RP_SCAN_RESUME_H
#define RP_SCAN_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct resume_set {
	uint64_t *slots; /* open addressing; 0 = empty (hash 0 stored as 1) */
	size_t cap, n;
};

/* Adds every complete line's target. *good_end: bytes of complete lines.
 * Returns the number of targets read, or -1 with err set (read error, no
 * memory). Lines that are not JSON objects with a "target" are skipped. */
long resume_load(struct resume_set *s, FILE *f, off_t *good_end, char *err,
		 size_t errlen);
int resume_add(struct resume_set *s, const char *target);
bool resume_has(const struct resume_set *s, const char *target);
void resume_free(struct resume_set *s);

#endif
