/*
 * config/exim_conf: reads an Exim configuration without I/O of its own:
 * the main section (options, hostlist/domainlist/addresslist/localpartlist
 * definitions, macros) and the ACL section (each ACL's statements: verb
 * and conditions/modifiers, with file and line). Backslash continuation
 * lines are joined; .include / .include_if_exists are read through
 * cfg_io (nested at most EX_MAX_INCLUDE deep, a file including itself
 * directly or indirectly is an error); macros (NAME = value, NAME in
 * upper case) are substituted in later lines; other sections are skipped.
 * This is the single-file form (Debian's split config once assembled by
 * update-exim4.conf).
 *
 * Hostile input is refused with "FILE:LINE: why": NUL or other control
 * bytes, lines over EX_MAX_LINE, include loops, too many lines, items or
 * macro growth beyond EX_MAX_EXPANSION.
 *
 * Ownership: ex_conf owns everything (ex_conf_free).
 */
#ifndef RP_CONFIG_EXIM_CONF_H
#define RP_CONFIG_EXIM_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "config/cfg_report.h"

#define EX_MAX_LINE (64 * 1024)
#define EX_MAX_INCLUDE 16
#define EX_MAX_LINES 200000
#define EX_MAX_EXPANSION (64 * 1024)

struct ex_option {
	char *kind;  /* "", "hostlist", "domainlist", "addresslist", "localpartlist" */
	char *name;
	char *value;
	char *file;
	int line;
};

struct ex_cond {
	char *name;  /* "hosts", "domains", "senders", "message", ... */
	bool neg;    /* "!hosts = ..." */
	char *value;
};

struct ex_stmt {
	char *verb;  /* accept, deny, require, drop, defer, discard, warn */
	struct ex_cond *c;
	size_t nc;
	char *file;
	int line;
	char *text;  /* the statement as written (joined), for evidence */
};

struct ex_acl {
	char *name;
	struct ex_stmt *s;
	size_t ns;
	char *file;
	int line;
};

struct ex_conf {
	struct ex_option *opt;
	size_t nopt;
	struct ex_acl *acl;
	size_t nacl;
	char *files; /* every file read, comma separated */
};

/* Parses buf (the main file, named file); includes come through io (may
 * be NULL: then an .include is an error). 0 or -1 with err. */
int ex_parse(struct ex_conf *c, const char *buf, size_t len, const char *file,
	     const struct cfg_io *io, char *err, size_t errlen);

/* The last main-section option of that name (any kind), or NULL. */
const struct ex_option *ex_option(const struct ex_conf *c, const char *name);
/* The ACL of that name, or NULL. */
const struct ex_acl *ex_acl(const struct ex_conf *c, const char *name);

void ex_conf_free(struct ex_conf *c);

#endif
