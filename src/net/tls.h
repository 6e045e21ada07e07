/*
 * net/tls: the OpenSSL client context used for STARTTLS and implicit TLS.
 *
 * The relay test must get through to old servers too, so the context
 * accepts every protocol version and cipher OpenSSL still has
 * (SECLEVEL=0) and does not verify the certificate; nothing secret is sent.
 * SSL_OP_IGNORE_UNEXPECTED_EOF makes OpenSSL 3 report a TCP close without
 * close_notify as EOF, which libevent 2.1 otherwise turns into an error
 * (docs: shared/reference/architecture.md §2.1).
 *
 * Ownership: the caller frees the context with SSL_CTX_free.
 */
#ifndef RP_NET_TLS_H
#define RP_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/ssl.h>

/* ca_file: extra trusted CAs (PEM) besides the system store, or NULL. */
SSL_CTX *tls_client_ctx_new(const char *ca_file, char *err, size_t errlen);
/* A context that offers only TLS 1.0 and 1.1: a handshake that succeeds
 * proves the server still accepts them. */
SSL_CTX *tls_legacy_ctx_new(char *err, size_t errlen);

/* What the server's certificate says (issue 6 audit). */
struct tls_cert_facts {
	bool present;
	char subject[256];    /* one-line DN */
	char issuer[256];
	char sans[512];       /* DNS and IP SANs, comma-separated */
	long long not_before; /* Unix time */
	long long not_after;
	long days_left;       /* negative when expired */
	bool expired;
	bool not_yet_valid;
	bool self_signed;
	bool chain_ok;        /* verified against the trust store */
	char verify_error[128];
	bool name_checked;
	bool name_ok;         /* matches the host name we expected */
	char checked_name[256];
	int chain_len;
	char version[32];     /* negotiated protocol */
	char cipher[96];
};

/* Fills facts from an established connection; host may be NULL. */
void tls_cert_facts(SSL *ssl, const char *host, struct tls_cert_facts *out);
/* Most recent OpenSSL error as text, or fallback. */
void tls_last_error(char *out, size_t outsz, const char *fallback);

#endif
