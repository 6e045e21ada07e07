/*
 * smtpfarm: a farm of fake mail servers for scan tests and the benchmark.
 * It listens on COUNT consecutive loopback addresses (127.0.0.0/8 only:
 * the network rule) on one port and answers every connection like a
 * closed Postfix (relay access denied, unknown local users refused,
 * postmaster accepted, VRFY answered, no STARTTLS), each reply sent DELAY
 * ms after the command arrived, so pipelined commands cost one delay and
 * sequential ones one delay each: a round-trip time.
 *
 * It counts connections, MAIL and RCPT commands, and the most connections
 * open at once in total and to one address, and writes them as JSON to
 * --stats FILE on SIGUSR1 and at exit (SIGTERM/SIGINT); SIGUSR2 starts a
 * new measurement (counters to zero, peaks from now) and writes the file. Single-threaded epoll; memory per connection is fixed
 * apart from the reply queue, which is bounded.
 *
 *   smtpfarm --first 127.1.0.1 --count 10000 --port 2525 --delay-ms 50
 *            [--stats FILE] [--ready FILE]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_ 1000
#define PEND_MAX 16384

struct conn {
	int fd;
	uint32_t gen;
	uint32_t addr;   /* index of the listening address */
	char in[LINE_MAX_ + 1];
	size_t inlen;
	bool overflow;
	char *pend;      /* replies not yet due */
	size_t pendlen;
	unsigned long long moved; /* bytes moved from pend to out so far */
	char *out;       /* due, not yet written */
	size_t outlen, outcap;
	bool quit;       /* close once everything is written */
	bool greeted;
};

/* A reply batch falls due: move pend[0..upto) to out. */
struct due {
	int fd;
	uint32_t gen;
	unsigned long long upto; /* absolute: conn.moved + pendlen then */
	long long at_ms;
};

static struct conn **conns;   /* by fd */
static size_t nconns_max;
static uint32_t *open_per;    /* by address index */
static uint32_t *conns_per;     /* connections in total, by address */
static uint32_t nlisten;
static int *listen_fd;
static uint32_t first_addr;   /* host order */
static long delay_ms;
static struct due *dues;
static size_t due_head, due_len, due_cap;
static unsigned long long total_conns;
static uint32_t open_now, peak_open, peak_per;
static const char *stats_path;
static unsigned long long total_mail, total_rcpt;
static volatile sig_atomic_t want_stats, want_reset, want_exit;

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void write_stats(void)
{
	if (!stats_path)
		return;
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", stats_path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f,
		"{\"addresses\":%u,\"connections\":%llu,\"mail\":%llu,"
		"\"rcpt\":%llu,\"open\":%u,\"max_open\":%u,"
		"\"max_per_address\":%u,\"connected\":{",
		nlisten, total_conns, total_mail, total_rcpt, open_now,
		peak_open, peak_per);
	/* Which addresses were connected to, and how often (small farms:
	 * the tests' exclusion checks). */
	bool first_entry = true;
	for (uint32_t i = 0; nlisten <= 4096 && i < nlisten; i++) {
		if (!conns_per[i])
			continue;
		struct in_addr a = {.s_addr = htonl(first_addr + i)};
		char t[32];
		inet_ntop(AF_INET, &a, t, sizeof(t));
		fprintf(f, "%s\"%s\":%u", first_entry ? "" : ",", t, conns_per[i]);
		first_entry = false;
	}
	fprintf(f, "}}\n");
	fclose(f);
	rename(tmp, stats_path);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_stats = 1;
	else if (sig == SIGUSR2)
		want_reset = 1;
	else
		want_exit = 1;
}

static int push_due(int fd, uint32_t gen, unsigned long long upto)
{
	if (due_len == due_cap) {
		size_t nc = due_cap ? due_cap * 2 : 1024;
		struct due *nv = malloc(nc * sizeof(*nv));
		if (!nv)
			return -1;
		for (size_t i = 0; i < due_len; i++)
			nv[i] = dues[(due_head + i) % (due_cap ? due_cap : 1)];
		free(dues);
		dues = nv;
		due_cap = nc;
		due_head = 0;
	}
	dues[(due_head + due_len) % due_cap] =
	    (struct due){fd, gen, upto, now_ms() + delay_ms};
	due_len++;
	return 0;
}

