#include "check/vantage.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int vantage_local_address(const struct sockaddr_storage *addr,
			  socklen_t addrlen,
			  const struct sockaddr_storage *source,
			  socklen_t sourcelen, char *out, size_t outsz)
{
	int fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int rc = -1;
	if (source && bind(fd, (const struct sockaddr *)source, sourcelen) < 0)
		goto out;
	/* UDP connect only picks a route; nothing goes on the wire. */
	if (connect(fd, (const struct sockaddr *)addr, addrlen) < 0)
		goto out;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		goto out;
	const void *a = ss.ss_family == AF_INET
			    ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
			    : (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
	if (inet_ntop(ss.ss_family, a, out, (socklen_t)outsz))
		rc = 0;
out:
	close(fd);
	return rc;
}

static bool v4_in(uint32_t a, uint32_t net, int bits)
{
	uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
	return (a & mask) == (net & mask);
}

bool vantage_is_near(const char *local, const char *server, char *why,
		     size_t whysz)
{
	struct in_addr l4, s4;
	struct in6_addr l6, s6;
	if (inet_pton(AF_INET, local, &l4) == 1) {
		uint32_t a = ntohl(l4.s_addr);
		if (v4_in(a, 0x7f000000u, 8)) {
			snprintf(why, whysz, "a loopback address");
			return true;
		}
		if (v4_in(a, 0x0a000000u, 8) || v4_in(a, 0xac100000u, 12) ||
		    v4_in(a, 0xc0a80000u, 16)) {
			snprintf(why, whysz, "a private (RFC 1918) address");
			return true;
		}
		if (v4_in(a, 0x64400000u, 10)) {
			snprintf(why, whysz, "a carrier-grade NAT address");
			return true;
		}
		if (v4_in(a, 0xa9fe0000u, 16)) {
			snprintf(why, whysz, "a link-local address");
			return true;
		}
		if (inet_pton(AF_INET, server, &s4) == 1 &&
		    v4_in(a, ntohl(s4.s_addr), 24)) {
			snprintf(why, whysz, "in the server's own /24");
			return true;
		}
		return false;
	}
	if (inet_pton(AF_INET6, local, &l6) == 1) {
		static const unsigned char lo[16] = {[15] = 1};
		if (memcmp(l6.s6_addr, lo, 16) == 0) {
			snprintf(why, whysz, "a loopback address");
			return true;
		}
		if ((l6.s6_addr[0] & 0xfe) == 0xfc) {
			snprintf(why, whysz, "a unique-local (private) address");
			return true;
		}
		if (l6.s6_addr[0] == 0xfe && (l6.s6_addr[1] & 0xc0) == 0x80) {
			snprintf(why, whysz, "a link-local address");
			return true;
		}
		if (inet_pton(AF_INET6, server, &s6) == 1 &&
		    memcmp(l6.s6_addr, s6.s6_addr, 8) == 0) {
			snprintf(why, whysz, "in the server's own /64");
			return true;
		}
	}
	return false;
}
