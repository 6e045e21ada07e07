#include "check/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check/check.h"
#include "check/vantage.h"
#include "core/util.h"
#include "net/session.h"
#include "relay/classify.h"
#include "relay/probe_message.h"
#include "relay/technique.h"
#include "smtp/ehlo.h"

#define MAX_SLOTS 16
#define ADDR_MAX 600

enum item_state { ITEM_PENDING, ITEM_RUNNING, ITEM_DONE };

struct item {
	const struct technique *t;
	bool control;
	enum item_state state;
	int attempts;
	bool want_tls;
	bool retried;
	long last; /* index of its latest result, -1 */
	/* Heap strings of their own length: a scan keeps thousands of
	 * checks alive, fixed buffers would cost 1.8 KB per item. */
	char *mail;
	char *rcpt;
	char *plain_from;            /* "<from>": fallback sender */
	bool sender_fallback;        /* retried with plain_from */
	char token[PROBE_TOKEN_MAX]; /* delivery probe, "" when none */
	char *message;               /* probe message, or NULL */
};

enum slot_kind {
	SLOT_PROBE,  /* runs test items */
	SLOT_INJECT, /* audit: STARTTLS injection probe, certificate */
	SLOT_LEGACY, /* audit: does the server still accept TLS 1.0/1.1? */
};

struct slot {
	struct server_check *sc;
	struct session *s;
	enum slot_kind kind;
	int id;
	enum helo_kind helo;
	bool tls;      /* opened to use TLS (required or implicit) */
	bool ready;
	bool dead;     /* closed; free from the loop */
	bool gated;    /* holds a connection from cfg->gate */
	int assigned;
	int outstanding;
};

struct server_check {
	struct event_base *base;
	SSL_CTX *ctx;
	const struct check_config *cfg;
	struct server_result *res;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	server_done_cb done;
	void *arg;

	struct item *items;
	size_t nitems;
	struct slot *slots[MAX_SLOTS];
	size_t nslots;
	int next_id;

	bool names_ready;
	bool any_ready;
	bool tls_needed;  /* the server said STARTTLS first */
	bool tls_broken;  /* and the upgrade could not be made */
	int early_failures; /* sessions failed before any was ready */
	int slot_failures;  /* sessions failed before ready, later on */
	int closings;
	bool backing_off;
	bool retry_armed;
	bool finished;
	bool unreachable; /* gave up before any session was ready */
	char *first_error;
	char helo_name[300];
	char target_lit[80];
	char run_id[12];  /* per server: tokens say which server relayed */
	struct timespec t0;
	int audit_tags[3]; /* addresses mark VRFY/VRFY-random/EXPN replies */
	long txn_t0;       /* when the first test was queued, -1 */
	bool mail_accepted; /* some session had a MAIL accepted: later
			       sessions open the whole pipelining window */
	struct event *kick;
	struct event *delay;
	/* Politeness (cfg->gate): a session waits for the gate's grant. */
	struct gate_waiter gw;
	bool gate_waiting;   /* queued at the gate: not a failure, wait */
	bool want_inject;    /* audit sessions the gate has not granted yet */
	bool want_legacy;
};

static long elapsed_ms(const struct server_check *sc)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - sc->t0.tv_sec) * 1000 +
	       (now.tv_nsec - sc->t0.tv_nsec) / 1000000;
}

/* Every transcript line goes through here: stored (up to the cap) and
 * shown to the job's observer (serve streams it live). */
static void record_line(struct server_check *sc, int session, char dir,
			const char *text)
{
	long ms = elapsed_ms(sc);
	transcript_add(&sc->res->transcript, session, ms, dir, text);
	const struct check_observer *o = sc->cfg->observer;
	if (o && o->line) {
		struct transcript_line l = {session, ms, dir, (char *)text};
		o->line(o->arg, sc->res, &l);
	}
}

static void note(struct server_check *sc, int session, const char *fmt, ...)
    RP_PRINTF(3, 4);
static void note(struct server_check *sc, int session, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	record_line(sc, session, '*', buf);
}

static void schedule(struct server_check *sc)
{
	event_active(sc->kick, EV_TIMEOUT, 0);
}

/* ---------- names ---------- */

/* Our EHLO name: --helo, else a host name for this machine if it has a
 * valid one, else the address literal of the address we will connect
 * from (RFC 5321 §4.1.4). */
static void choose_helo(struct server_check *sc)
{
	const struct check_config *cfg = sc->cfg;
	if (cfg->helo) {
		snprintf(sc->helo_name, sizeof(sc->helo_name), "%s", cfg->helo);
		return;
	}
	char host[256];
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		if (smtp_valid_hostname(host)) {
			snprintf(sc->helo_name, sizeof(sc->helo_name), "%s",
				 host);
			return;
		}
	}
	char local[INET6_ADDRSTRLEN] = "";
	if (vantage_local_address(&sc->addr, sc->addrlen,
				  cfg->source ? &cfg->source_ss : NULL,
				  cfg->source_len, local, sizeof(local)) == 0 &&
	    technique_address_literal(local, sc->helo_name,
				      sizeof(sc->helo_name)) == 0)
		return;
	snprintf(sc->helo_name, sizeof(sc->helo_name), "relayprobe.invalid");
}

