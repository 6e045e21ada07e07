/*
 * scan/shared: an address and port that several targets share (thousands
 * of hosted domains behind the same MX hosts) is tested once per scan. The
 * first target to reach it tests it; the check engine's address filter
 * refuses it to later targets (SHARED_WHY), whose lines wait until the
 * first result is in and then carry a copy of that server object (with
 * their own host and MX names, and "reused_from"), their verdict and
 * status recomputed over all their servers.
 *
 * Done entries are kept in an LRU of at most SHARED_KEEP (memory stays
 * bounded on a 100k-target scan; an evicted address is simply tested
 * again). Entries in flight, or promised to a waiting target, are never
 * evicted.
 *
 * Ownership: the cache owns its entries, their JSON references and the
 * held lines until it hands a line back through the emit callback.
 */
#ifndef RP_SCAN_SHARED_H
#define RP_SCAN_SHARED_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <jansson.h>

#include "check/result.h"

#define SHARED_WHY "shared: tested once for another target"
#define SHARED_KEEP 256

struct shared_cache;

/* Called with each finished line (the callee takes the reference). */
typedef void (*shared_emit)(void *arg, json_t *line, enum verdict v);

struct shared_cache *shared_new(shared_emit emit, void *arg);
void shared_free(struct shared_cache *c);

/* The address filter's half: true when sa:port is new (the caller tests
 * it), false when it is tested or being tested for another target. */
bool shared_claim(struct shared_cache *c, const struct sockaddr *sa);

/*
 * A finished target: line is its JSON line (head + check --json object,
 * reference taken), r its result. Servers this target tested fill the
 * cache (and complete the lines waiting for them); servers refused as
 * shared are filled from the cache now or when their owner finishes. The
 * line goes to emit once complete (perhaps at once). Returns how many
 * lines are now held (waiting).
 */
size_t shared_finish(struct shared_cache *c, json_t *line,
		     const struct check_result *r);
size_t shared_held(const struct shared_cache *c);

#endif
