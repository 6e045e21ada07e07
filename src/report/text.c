/* Terminal report: what a postmaster reads; -v adds the C:/S: dialogue. */
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "core/util.h"
#include "dns/mx.h"
#include "report/report.h"

#define RED "\033[1;31m"
#define YELLOW "\033[1;33m"
#define GREEN "\033[1;32m"
#define MAGENTA "\033[1;35m"
#define DIM "\033[2m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

static const char *verdict_color(enum verdict v)
{
	switch (v) {
	case V_OPEN:
		return RED;
	case V_SUSPECT:
	case V_INCONCLUSIVE:
		return YELLOW;
	case V_CLOSED:
		return GREEN;
	case V_UNREACHABLE:
	case V_LAST:
		return MAGENTA;
	}
	return "";
}

static void upper(const char *in, char *out, size_t sz)
{
	size_t i = 0;
	for (; in[i] && i + 1 < sz; i++)
		out[i] = (char)(in[i] >= 'a' && in[i] <= 'z' ? in[i] - 32 : in[i]);
	out[i] = '\0';
}

static void print_verdict(FILE *out, enum verdict v, const struct report_options *o)
{
	char up[32];
	upper(verdict_name(v), up, sizeof(up));
	if (o->color)
		fprintf(out, "%s%s%s", verdict_color(v), up, RESET);
	else
		fputs(up, out);
}

/* User-typed strings are escaped too: they reach a terminal. */
static void put_escaped(FILE *out, const char *s)
{
	char *e = rp_escape_dup(s ? s : "", s ? strlen(s) : 0);
	fputs(e ? e : "?", out);
	free(e);
}

static void print_reply(FILE *out, const struct smtp_reply *r)
{
	if (r->code == 0) {
		fputs("-", out);
		return;
	}
	fprintf(out, "%d", r->code);
	if (r->enhanced[0])
		fprintf(out, " %s", r->enhanced);
	if (r->nlines)
		fprintf(out, " %s", r->lines[0]);
	if (r->nlines > 1)
		fprintf(out, " (+%zu lines)", r->nlines - 1);
}

static void print_tests(FILE *out, const char *title,
			const struct test_result *v, size_t n,
			const struct report_options *o)
{
	if (n == 0)
		return;
	fprintf(out, "  %s:\n", title);
	for (size_t i = 0; i < n; i++) {
		const struct test_result *t = &v[i];
		const char *res = outcome_name(t->c.outcome);
		const char *col = "";
		if (t->c.outcome == OUT_ACCEPTED)
			col = t->conclusive ? RED : YELLOW;
		else if (t->c.outcome == OUT_REJECTED)
			col = GREEN;
		else if (t->c.outcome != OUT_SKIPPED)
			col = YELLOW;
		fprintf(out, "    %s%-13s%s ", o->color && t->superseded ? DIM : "",
			t->t->id, "");
		fprintf(out, "%-24s", t->t->name);
		if (o->color)
			fprintf(out, " %s%-13s%s", col, res, RESET);
		else
			fprintf(out, " %-13s", res);
		fprintf(out, " %-20s", t->c.reason == R_NONE
					   ? (t->c.outcome == OUT_ACCEPTED &&
							      t->t->kind != RCPT_CONTROL
						  ? (t->conclusive ? "conclusive"
								   : "inconclusive")
						  : "")
					   : reason_name(t->c.reason));
		if (t->tls)
			fputs(" [TLS]", out);
		if (t->superseded)
			fputs(" [superseded]", out);
		fputc('\n', out);
		fputs("        ", out);
		if (t->helo && t->t->helo == HELO_TARGET) {
			fputs("EHLO ", out);
			put_escaped(out, t->helo);
			fputs(", ", out);
		}
		fputs("MAIL FROM:", out);
		put_escaped(out, t->mail_from);
		fputs(" RCPT TO:", out);
		put_escaped(out, t->rcpt_to);
		fputs("\n        -> ", out);
		if (t->note && t->reply.code == 0)
			put_escaped(out, t->note);
		else
			print_reply(out, &t->reply);
		if (t->delivery != DELIVERY_NOT_ATTEMPTED || t->token[0]) {
			fprintf(out, "\n        DATA: %s", delivery_name(t->delivery));
			if (t->data_reply.code) {
				fputs(", ", out);
				print_reply(out, &t->data_reply);
			}
			if (t->token[0])
				fprintf(out, " (token %s)", t->token);
			if (t->note && t->reply.code != 0) {
				fputs("; ", out);
				put_escaped(out, t->note);
			}
		}
		if (o->color)
			fputs(RESET, out);
		fputc('\n', out);
	}
}

