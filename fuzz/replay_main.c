/*
 * fuzz/replay_main.c: a plain main() for the fuzz targets, after c-ares's
 * test/ares-fuzz.c. Replays every file named on the command line (a
 * directory means every regular file in it, recursively) through
 * LLVMFuzzerTestOneInput, each copied into a malloc'd buffer of exactly
 * its size so an overread hits the end of the allocation (ASan, valgrind)
 * instead of a larger buffer. Built with the ordinary compiler; CTest runs
 * it on fuzz/corpus/TARGET (label "fuzz").
 *
 * Exit status: 0 when at least one input was replayed and none crashed, 1
 * on an unreadable file or no input at all (an empty corpus is a mistake).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static size_t replayed;

static int replay_file(const char *path, off_t size)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t n = (size_t)size;
	/* malloc(0) may return NULL: keep one byte but pass size 0. */
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf) {
		fclose(f);
		fprintf(stderr, "replay: %s: out of memory\n", path);
		return -1;
	}
	size_t got = n ? fread(buf, 1, n, f) : 0;
	fclose(f);
	if (got != n) {
		free(buf);
		fprintf(stderr, "replay: %s: short read\n", path);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	replayed++;
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISREG(st.st_mode))
		return replay_file(path, st.st_size);
	if (!S_ISDIR(st.st_mode))
		return 0;
	DIR *d = opendir(path);
	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* Sorted, so a failure names the same input on every run. */
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **v = realloc(names, cap * sizeof(*v));
			if (!v) {
				rc = -1;
				break;
			}
			names = v;
		}
		size_t len = strlen(path) + 1 + strlen(e->d_name) + 1;
		names[n] = malloc(len);
		if (!names[n]) {
			rc = -1;
			break;
		}
		snprintf(names[n], len, "%s/%s", path, e->d_name);
		n++;
	}
	closedir(d);
	if (rc == 0 && n > 1)
		qsort(names, n, sizeof(*names), compare_names);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && replay_path(names[i]) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 1;
	}
	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i]) < 0)
			return 1;
	if (replayed == 0) {
		fprintf(stderr, "replay: no input found\n");
		return 1;
	}
	printf("replayed %zu inputs\n", replayed);
	return 0;
}