static void derive_names(struct server_check *sc, struct slot *sl)
{
	struct server_result *res = sc->res;
	struct smtp_client *c = session_client(sl->s);
	char name[256];
	smtp_greeting_name(smtp_client_greeting(c), name, sizeof(name));
	const struct smtp_ehlo *e = smtp_client_ehlo(c);
	const char *host = NULL, *src = NULL;
	if (smtp_valid_hostname(name)) {
		host = name;
		src = "banner";
	} else if (e->name && smtp_valid_hostname(e->name)) {
		host = e->name;
		src = "ehlo";
	} else if (res->host && smtp_valid_hostname(res->host)) {
		host = res->host;
		src = "target";
	} else {
		host = sc->target_lit;
		src = "literal";
	}
	size_t hl = strlen(host);
	char hostbuf[256];
	snprintf(hostbuf, sizeof(hostbuf), "%.*s", (int)(hl && host[hl - 1] == '.' ? hl - 1 : hl), host);
	res->target_host = rp_strdup(hostbuf);
	res->target_host_source = rp_strdup(src);
	if (sc->cfg->domain) {
		res->target_domain = rp_strdup(sc->cfg->domain);
		res->target_domain_source = rp_strdup("option");
	} else {
		const char *d = hostbuf;
		const char *dot = strchr(hostbuf, '.');
		/* mx.example.com -> example.com; example.com stays. */
		if (dot && strchr(dot + 1, '.') && hostbuf[0] != '[')
			d = dot + 1;
		res->target_domain = rp_strdup(d);
		res->target_domain_source = rp_strdup("derived");
	}
}

