/*
 * fuzz_exim_conf: the Exim configuration reader and the RCPT ACL walk
 * (config/exim_conf, config/exim_policy). Input: [mode byte] main file
 * [0xFF file "/a" [0xFF file "/b"]]: ".include /a" and ".include /b"
 * read the other parts, any other include fails. Mode bit 0: evaluate
 * with --client 127.0.0.2.
 *
 * Checks: a failed parse gives one line naming a file ("exim.conf:",
 * "/a:", "/b:") or out of memory; a successful one has every option and
 * statement with a line >= 1 and a known verb; evaluation either succeeds
 * with closed/suspect/open and known finding ids (open only with a
 * relaying finding) or fails with one line.
 */
#include "fuzz.h"

#include "config/exim_conf.h"
#include "config/exim_policy.h"

static int inc_read(void *ctx, const char *path, char **buf, size_t *len,
		    char *err, size_t errlen)
{
	const struct fz_parts *pt = ctx;
	int k = strcmp(path, "/a") == 0 ? 1 : strcmp(path, "/b") == 0 ? 2 : 0;
	if (!k || !pt->p[k]) {
		snprintf(err, errlen, "%s: cannot open", path);
		return -1;
	}
	*buf = malloc(pt->n[k] + 1);
	if (!*buf)
		return -1;
	memcpy(*buf, pt->p[k], pt->n[k]);
	(*buf)[pt->n[k]] = '\0';
	*len = pt->n[k];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t mode = data[0];
	struct fz_parts pt;
	fz_split3(data + 1, size - 1, &pt);
	struct ex_conf c = {0};
	struct cfg_io io = {inc_read, &pt};
	char err[256] = "";
	if (ex_parse(&c, pt.p[0], pt.n[0], "exim.conf", &io, err, sizeof(err)) < 0) {
		FZ_CHECK(err[0] && strchr(err, '\n') == NULL);
		FZ_CHECK(strncmp(err, "exim.conf:", 10) == 0 ||
			 strncmp(err, "/a:", 3) == 0 || strncmp(err, "/b:", 3) == 0 ||
			 strcmp(err, "out of memory") == 0);
		ex_conf_free(&c);
		return 0;
	}
	for (size_t i = 0; i < c.nopt; i++)
		FZ_CHECK(c.opt[i].line >= 1 && c.opt[i].name[0]);
	for (size_t i = 0; i < c.nacl; i++)
		for (size_t j = 0; j < c.acl[i].ns; j++) {
			const char *v = c.acl[i].s[j].verb;
			FZ_CHECK(c.acl[i].s[j].line >= 1);
			FZ_CHECK(!strcmp(v, "accept") || !strcmp(v, "deny") ||
				 !strcmp(v, "require") || !strcmp(v, "drop") ||
				 !strcmp(v, "defer") || !strcmp(v, "discard") ||
				 !strcmp(v, "warn"));
		}
	struct cfg_options o = {.client = (mode & 1) ? "127.0.0.2" : NULL};
	struct cfg_report r = {0};
	if (ex_evaluate(&c, &o, &r, err, sizeof(err)) == 0) {
		FZ_CHECK(r.verdict == V_CLOSED || r.verdict == V_SUSPECT ||
			 r.verdict == V_OPEN);
		bool relays = false;
		for (size_t i = 0; i < r.n; i++) {
			FZ_CHECK(strcmp(cfg_title(r.v[i].id), r.v[i].id) != 0);
			FZ_CHECK(r.v[i].message && r.v[i].file);
			relays |= r.v[i].effect == CFG_RELAYS;
		}
		FZ_CHECK(r.verdict != V_OPEN || relays);
	} else {
		FZ_CHECK(err[0] && strchr(err, '\n') == NULL);
	}
	cfg_report_free(&r);
	ex_conf_free(&c);
	return 0;
}
