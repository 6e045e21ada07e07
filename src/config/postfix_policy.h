/*
 * config/postfix_policy: evaluates a parsed Postfix configuration
 * (config/postfix_conf) the way smtpd would treat an untrusted client at
 * RCPT: for every smtpd service of master.cf (with its -o overrides; main.cf
 * alone when there is no master.cf) it walks smtpd_relay_restrictions and
 * then smtpd_recipient_restrictions in order and finds every permit an
 * outsider can reach before reject_unauth_destination /
 * defer_unauth_destination: plain permit, permit_mynetworks with a
 * mynetworks that holds the internet (or the --client address),
 * check_sender_access / check_helo_access with OK entries (inline:,
 * static:, and the source files of hash:/texthash:/lmdb:/cdb:/btree:,
 * regexp:, pcre:, cidr: tables, read through cfg_io), client and recipient
 * access, DNS-based access. It also reports relay_domains, mynetworks and
 * routing settings, AUTH before TLS, VRFY and the banner. Each finding
 * names the file and line, the techniques (T01...) it lets through and
 * the corrected lines.
 *
 * Pure apart from cfg_io->read. Findings go into the caller's cfg_report.
 */
#ifndef RP_CONFIG_POSTFIX_POLICY_H
#define RP_CONFIG_POSTFIX_POLICY_H

#include "config/cfg_report.h"
#include "config/postfix_conf.h"

/* Returns 0, or -1 on allocation failure (err says so). Sets r->verdict
 * through cfg_decide. */
int pf_evaluate(const struct pf_conf *c, const struct cfg_io *io,
		const struct cfg_options *o, struct cfg_report *r, char *err,
		size_t errlen);

#endif
