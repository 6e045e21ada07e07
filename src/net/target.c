#include "net/target.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/util.h"
#include "smtp/ehlo.h"

int target_parse_port(const char *s, uint16_t *out)
{
	unsigned long v = 0;
	if (!*s || strlen(s) > 5)
		return -1;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* The input is quoted escaped: a target comes from a command line, a file
 * or an API request, and a newline or an escape sequence in it must not
 * reach the terminal or a log raw. At most 80 input bytes are shown. */
static int fail(char *err, size_t errlen, const char *in, const char *why)
{
	char shown[4 * 80 + 1];
	size_t n = strnlen(in, 80);
	rp_escape(in, n, shown, sizeof(shown));
	snprintf(err, errlen, "invalid target '%s': %s", shown, why);
	return -1;
}

int target_parse(const char *in, uint16_t default_port, struct target *out,
		 char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->port = default_port;
	size_t len = strlen(in);
	if (len == 0)
		return fail(err, errlen, in, "empty");
	if (len >= sizeof(out->host) + 8)
		return fail(err, errlen, in, "too long");
	for (size_t i = 0; i < len; i++)
		if (!isgraph((unsigned char)in[i]))
			return fail(err, errlen, in,
				    "contains spaces or control characters");

	char host[300];
	const char *port = NULL;
	if (in[0] == '[') {
		const char *close = strchr(in, ']');
		if (!close)
			return fail(err, errlen, in, "missing ']'");
		size_t hl = (size_t)(close - in - 1);
		if (hl == 0 || hl >= sizeof(host))
			return fail(err, errlen, in, "bad bracketed address");
		memcpy(host, in + 1, hl);
		host[hl] = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return fail(err, errlen, in, "junk after ']'");
		struct in6_addr a6;
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return fail(err, errlen, in,
				    "brackets must hold an IPv6 address");
	} else {
		const char *colon = strchr(in, ':');
		if (colon && strchr(colon + 1, ':')) {
			/* Two or more colons: a bare IPv6 address. */
			if (len >= sizeof(host))
				return fail(err, errlen, in, "too long");
			memcpy(host, in, len + 1);
		} else if (colon) {
			size_t hl = (size_t)(colon - in);
			if (hl == 0 || hl >= sizeof(host))
				return fail(err, errlen, in, "bad host");
			memcpy(host, in, hl);
			host[hl] = '\0';
			port = colon + 1;
		} else {
			if (len >= sizeof(host))
				return fail(err, errlen, in, "too long");
			memcpy(host, in, len + 1);
		}
	}
	if (port) {
		if (target_parse_port(port, &out->port) < 0)
			return fail(err, errlen, in,
				    "port must be a number from 1 to 65535");
		out->port_given = true;
	}
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, host, &a4) == 1) {
		out->is_ip = true;
		out->family = AF_INET;
	} else if (inet_pton(AF_INET6, host, &a6) == 1) {
		out->is_ip = true;
		out->family = AF_INET6;
	} else {
		size_t hl = strlen(host);
		if (hl && host[hl - 1] == '.')
			host[hl - 1] = '\0';
		if (strcmp(host, "localhost") != 0 &&
		    !smtp_valid_hostname(host))
			return fail(err, errlen, in,
				    "not an IP address or a valid host name");
	}
	if (strlen(host) >= sizeof(out->host))
		return fail(err, errlen, in, "too long");
	memcpy(out->host, host, strlen(host) + 1);
	return 0;
}
