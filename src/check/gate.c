#include "check/gate.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY_LEN 17
/* While anyone waits, look again this often: a woken waiter may not have
 * wanted its slot after all, and nobody else would be told it is free. */
#define RECHECK_MS 20

struct gate_addr {
	struct gate_addr *next; /* hash chain */
	unsigned char key[KEY_LEN];
	size_t open;
	long long hold_until;   /* ms (monotonic): no new session before */
	struct gate_addr *hnext; /* in the list of held addresses */
	bool held;
	struct gate_waiter *head, *tail;
};

struct conn_gate {
	struct event_base *base;
	size_t max_total, per_address;
	double rate, burst, tokens;
	struct timespec last_refill;
	struct gate_addr **buckets;
	size_t nbuckets; /* power of two */
	struct gate_waiter *head, *tail; /* waiting for total or rate */
	struct event *pump;
	struct event *tick;
	struct gate_addr *held; /* addresses on hold after a 421 */
	struct gate_stats st;
};

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void make_key(const struct sockaddr_storage *ss, unsigned char *k)
{
	memset(k, 0, KEY_LEN);
	k[0] = (unsigned char)ss->ss_family;
	if (ss->ss_family == AF_INET)
		memcpy(k + 1, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else if (ss->ss_family == AF_INET6)
		memcpy(k + 1, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

static size_t bucket_of(const struct conn_gate *g, const unsigned char *k)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < KEY_LEN; i++)
		h = (h ^ k[i]) * 1099511628211ULL;
	return (size_t)h & (g->nbuckets - 1);
}

static struct gate_addr **find(struct conn_gate *g, const unsigned char *k)
{
	struct gate_addr **p = &g->buckets[bucket_of(g, k)];
	while (*p && memcmp((*p)->key, k, KEY_LEN) != 0)
		p = &(*p)->next;
	return p;
}

/* ---------- waiter queues (doubly linked, FIFO) ---------- */

static void unlink_waiter(struct conn_gate *g, struct gate_waiter *w)
{
	if (!w->queued)
		return;
	struct gate_waiter **head = w->on ? &w->on->head : &g->head;
	struct gate_waiter **tail = w->on ? &w->on->tail : &g->tail;
	if (w->prev)
		w->prev->next = w->next;
	else
		*head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		*tail = w->prev;
	w->next = w->prev = NULL;
	w->on = NULL;
	w->queued = false;
	g->st.waiting--;
}

static void push_back(struct conn_gate *g, struct gate_addr *on,
		      struct gate_waiter *w)
{
	unlink_waiter(g, w);
	struct gate_waiter **head = on ? &on->head : &g->head;
	struct gate_waiter **tail = on ? &on->tail : &g->tail;
	w->on = on;
	w->prev = *tail;
	w->next = NULL;
	if (*tail)
		(*tail)->next = w;
	else
		*head = w;
	*tail = w;
	w->queued = true;
	g->st.waiting++;
}

static void push_front(struct conn_gate *g, struct gate_waiter *w)
{
	unlink_waiter(g, w);
	w->on = NULL;
	w->prev = NULL;
	w->next = g->head;
	if (g->head)
		g->head->prev = w;
	else
		g->tail = w;
	g->head = w;
	w->queued = true;
	g->st.waiting++;
}

/* ---------- token bucket ---------- */

static void refill(struct conn_gate *g)
{
	if (g->rate <= 0)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double dt = (double)(now.tv_sec - g->last_refill.tv_sec) +
		    (double)(now.tv_nsec - g->last_refill.tv_nsec) / 1e9;
	g->last_refill = now;
	if (dt > 0) {
		g->tokens += dt * g->rate;
		if (g->tokens > g->burst)
			g->tokens = g->burst;
	}
}

static size_t capacity(const struct conn_gate *g)
{
	size_t free_slots = g->st.open < g->max_total ? g->max_total - g->st.open : 0;
	if (g->rate > 0 && g->tokens < (double)free_slots)
		free_slots = g->tokens >= 1 ? (size_t)g->tokens : 0;
	return free_slots;
}

static void arm_tick(struct conn_gate *g)
{
	if ((!g->head && !g->held) || evtimer_pending(g->tick, NULL))
		return;
	long us = RECHECK_MS * 1000L;
	if (g->rate > 0 && g->tokens < 1) {
		long need = (long)((1.0 - g->tokens) / g->rate * 1e6) + 1;
		if (need < us)
			us = need;
	}
	struct timeval tv = {us / 1000000, us % 1000000};
	evtimer_add(g->tick, &tv);
}

/* Wakes as many waiters as there are free slots; each asks again. */
/* Ends the holds that are over: their waiters go first. An address left
 * with no session, no waiter and no hold is forgotten. */
static void end_holds(struct conn_gate *g)
{
	long long now = now_ms();
	struct gate_addr **p = &g->held;
	while (*p) {
		struct gate_addr *a = *p;
		if (a->hold_until > now) {
			p = &a->hnext;
			continue;
		}
		*p = a->hnext;
		a->held = false;
		a->hnext = NULL;
		while (a->tail)
			push_front(g, a->tail);
		if (a->open == 0) {
			unsigned char k[KEY_LEN];
			memcpy(k, a->key, KEY_LEN);
			struct gate_addr **slot = find(g, k);
			if (*slot == a)
				*slot = a->next;
			free(a);
		}
	}
}

static void on_pump(evutil_socket_t fd, short what, void *arg)
{
	struct conn_gate *g = arg;
	if (g->held)
		end_holds(g);
	refill(g);
	size_t n = capacity(g);
	while (n-- > 0 && g->head) {
		struct gate_waiter *w = g->head;
		unlink_waiter(g, w);
		w->woken = true;
		w->wake(w->arg);
	}
	arm_tick(g);
}

static void kick(struct conn_gate *g)
{
	if (g->head)
		event_active(g->pump, EV_TIMEOUT, 0);
}

/* ---------- public ---------- */

struct conn_gate *gate_new(struct event_base *base, size_t max_total,
			   size_t per_address, double rate)
{
	struct conn_gate *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->base = base;
	g->max_total = max_total ? max_total : 1;
	g->per_address = per_address ? per_address : 1;
	g->rate = rate;
	/* A short burst only: "rate" must hold over any tenth of a second. */
	g->burst = rate > 0 ? (rate / 20 > 1 ? rate / 20 : 1) : 0;
	g->tokens = g->burst;
	clock_gettime(CLOCK_MONOTONIC, &g->last_refill);
	g->nbuckets = 64;
	while (g->nbuckets < 2 * g->max_total && g->nbuckets < (1u << 20))
		g->nbuckets <<= 1;
	g->buckets = calloc(g->nbuckets, sizeof(*g->buckets));
	g->pump = event_new(base, -1, 0, on_pump, g);
	g->tick = evtimer_new(base, on_pump, g);
	if (!g->buckets || !g->pump || !g->tick) {
		gate_free(g);
		return NULL;
	}
	return g;
}

void gate_free(struct conn_gate *g)
{
	if (!g)
		return;
	for (size_t i = 0; g->buckets && i < g->nbuckets; i++) {
		struct gate_addr *a = g->buckets[i];
		while (a) {
			struct gate_addr *n = a->next;
			while (a->head)
				unlink_waiter(g, a->head);
			free(a);
			a = n;
		}
	}
	while (g->head)
		unlink_waiter(g, g->head);
	free(g->buckets);
	if (g->pump)
		event_free(g->pump);
	if (g->tick)
		event_free(g->tick);
	free(g);
}

bool gate_acquire(struct conn_gate *g, const struct sockaddr_storage *addr,
		  struct gate_waiter *w)
{
	unsigned char k[KEY_LEN];
	make_key(addr, k);
	struct gate_addr **slot = find(g, k);
	struct gate_addr *a = *slot;
	if (a && (a->open >= g->per_address ||
		  (a->held && a->hold_until > now_ms()))) {
		push_back(g, a, w);
		arm_tick(g);
		return false;
	}
	refill(g);
	/* First come, first served: a newcomer queues behind those already
	 * waiting; a waiter the pump has just woken goes ahead. */
	bool may = !g->head || w->woken || (w->queued && !w->on && g->head == w);
	w->woken = false;
	if (!may || g->st.open >= g->max_total ||
	    (g->rate > 0 && g->tokens < 1)) {
		if (!w->queued || w->on)
			push_back(g, NULL, w);
		kick(g);
		arm_tick(g);
		return false;
	}
	if (!a) {
		a = calloc(1, sizeof(*a));
		if (!a) {
			push_back(g, NULL, w);
			arm_tick(g);
			return false;
		}
		memcpy(a->key, k, KEY_LEN);
		*slot = a;
	}
	unlink_waiter(g, w);
	a->open++;
	g->st.open++;
	g->st.granted++;
	if (g->rate > 0)
		g->tokens -= 1;
	if (g->st.open > g->st.peak_open)
		g->st.peak_open = g->st.open;
	if (a->open > g->st.peak_per_address)
		g->st.peak_per_address = a->open;
	return true;
}

void gate_release(struct conn_gate *g, const struct sockaddr_storage *addr)
{
	unsigned char k[KEY_LEN];
	make_key(addr, k);
	struct gate_addr **slot = find(g, k);
	struct gate_addr *a = *slot;
	if (!a || a->open == 0 || g->st.open == 0)
		return; /* not ours: nothing to give back */
	a->open--;
	g->st.open--;
	/* Those waiting for this address go first when the pump runs
	 * (after its hold, if it is on one). */
	while (!a->held && a->tail)
		push_front(g, a->tail);
	if (a->open == 0 && !a->held) {
		*slot = a->next;
		free(a);
	}
	kick(g);
}

void gate_hold(struct conn_gate *g, const struct sockaddr_storage *addr,
	       long ms)
{
	unsigned char k[KEY_LEN];
	make_key(addr, k);
	struct gate_addr **slot = find(g, k);
	struct gate_addr *a = *slot;
	if (!a) {
		if (!(a = calloc(1, sizeof(*a))))
			return; /* no memory to remember it: the check backs off */
		memcpy(a->key, k, KEY_LEN);
		*slot = a;
	}
	long long until = now_ms() + (ms > 0 ? ms : 0);
	if (until > a->hold_until)
		a->hold_until = until;
	if (!a->held) {
		a->held = true;
		a->hnext = g->held;
		g->held = a;
	}
	arm_tick(g);
}

void gate_cancel(struct conn_gate *g, struct gate_waiter *w)
{
	if (g && w)
		unlink_waiter(g, w);
}

void gate_stats(const struct conn_gate *g, struct gate_stats *out)
{
	*out = g->st;
}
