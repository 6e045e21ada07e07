/* Unit tests for serve/ratelimit: token buckets per client, refill,
 * retry-after, bounded table, IPv6 /64 keys. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "serve/ratelimit.h"

static void buckets(void **state)
{
	(void)state;
	/* 1 token every 10 s, burst 3. */
	struct ratelimit *rl = ratelimit_new(64, 0.1, 3);
	assert_non_null(rl);
	int ra = 0;
	for (int i = 0; i < 3; i++)
		assert_true(ratelimit_take(rl, "192.0.2.1", 1000, &ra));
	assert_false(ratelimit_take(rl, "192.0.2.1", 1000, &ra));
	assert_int_equal(ra, 10);
	/* Another client is not affected. */
	assert_true(ratelimit_take(rl, "192.0.2.2", 1000, &ra));
	/* 5 s later: still empty, 5 s to go. */
	assert_false(ratelimit_take(rl, "192.0.2.1", 6000, &ra));
	assert_int_equal(ra, 5);
	/* 10 s later: one token. */
	assert_true(ratelimit_take(rl, "192.0.2.1", 11000, &ra));
	assert_false(ratelimit_take(rl, "192.0.2.1", 11000, &ra));
	/* Long idle: back to the burst, not beyond. */
	for (int i = 0; i < 3; i++)
		assert_true(ratelimit_take(rl, "192.0.2.1", 1000000, &ra));
	assert_false(ratelimit_take(rl, "192.0.2.1", 1000000, &ra));
	/* Time going backwards does not mint tokens. */
	assert_false(ratelimit_take(rl, "192.0.2.1", 0, &ra));
	ratelimit_free(rl);
	assert_null(ratelimit_new(4, 1, 1));
	assert_null(ratelimit_new(64, 0, 1));
	assert_null(ratelimit_new(64, 1, 0));
}

static void bounded_table(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new(16, 0.001, 1);
	char c[32];
	/* 1000 clients through 16 slots: each new one gets its burst, the
	 * table does not grow, the latest clients are remembered. */
	for (int i = 0; i < 1000; i++) {
		snprintf(c, sizeof(c), "198.51.100.%d/%d", i % 250, i);
		assert_true(ratelimit_take(rl, c, 1000 + i, NULL));
	}
	assert_false(ratelimit_take(rl, c, 2000, NULL));
	ratelimit_free(rl);
}

static void keys(void **state)
{
	(void)state;
	char k[64];
	ratelimit_client_key("192.0.2.7", k, sizeof(k));
	assert_string_equal(k, "192.0.2.7");
	ratelimit_client_key("2001:db8:1:2:3:4:5:6", k, sizeof(k));
	assert_string_equal(k, "2001:db8:1:2::/64");
	ratelimit_client_key("2001:db8:1:2::99", k, sizeof(k));
	assert_string_equal(k, "2001:db8:1:2::/64");
	ratelimit_client_key("::ffff:192.0.2.7", k, sizeof(k));
	assert_string_equal(k, "192.0.2.7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buckets),
		cmocka_unit_test(bounded_table),
		cmocka_unit_test(keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
