/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Node/CPU lists, sizes and percentages: the only place they are parsed and printed. */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "numasafe/numasafe.h"
#include "numasafe/parse.h"
#include "util.h"

void ns_set_clear(struct ns_set *s)
{
	memset(s, 0, sizeof(*s));
}

int ns_set_add(struct ns_set *s, unsigned id)
{
	if (id >= NS_SET_MAX)
		return -ERANGE;
	s->w[id / 64] |= 1ULL << (id % 64);
	return 0;
}

bool ns_set_has(const struct ns_set *s, unsigned id)
{
	return id < NS_SET_MAX && (s->w[id / 64] & (1ULL << (id % 64)));
}

unsigned ns_set_count(const struct ns_set *s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NS_SET_WORDS; i++)
		n += (unsigned)__builtin_popcountll(s->w[i]);
	return n;
}

int ns_set_next(const struct ns_set *s, unsigned from)
{
	for (unsigned i = from / 64; i < NS_SET_WORDS; i++) {
		uint64_t w = s->w[i];

		if (i == from / 64)
			w &= ~0ULL << (from % 64);
		if (w)
			return (int)(i * 64 + (unsigned)__builtin_ctzll(w));
	}
	return -1;
}

bool ns_set_empty(const struct ns_set *s)
{
	return ns_set_next(s, 0) < 0;
}

bool ns_set_equal(const struct ns_set *a, const struct ns_set *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

bool ns_set_subset(const struct ns_set *sub, const struct ns_set *super)
{
	for (unsigned i = 0; i < NS_SET_WORDS; i++)
		if (sub->w[i] & ~super->w[i])
			return false;
	return true;
}

void ns_set_or(struct ns_set *dst, const struct ns_set *src)
{
	for (unsigned i = 0; i < NS_SET_WORDS; i++)
		dst->w[i] |= src->w[i];
}

void ns_set_andnot(struct ns_set *dst, const struct ns_set *src)
{
	for (unsigned i = 0; i < NS_SET_WORDS; i++)
		dst->w[i] &= ~src->w[i];
}

static int parse_id(const char **p, unsigned max, unsigned *out)
{
	unsigned long long v;
	int rc = ns_uint_take(p, ~0ULL, &v);

	if (rc < 0)
		return rc;
	if (v >= max)
		return -ERANGE;
	*out = (unsigned)v;
	return 0;
}

int ns_set_parse(const char *str, unsigned max, struct ns_set *out)
{
	const char *p = str;
	struct ns_set s;
	int rc;

	if (!str || !out)
		return -EINVAL;
	if (max > NS_SET_MAX)
		max = NS_SET_MAX;
	ns_set_clear(&s);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '\n') {
		*out = s;
		return 0;
	}
	for (;;) {
		unsigned lo, hi;

		rc = parse_id(&p, max, &lo);
		if (rc < 0)
			return rc;
		hi = lo;
		if (*p == '-') {
			p++;
			rc = parse_id(&p, max, &hi);
			if (rc < 0)
				return rc;
			if (hi < lo)
				return -EINVAL;
		}
		/* the kernel writes each id once ("0-3,8"); one listed twice is not its list */
		for (unsigned i = lo; i <= hi; i++) {
			if (ns_set_has(&s, i))
				return -EINVAL;
			ns_set_add(&s, i);
		}
		if (*p != ',')
			break;
		p++;
	}
	while (*p == '\n' || *p == ' ' || *p == '\t')
		p++;
	if (*p != '\0')
		return -EINVAL;
	*out = s;
	return 0;
}

/* One id of a person's list: decimal, bounded; relative ids map to the universe's members. */
static int parse_user_id(const char **p, bool relative, const struct ns_set *universe, unsigned *out)
{
	unsigned long long v;
	const char *s = *p;
	int rc = ns_uint_take(p, ~0ULL, &v);

	if (rc == -ERANGE)
		return ns_detail(rc, "%.*s is too large (at most %u)", (int)(*p - s), s, NS_SET_MAX - 1);
	if (rc < 0)
		return rc;
	if (relative) {
		unsigned long long k = v;
		int id = ns_set_next(universe, 0);

		while (id >= 0 && k > 0) {
			id = ns_set_next(universe, (unsigned)id + 1);
			k--;
		}
		if (id < 0)
			return ns_detail(-ERANGE, "+%llu: there are only %u", v, ns_set_count(universe));
		*out = (unsigned)id;
		return 0;
	}
	if (v >= NS_SET_MAX)
		return ns_detail(-ERANGE, "%llu is too large (at most %u)", v, NS_SET_MAX - 1);
	*out = (unsigned)v;
	return 0;
}

