/*
 * fuzz/fuzz.h: shared by the fuzz targets. Each target defines
 * LLVMFuzzerTestOneInput; it is linked either with libFuzzer (fuzz/run,
 * clang -fsanitize=fuzzer) or with replay_main.c, which replays the
 * committed corpus in ordinary CI (gcc, and the ASan+UBSan build).
 *
 * Input is read through a cursor that never fails: past the end it yields
 * zeros and empty slices, so every input is a valid program.
 */
#ifndef RP_FUZZ_H
#define RP_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test: abort (a finding) when it fails. */
#define FZ_CHECK(cond)                                                         \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",       \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/*
 * Checks of behaviour that is wrong today and reported (fuzz/RESULTS.md):
 * off by default so fuzzing goes on past them and CI stays green; on with
 * FUZZ_KNOWN_BUGS=1 (the disabled CTest tests fuzz.known_bugs.* set it).
 */
static inline bool fz_known_bugs(void)
{
	static int on = -1;
	if (on < 0) {
		const char *e = getenv("FUZZ_KNOWN_BUGS");
		on = e && e[0] == '1';
	}
	return on;
}

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz *f)
{
	if (f->n == 0)
		return 0;
	f->n--;
	return *f->p++;
}

static inline uint16_t fz_u16(struct fz *f)
{
	uint16_t hi = fz_u8(f);
	return (uint16_t)(hi << 8 | fz_u8(f));
}

static inline bool fz_bool(struct fz *f)
{
	return fz_u8(f) & 1;
}

/* Up to n bytes (fewer at the end of the input). */
static inline const uint8_t *fz_bytes(struct fz *f, size_t n, size_t *got)
{
	const uint8_t *p = f->p;
	if (n > f->n)
		n = f->n;
	f->p += n;
	f->n -= n;
	*got = n;
	return p;
}

/* Everything left. */
static inline const uint8_t *fz_rest(struct fz *f, size_t *got)
{
	return fz_bytes(f, f->n, got);
}

/* The bytes up to the next sep (or the end), sep consumed, as a new
 * NUL-terminated heap string (an embedded NUL shortens it). NULL only when
 * out of memory. */
static inline char *fz_field(struct fz *f, uint8_t sep)
{
	const uint8_t *end = memchr(f->p, sep, f->n);
	size_t n = end ? (size_t)(end - f->p) : f->n;
	char *s = malloc(n + 1);
	if (!s)
		return NULL;
	memcpy(s, f->p, n);
	s[n] = '\0';
	f->p += n;
	f->n -= n;
	if (end) {
		f->p++;
		f->n--;
	}
	return s;
}

/* True if s holds only what rp_escape produces: printable ASCII. */
static inline bool fz_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* An input cut into up to three files at 0xff bytes (the configuration
 * targets: main file, second file, an included file or table). Parts that
 * are not there are NULL. */
struct fz_parts {
	const char *p[3];
	size_t n[3];
};

static inline void fz_split3(const uint8_t *data, size_t size,
			     struct fz_parts *pt)
{
	const char *s = (const char *)data;
	size_t rest = size;
	for (int i = 0; i < 3; i++) {
		pt->p[i] = NULL;
		pt->n[i] = 0;
	}
	for (int i = 0; i < 3 && s; i++) {
		const char *ff = i < 2 ? memchr(s, 0xff, rest) : NULL;
		pt->p[i] = s;
		pt->n[i] = ff ? (size_t)(ff - s) : rest;
		if (ff) {
			rest -= pt->n[i] + 1;
			s = ff + 1;
		} else {
			s = NULL;
		}
	}
}

#endif
