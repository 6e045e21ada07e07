#include "audit/advice.h"

#include <string.h>

#include "core/util.h"

#define PF_RELAY                                                               \
	"in main.cf: mynetworks = 127.0.0.0/8 [::1]/128 (only hosts you "     \
	"trust; never 0.0.0.0/0 or whole private ranges behind NAT) and "      \
	"smtpd_relay_restrictions = permit_mynetworks, "                       \
	"permit_sasl_authenticated, reject_unauth_destination; remove any "    \
	"check_sender_access/check_helo_access OK or permit placed before "    \
	"reject_unauth_destination; then: postfix reload"
#define EXIM_RELAY                                                             \
	"set hostlist relay_from_hosts = <; 127.0.0.1 ; ::1 (only hosts you "  \
	"trust), and keep acl_check_rcpt in order: accept authenticated = * "  \
	"and hosts = +relay_from_hosts, then require domains = "               \
	"+local_domains : +relay_to_domains (deny \"relay not permitted\"); "  \
	"no 'accept hosts = *'"
#define SENDMAIL_RELAY                                                         \
	"list only trusted hosts in /etc/mail/access as RELAY (Connect:ip "    \
	"RELAY), remove FEATURE(`promiscuous_relay') and "                     \
	"FEATURE(`relay_based_on_MX'), rebuild sendmail.cf and the access map"
#define OSMTPD_RELAY                                                           \
	"in smtpd.conf relay only for local or authenticated senders: match "  \
	"from local for any action \"relay\" and match auth from any for any " \
	"action \"relay\"; never match from any for any action \"relay\""
#define EXCH_RELAY                                                             \
	"in the Exchange admin center, mail flow > receive connectors: on "    \
	"connectors reachable from the internet remove the "                   \
	"Ms-Exch-SMTP-Accept-Any-Recipient permission from Anonymous Logon "   \
	"(Get-ReceiveConnector | Get-ADPermission -User 'NT AUTHORITY\\"       \
	"ANONYMOUS LOGON'), and limit any relay connector's RemoteIPRanges "   \
	"to your own hosts"

