#include "cli/options.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "net/target.h"
#include "scan/input.h"
#include "smtp/ehlo.h"

static const char usage[] =
"Usage: relayprobe check [options] TARGET...\n"
"       relayprobe tests [--json]\n"
"       relayprobe config-check [--postfix DIR|FILE|-] [--exim FILE|-] [--client ADDR] [--json]\n"
"       relayprobe receive --receiver ADDR:PORT --confirm-domain DOMAIN [--duration SECS] [--json]\n"
"       relayprobe mx [--resolver IP[:PORT]] [--json] DOMAIN...\n"
"       relayprobe blocklist [--zones FILE] [--resolver IP[:PORT]] [--json] IP|HOST|DOMAIN...\n"
"       relayprobe scan [options] [-o FILE] [FILE|-]\n"
"       relayprobe serve [--listen ADDR:PORT] [--db FILE] [--token-file FILE] [options]\n"
"       relayprobe history [--db FILE] [--limit N] [--json] TARGET\n"
"       relayprobe --help | --version\n"
"\n"
"Tests whether mail servers are open relays, with controls that tell a relay\n"
"from a catch-all, audits them, and shows the evidence. Sends DATA only\n"
"with --confirm or --send-to, and only to an address you own.\n"
"\n"
"TARGET: domain, host, host:port, IPv4, IPv4:port, IPv6, [IPv6]:port. A name\n"
"without a port is a mail domain: its MX hosts (or, without MX, the name\n"
"itself) are resolved and every IPv4 and IPv6 address is tested once.\n"
"\n"
"Connection:\n"
"  -p, --port PORT            port for targets without one (default 25)\n"
"      --tls                  implicit TLS from the first byte (port 465 implies it)\n"
"      --starttls             always upgrade with STARTTLS when offered\n"
"      --no-tls               never use TLS (not even when the server demands it)\n"
"  -s, --source ADDR          connect from this local address\n"
"      --resolver IP[:PORT]   DNS server to use (repeatable; default: system)\n"
"      --no-mx                names are hosts: skip the MX lookup\n"
"      --connect-timeout SECS   connect timeout (default 10)\n"
"      --greeting-timeout SECS  wait for the 220 greeting (default 60)\n"
"      --command-timeout SECS   wait for each reply (default 30)\n"
"      --tls-timeout SECS       TLS handshake timeout (default 15)\n"
"\n"
"Test:\n"
"      --no-audit             the relay test only: no VRFY/EXPN, injection\n"
"                             probe or legacy-TLS session\n"
"      --ca-file FILE         also trust these CAs (PEM) when verifying\n"
"                             certificates\n"
"      --helo NAME            our EHLO name (default: this host's FQDN, else\n"
"                             the address literal of our address); also the\n"
"                             name the built-in receiver greets with\n"
"  -d, --domain DOMAIN        the server's own mail domain (default: derived\n"
"                             from its banner or EHLO name)\n"
"      --from ADDR            external sender (default relayprobe@gmail.com)\n"
"      --to ADDR              external recipient (default relaytest@gmail.com)\n"
"      --mailbox ADDR         a mailbox of yours: enables T25\n"
"      --only IDS             run only these techniques (e.g. T01,T02,T09);\n"
"                             the controls always run\n"
"      --sessions N           parallel sessions per server (default 3)\n"
"      --per-session N        tests per session (default 5; keeps servers'\n"
"                             error limits from slowing or dropping us)\n"
"      --retry-deferred SECS  retry deferred tests once after SECS (greylisting)\n"
"      --backoff SECS         wait after a 421 before reconnecting (default 2)\n"
"\n"
"Delivery proof (opt-in; without it no DATA is ever sent):\n"
"      --confirm              send a probe through DATA for every technique\n"
"                             accepted at RCPT, to a token at --confirm-domain,\n"
"                             and prove relaying by receiving it\n"
"      --confirm-domain DOMAIN  a domain of yours whose MX points at --receiver\n"
"      --receiver ADDR:PORT   where the built-in receiver listens\n"
"      --confirm-wait SECS    how long to wait for probes to arrive (default 30)\n"
"      --send-to MAILBOX      send the probes to your own mailbox instead; the\n"
"                             report lists the tokens to look for\n"
"      --duration SECS        receive: stop after SECS (default: on SIGINT)\n"
"\n"
"DNS facts (for each tested address):\n"
"      --zones FILE           blocklist zones file (default: the built-in list)\n"
"      --no-blocklists        skip the blocklist lookups\n"
"      --no-dns-checks        skip PTR, FCrDNS and blocklist lookups\n"
"      --dns-private          also look up loopback and private addresses\n"
"\n"
"Configuration check (config-check; default: /etc/postfix, /etc/exim4):\n"
"      --postfix DIR|FILE|-   Postfix main.cf (and master.cf beside it), a\n"
"                             directory holding them, or '-': the output of\n"
"                             'postconf -n; postconf -P' on stdin\n"
"      --exim FILE|-          Exim configuration (single file, .include read)\n"
"      --client ADDR          also judge the relay policy as this client\n"
"                             address sees it (the address 'check' tests from)\n"
"Web service (serve; history reads the same --db):\n"
"      --listen ADDR:PORT     where the web tool and API listen\n"
"                             (default 127.0.0.1:8025)\n"
"      --db FILE              SQLite database of results and schedules\n"
"                             (default relayprobe.db)\n"
"      --token-file FILE      API token (first line) needed for schedules\n"
"                             and deletion\n"
"      --allow-private        also test loopback, private, link-local, ...\n"
"                             addresses (refused by default)\n"
"      --ports LIST           ports a target may name (default 25,465,587)\n"
"      --max-checks N         checks running at once (default 4)\n"
"      --queue N              checks waiting beyond that; more get 429\n"
"                             (default 32)\n"
"      --rate N               checks a minute per client (default 6)\n"
"      --allowed-host NAME    a Host header to answer to (repeatable; the\n"
"                             listen address is always allowed)\n"
"      --trusted-proxy IP     take the client address from this reverse\n"
"                             proxy's X-Forwarded-For\n"
"      --public-url URL       this service's public address, for links in\n"
"                             webhook alerts\n"
"      --min-interval SECS    shortest schedule interval (default 3600)\n"
"      --limit N              history: at most N checks (default 50)\n"
"\n"
"Output:\n"
"  -v, --verbose              include the whole SMTP dialogue\n"
"      --json                 print one JSON document (schema relayprobe/1)\n"
"      --format FORMAT        text (default), json, or nagios (one status line\n"
"                             with perfdata, for Nagios/Icinga)\n"
"      --prometheus-textfile FILE  also write metrics for node_exporter\n"
"      --color WHEN           auto (default), always or never; NO_COLOR is honoured\n"
"  -h, --help                 this text\n"
"  -V, --version              print the version\n"
"\n"
"Scan (many targets, one JSON line each; FILE or stdin, one target a line,\n"
"also IP/PREFIX blocks):\n"
"  -o, --output FILE          write the JSON lines here (default stdout)\n"
"      --checks LIST          relay,audit,blocklist (default all three)\n"
"  -c, --concurrency N        SMTP sessions at once, all servers (default 256)\n"
"      --rate N               new connections per second (default 200; 0: no\n"
"                             limit)\n"
"      --per-address N        sessions at once to one IP address (default 3)\n"
"      --exclude FILE         never connect to these addresses/CIDR blocks\n"
"      --include-special      CIDR blocks keep private, loopback and other\n"
"                             special-purpose addresses (skipped by default)\n"
"      --max-cidr BITS        largest CIDR block: 2^BITS addresses (default 16)\n"
"      --resume FILE          skip targets already in FILE (a scan's output;\n"
"                             also the output when -o is not given)\n"
"      --shard K/N            only this machine's share: shard K of N (0-based)\n"
"      --progress, --no-progress  progress line on stderr (default: when it\n"
"                             is a terminal)\n"
"\n"
"Exit codes (check, config-check): 0 closed, 1 suspect or inconclusive,\n"
"            2 open relay, 3 unreachable or bad input. mx: 0 found, 3 failed.\n"
"            blocklist: 0 not listed, 1 unknown, 2 listed, 3 error.\n"
"            scan: 0 no relay found, 1 suspect or inconclusive, 2 open relay\n"
"            found, 3 error, 130 interrupted (finished lines are written).\n";