static void close_conn(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	conns[c->fd] = NULL;
	open_per[c->addr]--;
	open_now--;
	free(c->pend);
	free(c->out);
	free(c);
}

static void reply(struct conn *c, const char *text)
{
	size_t n = strlen(text);
	if (c->pendlen + n + 2 > PEND_MAX)
		return; /* a client that never reads gets no more */
	char *nv = realloc(c->pend, c->pendlen + n + 2);
	if (!nv)
		return;
	c->pend = nv;
	memcpy(c->pend + c->pendlen, text, n);
	memcpy(c->pend + c->pendlen + n, "\r\n", 2);
	c->pendlen += n + 2;
}

static bool local_domain(const char *d)
{
	if (strcasecmp(d, "farm.test") == 0 || strcasecmp(d, "mail.farm.test") == 0)
		return true;
	return d[0] == '['; /* our own address literal */
}

/* "<local@domain>" of MAIL/RCPT: split; false when malformed. */
static bool split_path(const char *arg, char *local, size_t ll, char *dom,
		       size_t dl)
{
	const char *lt = strchr(arg, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;
	if (!lt || !gt)
		return false;
	size_t n = (size_t)(gt - lt - 1);
	char path[600];
	if (n >= sizeof(path))
		return false;
	memcpy(path, lt + 1, n);
	path[n] = '\0';
	char *at = strrchr(path, '@');
	if (!at) {
		snprintf(local, ll, "%s", path);
		dom[0] = '\0';
		return true;
	}
	*at = '\0';
	snprintf(local, ll, "%s", path);
	snprintf(dom, dl, "%s", at + 1);
	return true;
}

static void command(struct conn *c, char *line)
{
	char r[800];
	if (strncasecmp(line, "EHLO", 4) == 0) {
		reply(c, "250-mail.farm.test\r\n250-PIPELINING\r\n250-SIZE 10240000"
			 "\r\n250-VRFY\r\n250-ETRN\r\n250-ENHANCEDSTATUSCODES\r\n"
			 "250-8BITMIME\r\n250-DSN\r\n250 SMTPUTF8");
	} else if (strncasecmp(line, "HELO", 4) == 0) {
		reply(c, "250 mail.farm.test");
	} else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
		total_mail++;
		if (strchr(line, '<'))
			reply(c, "250 2.1.0 Ok");
		else
			reply(c, "501 5.1.7 Bad sender address syntax");
	} else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
		total_rcpt++;
		char local[600], dom[300];
		if (!split_path(line + 8, local, sizeof(local), dom, sizeof(dom))) {
			reply(c, "501 5.1.3 Bad recipient address syntax");
			return;
		}
		if (dom[0] && local_domain(dom) && !strpbrk(local, "%!@:")) {
			if (strcasecmp(local, "postmaster") == 0)
				reply(c, "250 2.1.5 Ok");
			else {
				snprintf(r, sizeof(r),
					 "550 5.1.1 <%.300s@%.200s>: Recipient "
					 "address rejected: User unknown in "
					 "local recipient table",
					 local, dom);
				reply(c, r);
			}
		} else if (!dom[0] && strcasecmp(local, "postmaster") == 0) {
			reply(c, "250 2.1.5 Ok");
		} else {
			snprintf(r, sizeof(r),
				 "554 5.7.1 <%.300s%s%.200s>: Relay access denied",
				 local, dom[0] ? "@" : "", dom);
			reply(c, r);
		}
	} else if (strncasecmp(line, "RSET", 4) == 0 ||
		   strncasecmp(line, "NOOP", 4) == 0) {
		reply(c, "250 2.0.0 Ok");
	} else if (strncasecmp(line, "VRFY", 4) == 0) {
		if (strcasestr(line, "postmaster"))
			reply(c, "252 2.0.0 postmaster");
		else
			reply(c, "550 5.1.1 Recipient address rejected: User "
				 "unknown in local recipient table");
	} else if (strncasecmp(line, "DATA", 4) == 0) {
		reply(c, "554 5.5.1 Error: no valid recipients");
	} else if (strncasecmp(line, "QUIT", 4) == 0) {
		reply(c, "221 2.0.0 Bye");
		c->quit = true;
	} else {
		reply(c, "502 5.5.2 Error: command not recognized");
	}
}

