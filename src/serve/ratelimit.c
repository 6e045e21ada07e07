#include "serve/ratelimit.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYLEN 48
#define PROBE 8 /* slots looked at per key */

struct bucket {
	char key[KEYLEN];
	double tokens;
	int64_t last_ms;
};

struct ratelimit {
	struct bucket *v;
	size_t n;
	double rate, burst;
};

struct ratelimit *ratelimit_new(size_t slots, double rate_per_s, double burst)
{
	if (slots < PROBE || !(rate_per_s > 0) || !(burst >= 1))
		return NULL;
	struct ratelimit *rl = calloc(1, sizeof(*rl));
	if (!rl)
		return NULL;
	rl->v = calloc(slots, sizeof(*rl->v));
	if (!rl->v) {
		free(rl);
		return NULL;
	}
	rl->n = slots;
	rl->rate = rate_per_s;
	rl->burst = burst;
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (rl)
		free(rl->v);
	free(rl);
}

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

bool ratelimit_take(struct ratelimit *rl, const char *client, int64_t now_ms,
		    int *retry_after_s)
{
	char key[KEYLEN];
	snprintf(key, sizeof(key), "%s", client);
	size_t start = (size_t)(hash(key) % rl->n);
	struct bucket *b = NULL, *victim = NULL;
	for (size_t i = 0; i < PROBE; i++) {
		struct bucket *x = &rl->v[(start + i) % rl->n];
		if (x->key[0] && strcmp(x->key, key) == 0) {
			b = x;
			break;
		}
		if (!victim || !x->key[0] ||
		    (victim->key[0] && x->last_ms < victim->last_ms))
			victim = x;
	}
	if (!b) {
		b = victim;
		memcpy(b->key, key, sizeof(key));
		b->tokens = rl->burst;
		b->last_ms = now_ms;
	}
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) / 1000.0 * rl->rate;
		if (b->tokens > rl->burst)
			b->tokens = rl->burst;
		b->last_ms = now_ms;
	}
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return true;
	}
	if (retry_after_s) {
		double s = ceil((1.0 - b->tokens) / rl->rate);
		*retry_after_s = s < 1 ? 1 : s > 86400 ? 86400 : (int)s;
	}
	return false;
}

void ratelimit_client_key(const char *addr, char *key, size_t keylen)
{
	struct in6_addr a;
	if (inet_pton(AF_INET6, addr, &a) == 1) {
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0,
						   0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(a.s6_addr, mapped, 12) == 0) {
			inet_ntop(AF_INET, a.s6_addr + 12, key, (socklen_t)keylen);
			return;
		}
		memset(a.s6_addr + 8, 0, 8);
		char t[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &a, t, sizeof(t));
		snprintf(key, keylen, "%s/64", t);
		return;
	}
	snprintf(key, keylen, "%s", addr);
}
