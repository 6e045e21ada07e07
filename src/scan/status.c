#include "scan/status.h"

#include <string.h>

#include "core/util.h"

static const char *const names[] = {
    [SCAN_SUCCESS] = "success",
    [SCAN_CONN_REFUSED] = "connection-refused",
    [SCAN_CONN_TIMEOUT] = "connection-timeout",
    [SCAN_IO_TIMEOUT] = "io-timeout",
    [SCAN_PROTOCOL_ERROR] = "protocol-error",
    [SCAN_DNS_ERROR] = "dns-error",
    [SCAN_INVALID_INPUT] = "invalid-input",
    [SCAN_EXCLUDED] = "excluded",
};
_Static_assert(RP_ARRAY_LEN(names) == SCAN_STATUS_LAST,
	       "names must name every status");

const char *scan_status_name(enum scan_status s)
{
	return (unsigned)s < SCAN_STATUS_LAST ? names[s] : "?";
}

static bool starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

enum scan_status scan_status_of_error(const char *e)
{
	if (!e)
		return SCAN_SUCCESS;
	/* Texts from net/session and smtp/client ("KIND: detail"). */
	if (starts(e, "refused: " SCAN_EXCLUDED_WHY))
		return SCAN_EXCLUDED;
	if (starts(e, "connect: ") || starts(e, "connect failed"))
		return strstr(e, "timed out") ? SCAN_CONN_TIMEOUT
					       : SCAN_CONN_REFUSED;
	if (starts(e, "timeout: "))
		return strstr(e, "phase connect") ? SCAN_CONN_TIMEOUT
						  : SCAN_IO_TIMEOUT;
	return SCAN_PROTOCOL_ERROR;
}

enum scan_status scan_status_of(const struct check_result *r)
{
	if (r->nservers == 0)
		return r->null_mx ? SCAN_SUCCESS : SCAN_DNS_ERROR;
	bool all_excluded = true;
	for (size_t i = 0; i < r->nservers; i++) {
		const struct server_result *s = &r->servers[i];
		if (s->verdict != V_UNREACHABLE || !s->error)
			return SCAN_SUCCESS;
		if (scan_status_of_error(s->error) != SCAN_EXCLUDED)
			all_excluded = false;
	}
	if (all_excluded)
		return SCAN_EXCLUDED;
	/* The first server that was really tried says why. */
	for (size_t i = 0; i < r->nservers; i++) {
		enum scan_status st = scan_status_of_error(r->servers[i].error);
		if (st != SCAN_EXCLUDED)
			return st;
	}
	return SCAN_PROTOCOL_ERROR;
}
