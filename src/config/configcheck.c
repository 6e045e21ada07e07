#include "config/configcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "config/cfg_report.h"
#include "config/exim_conf.h"
#include "config/exim_policy.h"
#include "config/postfix_conf.h"
#include "config/postfix_policy.h"
#include "core/util.h"
#include "report/report.h"

#define EXIT_BAD_INPUT 3

int configcheck_read(void *ctx, const char *path, char **buf, size_t *len,
		     char *err, size_t errlen)
{
	(void)ctx;
	*buf = NULL;
	*len = 0;
	bool is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "%.200s: cannot open: %s", path,
			 strerror(errno));
		return -1;
	}
	struct stat st;
	if (!is_stdin) {
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%.200s: not a regular file", path);
			close(fd);
			return -1;
		}
		if (st.st_size > CFG_MAX_FILE) {
			snprintf(err, errlen,
				 "%.200s: larger than %d MiB: refused", path,
				 CFG_MAX_FILE / (1024 * 1024));
			close(fd);
			return -1;
		}
		/* Regular file: blocking reads are fine again. */
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	}
	size_t cap = 64 * 1024, n = 0;
	char *b = malloc(cap + 1);
	if (!b) {
		snprintf(err, errlen, "%.200s: out of memory", path);
		if (!is_stdin)
			close(fd);
		return -1;
	}
	for (;;) {
		if (n == cap) {
			if (cap >= CFG_MAX_FILE) {
				snprintf(err, errlen,
					 "%.200s: larger than %d MiB: refused",
					 is_stdin ? "stdin" : path,
					 CFG_MAX_FILE / (1024 * 1024));
				free(b);
				if (!is_stdin)
					close(fd);
				return -1;
			}
			cap *= 2;
			if (cap > CFG_MAX_FILE)
				cap = CFG_MAX_FILE;
			char *nb = realloc(b, cap + 1);
			if (!nb) {
				snprintf(err, errlen, "%.200s: out of memory", path);
				free(b);
				if (!is_stdin)
					close(fd);
				return -1;
			}
			b = nb;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%.200s: read error: %s",
				 is_stdin ? "stdin" : path, strerror(errno));
			free(b);
			if (!is_stdin)
				close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (!is_stdin)
		close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

static const struct cfg_io file_io = {configcheck_read, NULL};

/* --- Postfix ---------------------------------------------------------------- */

static int load_postfix(const char *arg, const struct cfg_options *co,
			struct cfg_report *r, char *err, size_t errlen)
{
	struct pf_conf c = {0};
	char *main_cf = NULL, *master_cf = NULL;
	int rc = -1;
	if (strcmp(arg, "-") == 0) {
		main_cf = rp_strdup("-");
	} else if (is_dir(arg)) {
		main_cf = rp_asprintf("%s/main.cf", arg);
		master_cf = rp_asprintf("%s/master.cf", arg);
	} else {
		main_cf = rp_strdup(arg);
		const char *slash = strrchr(arg, '/');
		const char *base = slash ? slash + 1 : arg;
		if (strcmp(base, "main.cf") == 0)
			master_cf = rp_asprintf("%.*smaster.cf",
						(int)(base - arg), arg);
	}
	if (!main_cf) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	char *buf;
	size_t len;
	if (configcheck_read(NULL, main_cf, &buf, &len, err, errlen) < 0)
		goto out;
	const char *name = strcmp(main_cf, "-") == 0 ? "stdin" : main_cf;
	int prc = pf_parse_main(&c, buf, len, name, err, errlen);
	free(buf);
	if (prc < 0)
		goto out;
	if (c.main.n == 0 && c.nsvc == 0) {
		snprintf(err, errlen, "%.200s: no settings at all (empty file?): "
			 "not a Postfix configuration", name);
		goto out;
	}
	if (master_cf && exists(master_cf)) {
		if (configcheck_read(NULL, master_cf, &buf, &len, err, errlen) < 0)
			goto out;
		prc = pf_parse_master(&c, buf, len, master_cf, err, errlen);
		free(buf);
		if (prc < 0)
			goto out;
		r->files = rp_asprintf("%s, %s", name, master_cf);
	} else {
		r->files = rp_strdup(name);
	}
	rc = pf_evaluate(&c, &file_io, co, r, err, errlen);
out:
	free(main_cf);
	free(master_cf);
	pf_conf_free(&c);
	return rc;
}

/* --- Exim ---------------------------------------------------------------------- */

static int load_exim(const char *arg, const struct cfg_options *co,
		     struct cfg_report *r, char *err, size_t errlen)
{
	struct ex_conf c = {0};
	char *buf;
	size_t len;
	if (configcheck_read(NULL, arg, &buf, &len, err, errlen) < 0)
		return -1;
	const char *name = strcmp(arg, "-") == 0 ? "stdin" : arg;
	int rc = ex_parse(&c, buf, len, name, &file_io, err, errlen);
	free(buf);
	if (rc == 0 && c.nopt == 0 && c.nacl == 0) {
		snprintf(err, errlen, "%.200s: no settings at all (empty file?): "
			 "not an Exim configuration", name);
		rc = -1;
	}
	if (rc == 0) {
		r->files = rp_strdup(c.files ? c.files : name);
		rc = ex_evaluate(&c, co, r, err, errlen);
	}
	ex_conf_free(&c);
	return rc;
}

/* --- output --------------------------------------------------------------------- */

static void upper(const char *in, char *out, size_t sz)
{
	size_t i = 0;
	for (; in[i] && i + 1 < sz; i++)
		out[i] = (char)(in[i] >= 'a' && in[i] <= 'z' ? in[i] - 32 : in[i]);
	out[i] = '\0';
}

static void put_esc(FILE *out, const char *s)
{
	char *e = rp_escape_dup(s ? s : "", s ? strlen(s) : 0);
	fputs(e ? e : "?", out);
	free(e);
}

static const char *color_of(enum verdict v)
{
	return v == V_OPEN ? "\033[1;31m" : v == V_CLOSED ? "\033[1;32m"
					    : "\033[1;33m";
}

static void text_report(FILE *out, const struct cfg_report *r, bool color)
{
	char up[32];
	upper(verdict_name(r->verdict), up, sizeof(up));
	fprintf(out, "%s configuration (", strcmp(r->mta, "exim") == 0
					     ? "Exim" : "Postfix");
	put_esc(out, r->files);
	fprintf(out, "): %s%s%s\n", color ? color_of(r->verdict) : "", up,
		color ? "\033[0m" : "");
	fprintf(out, "  Verdict:  %s - ", up);
	put_esc(out, r->verdict_reason);
	fputc('\n', out);
	if (r->nsvc > 1) {
		fputs("  Services:", out);
		for (size_t i = 0; i < r->nsvc; i++) {
			upper(verdict_name(r->svc[i].verdict), up, sizeof(up));
			fputs(i ? ", " : " ", out);
			put_esc(out, r->svc[i].name);
			fprintf(out, " %s", up);
		}
		fputc('\n', out);
	}
	static const enum severity order[] = {SEV_CRITICAL, SEV_WARNING, SEV_INFO};
	for (size_t s = 0; s < RP_ARRAY_LEN(order); s++) {
		for (size_t i = 0; i < r->n; i++) {
			const struct cfg_finding *f = &r->v[i];
			if (f->sev != order[s])
				continue;
			char sev[16];
			upper(severity_name(f->sev), sev, sizeof(sev));
			fprintf(out, "\n  %s %s: %s\n", sev, f->id, cfg_title(f->id));
			fputs("    at ", out);
			put_esc(out, f->file);
			if (f->line)
				fprintf(out, ":%d", f->line);
			if (f->service) {
				fputs(" (service ", out);
				put_esc(out, f->service);
				fputc(')', out);
			}
			fputc('\n', out);
			if (f->evidence) {
				fputs("      ", out);
				put_esc(out, f->evidence);
				fputc('\n', out);
			}
			fputs("    why: ", out);
			put_esc(out, f->message);
			fputc('\n', out);
			if (f->techniques[0])
				fprintf(out, "    lets through: %s\n", f->techniques);
			if (f->fix) {
				fputs("    fix: ", out);
				put_esc(out, f->fix);
				fputc('\n', out);
			}
		}
	}
	if (r->n == 0)
		fputs("  No findings.\n", out);
}

static json_t *cfg_report_json(const struct cfg_report *r)
{
	json_t *fa = json_array();
	for (size_t i = 0; fa && i < r->n; i++) {
		const struct cfg_finding *f = &r->v[i];
		json_t *t = json_array();
		for (const char *p = f->techniques; t && *p;) {
			const char *c = strchr(p, ',');
			size_t l = c ? (size_t)(c - p) : strlen(p);
			char id[16];
			snprintf(id, sizeof(id), "%.*s", (int)(l < 15 ? l : 15), p);
			json_array_append_new(t, json_string(id));
			p = c ? c + 1 : p + l;
		}
		json_t *o = json_object();
		if (!o || !t) {
			json_decref(o);
			json_decref(t);
			continue;
		}
		json_object_set_new(o, "id", report_json_str(f->id));
		json_object_set_new(o, "severity", report_json_str(severity_name(f->sev)));
		json_object_set_new(o, "title", report_json_str(cfg_title(f->id)));
		json_object_set_new(o, "message", report_json_str(f->message));
		json_object_set_new(o, "evidence", report_json_str(f->evidence));
		json_object_set_new(o, "remediation", report_json_str(f->fix));
		json_object_set_new(o, "file", report_json_str(f->file));
		json_object_set_new(o, "line", json_integer(f->line));
		json_object_set_new(o, "service", report_json_str(f->service));
		json_object_set_new(o, "relay",
				    report_json_str(f->effect == CFG_RELAYS ? "yes"
					 : f->effect == CFG_MAY_RELAY ? "maybe"
								      : "no"));
		json_object_set_new(o, "techniques", t);
		json_array_append_new(fa, o);
	}
	json_t *sa = json_array();
	for (size_t i = 0; sa && i < r->nsvc; i++)
		json_array_append_new(sa, json_pack("{s:o, s:s}", "service",
						    report_json_str(r->svc[i].name), "verdict",
						    verdict_name(r->svc[i].verdict)));
	return json_pack("{s:s, s:o, s:s, s:o, s:o, s:o}", "mta", r->mta,
			 "files", report_json_str(r->files), "verdict",
			 verdict_name(r->verdict), "verdict_reason",
			 report_json_str(r->verdict_reason), "services",
			 sa ? sa : json_array(), "findings",
			 fa ? fa : json_array());
}

int configcheck_run(const struct configcheck_opts *o, FILE *out, FILE *err_out)
{
	const char *pf = o->postfix, *ex = o->exim;
	const char *etc_pf = o->etc_postfix ? o->etc_postfix : "/etc/postfix";
	char auto_ex[512] = "";
	if (!pf && !ex) {
		char p[512];
		snprintf(p, sizeof(p), "%s/main.cf", etc_pf);
		if (exists(p))
			pf = etc_pf;
		const char *exdir = o->etc_exim ? o->etc_exim : "/etc/exim4";
		char cand[3][512];
		snprintf(cand[0], sizeof(cand[0]), "%s/exim4.conf", exdir);
		snprintf(cand[1], sizeof(cand[1]), "%s",
			 o->etc_exim ? "" : "/var/lib/exim4/config.autogenerated");
		snprintf(cand[2], sizeof(cand[2]), "%s/exim4.conf.template", exdir);
		for (int i = 0; i < 3 && !auto_ex[0]; i++)
			if (cand[i][0] && exists(cand[i]))
				snprintf(auto_ex, sizeof(auto_ex), "%s", cand[i]);
		if (auto_ex[0])
			ex = auto_ex;
		if (!pf && !ex) {
			fprintf(err_out, "relayprobe: config-check: no Postfix "
				"(%s/main.cf) or Exim configuration found; give "
				"--postfix DIR|FILE or --exim FILE\n", etc_pf);
			return EXIT_BAD_INPUT;
		}
	}
	if (pf && ex && strcmp(pf, "-") == 0 && strcmp(ex, "-") == 0) {
		fprintf(err_out, "relayprobe: config-check: only one of --postfix "
			"and --exim can read stdin\n");
		return EXIT_BAD_INPUT;
	}
	struct cfg_options co = {.client = o->client};
	struct cfg_report reps[2];
	memset(reps, 0, sizeof(reps));
	size_t n = 0;
	char err[512];
	int rc = 0;
	if (pf) {
		if (load_postfix(pf, &co, &reps[n], err, sizeof(err)) < 0) {
			fputs("relayprobe: config-check: ", err_out);
			put_esc(err_out, err);
			fputc('\n', err_out);
			rc = EXIT_BAD_INPUT;
		}
		n++;
	}
	if (ex && rc == 0) {
		if (load_exim(ex, &co, &reps[n], err, sizeof(err)) < 0) {
			fputs("relayprobe: config-check: ", err_out);
			put_esc(err_out, err);
			fputc('\n', err_out);
			rc = EXIT_BAD_INPUT;
		}
		n++;
	}
	if (rc == 0) {
		enum verdict overall = V_CLOSED;
		for (size_t i = 0; i < n; i++)
			overall = verdict_worst(overall, reps[i].verdict);
		rc = verdict_exit_code(overall);
		if (o->json) {
			json_t *ca = json_array();
			for (size_t i = 0; ca && i < n; i++)
				json_array_append_new(ca, cfg_report_json(&reps[i]));
			json_t *doc = json_pack(
			    "{s:s, s:s, s:s, s:o, s:s, s:i}", "schema",
			    "relayprobe/1", "command", "config-check", "verdict",
			    verdict_name(overall), "configs", ca ? ca : json_array(),
			    "version", RELAYPROBE_VERSION, "exit_code", rc);
			if (!doc || json_dumpf(doc, out, JSON_INDENT(2) |
						   JSON_PRESERVE_ORDER) < 0)
				rc = EXIT_BAD_INPUT;
			else
				fputc('\n', out);
			json_decref(doc);
		} else {
			for (size_t i = 0; i < n; i++) {
				if (i)
					fputc('\n', out);
				text_report(out, &reps[i], o->color);
			}
			char up[32];
			upper(verdict_name(overall), up, sizeof(up));
			fprintf(out, "\nOverall: %s (exit %d)\n", up, rc);
		}
		if (fflush(out) != 0) {
			fprintf(err_out, "relayprobe: cannot write the report\n");
			rc = EXIT_BAD_INPUT;
		}
	}
	for (size_t i = 0; i < n; i++)
		cfg_report_free(&reps[i]);
	return rc;
}
