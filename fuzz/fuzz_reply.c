/*
 * fuzz_reply: the SMTP reply parser (smtp/reply) fed a byte stream in
 * chunks whose sizes come from the input, with limits chosen by the input.
 *
 * Input: [limits byte][n][n chunk sizes][stream...]. The stream is parsed
 * twice, chunked and in one feed: both must give the same replies and end
 * the same way (the parser may not depend on how TCP split the bytes).
 * Every reply must have a code in 200-599, 1..max_lines lines of escaped
 * (printable) text, an enhanced code that looks like one, and survive
 * copy and text.
 */
#include "fuzz.h"

#include <ctype.h>

#include "smtp/reply.h"

#define MAX_REPLIES 4096

static void on_line(void *arg, const char *line)
{
	(void)arg;
	FZ_CHECK(fz_printable(line));
	FZ_CHECK(strlen(line) <= SMTP_DEFAULT_MAX_LINE);
}

static void check_enhanced(const char *e)
{
	size_t n = strnlen(e, 16);
	FZ_CHECK(n < 16);
	if (n == 0)
		return;
	FZ_CHECK(e[0] == '2' || e[0] == '4' || e[0] == '5');
	FZ_CHECK(e[1] == '.');
	int dots = 0, digits = 0;
	for (size_t i = 2; i < n; i++) {
		if (e[i] == '.') {
			FZ_CHECK(digits >= 1 && digits <= 3);
			dots++;
			digits = 0;
		} else {
			FZ_CHECK(isdigit((unsigned char)e[i]));
			digits++;
		}
	}
	FZ_CHECK(dots == 1 && digits >= 1 && digits <= 3);
}

static void check_reply(const struct smtp_reply *r,
			const struct smtp_limits *lim)
{
	FZ_CHECK(r->code >= 200 && r->code <= 599);
	FZ_CHECK(r->nlines >= 1 && r->nlines <= lim->max_lines);
	check_enhanced(r->enhanced);
	FZ_CHECK(r->enhanced[0] == '\0' || r->enhanced[0] == '0' + r->code / 100);
	size_t total = 0;
	for (size_t i = 0; i < r->nlines; i++) {
		FZ_CHECK(r->lines[i] != NULL);
		FZ_CHECK(fz_printable(r->lines[i]));
		size_t l = strlen(r->lines[i]);
		FZ_CHECK(l <= 4 * lim->max_line);
		total += l + 1;
	}
	char *t = smtp_reply_text(r);
	if (t) {
		FZ_CHECK(strlen(t) + 1 == total);
		free(t);
	}
	struct smtp_reply c;
	if (smtp_reply_copy(&c, r) == 0) {
		FZ_CHECK(c.code == r->code && c.nlines == r->nlines &&
			 c.flags == r->flags &&
			 strcmp(c.enhanced, r->enhanced) == 0);
		for (size_t i = 0; i < r->nlines; i++)
			FZ_CHECK(strcmp(c.lines[i], r->lines[i]) == 0);
		smtp_reply_clear(&c);
	}
	FZ_CHECK(smtp_reply_ok(r) == (r->code < 300)); /* 2xx only */
}

static bool same(const struct smtp_reply *a, const struct smtp_reply *b)
{
	if (a->code != b->code || a->nlines != b->nlines ||
	    a->flags != b->flags || strcmp(a->enhanced, b->enhanced) != 0)
		return false;
	for (size_t i = 0; i < a->nlines; i++)
		if (strcmp(a->lines[i], b->lines[i]) != 0)
			return false;
	return true;
}

struct run {
	struct smtp_reply *v;
	size_t n;
	bool error;
	bool busy;
};

/* Feeds data in chunks (sizes cycled from split, or all at once when
 * nsplit is 0) and collects the replies. */
