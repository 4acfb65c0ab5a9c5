/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the migration engine's chunk sizing arithmetic (ns_mig_next_chunk). */
#include <stdint.h>
#include <string.h>

#include "numasafe/numasafe.h"
#include "numasafe/migrate.h"
#include "unit.h"

#define MS 1000000ULL /* ns */

/* one call on a fresh cost record */
static unsigned first(unsigned now, unsigned pages, unsigned chunk_then, uint64_t ns, uint64_t target_ns)
{
	struct ns_mig_costs c;

	memset(&c, 0, sizeof(c));
	return ns_mig_next_chunk(&c, now, pages, chunk_then, ns, target_ns, 32, 16384);
}

static void t_shrink_at_once(void **state)
{
	struct ns_mig_costs c;

	(void)state;
	memset(&c, 0, sizeof(c));
	/* 2048 pages took 40 ms against a 10 ms aim: a quarter, at once */
	assert_int_equal(ns_mig_next_chunk(&c, 2048, 2048, 2048, 40 * MS, 10 * MS, 32, 16384), 512);
	/* a second slow call that was handed out before the first shrank the chunk: the cost
	 * comes from its own pages, so the chunk stays at 512 instead of falling to 128 */
	assert_int_equal(ns_mig_next_chunk(&c, 512, 2048, 2048, 40 * MS, 10 * MS, 32, 16384), 512);
	/* never under the floor */
	assert_int_equal(first(512, 512, 512, 1000 * MS, 10 * MS), 32);
}

static void t_grow_slowly(void **state)
{
	(void)state;
	/* 512 pages in 1 ms could be 5120 in 10 ms; growth is capped at a quarter */
	assert_int_equal(first(512, 512, 512, 1 * MS, 10 * MS), 640);
	/* the cap comes from the size now, not from the size the call was handed out at */
	assert_int_equal(first(1000, 512, 512, 1 * MS, 10 * MS), 1250);
	/* and never over the ceiling */
	assert_int_equal(first(16000, 16000, 16000, 1 * MS, 10 * MS), 16384);
	/* on target: unchanged */
	assert_int_equal(first(1024, 1024, 1024, 20 * MS, 20 * MS), 1024);
}

static void t_partial_or_unmeasured(void **state)
{
	struct ns_mig_costs c;

	(void)state;
	/* the walk's last chunk (under half of what was asked) says little */
	assert_int_equal(first(2048, 900, 2048, 90 * MS, 10 * MS), 2048);
	/* a chunk over half of what was asked counts, even if the size changed since */
	assert_int_equal(first(4096, 1100, 2048, 11 * MS, 10 * MS), 1000);
	assert_int_equal(first(2048, 2048, 2048, 0, 10 * MS), 2048);
	/* and neither is remembered: a quick call afterwards grows the chunk as on a fresh record */
	memset(&c, 0, sizeof(c));
	ns_mig_next_chunk(&c, 2048, 900, 2048, 90 * MS, 10 * MS, 32, 16384);
	ns_mig_next_chunk(&c, 2048, 2048, 2048, 0, 10 * MS, 32, 16384);
	assert_int_equal(c.n, 0);
	assert_int_equal(ns_mig_next_chunk(&c, 2048, 2048, 2048, 5 * MS, 10 * MS, 32, 16384), 2560);
}

static void t_slowest_recent_cost(void **state)
{
	struct ns_mig_costs c;
	unsigned chunk = 1024;

	(void)state;
	memset(&c, 0, sizeof(c));
	/* one slow call: 1024 pages in 20 ms, twice the 10 ms aim */
	chunk = ns_mig_next_chunk(&c, chunk, 1024, 1024, 20 * MS, 10 * MS, 32, 16384);
	assert_int_equal(chunk, 512);
	/* quick calls after it (512 pages in 1 ms) do not grow the chunk while the slow one is
	 * among the last NS_MIG_COST_WINDOW */
	for (unsigned i = 1; i < NS_MIG_COST_WINDOW; i++) {
		chunk = ns_mig_next_chunk(&c, chunk, 512, 512, 1 * MS, 10 * MS, 32, 16384);
		assert_int_equal(chunk, 512);
	}
	/* the next quick call pushes it out: growth resumes, a quarter at a time */
	chunk = ns_mig_next_chunk(&c, chunk, 512, 512, 1 * MS, 10 * MS, 32, 16384);
	assert_int_equal(chunk, 640);
	chunk = ns_mig_next_chunk(&c, chunk, 640, 640, 1250000, 10 * MS, 32, 16384);
	assert_int_equal(chunk, 800);
	/* a slow call shrinks it at once again, on that call's cost */
	chunk = ns_mig_next_chunk(&c, chunk, 800, 800, 40 * MS, 10 * MS, 32, 16384);
	assert_int_equal(chunk, 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_shrink_at_once),
		cmocka_unit_test(t_grow_slowly),
		cmocka_unit_test(t_partial_or_unmeasured),
		cmocka_unit_test(t_slowest_recent_cost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
