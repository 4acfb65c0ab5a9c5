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

/* Parse "0-3,8,10-11" (trailing newline/space allowed, as sysfs writes it). Ids must be
 * < max. Returns 0, -EINVAL on bad syntax, -ERANGE when an id is >= max. An empty string
 * gives the empty set (sysfs writes "\n" for a node without CPUs). */
int ns_set_parse(const char *str, unsigned max, struct ns_set *out);
/* A list an operator gives, in numactl's forms, against the ids that exist (universe):
 * "0-3,8", "all", and "!LIST" / "!all" for all but those. -EINVAL on bad syntax or an empty
 * string, -ERANGE when an id is not in universe. */
int ns_set_parse_in(const char *str, const struct ns_set *universe, struct ns_set *out);
/* Print in the same compact list syntax; "" for the empty set. Returns -ENOSPC if buf is short. */
int ns_set_format(const struct ns_set *s, char *buf, size_t len);

/* Sizes: "4096", "512K", "512M", "2G", "1T" (binary units, optional "iB"/"B" suffix,
 * case-insensitive). Returns 0, -EINVAL on bad syntax, -ERANGE on overflow. */
int ns_size_parse(const char *str, uint64_t *out);

/* A size or a percentage of something not known yet ("256M" or "10%"). */
struct ns_amount {
	bool is_pct;
	double pct;	/* 0..100 when is_pct */
	uint64_t bytes; /* when !is_pct */
};
int ns_amount_parse(const char *str, struct ns_amount *out);
uint64_t ns_amount_resolve(const struct ns_amount *a, uint64_t whole);

/* Human size with binary unit, e.g. "1.5G", "512M", "0". */
const char *ns_size_format(uint64_t bytes, char *buf, size_t len);

/* Strict integer parsing for ids and pids: whole string, decimal, no sign. */
int ns_uint_parse(const char *str, unsigned long long max, unsigned long long *out);
/* Seconds or percentages given as decimals ("2.5"). Rejects NaN, inf, negatives. */
int ns_double_parse(const char *str, double *out);

#endif
