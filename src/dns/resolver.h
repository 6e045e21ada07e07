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

/* Outcome of one query, from the answer's RCODE or the transport. */
enum dns_status {
	DNS_OK,       /* answer with records of the type asked */
	DNS_NXDOMAIN, /* the name does not exist */
	DNS_NODATA,   /* the name exists, no records of that type */
	DNS_SERVFAIL,
	DNS_REFUSED,
	DNS_TIMEOUT,
	DNS_ERROR,    /* anything else (bad name, no memory, shut down) */
	DNS_STATUS_LAST
};

const char *dns_status_name(enum dns_status s);

/* Raw answer: abuf is borrowed for the callback's duration (NULL unless
 * DNS_OK). The callback runs exactly once, possibly before dns_query
 * returns. */
typedef void (*dns_raw_cb)(void *arg, enum dns_status st,
			   const unsigned char *abuf, int alen);

/* Queues a query of class IN and the given type (ns_t_mx, ...). At most
 * max_inflight queries are on the wire at once; the rest wait in order,
 * so a burst of thousands loses nothing to socket buffers. */
void dns_query(struct dns_resolver *r, const char *name, int type,
	       dns_raw_cb cb, void *arg);

/* Caps queries on the wire (default 256). */
void dns_resolver_set_max_inflight(struct dns_resolver *r, size_t n);

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
