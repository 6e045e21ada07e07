#include "scan/shared.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "scan/status.h"

#define BUCKETS 4096
#define KEY_MAX 80

struct held {
	json_t *line;
	size_t n;               /* servers */
	enum verdict *v;        /* per server */
	enum scan_status *st;   /* per server */
	bool target_error;      /* DNS failure etc.: counts as unreachable */
	enum verdict orig_v;    /* the check's own verdict */
	size_t unresolved;
};

struct waiter {
	struct held *h;
	size_t idx;
	struct waiter *next;
};

struct entry {
	char key[KEY_MAX];
	struct entry *hnext;
	bool done;
	char *server;           /* the owner's server object, as JSON text:
				   a tenth of the memory of the jansson tree */
	char *owner;            /* the owner's target */
	enum verdict v;
	enum scan_status st;
	unsigned pins;          /* targets refused for it, not finished yet */
	struct waiter *waiters;
	struct entry *prev, *next; /* LRU of done entries, oldest first */
};

struct shared_cache {
	struct entry *buckets[BUCKETS];
	struct entry *lru_head, *lru_tail;
	size_t ndone, nheld;
	shared_emit emit;
	void *arg;
};

static unsigned hash(const char *k)
{
	uint32_t h = 2166136261u;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 16777619u;
	return h % BUCKETS;
}

static struct entry **find(struct shared_cache *c, const char *key)
{
	struct entry **p = &c->buckets[hash(key)];
	while (*p && strcmp((*p)->key, key) != 0)
		p = &(*p)->hnext;
	return p;
}

static void lru_unlink(struct shared_cache *c, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else if (c->lru_head == e)
		c->lru_head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else if (c->lru_tail == e)
		c->lru_tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_append(struct shared_cache *c, struct entry *e)
{
	e->prev = c->lru_tail;
	e->next = NULL;
	if (c->lru_tail)
		c->lru_tail->next = e;
	else
		c->lru_head = e;
	c->lru_tail = e;
}

static void entry_free(struct entry *e)
{
	free(e->server);
	free(e->owner);
	while (e->waiters) {
		struct waiter *w = e->waiters;
		e->waiters = w->next;
		free(w);
	}
	free(e);
}

/* Keeps at most SHARED_KEEP done entries; pinned ones stay. */
static void evict(struct shared_cache *c)
{
	struct entry *e = c->lru_head;
	while (c->ndone > SHARED_KEEP && e) {
		struct entry *next = e->next;
		if (e->pins == 0) {
			lru_unlink(c, e);
			struct entry **p = find(c, e->key);
			if (*p == e)
				*p = e->hnext;
			entry_free(e);
			c->ndone--;
		}
		e = next;
	}
}

struct shared_cache *shared_new(shared_emit emit, void *arg)
{
	struct shared_cache *c = calloc(1, sizeof(*c));
	if (c) {
		c->emit = emit;
		c->arg = arg;
	}
	return c;
}

static void held_free(struct held *h)
{
	json_decref(h->line);
	free(h->v);
	free(h->st);
	free(h);
}

void shared_free(struct shared_cache *c)
{
	if (!c)
		return;
	/* Lines still held (their owner was cancelled) are not written: a
	 * resumed scan does them again. Each held line is freed once. */
	for (size_t b = 0; b < BUCKETS; b++) {
		struct entry *e = c->buckets[b];
		while (e) {
			struct entry *n = e->hnext;
			for (struct waiter *w = e->waiters; w; w = w->next)
				if (w->h && --w->h->unresolved == 0)
					held_free(w->h);
			entry_free(e);
			e = n;
		}
	}
	free(c);
}

static void key_of(const char *addr, unsigned port, char *out)
{
	snprintf(out, KEY_MAX, "%s|%u", addr, port);
}

bool shared_claim(struct shared_cache *c, const struct sockaddr *sa)
{
	char addr[INET6_ADDRSTRLEN] = "";
	unsigned port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
		port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
		port = ntohs(s6->sin6_port);
	} else {
		return true;
	}
	char key[KEY_MAX];
	key_of(addr, port, key);
	struct entry **p = find(c, key);
	if (*p) {
		(*p)->pins++;
		if ((*p)->done) { /* recently used */
			lru_unlink(c, *p);
			lru_append(c, *p);
		}
		return false;
	}
	struct entry *e = calloc(1, sizeof(*e));
	if (!e)
		return true; /* no memory to share: just test it */
	snprintf(e->key, sizeof(e->key), "%s", key);
	*p = e;
	return true;
}

static enum scan_status server_status(const struct server_result *s)
{
	if (s->verdict != V_UNREACHABLE || !s->error)
		return SCAN_SUCCESS;
	return scan_status_of_error(s->error);
}

