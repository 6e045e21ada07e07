#include "relay/technique.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

/* Sender shared by T11-T23 (nmap's tests 5-16): the server's own literal. */
#define LIT_SENDER "<{user}@{target_lit}>"

static const struct technique techniques[] = {
	{"T01", "null-sender", "relay rules that trust the null (bounce) sender",
	 "<>", "<{ext_user}@{ext_domain}>", HELO_TESTER, RCPT_EXTERNAL, true, false},
	{"T02", "external-to-external", "unconditional relaying (trusted network too wide, relay for any)",
	 "<{from}>", "<{ext_user}@{ext_domain}>", HELO_TESTER, RCPT_EXTERNAL, false, false},
	{"T03", "sender-target-host", "relaying allowed because the sender claims the server's host name",
	 "<{user}@{target_host}>", "<{ext_user}@{ext_domain}>", HELO_TESTER, RCPT_EXTERNAL, true, false},
	{"T04", "sender-target-domain", "relaying allowed because the sender claims the target domain",
	 "<{user}@{target_domain}>", "<{ext_user}@{ext_domain}>", HELO_TESTER, RCPT_EXTERNAL, true, false},
	{"T05", "sender-target-literal", "relaying allowed because the sender claims the server's IP literal",
	 "<{user}@{target_lit}>", "<{ext_user}@{ext_domain}>", HELO_TESTER, RCPT_EXTERNAL, true, false},
	{"T06", "unqualified-sender", "unqualified senders treated as local",
	 "<{user}>", "<{ext_user}@{ext_domain}>", HELO_TESTER, RCPT_EXTERNAL, true, false},
	{"T07", "sender-localhost", "\"localhost\" senders treated as local",
	 "<{user}@localhost>", "<{ext_user}@{ext_domain}>", HELO_TESTER, RCPT_EXTERNAL, true, false},
	{"T08", "sender-tester-host", "baseline relay with a sender at the tester's own name",
	 "<{user}@{tester_host}>", "<{ext_user}@{ext_domain}>", HELO_TESTER, RCPT_EXTERNAL, true, false},
	{"T09", "helo-target-host", "relaying allowed by HELO name rules (check_helo_access before the relay check)",
	 "<{from}>", "<{ext_user}@{ext_domain}>", HELO_TARGET, RCPT_EXTERNAL, false, false},
	{"T10", "rcpt-no-brackets", "lenient parsers that skip checks on unbracketed paths",
	 "<{from}>", "{ext_user}@{ext_domain}", HELO_TESTER, RCPT_EXTERNAL, false, false},
	{"T11", "percent-hack-literal", "%-hack: accepted as local via the IP literal, then forwarded",
	 LIT_SENDER, "<{ext_user}%{ext_domain}@{target_lit}>", HELO_TESTER, RCPT_OWN_ROUTED, false, false},
	{"T12", "percent-hack-host", "%-hack: accepted as local via the host name, then forwarded",
	 LIT_SENDER, "<{ext_user}%{ext_domain}@{target_host}>", HELO_TESTER, RCPT_OWN_ROUTED, false, false},
	{"T13", "quoted-address", "quotes stripped after the relay check",
	 LIT_SENDER, "<\"{ext_user}@{ext_domain}\">", HELO_TESTER, RCPT_OWN_ROUTED, false, false},
	{"T14", "quoted-percent", "unqualified quoted local part later %-rewritten",
	 LIT_SENDER, "<\"{ext_user}%{ext_domain}\">", HELO_TESTER, RCPT_OWN_ROUTED, false, false},
	{"T15", "double-at-literal", "relay check on the last @, routing on the first (IP literal)",
	 LIT_SENDER, "<{ext_user}@{ext_domain}@{target_lit}>", HELO_TESTER, RCPT_OWN_ROUTED, false, false},
	{"T16", "quoted-at-literal", "relay check on the last @, routing on the quoted address",
	 LIT_SENDER, "<\"{ext_user}@{ext_domain}\"@{target_lit}>", HELO_TESTER, RCPT_OWN_ROUTED, false, false},
	{"T17", "double-at-host", "relay check on the last @, routing on the first (host name)",
	 LIT_SENDER, "<{ext_user}@{ext_domain}@{target_host}>", HELO_TESTER, RCPT_OWN_ROUTED, false, false},
	{"T18", "source-route-literal", "relay check applied to the source-route host (IP literal)",
	 LIT_SENDER, "<@{target_lit}:{ext_user}@{ext_domain}>", HELO_TESTER, RCPT_EXTERNAL, false, false},
	{"T19", "source-route-host", "relay check applied to the source-route host (host name)",
	 LIT_SENDER, "<@{target_host}:{ext_user}@{ext_domain}>", HELO_TESTER, RCPT_EXTERNAL, false, false},
	{"T20", "bang-path", "UUCP ! routing of an unqualified local part",
	 LIT_SENDER, "<{ext_domain}!{ext_user}>", HELO_TESTER, RCPT_OWN_ROUTED, false, false},
	{"T21", "bang-path-literal", "UUCP ! routing after local acceptance (IP literal)",
	 LIT_SENDER, "<{ext_domain}!{ext_user}@{target_lit}>", HELO_TESTER, RCPT_OWN_ROUTED, false, false},
	{"T22", "bang-path-host", "UUCP ! routing after local acceptance (host name)",
	 LIT_SENDER, "<{ext_domain}!{ext_user}@{target_host}>", HELO_TESTER, RCPT_OWN_ROUTED, false, false},
	{"T23a", "empty-domain-at", "parsers that treat an empty trailing domain as local (@ form)",
	 LIT_SENDER, "<{ext_user}@{ext_domain}@>", HELO_TESTER, RCPT_OWN_ROUTED, false, false},
	{"T23b", "empty-domain-percent", "parsers that treat an empty trailing domain as local (% form)",
	 LIT_SENDER, "<{ext_user}%{ext_domain}@>", HELO_TESTER, RCPT_OWN_ROUTED, false, false},
	{"T25", "own-mailbox", "relaying to a mailbox you read (DATA only with --send-to)",
	 "<{from}>", "<{mailbox}>", HELO_TESTER, RCPT_MAILBOX, false, true},
};