const char *cli_usage(void)
{
	return usage;
}

enum {
	OPT_TLS = 256,
	OPT_STARTTLS,
	OPT_NO_TLS,
	OPT_RESOLVER,
	OPT_CONNECT_TIMEOUT,
	OPT_GREETING_TIMEOUT,
	OPT_COMMAND_TIMEOUT,
	OPT_TLS_TIMEOUT,
	OPT_HELO,
	OPT_FROM,
	OPT_TO,
	OPT_MAILBOX,
	OPT_ONLY,
	OPT_SESSIONS,
	OPT_PER_SESSION,
	OPT_RETRY_DEFERRED,
	OPT_BACKOFF,
	OPT_JSON,
	OPT_COLOR,
	OPT_ZONES,
	OPT_NO_MX,
	OPT_NO_BLOCKLISTS,
	OPT_NO_DNS_CHECKS,
	OPT_DNS_PRIVATE,
	OPT_CONFIRM,
	OPT_CONFIRM_DOMAIN,
	OPT_RECEIVER,
	OPT_CONFIRM_WAIT,
	OPT_SEND_TO,
	OPT_DURATION,
	OPT_NO_AUDIT,
	OPT_CA_FILE,
	OPT_FORMAT,
	OPT_PROM,
	OPT_POSTFIX,
	OPT_EXIM,
	OPT_CLIENT,
	OPT_CHECKS,
	OPT_RATE,
	OPT_PER_ADDRESS,
	OPT_EXCLUDE,
	OPT_INCLUDE_SPECIAL,
	OPT_MAX_CIDR,
	OPT_RESUME,
	OPT_SHARD,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_LISTEN,
	OPT_DB,
	OPT_TOKEN_FILE,
	OPT_ALLOW_PRIVATE,
	OPT_PORTS,
	OPT_MAX_CHECKS,
	OPT_QUEUE,
	OPT_ALLOWED_HOST,
	OPT_TRUSTED_PROXY,
	OPT_PUBLIC_URL,
	OPT_MIN_INTERVAL,
	OPT_LIMIT,
};

