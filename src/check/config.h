/*
 * check/config: everything the user can set for a check, filled by the CLI
 * (cli/options) and read by the runners. Plain data; strings are borrowed
 * from argv or owned by the CLI for the life of the check.
 */
#ifndef RP_CHECK_CONFIG_H
#define RP_CHECK_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "check/gate.h"
#include "net/receiver.h"
#include "net/session.h"
#include "smtp/reply.h"

#include <openssl/ssl.h>

struct check_observer; /* check/check.h */

enum tls_mode {
	TLS_MODE_AUTO,   /* plaintext; STARTTLS when the server demands it */
	TLS_MODE_STARTTLS, /* always STARTTLS when offered */
	TLS_MODE_NONE,   /* never TLS */
	TLS_MODE_IMPLICIT, /* TLS from the first byte (port 465, --tls) */
};

struct check_config {
	uint16_t port;            /* default port for targets without one */
	enum tls_mode tls;
	bool tls_set;             /* --tls/--starttls/--no-tls given */
	const char *source;       /* --source ADDR, or NULL */
	struct sockaddr_storage source_ss;
	socklen_t source_len;
	const char *helo;         /* --helo NAME, or NULL (derived) */
	const char *domain;       /* --domain: the target's own domain */
	const char *from;         /* external sender address */
	const char *to;           /* external recipient address */
	const char *mailbox;      /* --mailbox: your own mailbox (T25) */
	const char *resolvers;    /* --resolver list for c-ares, or NULL */
	const char *zones_path;   /* --zones FILE, or NULL for the built-in */
	bool no_mx;               /* --no-mx: names are hosts, not domains */
	bool no_dns_checks;       /* --no-dns-checks: no PTR, no blocklists */
	bool no_blocklists;       /* --no-blocklists */
	bool dns_private;         /* --dns-private: query DNS about loopback
				     and private addresses too */
	const char *only;         /* --only T01,T02 (comma list), or NULL */
	struct session_timeouts timeouts;
	struct smtp_limits limits;
	int max_sessions;         /* parallel sessions per server */
	int per_session;          /* tests per session (error budget) */
	int retry_deferred_s;     /* 0 = off */
	int backoff_ms;           /* wait after a 421 */
	int max_attempts;         /* tries per test across reconnects */
	int max_transcript;       /* lines kept per server */
	/* Delivery proof (opt-in: without these, DATA is never sent). */
	bool confirm;             /* --confirm: DATA to tokens at confirm_domain */
	const char *confirm_domain;
	const char *receiver;     /* --receiver ADDR:PORT (text) */
	struct sockaddr_storage receiver_ss;
	socklen_t receiver_len;
	int confirm_wait_s;       /* wait for tokens after the tests */
	const char *send_to;      /* --send-to MAILBOX: DATA to the user */
	bool no_audit;            /* --no-audit: relay test only */
	bool no_relay;            /* scan --checks without relay: banner, EHLO
				     (and the audit) only, no MAIL/RCPT */
	const char *ca_file;      /* --ca-file: extra trusted CAs (PEM) */
	/* Set by the check engine (check/check), not by the user. */
	SSL_CTX *legacy_ctx;
	struct receiver *rcv;
	const struct check_observer *observer; /* the job's, or NULL */
	/* Set by scan: every session asks it before connecting (check/gate);
	 * NULL: no gating. */
	struct conn_gate *gate;
};

void check_config_defaults(struct check_config *c);

#endif
