/*
 * audit/audit: what an attacker, a blocklist or an auditor notices about
 * a server, from what the check recorded: software and version, banner
 * name, VRFY/EXPN, AUTH before TLS, STARTTLS (missing, injectable),
 * certificate, legacy TLS, timings. Adds findings to the server's result,
 * then gives every finding (relay and DNS ones too) its title and the fix
 * for the detected MTA. Pure; runs once the check is complete.
 */
#ifndef RP_AUDIT_AUDIT_H
#define RP_AUDIT_AUDIT_H

#include "check/result.h"

/* Thresholds for the timing findings (milliseconds). */
#define AUDIT_CONNECT_SLOW_MS 3000
#define AUDIT_GREETING_SLOW_MS 15000
#define AUDIT_EHLO_SLOW_MS 5000
#define AUDIT_TXN_SLOW_MS 5000
#define AUDIT_CERT_EXPIRING_DAYS 30

void audit_server(struct server_result *s);

#endif