static void flush_out(int ep, struct conn *c)
{
	while (c->outlen > 0) {
		ssize_t w = write(c->fd, c->out, c->outlen);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			close_conn(ep, c);
			return;
		}
		memmove(c->out, c->out + w, c->outlen - (size_t)w);
		c->outlen -= (size_t)w;
	}
	struct epoll_event ev = {.events = EPOLLIN | (c->outlen ? EPOLLOUT : 0),
				 .data.fd = c->fd};
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	if (c->outlen == 0 && c->quit && c->pendlen == 0)
		close_conn(ep, c);
}

static void release(int ep, struct due *d)
{
	struct conn *c = (d->fd >= 0 && (size_t)d->fd < nconns_max) ? conns[d->fd]
								      : NULL;
	if (!c || c->gen != d->gen)
		return;
	if (d->upto <= c->moved)
		return;
	size_t n = (size_t)(d->upto - c->moved);
	if (n > c->pendlen)
		n = c->pendlen;
	if (c->outlen + n > c->outcap) {
		size_t nc = c->outlen + n + 1024;
		char *nv = realloc(c->out, nc);
		if (!nv)
			return;
		c->out = nv;
		c->outcap = nc;
	}
	memcpy(c->out + c->outlen, c->pend, n);
	c->outlen += n;
	memmove(c->pend, c->pend + n, c->pendlen - n);
	c->pendlen -= n;
	c->moved += n;
	flush_out(ep, c);
}

static void on_read(int ep, struct conn *c)
{
	char buf[4096];
	ssize_t r = read(c->fd, buf, sizeof(buf));
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		close_conn(ep, c);
		return;
	}
	if (r < 0)
		return;
	size_t before = c->pendlen;
	for (ssize_t i = 0; i < r; i++) {
		char ch = buf[i];
		if (ch == '\n') {
			if (c->inlen && c->in[c->inlen - 1] == '\r')
				c->inlen--;
			c->in[c->inlen] = '\0';
			if (c->overflow)
				reply(c, "500 5.5.0 Error: line too long");
			else if (!c->quit)
				command(c, c->in);
			c->inlen = 0;
			c->overflow = false;
		} else if (c->inlen < LINE_MAX_) {
			c->in[c->inlen++] = ch;
		} else {
			c->overflow = true;
		}
	}
	if (c->pendlen > before)
		push_due(c->fd, c->gen, c->moved + c->pendlen);
}

