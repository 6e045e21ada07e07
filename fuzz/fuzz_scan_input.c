/*
 * fuzz_scan_input: what `relayprobe scan` reads from outside: the target
 * list (scan/input reader: comments, CIDR blocks, long lines), an
 * --exclude file (addr_set_load) and a --resume file (resume_load).
 * Input: [cidr cap: 1 byte][include special: 1 byte][file bytes].
 *
 * Checks: every item is NUL-terminated printable ASCII; a target item
 * parses as a target (or is an address from a block); a block never yields
 * more than its cap; excluded addresses never come out as targets; the
 * resume set holds every target it reports loading; nothing crashes.
 */
#include "fuzz.h"

#include <stdio.h>
#include <sys/types.h>

#include "net/target.h"
#include "scan/input.h"
#include "scan/resume.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	unsigned bits = fz_u8(&f) % 9; /* at most 256 per block: fast */
	bool special_too = fz_bool(&f);
	size_t n = 0;
	const uint8_t *body = fz_rest(&f, &n);
	if (!body || n == 0)
		return 0;

	struct addr_set special = {0}, ex = {0};
	FZ_CHECK(addr_set_add_special(&special) == 0);
	FZ_CHECK(addr_set_add(&ex, "127.0.0.8/30") == 0);
	FILE *in = fmemopen((void *)body, n, "r");
	if (!in)
		return 0;
	struct scan_reader_config cfg = {.max_cidr_bits = bits,
					 .include_special = special_too,
					 .exclude = &ex,
					 .special = &special};
	struct scan_reader r;
	scan_reader_init(&r, in, &cfg);
	struct scan_item it;
	unsigned long last_line = 0, run = 0;
	while (scan_reader_next(&r, &it) == 1) {
		size_t tl = strnlen(it.target, sizeof(it.target));
		FZ_CHECK(tl < sizeof(it.target));
		FZ_CHECK(memchr(it.why, '\0', sizeof(it.why)) != NULL);
		FZ_CHECK(fz_printable(it.target));
		run = it.line == last_line ? run + 1 : 1;
		last_line = it.line;
		FZ_CHECK(run <= (1ul << bits) || it.line == 0);
		if (it.kind == SCAN_ITEM_TARGET) {
			struct target t;
			char err[200];
			FZ_CHECK(tl > 0);
			FZ_CHECK(target_parse(it.target, 25, &t, err, sizeof(err)) == 0);
			if (t.is_ip)
				FZ_CHECK(!addr_set_contains_text(&ex, t.host));
		}
	}
	fclose(in);

	in = fmemopen((void *)body, n, "r");
	if (in) {
		char err[200];
		struct addr_set s = {0};
		if (addr_set_load(&s, in, err, sizeof(err)) < 0)
			FZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		fclose(in);
		addr_set_free(&s);
	}
	in = fmemopen((void *)body, n, "r");
	if (in) {
		char err[200];
		struct resume_set s = {0};
		off_t end = 0;
		long got = resume_load(&s, in, &end, err, sizeof(err));
		FZ_CHECK(got >= -1 && end >= 0 && (size_t)end <= n);
		FZ_CHECK(got <= 0 || s.n > 0);
		fclose(in);
		resume_free(&s);
	}
	addr_set_free(&special);
	addr_set_free(&ex);
	return 0;
}
