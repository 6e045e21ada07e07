/*
 * config/exim_policy: evaluates a parsed Exim configuration
 * (config/exim_conf) for an untrusted client at RCPT: walks the ACL named
 * by acl_smtp_rcpt (acl_check_rcpt) statement by statement, the way Exim
 * does, with the attacker choosing whatever it controls (sender, local
 * part, recipient domain outside the local ones) and finds every accept
 * it can reach before a statement that refuses other domains: hosts = *,
 * relay_from_hosts holding the internet (or the --client address), a
 * sender condition (forged MAIL FROM), an unconditional accept, conditions
 * it cannot evaluate. Also smtp_banner with $version_number (Exim's
 * default banner shows it) and percent_hack_domains. Pure.
 */
#ifndef RP_CONFIG_EXIM_POLICY_H
#define RP_CONFIG_EXIM_POLICY_H

#include "config/cfg_report.h"
#include "config/exim_conf.h"

/* 0, or -1 with err (allocation, bad --client). Sets r->verdict. */
int ex_evaluate(const struct ex_conf *c, const struct cfg_options *o,
		struct cfg_report *r, char *err, size_t errlen);

#endif
