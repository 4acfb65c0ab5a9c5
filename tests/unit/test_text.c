/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: lib/text.c, the UTF-8 decoder against the forms a strict reader refuses, and
 * names rendered for JSON, Prometheus and a terminal. */
#include <errno.h>
#include <string.h>

#include "numasafe/text.h"
#include "unit.h"

static void t_seq(void **state)
{
	static const struct {
		const char *s;
		size_t n, want;
	} c[] = {
		{"a", 1, 1},
		{"\x00", 1, 1},
		{"\x7f", 1, 1},
		{"\xc3\xa9", 2, 2},		/* é */
		{"\xe2\x82\xac", 3, 3},		/* € */
		{"\xf0\x9f\x98\x80", 4, 4},	/* U+1F600 */
		{"\xf4\x8f\xbf\xbf", 4, 4},	/* U+10FFFF */
		{"\xef\xbf\xbd", 3, 3},		/* U+FFFD itself */
		{"\x80", 1, 0},			/* stray continuation */
		{"\xbf", 1, 0},
		{"\xc0\x80", 2, 0},		/* overlong NUL */
		{"\xc1\xbf", 2, 0},		/* overlong */
		{"\xe0\x80\xaf", 3, 0},		/* overlong '/' */
		{"\xf0\x80\x80\xaf", 4, 0},	/* overlong */
		{"\xed\xa0\x80", 3, 0},		/* U+D800, a surrogate */
		{"\xed\xbf\xbf", 3, 0},		/* U+DFFF */
		{"\xf4\x90\x80\x80", 4, 0},	/* U+110000 */
		{"\xf5\x80\x80\x80", 4, 0},
		{"\xff", 1, 0},
		{"\xfe", 1, 0},
		{"\xc3", 1, 0},			/* cut short */
		{"\xe2\x82", 2, 0},
		{"\xe2\x82\xac", 2, 0},		/* cut by n */
		{"\xc3\x28", 2, 0},		/* second byte not a continuation */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		size_t got = ns_utf8_seq(c[i].s, c[i].n);

		if (got != c[i].want)
			fail_msg("case %zu: %zu, want %zu", i, got, c[i].want);
	}
	assert_int_equal(ns_utf8_seq("x", 0), 0);
}

static void t_json(void **state)
{
	const char in[] = "{\"name\":\"a\xff\xc3\xa9\xed\xa0\x80z\"}";
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(ns_json_utf8(in, sizeof(in) - 1, &out, &len), 0);
	/* one \ufffd per bad byte: 0xff, then the three bytes of the surrogate */
	assert_string_equal(out, "{\"name\":\"a\\ufffd\xc3\xa9\\ufffd\\ufffd\\ufffdz\"}");
	assert_int_equal(len, strlen(out));
	free(out);
	assert_int_equal(ns_json_utf8("", 0, &out, &len), 0);
	assert_string_equal(out, "");
	assert_int_equal(len, 0);
	free(out);
}

static void t_fix_and_text(void **state)
{
	char b[64], small[6];

	(void)state;
	assert_string_equal(ns_utf8_fix("vm\xff\xc3\xa9", b, sizeof(b)), "vm\xef\xbf\xbd\xc3\xa9");
	/* control characters stay (the label escaper handles what the format wants) */
	assert_string_equal(ns_utf8_fix("a\nb\"", b, sizeof(b)), "a\nb\"");
	assert_string_equal(ns_text_safe("e\x1b[31mred\x1b[0m\nrow\tx\x7f", b, sizeof(b)), "e?[31mred?[0m?row?x?");
	/* C1 controls (U+009B is CSI on some terminals) and bad bytes */
	assert_string_equal(ns_text_safe("a\xc2\x9b" "b\xff\xc2\xa0", b, sizeof(b)), "a?b?\xc2\xa0");
	assert_string_equal(ns_text_safe("caf\xc3\xa9", b, sizeof(b)), "caf\xc3\xa9");
	/* cut at a character boundary, never inside a sequence */
	assert_string_equal(ns_text_safe("abcd\xc3\xa9", small, sizeof(small)), "abcd");
	assert_string_equal(ns_utf8_fix("ab\xff", small, sizeof(small)), "ab\xef\xbf\xbd");
	assert_string_equal(ns_utf8_fix("abc\xff", small, sizeof(small)), "abc");
	assert_string_equal(ns_text_safe("", b, sizeof(b)), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_seq),
		cmocka_unit_test(t_json),
		cmocka_unit_test(t_fix_and_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
