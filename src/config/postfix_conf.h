/*
 * config/postfix_conf: reads Postfix configuration text without I/O:
 * main.cf, master.cf (each service with its -o overrides) and the output
 * of `postconf -n` / `postconf -P`. Logical lines follow Postfix: a line
 * starting with white space continues the previous one, '#' lines are
 * comments; every parameter keeps the file and line where its logical
 * line starts. pf_expand does the $name / ${name} / $(name) /
 * ${name?text} / ${name:text} expansion Postfix does, with Postfix's
 * defaults (for the parameters relay policy depends on) when a parameter
 * is not set.
 *
 * Hostile input is refused with a clear "FILE:LINE: ..." error: NUL or
 * other control bytes, logical lines over PF_MAX_LINE, more than
 * PF_MAX_PARAMS parameters, a line that is not "name = value".
 *
 * Ownership: pf_conf owns everything it holds (pf_conf_free); lookups
 * return pointers into it.
 */
#ifndef RP_CONFIG_POSTFIX_CONF_H
#define RP_CONFIG_POSTFIX_CONF_H

#include <stdbool.h>
#include <stddef.h>

#define PF_MAX_LINE (64 * 1024)
#define PF_MAX_PARAMS 5000
#define PF_MAX_SERVICES 1000
/* $name references followed in one expansion (a = $b$b, b = $c$c, ...
 * would otherwise grow exponentially even when the result stays short). */
#define PF_MAX_EXPANSION_STEPS 2000
#define PF_MAX_EXPANSION (256 * 1024)

struct pf_param {
	char *name;
	char *value;
	char *file;
	int line;
};

struct pf_params {
	struct pf_param *v;
	size_t n;
};

struct pf_service {
	char *name;    /* "smtp", "submission", "127.0.0.1:2525" */
	char *type;    /* "inet", "unix", "pass", ... */
	char *command; /* "smtpd", "postscreen", ... */
	char *file;
	int line;
	char *text;    /* the logical line, for evidence */
	struct pf_params over; /* -o name=value, in order */
};

struct pf_conf {
	struct pf_params main;
	struct pf_service *svc;
	size_t nsvc;
	bool have_master;
};

/* main.cf or `postconf -n` text (also accepts `postconf -P` lines
 * "service/type/name = value", which become service overrides). Appends
 * to c. Returns 0, or -1 with "FILE:LINE: why" in err. */
int pf_parse_main(struct pf_conf *c, const char *buf, size_t len,
		  const char *file, char *err, size_t errlen);
/* master.cf text. Appends services to c. 0 or -1 with err. */
int pf_parse_master(struct pf_conf *c, const char *buf, size_t len,
		    const char *file, char *err, size_t errlen);

/* The last definition of name in main.cf, or NULL. */
const struct pf_param *pf_main(const struct pf_conf *c, const char *name);
/* The effective definition for a service: its -o override, else main.cf;
 * NULL when neither sets it (then Postfix's default applies). */
const struct pf_param *pf_lookup(const struct pf_conf *c,
				 const struct pf_service *svc,
				 const char *name);
/* Postfix's default for the parameters relay policy depends on (those
 * that depend on compatibility_level as the service sees it), or NULL. */
const char *pf_default(const struct pf_conf *c, const struct pf_service *svc,
		       const char *name);
/*
 * The expanded value of parameter name as the service sees it (setting or
 * default). Heap string (caller frees), NULL on allocation failure or
 * when the expansion would exceed PF_MAX_EXPANSION. Unknown parameters
 * expand to "". Recursion is bounded.
 */
char *pf_value(const struct pf_conf *c, const struct pf_service *svc,
	       const char *name);
/* Expands $parameters in text the same way. */
char *pf_expand(const struct pf_conf *c, const struct pf_service *svc,
		const char *text);

void pf_conf_free(struct pf_conf *c);

#endif
