/*
 * serve/diff: what changed between two runs of the same target, from their
 * result documents (the JSON `check --json` prints): the verdict, each
 * server's verdict, servers that appeared or went, blocklist listings,
 * findings new and resolved ("closed since the last test"), certificates
 * starting to expire. Decides whether the change deserves an alert
 * (scheduled re-tests POST a webhook then). Pure.
 *
 * Ownership: the returned array is the caller's (json_decref).
 */
#ifndef RP_SERVE_DIFF_H
#define RP_SERVE_DIFF_H

#include <stdbool.h>

#include <jansson.h>

/*
 * Array of changes, each {kind, direction, server, message, ...}:
 * kind "verdict" (from, to), "server-verdict" (from, to), "server-new",
 * "server-gone", "listed"/"delisted" (zone), "finding-new"/
 * "finding-resolved" (id, severity, title), "certificate-expiring"
 * (id, days_left); direction "worse", "better" or "info". *alert is set
 * when a change is worth waking someone: a worse verdict, a new listing,
 * a certificate expiring or expired, a new critical finding. NULL only
 * when out of memory.
 */
json_t *diff_results(const json_t *prev, const json_t *cur, bool *alert);

/* Rank of a verdict name: closed 0 < unreachable 1 < inconclusive 2 <
 * suspect 3 < open 4; unknown names -1. */
int diff_verdict_rank(const char *v);

#endif
