/*
 * fuzz_template: address templates (relay/technique): technique_expand
 * with a fuzzed template, fuzzed variables and a fuzzed output size,
 * checked against a reference expansion written here; every catalogue
 * template with the fuzzed variables; address literals and address
 * splitting on fuzzed text.
 *
 * Input: [output size: 2 bytes][NULL mask: 2 bytes] then NUL-separated
 * fields: template, from, user, ext_user, ext_domain, target_host,
 * target_domain, target_lit, tester_host, mailbox.
 */
#include "fuzz.h"

#include "relay/technique.h"

#define NVARS 9

static const char *const names[NVARS] = {
    "from", "user", "ext_user", "ext_domain", "target_host",
    "target_domain", "target_lit", "tester_host", "mailbox",
};

/* The reference: returns the expanded length, or -1 when expansion must
 * fail (unclosed '{', unknown name, NULL or empty value). {rand} is 12
 * characters; *has_rand says the output is not fully known. */
static long reference(const char *t, const char *const *vals, char *out,
		      size_t outcap, bool *has_rand)
{
	size_t o = 0;
	*has_rand = false;
	for (const char *p = t; *p;) {
		const char *val = NULL;
		size_t vlen = 0;
		if (*p == '{') {
			const char *end = strchr(p, '}');
			if (!end)
				return -1;
			size_t n = (size_t)(end - p - 1);
			bool found = false;
			for (int i = 0; i < NVARS; i++)
				if (strlen(names[i]) == n &&
				    memcmp(p + 1, names[i], n) == 0) {
					val = vals[i];
					found = true;
				}
			if (n == 4 && memcmp(p + 1, "rand", 4) == 0) {
				*has_rand = true;
				val = "????????????";
				found = true;
			}
			if (!found || !val || !*val)
				return -1;
			vlen = strlen(val);
			p = end + 1;
		} else {
			val = p;
			vlen = 1;
			p++;
		}
		if (o + vlen < outcap)
			memcpy(out + o, val, vlen);
		o += vlen;
	}
	if (o < outcap)
		out[o] = '\0';
	return (long)o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	size_t outsz = fz_u16(&f) % 700;
	uint16_t nullmask = fz_u16(&f);
	char *tmpl = fz_field(&f, '\0');
	char *fields[NVARS] = {0};
	const char *vals[NVARS];
	for (int i = 0; i < NVARS; i++) {
		fields[i] = fz_field(&f, '\0');
		vals[i] = (nullmask >> i) & 1 ? NULL : fields[i];
	}
	struct technique_vars v = {
	    .from = vals[0], .user = vals[1], .ext_user = vals[2],
	    .ext_domain = vals[3], .target_host = vals[4],
	    .target_domain = vals[5], .target_lit = vals[6],
	    .tester_host = vals[7], .mailbox = vals[8],
	};
	if (!tmpl)
		goto out;

	/* 1. The fuzzed template into an exactly-sized buffer. */
	char *buf = malloc(outsz ? outsz : 1);
	size_t refcap = 1024; /* > outsz: compared only when it fits */
	char *ref = malloc(refcap);
	if (buf && ref) {
		int rc = technique_expand(tmpl, &v, buf, outsz);
		bool has_rand;
		long want = reference(tmpl, vals, ref, refcap, &has_rand);
		bool fits = want >= 0 && (size_t)want < outsz;
		FZ_CHECK((rc == 0) == fits);
		if (rc == 0) {
			FZ_CHECK(strlen(buf) == (size_t)want);
			if (!has_rand)
				FZ_CHECK(strcmp(buf, ref) == 0);
		}
	}
	free(buf);
	free(ref);

	/* 2. The catalogue with these variables. */
	size_t n, nc;
	const struct technique *ts = technique_list(&n);
	const struct technique *cs = technique_controls(&nc);
	for (size_t i = 0; i < n + nc; i++) {
		const struct technique *t = i < n ? &ts[i] : &cs[i - n];
		char m[600], r[600];
		if (technique_expand(t->mail, &v, m, sizeof(m)) == 0)
			FZ_CHECK(strlen(m) < sizeof(m));
		if (technique_expand(t->rcpt, &v, r, sizeof(r)) == 0)
			FZ_CHECK(strlen(r) < sizeof(r));
		FZ_CHECK(technique_find(t->id) == t);
	}

	/* 3. Literals and address splitting on fuzzed text. */
	for (int i = 0; i < NVARS; i++) {
		if (!fields[i])
			continue;
		char lit[80];
		if (technique_address_literal(fields[i], lit, sizeof(lit)) == 0) {
			size_t l = strlen(lit);
			FZ_CHECK(l >= 3 && lit[0] == '[' && lit[l - 1] == ']');
		}
		char local[256], domain[256];
		if (technique_split_address(fields[i], local, sizeof(local),
					    domain, sizeof(domain)) == 0) {
			FZ_CHECK(local[0] && domain[0]);
			FZ_CHECK(strchr(domain, '@') == NULL);
			size_t ll = strlen(local);
			FZ_CHECK(strncmp(fields[i], local, ll) == 0 &&
				 fields[i][ll] == '@' &&
				 strcmp(fields[i] + ll + 1, domain) == 0);
		}
	}
out:
	free(tmpl);
	for (int i = 0; i < NVARS; i++)
		free(fields[i]);
	return 0;
}
