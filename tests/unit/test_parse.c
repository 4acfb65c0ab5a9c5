/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: node/CPU lists, sizes, amounts, numbers. */
#include <errno.h>
#include <string.h>

#include "numasafe/numasafe.h"
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
	/* an id listed twice, alone or inside a range, is not a list the kernel writes */
	assert_int_equal(ns_set_parse("0,0", 64, &s), -EINVAL);
	assert_int_equal(ns_set_parse("0-3,2", 64, &s), -EINVAL);
	assert_int_equal(ns_set_parse("4,0-7", 64, &s), -EINVAL);
	assert_int_equal(ns_set_parse("0-2,2-3", 64, &s), -EINVAL);
	assert_int_equal(ns_set_parse("2,0-1", 64, &s), 0);
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

/* util-linux's rules (lib/strutils.c parse_size): K/KiB powers of 1024, KB powers of 1000. */
static void t_size_units(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
		{"1K", 1024},
		{"1k", 1024},
		{"1KiB", 1024},
		{"1kib", 1024},
		{"1Kib", 1024},
		{"1KB", 1000},
		{"1kB", 1000},
		{"1Kb", 1000},
		{"1MB", 1000000},
		{"1MiB", 1ULL << 20},
		{"1GB", 1000000000},
		{"2GiB", 2ULL << 30},
		{"1TB", 1000000000000ULL},
		{"1TiB", 1ULL << 40},
		{"1PB", 1000000000000000ULL},
		{"1PiB", 1ULL << 50},
		{"1EiB", 1ULL << 60},
		{"15E", 15ULL << 60},
		{"0.5MB", 500000},
		{"0.5MiB", 524288},
		{"1.5KB", 1500},
		{"0.25G", 1ULL << 28},
		/* a fraction is rounded down to whole bytes, as util-linux does: 0.1K = 102.4 */
		{"0.1K", 102},
		{"0.0009765625K", 1},
		{"010", 10}, /* decimal, not octal */
		{"18446744073709551615", UINT64_MAX},
		/* 16383.99999999 * 2^50 = 2^64 - 11258999.07, rounded down */
		{"16383.99999999P", 18446744073698292616ULL},
		{"15.999999999999999999999999999999999999E", 18446744073709551615ULL},
	};
	static const char *bad[] = {
		"", "K", "B", "1B", "1b", "1 K", " 1K", "1K ", "1KIB", "1KiBB", "1iB", "1Ki", "+1", "-1", "0x10", "1e3",
		"1.5", "1.", ".5K", "1.K", "1..5K", "1.5.2K", "1Z", "1Y", "1X", "inf", "nan", "1,5K",
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 12345;
		if (ns_size_parse(ok[i].s, &v) != 0 || v != ok[i].v)
			fail_msg("'%s': got %llu, want %llu", ok[i].s, (unsigned long long)v, (unsigned long long)ok[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ns_size_parse(bad[i], &v) != -EINVAL)
			fail_msg("'%s' was not refused as bad syntax", bad[i]);
	/* overflow is a range error, never a wrap */
	assert_int_equal(ns_size_parse("18446744073709551616", &v), -ERANGE);
	assert_int_equal(ns_size_parse("16E", &v), -ERANGE);
	assert_int_equal(ns_size_parse("16384P", &v), -ERANGE);
	assert_int_equal(ns_size_parse("18446744073709551615K", &v), -ERANGE);
	assert_int_equal(ns_size_parse("18446744073709551616EB", &v), -ERANGE);
	assert_int_equal(ns_size_parse("99999999999999999999999", &v), -ERANGE);
	assert_int_equal(ns_size_parse("18014398509481984K", &v), -ERANGE);
	assert_int_equal(ns_size_parse("18014398509481983.999999K", &v), 0);
	assert_int_equal(v, UINT64_MAX);
	/* the whole part fits, the fraction takes it past 2^64 - 1 */
	assert_int_equal(ns_size_parse("18446744073709551.616KB", &v), -ERANGE);
	assert_int_equal(ns_size_parse("18446744073709551.615KB", &v), 0);
	assert_int_equal(v, UINT64_MAX);
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
	assert_int_equal(ns_amount_parse("0x10%", &a), -EINVAL);
	assert_int_equal(ns_amount_parse("-1%", &a), -EINVAL);
	assert_int_equal(ns_amount_parse("1e1%", &a), -EINVAL);
	assert_int_equal(ns_amount_parse("100%", &a), 0);
	assert_int_equal(ns_amount_resolve(&a, UINT64_MAX), UINT64_MAX);
	/* a hand-made percentage above 100 saturates instead of converting out of range */
	a.pct = 1e30;
	assert_int_equal(ns_amount_resolve(&a, UINT64_MAX), UINT64_MAX);
	assert_int_equal(ns_amount_parse("18446744073709551615", &a), 0);
	assert_int_equal(ns_amount_resolve(&a, 1), UINT64_MAX);
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

/* One decimal parser for every option: no hex, octal, sign, exponent or blanks. */
static void t_numbers_hostile(void **state)
{
	static const char *bad_double[] = {
		"", ".", "0x10", "0X1p4", "1e3", "1E3", "+1", "-0", " 1", "1 ", "1\n", "1.2.3", "..5", "infinity",
		"NAN", "1,5", "١", "0x", "1_000",
	};
	static const char *bad_uint[] = {"0x10", "+1", "-1", " 1", "1 ", "1\n", "1.0", "1e3", "0b1"};
	unsigned long long u;
	double d;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_double) / sizeof(bad_double[0]); i++)
		if (ns_double_parse(bad_double[i], &d) != -EINVAL)
			fail_msg("ns_double_parse accepted '%s' (%g)", bad_double[i], d);
	for (size_t i = 0; i < sizeof(bad_uint) / sizeof(bad_uint[0]); i++)
		if (ns_uint_parse(bad_uint[i], ~0ULL, &u) != -EINVAL)
			fail_msg("ns_uint_parse accepted '%s'", bad_uint[i]);
	assert_int_equal(ns_double_parse("010", &d), 0);
	assert_true(d == 10.0);
	assert_int_equal(ns_double_parse("2.", &d), 0);
	assert_true(d == 2.0);
	assert_int_equal(ns_double_parse(".5", &d), 0);
	assert_true(d == 0.5);
	assert_int_equal(ns_double_parse("0.1", &d), 0);
	assert_true(d == 0.1);
	/* 400 digits do not fit a double */
	{
		char big[402];

		memset(big, '9', 400);
		big[400] = '\0';
		assert_int_equal(ns_double_parse(big, &d), -ERANGE);
		big[0] = '.';
		assert_int_equal(ns_double_parse(big, &d), 0);
		assert_true(d > 0.99 && d <= 1.0);
	}
	assert_int_equal(ns_uint_parse("010", 100, &u), 0);
	assert_int_equal(u, 10);
	/* a bound smaller than one digit: 9 is above 5 (the old check wrapped here) */
	assert_int_equal(ns_uint_parse("9", 5, &u), -ERANGE);
	assert_int_equal(ns_uint_parse("18446744073709551615", ~0ULL, &u), 0);
	assert_int_equal(u, ~0ULL);
	assert_int_equal(ns_uint_parse("18446744073709551616", ~0ULL, &u), -ERANGE);
	assert_int_equal(ns_uint_parse("99999999999999999999x", ~0ULL, &u), -EINVAL);
}

