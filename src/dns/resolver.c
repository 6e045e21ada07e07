#include "dns/resolver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#define MAX_SOCKS 64

struct sock_ev {
	ares_socket_t fd;
	struct event *ev;
};

struct pending {
	char *name;
	int type;
	int attempts;
	dns_raw_cb cb;
	void *arg;
	struct pending *next;
};

struct dns_resolver {
	struct event_base *base;
	ares_channel ch;
	struct event *timer;
	struct sock_ev socks[MAX_SOCKS];
	size_t max_inflight;
	size_t inflight;
	struct pending *head, *tail; /* waiting for a slot */
	bool destroying;
};

static const char *const status_names[] = {
	[DNS_OK] = "ok",
	[DNS_NXDOMAIN] = "nxdomain",
	[DNS_NODATA] = "nodata",
	[DNS_SERVFAIL] = "servfail",
	[DNS_REFUSED] = "refused",
	[DNS_TIMEOUT] = "timeout",
	[DNS_ERROR] = "error",
};
_Static_assert(sizeof(status_names) / sizeof(status_names[0]) ==
		   DNS_STATUS_LAST,
	       "status names");

const char *dns_status_name(enum dns_status s)
{
	return (unsigned)s < DNS_STATUS_LAST ? status_names[s] : "?";
}

static void rearm(struct dns_resolver *r)
{
	struct timeval tv, *tvp = ares_timeout(r->ch, NULL, &tv);
	if (tvp)
		evtimer_add(r->timer, tvp);
	else
		evtimer_del(r->timer);
}