static void parse(const struct smtp_limits *lim, const uint8_t *data,
		  size_t len, const uint8_t *split, size_t nsplit,
		  struct run *out)
{
	memset(out, 0, sizeof(*out));
	size_t cap = 0;
	struct smtp_reply_parser p;
	if (smtp_reply_parser_init(&p, lim) < 0)
		abort();
	p.on_line = on_line;
	/* the parser clamps tiny limits: use what it uses */
	size_t pos = 0, k = 0;
	while (pos < len && !out->error && out->n < MAX_REPLIES) {
		size_t chunk = nsplit ? split[k++ % nsplit] : len - pos;
		if (chunk > len - pos)
			chunk = len - pos;
		const char *c = (const char *)data + pos;
		size_t left = chunk;
		pos += chunk;
		do {
			size_t used = 0;
			struct smtp_reply r = {0};
			char err[128];
			enum smtp_parse_status st = smtp_reply_parser_feed(
			    &p, c, left, &used, &r, err, sizeof(err));
			if (st == SMTP_PARSE_ERROR) {
				FZ_CHECK(strlen(err) > 0 && strlen(err) < sizeof(err));
				out->error = true;
				break;
			}
			if (st == SMTP_PARSE_MORE) {
				FZ_CHECK(used == left);
				break;
			}
			FZ_CHECK(st == SMTP_PARSE_REPLY);
			FZ_CHECK(used >= 1 && used <= left);
			check_reply(&r, &p.lim);
			if (out->n == cap) {
				cap = cap ? cap * 2 : 8;
				out->v = realloc(out->v, cap * sizeof(*out->v));
				if (!out->v)
					abort();
			}
			out->v[out->n++] = r;
			c += used;
			left -= used;
		} while (left > 0 && out->n < MAX_REPLIES);
	}
	out->busy = smtp_reply_parser_busy(&p);
	smtp_reply_parser_cleanup(&p);
}

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->n; i++)
		smtp_reply_clear(&r->v[i]);
	free(r->v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t lines[] = {8, 16, 64, 512, 1000, 4096, 4096, 20000};
	static const size_t counts[] = {1, 2, 5, 200};
	static const size_t replies[] = {16, 256, 4096, 64 * 1024};
	struct fz f = {data, size};
	uint8_t cfg = fz_u8(&f);
	struct smtp_limits lim = {
	    .max_line = lines[cfg & 7],
	    .max_lines = counts[(cfg >> 3) & 3],
	    .max_reply = replies[(cfg >> 5) & 3],
	};
	if (cfg & 0x80)
		smtp_limits_default(&lim);
	size_t nsplit;
	const uint8_t *split = fz_bytes(&f, fz_u8(&f) % 16, &nsplit);
	uint8_t one = 1;
	if (nsplit == 0) {
		split = &one; /* byte by byte */
		nsplit = 1;
	}
	/* zero-sized chunks are fed too, but must not stall the loop */
	uint8_t fixed[16];
	bool all_zero = true;
	for (size_t i = 0; i < nsplit; i++) {
		fixed[i] = split[i];
		if (split[i])
			all_zero = false;
	}
	if (all_zero)
		fixed[0] = 1;
	size_t len;
	const uint8_t *stream = fz_rest(&f, &len);

	struct run a, b;
	parse(&lim, stream, len, fixed, nsplit, &a);
	parse(&lim, stream, len, NULL, 0, &b);
	if (a.n < MAX_REPLIES && b.n < MAX_REPLIES) {
		FZ_CHECK(a.n == b.n);
		FZ_CHECK(a.error == b.error);
		if (!a.error)
			FZ_CHECK(a.busy == b.busy);
		for (size_t i = 0; i < a.n; i++)
			FZ_CHECK(same(&a.v[i], &b.v[i]));
	}
	run_free(&a);
	run_free(&b);

	struct smtp_reply one_r;
	char err[128];
	if (smtp_reply_parse_one((const char *)stream, len, &one_r, err,
				 sizeof(err)) == 0) {
		struct smtp_limits def;
		smtp_limits_default(&def);
		check_reply(&one_r, &def);
		smtp_reply_clear(&one_r);
	}
	return 0;
}
