#include "config/netrange.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int netrange_parse(const char *s, struct netrange *out)
{
	char a[80];
	const char *slash = strrchr(s, '/');
	size_t al = slash ? (size_t)(slash - s) : strlen(s);
	if (al == 0 || al >= sizeof(a))
		return -1;
	memcpy(a, s, al);
	a[al] = '\0';
	char *ap = a;
	if (ap[0] == '[') {
		size_t n = strlen(ap);
		if (n < 3 || ap[n - 1] != ']')
			return -1;
		ap[n - 1] = '\0';
		ap++;
	}
	memset(out, 0, sizeof(*out));
	int max;
	if (inet_pton(AF_INET, ap, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, ap, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	out->prefix = max;
	if (slash) {
		char *end;
		long p = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end || p < 0 || p > max)
			return -1;
		out->prefix = (int)p;
	}
	return 0;
}

static bool prefix_match(const unsigned char *a, const unsigned char *b,
			 int bits)
{
	int full = bits / 8, rem = bits % 8;
	if (memcmp(a, b, (size_t)full) != 0)
		return false;
	if (rem == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rem));
	return (a[full] & mask) == (b[full] & mask);
}

bool netrange_contains(const struct netrange *net, const struct netrange *host)
{
	if (net->family != host->family || host->prefix < net->prefix)
		return false;
	return prefix_match(net->addr, host->addr, net->prefix);
}

/* n lies entirely inside s (given as text). */
static bool within(const struct netrange *n, const char *s)
{
	struct netrange r;
	return netrange_parse(s, &r) == 0 && netrange_contains(&r, n);
}

enum net_breadth netrange_breadth(const struct netrange *n)
{
	if (n->family == AF_INET) {
		if (within(n, "127.0.0.0/8"))
			return NET_NARROW;
		bool priv = within(n, "10.0.0.0/8") ||
			    within(n, "172.16.0.0/12") ||
			    within(n, "192.168.0.0/16") ||
			    within(n, "100.64.0.0/10") ||
			    within(n, "169.254.0.0/16");
		if (n->prefix <= 8 && !priv)
			return NET_INTERNET;
		if (priv)
			return n->prefix <= 16 ? NET_PRIVATE_WIDE : NET_NARROW;
		return n->prefix < 24 ? NET_PUBLIC_WIDE : NET_NARROW;
	}
	if (within(n, "::1/128") || within(n, "fe80::/10"))
		return NET_NARROW;
	if (within(n, "fc00::/7"))
		return n->prefix <= 48 ? NET_PRIVATE_WIDE : NET_NARROW;
	if (n->prefix <= 16)
		return NET_INTERNET;
	return n->prefix < 48 ? NET_PUBLIC_WIDE : NET_NARROW;
}
