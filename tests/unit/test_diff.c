/* Unit tests for serve/diff: changes between two runs and alerts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "serve/diff.h"

static json_t *doc(const char *text)
{
	json_error_t e;
	json_t *d = json_loads(text, 0, &e);
	if (!d)
		fail_msg("bad test JSON: %s", e.text);
	return d;
}

static const json_t *find(const json_t *changes, const char *kind)
{
	size_t i;
	json_t *c;
	json_array_foreach(changes, i, c)
	{
		if (strcmp(json_string_value(json_object_get(c, "kind")),
			   kind) == 0)
			return c;
	}
	return NULL;
}

#define SERVER(v, bl, fi)                                                      \
	"{\"address\":\"192.0.2.1\",\"port\":25,\"verdict\":\"" v "\","        \
	"\"blocklists\":[" bl "],\"findings\":[" fi "],"                       \
	"\"certificate\":{\"days_left\":12}}"
#define DOC(v, servers) "{\"verdict\":\"" v "\",\"servers\":[" servers "]}"
#define LISTED "{\"zone\":\"zen.example\",\"status\":\"listed\"}"
#define VRFY                                                                   \
	"{\"id\":\"vrfy-enabled\",\"severity\":\"warning\",\"title\":\"VRFY\"}"
#define OPENF                                                                  \
	"{\"id\":\"open-relay\",\"severity\":\"critical\",\"title\":\"Open\"}"
#define EXPIRING                                                               \
	"{\"id\":\"tls-cert-expiring\",\"severity\":\"warning\","              \
	"\"title\":\"Certificate expires soon\"}"

static void closed_to_open_alerts(void **state)
{
	(void)state;
	json_t *a = doc(DOC("closed", SERVER("closed", "", VRFY)));
	json_t *b = doc(DOC("open", SERVER("open", "", VRFY "," OPENF)));
	bool alert;
	json_t *c = diff_results(a, b, &alert);
	assert_true(alert);
	const json_t *v = find(c, "verdict");
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "direction")),
			    "worse");
	assert_non_null(find(c, "server-verdict"));
	assert_non_null(find(c, "finding-new"));
	assert_null(find(c, "finding-resolved"));
	json_decref(c);
	/* And back: better, no alert, the fix shown as resolved. */
	c = diff_results(b, a, &alert);
	assert_false(alert);
	v = find(c, "verdict");
	assert_string_equal(json_string_value(json_object_get(v, "direction")),
			    "better");
	const json_t *r = find(c, "finding-resolved");
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "id")),
			    "open-relay");
	assert_non_null(strstr(json_string_value(json_object_get(r, "message")),
			       "fixed since the last test"));
	json_decref(c);
	json_decref(a);
	json_decref(b);
}

static void listings_and_certificates(void **state)
{
	(void)state;
	json_t *a = doc(DOC("closed", SERVER("closed", "", "")));
	json_t *b = doc(DOC("closed", SERVER("closed", LISTED, EXPIRING)));
	bool alert;
	json_t *c = diff_results(a, b, &alert);
	assert_true(alert);
	const json_t *l = find(c, "listed");
	assert_non_null(l);
	assert_string_equal(json_string_value(json_object_get(l, "zone")),
			    "zen.example");
	const json_t *x = find(c, "certificate-expiring");
	assert_non_null(x);
	assert_int_equal(json_integer_value(json_object_get(x, "days_left")),
			 12);
	assert_null(find(c, "verdict"));
	json_decref(c);
	c = diff_results(b, a, &alert);
	assert_false(alert);
	assert_non_null(find(c, "delisted"));
	json_decref(c);
	json_decref(a);
	json_decref(b);
}

static void no_change_and_servers(void **state)
{
	(void)state;
	json_t *a = doc(DOC("closed", SERVER("closed", LISTED, VRFY)));
	bool alert = true;
	json_t *c = diff_results(a, a, &alert);
	assert_false(alert);
	assert_int_equal(json_array_size(c), 0);
	json_decref(c);
	json_t *b = doc("{\"verdict\":\"closed\",\"servers\":[{\"address\":"
			"\"2001:db8::1\",\"port\":25,\"verdict\":\"closed\"}]}");
	c = diff_results(a, b, &alert);
	assert_non_null(find(c, "server-new"));
	assert_non_null(find(c, "server-gone"));
	json_decref(c);
	/* Garbage documents: no crash, no changes. */
	json_t *g = doc("[1,2]");
	c = diff_results(g, a, &alert);
	assert_non_null(c);
	json_decref(c);
	json_decref(g);
	json_decref(a);
	json_decref(b);
	assert_int_equal(diff_verdict_rank("open"), 4);
	assert_int_equal(diff_verdict_rank("closed"), 0);
	assert_int_equal(diff_verdict_rank("bogus"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(closed_to_open_alerts),
		cmocka_unit_test(listings_and_certificates),
		cmocka_unit_test(no_change_and_servers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