/* Saturating size arithmetic: a sum or product that does not fit is UINT64_MAX. */
static void t_saturate(void **state)
{
	(void)state;
	assert_int_equal(ns_sat_add(1, 2), 3);
	assert_int_equal(ns_sat_add(UINT64_MAX, 1), UINT64_MAX);
	assert_int_equal(ns_sat_add(UINT64_MAX - 5, 5), UINT64_MAX);
	assert_int_equal(ns_sat_add(1ULL << 63, 1ULL << 63), UINT64_MAX);
	assert_int_equal(ns_sat_mul(1ULL << 32, 1ULL << 31), 1ULL << 63);
	assert_int_equal(ns_sat_mul(1ULL << 32, 1ULL << 32), UINT64_MAX);
	assert_int_equal(ns_sat_mul(0, UINT64_MAX), 0);
	assert_int_equal(ns_sat_sub(5, 3), 2);
	assert_int_equal(ns_sat_sub(3, 5), 0);
	assert_int_equal(ns_sat_sub(UINT64_MAX, UINT64_MAX), 0);
}

/* Node lists in numactl's forms, resolved against the nodes that exist. */
static void t_set_parse_in(void **state)
{
	struct ns_set u, s, want;
	char buf[64];

	(void)state;
	ns_set_parse("0-3", 64, &u);
	assert_int_equal(ns_set_parse_in("all", &u, &s), 0);
	assert_true(ns_set_equal(&s, &u));
	assert_int_equal(ns_set_parse_in("1", &u, &s), 0);
	ns_set_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "1");
	assert_int_equal(ns_set_parse_in("0,2-3", &u, &s), 0);
	ns_set_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "0,2-3");
	assert_int_equal(ns_set_parse_in("!0", &u, &s), 0);
	ns_set_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "1-3");
	assert_int_equal(ns_set_parse_in("!0-1", &u, &s), 0);
	ns_set_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "2-3");
	assert_int_equal(ns_set_parse_in("!1,3", &u, &s), 0);
	ns_set_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "0,2");
	assert_int_equal(ns_set_parse_in("!all", &u, &s), 0);
	assert_true(ns_set_empty(&s));
	/* relative: +0 is the lowest member */
	ns_set_parse("2,5,7", 64, &u);
	assert_int_equal(ns_set_parse_in("+0", &u, &s), 0);
	ns_set_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "2");
	assert_int_equal(ns_set_parse_in("+1-2", &u, &s), 0);
	ns_set_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "5,7");
	assert_int_equal(ns_set_parse_in("!+0", &u, &s), 0);
	ns_set_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "5,7");
	assert_int_equal(ns_set_parse_in("+3", &u, &s), -ERANGE);
	assert_non_null(ns_error_detail());
	/* a range takes the members between its ends, as numactl does */
	assert_int_equal(ns_set_parse_in("2-7", &u, &s), 0);
	ns_set_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "2,5,7");
	/* a named id outside the universe: -ERANGE, the ids named in *out, the detail says which */
	ns_set_parse("0-1", 64, &u);
	assert_int_equal(ns_set_parse_in("0,7", &u, &s), -ERANGE);
	ns_set_parse("0,7", 64, &want);
	assert_true(ns_set_equal(&s, &want));
	assert_string_equal(ns_error_detail(), "7 is not in 0-1");
	assert_int_equal(ns_set_parse_in("1-2", &u, &s), -ERANGE);
	assert_string_equal(ns_error_detail(), "2 is not in 0-1");
	assert_int_equal(ns_set_parse_in("!5", &u, &s), -ERANGE);
	assert_int_equal(ns_set_parse_in("4096", &u, &s), -ERANGE);
	assert_int_equal(ns_set_parse_in("99999999999999999999999", &u, &s), -ERANGE);
	/* bad syntax, even after an id out of range */
	static const char *bad[] = {
		"", "!", "+", "!+", "+!0", "all,0", "0,all", "ALL", "alll", " 0", "0 ", "0\n", "0,", ",0", "0,,1", "1-0",
		"0-", "-1", "0x1", "+-1", "!!0", "0-1-1", "7,x", "a",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ns_set_parse_in(bad[i], &u, &s) != -EINVAL)
			fail_msg("'%s' was not refused as bad syntax", bad[i]);
	assert_string_equal(ns_error_detail(), "'a' is not a list (like 0, 0-2,4, all or !0)");
	/* a good parse clears the detail */
	assert_int_equal(ns_set_parse_in("0", &u, &s), 0);
	assert_null(ns_error_detail());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_set_parse), cmocka_unit_test(t_set_parse_bad), cmocka_unit_test(t_set_ops),
		cmocka_unit_test(t_size),      cmocka_unit_test(t_amount),	  cmocka_unit_test(t_format),
		cmocka_unit_test(t_numbers),   cmocka_unit_test(t_size_units),	  cmocka_unit_test(t_numbers_hostile),
		cmocka_unit_test(t_saturate),  cmocka_unit_test(t_set_parse_in),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
