/*
 * check/gate: politeness across many server checks on one event loop. A
 * session asks the gate before it connects; the gate grants it when fewer
 * than max_total sessions are open overall, fewer than per_address are
 * open to that IP address, and the token bucket of new connections per
 * second (rate) has a token. When it cannot grant, the asker's waiter is
 * queued and its wake callback runs later from the gate's own event (never
 * from inside gate_acquire or gate_release), after which it asks again.
 *
 * Ownership: whoever builds the loop (scan) owns the gate and frees it after
 * every server check; check_config.gate borrows it (NULL: no gating, as in
 * `check`). A gate_waiter is embedded in its owner, who must gate_cancel it
 * before freeing. Every granted acquire is matched by one gate_release.
 */
#ifndef RP_CHECK_GATE_H
#define RP_CHECK_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <event2/event.h>

struct conn_gate;
struct gate_addr;

struct gate_waiter {
	struct gate_waiter *next, *prev;
	struct gate_addr *on;   /* per-address queue it waits in, or NULL */
	bool queued;
	bool woken;             /* the pump woke it: it goes first */
	void (*wake)(void *arg);
	void *arg;
};

struct gate_stats {
	size_t open;            /* sessions open now */
	size_t peak_open;       /* most open at once */
	size_t peak_per_address; /* most open to one address at once */
	size_t granted;         /* connections granted in total */
	size_t waiting;         /* waiters queued now */
};

/* max_total >= 1, per_address >= 1, rate <= 0: unlimited. NULL on no
 * memory. */
struct conn_gate *gate_new(struct event_base *base, size_t max_total,
			   size_t per_address, double rate);
void gate_free(struct conn_gate *g);

/* True: granted (w is dequeued if it was queued). False: w is queued and
 * its wake runs later; asking again while queued is allowed. */
bool gate_acquire(struct conn_gate *g, const struct sockaddr_storage *addr,
		  struct gate_waiter *w);
void gate_release(struct conn_gate *g, const struct sockaddr_storage *addr);
/* A 421 from addr: no new session to that address (whatever the check)
 * for ms; those asking meanwhile wait and are woken after. */
void gate_hold(struct conn_gate *g, const struct sockaddr_storage *addr,
	       long ms);
/* Takes w out of any queue (no wake will follow). */
void gate_cancel(struct conn_gate *g, struct gate_waiter *w);
void gate_stats(const struct conn_gate *g, struct gate_stats *out);

#endif
