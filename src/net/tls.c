#include "net/tls.h"

#include <stdio.h>
#include <openssl/err.h>

void tls_last_error(char *out, size_t outsz, const char *fallback)
{
	unsigned long e = ERR_get_error();
	if (!e) {
		snprintf(out, outsz, "%s", fallback);
		return;
	}
	char buf[256];
	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(out, outsz, "%s", buf);
	ERR_clear_error();
}

SSL_CTX *tls_client_ctx_new(char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		tls_last_error(err, errlen, "cannot create TLS context");
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	if (SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0") != 1) {
		tls_last_error(err, errlen, "cannot set TLS ciphers");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}
