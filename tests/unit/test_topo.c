/* Unit tests: topology, watermarks, host memory, headroom arithmetic, PSI on fixture trees. */
#include <errno.h>
#include <string.h>

#include "numasafe/numasafe.h"
#include "unit.h"

#define KB 1024ULL
#define MB (1024ULL * 1024)

static void t_synth2(void **state)
{
	struct ns_topo *t;
	const struct ns_node *n0, *n1;
	char buf[64];

	(void)state;
	assert_int_equal(ns_topo_read(fixture("synth2"), &t), 0);
	assert_int_equal(ns_topo_nr_nodes(t), 2);
	n0 = ns_topo_find(t, 0);
	n1 = ns_topo_find(t, 1);
	assert_non_null(n0);
	assert_non_null(n1);
	assert_null(ns_topo_find(t, 2));
	ns_set_format(&n1->cpus, buf, sizeof(buf));
	assert_string_equal(buf, "2-3");
	assert_int_equal(n0->mem_total, 4194304 * KB);
	assert_int_equal(n0->mem_free, 1048576 * KB);
	assert_int_equal(n0->inactive_file, 200000 * KB);
	assert_int_equal(n0->sreclaimable, 40000 * KB);
	/* watermarks summed over DMA, DMA32 and Normal, in 4 KiB pages */
	assert_int_equal(n0->wmark_min, (10 + 1000 + 5000) * 4 * KB);
	assert_int_equal(n0->wmark_low, (20 + 2000 + 6000) * 4 * KB);
	assert_int_equal(n0->wmark_high, (30 + 3000 + 7000) * 4 * KB);
	assert_int_equal(n1->wmark_high, 6000 * 4 * KB);
	assert_int_equal(n0->nr_hpools, 1);
	assert_int_equal(n0->hpools[0].page_size, 2 * MB);
	assert_int_equal(n0->hpools[0].total, 8);
	assert_int_equal(n0->hpools[0].free, 2);
	assert_int_equal(ns_topo_distance(t, 0, 1), 21);
	assert_int_equal(ns_topo_distance(t, 1, 1), 10);
	assert_int_equal(ns_topo_distance(t, 0, 5), -1);
	assert_int_equal(ns_topo_cpu_node(t, 3), 1);
	assert_int_equal(ns_topo_cpu_node(t, 9), -1);
	assert_int_equal(ns_topo_numa_balancing(t), 1);
	assert_int_equal(ns_topo_hostmem(t)->mem_available, 5000000 * KB);
	assert_int_equal(ns_topo_hostmem(t)->swap_free, 1048576 * KB);
	ns_topo_free(t);
}

static void t_headroom(void **state)
{
	struct ns_topo *t;
	struct ns_fit fit;
	struct ns_amount res = {.is_pct = false, .bytes = 100 * MB};
	uint64_t high1 = 6000 * 4 * KB, free1 = 3145728 * KB;

	(void)state;
	assert_int_equal(ns_topo_read(fixture("synth2"), &t), 0);
	/* default reserve: max(256M, 2% of 4 GiB = 81.9M) = 256M */
	assert_int_equal(ns_reserve_for(ns_topo_find(t, 1), NULL), 256 * MB);
	assert_int_equal(ns_fit_check(t, 1, 1 * MB, NULL, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_OK);
	assert_int_equal(fit.headroom, free1 - high1 - 256 * MB);
	/* exactly the headroom fits; one byte more falls short by one byte */
	assert_int_equal(ns_fit_check(t, 1, free1 - high1 - 100 * MB, &res, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_OK);
	assert_int_equal(ns_fit_check(t, 1, free1 - high1 - 100 * MB + 1, &res, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_SHORT);
	assert_int_equal(fit.shortfall, 1);
	/* a reserve of 80% leaves nothing: already below the floor */
	res.is_pct = true;
	res.pct = 80;
	assert_int_equal(ns_fit_check(t, 1, 4096, &res, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_BELOW_RESERVE);
	assert_int_equal(fit.headroom, 0);
	assert_int_equal(fit.shortfall, 4096);
	assert_int_equal(ns_fit_check(t, 1, 0, &res, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_OK);
	assert_int_equal(ns_fit_check(t, 7, 4096, NULL, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_NO_NODE);
	/* hugetlb: node 0 has 2 free 2M pages */
	assert_int_equal(ns_fit_check_huge(t, 0, 2 * MB, 2, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_OK);
	assert_int_equal(ns_fit_check_huge(t, 0, 2 * MB, 3, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_HUGETLB_SHORT);
	assert_int_equal(fit.shortfall, 2 * MB);
	assert_int_equal(ns_fit_check_huge(t, 0, 1024 * MB, 1, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_HUGETLB_SHORT);
	assert_string_not_equal(ns_fit_reason_str(NS_FIT_SHORT), "unknown");
	ns_topo_free(t);
}

/* Captured trees: every node parses, totals are sane and the files agree with each other. */
static void check_captured(const char *name, int want_nodes)
{
	struct ns_topo *t;
	uint64_t sum_total = 0;

	if (ns_topo_read(fixture(name), &t) != 0)
		fail_msg("fixture %s does not parse", name);
	assert_int_equal(ns_topo_nr_nodes(t), want_nodes);
	for (int i = 0; i < want_nodes; i++) {
		const struct ns_node *n = ns_topo_node(t, i);

		assert_int_equal(n->id, i);
		assert_true(n->mem_total > 0);
		assert_true(n->mem_free <= n->mem_total);
		assert_true(n->wmark_min > 0 && n->wmark_min <= n->wmark_low && n->wmark_low <= n->wmark_high);
		assert_false(ns_set_empty(&n->cpus));
		assert_int_equal(ns_topo_distance(t, i, i), 10);
		sum_total += n->mem_total;
	}
	assert_true(ns_topo_hostmem(t)->mem_total > 0);
	assert_true(sum_total <= ns_topo_hostmem(t)->mem_total + 4096);
	ns_topo_free(t);
}

static void t_captured(void **state)
{
	(void)state;
	check_captured("host1", 1);
	check_captured("lab2", 2);
	check_captured("lab4", 4);
}

static void t_missing(void **state)
{
	struct ns_topo *t;

	(void)state;
	assert_int_equal(ns_topo_read(fixture("does-not-exist"), &t), -ENOENT);
}

static void t_psi(void **state)
{
	struct ns_psi p;

	(void)state;
	assert_int_equal(ns_psi_read(fixture("synth2"), &p), 0);
	assert_true(p.some.avg10 == 1.5 && p.some.avg60 == 0.75 && p.some.avg300 == 0.10);
	assert_int_equal(p.some.total, 123456);
	assert_true(p.has_full);
	assert_true(p.full.avg10 == 0.5);
	assert_int_equal(p.full.total, 65432);
	assert_int_equal(ns_psi_read(fixture("does-not-exist"), &p), -ENOENT);
	assert_int_equal(ns_psi_parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &p), 0);
	assert_false(p.has_full);
	assert_int_equal(ns_psi_parse("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &p), -EINVAL);
	assert_int_equal(ns_psi_parse("some avg10=x\n", &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_synth2),   cmocka_unit_test(t_headroom), cmocka_unit_test(t_captured),
		cmocka_unit_test(t_missing),  cmocka_unit_test(t_psi),
	};

	return cmocka_run_group_tests_name("topo", tests, NULL, NULL);
}