int ns_set_parse_in(const char *str, const struct ns_set *universe, struct ns_set *out)
{
	struct ns_set s, named;
	const char *p = str;
	bool invert = false, relative = false;
	int rc = 0, bad = -1;

	ns_detail_clear();
	if (!str || !universe || !out)
		return -EINVAL;
	ns_set_clear(&s);
	ns_set_clear(&named);
	if (*p == '!') {
		invert = true;
		p++;
	}
	if (*p == '+') {
		relative = true;
		p++;
	}
	if (strcmp(p, "all") == 0) {
		s = *universe;
		p += 3;
	} else
		for (;;) {
			unsigned lo = 0, hi = 0;
			int r = parse_user_id(&p, relative, universe, &lo), r2 = 0;

			hi = lo;
			if (*p == '-') {
				p++;
				r2 = parse_user_id(&p, relative, universe, &hi);
			}
			if (r == -EINVAL || r2 == -EINVAL)
				return ns_detail(-EINVAL, "'%s' is not a list (like 0, 0-2,4, all or !0)", str);
			if (r < 0 || r2 < 0) {
				/* out of range: later syntax may still be wrong, which says more */
				if (rc == 0)
					rc = r < 0 ? r : r2;
			} else {
				if (hi < lo)
					return ns_detail(-EINVAL, "'%s': %u-%u is a range backwards", str, lo, hi);
				ns_set_add(&named, lo);
				ns_set_add(&named, hi);
				if (bad < 0 && !ns_set_has(universe, lo))
					bad = (int)lo;
				if (bad < 0 && !ns_set_has(universe, hi))
					bad = (int)hi;
				for (unsigned i = lo; i <= hi; i++)
					if (ns_set_has(universe, i))
						ns_set_add(&s, i);
			}
			if (*p != ',')
				break;
			p++;
		}
	if (*p != '\0')
		return ns_detail(-EINVAL, "'%s' is not a list (like 0, 0-2,4, all or !0)", str);
	if (rc == 0 && bad >= 0) {
		char have[256];

		if (ns_set_format(universe, have, sizeof(have)) < 0)
			snprintf(have, sizeof(have), "%u of them", ns_set_count(universe));
		rc = ns_detail(-ERANGE, "%d is not in %s", bad, have[0] ? have : "the empty set");
	}
	if (rc < 0) {
		ns_set_or(&named, &s);
		*out = named;
		return rc;
	}
	if (invert) {
		struct ns_set all = *universe;

		ns_set_andnot(&all, &s);
		s = all;
	}
	*out = s;
	return 0;
}

int ns_set_format(const struct ns_set *s, char *buf, size_t len)
{
	size_t off = 0;
	int i = ns_set_next(s, 0);

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	while (i >= 0) {
		int j = i, n;

		while (ns_set_has(s, (unsigned)j + 1))
			j++;
		if (j == i)
			n = snprintf(buf + off, len - off, "%s%d", off ? "," : "", i);
		else
			n = snprintf(buf + off, len - off, "%s%d-%d", off ? "," : "", i, j);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
		i = ns_set_next(s, (unsigned)j + 1);
	}
	return 0;
}

/* The unit after a size's number: multiplier base^power (util-linux's parse_size rules). */
static int size_unit(const char *u, uint64_t *mult)
{
	static const char up[] = "KMGTPE", low[] = "kmgtpe";
	const char *hit;
	uint64_t base = 1024;
	int power;

	if (*u == '\0') {
		*mult = 1;
		return 0;
	}
	hit = strchr(up, *u);
	if (hit)
		power = (int)(hit - up) + 1;
	else if ((hit = strchr(low, *u)))
		power = (int)(hit - low) + 1;
	else
		return -EINVAL;
	if (u[1] == 'i' && (u[2] == 'B' || u[2] == 'b') && u[3] == '\0')
		base = 1024;
	else if ((u[1] == 'B' || u[1] == 'b') && u[2] == '\0')
		base = 1000;
	else if (u[1] != '\0')
		return -EINVAL;
	*mult = 1;
	while (power--)
		*mult *= base; /* at most 1024^6 = 2^60 */
	return 0;
}