static const struct option longopts[] = {
	{"port", required_argument, NULL, 'p'},
	{"tls", no_argument, NULL, OPT_TLS},
	{"starttls", no_argument, NULL, OPT_STARTTLS},
	{"no-tls", no_argument, NULL, OPT_NO_TLS},
	{"source", required_argument, NULL, 's'},
	{"resolver", required_argument, NULL, OPT_RESOLVER},
	{"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
	{"greeting-timeout", required_argument, NULL, OPT_GREETING_TIMEOUT},
	{"command-timeout", required_argument, NULL, OPT_COMMAND_TIMEOUT},
	{"tls-timeout", required_argument, NULL, OPT_TLS_TIMEOUT},
	{"helo", required_argument, NULL, OPT_HELO},
	{"domain", required_argument, NULL, 'd'},
	{"from", required_argument, NULL, OPT_FROM},
	{"to", required_argument, NULL, OPT_TO},
	{"mailbox", required_argument, NULL, OPT_MAILBOX},
	{"only", required_argument, NULL, OPT_ONLY},
	{"sessions", required_argument, NULL, OPT_SESSIONS},
	{"per-session", required_argument, NULL, OPT_PER_SESSION},
	{"retry-deferred", required_argument, NULL, OPT_RETRY_DEFERRED},
	{"backoff", required_argument, NULL, OPT_BACKOFF},
	{"verbose", no_argument, NULL, 'v'},
	{"json", no_argument, NULL, OPT_JSON},
	{"color", required_argument, NULL, OPT_COLOR},
	{"zones", required_argument, NULL, OPT_ZONES},
	{"no-mx", no_argument, NULL, OPT_NO_MX},
	{"no-blocklists", no_argument, NULL, OPT_NO_BLOCKLISTS},
	{"no-dns-checks", no_argument, NULL, OPT_NO_DNS_CHECKS},
	{"dns-private", no_argument, NULL, OPT_DNS_PRIVATE},
	{"confirm", no_argument, NULL, OPT_CONFIRM},
	{"confirm-domain", required_argument, NULL, OPT_CONFIRM_DOMAIN},
	{"receiver", required_argument, NULL, OPT_RECEIVER},
	{"confirm-wait", required_argument, NULL, OPT_CONFIRM_WAIT},
	{"send-to", required_argument, NULL, OPT_SEND_TO},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"no-audit", no_argument, NULL, OPT_NO_AUDIT},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"prometheus-textfile", required_argument, NULL, OPT_PROM},
	{"ca-file", required_argument, NULL, OPT_CA_FILE},
	{"postfix", required_argument, NULL, OPT_POSTFIX},
	{"exim", required_argument, NULL, OPT_EXIM},
	{"client", required_argument, NULL, OPT_CLIENT},
	{"output", required_argument, NULL, 'o'},
	{"checks", required_argument, NULL, OPT_CHECKS},
	{"concurrency", required_argument, NULL, 'c'},
	{"rate", required_argument, NULL, OPT_RATE},
	{"per-address", required_argument, NULL, OPT_PER_ADDRESS},
	{"exclude", required_argument, NULL, OPT_EXCLUDE},
	{"include-special", no_argument, NULL, OPT_INCLUDE_SPECIAL},
	{"max-cidr", required_argument, NULL, OPT_MAX_CIDR},
	{"resume", required_argument, NULL, OPT_RESUME},
	{"shard", required_argument, NULL, OPT_SHARD},
	{"progress", no_argument, NULL, OPT_PROGRESS},
	{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"db", required_argument, NULL, OPT_DB},
	{"token-file", required_argument, NULL, OPT_TOKEN_FILE},
	{"allow-private", no_argument, NULL, OPT_ALLOW_PRIVATE},
	{"ports", required_argument, NULL, OPT_PORTS},
	{"max-checks", required_argument, NULL, OPT_MAX_CHECKS},
	{"queue", required_argument, NULL, OPT_QUEUE},
	{"allowed-host", required_argument, NULL, OPT_ALLOWED_HOST},
	{"trusted-proxy", required_argument, NULL, OPT_TRUSTED_PROXY},
	{"public-url", required_argument, NULL, OPT_PUBLIC_URL},
	{"min-interval", required_argument, NULL, OPT_MIN_INTERVAL},
	{"limit", required_argument, NULL, OPT_LIMIT},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

