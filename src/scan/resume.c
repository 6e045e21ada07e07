#include "scan/resume.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "scan/input.h"

/* One JSONL line can carry a whole transcript (-v): generous, but a
 * bound. */
#define RESUME_LINE_MAX (64u << 20)

static uint64_t key(const char *target)
{
	uint64_t h = scan_target_hash(target);
	return h ? h : 1;
}

static int put(struct resume_set *s, uint64_t k)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 1024;
		uint64_t *nv = calloc(nc, sizeof(*nv));
		if (!nv)
			return -1;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->slots[i])
				continue;
			size_t j = (size_t)s->slots[i] & (nc - 1);
			while (nv[j])
				j = (j + 1) & (nc - 1);
			nv[j] = s->slots[i];
		}
		free(s->slots);
		s->slots = nv;
		s->cap = nc;
	}
	size_t j = (size_t)k & (s->cap - 1);
	while (s->slots[j]) {
		if (s->slots[j] == k)
			return 0;
		j = (j + 1) & (s->cap - 1);
	}
	s->slots[j] = k;
	s->n++;
	return 0;
}

int resume_add(struct resume_set *s, const char *target)
{
	return put(s, key(target));
}

bool resume_has(const struct resume_set *s, const char *target)
{
	if (!s->cap)
		return false;
	uint64_t k = key(target);
	size_t j = (size_t)k & (s->cap - 1);
	while (s->slots[j]) {
		if (s->slots[j] == k)
			return true;
		j = (j + 1) & (s->cap - 1);
	}
	return false;
}

long resume_load(struct resume_set *s, FILE *f, off_t *good_end, char *err,
		 size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long count = 0;
	off_t pos = 0;
	*good_end = 0;
	errno = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		pos += n;
		if (line[n - 1] != '\n')
			break; /* cut short: not a finished result */
		*good_end = pos;
		if ((size_t)n > RESUME_LINE_MAX)
			continue;
		json_t *o = json_loadb(line, (size_t)n, 0, NULL);
		const char *t = o ? json_string_value(json_object_get(o, "target"))
				  : NULL;
		if (t) {
			if (resume_add(s, t) < 0) {
				json_decref(o);
				free(line);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			count++;
		}
		json_decref(o);
	}
	bool bad = ferror(f);
	free(line);
	if (bad) {
		snprintf(err, errlen, "read error: %s", strerror(errno));
		return -1;
	}
	return count;
}

void resume_free(struct resume_set *s)
{
	free(s->slots);
	memset(s, 0, sizeof(*s));
}
