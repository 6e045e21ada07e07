/*
 * scan/status: the one-word outcome of a scan target (the JSONL "status"
 * field, after zgrab2's): did we get an answer to judge, and if not, why
 * not. Derived from a finished check_result; pure.
 */
#ifndef RP_SCAN_STATUS_H
#define RP_SCAN_STATUS_H

#include "check/result.h"

enum scan_status {
	SCAN_SUCCESS,            /* a server answered: the verdict stands */
	SCAN_CONN_REFUSED,       /* TCP connect refused or unreachable */
	SCAN_CONN_TIMEOUT,       /* TCP connect timed out */
	SCAN_IO_TIMEOUT,         /* connected, then a reply timed out */
	SCAN_PROTOCOL_ERROR,     /* connected, then no usable SMTP */
	SCAN_DNS_ERROR,          /* the name did not resolve to a server */
	SCAN_INVALID_INPUT,      /* the line is no target */
	SCAN_EXCLUDED,           /* every address is excluded */
	SCAN_STATUS_LAST
};

/* The prefix scan's address filter gives its refusals ("refused: " is
 * added by the check). */
#define SCAN_EXCLUDED_WHY "excluded"

const char *scan_status_name(enum scan_status s);
/* From one server's error text (NULL: it answered). */
enum scan_status scan_status_of_error(const char *error);
/* A target: success when any server answered, else the first server's
 * reason; dns-error when there was no server to test. */
enum scan_status scan_status_of(const struct check_result *r);

#endif