static int seconds_ms(const char *s, int max_s, int *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v > 0) || v > max_s)
		return -1;
	*out = (int)(v * 1000.0 + 0.5);
	if (*out < 1)
		*out = 1;
	return 0;
}

static int small_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

/* An envelope address we are willing to put in MAIL/RCPT. */
static bool valid_address(const char *a)
{
	const char *at = strrchr(a, '@');
	if (!at || at == a || !at[1] || strlen(a) > 254)
		return false;
	for (const char *p = a; *p; p++)
		if (!isgraph((unsigned char)*p) || *p == '<' || *p == '>')
			return false;
	return true;
}

static int parse_source(struct check_config *cfg, const char *s)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&cfg->source_ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&cfg->source_ss;
	memset(&cfg->source_ss, 0, sizeof(cfg->source_ss));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		cfg->source_len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		cfg->source_len = sizeof(*a6);
	} else {
		return -1;
	}
	cfg->source = s;
	return 0;
}

/* An address literal as RFC 5321 §4.1.3 writes it: [192.0.2.1] or
 * [IPv6:2001:db8::1]. */
static bool valid_literal(const char *s)
{
	size_t n = strlen(s);
	if (n < 3 || n > 60 || s[0] != '[' || s[n - 1] != ']')
		return false;
	char ip[64];
	snprintf(ip, sizeof(ip), "%.*s", (int)(n - 2), s + 1);
	const char *a = strncmp(ip, "IPv6:", 5) == 0 ? ip + 5 : ip;
	struct in6_addr x;
	return inet_pton(a == ip ? AF_INET : AF_INET6, a, &x) == 1;
}

/* "IP:PORT" or "[IPv6]:PORT" into a socket address. */
static int parse_listen(const char *arg, struct sockaddr_storage *ss,
			socklen_t *len)
{
	struct target t;
	char e[200];
	if (target_parse(arg, 0, &t, e, sizeof(e)) < 0 || !t.is_ip ||
	    !t.port_given)
		return -1;
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (t.family == AF_INET && inet_pton(AF_INET, t.host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(t.port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, t.host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(t.port);
		*len = sizeof(*a6);
		return 0;
	}
	return -1;
}

static int add_resolver(struct cli *c, const char *s)
{
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".:[]", *p))
			return -1;
	char *n = c->resolvers ? rp_asprintf("%s,%s", c->resolvers, s)
			       : rp_strdup(s);
	if (!n)
		return -1;
	free(c->resolvers);
	c->resolvers = n;
	c->cfg.resolvers = n;
	return 0;
}

/* --checks relay,audit,blocklist */
static int parse_checks(struct scan_options *o, const char *arg)
{
	bool r = false, a = false, b = false;
	const char *p = arg;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t l = end ? (size_t)(end - p) : strlen(p);
		if (l == 5 && strncmp(p, "relay", 5) == 0)
			r = true;
		else if (l == 5 && strncmp(p, "audit", 5) == 0)
			a = true;
		else if (l == 9 && strncmp(p, "blocklist", 9) == 0)
			b = true;
		else
			return -1;
		if (!end)
			break;
		p = end + 1;
	}
	if (!r && !a && !b)
		return -1;
	o->relay = r;
	o->audit = a;
	o->blocklist = b;
	return 0;
}

#define BAD(...)                                                               \
	do {                                                                   \
		snprintf(err, errlen, __VA_ARGS__);                            \
		return -1;                                                     \
	} while (0)

