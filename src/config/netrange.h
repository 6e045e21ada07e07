/*
 * config/netrange: address ranges as MTA configurations write them
 * (192.0.2.0/24, [2001:db8::]/32, 10.1.2.3, ::1), whether a range holds an
 * address, and how broad it is: the whole internet, a wide public range,
 * a whole private range, or narrow. Pure.
 */
#ifndef RP_CONFIG_NETRANGE_H
#define RP_CONFIG_NETRANGE_H

#include <stdbool.h>

struct netrange {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
};

enum net_breadth {
	NET_NARROW,       /* a host or small network */
	NET_PRIVATE_WIDE, /* a whole private range (/16 or wider, ULA /48) */
	NET_PUBLIC_WIDE,  /* public, wider than /24 (IPv6: /48) */
	NET_INTERNET,     /* /8 or wider of public space (IPv6: /16), 0/0 */
};

/* Parses "addr", "addr/len", "[v6]", "[v6]/len". 0 or -1. */
int netrange_parse(const char *s, struct netrange *out);
bool netrange_contains(const struct netrange *net, const struct netrange *host);
enum net_breadth netrange_breadth(const struct netrange *n);

#endif
