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

#include <stddef.h>
#include <openssl/ssl.h>

SSL_CTX *tls_client_ctx_new(char *err, size_t errlen);
/* Most recent OpenSSL error as text, or fallback. */
void tls_last_error(char *out, size_t outsz, const char *fallback);

#endif
