/* Unit tests: the migration engine's chunk sizing arithmetic (ns_mig_next_chunk). */
#include <stdint.h>

#include "numasafe/numasafe.h"
#include "numasafe/migrate.h"
#include "unit.h"

#define MS 1000000ULL /* ns */

static void t_shrink_at_once(void **state)
{
	(void)state;
	/* 2048 pages took 40 ms against a 10 ms aim: a quarter, at once (not halfway) */
	assert_int_equal(ns_mig_next_chunk(2048, 2048, 2048, 40 * MS, 10 * MS, 32, 16384), 512);
	/* a second slow call that was handed out before the first shrank the chunk: the estimate
	 * comes from its own pages, so the chunk stays at 512 instead of falling to 128 */
	assert_int_equal(ns_mig_next_chunk(512, 2048, 2048, 40 * MS, 10 * MS, 32, 16384), 512);
	/* never under the floor */
	assert_int_equal(ns_mig_next_chunk(512, 512, 512, 1000 * MS, 10 * MS, 32, 16384), 32);
}

static void t_grow_slowly(void **state)
{
	(void)state;
	/* 512 pages in 1 ms could be 5120 in 10 ms; growth is capped at a quarter */
	assert_int_equal(ns_mig_next_chunk(512, 512, 512, 1 * MS, 10 * MS, 32, 16384), 640);
	/* the cap comes from the size now, not from the size the call was handed out at */
	assert_int_equal(ns_mig_next_chunk(1000, 512, 512, 1 * MS, 10 * MS, 32, 16384), 1250);
	/* and never over the ceiling */
	assert_int_equal(ns_mig_next_chunk(16000, 16000, 16000, 1 * MS, 10 * MS, 32, 16384), 16384);
	/* on target: unchanged */
	assert_int_equal(ns_mig_next_chunk(1024, 1024, 1024, 20 * MS, 20 * MS, 32, 16384), 1024);
}

static void t_partial_or_unmeasured(void **state)
{
	(void)state;
	/* the walk's last chunk (under half of what was asked) says little */
	assert_int_equal(ns_mig_next_chunk(2048, 900, 2048, 90 * MS, 10 * MS, 32, 16384), 2048);
	/* a chunk over half of what was asked counts, even if the size changed since */
	assert_int_equal(ns_mig_next_chunk(4096, 1100, 2048, 11 * MS, 10 * MS, 32, 16384), 1000);
	assert_int_equal(ns_mig_next_chunk(2048, 2048, 2048, 0, 10 * MS, 32, 16384), 2048);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_shrink_at_once),
		cmocka_unit_test(t_grow_slowly),
		cmocka_unit_test(t_partial_or_unmeasured),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
