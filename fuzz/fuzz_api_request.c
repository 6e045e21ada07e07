/*
 * fuzz_api_request: serve's API request bodies (serve/request): JSON ->
 * check request, JSON -> schedule request, webhook URLs. Input: [policy
 * byte][body].
 *
 * Checks: an accepted check or schedule has a non-empty normalized target
 * that is accepted again as it is (normalizing is idempotent), within the
 * policy (never a non-public literal unless allowed); an accepted URL has
 * a host and a path starting with '/'; every error is one bounded line.
 */
#include "fuzz.h"

#include "serve/addr_policy.h"
#include "serve/request.h"

static void target_within_policy(const char *t, const struct serve_policy *p)
{
	char again[300], err[256];
	FZ_CHECK(t[0] != '\0');
	FZ_CHECK(request_check_target(t, p, again, sizeof(again), err,
				      sizeof(err)) == REQ_OK);
	FZ_CHECK(strcmp(again, t) == 0);
	if (!p->allow_private) {
		char host[300];
		snprintf(host, sizeof(host), "%s", t[0] == '[' ? t + 1 : t);
		char *end = t[0] == '[' ? strchr(host, ']') : NULL;
		if (end)
			*end = '\0';
		else if (strchr(host, ':') && !strchr(strchr(host, ':') + 1, ':'))
			*strchr(host, ':') = '\0';
		bool lit;
		enum addr_class cls;
		char canon[64];
		FZ_CHECK(addr_inspect_host(host, &lit, &cls, canon,
					   sizeof(canon)) == 0);
		FZ_CHECK(!lit || cls == ADDR_PUBLIC);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	uint8_t mode = fz_u8(&f);
	size_t n;
	const uint8_t *body = fz_rest(&f, &n);
	struct serve_policy p;
	serve_policy_defaults(&p);
	p.allow_private = mode & 1;
	p.min_interval_s = 1;
	char err[256];
	memset(err, 'Z', sizeof(err));
	if (mode & 2) {
		struct schedule_request s;
		if (request_parse_schedule((const char *)body, n, &p, &s, err,
					   sizeof(err)) == REQ_OK) {
			target_within_policy(s.target, &p);
			FZ_CHECK(s.interval_s >= 1);
		} else {
			FZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		}
	} else {
		struct check_request r;
		if (request_parse_check((const char *)body, n, &p, &r, err,
					sizeof(err)) == REQ_OK)
			target_within_policy(r.target, &p);
		else
			FZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	}
	char *url = malloc(n + 1);
	if (url) {
		memcpy(url, body, n);
		url[n] = '\0';
		struct webhook_url u;
		if (request_parse_url(url, &u, err, sizeof(err)) == 0) {
			FZ_CHECK(u.host[0] != '\0' && u.path[0] == '/');
			FZ_CHECK(u.port > 0);
		}
		free(url);
	}
	return 0;
}