void report_blocklist_line(FILE *out, const struct bl_entry *e,
			   const char *indent)
{
	fprintf(out, "%s%-28s %-11s", indent, e->zone_name,
		dnsbl_status_name(e->ans.status));
	for (size_t k = 0; k < e->ans.ncodes; k++) {
		char c[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &e->ans.codes[k], c, sizeof(c));
		fprintf(out, " %s (%s)", c,
			e->meaning[k][0] ? e->meaning[k] : "undocumented code");
	}
	if (e->ans.reason[0])
		fprintf(out, " %s", e->ans.reason);
	if (e->txt[0])
		fprintf(out, " \"%s\"", e->txt);
	fputc('\n', out);
}

static void print_server(FILE *out, const struct server_result *s,
			 const struct report_options *o)
{
	fprintf(out, "\n");
	if (o->color)
		fputs(BOLD, out);
	fprintf(out, "Server %s port %u", s->address, s->port);
	if (s->host && strcmp(s->host, s->address) != 0) {
		fputs(" (", out);
		put_escaped(out, s->host);
		fputs(")", out);
	}
	if (o->color)
		fputs(RESET, out);
	fputs("\n  Verdict:  ", out);
	print_verdict(out, s->verdict, o);
	if (s->verdict_reason) {
		fputs(" - ", out);
		put_escaped(out, s->verdict_reason);
	}
	fputc('\n', out);
	if (s->banner) {
		fprintf(out, "  Banner:   %d ", s->banner_code);
		fputs(s->banner, out);
		fputc('\n', out);
	}
	if (s->nehlo || s->ehlo_name) {
		fprintf(out, "  %s:     %s", s->used_helo ? "HELO" : "EHLO",
			s->ehlo_name ? s->ehlo_name : "");
		for (size_t i = 0; i < s->nehlo; i++)
			fprintf(out, "%s%s", i ? ", " : " offers ", s->ehlo[i]);
		fputc('\n', out);
	}
	if (s->verdict != V_UNREACHABLE) {
		fputs("  TLS:      ", out);
		if (s->tls)
			fprintf(out, "%s, %s%s", s->tls_version ? s->tls_version : "?",
				s->tls_cipher ? s->tls_cipher : "?",
				s->implicit_tls ? " (implicit)"
				: s->tls_required ? " (STARTTLS required by the server)"
						  : " (STARTTLS)");
		else if (s->tls_required)
			fputs("required by the server, but the upgrade failed", out);
		else
			fprintf(out, "not used%s",
				s->starttls_offered ? " (STARTTLS offered)"
						    : " (STARTTLS not offered)");
		fputc('\n', out);
		if (s->target_host) {
			fprintf(out, "  Names:    host %s (%s), domain %s (%s); we said EHLO %s from %s\n",
				s->target_host, s->target_host_source,
				s->target_domain, s->target_domain_source,
				s->helo_name ? s->helo_name : "?",
				s->local_address ? s->local_address : "?");
		}
	}
	if (s->dns_checked) {
		fputs("  rDNS:     ", out);
		if (s->nptr) {
			for (size_t i = 0; i < s->nptr; i++)
				fprintf(out, "%s%s", i ? ", " : "", s->ptr[i]);
			fprintf(out, " (%s)", s->fcrdns ? "forward-confirmed"
							: "NOT forward-confirmed");
		} else {
			fprintf(out, "no PTR (%s)", s->ptr_status ? s->ptr_status : "?");
		}
		fputc('\n', out);
		if (s->nblocklists) {
			size_t listed = 0, unknown = 0, unusable = 0;
			for (size_t i = 0; i < s->nblocklists; i++) {
				enum dnsbl_status st = s->blocklists[i].ans.status;
				listed += st == DNSBL_LISTED;
				unknown += st == DNSBL_UNKNOWN;
				unusable += st == DNSBL_UNUSABLE;
			}
			fprintf(out, "  Blocklists: %zu checked, %zu listed, %zu unknown, %zu unusable\n",
				s->nblocklists, listed, unknown, unusable);
			for (size_t i = 0; i < s->nblocklists; i++)
				report_blocklist_line(out, &s->blocklists[i], "    ");
		}
		if (s->reputation_done) {
			fprintf(out, "  Reputation: %d/100\n", s->reputation.score);
			for (size_t i = 0; i < s->reputation.n; i++)
				fprintf(out, "    -%d %s\n", s->reputation.d[i].points,
					s->reputation.d[i].reason);
		}
	} else if (s->dns_skip_reason && s->verdict != V_UNREACHABLE) {
		fprintf(out, "  DNS:      not checked (%s)\n", s->dns_skip_reason);
	}
	print_tests(out, "Controls", s->controls, s->ncontrols, o);
	print_tests(out, "Techniques", s->tests, s->ntests, o);
	if (s->mta && strcmp(s->mta, "unknown") != 0)
		fprintf(out, "  Software: %s%s%s\n", s->mta_name,
			s->mta_version ? " " : "",
			s->mta_version ? s->mta_version : "");
	if (s->cert.present) {
		const struct tls_cert_facts *c = &s->cert;
		fprintf(out, "  Cert:     %s, issuer %s, %s%ld days left%s%s\n",
			c->subject, c->issuer, c->expired ? "EXPIRED, " : "",
			c->days_left, c->chain_ok ? ", chain verified" : ", chain NOT verified",
			c->name_checked ? (c->name_ok ? ", name matches" : ", name does NOT match") : "");
	}
	if (s->t_connect_ms >= 0)
		fprintf(out, "  Timings:  connect %ld ms, greeting %ld ms, EHLO %ld ms, transaction %ld ms\n",
			s->t_connect_ms, s->t_greeting_ms, s->t_ehlo_ms, s->t_txn_ms);
	/* Findings grouped by severity, worst first. */
	if (s->findings.n) {
		fputs("  Findings:\n", out);
		for (int sev = SEV_CRITICAL; sev >= SEV_INFO; sev--) {
			for (size_t i = 0; i < s->findings.n; i++) {
				const struct finding *f = &s->findings.v[i];
				if ((int)f->sev != sev)
					continue;
				const char *col = f->sev == SEV_CRITICAL ? RED
						  : f->sev == SEV_WARNING ? YELLOW
									  : "";
				fprintf(out, "    %s[%s]%s %s%s%s%s: %s\n",
					o->color ? col : "", severity_name(f->sev),
					o->color ? RESET : "", f->title ? f->title : "",
					f->title ? " (" : "", f->id, f->title ? ")" : "",
					f->message);
				if (f->fix)
					fprintf(out, "        fix: %s\n", f->fix);
			}
		}
	}
	fprintf(out, "  Took %.2f s over %d session%s.\n",
		(double)s->duration_ms / 1000.0, s->sessions,
		s->sessions == 1 ? "" : "s");
	if (o->verbose && s->transcript.n) {
		fputs("  Transcript:\n", out);
		for (size_t i = 0; i < s->transcript.n; i++) {
			const struct transcript_line *l = &s->transcript.v[i];
			fprintf(out, "    [%d +%ld.%03lds] %s%c%s %s%s\n", l->session,
				l->ms / 1000, l->ms % 1000,
				o->color && l->dir == '*' ? DIM : "", l->dir,
				l->dir == '*' ? "" : ":", l->text,
				o->color && l->dir == '*' ? RESET : "");
		}
		if (s->transcript.dropped)
			fprintf(out, "    (%zu more lines not kept)\n",
				s->transcript.dropped);
	}
}