static const struct advice_entry entries[] = {
	{"open-relay", "Open relay",
	 "allow relaying only for your own networks and authenticated users",
	 PF_RELAY, EXIM_RELAY, SENDMAIL_RELAY, OSMTPD_RELAY, EXCH_RELAY},
	{"suspect-relay", "Accepts mail for other domains",
	 "refuse recipients at domains you do not serve at RCPT (or prove "
	 "relaying with --confirm)",
	 PF_RELAY, EXIM_RELAY, SENDMAIL_RELAY, OSMTPD_RELAY, EXCH_RELAY},
	{"catch-all", "Accepts any recipient, even at impossible domains",
	 "reject unknown recipients and foreign domains at RCPT; accepting "
	 "and dropping later hides problems and creates backscatter",
	 "reject_unauth_destination in smtpd_relay_restrictions, and "
	 "smtpd_reject_unlisted_recipient = yes with real local_recipient_maps",
	 "require domains = +local_domains : +relay_to_domains in "
	 "acl_check_rcpt, and verify = recipient",
	 NULL, NULL,
	 "enable recipient filtering (Set-RecipientFilterConfig "
	 "-RecipientValidationEnabled $true)"},
	{"not-delivered", "Accepted at RCPT but not delivered", NULL, NULL,
	 NULL, NULL, NULL, NULL},
	{"awaiting-confirmation", "Probes sent to your mailbox",
	 "look for the tokens in your mailbox: a probe that arrives proves "
	 "the server relayed it", NULL, NULL, NULL, NULL, NULL},
	{"postmaster-refused", "postmaster is refused",
	 "accept mail for postmaster at every domain you serve (RFC 5321 "
	 "§4.5.1)",
	 "add postmaster to the aliases (/etc/aliases: postmaster: root) and "
	 "run newaliases",
	 "keep 'accept local_parts = postmaster' near the top of "
	 "acl_check_rcpt",
	 NULL, NULL, NULL},
	{"vantage-point", "Tested from a trusted-looking address",
	 "test again from a host outside your networks (the server may trust "
	 "this one)", NULL, NULL, NULL, NULL, NULL},
	{"relay-deferred", "Relaying refused with a temporary code",
	 "refuse relaying with a permanent 5xx code",
	 "use reject_unauth_destination instead of defer_unauth_destination "
	 "in smtpd_relay_restrictions",
	 NULL, NULL, NULL, NULL},
	{"starttls-failed", "STARTTLS required but the upgrade fails",
	 "fix the server's TLS configuration (certificate, key, protocols)",
	 "check smtpd_tls_cert_file / smtpd_tls_key_file and the mail log "
	 "for TLS errors",
	 "check tls_certificate / tls_privatekey", NULL, NULL, NULL},
	{"no-ptr", "No reverse DNS",
	 "ask whoever controls the address's reverse zone (usually your "
	 "provider) for a PTR record naming the server's host name",
	 NULL, NULL, NULL, NULL, NULL},
	{"fcrdns-failed", "Reverse DNS does not resolve back",
	 "give the PTR name an A/AAAA record pointing back at this address",
	 NULL, NULL, NULL, NULL, NULL},
	{"banner-ptr-mismatch", "Banner name differs from the PTR name",
	 "make the banner name the host name the PTR names",
	 "myhostname = (the PTR name)",
	 "primary_hostname = (the PTR name)", NULL, NULL, NULL},
	{"blocklisted", "Listed on a DNS blocklist",
	 "stop the cause (open relay, compromised account, malware), then "
	 "request removal from the list (the TXT reason links to it)",
	 NULL, NULL, NULL, NULL, NULL},
	{"blocklist-unknown", "Blocklist gave no usable answer",
	 "query lists through your own resolver, not a public one",
	 NULL, NULL, NULL, NULL, NULL},
	{"blocklist-unusable", "Blocklist failed its self-test",
	 "remove the list from your zones file", NULL, NULL, NULL, NULL, NULL},
	{"version-disclosed", "Software version in the banner",
	 "remove the version from the greeting",
	 "smtpd_banner = $myhostname ESMTP", 
	 "smtp_banner = $smtp_active_hostname ESMTP",
	 "define(`confSMTP_LOGIN_MSG', `$j ESMTP') in sendmail.mc",
	 "smtpd.conf: listen on ... smtp-banner? OpenSMTPD shows no version "
	 "by default; remove any custom banner with one",
	 "Set-ReceiveConnector -Banner \"220 mail.example.com\""},
	{"banner-not-fqdn", "Banner does not name a host",
	 "greet with the server's fully qualified host name (RFC 5321 §4.2)",
	 "myhostname = mail.example.com", "primary_hostname = mail.example.com",
	 "define(`confDOMAIN_NAME', `mail.example.com')",
	 "hostname mail.example.com in smtpd.conf",
	 "Set-ReceiveConnector -Fqdn mail.example.com"},
	{"greeting-slow", "Slow greeting",
	 "a deliberate delay (postscreen, greet_pause) is fine; otherwise look "
	 "for DNS timeouts on the server",
	 "postscreen_greet_wait delays on purpose; check smtpd DNS lookups",
	 "smtp_accept_max / delay ACLs", NULL, NULL, NULL},
	{"slow-transaction", "Slow replies",
	 "find what the server waits for (DNS, policy services, content "
	 "filters)", NULL, NULL, NULL, NULL, NULL},
	{"vrfy-enabled", "VRFY answers",
	 "disable VRFY (answer 252 or 502)", "disable_vrfy_command = yes",
	 "leave acl_smtp_vrfy unset (the default denies)",
	 "define(`confPRIVACY_FLAGS', `goaway')",
	 "OpenSMTPD has no VRFY; check the proxy in front", NULL},
	{"expn-enabled", "EXPN discloses lists",
	 "disable EXPN", "Postfix has no EXPN; check what answers it",
	 "leave acl_smtp_expn unset (the default denies)",
	 "define(`confPRIVACY_FLAGS', `goaway')", NULL, NULL},
	{"auth-without-tls", "AUTH offered before TLS",
	 "offer AUTH only after STARTTLS", "smtpd_tls_auth_only = yes",
	 "auth_advertise_hosts = ${if eq{$tls_in_cipher}{}{}{*}}",
	 "define(`confAUTH_OPTIONS', `A p')",
	 "listen on ... tls auth (auth only with tls)",
	 "require TLS on the receive connector before basic auth "
	 "(Set-ReceiveConnector -AuthMechanism Tls,BasicAuthRequireTLS)"},
	{"plaintext-auth-without-tls", "Passwords could cross the network in clear",
	 "never offer PLAIN or LOGIN without TLS", "smtpd_tls_auth_only = yes",
	 "auth_advertise_hosts = ${if eq{$tls_in_cipher}{}{}{*}}",
	 "define(`confAUTH_OPTIONS', `A p')",
	 "listen on ... tls auth",
	 "Set-ReceiveConnector -AuthMechanism Tls,BasicAuthRequireTLS"},
	{"starttls-missing", "No STARTTLS",
	 "offer STARTTLS with a certificate for the host name",
	 "smtpd_tls_cert_file = /etc/ssl/mail.pem, smtpd_tls_key_file = "
	 "/etc/ssl/mail.key, smtpd_tls_security_level = may",
	 "tls_advertise_hosts = *, tls_certificate = ..., tls_privatekey = ...",
	 "define(`confSERVER_CERT', ...) and confSERVER_KEY",
	 "listen on ... tls pki mail.example.com",
	 "assign a certificate to the SMTP service (Enable-ExchangeCertificate "
	 "-Services SMTP)"},
	{"starttls-injection", "STARTTLS command injection (CVE-2011-0411 class)",
	 "upgrade the MTA: it must discard plaintext buffered before TLS "
	 "starts", "upgrade Postfix (fixed in 2.8.0 and later)",
	 "upgrade Exim", "upgrade Sendmail", "upgrade OpenSMTPD",
	 "apply current Exchange updates"},
	{"tls-cert-expired", "Certificate expired",
	 "renew the certificate and reload the MTA",
	 "replace smtpd_tls_cert_file and run postfix reload",
	 "replace tls_certificate and restart Exim", NULL, NULL,
	 "renew and Enable-ExchangeCertificate -Services SMTP"},
	{"tls-cert-expiring", "Certificate expires soon",
	 "renew the certificate (automate it)", NULL, NULL, NULL, NULL, NULL},
	{"tls-cert-self-signed", "Self-signed certificate",
	 "use a certificate from a public CA (e.g. ACME)", NULL, NULL, NULL,
	 NULL, NULL},
	{"tls-cert-untrusted", "Certificate chain not trusted",
	 "serve the full chain, issued by a public CA",
	 "smtpd_tls_chain_files with the key, the certificate and the "
	 "intermediates", "tls_certificate with the full chain", NULL, NULL,
	 NULL},
	{"tls-cert-name-mismatch", "Certificate does not name the host",
	 "issue the certificate for the MX host name (in subjectAltName)",
	 NULL, NULL, NULL, NULL, NULL},
	{"tls-legacy-protocols", "TLS 1.0/1.1 still accepted",
	 "accept TLS 1.2 and later only",
	 "smtpd_tls_protocols = >=TLSv1.2 and smtpd_tls_mandatory_protocols "
	 "= >=TLSv1.2", "tls_require_ciphers = ...:!VERS-TLS1.0:!VERS-TLS1.1 "
	 "(GnuTLS) or openssl_options = +no_tlsv1 +no_tlsv1_1",
	 "define(`confSERVER_SSL_OPTIONS', `+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1')",
	 "listen on ... tls protocols \"tlsv1.2,tlsv1.3\"",
	 "disable TLS 1.0/1.1 in Windows (SCHANNEL registry keys)"},
};

const struct advice_entry *advice_find(const char *id)
{
	for (size_t i = 0; i < RP_ARRAY_LEN(entries); i++)
		if (strcmp(entries[i].id, id) == 0)
			return &entries[i];
	return NULL;
}

const char *advice_fix(const struct advice_entry *e, enum mta m)
{
	const char *f = NULL;
	switch (m) {
	case MTA_POSTFIX:
	case MTA_ZIMBRA:
		f = e->postfix;
		break;
	case MTA_EXIM:
		f = e->exim;
		break;
	case MTA_SENDMAIL:
		f = e->sendmail;
		break;
	case MTA_OPENSMTPD:
		f = e->opensmtpd;
		break;
	case MTA_EXCHANGE:
		f = e->exchange;
		break;
	case MTA_UNKNOWN:
	case MTA_QMAIL:
	case MTA_HARAKA:
	case MTA_COURIER:
	case MTA_HMAILSERVER:
	case MTA_MDAEMON:
	case MTA_LAST:
		break;
	}
	return f ? f : e->general;
}

const struct advice_entry *advice_all(size_t *n)
{
	*n = RP_ARRAY_LEN(entries);
	return entries;
}
