/*
 * dns/resolver: asynchronous DNS on c-ares 1.18, driven by the libevent
 * loop (sock_state_cb registers each c-ares socket as an event; a timer runs
 * c-ares timeouts). Today it resolves host names to all their IPv4 and IPv6
 * addresses; every c-ares call stays inside this module so a newer c-ares
 * is a local change.
 *
 * c-ares may run a callback before ares_* returns (bad names, no memory):
 * callers must not assume the request is still pending after the call.
 *
 * Ownership: the caller owns the resolver (dns_resolver_free fails pending
 * lookups with an error). Result arrays passed to callbacks are borrowed
 * for the duration of the callback.
 */
#ifndef RP_DNS_RESOLVER_H
#define RP_DNS_RESOLVER_H

#include <stddef.h>
#include <sys/socket.h>

#include <event2/event.h>

struct dns_resolver;

struct dns_address {
	struct sockaddr_storage ss; /* port left 0 */
	socklen_t len;
	char text[64];
};

/* status 0 on success (n >= 1), else -1 with a reason in err. */
typedef void (*dns_host_cb)(void *arg, int status, const struct dns_address *a,
			    size_t n, const char *err);

/* servers: NULL for the system's, else "ip[:port],..." as c-ares takes it.
 * timeout_ms per try. Returns NULL with err filled on failure. */
struct dns_resolver *dns_resolver_new(struct event_base *base,
				      const char *servers, int timeout_ms,
				      int tries, char *err, size_t errlen);
void dns_resolver_free(struct dns_resolver *r);

/* Resolves A and AAAA for name. The callback runs exactly once. */
void dns_resolve_host(struct dns_resolver *r, const char *name, dns_host_cb cb,
		      void *arg);

#endif