static void on_accept(int ep, int lfd, uint32_t idx)
{
	static uint32_t gen;
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if ((size_t)fd >= nconns_max) {
			close(fd);
			continue;
		}
		struct conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->gen = ++gen;
		c->addr = idx;
		conns[fd] = c;
		total_conns++;
		open_now++;
		if (open_now > peak_open)
			peak_open = open_now;
		if (++open_per[idx] > peak_per)
			peak_per = open_per[idx];
		conns_per[idx]++;
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		reply(c, "220 mail.farm.test ESMTP Postfix (Debian/GNU)");
		push_due(fd, c->gen, c->moved + c->pendlen);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: smtpfarm --first 127.A.B.C --count N --port P "
			"[--delay-ms MS] [--stats FILE] [--ready FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *first = "127.1.0.1", *ready = NULL;
	long count = 1, port = 2525;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		const char *a = argv[i], *v = argv[++i];
		if (strcmp(a, "--first") == 0)
			first = v;
		else if (strcmp(a, "--count") == 0)
			count = strtol(v, NULL, 10);
		else if (strcmp(a, "--port") == 0)
			port = strtol(v, NULL, 10);
		else if (strcmp(a, "--delay-ms") == 0)
			delay_ms = strtol(v, NULL, 10);
		else if (strcmp(a, "--stats") == 0)
			stats_path = v;
		else if (strcmp(a, "--ready") == 0)
			ready = v;
		else
			usage();
	}
	struct in_addr ia;
	if (inet_pton(AF_INET, first, &ia) != 1 || count < 1 || count > 200000 ||
	    port < 1 || port > 65535 || delay_ms < 0 || delay_ms > 60000)
		usage();
	first_addr = ntohl(ia.s_addr);
	/* Network rule: loopback only, and the last address too. */
	if ((first_addr >> 24) != 127 ||
	    ((first_addr + (uint32_t)count - 1) >> 24) != 127) {
		fprintf(stderr, "smtpfarm: addresses must stay in 127.0.0.0/8\n");
		return 2;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	nconns_max = rl.rlim_cur == RLIM_INFINITY ? 1048576 : rl.rlim_cur;
	conns = calloc(nconns_max, sizeof(*conns));
	nlisten = (uint32_t)count;
	listen_fd = calloc(nlisten, sizeof(int));
	open_per = calloc(nlisten, sizeof(uint32_t));
	conns_per = calloc(nlisten, sizeof(uint32_t));
	if (!conns || !listen_fd || !open_per || !conns_per)
		return 1;
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	for (uint32_t i = 0; i < nlisten; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_port = htons((uint16_t)port),
					.sin_addr.s_addr = htonl(first_addr + i)};
		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    listen(fd, 512) < 0) {
			char t[32];
			inet_ntop(AF_INET, &a.sin_addr, t, sizeof(t));
			fprintf(stderr, "smtpfarm: cannot listen on %s:%ld: %s\n", t,
				port, strerror(errno));
			return 1;
		}
		listen_fd[i] = fd;
		/* Listening sockets are told apart from connections by a tag
		 * above any descriptor number. */
		struct epoll_event ev = {.events = EPOLLIN,
					 .data.u64 = (1ULL << 40) | i};
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	write_stats();
	if (ready) {
		FILE *f = fopen(ready, "w");
		if (f) {
			fprintf(f, "ready\n");
			fclose(f);
		}
	}
	struct epoll_event evs[256];
	while (!want_exit) {
		if (want_stats) {
			want_stats = 0;
			write_stats();
		}
		if (want_reset) {
			/* A new measurement: counters from zero, peaks from now. */
			want_reset = 0;
			total_conns = total_mail = total_rcpt = 0;
			peak_open = open_now;
			peak_per = 0;
			for (uint32_t i = 0; i < nlisten; i++) {
				conns_per[i] = 0;
				if (open_per[i] > peak_per)
					peak_per = open_per[i];
			}
			write_stats();
		}
		int timeout = -1;
		if (due_len) {
			long long d = dues[due_head].at_ms - now_ms();
			timeout = d < 0 ? 0 : (int)d;
		}
		if (timeout < 0 || timeout > 500)
			timeout = 500;
		int n = epoll_wait(ep, evs, 256, timeout);
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;
			if (tag >> 40) {
				uint32_t idx = (uint32_t)(tag & 0xffffffffu);
				on_accept(ep, listen_fd[idx], idx);
				continue;
			}
			int fd = evs[i].data.fd;
			struct conn *c = conns[fd];
			if (!c)
				continue;
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				on_read(ep, c);
			if ((c = conns[fd]) && (evs[i].events & EPOLLOUT))
				flush_out(ep, c);
		}
		long long t = now_ms();
		while (due_len && dues[due_head].at_ms <= t) {
			struct due d = dues[due_head];
			due_head = (due_head + 1) % due_cap;
			due_len--;
			release(ep, &d);
		}
	}
	write_stats();
	return 0;
}
