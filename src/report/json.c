/* JSON output: the "relayprobe/1" document (README: JSON fields). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <arpa/inet.h>

#include "audit/audit.h"
#include "core/util.h"
#include "dns/mx.h"
#include "report/report.h"

json_t *report_json_str(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	char *e = rp_escape_dup(s, strlen(s));
	j = json_string(e ? e : "");
	free(e);
	return j;
}

static json_t *reply_json(const struct smtp_reply *r)
{
	if (r->code == 0)
		return json_null();
	char *text = smtp_reply_text(r);
	json_t *o = json_pack("{s:i, s:o, s:o}", "code", r->code, "enhanced",
			      r->enhanced[0] ? report_json_str(r->enhanced) : json_null(),
			      "text", report_json_str(text ? text : ""));
	free(text);
	return o;
}

static json_t *test_json(const struct test_result *t)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "id", report_json_str(t->t->id));
	json_object_set_new(o, "name", report_json_str(t->t->name));
	json_object_set_new(o, "mail_from", report_json_str(t->mail_from));
	json_object_set_new(o, "rcpt_to", report_json_str(t->rcpt_to));
	json_object_set_new(o, "helo", report_json_str(t->helo));
	json_object_set_new(o, "tls", json_boolean(t->tls));
	json_object_set_new(o, "result", report_json_str(outcome_name(t->c.outcome)));
	json_object_set_new(o, "conclusive",
			    json_boolean(t->c.outcome == OUT_ACCEPTED &&
					 t->conclusive));
	json_object_set_new(o, "reason", report_json_str(reason_name(t->c.reason)));
	json_object_set_new(o, "stage",
			    report_json_str(t->reply.code == 0 ? NULL
				 : t->c.at_mail   ? "mail"
						  : "rcpt"));
	json_object_set_new(o, "reply", reply_json(&t->reply));
	json_object_set_new(o, "delivery", report_json_str(delivery_name(t->delivery)));
	json_object_set_new(o, "token", report_json_str(t->token[0] ? t->token : NULL));
	json_object_set_new(o, "data_reply", reply_json(&t->data_reply));
	json_object_set_new(o, "session", json_integer(t->session));
	json_object_set_new(o, "superseded", json_boolean(t->superseded));
	if (t->note)
		json_object_set_new(o, "note", report_json_str(t->note));
	return o;
}

static json_t *tests_json(const struct test_result *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, test_json(&v[i]));
	return a;
}

static json_t *strings_json(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, report_json_str(v[i]));
	return a;
}

static json_t *blocklists_json(const struct server_result *s)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < s->nblocklists; i++) {
		const struct bl_entry *e = &s->blocklists[i];
		json_t *codes = json_array();
		for (size_t k = 0; codes && k < e->ans.ncodes; k++) {
			char c[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &e->ans.codes[k], c, sizeof(c));
			json_array_append_new(
			    codes, json_pack("{s:o, s:o}", "code", report_json_str(c),
					     "meaning", report_json_str(e->meaning[k][0] ? e->meaning[k] : NULL)));
		}
		json_array_append_new(
		    a, json_pack("{s:o, s:o, s:o, s:o, s:o, s:i}", "zone",
				 report_json_str(e->zone_name), "status",
				 report_json_str(dnsbl_status_name(e->ans.status)), "codes",
				 codes, "txt", report_json_str(e->txt[0] ? e->txt : NULL),
				 "reason",
				 report_json_str(e->ans.reason[0] ? e->ans.reason : NULL),
				 "weight", e->weight));
	}
	return a;
}

static json_t *reputation_json(const struct server_result *s)
{
	if (!s->reputation_done)
		return json_null();
	json_t *d = json_array();
	for (size_t i = 0; d && i < s->reputation.n; i++)
		json_array_append_new(
		    d, json_pack("{s:i, s:o}", "points", s->reputation.d[i].points,
				 "reason", report_json_str(s->reputation.d[i].reason)));
	return json_pack("{s:i, s:o}", "score", s->reputation.score,
			 "deductions", d);
}

static json_t *mx_json(const struct mx_result *mx)
{
	if (!mx)
		return json_null();
	json_t *hosts = json_array();
	for (size_t i = 0; hosts && i < mx->nhosts; i++) {
		const struct mx_host *h = &mx->hosts[i];
		json_t *addrs = json_array();
		for (size_t k = 0; addrs && k < h->naddrs; k++)
			json_array_append_new(addrs, report_json_str(h->addrs[k].text));
		json_array_append_new(
		    hosts,
		    json_pack("{s:o, s:i, s:o, s:b, s:o, s:b}", "host",
			      report_json_str(h->name), "preference", h->preference,
			      "addresses", addrs, "cname", h->cname,
			      "canonical", report_json_str(h->cname ? h->canonical : NULL),
			      "ip_literal", h->ip_literal));
	}
	return json_pack("{s:o, s:o, s:o, s:o}", "domain", report_json_str(mx->domain),
			 "status", report_json_str(mx_kind_name(mx->kind)), "error",
			 report_json_str(mx->error[0] ? mx->error : NULL), "hosts", hosts);
}

json_t *report_mx_json(const struct mx_result *mx);
json_t *report_mx_json(const struct mx_result *mx)
{
	return mx_json(mx);
}

static json_t *server_json(const struct server_result *s, bool verbose)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "host", report_json_str(s->host));
	json_object_set_new(o, "address", report_json_str(s->address));
	json_object_set_new(o, "port", json_integer(s->port));
	json_object_set_new(o, "verdict", report_json_str(verdict_name(s->verdict)));
	json_object_set_new(o, "verdict_reason", report_json_str(s->verdict_reason));
	json_object_set_new(o, "error", report_json_str(s->error));
	json_object_set_new(o, "banner", report_json_str(s->banner));
	json_t *ehlo = json_array();
	for (size_t i = 0; ehlo && i < s->nehlo; i++)
		json_array_append_new(ehlo, report_json_str(s->ehlo[i]));
	json_object_set_new(o, "ehlo", ehlo);
	json_object_set_new(o, "ehlo_name", report_json_str(s->ehlo_name));
	json_object_set_new(o, "used_helo", json_boolean(s->used_helo));
	json_object_set_new(o, "tls", json_boolean(s->tls));
	json_object_set_new(o, "implicit_tls", json_boolean(s->implicit_tls));
	json_object_set_new(o, "starttls_offered",
			    json_boolean(s->starttls_offered));
	json_object_set_new(o, "tls_required", json_boolean(s->tls_required));
	json_object_set_new(o, "tls_version", report_json_str(s->tls_version));
	json_object_set_new(o, "tls_cipher", report_json_str(s->tls_cipher));
	json_object_set_new(o, "helo", report_json_str(s->helo_name));
	json_object_set_new(o, "local_address", report_json_str(s->local_address));
	json_object_set_new(o, "target_host", report_json_str(s->target_host));
	json_object_set_new(o, "target_host_source", report_json_str(s->target_host_source));
	json_object_set_new(o, "target_domain", report_json_str(s->target_domain));
	json_object_set_new(o, "target_domain_source",
			    report_json_str(s->target_domain_source));
	json_object_set_new(o, "mx_names", strings_json(s->mx_names, s->nmx_names));
	json_object_set_new(o, "dns_checked", json_boolean(s->dns_checked));
	json_object_set_new(o, "dns_skip_reason", report_json_str(s->dns_skip_reason));
	json_object_set_new(o, "ptr", strings_json(s->ptr, s->nptr));
	json_object_set_new(o, "ptr_status", report_json_str(s->ptr_status));
	json_object_set_new(o, "fcrdns", s->rdns_done ? json_boolean(s->fcrdns)
						      : json_null());
	json_object_set_new(o, "banner_matches_ptr",
			    s->banner_ptr_match < 0 || !s->rdns_done
				? json_null()
				: json_boolean(s->banner_ptr_match == 1));
	json_object_set_new(o, "blocklists", blocklists_json(s));
	json_object_set_new(o, "reputation", reputation_json(s));
	json_object_set_new(o, "tests", tests_json(s->tests, s->ntests));
	json_object_set_new(o, "controls",
			    tests_json(s->controls, s->ncontrols));
	json_t *f = json_array();
	for (size_t i = 0; f && i < s->findings.n; i++)
		json_array_append_new(
		    f, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "id",
				 report_json_str(s->findings.v[i].id), "severity",
				 report_json_str(severity_name(s->findings.v[i].sev)),
				 "title", report_json_str(s->findings.v[i].title),
				 "message", report_json_str(s->findings.v[i].message),
				 "evidence", report_json_str(s->findings.v[i].message),
				 "remediation", report_json_str(s->findings.v[i].fix)));
	json_object_set_new(o, "software",
			    json_pack("{s:o, s:o, s:o, s:o}", "id", report_json_str(s->mta),
				      "name", report_json_str(s->mta_name), "version",
				      report_json_str(s->mta_version), "evidence",
				      report_json_str(s->mta_evidence)));
	json_t *audit = json_object();
	if (audit && s->audited) {
		json_object_set_new(audit, "vrfy_postmaster", report_json_str(s->vrfy_reply));
		json_object_set_new(audit, "vrfy_random", report_json_str(s->vrfy_random_reply));
		json_object_set_new(audit, "expn_postmaster", report_json_str(s->expn_reply));
		json_object_set_new(audit, "auth_before_tls", report_json_str(s->auth_plain));
		static const char *const inj[] = {"not-tested", "safe",
						  "plaintext-reply", "reply-in-tls"};
		json_object_set_new(audit, "starttls_injection",
				    report_json_str(inj[s->injection >= 0 && s->injection < 4
						 ? s->injection : 0]));
		json_object_set_new(audit, "legacy_tls",
				    s->legacy_tls < 0 ? json_null()
						      : json_boolean(s->legacy_tls == 1));
		json_object_set_new(audit, "legacy_tls_version",
				    report_json_str(s->legacy_tls_version));
	} else {
		json_decref(audit);
		audit = json_null();
	}
	json_object_set_new(o, "audit", audit);
	const struct tls_cert_facts *c = &s->cert;
	json_object_set_new(
	    o, "certificate",
	    !c->present
		? json_null()
		: json_pack("{s:o, s:o, s:o, s:I, s:I, s:i, s:b, s:b, s:b, s:o, "
			    "s:o, s:o, s:i}",
			    "subject", report_json_str(c->subject), "issuer", report_json_str(c->issuer),
			    "names", report_json_str(c->sans), "not_before",
			    (json_int_t)c->not_before, "not_after",
			    (json_int_t)c->not_after, "days_left",
			    (int)c->days_left, "expired", c->expired,
			    "self_signed", c->self_signed, "chain_verified",
			    c->chain_ok, "verify_error",
			    report_json_str(c->verify_error[0] ? c->verify_error : NULL),
			    "name_checked", report_json_str(c->name_checked ? c->checked_name : NULL),
			    "name_matches",
			    c->name_checked ? json_boolean(c->name_ok) : json_null(),
			    "chain_length", c->chain_len));
	json_t *tm = json_object();
	if (tm) {
		const struct {
			const char *k;
			long v;
			int thr;
		} ts[] = {
		    {"connect_ms", s->t_connect_ms, AUDIT_CONNECT_SLOW_MS},
		    {"greeting_ms", s->t_greeting_ms, AUDIT_GREETING_SLOW_MS},
		    {"ehlo_ms", s->t_ehlo_ms, AUDIT_EHLO_SLOW_MS},
		    {"transaction_ms", s->t_txn_ms, AUDIT_TXN_SLOW_MS},
		};
		json_t *thr = json_object();
		for (size_t i = 0; i < RP_ARRAY_LEN(ts); i++) {
			json_object_set_new(tm, ts[i].k,
					    ts[i].v < 0 ? json_null()
							: json_integer(ts[i].v));
			json_object_set_new(thr, ts[i].k, json_integer(ts[i].thr));
		}
		json_object_set_new(tm, "thresholds", thr);
	}
	json_object_set_new(o, "timings", tm);
	json_object_set_new(o, "findings", f);
	json_t *tr = json_array();
	for (size_t i = 0; tr && i < s->transcript.n; i++) {
		const struct transcript_line *l = &s->transcript.v[i];
		char dir[2] = {l->dir, '\0'};
		json_array_append_new(
		    tr, json_pack("{s:i, s:I, s:o, s:o}", "session",
				  l->session, "ms", (json_int_t)l->ms, "dir",
				  report_json_str(dir), "line", report_json_str(l->text)));
	}
	json_object_set_new(o, "transcript", tr);
	json_object_set_new(o, "transcript_dropped",
			    json_integer((json_int_t)s->transcript.dropped));
	json_object_set_new(o, "sessions", json_integer(s->sessions));
	json_object_set_new(o, "duration_ms", json_integer(s->duration_ms));
	json_object_set_new(o, "connect_ms", json_integer(s->connect_ms));
	(void)verbose;
	return o;
}

static json_t *target_json(const struct check_result *r, bool verbose)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "target", report_json_str(r->target));
	json_object_set_new(o, "verdict", report_json_str(verdict_name(r->verdict)));
	json_object_set_new(o, "error", report_json_str(r->error));
	json_object_set_new(o, "mx", mx_json(r->mx));
	json_object_set_new(o, "null_mx", json_boolean(r->null_mx));
	json_t *a = json_array();
	for (size_t i = 0; a && i < r->nservers; i++)
		json_array_append_new(a, server_json(&r->servers[i], verbose));
	json_object_set_new(o, "servers", a);
	return o;
}

json_t *report_target_json(const struct check_result *r, bool verbose)
{
	return target_json(r, verbose);
}

/* The document of one target without version and exit code. */
static json_t *single_json(const struct check_result *r, bool verbose)
{
	json_t *doc = json_object();
	json_t *t = target_json(r, verbose);
	if (doc && t) {
		json_object_set_new(doc, "schema", report_json_str("relayprobe/1"));
		json_object_update(doc, t);
	} else {
		json_decref(doc);
		doc = NULL;
	}
	json_decref(t);
	return doc;
}

