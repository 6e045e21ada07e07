#include "smtp/reply.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void smtp_limits_default(struct smtp_limits *lim)
{
	lim->max_line = SMTP_DEFAULT_MAX_LINE;
	lim->max_reply = SMTP_DEFAULT_MAX_REPLY;
	lim->max_lines = SMTP_DEFAULT_MAX_LINES;
}

int smtp_reply_parser_init(struct smtp_reply_parser *p,
			   const struct smtp_limits *lim)
{
	memset(p, 0, sizeof(*p));
	if (lim)
		p->lim = *lim;
	else
		smtp_limits_default(&p->lim);
	if (p->lim.max_line < 8)
		p->lim.max_line = 8;
	if (p->lim.max_lines < 1)
		p->lim.max_lines = 1;
	p->line = malloc(p->lim.max_line + 1);
	return p->line ? 0 : -1;
}

void smtp_reply_parser_cleanup(struct smtp_reply_parser *p)
{
	free(p->line);
	p->line = NULL;
	smtp_reply_clear(&p->cur);
}

bool smtp_reply_parser_busy(const struct smtp_reply_parser *p)
{
	return p->linelen > 0 || p->cr_pending || p->cur.nlines > 0;
}

void smtp_reply_clear(struct smtp_reply *r)
{
	for (size_t i = 0; i < r->nlines; i++)
		free(r->lines[i]);
	free(r->lines);
	memset(r, 0, sizeof(*r));
}

int smtp_reply_copy(struct smtp_reply *dst, const struct smtp_reply *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->code = src->code;
	dst->flags = src->flags;
	memcpy(dst->enhanced, src->enhanced, sizeof(dst->enhanced));
	if (src->nlines == 0)
		return 0;
	dst->lines = calloc(src->nlines, sizeof(char *));
	if (!dst->lines)
		return -1;
	for (size_t i = 0; i < src->nlines; i++) {
		dst->lines[i] = rp_strdup(src->lines[i]);
		if (!dst->lines[i]) {
			dst->nlines = i;
			smtp_reply_clear(dst);
			return -1;
		}
	}
	dst->nlines = src->nlines;
	return 0;
}

char *smtp_reply_text(const struct smtp_reply *r)
{
	size_t total = 1;
	for (size_t i = 0; i < r->nlines; i++)
		total += strlen(r->lines[i]) + 1;
	char *s = malloc(total);
	if (!s)
		return NULL;
	size_t off = 0;
	for (size_t i = 0; i < r->nlines; i++) {
		size_t n = strlen(r->lines[i]);
		if (i)
			s[off++] = '\n';
		memcpy(s + off, r->lines[i], n);
		off += n;
	}
	s[off] = '\0';
	return s;
}

/*
 * Length of an RFC 3463 status code "c.sss.ddd" at s (class 2, 4 or 5,
 * subject and detail 1-3 digits), followed by a space or the end; 0 if none.
 */
