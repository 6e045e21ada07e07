/*
 * check/vantage: where the test is run from, as the server sees it. A test
 * from loopback, a private network or the server's own subnet may be
 * trusted (Postfix mynetworks) and show a relay the internet cannot use,
 * or hide nothing: the report says so (shared reference, trap 3).
 */
#ifndef RP_CHECK_VANTAGE_H
#define RP_CHECK_VANTAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/*
 * The local address the kernel would use to reach addr (from source when
 * given), found with a connected UDP socket: no packet is sent.
 */
int vantage_local_address(const struct sockaddr_storage *addr,
			  socklen_t addrlen,
			  const struct sockaddr_storage *source,
			  socklen_t sourcelen, char *out, size_t outsz);

/*
 * True when local (an IP address) is loopback, private / unique-local /
 * link-local / CGNAT, or in the same /24 (IPv4) or /64 (IPv6) as server;
 * why receives a short phrase ("a loopback address").
 */
bool vantage_is_near(const char *local, const char *server, char *why,
		     size_t whysz);

#endif
