/* Node/CPU lists, sizes and percentages: the only place they are parsed and printed. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "numasafe/parse.h"

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
	const char *s = *p;
	unsigned long v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v >= NS_SET_MAX * 16UL)
			return -ERANGE;
		s++;
	}
	if (v >= max)
		return -ERANGE;
	*out = (unsigned)v;
	*p = s;
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
		for (unsigned i = lo; i <= hi; i++)
			ns_set_add(&s, i);
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

static int unit_shift(const char *u, unsigned *shift)
{
	static const struct {
		const char *name;
		unsigned shift;
	} units[] = {
		{"", 0},   {"b", 0},   {"k", 10},  {"kb", 10},	{"kib", 10}, {"m", 20},
		{"mb", 20}, {"mib", 20}, {"g", 30},  {"gb", 30},	{"gib", 30}, {"t", 40},
		{"tb", 40}, {"tib", 40}, {"p", 50},  {"pb", 50},	{"pib", 50},
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(u, units[i].name) == 0) {
			*shift = units[i].shift;
			return 0;
		}
	return -EINVAL;
}

int ns_size_parse(const char *str, uint64_t *out)
{
	const char *p = str;
	long double v = 0, frac = 0, scale = 1;
	unsigned shift;
	int digits = 0;

	if (!str || !out)
		return -EINVAL;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (*p - '0');
		p++;
		digits++;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			scale /= 10;
			frac += scale * (*p - '0');
			p++;
			digits++;
		}
	}
	if (digits == 0)
		return -EINVAL;
	if (unit_shift(p, &shift) < 0)
		return -EINVAL;
	v = (v + frac) * (long double)(1ULL << shift);
	if (v >= 18446744073709551616.0L)
		return -ERANGE;
	/* a fraction of a byte makes no sense; "1.5" bytes is a typo */
	if (shift == 0 && frac != 0)
		return -EINVAL;
	*out = (uint64_t)v;
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
	if (!a->is_pct)
		return a->bytes;
	return (uint64_t)((long double)whole * a->pct / 100.0L);
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

	if (!str || !*str)
		return -EINVAL;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		if ((unsigned long long)(*p - '0') > max || v > (max - (unsigned long long)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	*out = v;
	return 0;
}

int ns_double_parse(const char *str, double *out)
{
	char *end;
	double v;

	if (!str || !*str || isspace((unsigned char)*str) || *str == '-' || *str == '+')
		return -EINVAL;
	errno = 0;
	v = strtod(str, &end);
	if (errno || *end != '\0' || isnan(v) || isinf(v) || v < 0)
		return -EINVAL;
	*out = v;
	return 0;
}
