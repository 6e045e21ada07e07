/*
 * core/util: tiny helpers shared by every module (array length, checked
 * string duplication, bounded formatting into caller buffers).
 *
 * Ownership: functions returning char * return a heap string the caller
 * frees; they return NULL on allocation failure and never abort, so callers
 * turn that into an error value.
 */
#ifndef RP_CORE_UTIL_H
#define RP_CORE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define RP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define RP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RP_PRINTF(f, a)
#endif

/* strdup that returns NULL for NULL input and on allocation failure. */
char *rp_strdup(const char *s);
/* strndup equivalent: copies at most n bytes and terminates. */
char *rp_strndup(const char *s, size_t n);
/* Heap printf; NULL on failure. */
char *rp_asprintf(const char *fmt, ...) RP_PRINTF(1, 2);
/* Case-insensitive search for needle in haystack (ASCII). */
bool rp_contains_nocase(const char *haystack, const char *needle);
/* Writes lowercase hex of n random bytes into out (2n+1 chars) from the
 * kernel's RNG; falls back to the clock only if getrandom fails. */
void rp_random_hex(char *out, size_t nbytes);

/*
 * Escapes bytes for display: printable ASCII is kept, a backslash becomes
 * "\\", everything else "\xNN". Writes at most outsz-1 bytes plus NUL and
 * returns the number of escaped bytes the full input needs (like snprintf),
 * so callers can detect truncation. Strings from servers pass through this
 * before they reach a terminal, a JSON document or a log.
 */
size_t rp_escape(const char *in, size_t len, char *out, size_t outsz);
/* Heap copy of rp_escape's output; NULL on failure. */
char *rp_escape_dup(const char *in, size_t len);

#endif