/* The server object at idx becomes a copy of the shared one, with this
 * target's own names. */
static void patch(struct held *h, size_t idx, const struct entry *e)
{
	h->v[idx] = e->v;
	h->st[idx] = e->st;
	json_t *servers = json_object_get(h->line, "servers");
	json_t *orig = json_array_get(servers, idx);
	json_t *copy = e->server ? json_loads(e->server, 0, NULL) : NULL;
	if (!orig || !copy) {
		json_decref(copy);
		return;
	}
	json_object_set(copy, "host", json_object_get(orig, "host"));
	json_object_set(copy, "mx_names", json_object_get(orig, "mx_names"));
	json_object_set_new(copy, "reused_from", json_string(e->owner));
	json_array_set_new(servers, idx, copy);
}

/* Verdict and status over every server, as check_overall does. */
static void complete(struct shared_cache *c, struct held *h)
{
	enum verdict v = V_CLOSED;
	bool any = false;
	if (h->target_error) {
		v = V_UNREACHABLE;
		any = true;
	}
	enum scan_status st = SCAN_EXCLUDED;
	bool success = false, failure = false;
	for (size_t i = 0; i < h->n; i++) {
		v = any ? verdict_worst(v, h->v[i]) : h->v[i];
		any = true;
		if (h->st[i] == SCAN_SUCCESS)
			success = true;
		else if (h->st[i] != SCAN_EXCLUDED && !failure) {
			failure = true;
			st = h->st[i];
		}
	}
	if (h->n > 0) {
		if (success)
			st = SCAN_SUCCESS;
		json_object_set_new(h->line, "status",
				    json_string(scan_status_name(st)));
		json_object_set_new(h->line, "verdict",
				    json_string(verdict_name(v)));
		json_object_set_new(h->line, "exit_code",
				    json_integer(verdict_exit_code(v)));
	} else {
		v = h->orig_v;
	}
	json_t *line = h->line;
	h->line = NULL;
	held_free(h);
	c->emit(c->arg, line, v);
}

size_t shared_finish(struct shared_cache *c, json_t *line,
		     const struct check_result *r)
{
	struct held *h = calloc(1, sizeof(*h));
	size_t n = r->nservers;
	if (h && n) {
		h->v = calloc(n, sizeof(*h->v));
		h->st = calloc(n, sizeof(*h->st));
	}
	if (!h || (n && (!h->v || !h->st))) {
		/* No memory to share: the line as the check made it. */
		if (h)
			held_free(h);
		c->emit(c->arg, line, r->verdict);
		return c->nheld;
	}
	h->line = line;
	h->n = n;
	h->orig_v = r->verdict;
	h->target_error = r->error != NULL;
	h->unresolved = 1; /* this call's own guard */
	json_t *servers = json_object_get(line, "servers");
	for (size_t i = 0; i < n; i++) {
		const struct server_result *s = &r->servers[i];
		char key[KEY_MAX];
		key_of(s->address, s->port, key);
		struct entry *e = *find(c, key);
		h->v[i] = s->verdict;
		h->st[i] = server_status(s);
		bool refused_shared =
		    s->error && strcmp(s->error, "refused: " SHARED_WHY) == 0;
		if (!refused_shared) {
			if (!e || e->done)
				continue;
			/* The owner: fill the entry, complete its waiters. */
			e->done = true;
			e->server = json_dumps(json_array_get(servers, i),
					       JSON_COMPACT | JSON_PRESERVE_ORDER);
			e->owner = rp_strdup(r->target ? r->target : "");
			e->v = s->verdict;
			e->st = h->st[i];
			lru_append(c, e);
			c->ndone++;
			while (e->waiters) {
				struct waiter *w = e->waiters;
				e->waiters = w->next;
				patch(w->h, w->idx, e);
				if (--w->h->unresolved == 0) {
					c->nheld--;
					complete(c, w->h);
				}
				free(w);
			}
			continue;
		}
		if (!e)
			continue; /* cannot happen: pinned entries stay */
		if (e->pins)
			e->pins--;
		if (e->done) {
			patch(h, i, e);
			continue;
		}
		struct waiter *w = calloc(1, sizeof(*w));
		if (!w)
			continue; /* stays "not tested: shared" */
		w->h = h;
		w->idx = i;
		w->next = e->waiters;
		e->waiters = w;
		h->unresolved++;
	}
	evict(c);
	if (--h->unresolved == 0)
		complete(c, h);
	else
		c->nheld++;
	return c->nheld;
}

size_t shared_held(const struct shared_cache *c)
{
	return c->nheld;
}
