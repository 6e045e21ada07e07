#include "serve/addr_policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const char *const names[ADDR_CLASS_COUNT] = {
	[ADDR_PUBLIC] = "public",
	[ADDR_THIS_NETWORK] = "this-network",
	[ADDR_LOOPBACK] = "loopback",
	[ADDR_PRIVATE] = "private",
	[ADDR_LINK_LOCAL] = "link-local",
	[ADDR_CGNAT] = "cgnat",
	[ADDR_MULTICAST] = "multicast",
	[ADDR_BROADCAST] = "broadcast",
	[ADDR_RESERVED] = "reserved",
	[ADDR_DOCUMENTATION] = "documentation",
	[ADDR_BENCHMARKING] = "benchmarking",
	[ADDR_METADATA] = "cloud-metadata",
};

const char *addr_class_name(enum addr_class c)
{
	return (unsigned)c < ADDR_CLASS_COUNT ? names[c] : "reserved";
}

static bool in4(uint32_t ip, uint32_t net, int bits)
{
	uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
	return (ip & mask) == (net & mask);
}

#define V4(a, b, c, d)                                                         \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |      \
	 (uint32_t)(d))

enum addr_class addr_classify_v4(uint32_t ip)
{
	/* Most specific first: metadata endpoints sit inside link-local and
	 * CGNAT space. */
	static const struct {
		uint32_t net;
		int bits;
		enum addr_class cls;
	} t[] = {
		{V4(169, 254, 169, 254), 32, ADDR_METADATA},  /* AWS, GCP, Azure */
		{V4(100, 100, 100, 200), 32, ADDR_METADATA},  /* Alibaba */
		{V4(255, 255, 255, 255), 32, ADDR_BROADCAST},
		{V4(0, 0, 0, 0), 8, ADDR_THIS_NETWORK},
		{V4(10, 0, 0, 0), 8, ADDR_PRIVATE},
		{V4(100, 64, 0, 0), 10, ADDR_CGNAT},
		{V4(127, 0, 0, 0), 8, ADDR_LOOPBACK},
		{V4(169, 254, 0, 0), 16, ADDR_LINK_LOCAL},
		{V4(172, 16, 0, 0), 12, ADDR_PRIVATE},
		{V4(192, 0, 0, 0), 24, ADDR_RESERVED},  /* IETF assignments */
		{V4(192, 0, 2, 0), 24, ADDR_DOCUMENTATION},
		{V4(192, 88, 99, 0), 24, ADDR_RESERVED}, /* 6to4 relay anycast */
		{V4(192, 168, 0, 0), 16, ADDR_PRIVATE},
		{V4(198, 18, 0, 0), 15, ADDR_BENCHMARKING},
		{V4(198, 51, 100, 0), 24, ADDR_DOCUMENTATION},
		{V4(203, 0, 113, 0), 24, ADDR_DOCUMENTATION},
		{V4(224, 0, 0, 0), 4, ADDR_MULTICAST},
		{V4(240, 0, 0, 0), 4, ADDR_RESERVED},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (in4(ip, t[i].net, t[i].bits))
			return t[i].cls;
	return ADDR_PUBLIC;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static bool in6(const uint8_t a[16], const char *net, int bits)
{
	uint8_t n[16];
	if (inet_pton(AF_INET6, net, n) != 1)
		return false;
	int full = bits / 8, rest = bits % 8;
	if (memcmp(a, n, (size_t)full) != 0)
		return false;
	if (rest) {
		uint8_t m = (uint8_t)(0xff << (8 - rest));
		return (a[full] & m) == (n[full] & m);
	}
	return true;
}

static enum addr_class worse(enum addr_class outer, enum addr_class inner)
{
	return inner != ADDR_PUBLIC ? inner : outer;
}

enum addr_class addr_classify_v6(const uint8_t a[16])
{
	static const uint8_t zero[16];
	if (memcmp(a, zero, 16) == 0)
		return ADDR_THIS_NETWORK;
	if (memcmp(a, zero, 15) == 0 && a[15] == 1)
		return ADDR_LOOPBACK;
	/* ::ffff:a.b.c.d (mapped): the socket connects to the IPv4 address. */
	if (memcmp(a, zero, 10) == 0 && a[10] == 0xff && a[11] == 0xff)
		return addr_classify_v4(be32(a + 12));
	/* ::ffff:0:a.b.c.d (SIIT translated). */
	if (memcmp(a, zero, 8) == 0 && a[8] == 0xff && a[9] == 0xff &&
	    a[10] == 0 && a[11] == 0)
		return addr_classify_v4(be32(a + 12));
	/* ::a.b.c.d (IPv4-compatible, deprecated) and the rest of ::/96. */
	if (memcmp(a, zero, 12) == 0)
		return worse(ADDR_RESERVED, addr_classify_v4(be32(a + 12)));
	if (in6(a, "64:ff9b::", 96)) /* NAT64 well-known prefix */
		return addr_classify_v4(be32(a + 12));
	if (in6(a, "64:ff9b:1::", 48)) /* NAT64 local use (RFC 8215) */
		return ADDR_PRIVATE;
	if (in6(a, "100::", 64)) /* discard only */
		return ADDR_RESERVED;
	if (in6(a, "2001::", 32)) { /* Teredo: server and obfuscated client */
		uint32_t client = be32(a + 12) ^ 0xffffffffu;
		enum addr_class c = worse(ADDR_PUBLIC, addr_classify_v4(be32(a + 4)));
		return worse(c, addr_classify_v4(client));
	}
	if (in6(a, "2001:2::", 48))
		return ADDR_BENCHMARKING;
	if (in6(a, "2001:db8::", 32))
		return ADDR_DOCUMENTATION;
	if (in6(a, "2001::", 23))
		return ADDR_RESERVED;
	if (in6(a, "2002::", 16)) /* 6to4 */
		return addr_classify_v4(be32(a + 2));
	if (in6(a, "3fff::", 20))
		return ADDR_DOCUMENTATION;
	if (in6(a, "5f00::", 16)) /* SRv6 SIDs */
		return ADDR_RESERVED;
	if (in6(a, "fd00:ec2::254", 128)) /* AWS metadata over IPv6 */
		return ADDR_METADATA;
	if (in6(a, "fc00::", 7))
		return ADDR_PRIVATE;
	if (in6(a, "fe80::", 10))
		return ADDR_LINK_LOCAL;
	if (in6(a, "fec0::", 10)) /* site-local, deprecated */
		return ADDR_RESERVED;
	if (in6(a, "ff00::", 8))
		return ADDR_MULTICAST;
	if (!in6(a, "2000::", 3)) /* not global unicast space */
		return ADDR_RESERVED;
	return ADDR_PUBLIC;
}

enum addr_class addr_classify_sa(const struct sockaddr *sa, socklen_t len)
{
	if (!sa)
		return ADDR_RESERVED;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
		return addr_classify_v4(ntohl(s->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6 &&
	    len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
		return addr_classify_v6(s->sin6_addr.s6_addr);
	}
	return ADDR_RESERVED;
}

/* One part of a loose IPv4: decimal, 0-octal or 0x-hex, like strtoul
 * with base 0 but without signs or spaces. */
static int part(const char *s, size_t n, uint64_t *v, bool *plain)
{
	if (n == 0)
		return -1;
	int base = 10;
	size_t i = 0;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
		if (n == 2)
			return -1; /* "0x" alone: inet_aton refuses it too */
	} else if (n >= 2 && s[0] == '0') {
		base = 8;
		i = 1;
	}
	*plain = base == 10;
	*v = 0;
	for (; i < n; i++) {
		int d;
		char c = s[i];
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && isxdigit((unsigned char)c))
			d = tolower((unsigned char)c) - 'a' + 10;
		else
			return -1;
		if (d >= base)
			return -1;
		*v = *v * (uint64_t)base + (uint64_t)d;
		if (*v > 0xffffffffu)
			return -1;
	}
	return 0;
}

int addr_parse_ipv4_loose(const char *s, uint32_t *ip, bool *canonical)
{
	size_t len = strlen(s);
	if (len == 0 || len > 64)
		return -1;
	uint64_t v[4];
	int n = 0;
	bool plain = true;
	const char *p = s, *end = s + len;
	while (p < end) {
		if (n == 4)
			return -1;
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t pl = dot ? (size_t)(dot - p) : (size_t)(end - p);
		bool pp;
		if (part(p, pl, &v[n], &pp) < 0)
			return -1;
		plain = plain && pp;
		n++;
		if (!dot)
			break;
		p = dot + 1;
		if (p == end)
			return -1; /* trailing dot: a name, not an address */
	}
	if (n == 0)
		return -1;
	uint32_t out = 0;
	for (int i = 0; i < n - 1; i++) {
		if (v[i] > 255)
			return -1;
		out |= (uint32_t)v[i] << (24 - 8 * i);
	}
	uint64_t lastmax = n == 1 ? 0xffffffffu : (1u << (8 * (5 - n))) - 1;
	if (v[n - 1] > lastmax)
		return -1;
	out |= (uint32_t)v[n - 1];
	*ip = out;
	*canonical = n == 4 && plain;
	return 0;
}

int addr_inspect_host(const char *host, bool *is_literal,
		      enum addr_class *cls, char *canon, size_t canonlen)
{
	*is_literal = false;
	*cls = ADDR_PUBLIC;
	if (canonlen)
		canon[0] = '\0';
	if (strchr(host, ':')) {
		char buf[INET6_ADDRSTRLEN + 1];
		const char *pct = strchr(host, '%'); /* zone id: fe80::1%eth0 */
		size_t n = pct ? (size_t)(pct - host) : strlen(host);
		if (n >= sizeof(buf))
			return 0;
		memcpy(buf, host, n);
		buf[n] = '\0';
		struct in6_addr a;
		if (inet_pton(AF_INET6, buf, &a) != 1)
			return 0;
		*is_literal = true;
		*cls = addr_classify_v6(a.s6_addr);
		inet_ntop(AF_INET6, &a, canon, (socklen_t)canonlen);
		return pct ? -1 : 0;
	}
	uint32_t ip;
	bool canonical;
	if (addr_parse_ipv4_loose(host, &ip, &canonical) == 0) {
		*is_literal = true;
		*cls = addr_classify_v4(ip);
		struct in_addr a = {.s_addr = htonl(ip)};
		inet_ntop(AF_INET, &a, canon, (socklen_t)canonlen);
		return canonical ? 0 : -1;
	}
	/* Digits and dots that are no address ("1.2.3.4.5", "999.1.1.1"):
	 * some resolver might still read them as one. */
	bool numeric = *host != '\0';
	for (const char *p = host; *p; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			numeric = false;
	if (numeric) {
		*is_literal = true;
		*cls = ADDR_RESERVED;
		return -1;
	}
	return 0;
}
