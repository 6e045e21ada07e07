/*
 * check/server: runs the relay test against one server (one address and
 * port) and fills its server_result.
 *
 * The first session reads the banner and EHLO, from which the target's
 * names are derived; then the controls and techniques become a queue of
 * test items, spread over at most max_sessions parallel sessions of at most
 * per_session tests each, so no session piles up enough rejections to be
 * slowed or dropped (Postfix: 1 s per error after 10, dropped at 20).
 * Sessions use the EHLO name the item needs (T09 claims the server's own
 * name). A "530 ... STARTTLS" re-queues the items for TLS sessions; a
 * dropped session or a 421 re-queues what it had not finished (after a
 * back-off for 421); deferred items are retried once after
 * --retry-deferred seconds. When the queue is empty the verdict is decided
 * (relay/verdict) and done() is called from the event loop.
 *
 * Ownership: the caller owns the server_check and the result it fills; free
 * the check only after done() has run (or before start).
 */
#ifndef RP_CHECK_SERVER_H
#define RP_CHECK_SERVER_H

#include <sys/socket.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "check/config.h"
#include "check/result.h"

struct server_check;

typedef void (*server_done_cb)(void *arg, struct server_check *sc);

/* res must have host, address and port set; it stays the caller's. */
struct server_check *server_check_new(struct event_base *base, SSL_CTX *ctx,
				      const struct check_config *cfg,
				      struct server_result *res,
				      const struct sockaddr_storage *addr,
				      socklen_t addrlen, server_done_cb done,
				      void *arg);
/* Starts the first session; all further work happens in the loop. */
void server_check_start(struct server_check *sc);
void server_check_free(struct server_check *sc);

/* Decides the verdict from the results (confirmed: delivery proof ran and
 * each probe's delivery is final). Replaces any earlier verdict. */
void server_result_decide(struct server_result *res, bool confirmed);

#endif
