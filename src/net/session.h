/*
 * net/session: one SMTP connection on libevent. It connects (optionally
 * from a given source address), feeds what the server sends into the
 * sans-I/O smtp_client, writes what the client says, wraps the connection
 * in TLS on STARTTLS or at connect (implicit TLS), and enforces a timeout on
 * every phase: connect, greeting, TLS handshake, each command.
 *
 * The owner receives the client's events through struct session_events.
 * Ownership: the owner creates and frees the session. session_free must
 * not be called from inside one of the session's own callbacks; defer it
 * to the event loop (the closed callback is the last one a session makes).
 */
#ifndef RP_NET_SESSION_H
#define RP_NET_SESSION_H

#include <stdbool.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "net/tls.h"
#include "smtp/client.h"

struct session_timeouts {
	int connect_ms;
	int greeting_ms;
	int command_ms;
	int tls_ms;
};

struct session_config {
	struct event_base *base;
	SSL_CTX *tls_ctx;         /* needed for STARTTLS or implicit TLS */
	const char *sni;          /* server name for TLS, or NULL */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	const struct sockaddr_storage *source; /* bind first, or NULL */
	socklen_t sourcelen;
	struct session_timeouts timeouts;
	struct smtp_client_config smtp; /* tls = SMTP_TLS_IMPLICIT wraps at connect */
};

/* Same contracts as struct smtp_client_ops (minus write/start_tls, which
 * the session handles). */
struct session_events {
	void (*ready)(void *arg);
	void (*txn_done)(void *arg, struct smtp_txn *t);
	void (*idle)(void *arg);
	void (*closed)(void *arg, enum smtp_failure f, const char *why);
	void (*line)(void *arg, char dir, const char *line);
};

struct session;

/* Starts connecting. Returns NULL with err filled on immediate failure. */
struct session *session_new(const struct session_config *cfg,
			    const struct session_events *ev, void *arg,
			    char *err, size_t errlen);
void session_free(struct session *s);

struct smtp_client *session_client(struct session *s);
/* The local address text after connect ("" before). */
const char *session_local_address(const struct session *s);
/* Negotiated TLS protocol and cipher, or NULL when not encrypted. */
const char *session_tls_version(const struct session *s);
const char *session_tls_cipher(const struct session *s);
/* Certificate facts of the handshake (present false before TLS). */
const struct tls_cert_facts *session_tls_facts(const struct session *s);

/* Milliseconds from start to TCP connected, to the first byte of the
 * greeting, and to ready (greeting + EHLO [+ STARTTLS + EHLO]); -1 when
 * not reached. */
struct session_timings {
	long connect_ms;
	long greeting_ms;
	long ready_ms;
};
void session_timings(const struct session *s, struct session_timings *out);

#endif
