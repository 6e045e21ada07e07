/*
 * serve/ratelimit: per-client token buckets (rate tokens a second, up to
 * burst) in a fixed-size table, so a flood of clients costs bounded
 * memory: when the table is full the least recently seen client nearby
 * is forgotten. IPv6 clients are keyed by their /64 (one user holds a
 * whole /64). Pure: the caller passes the time.
 *
 * Ownership: ratelimit_new's table is the caller's (ratelimit_free).
 */
#ifndef RP_SERVE_RATELIMIT_H
#define RP_SERVE_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ratelimit;

/* NULL on bad arguments or no memory. */
struct ratelimit *ratelimit_new(size_t slots, double rate_per_s,
				double burst);
void ratelimit_free(struct ratelimit *rl);

/* Takes one token for client at now_ms. False when empty, with the
 * seconds until the next token in *retry_after_s (>= 1). */
bool ratelimit_take(struct ratelimit *rl, const char *client, int64_t now_ms,
		    int *retry_after_s);

/* The key of an address in text form: IPv4 as is, IPv6 its /64
 * ("2001:db8:1:2::/64"), IPv4-mapped IPv6 as the IPv4 address. */
void ratelimit_client_key(const char *addr, char *key, size_t keylen);

#endif
