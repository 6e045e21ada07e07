/*
 * serve/request: reads what API clients send (JSON bodies, webhook URLs)
 * into validated requests, and applies the target policy of a public
 * deployment: only the allowed SMTP ports, no address literal of a
 * loopback, private, ... class (unless allowed), no ambiguous IPv4
 * spellings. Pure: no I/O. The definitive address check happens at
 * connect time (serve's filter on every resolved address).
 */
#ifndef RP_SERVE_REQUEST_H
#define RP_SERVE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REQUEST_MAX_BODY 16384 /* bytes of a JSON request body */
#define REQUEST_MAX_PORTS 16

struct serve_policy {
	bool allow_private;              /* --allow-private */
	uint16_t ports[REQUEST_MAX_PORTS]; /* --ports (25, 465, 587) */
	size_t nports;
	uint16_t default_port;           /* for targets without one (25) */
	int min_interval_s;              /* shortest schedule interval */
};

void serve_policy_defaults(struct serve_policy *p);

/* What went wrong: a malformed request (400) or a target the policy
 * refuses (422 with the reason). */
enum request_error { REQ_OK = 0, REQ_BAD = -1, REQ_REFUSED = -2 };

/*
 * Validates a target and writes its normalized form (trimmed, host in
 * lower case, no trailing dot, ":port" only when given): the key of the
 * target's history.
 */
enum request_error request_check_target(const char *target,
					const struct serve_policy *p,
					char *norm, size_t normlen, char *err,
					size_t errlen);

/* Only the normalization (for looking history up): no policy. */
enum request_error request_normalize_target(const char *target,
					    uint16_t default_port, char *norm,
					    size_t normlen, char *err,
					    size_t errlen);

struct check_request {
	char target[300]; /* normalized */
};

/* Body {"target": "..."} (unknown members refused). */
enum request_error request_parse_check(const char *body, size_t len,
				       const struct serve_policy *p,
				       struct check_request *out, char *err,
				       size_t errlen);

struct webhook_url {
	bool tls;          /* https */
	char host[256];
	uint16_t port;
	char path[1024];   /* with the query, at least "/" */
};

/* http://host[:port]/path or https://... 0 or -1. */
int request_parse_url(const char *url, struct webhook_url *out, char *err,
		      size_t errlen);

struct schedule_request {
	char target[300];   /* normalized */
	int interval_s;     /* from every_hours or interval_seconds */
	char webhook[1024]; /* "" when none */
};

/* Body {"target": "...", "every_hours": N | "interval_seconds": N,
 * "webhook": "http://..."}. */
enum request_error request_parse_schedule(const char *body, size_t len,
					  const struct serve_policy *p,
					  struct schedule_request *out,
					  char *err, size_t errlen);

#endif
