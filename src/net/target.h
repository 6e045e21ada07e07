/*
 * net/target: parses what the user typed as a target: "host", "host:port",
 * "192.0.2.1", "192.0.2.1:587", "[2001:db8::1]:25", "[::1]" or a bare IPv6
 * address. Validates host names (LDH) and ports (1-65535). Pure.
 */
#ifndef RP_NET_TARGET_H
#define RP_NET_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct target {
	char host[256]; /* host name or IP address text, no brackets */
	bool is_ip;
	int family;     /* AF_INET/AF_INET6 when is_ip, else 0 */
	uint16_t port;
	bool port_given;
};

/* Returns 0, or -1 with a one-line reason in err. */
int target_parse(const char *in, uint16_t default_port, struct target *out,
		 char *err, size_t errlen);

/* Parses a decimal port 1-65535. Returns 0 or -1. */
int target_parse_port(const char *s, uint16_t *out);

#endif