static int render(FILE *out, struct check_result *const *results, size_t n,
		  enum verdict overall, const struct report_options *o)
{
	for (size_t i = 0; i < n; i++) {
		const struct check_result *r = results[i];
		if (o->color)
			fputs(BOLD, out);
		fputs("Target ", out);
		put_escaped(out, r->target);
		if (o->color)
			fputs(RESET, out);
		fputs(": ", out);
		print_verdict(out, r->verdict, o);
		fputc('\n', out);
		if (r->mx) {
			fprintf(out, "  MX (%s):", mx_kind_name(r->mx->kind));
			if (r->mx->nhosts == 0)
				fputs(" none", out);
			fputc('\n', out);
			for (size_t h = 0; h < r->mx->nhosts; h++) {
				const struct mx_host *mh = &r->mx->hosts[h];
				fprintf(out, "    %3d %s", mh->preference, mh->name);
				if (mh->cname)
					fprintf(out, " (CNAME to %s: MX must not be an alias)", mh->canonical);
				if (mh->ip_literal)
					fputs(" (an IP address, not a host name)", out);
				for (size_t a = 0; a < mh->naddrs; a++)
					fprintf(out, "%s%s", a ? ", " : " -> ", mh->addrs[a].text);
				if (!mh->naddrs)
					fputs(" -> no address", out);
				fputc('\n', out);
			}
			if (r->null_mx)
				fprintf(out, "  %s\n", r->mx->error);
		}
		if (r->error) {
			fputs("  Error: ", out);
			put_escaped(out, r->error);
			fputc('\n', out);
		}
		for (size_t k = 0; k < r->nservers; k++)
			print_server(out, &r->servers[k], o);
		fputc('\n', out);
	}
	fputs("Overall: ", out);
	print_verdict(out, overall, o);
	fprintf(out, " (exit %d)\n", verdict_exit_code(overall));
	return ferror(out) ? -1 : 0;
}

const struct report_ops report_text = {
	.name = "text",
	.render = render,
};
