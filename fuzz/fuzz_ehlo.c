/*
 * fuzz_ehlo: what a server says about itself (smtp/ehlo): the EHLO
 * capability parser, the greeting's name and the host name validator.
 *
 * Input: lines separated by LF. They are used twice: as the raw text of a
 * 250 reply's lines (the parser must cope with any C string), and, with
 * CRLF and "250-" added, through the real reply parser first. Checks: one
 * keyword per line after the first, bounded names, and that every name
 * smtp_valid_hostname accepts really is an LDH host name.
 */
#include "fuzz.h"

#include <ctype.h>

#include "smtp/ehlo.h"
#include "smtp/reply.h"

#define MAX_LINES 300

/* An independent statement of the rule in smtp/ehlo.h. */
static void check_hostname(const char *s)
{
	bool valid = smtp_valid_hostname(s);
	size_t len = strlen(s);
	if (!valid)
		return;
	FZ_CHECK(len >= 3 && len <= 253);
	if (s[len - 1] == '.')
		len--;
	size_t labels = 0, lab = 0;
	bool digits_only = true;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';
		if (c == '.') {
			FZ_CHECK(lab >= 1 && lab <= 63);
			FZ_CHECK(s[i - 1] != '-' && s[i - lab] != '-');
			labels++;
			lab = 0;
			if (i < len)
				digits_only = true;
			continue;
		}
		FZ_CHECK(isalnum((unsigned char)c) || c == '-');
		FZ_CHECK((unsigned char)c < 0x80);
		if (!isdigit((unsigned char)c))
			digits_only = false;
		lab++;
	}
	FZ_CHECK(labels >= 2);
	FZ_CHECK(!digits_only);
}

static void check_ehlo(const struct smtp_reply *r)
{
	struct smtp_ehlo e;
	if (smtp_ehlo_parse(r, &e) < 0)
		return; /* out of memory */
	if (r->nlines == 0) {
		FZ_CHECK(e.name == NULL && e.nkeywords == 0);
	} else {
		FZ_CHECK(e.name != NULL);
		FZ_CHECK(strlen(e.name) < 256);
		FZ_CHECK(strchr(e.name, ' ') == NULL);
		FZ_CHECK(e.nkeywords == r->nlines - 1);
		check_hostname(e.name);
	}
	for (size_t i = 0; i < e.nkeywords; i++)
		FZ_CHECK(strcmp(e.keywords[i], r->lines[i + 1]) == 0);
	if (!e.has_size)
		FZ_CHECK(e.size == 0);
	smtp_ehlo_clear(&e);
	FZ_CHECK(e.name == NULL && e.keywords == NULL && e.nkeywords == 0);

	static const size_t sizes[] = {0, 1, 2, 16, 256};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char buf[256];
		memset(buf, 'Z', sizeof(buf));
		smtp_greeting_name(r, buf, sizes[i]);
		if (sizes[i]) {
			FZ_CHECK(memchr(buf, '\0', sizes[i]) != NULL);
			FZ_CHECK(strchr(buf, ' ') == NULL);
			check_hostname(buf);
		} else {
			FZ_CHECK(buf[0] == 'Z');
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	char *lines[MAX_LINES];
	size_t n = 0;
	while (f.n > 0 && n < MAX_LINES) {
		lines[n] = fz_field(&f, '\n');
		if (!lines[n])
			break;
		n++;
	}
	/* 1. Raw lines. */
	struct smtp_reply r = {.code = 250, .lines = lines, .nlines = n};
	check_ehlo(&r);
	for (size_t i = 0; i < n; i++)
		check_hostname(lines[i]);

	/* 2. Through the reply parser: "250-line\r\n" ... "250 last\r\n". */
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += 4 + strlen(lines[i]) + 2;
	char *wire = malloc(total + 1);
	if (wire) {
		size_t o = 0;
		for (size_t i = 0; i < n; i++) {
			size_t l = strlen(lines[i]);
			memcpy(wire + o, i + 1 == n ? "250 " : "250-", 4);
			memcpy(wire + o + 4, lines[i], l);
			memcpy(wire + o + 4 + l, "\r\n", 2);
			o += 4 + l + 2;
		}
		struct smtp_reply pr;
		char err[128];
		if (smtp_reply_parse_one(wire, o, &pr, err, sizeof(err)) == 0) {
			check_ehlo(&pr);
			smtp_reply_clear(&pr);
		}
		free(wire);
	}
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	return 0;
}
