#include "serve/request.h"

#include <ctype.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "net/target.h"
#include "serve/addr_policy.h"

void serve_policy_defaults(struct serve_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->ports[0] = 25;
	p->ports[1] = 465;
	p->ports[2] = 587;
	p->nports = 3;
	p->default_port = 25;
	p->min_interval_s = 3600;
}

#define FAIL(code, ...)                                                        \
	do {                                                                   \
		snprintf(err, errlen, __VA_ARGS__);                            \
		return code;                                                   \
	} while (0)

static bool port_allowed(const struct serve_policy *p, uint16_t port)
{
	for (size_t i = 0; i < p->nports; i++)
		if (p->ports[i] == port)
			return true;
	return false;
}

/* Trimmed, lower-cased copy. */
static enum request_error trim_lower(const char *target, char *buf,
				     size_t buflen, char *err, size_t errlen)
{
	while (*target == ' ' || *target == '\t')
		target++;
	size_t n = strlen(target);
	while (n && (target[n - 1] == ' ' || target[n - 1] == '\t'))
		n--;
	if (n == 0)
		FAIL(REQ_BAD, "target is empty");
	if (n >= buflen)
		FAIL(REQ_BAD, "target is too long");
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)target[i]);
	buf[n] = '\0';
	return REQ_OK;
}

static enum request_error format_norm(const struct target *t, char *norm,
				      size_t normlen, char *err,
				      size_t errlen)
{
	int w;
	if (!t->port_given)
		w = snprintf(norm, normlen, "%s", t->host);
	else if (t->family == AF_INET6)
		w = snprintf(norm, normlen, "[%s]:%u", t->host, t->port);
	else
		w = snprintf(norm, normlen, "%s:%u", t->host, t->port);
	if (w < 0 || (size_t)w >= normlen)
		FAIL(REQ_BAD, "target is too long");
	return REQ_OK;
}

enum request_error request_normalize_target(const char *target,
					    uint16_t default_port, char *norm,
					    size_t normlen, char *err,
					    size_t errlen)
{
	char buf[300];
	struct target t;
	char terr[256];
	if (trim_lower(target, buf, sizeof(buf), err, errlen) != REQ_OK)
		return REQ_BAD;
	if (target_parse(buf, default_port, &t, terr, sizeof(terr)) < 0)
		FAIL(REQ_BAD, "%s", terr);
	return format_norm(&t, norm, normlen, err, errlen);
}

enum request_error request_check_target(const char *target,
					const struct serve_policy *p,
					char *norm, size_t normlen, char *err,
					size_t errlen)
{
	char buf[300];
	if (trim_lower(target, buf, sizeof(buf), err, errlen) != REQ_OK)
		return REQ_BAD;
	/* Loose IPv4 spellings first: target_parse would take "0x7f.1" for
	 * a host name, and a resolver might read it as 127.0.0.1. */
	char host[300];
	snprintf(host, sizeof(host), "%s", buf);
	char *colon = strchr(host, ':');
	if (colon && !strchr(colon + 1, ':'))
		*colon = '\0';
	bool lit;
	enum addr_class cls;
	char canon[64];
	if (addr_inspect_host(host, &lit, &cls, canon, sizeof(canon)) < 0)
		FAIL(REQ_REFUSED,
		     "refused: '%.60s' is an unusual spelling of an address "
		     "(%.60s, %s); write addresses as a.b.c.d",
		     host, canon[0] ? canon : "invalid", addr_class_name(cls));
	struct target t;
	char terr[256];
	if (target_parse(buf, p->default_port, &t, terr, sizeof(terr)) < 0)
		FAIL(REQ_BAD, "%s", terr);
	if (!port_allowed(p, t.port))
		FAIL(REQ_REFUSED,
		     "refused: port %u is not an SMTP port this service tests",
		     t.port);
	if (!p->allow_private) {
		if (addr_inspect_host(t.host, &lit, &cls, canon,
				      sizeof(canon)) < 0 ||
		    (lit && cls != ADDR_PUBLIC))
			FAIL(REQ_REFUSED,
			     "refused: %s is a %s address (this service tests "
			     "public mail servers only)",
			     canon, addr_class_name(cls));
		size_t hl = strlen(t.host);
		if (strcmp(t.host, "localhost") == 0 ||
		    (hl > 10 && strcmp(t.host + hl - 10, ".localhost") == 0))
			FAIL(REQ_REFUSED,
			     "refused: %s is this machine (this service tests "
			     "public mail servers only)",
			     t.host);
	}
	return format_norm(&t, norm, normlen, err, errlen);
}

