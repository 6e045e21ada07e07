/*
 * check/result: what a check found, the model every output renders
 * (report/). One check_result per target, one server_result per address
 * and port tested, each with its tests, controls, findings and transcript.
 *
 * Ownership: results own all their strings and arrays; free with
 * check_result_free / server_result_clear. Strings that came from a server
 * are stored escaped (printable ASCII only).
 */
#ifndef RP_CHECK_RESULT_H
#define RP_CHECK_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check/blocklist.h"
#include "check/reputation.h"
#include "net/tls.h"
#include "relay/verdict.h"

struct transcript_line {
	int session;     /* 1-based */
	long ms;         /* since the server's test started */
	char dir;        /* 'C' client, 'S' server, '*' note */
	char *text;      /* escaped */
};

struct transcript {
	struct transcript_line *v;
	size_t n, cap;
	size_t max;     /* lines kept; later lines are counted, not stored */
	size_t dropped;
};

int transcript_add(struct transcript *t, int session, long ms, char dir,
		   const char *text);
void transcript_clear(struct transcript *t);

struct server_result {
	char *host;          /* name the user gave or that was resolved */
	char address[64];    /* IP address tested */
	uint16_t port;
	enum verdict verdict;
	char *verdict_reason;
	char *error;         /* why unreachable, or NULL */
	char *banner;        /* greeting text (escaped, lines joined) */
	int banner_code;
	char **ehlo;         /* capability lines of the final EHLO */
	size_t nehlo;
	char *ehlo_name;     /* name in the EHLO reply */
	bool used_helo;      /* EHLO refused, HELO used */
	bool tls;            /* at least one session was encrypted */
	bool tls_required;   /* the server demanded STARTTLS */
	bool implicit_tls;
	char *tls_version;
	char *tls_cipher;
	bool starttls_offered;
	char *helo_name;     /* what we said in EHLO */
	char *local_address; /* our address as the server saw the socket */
	char *target_host;   /* derived or given names used in templates */
	char *target_host_source; /* "banner", "ehlo", "target", "literal" */
	char *target_domain;
	char *target_domain_source; /* "option", "derived" */
	struct test_result *tests;
	size_t ntests;
	struct test_result *controls;
	size_t ncontrols;
	struct findings findings;
	struct transcript transcript;
	/* DNS facts (dns_checked false when skipped, with dns_skip_reason). */
	bool dns_checked;
	char *dns_skip_reason;
	bool rdns_done;
	char *ptr_status;    /* "ok", "nxdomain", "timeout", ... */
	char **ptr;          /* PTR names */
	size_t nptr;
	bool fcrdns;
	char *fcrdns_name;
	int banner_ptr_match; /* 1 yes, 0 no, -1 unknown */
	struct bl_entry *blocklists;
	size_t nblocklists;
	bool blocklists_done;
	struct reputation reputation;
	bool reputation_done;
	char **mx_names;     /* MX hosts that point at this address */
	size_t nmx_names;
	/* Audit (issue 6). */
	bool audited;
	char *mta;            /* fingerprint: "postfix", ... "unknown" */
	char *mta_name;
	char *mta_version;    /* or NULL */
	char *mta_evidence;
	char *vrfy_reply;     /* "252 2.0.0 postmaster" etc., or NULL */
	char *vrfy_random_reply;
	char *expn_reply;
	int vrfy_code, vrfy_random_code, expn_code; /* 0 = not asked */
	char *auth_plain;     /* AUTH mechanisms offered before TLS, or NULL */
	int injection;        /* enum smtp_injection */
	int legacy_tls;       /* -1 not tested, 0 refused, 1 accepted */
	char *legacy_tls_version;
	struct tls_cert_facts cert;
	long t_connect_ms, t_greeting_ms, t_ehlo_ms, t_txn_ms; /* -1 unknown */
	int sessions;        /* sessions opened */
	long duration_ms;
	long connect_ms;     /* first connect+greeting, -1 if none */
};

void server_result_clear(struct server_result *s);

struct mx_result;

struct check_result {
	char *target;        /* as the user typed it */
	struct mx_result *mx; /* for domain targets, or NULL */
	bool null_mx;         /* RFC 7505: the domain accepts no mail */
	enum verdict verdict;
	char *error;         /* target-level failure (DNS), or NULL */
	struct server_result *servers;
	size_t nservers;
};

void check_result_free(struct check_result *c);

#endif