static bool only_selected(const struct check_config *cfg, const char *id)
{
	if (!cfg->only)
		return true;
	size_t n = strlen(id);
	for (const char *p = cfg->only; *p;) {
		const char *end = strchr(p, ',');
		size_t l = end ? (size_t)(end - p) : strlen(p);
		if (l == n && strncasecmp(p, id, n) == 0)
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

static int add_result(struct server_check *sc, struct item *it,
		      struct test_result *r)
{
	struct server_result *res = sc->res;
	struct test_result **arr = it->control ? &res->controls : &res->tests;
	size_t *n = it->control ? &res->ncontrols : &res->ntests;
	struct test_result *nv = realloc(*arr, (*n + 1) * sizeof(*nv));
	if (!nv) {
		test_result_clear(r);
		return -1;
	}
	*arr = nv;
	if (it->last >= 0)
		(*arr)[it->last].superseded = true;
	(*arr)[*n] = *r;
	it->last = (long)*n;
	(*n)++;
	return 0;
}

static void record_plain(struct server_check *sc, struct item *it,
			 enum outcome o, enum reason rs, const char *why)
{
	struct test_result r = {0};
	r.t = it->t;
	r.mail_from = rp_strdup(it->mail);
	r.rcpt_to = rp_strdup(it->rcpt);
	r.helo = rp_strdup(it->t->helo == HELO_TARGET ? sc->res->target_host
							 : sc->helo_name);
	r.c.outcome = o;
	r.c.reason = rs;
	r.note = why ? rp_strdup(why) : NULL;
	add_result(sc, it, &r);
}

static int build_items(struct server_check *sc)
{
	const struct check_config *cfg = sc->cfg;
	struct server_result *res = sc->res;
	size_t nt, nc;
	const struct technique *ts = technique_list(&nt);
	const struct technique *cs = technique_controls(&nc);
	sc->items = calloc(nt + nc, sizeof(*sc->items));
	if (!sc->items)
		return -1;
	char user[256], ext_user[256], ext_domain[256], tdom[256];
	if (technique_split_address(cfg->from, user, sizeof(user), tdom,
				    sizeof(tdom)) < 0)
		snprintf(user, sizeof(user), "relayprobe");
	if (technique_split_address(cfg->to, ext_user, sizeof(ext_user),
				    ext_domain, sizeof(ext_domain)) < 0)
		return -1;
	struct technique_vars v = {
	    .from = cfg->from,
	    .user = user,
	    .ext_user = ext_user,
	    .ext_domain = ext_domain,
	    .target_host = res->target_host,
	    .target_domain = res->target_domain,
	    .target_lit = sc->target_lit,
	    .tester_host = sc->helo_name,
	    .mailbox = cfg->mailbox,
	};
	bool probing = cfg->confirm || cfg->send_to;
	char probe_user[256], probe_domain[256];
	if (cfg->send_to &&
	    technique_split_address(cfg->send_to, probe_user, sizeof(probe_user),
				    probe_domain, sizeof(probe_domain)) < 0)
		return -1;
	/* scan --checks without relay: no MAIL/RCPT at all. */
	for (size_t i = 0; !cfg->no_relay && i < nc + nt; i++) {
		const struct technique *t = i < nc ? &cs[i] : &ts[i - nc];
		if (i >= nc && !only_selected(cfg, t->id))
			continue;
		struct item *it = &sc->items[sc->nitems++];
		/* Delivery probes go only to addresses the user named or owns:
		 * techniques, never controls. */
		v.ext_user = ext_user;
		v.ext_domain = ext_domain;
		if (probing && i >= nc &&
		    probe_token(sc->run_id, t->id, it->token, sizeof(it->token)) == 0) {
			if (cfg->confirm) {
				v.ext_user = it->token;
				v.ext_domain = cfg->confirm_domain;
				/* No probe the receiver cannot recognise. */
				if (cfg->rcv &&
				    receiver_expect(cfg->rcv, it->token) < 0)
					it->token[0] = '\0';
			} else {
				v.ext_user = probe_user;
				v.ext_domain = probe_domain;
			}
		}
		it->t = t;
		it->control = i < nc;
		it->last = -1;
		if (t->needs_mailbox && !cfg->mailbox) {
			it->state = ITEM_DONE;
			it->mail = rp_strdup("-");
			it->rcpt = rp_strdup("-");
			if (!it->mail || !it->rcpt)
				return -1;
			record_plain(sc, it, OUT_SKIPPED, R_NOT_APPLICABLE,
				     "no mailbox of yours named (--mailbox)");
			continue;
		}
		char mbuf[ADDR_MAX], rbuf[ADDR_MAX];
		if (technique_expand(t->mail, &v, mbuf, sizeof(mbuf)) < 0 ||
		    technique_expand(t->rcpt, &v, rbuf, sizeof(rbuf)) < 0) {
			it->mail = rp_strdup("-");
			it->rcpt = rp_strdup("-");
			if (!it->mail || !it->rcpt)
				return -1;
			it->state = ITEM_DONE;
			record_plain(sc, it, OUT_SKIPPED, R_NOT_APPLICABLE,
				     "address template could not be filled");
			continue;
		}
		it->mail = rp_strdup(mbuf);
		it->rcpt = rp_strdup(rbuf);
		if (!it->mail || !it->rcpt)
			return -1;
		if (it->token[0]) {
			char to[ADDR_MAX], tech[128], target[160];
			size_t rl = strlen(it->rcpt);
			const char *r0 = it->rcpt[0] == '<' ? it->rcpt + 1 : it->rcpt;
			snprintf(to, sizeof(to), "%.*s",
				 (int)(rl - (size_t)(r0 - it->rcpt) -
				       (rl && it->rcpt[rl - 1] == '>' ? 1 : 0)),
				 r0);
			snprintf(tech, sizeof(tech), "%s %s", t->id, t->name);
			snprintf(target, sizeof(target), "%s port %u (%s)",
				 res->address, res->port,
				 res->target_host ? res->target_host : "?");
			struct probe_message_params mp = {
			    .from = cfg->from,
			    .to = to,
			    .token = it->token,
			    .technique = tech,
			    .target = target,
			    .tester = sc->helo_name,
			    .now = time(NULL),
			};
			it->message = probe_message(&mp);
			if (!it->message)
				return -1;
		}
		it->plain_from = rp_asprintf("<%s>", cfg->from);
		if (!it->plain_from)
			return -1;
		it->state = ITEM_PENDING;
	}
	return 0;
}

/* ---------- sessions ---------- */

static void sl_ready(void *arg);
static void sl_txn_done(void *arg, struct smtp_txn *t);
static void sl_idle(void *arg);
static void sl_closed(void *arg, enum smtp_failure f, const char *why);
static void sl_line(void *arg, char dir, const char *line);

static bool slot_tls_active(const struct slot *sl)
{
	return smtp_client_tls_active(session_client(sl->s));
}

static bool compatible(const struct server_check *sc, const struct slot *sl,
		       const struct item *it)
{
	if (it->state != ITEM_PENDING || sl->kind != SLOT_PROBE)
		return false;
	if (it->t->helo != sl->helo)
		return false;
	bool need_tls = it->want_tls || sc->tls_needed;
	if (need_tls && !slot_tls_active(sl))
		return false;
	return true;
}

static void fill(struct slot *sl)
{
	struct server_check *sc = sl->sc;
	if (!sl->ready || sl->dead || !sc->names_ready)
		return;
	for (size_t i = 0; i < sc->nitems &&
			   sl->assigned < sc->cfg->per_session; i++) {
		struct item *it = &sc->items[i];
		if (!compatible(sc, sl, it))
			continue;
		if (smtp_client_add_txn_data(session_client(sl->s), it->mail,
					     it->rcpt, it->message, it) < 0)
			return;
		it->state = ITEM_RUNNING;
		if (sc->txn_t0 < 0)
			sc->txn_t0 = elapsed_ms(sc);
		sl->assigned++;
		sl->outstanding++;
	}
}

static int open_slot_kind(struct server_check *sc, enum helo_kind helo,
			  enum slot_kind kind);

/* open_slot's answer when the gate has queued us: no failure, wait. */
#define GATE_WAIT (-2)

static void free_slot(struct server_check *sc, struct slot *sl)
{
	session_free(sl->s);
	if (sl->gated)
		gate_release(sc->cfg->gate, &sc->addr);
	free(sl);
}

static int open_slot(struct server_check *sc, enum helo_kind helo)
{
	return open_slot_kind(sc, helo, SLOT_PROBE);
}

static int open_slot_kind(struct server_check *sc, enum helo_kind helo,
			  enum slot_kind kind)
{
	if (sc->nslots >= MAX_SLOTS)
		return -1;
	const struct check_config *cfg = sc->cfg;
	if (cfg->gate && !gate_acquire(cfg->gate, &sc->addr, &sc->gw)) {
		sc->gate_waiting = true; /* on_gate_wake schedules us again */
		return GATE_WAIT;
	}
	struct slot *sl = calloc(1, sizeof(*sl));
	if (!sl) {
		if (cfg->gate)
			gate_release(cfg->gate, &sc->addr);
		return -1;
	}
	sl->gated = cfg->gate != NULL;
	sl->sc = sc;
	sl->id = ++sc->next_id;
	sl->helo = helo;
	sl->kind = kind;
	struct session_config scfg;
	memset(&scfg, 0, sizeof(scfg));
	scfg.base = sc->base;
	scfg.tls_ctx = sc->ctx;
	scfg.sni = (sc->res->target_host && sc->res->target_host[0] != '[')
		       ? sc->res->target_host
		       : (sc->res->host && smtp_valid_hostname(sc->res->host)
			      ? sc->res->host
			      : NULL);
	scfg.addr = sc->addr;
	scfg.addrlen = sc->addrlen;
	if (cfg->source) {
		scfg.source = &cfg->source_ss;
		scfg.sourcelen = cfg->source_len;
	}
	scfg.timeouts = cfg->timeouts;
	scfg.smtp.limits = cfg->limits;
	scfg.smtp.mail_accepted_before = sc->mail_accepted;
	scfg.smtp.helo_name = helo == HELO_TARGET && sc->res->target_host
				  ? sc->res->target_host
				  : sc->helo_name;
	if (cfg->tls == TLS_MODE_IMPLICIT) {
		scfg.smtp.tls = SMTP_TLS_IMPLICIT;
		sl->tls = true;
	} else if (sc->tls_needed && cfg->tls != TLS_MODE_NONE) {
		scfg.smtp.tls = SMTP_TLS_REQUIRED;
		sl->tls = true;
	} else if (cfg->tls == TLS_MODE_STARTTLS) {
		scfg.smtp.tls = SMTP_TLS_OPPORTUNISTIC;
	} else {
		scfg.smtp.tls = SMTP_TLS_NEVER;
	}
	if (kind == SLOT_INJECT) {
		scfg.smtp.tls = SMTP_TLS_REQUIRED;
		scfg.smtp.inject_probe = true;
		sl->tls = true;
	} else if (kind == SLOT_LEGACY) {
		scfg.tls_ctx = cfg->legacy_ctx;
		if (cfg->tls != TLS_MODE_IMPLICIT)
			scfg.smtp.tls = SMTP_TLS_REQUIRED;
		sl->tls = true;
	}
	static const struct session_events ev = {
	    .ready = sl_ready,
	    .txn_done = sl_txn_done,
	    .idle = sl_idle,
	    .closed = sl_closed,
	    .line = sl_line,
	};
	char err[256];
	sc->slots[sc->nslots++] = sl;
	sc->res->sessions++;
	note(sc, sl->id, "session %d: connecting to %s port %u%s%s%s", sl->id,
	     sc->res->address, sc->res->port,
	     kind == SLOT_INJECT   ? " (audit: STARTTLS injection probe)"
	     : kind == SLOT_LEGACY ? " (audit: TLS 1.0/1.1 only)"
				   : "",
	     scfg.smtp.tls == SMTP_TLS_IMPLICIT ? " (implicit TLS)"
	     : scfg.smtp.tls == SMTP_TLS_REQUIRED ? " (STARTTLS required)"
						  : "",
	     helo == HELO_TARGET ? ", EHLO claims the server's name" : "");
	sl->s = session_new(&scfg, &ev, sl, err, sizeof(err));
	if (!sl->s) {
		note(sc, sl->id, "session %d failed to start: %s", sl->id, err);
		if (!sc->first_error)
			sc->first_error = rp_strdup(err);
		if (sc->any_ready)
			sc->slot_failures++;
		else
			sc->early_failures++;
		sl->dead = true;
		schedule(sc);
		return -1;
	}
	return 0;
}

static void sl_line(void *arg, char dir, const char *line)
{
	struct slot *sl = arg;
	record_line(sl->sc, sl->id, dir, line);
}

static void record_first_session(struct server_check *sc, struct slot *sl)
{
	struct server_result *res = sc->res;
	struct smtp_client *c = session_client(sl->s);
	const struct smtp_reply *g = smtp_client_greeting(c);
	res->banner = smtp_reply_text(g);
	res->banner_code = g->code;
	const struct smtp_ehlo *plain = smtp_client_ehlo_plain(c);
	const struct smtp_ehlo *e = smtp_client_ehlo(c);
	res->starttls_offered = (plain && plain->starttls) || e->starttls;
	res->used_helo = smtp_client_used_helo(c);
	res->helo_name = rp_strdup(sc->helo_name);
	res->local_address = rp_strdup(session_local_address(sl->s));
	res->connect_ms = elapsed_ms(sc);
	const struct smtp_ehlo *before_tls = plain ? plain : e;
	if (!res->implicit_tls && before_tls->auth)
		res->auth_plain = rp_strdup(before_tls->auth);
	struct session_timings tm;
	session_timings(sl->s, &tm);
	res->t_connect_ms = tm.connect_ms;
	if (tm.greeting_ms >= 0 && tm.connect_ms >= 0)
		res->t_greeting_ms = tm.greeting_ms - tm.connect_ms;
	if (tm.ready_ms >= 0 && tm.greeting_ms >= 0)
		res->t_ehlo_ms = tm.ready_ms - tm.greeting_ms;
}

static void record_ehlo(struct server_check *sc, struct slot *sl)
{
	struct server_result *res = sc->res;
	const struct smtp_ehlo *e = smtp_client_ehlo(session_client(sl->s));
	for (size_t i = 0; i < res->nehlo; i++)
		free(res->ehlo[i]);
	free(res->ehlo);
	res->ehlo = NULL;
	res->nehlo = 0;
	free(res->ehlo_name);
	res->ehlo_name = rp_strdup(e->name);
	if (e->nkeywords) {
		res->ehlo = calloc(e->nkeywords, sizeof(char *));
		if (!res->ehlo)
			return;
		for (size_t i = 0; i < e->nkeywords; i++)
			if ((res->ehlo[res->nehlo] = rp_strdup(e->keywords[i])))
				res->nehlo++;
	}
}

static void capture_cert(struct server_check *sc, struct slot *sl)
{
	const struct tls_cert_facts *f = session_tls_facts(sl->s);
	if (f->present && !sc->res->cert.present)
		sc->res->cert = *f;
}

/* The audit's own sessions: record what they came for, then leave. */
static void special_ready(struct server_check *sc, struct slot *sl)
{
	struct smtp_client *c = session_client(sl->s);
	if (sl->kind == SLOT_INJECT) {
		sc->res->injection = (int)smtp_client_injection(c);
		capture_cert(sc, sl);
		note(sc, sl->id, "injection probe: %s",
		     sc->res->injection == SMTP_INJ_SAFE ? "the NOOP sent with "
							   "STARTTLS was discarded"
							 : "the server answered "
							   "the injected NOOP");
	} else {
		sc->res->legacy_tls = 1;
		free(sc->res->legacy_tls_version);
		sc->res->legacy_tls_version =
		    rp_strdup(session_tls_version(sl->s));
		note(sc, sl->id, "legacy TLS accepted: %s",
		     session_tls_version(sl->s) ? session_tls_version(sl->s) : "?");
	}
	smtp_client_quit(c);
}

/* The audit's extra sessions; one the gate defers is opened by dispatch
 * once granted. */
static void open_audit_slots(struct server_check *sc)
{
	if (sc->want_inject &&
	    open_slot_kind(sc, HELO_TESTER, SLOT_INJECT) != GATE_WAIT)
		sc->want_inject = false;
	if (!sc->want_inject && sc->want_legacy &&
	    open_slot_kind(sc, HELO_TESTER, SLOT_LEGACY) != GATE_WAIT)
		sc->want_legacy = false;
}

static void start_audit(struct server_check *sc, struct slot *sl)
{
	struct server_result *res = sc->res;
	struct smtp_client *c = session_client(sl->s);
	char cmd[64], rnd[13];
	res->audited = true;
	/* Qualified, so a refusal of an unqualified name (Exim: 501 "must
	 * contain a domain") is not mistaken for "unknown user". */
	const char *dom = res->target_domain ? res->target_domain : "";
	char v1[300];
	snprintf(v1, sizeof(v1), dom[0] && dom[0] != '[' ? "VRFY postmaster@%s"
							 : "VRFY postmaster",
		 dom);
	smtp_client_add_cmd(c, v1, &sc->audit_tags[0]);
	rp_random_hex(rnd, 6);
	if (dom[0] && dom[0] != '[')
		snprintf(cmd, sizeof(cmd), "VRFY rpx%s@%.40s", rnd, dom);
	else
		snprintf(cmd, sizeof(cmd), "VRFY rpx%s", rnd);
	smtp_client_add_cmd(c, cmd, &sc->audit_tags[1]);
	smtp_client_add_cmd(c, "EXPN postmaster", &sc->audit_tags[2]);
	bool offered = res->starttls_offered && !res->implicit_tls;
	sc->want_inject = offered && sc->cfg->tls != TLS_MODE_NONE;
	sc->want_legacy = ((offered && sc->cfg->tls != TLS_MODE_NONE) ||
			   res->implicit_tls) &&
			  sc->cfg->legacy_ctx;
	open_audit_slots(sc);
}

static bool audit_reply(struct server_check *sc, struct smtp_txn *t)
{
	int *tag = t->tag;
	if (tag < sc->audit_tags || tag >= sc->audit_tags + 3)
		return false;
	char *text = smtp_reply_text(&t->mail_reply);
	char *line = rp_asprintf("%d %s%s%s", t->mail_reply.code,
				 t->mail_reply.enhanced,
				 t->mail_reply.enhanced[0] ? " " : "",
				 text ? text : "");
	free(text);
	struct server_result *res = sc->res;
	switch (tag - sc->audit_tags) {
	case 0:
		res->vrfy_code = t->mail_reply.code;
		free(res->vrfy_reply);
		res->vrfy_reply = line;
		break;
	case 1:
		res->vrfy_random_code = t->mail_reply.code;
		free(res->vrfy_random_reply);
		res->vrfy_random_reply = line;
		break;
	default:
		res->expn_code = t->mail_reply.code;
		free(res->expn_reply);
		res->expn_reply = line;
		break;
	}
	return true;
}

static void sl_ready(void *arg)
{
	struct slot *sl = arg;
	struct server_check *sc = sl->sc;
	sl->ready = true;
	if (sl->kind != SLOT_PROBE) {
		special_ready(sc, sl);
		return;
	}
	bool tls = slot_tls_active(sl);
	if (tls)
		capture_cert(sc, sl);
	if (tls) {
		note(sc, sl->id, "session %d: TLS established (%s, %s)", sl->id,
		     session_tls_version(sl->s) ? session_tls_version(sl->s) : "?",
		     session_tls_cipher(sl->s) ? session_tls_cipher(sl->s) : "?");
		if (!sc->res->tls) {
			sc->res->tls = true;
			sc->res->tls_version = rp_strdup(session_tls_version(sl->s));
			sc->res->tls_cipher = rp_strdup(session_tls_cipher(sl->s));
			record_ehlo(sc, sl); /* capabilities after TLS */
		}
	}
	if (!sc->any_ready) {
		sc->any_ready = true;
		record_first_session(sc, sl);
		if (!tls)
			record_ehlo(sc, sl);
	}
	if (!sc->names_ready) {
		derive_names(sc, sl);
		if (!sc->res->target_host || !sc->res->target_domain ||
		    build_items(sc) < 0) {
			note(sc, sl->id, "cannot build the tests (out of "
					 "memory or a bad --to address)");
			smtp_client_quit(session_client(sl->s));
			return;
		}
		sc->names_ready = true;
		note(sc, sl->id,
		     "target names: host %s (from %s), domain %s (%s); EHLO as "
		     "%s",
		     sc->res->target_host, sc->res->target_host_source,
		     sc->res->target_domain, sc->res->target_domain_source,
		     sc->helo_name);
		schedule(sc); /* open the other sessions */
		fill(sl);
		if (!sc->cfg->no_audit)
			start_audit(sc, sl);
		return;
	}
	fill(sl);
}

/* The item's latest result is a refused sender, and the sender was not
 * what the technique tests. */
static bool r_reason_sender(const struct server_check *sc, const struct item *it)
{
	if (it->t->sender_trick || it->control || it->last < 0)
		return false;
	const struct test_result *r = &sc->res->tests[it->last];
	return r->c.reason == R_SENDER_REJECTED && r->c.at_mail;
}

static bool deferrable(const struct test_result *r)
{
	return r->c.outcome == OUT_DEFERRED &&
	       (r->c.reason == R_GREYLISTED || r->c.reason == R_TEMPORARY);
}

static void sl_txn_done(void *arg, struct smtp_txn *t)
{
	struct slot *sl = arg;
	struct server_check *sc = sl->sc;
	if (audit_reply(sc, t)) {
		smtp_txn_free(t);
		return;
	}
	struct item *it = t->tag;
	sl->outstanding--;
	if (smtp_reply_ok(&t->mail_reply))
		sc->mail_accepted = true;
	if (sc->res->t_txn_ms < 0 && sc->txn_t0 >= 0)
		sc->res->t_txn_ms = elapsed_ms(sc) - sc->txn_t0;
	struct test_result r = {0};
	r.t = it->t;
	r.mail_from = rp_strdup(it->mail);
	r.rcpt_to = rp_strdup(it->rcpt);
	r.helo = rp_strdup(sl->helo == HELO_TARGET ? sc->res->target_host
						    : sc->helo_name);
	r.tls = slot_tls_active(sl);
	r.session = sl->id;
	classify_txn(&t->mail_reply, &t->rcpt_reply, &r.c);
	const struct smtp_reply *decisive =
	    r.c.at_mail ? &t->mail_reply : &t->rcpt_reply;
	smtp_reply_copy(&r.reply, decisive);
	snprintf(r.token, sizeof(r.token), "%s", it->token);
	if (t->data && r.c.outcome == OUT_ACCEPTED) {
		const struct smtp_reply *d =
		    t->eod_reply.code ? &t->eod_reply : &t->data_reply;
		smtp_reply_copy(&r.data_reply, d);
		if (t->eod_reply.code && smtp_reply_ok(&t->eod_reply))
			r.delivery = DELIVERY_ACCEPTED_AT_DATA;
		else if (d->code >= 400)
			r.delivery = DELIVERY_REJECTED_AT_DATA;
		else
			r.note = rp_strdup("the session ended during DATA");
	}
	enum outcome o = r.c.outcome;
	add_result(sc, it, &r);
	it->state = ITEM_DONE;
	if (r_reason_sender(sc, it) && !it->sender_fallback &&
	    strcmp(it->mail, it->plain_from) != 0) {
		/* The sender was nmap's literal "user@[ip]", not the trick
		 * (Exim refuses domain literals): test the recipient trick
		 * again with the plain external sender. */
		note(sc, sl->id, "%s: sender %s refused; retrying with %s",
		     it->t->id, it->mail, it->plain_from);
		char *m = rp_strdup(it->plain_from);
		if (m) {
			free(it->mail);
			it->mail = m;
		}
		it->sender_fallback = true;
		it->state = ITEM_PENDING;
		it->attempts = 0;
		schedule(sc);
	} else if (o == OUT_TLS_REQUIRED && !slot_tls_active(sl) &&
	    sc->cfg->tls != TLS_MODE_NONE && !sc->tls_broken) {
		/* RFC 3207 §4: a server may demand TLS; test again over it. */
		if (!sc->tls_needed)
			note(sc, sl->id, "server requires STARTTLS: tests will "
					 "be repeated over TLS");
		sc->tls_needed = true;
		it->want_tls = true;
		it->state = ITEM_PENDING;
		it->attempts = 0;
		schedule(sc);
	}
	smtp_txn_free(t);
}

static void sl_idle(void *arg)
{
	struct slot *sl = arg;
	struct server_check *sc = sl->sc;
	if (sc->finished)
		return;
	if (!sc->names_ready)
		return; /* sl_ready will fill it */
	fill(sl);
	if (sl->outstanding == 0)
		smtp_client_quit(session_client(sl->s));
}

static void sl_closed(void *arg, enum smtp_failure f, const char *why)
{
	struct slot *sl = arg;
	struct server_check *sc = sl->sc;
	sl->dead = true;
	if (sl->kind != SLOT_PROBE) {
		if (!sl->ready) {
			struct smtp_client *c = session_client(sl->s);
			if (sl->kind == SLOT_INJECT)
				sc->res->injection = (int)smtp_client_injection(c);
			else if (f == SMTP_FAIL_TLS)
				sc->res->legacy_tls = 0;
			note(sc, sl->id, "audit session %d ended: %s: %s",
			     sl->id, smtp_failure_name(f), why ? why : "");
		}
		schedule(sc);
		return;
	}
	if (f != SMTP_FAIL_NONE)
		note(sc, sl->id, "session %d ended: %s: %s", sl->id,
		     smtp_failure_name(f), why ? why : "");
	else
		note(sc, sl->id, "session %d closed", sl->id);
	if (f != SMTP_FAIL_NONE && !sl->ready) {
		if (!sc->first_error)
			sc->first_error =
			    rp_asprintf("%s: %s", smtp_failure_name(f),
					why ? why : "");
		if (sl->tls && f == SMTP_FAIL_TLS) {
			sc->tls_broken = true;
			sc->tls_needed = false;
		}
		if (!sc->any_ready)
			sc->early_failures++;
		else
			sc->slot_failures++;
	}
	if (f == SMTP_FAIL_CLOSING) {
		sc->closings++;
		sc->backing_off = true;
		/* The server is busy for every check, not just this one. */
		if (sc->cfg->gate)
			gate_hold(sc->cfg->gate, &sc->addr, sc->cfg->backoff_ms);
		struct timeval tv = {sc->cfg->backoff_ms / 1000,
				     (sc->cfg->backoff_ms % 1000) * 1000};
		evtimer_add(sc->delay, &tv);
	}
	struct smtp_txn *t;
	while ((t = smtp_client_take_unfinished(session_client(sl->s)))) {
		if (t->cmd) { /* an audit command: not retried */
			smtp_txn_free(t);
			continue;
		}
		struct item *it = t->tag;
		sl->outstanding--;
		/* Only the test that was under way when the session died has
		 * used an attempt; the ones queued behind it have not. */
		if (t->started)
			it->attempts++;
		if (it->attempts >= sc->cfg->max_attempts) {
			it->state = ITEM_DONE;
			record_plain(sc, it, OUT_ERROR, R_CONNECTION,
				     why ? why : smtp_failure_name(f));
		} else {
			it->state = ITEM_PENDING;
		}
		smtp_txn_free(t);
	}
	schedule(sc);
}

/* ---------- scheduling ---------- */

static void finalize(struct server_check *sc);

static bool any_pending(const struct server_check *sc, enum helo_kind helo,
			size_t *count)
{
	size_t n = 0;
	for (size_t i = 0; i < sc->nitems; i++)
		if (sc->items[i].state == ITEM_PENDING &&
		    sc->items[i].t->helo == helo)
			n++;
	if (count)
		*count = n;
	return n > 0;
}

static size_t capacity(const struct server_check *sc, enum helo_kind helo)
{
	size_t cap = 0;
	for (size_t i = 0; i < sc->nslots; i++) {
		const struct slot *sl = sc->slots[i];
		if (sl->dead || sl->helo != helo || sl->kind != SLOT_PROBE)
			continue;
		if (sc->tls_needed && !sl->tls)
			continue;
		if (sl->assigned < sc->cfg->per_session)
			cap += (size_t)(sc->cfg->per_session - sl->assigned);
	}
	return cap;
}

/* Gives up on items that can no longer run (TLS needed but broken). */
static void settle_unrunnable(struct server_check *sc)
{
	if (!sc->tls_broken)
		return;
	for (size_t i = 0; i < sc->nitems; i++) {
		struct item *it = &sc->items[i];
		if (it->state == ITEM_PENDING && it->want_tls)
			it->state = ITEM_DONE; /* its tls-required result stands */
	}
}

static void dispatch(struct server_check *sc)
{
	if (sc->finished)
		return;
	/* Free sessions that have closed. */
	size_t w = 0;
	for (size_t i = 0; i < sc->nslots; i++) {
		struct slot *sl = sc->slots[i];
		if (sl->dead) {
			free_slot(sc, sl);
		} else {
			sc->slots[w++] = sl;
		}
	}
	sc->nslots = w;

	sc->gate_waiting = false;
	if (!sc->names_ready) {
		if (sc->nslots > 0 || sc->backing_off)
			return;
		if (sc->early_failures > 0 &&
		    (sc->closings == 0 ||
		     sc->early_failures >= sc->cfg->max_attempts)) {
			sc->unreachable = true;
			finalize(sc);
			return;
		}
		open_slot(sc, HELO_TESTER);
		return;
	}
	settle_unrunnable(sc);
	for (size_t i = 0; i < sc->nslots; i++)
		fill(sc->slots[i]);
	open_audit_slots(sc);
	if (!sc->backing_off && sc->slot_failures < sc->cfg->max_attempts) {
		static const enum helo_kind kinds[] = {HELO_TESTER, HELO_TARGET};
		for (size_t k = 0; k < RP_ARRAY_LEN(kinds); k++) {
			size_t pending;
			while (any_pending(sc, kinds[k], &pending) &&
			       pending > capacity(sc, kinds[k]) &&
			       sc->nslots < (size_t)sc->cfg->max_sessions) {
				if (open_slot(sc, kinds[k]) < 0)
					break;
			}
		}
	}
	if (sc->nslots > 0 || sc->backing_off || sc->retry_armed ||
	    sc->gate_waiting)
		return;
	size_t left = 0;
	for (size_t i = 0; i < sc->nitems; i++)
		if (sc->items[i].state != ITEM_DONE)
			left++;
	if (left > 0) {
		/* Pending work but no session could be opened: give up on it. */
		for (size_t i = 0; i < sc->nitems; i++) {
			struct item *it = &sc->items[i];
			if (it->state != ITEM_DONE) {
				it->state = ITEM_DONE;
				record_plain(sc, it, OUT_ERROR, R_CONNECTION,
					     sc->first_error ? sc->first_error
							     : "no session");
			}
		}
	}
	/* Greylisting: one more try after the delay the user allows. */
	if (sc->cfg->retry_deferred_s > 0) {
		bool any = false;
		for (size_t i = 0; i < sc->nitems; i++) {
			struct item *it = &sc->items[i];
			if (it->retried || it->last < 0)
				continue;
			const struct test_result *r =
			    it->control ? &sc->res->controls[it->last]
					: &sc->res->tests[it->last];
			if (deferrable(r)) {
				it->retried = true;
				it->state = ITEM_PENDING;
				it->attempts = 0;
				any = true;
			}
		}
		if (any) {
			note(sc, 0, "retrying deferred tests in %d s",
			     sc->cfg->retry_deferred_s);
			sc->retry_armed = true;
			struct timeval tv = {sc->cfg->retry_deferred_s, 0};
			evtimer_add(sc->delay, &tv);
			return;
		}
	}
	finalize(sc);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	dispatch(arg);
}

static void on_gate_wake(void *arg)
{
	struct server_check *sc = arg;
	sc->gate_waiting = false;
	schedule(sc);
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
	struct server_check *sc = arg;
	sc->backing_off = false;
	sc->retry_armed = false;
	dispatch(sc);
}

void server_result_decide(struct server_result *res, bool confirmed)
{
	enum verdict v;
	char *why = NULL;
	verdict_decide(res->tests, res->ntests, res->controls, res->ncontrols,
		       confirmed, &res->findings, &v, &why);
	res->verdict = v;
	free(res->verdict_reason);
	res->verdict_reason = why;
}

/* --send-to: the probes went to the user's mailbox; only they can tell. */
static void send_to_note(struct server_result *res)
{
	char tokens[1024] = "";
	for (size_t i = 0; i < res->ntests; i++) {
		const struct test_result *t = &res->tests[i];
		if (t->superseded || t->delivery != DELIVERY_ACCEPTED_AT_DATA)
			continue;
		size_t l = strlen(tokens);
		snprintf(tokens + l, sizeof(tokens) - l, "%s%s (%s)",
			 l ? ", " : "", t->token, t->t->id);
	}
	if (tokens[0])
		findings_add(&res->findings, "awaiting-confirmation",
			     SEV_WARNING,
			     "probes were accepted at DATA and sent to your "
			     "mailbox: if a message with one of these tokens "
			     "arrives, the server relayed it: %s", tokens);
}

/* Catalogue position of a result's technique, for a stable report order. */
static size_t catalogue_index(const struct test_result *r)
{
	size_t n;
	const struct technique *ts = technique_list(&n);
	if (r->t >= ts && r->t < ts + n)
		return (size_t)(r->t - ts);
	const struct technique *cs = technique_controls(&n);
	if (r->t >= cs && r->t < cs + n)
		return (size_t)(r->t - cs);
	return SIZE_MAX;
}

/* Insertion sort: stable, so attempts of one technique keep their order. */
static void sort_results(struct test_result *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct test_result x = v[i];
		size_t k = catalogue_index(&x), j = i;
		while (j > 0 && catalogue_index(&v[j - 1]) > k) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

static void finalize(struct server_check *sc)
{
	struct server_result *res = sc->res;
	sc->finished = true;
	if (sc->cfg->gate)
		gate_cancel(sc->cfg->gate, &sc->gw);
	/* Item indexes into the result arrays are not used after this. */
	sort_results(res->tests, res->ntests);
	sort_results(res->controls, res->ncontrols);
	res->duration_ms = elapsed_ms(sc);
	if (!sc->any_ready || sc->unreachable) {
		res->verdict = V_UNREACHABLE;
		res->error = rp_strdup(sc->first_error ? sc->first_error
						       : "could not connect");
		res->verdict_reason = rp_strdup(res->error);
	} else {
		/* With --confirm the verdict waits for the receiver:
		 * check/check.c calls server_result_decide after the wait. */
		if (sc->cfg->no_relay) {
			/* scan --checks without relay: no verdict to decide. */
			res->verdict = V_INCONCLUSIVE;
			free(res->verdict_reason);
			res->verdict_reason = rp_strdup(
			    "the relay test was not run (--checks without relay)");
		} else if (!sc->cfg->confirm) {
			server_result_decide(res, false);
		}
		if (sc->cfg->send_to)
			send_to_note(res);
		if (sc->tls_needed || sc->tls_broken)
			res->tls_required = true;
		if (sc->tls_broken)
			findings_add(&res->findings, "starttls-failed",
				     SEV_WARNING,
				     "the server requires STARTTLS but the "
				     "upgrade failed: %s",
				     sc->first_error ? sc->first_error : "?");
	}
	if (res->local_address && res->local_address[0]) {
		char why[200];
		if (vantage_is_near(res->local_address, res->address, why,
				    sizeof(why)))
			findings_add(&res->findings, "vantage-point",
				     SEV_WARNING,
				     "tested from %s, %s: the server may trust "
				     "this address (mynetworks), so the result "
				     "shows what this network may do, not what "
				     "the internet may do; test from outside too",
				     res->local_address, why);
	}
	sc->done(sc->arg, sc);
}

/* ---------- life cycle ---------- */

struct server_check *server_check_new(struct event_base *base, SSL_CTX *ctx,
				      const struct check_config *cfg,
				      struct server_result *res,
				      const struct sockaddr_storage *addr,
				      socklen_t addrlen, server_done_cb done,
				      void *arg)
{
	struct server_check *sc = calloc(1, sizeof(*sc));
	if (!sc)
		return NULL;
	sc->base = base;
	sc->ctx = ctx;
	sc->cfg = cfg;
	sc->res = res;
	sc->addr = *addr;
	sc->addrlen = addrlen;
	sc->done = done;
	sc->arg = arg;
	res->transcript.max = (size_t)cfg->max_transcript;
	res->connect_ms = -1;
	res->legacy_tls = -1;
	res->t_connect_ms = res->t_greeting_ms = res->t_ehlo_ms = -1;
	res->t_txn_ms = -1;
	sc->txn_t0 = -1;
	rp_random_hex(sc->run_id, 5);
	sc->gw.wake = on_gate_wake;
	sc->gw.arg = sc;
	sc->kick = event_new(base, -1, 0, on_kick, sc);
	sc->delay = evtimer_new(base, on_delay, sc);
	if (!sc->kick || !sc->delay ||
	    technique_address_literal(res->address, sc->target_lit,
				      sizeof(sc->target_lit)) < 0) {
		server_check_free(sc);
		return NULL;
	}
	return sc;
}

void server_check_start(struct server_check *sc)
{
	clock_gettime(CLOCK_MONOTONIC, &sc->t0);
	choose_helo(sc);
	schedule(sc);
}

void server_check_free(struct server_check *sc)
{
	if (!sc)
		return;
	if (sc->cfg->gate)
		gate_cancel(sc->cfg->gate, &sc->gw);
	for (size_t i = 0; i < sc->nslots; i++)
		free_slot(sc, sc->slots[i]);
	if (sc->kick)
		event_free(sc->kick);
	if (sc->delay)
		event_free(sc->delay);
	for (size_t i = 0; i < sc->nitems; i++) {
		free(sc->items[i].message);
		free(sc->items[i].mail);
		free(sc->items[i].rcpt);
		free(sc->items[i].plain_from);
	}
	free(sc->items);
	free(sc->first_error);
	free(sc);
}