json_t *report_result_json(const struct check_result *r)
{
	json_t *doc = single_json(r, true);
	if (!doc)
		return NULL;
	json_object_set_new(doc, "version", report_json_str(RELAYPROBE_VERSION));
	json_object_set_new(doc, "exit_code",
			    json_integer(verdict_exit_code(r->verdict)));
	return doc;
}

static int render(FILE *out, struct check_result *const *results, size_t n,
		  enum verdict overall, const struct report_options *opt)
{
	json_t *doc;
	if (n == 1) {
		doc = single_json(results[0], opt->verbose);
	} else {
		doc = json_object();
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(a, target_json(results[i],
							     opt->verbose));
		if (doc) {
			json_object_set_new(doc, "schema", report_json_str("relayprobe/1"));
			json_object_set_new(doc, "verdict",
					    report_json_str(verdict_name(overall)));
			json_object_set_new(doc, "targets", a);
		} else {
			json_decref(a);
		}
	}
	if (!doc)
		return -1;
	json_object_set_new(doc, "version", report_json_str(RELAYPROBE_VERSION));
	json_object_set_new(doc, "exit_code",
			    json_integer(verdict_exit_code(overall)));
	int rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(doc);
	return rc == 0 ? 0 : -1;
}

const struct report_ops report_json = {
	.name = "json",
	.render = render,
};
