/*
 * check/lookup: the DNS-only commands. `relayprobe mx DOMAIN` prints where
 * a domain's mail goes; `relayprobe blocklist IP|HOST|DOMAIN...` checks the
 * blocklists alone (a domain against the domain lists, and each of a
 * name's addresses against the IP lists). Each runs its own event loop and
 * prints text or JSON; the return value is the exit code.
 */
#ifndef RP_CHECK_LOOKUP_H
#define RP_CHECK_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "check/config.h"

/* 0 mail goes somewhere (or null MX), 3 lookup failed or bad input. */
int lookup_mx(const struct check_config *cfg, char *const *domains, size_t n,
	      bool json, FILE *out);
/* 0 not listed, 1 some answer unknown/unusable, 2 listed, 3 error. */
int lookup_blocklists(const struct check_config *cfg, char *const *subjects,
		      size_t n, bool json, FILE *out);

#endif