static const struct technique controls[] = {
	{"positive", "postmaster", "RFC 5321 §4.5.1: postmaster at the served domain must be accepted",
	 "<{from}>", "<postmaster@{target_domain}>", HELO_TESTER, RCPT_CONTROL, false, false},
	{"positive-bare", "bare postmaster", "RFC 5321 §4.5.1: RCPT TO:<Postmaster> must be accepted",
	 "<{from}>", "<Postmaster>", HELO_TESTER, RCPT_CONTROL, false, false},
	{"impossible", "impossible recipient", "a domain that cannot exist: accepting it means the server accepts anything",
	 "<{from}>", "<{rand}@{rand}.invalid>", HELO_TESTER, RCPT_CONTROL, false, false},
	{"random-local", "random local part", "a random user at the target domain: accepting it means routing forms that end there prove nothing",
	 "<{from}>", "<{rand}@{target_domain}>", HELO_TESTER, RCPT_CONTROL, false, false},
};

const struct technique *technique_list(size_t *n)
{
	*n = RP_ARRAY_LEN(techniques);
	return techniques;
}

const struct technique *technique_controls(size_t *n)
{
	*n = RP_ARRAY_LEN(controls);
	return controls;
}

const struct technique *technique_find(const char *id)
{
	for (size_t i = 0; i < RP_ARRAY_LEN(techniques); i++)
		if (strcmp(techniques[i].id, id) == 0)
			return &techniques[i];
	for (size_t i = 0; i < RP_ARRAY_LEN(controls); i++)
		if (strcmp(controls[i].id, id) == 0)
			return &controls[i];
	return NULL;
}

static const char *var(const struct technique_vars *v, const char *name,
		       size_t n, char *rand_buf)
{
#define VAR(key, field)                                                        \
	if (n == sizeof(key) - 1 && memcmp(name, key, n) == 0)                 \
		return v->field;
	VAR("from", from)
	VAR("user", user)
	VAR("ext_user", ext_user)
	VAR("ext_domain", ext_domain)
	VAR("target_host", target_host)
	VAR("target_domain", target_domain)
	VAR("target_lit", target_lit)
	VAR("tester_host", tester_host)
	VAR("mailbox", mailbox)
#undef VAR
	if (n == 4 && memcmp(name, "rand", 4) == 0) {
		/* Letters only: valid in any local part or label. */
		char hex[13];
		rp_random_hex(hex, 6);
		for (size_t i = 0; i < 12; i++)
			rand_buf[i] = (char)('a' + (hex[i] % 26));
		rand_buf[12] = '\0';
		memcpy(rand_buf, "rp", 2);
		return rand_buf;
	}
	return NULL;
}

int technique_expand(const char *tmpl, const struct technique_vars *v,
		     char *out, size_t outsz)
{
	size_t o = 0;
	for (const char *p = tmpl; *p;) {
		if (*p == '{') {
			const char *end = strchr(p, '}');
			if (!end)
				return -1;
			char rb[16];
			const char *val = var(v, p + 1, (size_t)(end - p - 1), rb);
			if (!val || !*val) {
				snprintf(out, outsz, "%.*s", (int)(end - p + 1), p);
				return -1;
			}
			size_t n = strlen(val);
			if (o + n >= outsz)
				return -1;
			memcpy(out + o, val, n);
			o += n;
			p = end + 1;
			continue;
		}
		if (o + 1 >= outsz)
			return -1;
		out[o++] = *p++;
	}
	if (o >= outsz)
		return -1;
	out[o] = '\0';
	return 0;
}

int technique_address_literal(const char *ip, char *out, size_t outsz)
{
	struct in_addr a4;
	struct in6_addr a6;
	int n;
	if (inet_pton(AF_INET, ip, &a4) == 1)
		n = snprintf(out, outsz, "[%s]", ip);
	else if (inet_pton(AF_INET6, ip, &a6) == 1) {
		char norm[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &a6, norm, sizeof(norm));
		n = snprintf(out, outsz, "[IPv6:%s]", norm);
	} else
		return -1;
	return (n < 0 || (size_t)n >= outsz) ? -1 : 0;
}

int technique_split_address(const char *addr, char *local, size_t localsz,
			    char *domain, size_t domainsz)
{
	const char *at = strrchr(addr, '@');
	if (!at || at == addr || !at[1])
		return -1;
	size_t ln = (size_t)(at - addr), dn = strlen(at + 1);
	if (ln >= localsz || dn >= domainsz)
		return -1;
	memcpy(local, addr, ln);
	local[ln] = '\0';
	memcpy(domain, at + 1, dn + 1);
	return 0;
}
