/*
 * dns/dnsbl: DNS blocklists read correctly. Pure: parses the zones file,
 * builds query names, and interprets answers; the queries themselves are
 * made by check/blocklist on the resolver.
 *
 * Zones file (data/zones.conf is the shipped default, --zones FILE
 * replaces it), blocks of "key = value" lines under "[zone.name]":
 *
 *   [zen.spamhaus.org]
 *   kind = ip                  # ip (IPv4/IPv6 addresses) or domain
 *   ipv6 = yes                 # the list answers IPv6 nibble queries
 *   weight = 40                # reputation points a listing costs (0-100)
 *   note = Free for low-volume non-commercial use ...
 *   test-listed = dbltest.com  # domain lists: the operator's test name
 *   code 127.0.0.2 = SBL: direct spam source
 *   error 127.255.255.254 = query via a public resolver refused: use your own resolver
 *
 * '#' starts a comment line; a '#' after a space or tab starts a comment
 * at the end of a line ("weight = 40  # points"), a '#' inside a word
 * ("FAQ#1") does not. Unknown keys are errors (a typo must not silently
 * disable a check). Details, all enforced by the parser:
 *   - zone names: LDH labels (letters, digits, inner hyphens; 1-63 chars),
 *     at least two, at most 253 chars; lowercased, one trailing dot
 *     dropped; a duplicate zone is an error;
 *   - code/error addresses: dotted-quad IPv4 in 127.0.0.0/8, each at most
 *     once per zone; a code may not be in 127.255.255.0/24 (errors only);
 *     the meaning is required;
 *   - kind ip|domain (default ip), ipv6 yes|no (default no; yes is an
 *     error on a domain zone), weight 0..100 (default 10), each key at
 *     most once per zone; every value non-empty;
 *   - printable ASCII and tabs outside comments (UTF-8 in comments is
 *     fine), LF or CRLF line ends, lines of at most 4096 bytes, at most
 *     200 zones and 64 code plus 64 error lines per zone;
 *   - an empty file (or only comments) is zero zones, not an error.
 *
 * Reading answers (shared/reference/peers-and-blocklists.md §c): NXDOMAIN
 * is "not-listed"; an answer that is one of the zone's error codes, in
 * 127.255.255.0/24, outside 127.0.0.0/8 (the resolver rewrites NXDOMAIN),
 * or 127.0.0.1 on a zone that does not document it (DNS blockers, refused
 * queries), and every timeout or SERVFAIL, is "unknown" with the reason,
 * never "listed". A zone failing its RFC 5782 self-test (127.0.0.2 must be
 * listed, 127.0.0.1 must not; for domain lists "test" and "invalid") is
 * "unusable" for the whole run.
 *
 * Ownership: struct dnsbl_zones owns everything; dnsbl_zones_free.
 */
#ifndef RP_DNS_DNSBL_H
#define RP_DNS_DNSBL_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>

#include "dns/resolver.h"

enum dnsbl_kind { DNSBL_IP, DNSBL_DOMAIN };

struct dnsbl_code {
	struct in_addr addr;
	char *meaning;
};

struct dnsbl_zone {
	char *name;
	enum dnsbl_kind kind;
	bool ipv6;
	int weight;
	char *note; /* or NULL */
	/* Domain lists: the names their operator documents as always listed
	 * / never listed (test-listed / test-unlisted keys), or NULL for RFC
	 * 5782's "test" / "invalid". */
	char *test_listed;
	char *test_unlisted;
	struct dnsbl_code *codes;
	size_t ncodes;
	struct dnsbl_code *errors;
	size_t nerrors;
};

struct dnsbl_zones {
	struct dnsbl_zone *v;
	size_t n;
};

/* Parses a zones file held in memory. Returns 0, or -1 with
 * "line N: reason" in err. */
int dnsbl_zones_parse(const char *text, size_t len, struct dnsbl_zones *out,
		      char *err, size_t errlen);
/* Reads and parses a file (at most 1 MiB). err does not name the file
 * (callers prefix it): "line N: reason", "larger than 1 MiB" or the
 * strerror text. */
int dnsbl_zones_load(const char *path, struct dnsbl_zones *out, char *err,
		     size_t errlen);
/* The zones file shipped with relayprobe (data/zones.conf, built in). */
const char *dnsbl_default_zones(size_t *len);
void dnsbl_zones_free(struct dnsbl_zones *z);

/*
 * The name to query: for an IP zone and an IPv4 address "1.2.3.4" ->
 * "4.3.2.1.zone"; IPv6 -> 32 reversed nibbles + ".zone" (RFC 5782 §2.4);
 * for a domain zone and a domain -> "domain.zone". Returns 0, or -1 when
 * the subject does not fit the zone (IPv6 on a zone without ipv6, an IP on
 * a domain zone, a domain on an IP zone) or out is too small.
 */
int dnsbl_query_name(const struct dnsbl_zone *z, const char *subject,
		     char *out, size_t outsz);

/* RFC 5782 §5 test points for the zone: listed must be listed, unlisted
 * must not. For IP zones the IPv4 ones are 127.0.0.2 / 127.0.0.1 and, with
 * ipv6, ::ffff:7f00:2 / ::ffff:7f00:1; for domain zones "test" / "invalid".
 * NULL when there is no such test point: v6 on a zone without ipv6, and v6
 * on a domain zone (its single pair is returned for v6 false). */
const char *dnsbl_test_listed(const struct dnsbl_zone *z, bool v6);
const char *dnsbl_test_unlisted(const struct dnsbl_zone *z, bool v6);

enum dnsbl_status {
	DNSBL_LISTED,
	DNSBL_NOT_LISTED,
	DNSBL_UNKNOWN,
	DNSBL_UNUSABLE,
	DNSBL_STATUS_LAST
};
const char *dnsbl_status_name(enum dnsbl_status s);

#define DNSBL_MAX_CODES 8

struct dnsbl_answer {
	enum dnsbl_status status;
	char reason[256];              /* why unknown/unusable, or "" */
	size_t ncodes;                 /* listing codes (status listed) */
	struct in_addr codes[DNSBL_MAX_CODES];
	const char *meanings[DNSBL_MAX_CODES]; /* zone's text, or NULL */
};

/*
 * Interprets the A-record answer to one query: st is the query status,
 * addrs the A records (when st == DNS_OK). Never says listed for an error
 * code, an answer outside 127/8, or 127.0.0.1 not documented by the zone.
 * In order: a failed query (timeout, SERVFAIL, REFUSED, error) is unknown;
 * NXDOMAIN, NODATA or no records is not-listed; then, over all answers,
 * outside 127/8, a zone error code, 127.255.255.0/24 and an undocumented
 * 127.0.0.1 each make it unknown (the first rule that matches gives the
 * reason); otherwise listed, with each distinct answer (at most
 * DNSBL_MAX_CODES) and its meaning, NULL for a code the zone does not
 * document. meanings point into z: valid while the zones live.
 */
void dnsbl_interpret(const struct dnsbl_zone *z, enum dns_status st,
		     const struct in_addr *addrs, size_t naddrs,
		     struct dnsbl_answer *out);

#endif