int ns_size_parse(const char *str, uint64_t *out)
{
	const char *p = str, *frac = NULL;
	unsigned long long whole = 0;
	uint64_t v, mult, part = 0;
	size_t nfrac = 0;
	int rc;

	if (!str || !out)
		return -EINVAL;
	rc = ns_uint_take(&p, UINT64_MAX, &whole);
	if (rc == -EINVAL)
		return rc;
	if (*p == '.') {
		frac = ++p;
		while (isdigit((unsigned char)*p))
			p++;
		nfrac = (size_t)(p - frac);
		if (nfrac == 0)
			return -EINVAL;
	}
	if (size_unit(p, &mult) < 0)
		return -EINVAL;
	/* a fraction of a byte makes no sense; "1.5" bytes is a typo */
	if (frac && mult == 1)
		return -EINVAL;
	/* out of range only now: bad syntax after a long number says more */
	if (rc < 0 || __builtin_mul_overflow((uint64_t)whole, mult, &v))
		return -ERANGE;
	/* floor(0.d1..dn * mult), exactly: from the last digit, part = (d * mult + part) / 10
	 * (the floor of a floor divided by 10 is the floor of the whole); part stays <= mult, so
	 * d * mult + part <= 10 * 2^60 fits */
	for (size_t i = nfrac; i > 0; i--)
		part = ((uint64_t)(frac[i - 1] - '0') * mult + part) / 10;
	if (__builtin_add_overflow(v, part, &v))
		return -ERANGE;
	*out = v;
	return 0;
}

int ns_amount_parse(const char *str, struct ns_amount *out)
{
	size_t len;
	int rc;

	if (!str || !out)
		return -EINVAL;
	len = strlen(str);
	memset(out, 0, sizeof(*out));
	if (len > 1 && str[len - 1] == '%') {
		char tmp[64];

		if (len >= sizeof(tmp))
			return -EINVAL;
		memcpy(tmp, str, len - 1);
		tmp[len - 1] = '\0';
		rc = ns_double_parse(tmp, &out->pct);
		if (rc < 0)
			return rc;
		if (out->pct > 100.0)
			return -ERANGE;
		out->is_pct = true;
		return 0;
	}
	return ns_size_parse(str, &out->bytes);
}

uint64_t ns_amount_resolve(const struct ns_amount *a, uint64_t whole)
{
	long double v;

	if (!a->is_pct)
		return a->bytes;
	v = (long double)whole * a->pct / 100.0L;
	/* pct is at most 100 when parsed; a hand-made amount must not convert out of range */
	if (!(v >= 0))
		return 0;
	return v >= 18446744073709551615.0L ? UINT64_MAX : (uint64_t)v;
}

const char *ns_size_format(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	double v = (double)bytes;
	int u = -1;

	while (v >= 1024.0 && u < 5) {
		v /= 1024.0;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
	else if (v < 10.0 && v != (double)(long)v)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f%c", v, units[u]);
	return buf;
}

int ns_uint_parse(const char *str, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	const char *p = str;
	bool over = false;

	if (!str || !out || !*str)
		return -EINVAL;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		/* read every digit first: "12x" with a huge prefix is bad syntax, not a range error */
		over |= __builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (unsigned long long)(*p - '0'), &v);
	}
	if (over || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int ns_double_parse(const char *str, double *out)
{
	const char *p = str;
	size_t digits = 0, dots = 0;
	locale_t c;
	char *end;
	double v;

	if (!str || !out)
		return -EINVAL;
	for (; *p; p++) {
		if (isdigit((unsigned char)*p))
			digits++;
		else if (*p == '.' && dots == 0)
			dots++;
		else
			return -EINVAL;
	}
	if (digits == 0)
		return -EINVAL;
	/* the text is plain decimal by now; strtod in the C locale reads it exactly rounded,
	 * whatever LC_NUMERIC the program set */
	c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (c == (locale_t)0)
		return -ENOMEM;
	v = strtod_l(str, &end, c);
	freelocale(c);
	if (*end != '\0')
		return -EINVAL;
	/* an overflow is HUGE_VAL; an underflow ("0.000...1") reads as the nearest double (0 or
	 * subnormal), which is as near as a double gets */
	if (isinf(v))
		return -ERANGE;
	*out = v;
	return 0;
}
