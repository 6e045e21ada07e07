/*
 * check/reputation: a 0-100 score per address (the "spam score" a
 * postmaster is asked about), from what receivers look at: blocklist
 * listings weighted by each list's weight, a missing PTR, a PTR that does
 * not resolve back (FCrDNS), and a banner name that does not match the
 * PTR. Every deduction carries its reason. Pure.
 */
#ifndef RP_CHECK_REPUTATION_H
#define RP_CHECK_REPUTATION_H

#include <stddef.h>

#define REP_MAX_DEDUCTIONS 32

#define REP_NO_PTR 15
#define REP_NO_FCRDNS 10
#define REP_BANNER_MISMATCH 5

struct rep_deduction {
	int points;
	char reason[256];
};

struct reputation {
	int score;
	struct rep_deduction d[REP_MAX_DEDUCTIONS];
	size_t n;
};

struct server_result;

/* Needs the server's DNS facts (rdns_done) and blocklist results. */
void reputation_compute(const struct server_result *s, struct reputation *out);

#endif