static void on_fd(evutil_socket_t fd, short what, void *arg)
{
	struct dns_resolver *r = arg;
	ares_process_fd(r->ch, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
			(what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	rearm(r);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dns_resolver *r = arg;
	ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm(r);
}

static void sock_state(void *data, ares_socket_t fd, int rd, int wr)
{
	struct dns_resolver *r = data;
	struct sock_ev *slot = NULL, *free_slot = NULL;
	for (size_t i = 0; i < MAX_SOCKS; i++) {
		if (r->socks[i].ev && r->socks[i].fd == fd)
			slot = &r->socks[i];
		else if (!r->socks[i].ev && !free_slot)
			free_slot = &r->socks[i];
	}
	if (slot) {
		event_free(slot->ev);
		slot->ev = NULL;
	}
	if (!rd && !wr)
		return;
	if (!slot)
		slot = free_slot;
	if (!slot)
		return; /* c-ares times the query out; bounded by MAX_SOCKS */
	slot->fd = fd;
	slot->ev = event_new(r->base, fd,
			     (short)((rd ? EV_READ : 0) | (wr ? EV_WRITE : 0) |
				     EV_PERSIST),
			     on_fd, r);
	if (slot->ev)
		event_add(slot->ev, NULL);
}

struct dns_resolver *dns_resolver_new(struct event_base *base,
				      const char *servers, int timeout_ms,
				      int tries, char *err, size_t errlen)
{
	struct dns_resolver *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->base = base;
	r->max_inflight = 256;
	r->timer = evtimer_new(base, on_timer, r);
	if (!r->timer) {
		snprintf(err, errlen, "out of memory");
		free(r);
		return NULL;
	}
	struct ares_options o;
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = r;
	o.timeout = timeout_ms;
	o.tries = tries;
	o.lookups = (char *)"fb";
	/* Without NOCHECKRESP, c-ares 1.18 turns a SERVFAIL or REFUSED answer
	 * into "could not contact DNS servers"; we want the real rcode. */
	o.flags = ARES_FLAG_NOCHECKRESP;
	int st = ares_init_options(&r->ch, &o,
				   ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS |
				       ARES_OPT_TRIES | ARES_OPT_LOOKUPS |
				       ARES_OPT_FLAGS);
	if (st != ARES_SUCCESS) {
		snprintf(err, errlen, "DNS resolver: %s", ares_strerror(st));
		event_free(r->timer);
		free(r);
		return NULL;
	}
	if (servers && *servers) {
		st = ares_set_servers_ports_csv(r->ch, servers);
		if (st != ARES_SUCCESS) {
			snprintf(err, errlen, "bad resolver '%s': %s", servers,
				 ares_strerror(st));
			dns_resolver_free(r);
			return NULL;
		}
	}
	return r;
}

void dns_resolver_free(struct dns_resolver *r)
{
	if (!r)
		return;
	r->destroying = true;
	/* Queued queries never reached c-ares: fail them here. */
	struct pending *p;
	while ((p = r->head)) {
		r->head = p->next;
		p->cb(p->arg, DNS_ERROR, NULL, 0);
		free(p->name);
		free(p);
	}
	r->tail = NULL;
	ares_destroy(r->ch);
	for (size_t i = 0; i < MAX_SOCKS; i++)
		if (r->socks[i].ev)
			event_free(r->socks[i].ev);
	event_free(r->timer);
	free(r);
}

struct host_req {
	dns_host_cb cb;
	void *arg;
	struct dns_resolver *r;
};

#define MAX_ADDRS 32

static void on_addrinfo(void *arg, int status, int timeouts,
			struct ares_addrinfo *res)
{
	struct host_req *q = arg;
	struct dns_address addrs[MAX_ADDRS];
	size_t n = 0;
	if (status == ARES_SUCCESS && res) {
		for (struct ares_addrinfo_node *nd = res->nodes;
		     nd && n < MAX_ADDRS; nd = nd->ai_next) {
			if (nd->ai_family != AF_INET && nd->ai_family != AF_INET6)
				continue;
			if (nd->ai_addrlen > sizeof(addrs[n].ss))
				continue;
			struct dns_address *a = &addrs[n];
			memset(a, 0, sizeof(*a));
			memcpy(&a->ss, nd->ai_addr, (size_t)nd->ai_addrlen);
			a->len = (socklen_t)nd->ai_addrlen;
			const void *src =
			    nd->ai_family == AF_INET
				? (const void *)&((struct sockaddr_in *)nd->ai_addr)->sin_addr
				: (const void *)&((struct sockaddr_in6 *)nd->ai_addr)->sin6_addr;
			inet_ntop(nd->ai_family, src, a->text, sizeof(a->text));
			bool dup = false;
			for (size_t k = 0; k < n; k++)
				if (strcmp(addrs[k].text, a->text) == 0)
					dup = true;
			if (!dup)
				n++;
		}
	}
	if (res)
		ares_freeaddrinfo(res);
	if (n > 0) {
		q->cb(q->arg, 0, addrs, n, NULL);
	} else {
		char err[160];
		if (status == ARES_SUCCESS || status == ARES_ENODATA)
			snprintf(err, sizeof(err), "no A or AAAA records");
		else if (status == ARES_ENOTFOUND)
			snprintf(err, sizeof(err), "no such host (NXDOMAIN)");
		else
			snprintf(err, sizeof(err), "DNS lookup failed: %s",
				 ares_strerror(status));
		q->cb(q->arg, -1, NULL, 0, err);
	}
	free(q);
}

void dns_resolve_host(struct dns_resolver *r, const char *name, dns_host_cb cb,
		      void *arg)
{
	struct host_req *q = calloc(1, sizeof(*q));
	if (!q) {
		cb(arg, -1, NULL, 0, "out of memory");
		return;
	}
	q->cb = cb;
	q->arg = arg;
	q->r = r;
	struct ares_addrinfo_hints h;
	memset(&h, 0, sizeof(h));
	h.ai_family = AF_UNSPEC;
	h.ai_socktype = SOCK_STREAM;
	ares_getaddrinfo(r->ch, name, NULL, &h, on_addrinfo, q);
	rearm(r);
}

void dns_resolver_set_max_inflight(struct dns_resolver *r, size_t n)
{
	r->max_inflight = n ? n : 1;
}

static enum dns_status map_status(int st)
{
	switch (st) {
	case ARES_SUCCESS:
		return DNS_OK;
	case ARES_ENOTFOUND:
		return DNS_NXDOMAIN;
	case ARES_ENODATA:
		return DNS_NODATA;
	case ARES_ESERVFAIL:
		return DNS_SERVFAIL;
	case ARES_EREFUSED:
		return DNS_REFUSED;
	case ARES_ETIMEOUT:
		return DNS_TIMEOUT;
	default:
		return DNS_ERROR;
	}
}

struct raw_req {
	struct dns_resolver *r;
	dns_raw_cb cb;
	void *arg;
	char *name;
	int type;
	int attempts;
};

/* Transport errors and SERVFAIL (a resolver overloaded by a burst answers
 * SERVFAIL for names it can resolve) get two more tries of our own, from
 * the back of the queue. */
#define TRANSPORT_RETRIES 2

static void start_queued(struct dns_resolver *r);

static void on_raw(void *arg, int status, int timeouts, unsigned char *abuf,
		   int alen)
{
	struct raw_req *q = arg;
	struct dns_resolver *r = q->r;
	enum dns_status st = map_status(status);
	if ((status == ARES_ECONNREFUSED || status == ARES_EBADRESP ||
	     status == ARES_ESERVFAIL) &&
	    q->attempts < TRANSPORT_RETRIES && !r->destroying) {
		q->attempts++;
		ares_query(r->ch, q->name, 1, q->type, on_raw, q);
		rearm(r);
		return;
	}
	q->cb(q->arg, st, st == DNS_OK ? abuf : NULL, st == DNS_OK ? alen : 0);
	free(q->name);
	free(q);
	r->inflight--;
	if (!r->destroying)
		start_queued(r);
}

static void send_query(struct dns_resolver *r, const char *name, int type,
		       int attempts, dns_raw_cb cb, void *arg)
{
	struct raw_req *q = calloc(1, sizeof(*q));
	if (!q || !(q->name = strdup(name))) {
		free(q);
		cb(arg, DNS_ERROR, NULL, 0);
		return;
	}
	q->type = type;
	q->attempts = attempts;
	q->r = r;
	q->cb = cb;
	q->arg = arg;
	r->inflight++;
	/* ns_c_in = 1. May call on_raw before returning. */
	ares_query(r->ch, name, 1, type, on_raw, q);
	rearm(r);
}

static void start_queued(struct dns_resolver *r)
{
	while (r->head && r->inflight < r->max_inflight) {
		struct pending *p = r->head;
		r->head = p->next;
		if (!r->head)
			r->tail = NULL;
		send_query(r, p->name, p->type, p->attempts, p->cb, p->arg);
		free(p->name);
		free(p);
	}
}

void dns_query(struct dns_resolver *r, const char *name, int type,
	       dns_raw_cb cb, void *arg)
{
	if (r->destroying) {
		cb(arg, DNS_ERROR, NULL, 0);
		return;
	}
	if (r->inflight < r->max_inflight && !r->head) {
		send_query(r, name, type, 0, cb, arg);
		return;
	}
	struct pending *p = calloc(1, sizeof(*p));
	char *copy = p ? strdup(name) : NULL;
	if (!p || !copy) {
		free(p);
		cb(arg, DNS_ERROR, NULL, 0);
		return;
	}
	p->name = copy;
	p->type = type;
	p->cb = cb;
	p->arg = arg;
	if (r->tail)
		r->tail->next = p;
	else
		r->head = p;
	r->tail = p;
}
