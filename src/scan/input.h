/*
 * scan/input: the pure parts of reading a scan's targets. A target list is
 * one target per line: domain, host, IP, host:port, or an IPv4/IPv6 CIDR
 * block (expanded address by address, up to a size cap). Blank lines and
 * "#" comments are skipped. The line reader is bounded: a line longer than
 * SCAN_LINE_MAX is reported as one invalid target, never buffered whole.
 *
 * Also here: address sets (exclusions: --exclude FILE and the
 * special-purpose ranges of RFC 6890 that CIDR input skips by default) and
 * the shard function (--shard K/N), so that N machines split one input
 * deterministically: the N shards' union is the input, with no overlap.
 *
 * Ownership: a scan_reader borrows its FILE; an addr_set owns its ranges.
 * Nothing here does network I/O.
 */
#ifndef RP_SCAN_INPUT_H
#define RP_SCAN_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SCAN_LINE_MAX 512   /* longest line kept (a target is < 270) */
#define SCAN_TARGET_MAX 300 /* longest target text */

/* ---------- address sets ---------- */

/* IPv4 is stored as ::ffff:a.b.c.d so one ordering covers both. */
struct addr_range {
	uint8_t lo[16], hi[16];
};

struct addr_set {
	struct addr_range *v;
	size_t n, cap;
	bool sorted;
};

/* Adds "IP" or "IP/PREFIX". Returns 0, or -1 (syntax, no memory). */
int addr_set_add(struct addr_set *s, const char *text);
/* Adds the special-purpose ranges (RFC 6890 and successors: private,
 * loopback, link-local, documentation, multicast, reserved...). */
int addr_set_add_special(struct addr_set *s);
/* Loads a file of addresses/CIDRs, one a line, "#" comments. Returns 0, or
 * -1 with the line number and reason in err. */
int addr_set_load(struct addr_set *s, FILE *f, char *err, size_t errlen);
/* Is the address (text, IPv4 or IPv6) in the set? False for non-IPs. */
bool addr_set_contains_text(struct addr_set *s, const char *ip);
/* Same for 16 bytes (IPv4-mapped for IPv4). */
bool addr_set_contains(struct addr_set *s, const uint8_t a[16]);
void addr_set_free(struct addr_set *s);

/* Text address into 16 bytes (IPv4 mapped). 4 or 6 (family), or 0. */
int scan_addr_parse(const char *ip, uint8_t out[16]);

/* ---------- shards ---------- */

/* FNV-1a 64 of the target, case-folded: the same target, however it was
 * capitalised, is in the same shard and the same resume entry. */
uint64_t scan_target_hash(const char *target);
/* --shard K/N (0 <= K < N): 0, or -1 with a reason. */
int scan_shard_parse(const char *text, unsigned *k, unsigned *n, char *err,
		     size_t errlen);
bool scan_shard_mine(const char *target, unsigned k, unsigned n);

/* ---------- the reader ---------- */

enum scan_item_kind {
	SCAN_ITEM_TARGET,   /* a target for check_job_start */
	SCAN_ITEM_INVALID,  /* a line that is no target: status invalid-input */
	SCAN_ITEM_EXCLUDED, /* an address in the exclusion set */
};

struct scan_item {
	enum scan_item_kind kind;
	char target[SCAN_TARGET_MAX]; /* the target, or the (escaped) line */
	char why[160];                /* for invalid and excluded */
	unsigned long line;           /* 1-based input line */
};

struct scan_reader_config {
	unsigned max_cidr_bits;  /* largest block: 2^bits addresses (0: /32) */
	bool include_special;    /* CIDR blocks keep special-purpose addresses */
	struct addr_set *exclude; /* --exclude, or NULL */
	struct addr_set *special; /* the special-purpose set (CIDR only) */
};

struct scan_reader {
	FILE *in;
	struct scan_reader_config cfg;
	unsigned long line;
	/* A CIDR block being expanded. */
	bool in_block;
	int family;
	uint8_t cur[16];
	uint64_t left; /* addresses still to produce */
	unsigned long block_line;
};

void scan_reader_init(struct scan_reader *r, FILE *in,
		      const struct scan_reader_config *cfg);
/* Fills the next item. Returns 1, 0 at the end of input, -1 on a read
 * error (errno). Excluded addresses inside a CIDR block are skipped
 * silently (a /16 would otherwise print 65536 lines about 10.0.0.0/8);
 * a single excluded address line is reported as SCAN_ITEM_EXCLUDED. */
int scan_reader_next(struct scan_reader *r, struct scan_item *out);

/* Parses one line (already without its newline) into an item, or sets up a
 * CIDR block in r. Returns 1 when out is filled, 0 when the line is blank,
 * a comment or a block start (call scan_reader_next again). Exposed for the
 * fuzz target and the unit tests. */
int scan_reader_feed_line(struct scan_reader *r, const char *line,
			  size_t len, struct scan_item *out);

#endif