/* A JSON object body with only the allowed members. */
static json_t *parse_object(const char *body, size_t len,
			    const char *const *allowed, char *err,
			    size_t errlen)
{
	if (len > REQUEST_MAX_BODY) {
		snprintf(err, errlen, "request body over %d bytes",
			 REQUEST_MAX_BODY);
		return NULL;
	}
	json_error_t je;
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		snprintf(err, errlen, "body is not JSON: %.80s", je.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		snprintf(err, errlen, "body must be a JSON object");
		return NULL;
	}
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			ok = ok || strcmp(*a, k) == 0;
		if (!ok) {
			char kk[48];
			size_t i = 0;
			for (; k[i] && i < sizeof(kk) - 1; i++)
				kk[i] = isprint((unsigned char)k[i]) ? k[i] : '?';
			kk[i] = '\0';
			snprintf(err, errlen, "unknown member '%s'", kk);
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

enum request_error request_parse_check(const char *body, size_t len,
				       const struct serve_policy *p,
				       struct check_request *out, char *err,
				       size_t errlen)
{
	static const char *const allowed[] = {"target", NULL};
	memset(out, 0, sizeof(*out));
	json_t *o = parse_object(body, len, allowed, err, errlen);
	if (!o)
		return REQ_BAD;
	const char *t = json_string_value(json_object_get(o, "target"));
	enum request_error rc = REQ_BAD;
	if (!t)
		snprintf(err, errlen, "'target' (a string) is required");
	else if (strlen(t) != json_string_length(json_object_get(o, "target")))
		snprintf(err, errlen, "target contains a NUL byte");
	else
		rc = request_check_target(t, p, out->target,
					  sizeof(out->target), err, errlen);
	json_decref(o);
	return rc;
}

int request_parse_url(const char *url, struct webhook_url *out, char *err,
		      size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const char *p;
	if (strncmp(url, "http://", 7) == 0) {
		p = url + 7;
		out->port = 80;
	} else if (strncmp(url, "https://", 8) == 0) {
		p = url + 8;
		out->tls = true;
		out->port = 443;
	} else {
		FAIL(-1, "webhook must be an http:// or https:// URL");
	}
	for (const char *q = url; *q; q++)
		if (!isgraph((unsigned char)*q))
			FAIL(-1, "webhook URL contains spaces or control "
				 "characters");
	size_t hl = strcspn(p, "/?#");
	char hostport[300];
	if (hl == 0 || hl >= sizeof(hostport))
		FAIL(-1, "webhook URL has no host");
	memcpy(hostport, p, hl);
	hostport[hl] = '\0';
	if (strchr(hostport, '@'))
		FAIL(-1, "webhook URL must not carry credentials");
	struct target t;
	char terr[200];
	if (target_parse(hostport, out->port, &t, terr, sizeof(terr)) < 0)
		FAIL(-1, "webhook URL: %s", terr);
	snprintf(out->host, sizeof(out->host), "%s", t.host);
	out->port = t.port;
	const char *path = p + hl;
	size_t pl = strcspn(path, "#");
	if (pl == 0)
		snprintf(out->path, sizeof(out->path), "/");
	else if (path[0] != '/' && path[0] != '?')
		FAIL(-1, "webhook URL: bad path");
	else if (pl >= sizeof(out->path) - 1)
		FAIL(-1, "webhook URL too long");
	else
		snprintf(out->path, sizeof(out->path), "%s%.*s",
			 path[0] == '?' ? "/" : "", (int)pl, path);
	return 0;
}

enum request_error request_parse_schedule(const char *body, size_t len,
					  const struct serve_policy *p,
					  struct schedule_request *out,
					  char *err, size_t errlen)
{
	static const char *const allowed[] = {"target", "every_hours",
					      "interval_seconds", "webhook",
					      NULL};
	memset(out, 0, sizeof(*out));
	json_t *o = parse_object(body, len, allowed, err, errlen);
	if (!o)
		return REQ_BAD;
	enum request_error rc = REQ_BAD;
	json_t *t = json_object_get(o, "target");
	json_t *h = json_object_get(o, "every_hours");
	json_t *s = json_object_get(o, "interval_seconds");
	json_t *w = json_object_get(o, "webhook");
	double secs = 0;
	if (!json_is_string(t) ||
	    strlen(json_string_value(t)) != json_string_length(t)) {
		snprintf(err, errlen, "'target' (a string) is required");
		goto out;
	}
	if ((h != NULL) == (s != NULL)) {
		snprintf(err, errlen,
			 "give one of 'every_hours' or 'interval_seconds'");
		goto out;
	}
	if (h && !json_is_number(h)) {
		snprintf(err, errlen, "'every_hours' must be a number");
		goto out;
	}
	if (s && !json_is_integer(s)) {
		snprintf(err, errlen, "'interval_seconds' must be an integer");
		goto out;
	}
	secs = h ? json_number_value(h) * 3600.0 : (double)json_integer_value(s);
	if (!(secs >= p->min_interval_s) || secs > 366.0 * 86400) {
		snprintf(err, errlen,
			 "interval must be from %d seconds to 366 days",
			 p->min_interval_s);
		goto out;
	}
	out->interval_s = (int)secs;
	if (w && !json_is_null(w)) {
		struct webhook_url u;
		if (!json_is_string(w) ||
		    json_string_length(w) >= sizeof(out->webhook) ||
		    strlen(json_string_value(w)) != json_string_length(w)) {
			snprintf(err, errlen, "'webhook' must be a URL");
			goto out;
		}
		if (request_parse_url(json_string_value(w), &u, err, errlen) <
		    0)
			goto out;
		snprintf(out->webhook, sizeof(out->webhook), "%s",
			 json_string_value(w));
	}
	rc = request_check_target(json_string_value(t), p, out->target,
				  sizeof(out->target), err, errlen);
out:
	json_decref(o);
	return rc;
}
