/*
 * config/cfg_report: the findings model of `relayprobe config-check`. A
 * finding is what `check` reports (id, severity, title, evidence, fix)
 * plus where it is in the configuration (file, line, the master.cf
 * service it applies to) and which relay techniques (T01...) it lets
 * through. The Postfix and Exim evaluators fill a cfg_report; configcheck
 * renders it (text or JSON) and turns its verdict into the exit code.
 *
 * Ownership: the report owns every string in it (cfg_report_free).
 */
#ifndef RP_CONFIG_CFG_REPORT_H
#define RP_CONFIG_CFG_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"
#include "relay/verdict.h"

/* What a finding does to the relay verdict. */
enum cfg_effect {
	CFG_HARDENING, /* not a relay by itself (banner, VRFY, ...) */
	CFG_MAY_RELAY, /* relaying depends on what we cannot read: suspect */
	CFG_RELAYS,    /* an untrusted client can relay: open */
};

struct cfg_finding {
	char id[48];
	enum severity sev;
	enum cfg_effect effect;
	char *file;       /* where the offending line is */
	int line;         /* 1-based, 0 when it is a default (no line) */
	char *service;    /* "submission/inet" for a master.cf service, or NULL */
	char *evidence;   /* the line as written (escaped) */
	char *message;    /* why: what it lets through */
	char *fix;        /* the corrected lines */
	char techniques[160]; /* "T02,T03" (relayprobe tests), or "" */
};

/* The verdict of one master.cf smtpd service (its own port). */
struct cfg_service {
	char *name;       /* "submission/inet" */
	enum verdict verdict;
};

struct cfg_report {
	const char *mta;  /* "postfix" or "exim" */
	struct cfg_service *svc; /* Postfix with master.cf: each smtpd service */
	size_t nsvc;
	char *files;      /* what was read, comma separated */
	struct cfg_finding *v;
	size_t n;
	enum verdict verdict; /* closed, suspect, open, inconclusive */
	char *verdict_reason;
};

/* Adds a finding. evidence may be NULL; fix may be NULL. A finding with
 * the same id, file and line as an earlier one is merged: its service is
 * appended to the earlier one's. Returns 0 or -1 (allocation). */
int cfg_add(struct cfg_report *r, const char *id, enum severity sev,
	    enum cfg_effect eff, const char *file, int line,
	    const char *service, const char *evidence, const char *techniques,
	    const char *fix, const char *fmt, ...) RP_PRINTF(11, 12);

/* Sets the verdict from the findings: open when any finding relays,
 * suspect when one may relay, else closed (unless already inconclusive:
 * the MTA refuses the configuration). Each recorded service gets the
 * verdict of the findings that name it (no-relay-restriction makes it
 * inconclusive). */
int cfg_decide(struct cfg_report *r);

/* Records a service (once) whose verdict cfg_decide computes from the
 * findings that name it. 0 or -1. */
int cfg_add_service(struct cfg_report *r, const char *name);

/* Title of a config-check finding id (constant), or the id itself. */
const char *cfg_title(const char *id);
/* Every finding id with its title and severity, for docs and tests. */
struct cfg_id {
	const char *id;
	const char *title;
};
const struct cfg_id *cfg_ids(size_t *n);

void cfg_report_free(struct cfg_report *r);

/* Appends formatted text to buf (capacity cap, *len used so far),
 * truncating at the end of the buffer; *len never passes cap - 1. */
void cfg_append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    RP_PRINTF(4, 5);

/* How evaluators read the files a configuration refers to (access
 * tables, Exim .include): a callback, so the evaluators stay free of I/O
 * and unit tests feed them text. read returns 0 with a heap buffer (NUL
 * terminated, *len bytes) or -1 with a one-line reason in err. */
struct cfg_io {
	int (*read)(void *ctx, const char *path, char **buf, size_t *len,
		    char *err, size_t errlen);
	void *ctx;
};

struct cfg_options {
	const char *client; /* --client ADDR: judge as seen from it, or NULL */
};

#endif
