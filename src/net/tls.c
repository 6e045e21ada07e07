#include "net/tls.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/util.h"

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

SSL_CTX *tls_client_ctx_new(const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		tls_last_error(err, errlen, "cannot create TLS context");
		return NULL;
	}
	/* VERIFY_NONE still verifies and records the result, which the
	 * audit reports; the relay test must go on whatever the certificate. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_default_verify_paths(ctx);
	if (ca_file && SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		tls_last_error(err, errlen, "cannot read the CA file");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	if (SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0") != 1) {
		tls_last_error(err, errlen, "cannot set TLS ciphers");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL_CTX *tls_legacy_ctx_new(char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		tls_last_error(err, errlen, "cannot create TLS context");
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* OpenSSL 3 allows TLS 1.0/1.1 only at security level 0. */
	if (SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0") != 1 ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION) != 1) {
		tls_last_error(err, errlen, "cannot make the legacy TLS context");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static long long asn1_to_unix(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (long long)timegm(&tm);
}

void tls_cert_facts(SSL *ssl, const char *host, struct tls_cert_facts *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->version, sizeof(out->version), "%s", SSL_get_version(ssl));
	const char *c = SSL_get_cipher_name(ssl);
	snprintf(out->cipher, sizeof(out->cipher), "%s", c ? c : "");
	X509 *cert = SSL_get1_peer_certificate(ssl);
	if (!cert)
		return;
	out->present = true;
	X509_NAME_oneline(X509_get_subject_name(cert), out->subject,
			  sizeof(out->subject));
	X509_NAME_oneline(X509_get_issuer_name(cert), out->issuer,
			  sizeof(out->issuer));
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char one[300] = "";
		if (g->type == GEN_DNS) {
			const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
			int l = ASN1_STRING_length(g->d.dNSName);
			rp_escape((const char *)d, (size_t)(l > 0 ? l : 0), one, sizeof(one));
		} else if (g->type == GEN_IPADD) {
			const unsigned char *d = ASN1_STRING_get0_data(g->d.iPAddress);
			int l = ASN1_STRING_length(g->d.iPAddress);
			if (l == 4 || l == 16)
				inet_ntop(l == 4 ? AF_INET : AF_INET6, d, one, sizeof(one));
		}
		if (one[0]) {
			size_t o = strlen(out->sans);
			snprintf(out->sans + o, sizeof(out->sans) - o, "%s%s",
				 o ? ", " : "", one);
		}
	}
	if (gens)
		GENERAL_NAMES_free(gens);
	out->not_before = asn1_to_unix(X509_get0_notBefore(cert));
	out->not_after = asn1_to_unix(X509_get0_notAfter(cert));
	time_t now = time(NULL);
	out->expired = out->not_after && out->not_after < (long long)now;
	out->not_yet_valid = out->not_before > (long long)now;
	out->days_left = (long)((out->not_after - (long long)now) / 86400);
	long vr = SSL_get_verify_result(ssl);
	out->self_signed = X509_check_issued(cert, cert) == X509_V_OK ||
			   vr == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
			   X509_NAME_cmp(X509_get_subject_name(cert),
					 X509_get_issuer_name(cert)) == 0;
	out->chain_ok = vr == X509_V_OK;
	if (!out->chain_ok)
		snprintf(out->verify_error, sizeof(out->verify_error), "%s",
			 X509_verify_cert_error_string(vr));
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	out->chain_len = chain ? sk_X509_num(chain) : 1;
	if (host && *host) {
		out->name_checked = true;
		snprintf(out->checked_name, sizeof(out->checked_name), "%s", host);
		struct in6_addr a;
		if (inet_pton(AF_INET, host, &a) == 1 ||
		    inet_pton(AF_INET6, host, &a) == 1)
			out->name_ok = X509_check_ip_asc(cert, host, 0) == 1;
		else
			out->name_ok = X509_check_host(cert, host, 0, 0, NULL) == 1;
	}
	X509_free(cert);
}
