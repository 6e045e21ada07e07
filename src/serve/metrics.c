/* serve/metrics: counters of serve and their Prometheus text form
 * (declared in serve/server.h). */
#include <string.h>

#include <event2/buffer.h>

#include "relay/verdict.h"
#include "serve/server.h"

static const double dur_le[8] = {1, 5, 10, 30, 60, 120, 300, 600};

void metrics_check_done(struct metrics *m, const char *verdict,
			long duration_ms, int open_servers, int listings)
{
	size_t k = 5;
	for (size_t v = 0; v < V_LAST; v++)
		if (strcmp(verdict, verdict_name((enum verdict)v)) == 0)
			k = v;
	m->checks[k]++;
	m->open_relays += (uint64_t)open_servers;
	m->listings += (uint64_t)listings;
	double s = (double)duration_ms / 1000.0;
	for (size_t i = 0; i < 8; i++)
		if (s <= dur_le[i])
			m->dur_bucket[i]++;
	m->dur_sum += s;
	m->dur_count++;
}

static void counter(struct evbuffer *o, const char *name, const char *help,
		    uint64_t v)
{
	evbuffer_add_printf(o, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n",
			    name, help, name, name, (unsigned long long)v);
}

void metrics_render(const struct server *srv, struct evbuffer *o)
{
	const struct metrics *m = &srv->m;
	evbuffer_add_printf(o,
			    "# HELP relayprobe_checks_total Checks completed "
			    "and saved, by verdict.\n"
			    "# TYPE relayprobe_checks_total counter\n");
	for (size_t v = 0; v < V_LAST; v++)
		evbuffer_add_printf(o, "relayprobe_checks_total{verdict=\"%s\"} %llu\n",
				    verdict_name((enum verdict)v),
				    (unsigned long long)m->checks[v]);
	evbuffer_add_printf(o, "relayprobe_checks_total{verdict=\"error\"} %llu\n",
			    (unsigned long long)m->checks[5]);
	counter(o, "relayprobe_open_relays_total",
		"Servers found to be open relays.", m->open_relays);
	counter(o, "relayprobe_blocklist_listings_total",
		"Blocklist listings found.", m->listings);
	evbuffer_add_printf(o,
			    "# HELP relayprobe_checks_rejected_total Check "
			    "requests refused, by reason.\n"
			    "# TYPE relayprobe_checks_rejected_total counter\n"
			    "relayprobe_checks_rejected_total{reason=\"rate-limit\"} %llu\n"
			    "relayprobe_checks_rejected_total{reason=\"busy\"} %llu\n"
			    "relayprobe_checks_rejected_total{reason=\"invalid\"} %llu\n"
			    "relayprobe_checks_rejected_total{reason=\"policy\"} %llu\n",
			    (unsigned long long)m->rejected_rate,
			    (unsigned long long)m->rejected_busy,
			    (unsigned long long)m->rejected_invalid,
			    (unsigned long long)m->rejected_policy);
	counter(o, "relayprobe_addresses_refused_total",
		"Resolved addresses refused by the address policy at connect "
		"time.",
		m->ssrf_refused);
	counter(o, "relayprobe_alerts_total",
		"Changes of scheduled targets that raised an alert.",
		m->alerts);
	evbuffer_add_printf(o,
			    "# HELP relayprobe_webhooks_total Webhook POSTs, "
			    "by result.\n"
			    "# TYPE relayprobe_webhooks_total counter\n"
			    "relayprobe_webhooks_total{result=\"ok\"} %llu\n"
			    "relayprobe_webhooks_total{result=\"failed\"} %llu\n",
			    (unsigned long long)m->webhook_ok,
			    (unsigned long long)m->webhook_failed);
	counter(o, "relayprobe_store_failures_total",
		"Failed database writes (retried).", m->store_failures);
	counter(o, "relayprobe_http_requests_total", "HTTP requests.",
		m->http_requests);
	evbuffer_add_printf(o,
			    "# HELP relayprobe_checks_running Checks running "
			    "now.\n# TYPE relayprobe_checks_running gauge\n"
			    "relayprobe_checks_running %d\n"
			    "# HELP relayprobe_checks_queued Checks waiting "
			    "for a slot.\n# TYPE relayprobe_checks_queued gauge\n"
			    "relayprobe_checks_queued %d\n"
			    "# HELP relayprobe_schedules Scheduled targets.\n"
			    "# TYPE relayprobe_schedules gauge\n"
			    "relayprobe_schedules %lld\n",
			    srv->running, srv->queued, (long long)srv->schedules);
	evbuffer_add_printf(o,
			    "# HELP relayprobe_check_duration_seconds Time a "
			    "check took.\n"
			    "# TYPE relayprobe_check_duration_seconds histogram\n");
	for (size_t i = 0; i < 8; i++)
		evbuffer_add_printf(o,
				    "relayprobe_check_duration_seconds_bucket{le=\"%g\"} %llu\n",
				    dur_le[i],
				    (unsigned long long)m->dur_bucket[i]);
	evbuffer_add_printf(o,
			    "relayprobe_check_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
			    "relayprobe_check_duration_seconds_sum %.3f\n"
			    "relayprobe_check_duration_seconds_count %llu\n",
			    (unsigned long long)m->dur_count, m->dur_sum,
			    (unsigned long long)m->dur_count);
}
