#include "relay/probe_message.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

int probe_token(const char *run_id, const char *technique_id, char *out,
		size_t outsz)
{
	if (strlen(run_id) != 10)
		return -1;
	char t[16];
	size_t n = 0;
	for (const char *p = technique_id; *p && n + 1 < sizeof(t); p++) {
		if (!isalnum((unsigned char)*p))
			return -1;
		t[n++] = (char)tolower((unsigned char)*p);
	}
	t[n] = '\0';
	int w = snprintf(out, outsz, "rp%s-%s", run_id, t);
	if (w < 0 || (size_t)w >= outsz || !probe_token_valid(out))
		return -1;
	return 0;
}

/* Length of a token starting at s (0 if none). */
static size_t token_len(const char *s, size_t len)
{
	if (len < 14 || s[0] != 'r' || s[1] != 'p')
		return 0;
	for (size_t i = 2; i < 12; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	if (s[12] != '-')
		return 0;
	size_t i = 13;
	while (i < len && i < PROBE_TOKEN_MAX - 1 &&
	       (islower((unsigned char)s[i]) || isdigit((unsigned char)s[i])))
		i++;
	return i > 13 ? i : 0;
}

bool probe_token_valid(const char *s)
{
	size_t len = strlen(s);
	return len < PROBE_TOKEN_MAX && token_len(s, len) == len;
}

bool probe_find_token(const char *text, size_t len, char *out, size_t outsz)
{
	for (size_t i = 0; i + 14 <= len; i++) {
		if (i > 0 && (isalnum((unsigned char)text[i - 1])))
			continue;
		size_t n = token_len(text + i, len - i);
		if (n && n < outsz) {
			memcpy(out, text + i, n);
			out[n] = '\0';
			return true;
		}
	}
	return false;
}

char *probe_message(const struct probe_message_params *p)
{
	char date[64];
	struct tm tm;
	gmtime_r(&p->now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	const char *at = strrchr(p->from, '@');
	return rp_asprintf(
	    "Date: %s\r\n"
	    "Message-ID: <%s.%ld@%s>\r\n"
	    "From: relayprobe <%s>\r\n"
	    "To: <%s>\r\n"
	    "Subject: relayprobe relay test %s\r\n"
	    "X-Relayprobe-Token: %s\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "\r\n"
	    "This message is an open-relay test made with relayprobe.\r\n"
	    "\r\n"
	    "Server tested: %s\r\n"
	    "Technique:     %s\r\n"
	    "Token:         %s\r\n"
	    "Sent by:       %s\r\n"
	    "\r\n"
	    "The person running the test asked for this message to be sent\r\n"
	    "to an address of their own. If it reached you, the server above\r\n"
	    "relayed it: it is an open relay.\r\n",
	    date, p->token, (long)p->now, at && at[1] ? at + 1 : "relayprobe.invalid",
	    p->from, p->to, p->token, p->token, p->target, p->technique,
	    p->token, p->tester);
}
