/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sets of node and CPU ids, sizes and percentages: parsed and printed in one place. */
#ifndef NUMASAFE_PARSE_H
#define NUMASAFE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_SET_MAX 4096 /* ids 0..NS_SET_MAX-1; covers every CPU count Linux x86 ships */
#define NS_SET_WORDS (NS_SET_MAX / 64)

/* A set of small non-negative ids (nodes or CPUs). Plain value type: copy freely. */
struct ns_set {
	uint64_t w[NS_SET_WORDS];
};

void ns_set_clear(struct ns_set *s);
int ns_set_add(struct ns_set *s, unsigned id);
bool ns_set_has(const struct ns_set *s, unsigned id);
unsigned ns_set_count(const struct ns_set *s);
/* Next member >= from, or -1 when none. Iterate: for (i = ns_set_next(s, 0); i >= 0; i = ns_set_next(s, i + 1)). */
int ns_set_next(const struct ns_set *s, unsigned from);
bool ns_set_empty(const struct ns_set *s);
bool ns_set_equal(const struct ns_set *a, const struct ns_set *b);
bool ns_set_subset(const struct ns_set *sub, const struct ns_set *super);
void ns_set_or(struct ns_set *dst, const struct ns_set *src);
void ns_set_andnot(struct ns_set *dst, const struct ns_set *src);

/* Parse a kernel list "0-3,8,10-11" (trailing newline/space allowed, as sysfs writes it). Ids
 * must be < max, each listed once ("0,0" and "0-2,1" are not lists the kernel writes).
 * Returns 0, -EINVAL on bad syntax or an id listed twice, -ERANGE when an id is >= max. An empty
 * string gives the empty set (sysfs writes "\n" for a node without CPUs). */
int ns_set_parse(const char *str, unsigned max, struct ns_set *out);
/* Parse a list given by a person, in numactl's forms (numactl(8)), against the ids that exist
 * (universe): "all"; "1", "0-2", "0,2-3"; "!LIST" for every id of the universe except LIST;
 * "+LIST" for ids relative to the universe (+0 is its lowest member). Decimal only, no blanks.
 * A range takes the members of the universe between its ends (numactl's rule), so "0-3"
 * over {0,1,3} is {0,1,3}; a named id or range end outside the universe is -ERANGE, with
 * *out then holding every id named, so the caller can say which (ns_set_andnot). The result
 * may be empty ("!all"): callers that need a member refuse that. -EINVAL on bad syntax. */
int ns_set_parse_in(const char *str, const struct ns_set *universe, struct ns_set *out);
/* Print in the same compact list syntax; "" for the empty set. Returns -ENOSPC if buf is short. */
int ns_set_format(const struct ns_set *s, char *buf, size_t len);

/* Sizes as util-linux reads them (parse_size): a decimal number, then optionally a unit.
 * K M G T P E (or k m g t p e) and KiB MiB ... EiB (the "i" lower case, the "B" either case)
 * are powers of 1024; KB MB ... EB (also kB, Kb, kb) powers of 1000. A fraction needs a unit
 * ("1.5G"; "1.5" is refused: a fraction of a byte) and is rounded down to whole bytes, as
 * util-linux does. No sign, blanks, hex, exponent or bare "B". Returns 0, -EINVAL on bad
 * syntax, -ERANGE when the value does not fit in 64 bits. */
int ns_size_parse(const char *str, uint64_t *out);

/* A size or a percentage of something not known yet ("256M" or "10%"). */
struct ns_amount {
	bool is_pct;
	double pct;	/* 0..100 when is_pct */
	uint64_t bytes; /* when !is_pct */
};
/* A size (ns_size_parse) or a percentage "P%" with P by ns_double_parse, 0 to 100. */
int ns_amount_parse(const char *str, struct ns_amount *out);
/* The bytes, or the percentage of whole rounded down; never more than UINT64_MAX. */
uint64_t ns_amount_resolve(const struct ns_amount *a, uint64_t whole);

/* Human size with binary unit, e.g. "1.5G", "512M", "0". */
const char *ns_size_format(uint64_t bytes, char *buf, size_t len);

/* The one integer parser: the whole string, decimal digits only (no sign, blank, hex or
 * octal prefix; leading zeros are decimal). 0, -EINVAL on bad syntax or an empty string,
 * -ERANGE above max. */
int ns_uint_parse(const char *str, unsigned long long max, unsigned long long *out);
/* The one fraction parser, for seconds and percentages: digits with at most one '.', at least
 * one digit ("2.5", "2.", ".5"); no sign, exponent, hex, inf/nan or blanks; independent of the
 * locale. 0, -EINVAL on bad syntax, -ERANGE when it does not fit a double. */
int ns_double_parse(const char *str, double *out);

/* Arithmetic on sizes saturates: a sum or product that does not fit is UINT64_MAX, which no
 * headroom can cover, so a check built on it fails closed instead of wrapping to a small
 * number. A difference below zero is 0. */
static inline uint64_t ns_sat_add(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

static inline uint64_t ns_sat_mul(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static inline uint64_t ns_sat_sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

#endif