int cli_parse(int argc, char **argv, struct cli *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	check_config_defaults(&c->cfg);
	scan_options_defaults(&c->scan);
	bool scan_opt = false; /* an option only scan takes */
	serve_options_defaults(&c->serve);
	c->limit = 50;
	bool listen_given = false;
	c->cmd = CLI_HELP;
	if (argc < 2)
		BAD("no command given (try 'relayprobe --help')");
	int first = 1;
	if (strcmp(argv[1], "check") == 0) {
		c->cmd = CLI_CHECK;
		first = 2;
	} else if (strcmp(argv[1], "tests") == 0) {
		c->cmd = CLI_TESTS;
		first = 2;
	} else if (strcmp(argv[1], "mx") == 0) {
		c->cmd = CLI_MX;
		first = 2;
	} else if (strcmp(argv[1], "blocklist") == 0) {
		c->cmd = CLI_BLOCKLIST;
		first = 2;
	} else if (strcmp(argv[1], "receive") == 0) {
		c->cmd = CLI_RECEIVE;
		first = 2;
	} else if (strcmp(argv[1], "config-check") == 0) {
		c->cmd = CLI_CONFIG_CHECK;
		first = 2;
	} else if (strcmp(argv[1], "scan") == 0) {
		c->cmd = CLI_SCAN;
		first = 2;
	} else if (strcmp(argv[1], "serve") == 0) {
		c->cmd = CLI_SERVE;
		first = 2;
	} else if (strcmp(argv[1], "history") == 0) {
		c->cmd = CLI_HISTORY;
		first = 2;
	} else if (argv[1][0] != '-') {
		BAD("unknown command '%.60s' (try 'relayprobe --help')",
		    argv[1]);
	}
	/* getopt_long over the arguments after the command word. */
	int sub_argc = argc - first + 1;
	char **sub_argv = argv + first - 1;
	optind = 1;
	opterr = 0;
	bool explicit_cmd = first == 2;
	bool to_given = false;
	int o;
	while ((o = getopt_long(sub_argc, sub_argv, ":p:s:d:o:c:vhV", longopts,
				NULL)) != -1) {
		const char *arg = optarg;
		switch (o) {
		case 'p':
			if (target_parse_port(arg, &c->cfg.port) < 0)
				BAD("--port must be a number from 1 to 65535, "
				    "not '%.40s'", arg);
			break;
		case OPT_TLS:
			c->cfg.tls = TLS_MODE_IMPLICIT;
			c->cfg.tls_set = true;
			break;
		case OPT_STARTTLS:
			c->cfg.tls = TLS_MODE_STARTTLS;
			c->cfg.tls_set = true;
			break;
		case OPT_NO_TLS:
			c->cfg.tls = TLS_MODE_NONE;
			c->cfg.tls_set = true;
			break;
		case 's':
			if (parse_source(&c->cfg, arg) < 0)
				BAD("--source must be an IPv4 or IPv6 address, "
				    "not '%.60s'", arg);
			break;
		case OPT_RESOLVER:
			if (add_resolver(c, arg) < 0)
				BAD("--resolver must be IP or IP:PORT, not "
				    "'%.60s'", arg);
			break;
		case OPT_CONNECT_TIMEOUT:
			if (seconds_ms(arg, 3600, &c->cfg.timeouts.connect_ms) < 0)
				BAD("--connect-timeout takes seconds (0-3600]");
			break;
		case OPT_GREETING_TIMEOUT:
			if (seconds_ms(arg, 3600, &c->cfg.timeouts.greeting_ms) < 0)
				BAD("--greeting-timeout takes seconds (0-3600]");
			break;
		case OPT_COMMAND_TIMEOUT:
			if (seconds_ms(arg, 3600, &c->cfg.timeouts.command_ms) < 0)
				BAD("--command-timeout takes seconds (0-3600]");
			break;
		case OPT_TLS_TIMEOUT:
			if (seconds_ms(arg, 3600, &c->cfg.timeouts.tls_ms) < 0)
				BAD("--tls-timeout takes seconds (0-3600]");
			break;
		case OPT_HELO:
			if (!smtp_valid_hostname(arg) && !valid_literal(arg))
				BAD("--helo must be a host name or an address "
				    "literal, not '%.60s'", arg);
			c->cfg.helo = arg;
			break;
		case 'd':
			if (!smtp_valid_hostname(arg))
				BAD("--domain must be a domain name, not "
				    "'%.60s'", arg);
			c->cfg.domain = arg;
			break;
		case OPT_FROM:
			if (!valid_address(arg))
				BAD("--from must be an address like "
				    "user@example.org, not '%.60s'", arg);
			c->cfg.from = arg;
			break;
		case OPT_TO:
			if (!valid_address(arg))
				BAD("--to must be an address like "
				    "user@example.org, not '%.60s'", arg);
			c->cfg.to = arg;
			to_given = true;
			break;
		case OPT_MAILBOX:
			if (!valid_address(arg))
				BAD("--mailbox must be an address like "
				    "you@example.org, not '%.60s'", arg);
			c->cfg.mailbox = arg;
			break;
		case OPT_ONLY:
			for (const char *p = arg; *p; p++)
				if (!isalnum((unsigned char)*p) && *p != ',')
					BAD("--only takes technique ids like "
					    "T01,T02");
			c->cfg.only = arg;
			break;
		case OPT_SESSIONS:
			if (small_int(arg, 1, 16, &c->cfg.max_sessions) < 0)
				BAD("--sessions takes a number from 1 to 16");
			break;
		case OPT_PER_SESSION:
			if (small_int(arg, 1, 50, &c->cfg.per_session) < 0)
				BAD("--per-session takes a number from 1 to 50");
			break;
		case OPT_RETRY_DEFERRED: {
			int ms;
			if (seconds_ms(arg, 86400, &ms) < 0)
				BAD("--retry-deferred takes seconds (0-86400]");
			c->cfg.retry_deferred_s = (ms + 999) / 1000;
			break;
		}
		case OPT_BACKOFF:
			if (seconds_ms(arg, 3600, &c->cfg.backoff_ms) < 0)
				BAD("--backoff takes seconds (0-3600]");
			break;
		case OPT_ZONES:
			c->cfg.zones_path = arg;
			break;
		case OPT_NO_MX:
			c->cfg.no_mx = true;
			break;
		case OPT_NO_BLOCKLISTS:
			c->cfg.no_blocklists = true;
			break;
		case OPT_NO_DNS_CHECKS:
			c->cfg.no_dns_checks = true;
			break;
		case OPT_DNS_PRIVATE:
			c->cfg.dns_private = true;
			break;
		case OPT_CONFIRM:
			c->cfg.confirm = true;
			break;
		case OPT_CONFIRM_DOMAIN:
			if (!smtp_valid_hostname(arg))
				BAD("--confirm-domain must be a domain name, not "
				    "'%.60s'", arg);
			c->cfg.confirm_domain = arg;
			break;
		case OPT_RECEIVER:
			if (parse_listen(arg, &c->cfg.receiver_ss,
					 &c->cfg.receiver_len) < 0)
				BAD("--receiver takes IP:PORT or [IPv6]:PORT, not "
				    "'%.60s'", arg);
			c->cfg.receiver = arg;
			break;
		case OPT_CONFIRM_WAIT: {
			int ms;
			if (seconds_ms(arg, 3600, &ms) < 0)
				BAD("--confirm-wait takes seconds (0-3600]");
			c->cfg.confirm_wait_s = (ms + 999) / 1000;
			break;
		}
		case OPT_SEND_TO:
			if (!valid_address(arg))
				BAD("--send-to must be an address like "
				    "you@example.org, not '%.60s'", arg);
			c->cfg.send_to = arg;
			break;
		case OPT_DURATION: {
			int ms;
			if (seconds_ms(arg, 86400, &ms) < 0)
				BAD("--duration takes seconds (0-86400]");
			c->duration_s = (ms + 999) / 1000;
			break;
		}
		case OPT_FORMAT:
			if (strcmp(arg, "text") && strcmp(arg, "json") &&
			    strcmp(arg, "nagios"))
				BAD("--format takes text, json or nagios");
			c->format = arg;
			break;
		case OPT_PROM:
			c->prometheus_file = arg;
			break;
		case OPT_NO_AUDIT:
			c->cfg.no_audit = true;
			break;
		case OPT_CA_FILE:
			c->cfg.ca_file = arg;
			break;
		case OPT_POSTFIX:
			if (!*arg)
				BAD("--postfix takes a directory, a main.cf or '-'");
			c->postfix_conf = arg;
			break;
		case OPT_EXIM:
			if (!*arg)
				BAD("--exim takes a file or '-'");
			c->exim_conf = arg;
			break;
		case OPT_CLIENT: {
			struct in6_addr a6;
			if (inet_pton(AF_INET, arg, &a6) != 1 &&
			    inet_pton(AF_INET6, arg, &a6) != 1)
				BAD("--client must be an IPv4 or IPv6 address, not "
				    "'%.60s'", arg);
			c->client = arg;
			break;
		}
		case 'o':
			c->scan.output = arg;
			scan_opt = true;
			break;
		case OPT_CHECKS:
			if (parse_checks(&c->scan, arg) < 0)
				BAD("--checks takes a list of relay, audit and "
				    "blocklist, not '%.60s'", arg);
			scan_opt = true;
			break;
		case 'c': {
			int v;
			if (small_int(arg, 1, 100000, &v) < 0)
				BAD("--concurrency takes a number from 1 to 100000");
			c->scan.concurrency = (unsigned)v;
			scan_opt = true;
			break;
		}
		case OPT_RATE: {
			if (c->cmd == CLI_SERVE) { /* checks a minute per client */
				if (small_int(arg, 1, 100000,
					      &c->serve.rate_per_min) < 0)
					BAD("--rate takes checks a minute, 1 to "
					    "100000");
				break;
			}
			char *end;
			double v = strtod(arg, &end);
			if (end == arg || *end || !(v >= 0) || v > 1e6)
				BAD("--rate takes connections per second "
				    "(0-1000000; 0: no limit)");
			c->scan.rate = v;
			scan_opt = true;
			break;
		}
		case OPT_PER_ADDRESS: {
			int v;
			if (small_int(arg, 1, 100, &v) < 0)
				BAD("--per-address takes a number from 1 to 100");
			c->scan.per_address = (unsigned)v;
			scan_opt = true;
			break;
		}
		case OPT_EXCLUDE:
			c->scan.exclude = arg;
			scan_opt = true;
			break;
		case OPT_INCLUDE_SPECIAL:
			c->scan.include_special = true;
			scan_opt = true;
			break;
		case OPT_MAX_CIDR: {
			int v;
			if (small_int(arg, 0, 24, &v) < 0)
				BAD("--max-cidr takes host bits from 0 to 24");
			c->scan.max_cidr_bits = (unsigned)v;
			scan_opt = true;
			break;
		}
		case OPT_RESUME:
			c->scan.resume = arg;
			scan_opt = true;
			break;
		case OPT_SHARD:
			if (scan_shard_parse(arg, &c->scan.shard_k,
					     &c->scan.shard_n, err, errlen) < 0)
				return -1;
			scan_opt = true;
			break;
		case OPT_PROGRESS:
			c->scan.progress = 1;
			scan_opt = true;
			break;
		case OPT_NO_PROGRESS:
			c->scan.progress = 0;
			scan_opt = true;
			break;
		case OPT_LISTEN:
			if (parse_listen(arg, &c->serve.listen_ss,
					 &c->serve.listen_len) < 0)
				BAD("--listen takes IP:PORT or [IPv6]:PORT, not "
				    "'%.60s'", arg);
			c->serve.listen = arg;
			listen_given = true;
			break;
		case OPT_DB:
			if (!*arg)
				BAD("--db needs a file name");
			c->serve.db_path = arg;
			break;
		case OPT_TOKEN_FILE:
			c->serve.token_file = arg;
			break;
		case OPT_ALLOW_PRIVATE:
			c->serve.policy.allow_private = true;
			break;
		case OPT_PORTS: {
			struct serve_policy *p = &c->serve.policy;
			p->nports = 0;
			char buf[128];
			if (strlen(arg) >= sizeof(buf))
				BAD("--ports takes a list like 25,465,587");
			memcpy(buf, arg, strlen(arg) + 1);
			for (char *tok = buf, *next; tok; tok = next) {
				next = strchr(tok, ',');
				if (next)
					*next++ = '\0';
				if (p->nports == REQUEST_MAX_PORTS ||
				    target_parse_port(tok,
						      &p->ports[p->nports]) < 0)
					BAD("--ports takes up to %d ports like "
					    "25,465,587", REQUEST_MAX_PORTS);
				p->nports++;
			}
			break;
		}
		case OPT_MAX_CHECKS:
			if (small_int(arg, 1, 256, &c->serve.max_checks) < 0)
				BAD("--max-checks takes a number from 1 to 256");
			break;
		case OPT_QUEUE:
			if (small_int(arg, 0, 10000, &c->serve.max_queue) < 0)
				BAD("--queue takes a number from 0 to 10000");
			break;
		case OPT_ALLOWED_HOST:
			if (c->serve.nhosts == SERVE_MAX_HOSTS)
				BAD("--allowed-host: at most %d", SERVE_MAX_HOSTS);
			if (!smtp_valid_hostname(arg) && !valid_literal(arg) &&
			    strcmp(arg, "localhost") != 0)
				BAD("--allowed-host takes a host name, not "
				    "'%.60s'", arg);
			c->serve.hosts[c->serve.nhosts++] = arg;
			break;
		case OPT_TRUSTED_PROXY: {
			unsigned char buf[16];
			if (inet_pton(AF_INET, arg, buf) != 1 &&
			    inet_pton(AF_INET6, arg, buf) != 1)
				BAD("--trusted-proxy takes an IP address");
			c->serve.trusted_proxy = arg;
			break;
		}
		case OPT_PUBLIC_URL:
			if (strncmp(arg, "http://", 7) != 0 &&
			    strncmp(arg, "https://", 8) != 0)
				BAD("--public-url takes an http:// or https:// "
				    "URL");
			c->serve.public_url = arg;
			break;
		case OPT_MIN_INTERVAL: {
			int ms;
			if (seconds_ms(arg, 86400 * 366, &ms) < 0)
				BAD("--min-interval takes seconds");
			c->serve.policy.min_interval_s = (ms + 999) / 1000;
			break;
		}
		case OPT_LIMIT:
			if (small_int(arg, 1, 100000, &c->limit) < 0)
				BAD("--limit takes a number from 1 to 100000");
			break;
		case 'v':
			c->verbose = true;
			c->scan.verbose = true;
			break;
		case OPT_JSON:
			c->json = true;
			break;
		case OPT_COLOR:
			if (strcmp(arg, "auto") == 0)
				c->color = COLOR_AUTO;
			else if (strcmp(arg, "always") == 0)
				c->color = COLOR_ALWAYS;
			else if (strcmp(arg, "never") == 0)
				c->color = COLOR_NEVER;
			else
				BAD("--color takes auto, always or never");
			break;
		case 'h':
			c->cmd = CLI_HELP;
			return 0;
		case 'V':
			c->cmd = CLI_VERSION;
			return 0;
		case ':':
			BAD("option '%.40s' needs a value",
			    sub_argv[optind - 1]);
		case '?':
		default:
			if (optopt)
				BAD("unknown option '-%c' (try 'relayprobe "
				    "--help')", optopt);
			BAD("unknown option '%.60s' (try 'relayprobe --help')",
			    sub_argv[optind - 1]);
		}
	}
	if (!explicit_cmd)
		BAD("no command given (try 'relayprobe --help')");
	c->targets = sub_argv + optind;
	c->ntargets = (size_t)(sub_argc - optind);
	if (c->cmd == CLI_CHECK && c->ntargets == 0)
		BAD("check needs at least one TARGET (host, IP or host:port)");
	if (c->cmd == CLI_TESTS && c->ntargets > 0)
		BAD("tests takes no targets");
	if (c->cmd == CLI_CONFIG_CHECK && c->ntargets > 0)
		BAD("config-check takes no targets (use --postfix or --exim)");
	if (c->cmd == CLI_CONFIG_CHECK && c->format && strcmp(c->format, "nagios") == 0)
		BAD("config-check --format takes text or json");
	if (c->cmd != CLI_CONFIG_CHECK &&
	    (c->postfix_conf || c->exim_conf || c->client))
		BAD("--postfix, --exim and --client belong to config-check");
	if (scan_opt && c->cmd != CLI_SCAN)
		BAD("that option is for scan only (try 'relayprobe --help')");
	if (c->cmd == CLI_SCAN) {
		if (c->ntargets > 1)
			BAD("scan reads targets from one FILE (or stdin), not "
			    "from arguments");
		if (c->ntargets == 1)
			c->scan.input = c->targets[0];
		if (c->cfg.confirm || c->cfg.send_to)
			BAD("scan does not send probes: --confirm and --send-to "
			    "are for check");
		if (c->json || c->format || c->prometheus_file)
			BAD("scan always writes JSON lines: no --json, --format "
			    "or --prometheus-textfile");
	}
	if (c->cfg.confirm && (!c->cfg.confirm_domain || !c->cfg.receiver))
		BAD("--confirm needs --confirm-domain and --receiver");
	if (c->cfg.confirm && c->cfg.send_to)
		BAD("--confirm and --send-to are two ways to prove delivery: "
		    "choose one");
	if ((c->cfg.confirm || c->cfg.send_to) && to_given)
		BAD("--to cannot be used with --confirm or --send-to: probes "
		    "go only to the address you own");
	if (c->cfg.send_to && !c->cfg.mailbox)
		c->cfg.mailbox = c->cfg.send_to;
	if (c->cmd == CLI_RECEIVE &&
	    (!c->cfg.confirm_domain || !c->cfg.receiver || c->ntargets))
		BAD("receive needs --receiver ADDR:PORT and --confirm-domain "
		    "DOMAIN, and no targets");
	if (c->cmd == CLI_SERVE && c->ntargets)
		BAD("serve takes no targets (they come from the web)");
	if (c->cmd == CLI_HISTORY && c->ntargets != 1)
		BAD("history needs exactly one TARGET");
	if (c->cmd == CLI_SERVE && !listen_given) {
		c->serve.listen = "127.0.0.1:8025";
		parse_listen(c->serve.listen, &c->serve.listen_ss,
			     &c->serve.listen_len);
	}
	if (c->cmd == CLI_SERVE && (c->cfg.confirm || c->cfg.send_to))
		BAD("serve does not send probes through DATA: no --confirm or "
		    "--send-to");
	if (c->cmd == CLI_MX && c->ntargets == 0)
		BAD("mx needs at least one DOMAIN");
	if (c->cmd == CLI_BLOCKLIST && c->ntargets == 0)
		BAD("blocklist needs at least one IP, HOST or DOMAIN");
	for (size_t i = 0; c->cmd == CLI_CHECK && i < c->ntargets; i++) {
		struct target t;
		if (target_parse(c->targets[i], c->cfg.port, &t, err, errlen) <
		    0)
			return -1;
	}
	return 0;
}

void cli_cleanup(struct cli *c)
{
	free(c->resolvers);
	c->resolvers = NULL;
}
