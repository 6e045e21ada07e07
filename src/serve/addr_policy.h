/*
 * serve/addr_policy: which addresses a public web tool may connect to (the
 * SSRF guard). Classifies IPv4 and IPv6 addresses (loopback, private,
 * link-local, CGNAT, multicast, reserved, documentation, benchmarking,
 * "this network", broadcast, cloud metadata), looking through the IPv6
 * forms that carry an IPv4 address (IPv4-mapped and -compatible, SIIT,
 * NAT64 64:ff9b::/96, 6to4, Teredo), and parses the loose IPv4 spellings
 * inet_aton accepts (2130706433, 0177.0.0.1, 0x7f.1) so a target typed
 * that way is recognised for what it is. Pure: no I/O, no state.
 *
 * The guard that matters is serve's check_addr_filter, which calls
 * addr_classify_sa with the address about to be connected to; the
 * literal parser only refuses suspicious spellings early with a clear
 * message.
 */
#ifndef RP_SERVE_ADDR_POLICY_H
#define RP_SERVE_ADDR_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum addr_class {
	ADDR_PUBLIC = 0,
	ADDR_THIS_NETWORK,   /* 0.0.0.0/8, :: */
	ADDR_LOOPBACK,       /* 127/8, ::1 */
	ADDR_PRIVATE,        /* RFC 1918, fc00::/7 (ULA), 64:ff9b:1::/48 */
	ADDR_LINK_LOCAL,     /* 169.254/16, fe80::/10 */
	ADDR_CGNAT,          /* 100.64/10 (RFC 6598) */
	ADDR_MULTICAST,      /* 224/4, ff00::/8 */
	ADDR_BROADCAST,      /* 255.255.255.255 */
	ADDR_RESERVED,       /* 240/4, 192.0.0/24, 192.88.99/24, 100::/64,
				2001::/23 (except Teredo), fec0::/10,
				::/96 compatible, unassigned space */
	ADDR_DOCUMENTATION,  /* 192.0.2/24, 198.51.100/24, 203.0.113/24,
				2001:db8::/32, 3fff::/20 */
	ADDR_BENCHMARKING,   /* 198.18/15, 2001:2::/48 */
	ADDR_METADATA,       /* 169.254.169.254, fd00:ec2::254, 100.100.100.200 */
	ADDR_CLASS_COUNT
};

/* Stable lower-case name ("loopback", "cloud-metadata", ...). */
const char *addr_class_name(enum addr_class c);

/* ip in host byte order. */
enum addr_class addr_classify_v4(uint32_t ip);
/* The class of the address, or of the IPv4 address it carries when that
 * is worse (anything but public). */
enum addr_class addr_classify_v6(const uint8_t a[16]);
/* AF_INET or AF_INET6; anything else (or a short length) is reserved. */
enum addr_class addr_classify_sa(const struct sockaddr *sa, socklen_t len);

/*
 * Parses an IPv4 address in any spelling inet_aton(3) accepts: one to
 * four parts, each decimal, octal (leading 0) or hex (0x), the last part
 * filling the remaining bytes ("127.1", "2130706433", "0x7f.0.0.1").
 * Returns 0 with the address (host order) in *ip and *canonical true when
 * s is the plain dotted quad of four decimal parts without leading zeros,
 * or -1 when s is not such a literal.
 */
int addr_parse_ipv4_loose(const char *s, uint32_t *ip, bool *canonical);

/*
 * Looks at what a user typed as a target host (no port, no brackets).
 * When it is an address literal in any spelling, fills *cls, sets
 * *is_literal and writes the canonical text into canon. Returns -1 for a
 * literal IPv4 written in a non-canonical spelling (always refused by the
 * web tool: resolvers and libraries disagree on them), else 0.
 */
int addr_inspect_host(const char *host, bool *is_literal,
		      enum addr_class *cls, char *canon, size_t canonlen);

#endif
