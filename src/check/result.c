#include "check/result.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "dns/mx.h"

int transcript_add(struct transcript *t, int session, long ms, char dir,
		   const char *text)
{
	if (t->n >= t->max) {
		t->dropped++;
		return 0;
	}
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		struct transcript_line *nv = realloc(t->v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		t->v = nv;
		t->cap = nc;
	}
	char *copy = rp_strdup(text);
	if (!copy)
		return -1;
	t->v[t->n++] = (struct transcript_line){session, ms, dir, copy};
	return 0;
}

void transcript_clear(struct transcript *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].text);
	free(t->v);
	size_t max = t->max;
	memset(t, 0, sizeof(*t));
	t->max = max;
}

void server_result_clear(struct server_result *s)
{
	free(s->host);
	free(s->verdict_reason);
	free(s->error);
	free(s->banner);
	for (size_t i = 0; i < s->nehlo; i++)
		free(s->ehlo[i]);
	free(s->ehlo);
	free(s->ehlo_name);
	free(s->tls_version);
	free(s->tls_cipher);
	free(s->helo_name);
	free(s->local_address);
	free(s->target_host);
	free(s->target_host_source);
	free(s->target_domain);
	free(s->target_domain_source);
	for (size_t i = 0; i < s->ntests; i++)
		test_result_clear(&s->tests[i]);
	free(s->tests);
	for (size_t i = 0; i < s->ncontrols; i++)
		test_result_clear(&s->controls[i]);
	free(s->controls);
	findings_clear(&s->findings);
	free(s->dns_skip_reason);
	free(s->mta);
	free(s->mta_name);
	free(s->mta_version);
	free(s->mta_evidence);
	free(s->vrfy_reply);
	free(s->vrfy_random_reply);
	free(s->expn_reply);
	free(s->auth_plain);
	free(s->legacy_tls_version);
	free(s->ptr_status);
	for (size_t i = 0; i < s->nptr; i++)
		free(s->ptr[i]);
	free(s->ptr);
	free(s->fcrdns_name);
	free(s->blocklists);
	for (size_t i = 0; i < s->nmx_names; i++)
		free(s->mx_names[i]);
	free(s->mx_names);
	transcript_clear(&s->transcript);
	memset(s, 0, sizeof(*s));
}

void check_result_free(struct check_result *c)
{
	if (!c)
		return;
	free(c->target);
	free(c->error);
	mx_result_free(c->mx);
	for (size_t i = 0; i < c->nservers; i++)
		server_result_clear(&c->servers[i]);
	free(c->servers);
	free(c);
}
