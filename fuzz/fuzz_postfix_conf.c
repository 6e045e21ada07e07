/*
 * fuzz_postfix_conf: the Postfix configuration reader and the relay-policy
 * evaluator (config/postfix_conf, config/postfix_policy), which read a
 * user's main.cf, master.cf or postconf output and the access tables they
 * name. Input: [mode byte] main.cf text [0xFF master.cf text [0xFF table
 * text]]. Mode bit 0: evaluate with --client 127.0.0.2. Any table path
 * reads the third part.
 *
 * Checks: a failed parse gives one line "FILE:LINE: ..." (or an
 * out-of-memory message); a successful one has every parameter with a
 * name, value and line >= 1 within the input; the evaluation succeeds
 * with a verdict of closed, suspect, open or inconclusive, every finding
 * has a known id, a file, a message and its service list; an open verdict
 * has a finding that relays; a failed one says "out of memory" or names
 * the parameter it cannot expand, on one line.
 */
#include "fuzz.h"

#include "config/postfix_conf.h"
#include "config/postfix_policy.h"

static int table_read(void *ctx, const char *path, char **buf, size_t *len,
		      char *err, size_t errlen)
{
	const struct fz_parts *pt = ctx;
	(void)path;
	if (!pt->p[2]) {
		snprintf(err, errlen, "no such table");
		return -1;
	}
	*buf = malloc(pt->n[2] + 1);
	if (!*buf)
		return -1;
	memcpy(*buf, pt->p[2], pt->n[2]);
	(*buf)[pt->n[2]] = '\0';
	*len = pt->n[2];
	return 0;
}

static void check_err(const char *err, const char *file)
{
	FZ_CHECK(err[0] != '\0');
	FZ_CHECK(strchr(err, '\n') == NULL);
	FZ_CHECK(strncmp(err, file, strlen(file)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t mode = data[0];
	struct fz_parts pt;
	fz_split3(data + 1, size - 1, &pt);
	struct pf_conf c = {0};
	char err[256] = "";
	if (pf_parse_main(&c, pt.p[0], pt.n[0], "main.cf", err, sizeof(err)) < 0) {
		check_err(err, "main.cf");
		pf_conf_free(&c);
		return 0;
	}
	for (size_t i = 0; i < c.main.n; i++) {
		FZ_CHECK(c.main.v[i].name[0] != '\0');
		FZ_CHECK(c.main.v[i].line >= 1);
		FZ_CHECK(strlen(c.main.v[i].value) <= PF_MAX_LINE);
	}
	if (pt.p[1] &&
	    pf_parse_master(&c, pt.p[1], pt.n[1], "master.cf", err, sizeof(err)) < 0) {
		check_err(err, "master.cf");
		pf_conf_free(&c);
		return 0;
	}
	struct cfg_io io = {table_read, &pt};
	struct cfg_options o = {.client = (mode & 1) ? "127.0.0.2" : NULL};
	struct cfg_report r = {0};
	int rc = pf_evaluate(&c, &io, &o, &r, err, sizeof(err));
	if (rc == 0) {
		FZ_CHECK(r.verdict == V_CLOSED || r.verdict == V_SUSPECT ||
			 r.verdict == V_OPEN || r.verdict == V_INCONCLUSIVE);
		FZ_CHECK(r.verdict_reason != NULL);
		bool relays = false;
		for (size_t i = 0; i < r.n; i++) {
			const struct cfg_finding *f = &r.v[i];
			FZ_CHECK(strcmp(cfg_title(f->id), f->id) != 0);
			FZ_CHECK(f->file && f->message && f->message[0]);
			FZ_CHECK(f->line >= 0);
			relays |= f->effect == CFG_RELAYS;
		}
		FZ_CHECK(r.verdict != V_OPEN || relays);
	} else {
		FZ_CHECK(strcmp(err, "out of memory") == 0 ||
			 strncmp(err, "cannot expand ", 14) == 0);
		FZ_CHECK(strchr(err, '\n') == NULL);
	}
	cfg_report_free(&r);
	pf_conf_free(&c);
	return 0;
}
