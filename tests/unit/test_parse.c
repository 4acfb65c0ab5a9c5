/* Unit tests: node/CPU lists, sizes, amounts, numbers. */
#include <errno.h>
#include <string.h>

#include "numasafe/parse.h"
#include "unit.h"

static void t_set_parse(void **state)
{
	struct ns_set s;
	char buf[128];

	(void)state;
	assert_int_equal(ns_set_parse("0-3,8,10-11\n", 64, &s), 0);
	assert_int_equal(ns_set_count(&s), 7);
	assert_true(ns_set_has(&s, 0) && ns_set_has(&s, 3) && ns_set_has(&s, 8) && ns_set_has(&s, 11));
	assert_false(ns_set_has(&s, 4) || ns_set_has(&s, 9));
	assert_int_equal(ns_set_format(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0-3,8,10-11");
	assert_int_equal(ns_set_parse("\n", 64, &s), 0); /* node without CPUs */
	assert_true(ns_set_empty(&s));
	assert_int_equal(ns_set_parse("5", 64, &s), 0);
	assert_int_equal(ns_set_next(&s, 0), 5);
	assert_int_equal(ns_set_next(&s, 6), -1);
	assert_int_equal(ns_set_parse("4095", NS_SET_MAX, &s), 0);
	assert_int_equal(ns_set_format(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "4095");
}

static void t_set_parse_bad(void **state)
{
	struct ns_set s;

	(void)state;
	assert_int_equal(ns_set_parse("3-1", 64, &s), -EINVAL);
	assert_int_equal(ns_set_parse("a", 64, &s), -EINVAL);
	assert_int_equal(ns_set_parse("1,", 64, &s), -EINVAL);
	assert_int_equal(ns_set_parse("1,,2", 64, &s), -EINVAL);
	assert_int_equal(ns_set_parse("-1", 64, &s), -EINVAL);
	assert_int_equal(ns_set_parse("1 2", 64, &s), -EINVAL);
	assert_int_equal(ns_set_parse("9", 2, &s), -ERANGE);
	assert_int_equal(ns_set_parse("99999999999", NS_SET_MAX, &s), -ERANGE);
}

static void t_set_ops(void **state)
{
	struct ns_set a, b;
	char buf[8];

	(void)state;
	ns_set_parse("0-3", 64, &a);
	ns_set_parse("2-5", 64, &b);
	assert_false(ns_set_subset(&a, &b));
	ns_set_or(&a, &b);
	assert_int_equal(ns_set_count(&a), 6);
	ns_set_andnot(&a, &b);
	assert_int_equal(ns_set_count(&a), 2);
	assert_true(ns_set_subset(&a, &a));
	assert_int_equal(ns_set_add(&a, NS_SET_MAX), -ERANGE);
	ns_set_parse("0-1000", NS_SET_MAX, &a);
	assert_int_equal(ns_set_format(&a, buf, sizeof(buf)), 0); /* "0-1000" fits in 7 */
	ns_set_parse("0,2,4,6,8", 64, &a);
	assert_int_equal(ns_set_format(&a, buf, sizeof(buf)), -ENOSPC);
}

static void t_size(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(ns_size_parse("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(ns_size_parse("512M", &v), 0);
	assert_int_equal(v, 512ULL << 20);
	assert_int_equal(ns_size_parse("2G", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(ns_size_parse("1.5GiB", &v), 0);
	assert_int_equal(v, 3ULL << 29);
	assert_int_equal(ns_size_parse("64k", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(ns_size_parse("1T", &v), 0);
	assert_int_equal(v, 1ULL << 40);
	assert_int_equal(ns_size_parse("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ns_size_parse("", &v), -EINVAL);
	assert_int_equal(ns_size_parse("-1", &v), -EINVAL);
	assert_int_equal(ns_size_parse("12X", &v), -EINVAL);
	assert_int_equal(ns_size_parse("M", &v), -EINVAL);
	assert_int_equal(ns_size_parse("1.5", &v), -EINVAL);
	assert_int_equal(ns_size_parse("99999999999P", &v), -ERANGE);
}

static void t_amount(void **state)
{
	struct ns_amount a;

	(void)state;
	assert_int_equal(ns_amount_parse("10%", &a), 0);
	assert_true(a.is_pct);
	assert_int_equal(ns_amount_resolve(&a, 1000), 100);
	assert_int_equal(ns_amount_parse("2.5%", &a), 0);
	assert_int_equal(ns_amount_resolve(&a, 1000), 25);
	assert_int_equal(ns_amount_parse("256M", &a), 0);
	assert_false(a.is_pct);
	assert_int_equal(ns_amount_resolve(&a, 1000), 256ULL << 20);
	assert_int_equal(ns_amount_parse("101%", &a), -ERANGE);
	assert_int_equal(ns_amount_parse("%", &a), -EINVAL);
	assert_int_equal(ns_amount_parse("x%", &a), -EINVAL);
}

static void t_format(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(ns_size_format(0, buf, sizeof(buf)), "0");
	assert_string_equal(ns_size_format(1000, buf, sizeof(buf)), "1000");
	assert_string_equal(ns_size_format(512ULL << 20, buf, sizeof(buf)), "512M");
	assert_string_equal(ns_size_format(3ULL << 29, buf, sizeof(buf)), "1.5G");
	assert_string_equal(ns_size_format(2ULL << 30, buf, sizeof(buf)), "2G");
}

static void t_numbers(void **state)
{
	unsigned long long u;
	double d;

	(void)state;
	assert_int_equal(ns_uint_parse("4242", 1ULL << 30, &u), 0);
	assert_int_equal(u, 4242);
	assert_int_equal(ns_uint_parse("", 10, &u), -EINVAL);
	assert_int_equal(ns_uint_parse("-1", 10, &u), -EINVAL);
	assert_int_equal(ns_uint_parse("12a", 100, &u), -EINVAL);
	assert_int_equal(ns_uint_parse("11", 10, &u), -ERANGE);
	assert_int_equal(ns_uint_parse("99999999999999999999999", ~0ULL, &u), -ERANGE);
	assert_int_equal(ns_double_parse("2.5", &d), 0);
	assert_true(d == 2.5);
	assert_int_equal(ns_double_parse("-1", &d), -EINVAL);
	assert_int_equal(ns_double_parse("nan", &d), -EINVAL);
	assert_int_equal(ns_double_parse("inf", &d), -EINVAL);
	assert_int_equal(ns_double_parse("1x", &d), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_set_parse), cmocka_unit_test(t_set_parse_bad), cmocka_unit_test(t_set_ops),
		cmocka_unit_test(t_size),      cmocka_unit_test(t_amount),	  cmocka_unit_test(t_format),
		cmocka_unit_test(t_numbers),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
