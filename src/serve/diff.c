#include "serve/diff.h"

#include <stdio.h>
#include <string.h>

int diff_verdict_rank(const char *v)
{
	static const char *const order[] = {"closed", "unreachable",
					    "inconclusive", "suspect", "open"};
	for (int i = 0; v && i < 5; i++)
		if (strcmp(v, order[i]) == 0)
			return i;
	return -1;
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static const char *direction(int from, int to)
{
	return to > from ? "worse" : to < from ? "better" : "info";
}

static void add(json_t *a, const char *kind, const char *dir,
		const char *server, const char *msg, json_t *extra)
{
	json_t *c = json_pack("{s:s, s:s, s:s?, s:s}", "kind", kind,
			      "direction", dir, "server", server, "message",
			      msg);
	if (c && extra)
		json_object_update(c, extra);
	json_decref(extra);
	json_array_append_new(a, c);
}

/* "address:port" of a server object. */
static void server_key(const json_t *s, char *out, size_t n)
{
	json_int_t port = json_integer_value(json_object_get(s, "port"));
	const char *a = str(s, "address");
	snprintf(out, n, strchr(a, ':') ? "[%s]:%lld" : "%s:%lld", a,
		 (long long)port);
}

static const json_t *find_server(const json_t *doc, const char *key)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(doc, "servers"), i, s)
	{
		char k[96];
		server_key(s, k, sizeof(k));
		if (strcmp(k, key) == 0)
			return s;
	}
	return NULL;
}

static bool listed_in(const json_t *s, const char *zone)
{
	size_t i;
	json_t *b;
	json_array_foreach(json_object_get(s, "blocklists"), i, b)
	{
		if (strcmp(str(b, "zone"), zone) == 0 &&
		    strcmp(str(b, "status"), "listed") == 0)
			return true;
	}
	return false;
}

static bool has_finding(const json_t *s, const char *id)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(s, "findings"), i, f)
	{
		if (strcmp(str(f, "id"), id) == 0)
			return true;
	}
	return false;
}

/* Listings and findings present in `a` but not in `b`. */
static void one_way(json_t *out, const char *key, const json_t *a,
		    const json_t *b, bool a_is_new, bool *alert)
{
	size_t i;
	json_t *x;
	char msg[400];
	json_array_foreach(json_object_get(a, "blocklists"), i, x)
	{
		const char *zone = str(x, "zone");
		if (strcmp(str(x, "status"), "listed") != 0 ||
		    listed_in(b, zone))
			continue;
		snprintf(msg, sizeof(msg), "%s %s %s", key,
			 a_is_new ? "newly listed on" : "no longer listed on",
			 zone);
		add(out, a_is_new ? "listed" : "delisted",
		    a_is_new ? "worse" : "better", key, msg,
		    json_pack("{s:s}", "zone", zone));
		if (a_is_new)
			*alert = true;
	}
	json_array_foreach(json_object_get(a, "findings"), i, x)
	{
		const char *id = str(x, "id");
		if (has_finding(b, id))
			continue;
		const char *sev = str(x, "severity");
		bool cert = strcmp(id, "tls-cert-expiring") == 0 ||
			    strcmp(id, "tls-cert-expired") == 0;
		if (a_is_new && cert) {
			json_t *c = json_object_get(a, "certificate");
			snprintf(msg, sizeof(msg), "%s: %s", key, str(x, "title"));
			add(out, "certificate-expiring", "worse", key, msg,
			    json_pack("{s:s, s:O?}", "id", id, "days_left",
				      json_object_get(c, "days_left")));
			*alert = true;
			continue;
		}
		snprintf(msg, sizeof(msg), "%s: %s%s", key,
			 a_is_new ? "" : "fixed since the last test: ",
			 str(x, "title"));
		add(out, a_is_new ? "finding-new" : "finding-resolved",
		    a_is_new ? (strcmp(sev, "info") ? "worse" : "info")
			     : "better",
		    key, msg,
		    json_pack("{s:s, s:s, s:s}", "id", id, "severity", sev,
			      "title", str(x, "title")));
		if (a_is_new && strcmp(sev, "critical") == 0)
			*alert = true;
	}
}

json_t *diff_results(const json_t *prev, const json_t *cur, bool *alert)
{
	*alert = false;
	json_t *out = json_array();
	if (!out || !prev || !cur)
		return out;
	char msg[400];
	const char *pv = str(prev, "verdict"), *cv = str(cur, "verdict");
	int pr = diff_verdict_rank(pv), cr = diff_verdict_rank(cv);
	if (strcmp(pv, cv) != 0) {
		snprintf(msg, sizeof(msg), "verdict %s since the last test (was %s)",
			 cv, pv);
		add(out, "verdict", direction(pr, cr), NULL, msg,
		    json_pack("{s:s, s:s}", "from", pv, "to", cv));
		if (cr > pr)
			*alert = true;
	}
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(cur, "servers"), i, s)
	{
		char key[96];
		server_key(s, key, sizeof(key));
		const json_t *p = find_server(prev, key);
		const char *sv = str(s, "verdict");
		if (!p) {
			snprintf(msg, sizeof(msg), "new server %s (%s)", key, sv);
			add(out, "server-new", "info", key, msg,
			    json_pack("{s:s}", "verdict", sv));
			continue;
		}
		const char *psv = str(p, "verdict");
		if (strcmp(sv, psv) != 0) {
			int a = diff_verdict_rank(psv), b = diff_verdict_rank(sv);
			snprintf(msg, sizeof(msg), "%s: %s since the last test "
				 "(was %s)", key, sv, psv);
			add(out, "server-verdict", direction(a, b), key, msg,
			    json_pack("{s:s, s:s}", "from", psv, "to", sv));
			if (b > a)
				*alert = true;
		}
		one_way(out, key, s, p, true, alert);
		bool unused = false;
		one_way(out, key, p, s, false, &unused);
	}
	json_array_foreach(json_object_get(prev, "servers"), i, s)
	{
		char key[96];
		server_key(s, key, sizeof(key));
		if (find_server(cur, key))
			continue;
		snprintf(msg, sizeof(msg), "server %s no longer tested", key);
		add(out, "server-gone", "info", key, msg, NULL);
	}
	return out;
}
