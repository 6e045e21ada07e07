/*
 * fuzz_target: what the user types as a target (net/target): target_parse
 * and target_parse_port. Input: [default port: 2 bytes][target text].
 *
 * Checks: on success the host is non-empty, NUL-terminated and fits, has
 * no brackets, is an IP address exactly when is_ip says so (with the
 * right family), and the port is 1-65535; a parsed port is what strtol
 * reads; errors are one bounded line of printable text.
 */
#include "fuzz.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "net/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	uint16_t defport = fz_u16(&f);
	char *in = fz_field(&f, '\0');
	if (!in)
		return 0;

	struct target t;
	char err[128];
	memset(err, 'Z', sizeof(err));
	if (target_parse(in, defport, &t, err, sizeof(err)) == 0) {
		size_t hl = strnlen(t.host, sizeof(t.host));
		FZ_CHECK(hl > 0 && hl < sizeof(t.host));
		FZ_CHECK(strchr(t.host, '[') == NULL &&
			 strchr(t.host, ']') == NULL);
		unsigned char buf[sizeof(struct in6_addr)];
		bool v4 = inet_pton(AF_INET, t.host, buf) == 1;
		bool v6 = inet_pton(AF_INET6, t.host, buf) == 1;
		FZ_CHECK(t.is_ip == (v4 || v6));
		if (t.is_ip)
			FZ_CHECK(t.family == (v4 ? AF_INET : AF_INET6));
		else
			FZ_CHECK(t.family == 0);
		if (t.port_given)
			FZ_CHECK(t.port >= 1);
		else
			FZ_CHECK(t.port == defport);
		for (size_t i = 0; i < hl; i++)
			FZ_CHECK(t.host[i] > 0x20 && t.host[i] < 0x7f);
	} else {
		FZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		/* The input is quoted escaped (a bug found here: it was
		 * quoted raw; corpus inputs crash-escape-in-error and
		 * crash-newline-in-error). */
		FZ_CHECK(fz_printable(err));
	}

	uint16_t port = 0;
	if (target_parse_port(in, &port) == 0) {
		char *end;
		long v = strtol(in, &end, 10);
		FZ_CHECK(*end == '\0' && v >= 1 && v <= 65535 && v == port);
	}
	free(in);
	return 0;
}
