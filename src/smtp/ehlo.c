#include "smtp/ehlo.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

void smtp_ehlo_clear(struct smtp_ehlo *e)
{
	free(e->name);
	free(e->auth);
	for (size_t i = 0; i < e->nkeywords; i++)
		free(e->keywords[i]);
	free(e->keywords);
	memset(e, 0, sizeof(*e));
}

static bool kw_is(const char *line, const char *kw)
{
	size_t n = strlen(kw);
	return strncasecmp(line, kw, n) == 0 &&
	       (line[n] == '\0' || line[n] == ' ' || line[n] == '=');
}

static void first_word(const char *s, char *out, size_t outsz)
{
	size_t n = 0;
	while (*s == ' ')
		s++;
	while (s[n] && s[n] != ' ')
		n++;
	if (outsz == 0)
		return;
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

int smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ehlo *out)
{
	memset(out, 0, sizeof(*out));
	if (r->nlines == 0)
		return 0;
	char name[256];
	first_word(r->lines[0], name, sizeof(name));
	out->name = rp_strdup(name);
	if (!out->name)
		return -1;
	if (r->nlines > 1) {
		out->keywords = calloc(r->nlines - 1, sizeof(char *));
		if (!out->keywords)
			goto oom;
	}
	for (size_t i = 1; i < r->nlines; i++) {
		const char *l = r->lines[i];
		out->keywords[out->nkeywords] = rp_strdup(l);
		if (!out->keywords[out->nkeywords])
			goto oom;
		out->nkeywords++;
		if (kw_is(l, "STARTTLS"))
			out->starttls = true;
		else if (kw_is(l, "PIPELINING"))
			out->pipelining = true;
		else if (kw_is(l, "8BITMIME"))
			out->eightbitmime = true;
		else if (kw_is(l, "SMTPUTF8"))
			out->smtputf8 = true;
		else if (kw_is(l, "CHUNKING"))
			out->chunking = true;
		else if (kw_is(l, "ENHANCEDSTATUSCODES"))
			out->enhancedstatuscodes = true;
		else if (kw_is(l, "DSN"))
			out->dsn = true;
		else if (kw_is(l, "SIZE")) {
			out->has_size = true;
			if (l[4] == ' ') {
				char *end;
				unsigned long v = strtoul(l + 5, &end, 10);
				if (end != l + 5)
					out->size = v;
			}
		} else if (kw_is(l, "AUTH")) {
			/* "AUTH=" is the pre-RFC form some servers add. */
			const char *m = l + 4;
			if (*m == ' ' || *m == '=')
				m++;
			if (!out->auth) {
				out->auth = rp_strdup(m);
				if (!out->auth)
					goto oom;
			}
		}
	}
	return 0;
oom:
	smtp_ehlo_clear(out);
	return -1;
}

void smtp_greeting_name(const struct smtp_reply *greeting, char *out,
			size_t outsz)
{
	if (outsz)
		out[0] = '\0';
	if (greeting->nlines == 0)
		return;
	first_word(greeting->lines[0], out, outsz);
}

bool smtp_valid_hostname(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 253)
		return false;
	if (s[len - 1] == '.')
		len--; /* a trailing root dot is allowed */
	size_t labels = 0, lablen = 0;
	bool top_all_digits = true;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';
		if (c == '.') {
			if (lablen == 0 || lablen > 63)
				return false;
			if (s[i - 1] == '-' || s[i - lablen] == '-')
				return false;
			labels++;
			if (i < len) {
				top_all_digits = true;
			}
			lablen = 0;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-')
			return false;
		if (!isdigit((unsigned char)c))
			top_all_digits = false;
		lablen++;
	}
	return labels >= 2 && !top_all_digits;
}