static size_t enhanced_len(const char *s, size_t n)
{
	size_t i = 0;
	if (n < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
	    s[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		size_t d = 0;
		while (i < n && isdigit((unsigned char)s[i]) && d < 3) {
			i++;
			d++;
		}
		if (d == 0)
			return 0;
		if (part == 0) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < n && s[i] != ' ')
		return 0;
	return i;
}

static void seterr(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

/* Handles one complete line (without its terminator). */
static enum smtp_parse_status take_line(struct smtp_reply_parser *p,
					const char *l, size_t n, bool bare_lf,
					struct smtp_reply *out, char *err,
					size_t errlen)
{
	struct smtp_reply *r = &p->cur;
	if (p->on_line) {
		char shown[SMTP_DEFAULT_MAX_LINE + 1];
		rp_escape(l, n, shown, sizeof(shown));
		p->on_line(p->on_line_arg, shown);
	}
	if (n < 3 || !isdigit((unsigned char)l[0]) ||
	    !isdigit((unsigned char)l[1]) || !isdigit((unsigned char)l[2])) {
		seterr(err, errlen, "reply line does not start with a 3-digit code");
		return SMTP_PARSE_ERROR;
	}
	if (l[0] < '2' || l[0] > '5') {
		seterr(err, errlen, "reply code outside 2xx-5xx");
		return SMTP_PARSE_ERROR;
	}
	int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	bool last;
	if (n == 3 || l[3] == ' ')
		last = true;
	else if (l[3] == '-')
		last = false;
	else {
		seterr(err, errlen, "reply code not followed by space or hyphen");
		return SMTP_PARSE_ERROR;
	}
	if (r->nlines > 0 && code != r->code) {
		seterr(err, errlen, "reply code changes inside a multi-line reply");
		return SMTP_PARSE_ERROR;
	}
	if (r->nlines >= p->lim.max_lines) {
		seterr(err, errlen, "multi-line reply has too many lines");
		return SMTP_PARSE_ERROR;
	}
	p->cur_size += n + 2;
	if (p->cur_size > p->lim.max_reply) {
		seterr(err, errlen, "reply larger than the size limit");
		return SMTP_PARSE_ERROR;
	}
	const char *t = n > 4 ? l + 4 : l + n;
	size_t tn = n > 4 ? n - 4 : 0;
	size_t el = enhanced_len(t, tn);
	if (el && el < sizeof(r->enhanced) && (l[0] == t[0])) {
		if (r->nlines == 0) {
			memcpy(r->enhanced, t, el);
			r->enhanced[el] = '\0';
		}
		if (r->nlines == 0 || (strlen(r->enhanced) == el &&
				       memcmp(r->enhanced, t, el) == 0)) {
			t += el;
			tn -= el;
			if (tn && *t == ' ') {
				t++;
				tn--;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)l[i];
		if (c < 0x20 || c >= 0x7f) {
			r->flags |= SMTP_REPLY_NONPRINTABLE;
			break;
		}
	}
	if (bare_lf)
		r->flags |= SMTP_REPLY_BARE_LF;
	char **nl = realloc(r->lines, (r->nlines + 1) * sizeof(char *));
	if (!nl) {
		seterr(err, errlen, "out of memory");
		return SMTP_PARSE_ERROR;
	}
	r->lines = nl;
	r->lines[r->nlines] = rp_escape_dup(t, tn);
	if (!r->lines[r->nlines]) {
		seterr(err, errlen, "out of memory");
		return SMTP_PARSE_ERROR;
	}
	r->nlines++;
	r->code = code;
	if (!last)
		return SMTP_PARSE_MORE;
	*out = *r;
	memset(r, 0, sizeof(*r));
	p->cur_size = 0;
	return SMTP_PARSE_REPLY;
}

enum smtp_parse_status smtp_reply_parser_feed(struct smtp_reply_parser *p,
					      const char *data, size_t len,
					      size_t *consumed,
					      struct smtp_reply *out,
					      char *err, size_t errlen)
{
	size_t i = 0;
	*consumed = 0;
	while (i < len) {
		char c = data[i++];
		if (c == '\n') {
			bool bare = !p->cr_pending;
			p->cr_pending = false;
			enum smtp_parse_status st =
			    take_line(p, p->line, p->linelen, bare, out, err,
				      errlen);
			p->linelen = 0;
			if (st == SMTP_PARSE_ERROR)
				return st;
			if (st == SMTP_PARSE_REPLY) {
				*consumed = i;
				return st;
			}
			continue;
		}
		if (p->cr_pending) {
			/* A CR not followed by LF is data: keep it (escaped). */
			p->cr_pending = false;
			if (p->linelen >= p->lim.max_line) {
				seterr(err, errlen, "reply line longer than the limit");
				return SMTP_PARSE_ERROR;
			}
			p->line[p->linelen++] = '\r';
		}
		if (c == '\r') {
			p->cr_pending = true;
			continue;
		}
		if (p->linelen >= p->lim.max_line) {
			seterr(err, errlen, "reply line longer than the limit");
			return SMTP_PARSE_ERROR;
		}
		p->line[p->linelen++] = c;
	}
	*consumed = len;
	return SMTP_PARSE_MORE;
}

int smtp_reply_parse_one(const char *data, size_t len, struct smtp_reply *out,
			 char *err, size_t errlen)
{
	struct smtp_reply_parser p;
	memset(out, 0, sizeof(*out));
	if (smtp_reply_parser_init(&p, NULL) < 0) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	size_t used = 0;
	enum smtp_parse_status st =
	    smtp_reply_parser_feed(&p, data, len, &used, out, err, errlen);
	int rc = 0;
	if (st == SMTP_PARSE_MORE) {
		seterr(err, errlen, "incomplete reply");
		rc = -1;
	} else if (st == SMTP_PARSE_ERROR) {
		rc = -1;
	} else if (used != len) {
		seterr(err, errlen, "trailing data after the reply");
		smtp_reply_clear(out);
		rc = -1;
	}
	smtp_reply_parser_cleanup(&p);
	return rc;
}
