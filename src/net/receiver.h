/*
 * net/receiver: relayprobe's built-in SMTP receiver on the event loop. It
 * listens while a check with --confirm runs, takes mail only for tokens a
 * test is waiting for (smtp/receiver decides), and reports each token that
 * arrives. Limits: line length, message size, concurrent connections (64,
 * 16 per address), new connections per second, 200 commands and 120 s per
 * connection, an idle timeout, and no reading while replies pile up for a
 * client that does not read them.
 *
 * Ownership: the caller owns the receiver; receiver_free closes every
 * connection. Callbacks run from the loop and must not free the receiver.
 */
#ifndef RP_NET_RECEIVER_H
#define RP_NET_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <event2/event.h>

struct receiver_config {
	struct event_base *base;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	const char *domain;   /* recipients' domain (copied) */
	const char *hostname; /* for the greeting (copied) */
	size_t max_message;   /* bytes; default 64 KiB */
	int max_conns;        /* concurrent; default 64 */
	int max_rate;         /* new connections per second; default 50 */
	int timeout_ms;       /* idle time per connection; default 30 s */
	bool any_token;       /* accept every well-formed token (standalone) */
};

/* token arrived from peer (text address). */
typedef void (*receiver_cb)(void *arg, const char *token, const char *peer);

struct receiver *receiver_new(const struct receiver_config *cfg,
			      receiver_cb cb, void *arg, char *err,
			      size_t errlen);
void receiver_free(struct receiver *r);
/* Registers a token a test waits for. Returns 0 or -1. */
int receiver_expect(struct receiver *r, const char *token);
/* Counters for the report. */
struct receiver_stats {
	unsigned long connections, refused_busy, messages, rejected;
};
void receiver_stats(const struct receiver *r, struct receiver_stats *out);

#endif
