/* Unit tests for check/gate: the total and per-address caps, the wake-up
 * of queued waiters (from the gate's own event, never inside acquire or
 * release), first come first served, cancel, and the rate limit's token
 * bucket (counted in grants, not timed). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <event2/event.h>

#include "check/gate.h"

struct w {
	struct gate_waiter gw;
	int woken;
};

static void on_wake(void *arg)
{
	((struct w *)arg)->woken++;
}

static void init_w(struct w *w)
{
	memset(w, 0, sizeof(*w));
	w->gw.wake = on_wake;
	w->gw.arg = w;
}

static struct sockaddr_storage addr(const char *ip, int port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &a->sin_addr);
	return ss;
}

static void run_once(struct event_base *b)
{
	event_base_loop(b, EVLOOP_NONBLOCK);
}

static void test_per_address(void **state)
{
	struct event_base *b = event_base_new();
	struct conn_gate *g = gate_new(b, 100, 2, 0);
	assert_non_null(g);
	struct sockaddr_storage a25 = addr("127.0.0.1", 25);
	struct sockaddr_storage a587 = addr("127.0.0.1", 587);
	struct sockaddr_storage other = addr("127.0.0.2", 25);
	struct w w1, w2, w3, w4;
	init_w(&w1);
	init_w(&w2);
	init_w(&w3);
	init_w(&w4);
	assert_true(gate_acquire(g, &a25, &w1.gw));
	/* The cap is per IP address, whatever the port. */
	assert_true(gate_acquire(g, &a587, &w2.gw));
	assert_false(gate_acquire(g, &a25, &w3.gw));
	assert_true(w3.gw.queued);
	/* Another address is not held up by it. */
	assert_true(gate_acquire(g, &other, &w4.gw));
	struct gate_stats st;
	gate_stats(g, &st);
	assert_int_equal(st.open, 3);
	assert_int_equal(st.peak_per_address, 2);
	assert_int_equal(st.waiting, 1);
	/* A release wakes the waiter from the loop, not from release. */
	gate_release(g, &a25);
	assert_int_equal(w3.woken, 0);
	run_once(b);
	assert_int_equal(w3.woken, 1);
	assert_true(gate_acquire(g, &a25, &w3.gw));
	gate_stats(g, &st);
	assert_int_equal(st.open, 3);
	assert_int_equal(st.peak_per_address, 2);
	assert_int_equal(st.waiting, 0);
	gate_release(g, &a25);
	gate_release(g, &a587);
	gate_release(g, &other);
	gate_stats(g, &st);
	assert_int_equal(st.open, 0);
	/* A release of something never granted changes nothing. */
	gate_release(g, &other);
	gate_stats(g, &st);
	assert_int_equal(st.open, 0);
	gate_free(g);
	event_base_free(b);
}

static void test_total_fifo_cancel(void **state)
{
	struct event_base *b = event_base_new();
	struct conn_gate *g = gate_new(b, 2, 10, 0);
	struct sockaddr_storage a[5];
	struct w w[5];
	for (int i = 0; i < 5; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "127.0.0.%d", i + 1);
		a[i] = addr(ip, 25);
		init_w(&w[i]);
	}
	assert_true(gate_acquire(g, &a[0], &w[0].gw));
	assert_true(gate_acquire(g, &a[1], &w[1].gw));
	assert_false(gate_acquire(g, &a[2], &w[2].gw));
	assert_false(gate_acquire(g, &a[3], &w[3].gw));
	assert_false(gate_acquire(g, &a[4], &w[4].gw));
	/* w[3] gives up: it must never be woken. */
	gate_cancel(g, &w[3].gw);
	gate_release(g, &a[0]);
	run_once(b);
	/* One slot: the first in the queue gets the call. */
	assert_int_equal(w[2].woken, 1);
	assert_int_equal(w[4].woken, 0);
	/* A newcomer does not jump the queue... */
	struct w late;
	init_w(&late);
	struct sockaddr_storage al = addr("127.0.0.9", 25);
	assert_false(gate_acquire(g, &al, &late.gw));
	/* ...but the woken one goes ahead. */
	assert_true(gate_acquire(g, &a[2], &w[2].gw));
	gate_release(g, &a[1]);
	run_once(b);
	assert_int_equal(w[4].woken, 1);
	assert_int_equal(late.woken, 0);
	assert_int_equal(w[3].woken, 0);
	assert_true(gate_acquire(g, &a[4], &w[4].gw));
	struct gate_stats st;
	gate_stats(g, &st);
	assert_int_equal(st.open, 2);
	assert_int_equal(st.peak_open, 2);
	assert_int_equal(st.granted, 4);
	gate_cancel(g, &late.gw);
	gate_free(g);
	event_base_free(b);
}

static void test_rate(void **state)
{
	struct event_base *b = event_base_new();
	/* 20 per second: a burst of one, then a token every 50 ms. */
	struct conn_gate *g = gate_new(b, 100, 100, 20);
	struct w w[3];
	struct sockaddr_storage a = addr("127.0.0.1", 25);
	for (int i = 0; i < 3; i++)
		init_w(&w[i]);
	assert_true(gate_acquire(g, &a, &w[0].gw));
	assert_false(gate_acquire(g, &a, &w[1].gw));
	/* The gate's timer brings the next token: run the loop until the
	 * waiter is woken (the loop exits by itself when it is). */
	while (!w[1].woken)
		event_base_loop(b, EVLOOP_ONCE);
	assert_true(gate_acquire(g, &a, &w[1].gw));
	struct gate_stats st;
	gate_stats(g, &st);
	assert_int_equal(st.granted, 2);
	gate_free(g);
	event_base_free(b);
}

static void test_hold(void **state)
{
	struct event_base *b = event_base_new();
	struct conn_gate *g = gate_new(b, 100, 5, 0);
	struct sockaddr_storage a = addr("127.0.0.1", 25);
	struct sockaddr_storage a2 = addr("127.0.0.1", 587);
	struct sockaddr_storage other = addr("127.0.0.2", 25);
	struct w w1, w2, w3;
	init_w(&w1);
	init_w(&w2);
	init_w(&w3);
	assert_true(gate_acquire(g, &a, &w1.gw));
	/* A 421: nothing new to that address, on any port, for 30 ms. */
	gate_hold(g, &a, 30);
	assert_false(gate_acquire(g, &a2, &w2.gw));
	assert_true(gate_acquire(g, &other, &w3.gw));
	gate_release(g, &a);
	run_once(b);
	assert_int_equal(w2.woken, 0); /* a release does not end the hold */
	assert_false(gate_acquire(g, &a2, &w2.gw));
	while (!w2.woken)
		event_base_loop(b, EVLOOP_ONCE);
	assert_true(gate_acquire(g, &a2, &w2.gw));
	gate_release(g, &a2);
	gate_release(g, &other);
	struct gate_stats st;
	gate_stats(g, &st);
	assert_int_equal(st.open, 0);
	assert_int_equal(st.waiting, 0);
	gate_free(g);
	event_base_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_per_address),
	    cmocka_unit_test(test_total_fifo_cancel),
	    cmocka_unit_test(test_rate),
	    cmocka_unit_test(test_hold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
