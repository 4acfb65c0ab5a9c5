/* Unit tests: the planner's input gathered from a fixture tree (tests/fixtures/plan2, see its
 * make.sh) and solved: the VM found behind each process, its own memory per node, where its
 * threads may run, headroom and usable CPUs per node, and the plan that follows. */
#include <errno.h>
#include <string.h>

#include "numasafe/headroom.h"
#include "numasafe/numasafe.h"
#include "numasafe/plan.h"
#include "unit.h"

#define MB (1024ULL * 1024)

static const struct ns_plan_vm *vm_named(const struct ns_plan_in *in, const char *name, int *idx)
{
	for (int i = 0; i < in->nr_vms; i++)
		if (strcmp(in->vms[i].name, name) == 0) {
			*idx = i;
			return &in->vms[i];
		}
	return NULL;
}

static void t_gather(void **state)
{
	struct ns_topo *t;
	struct ns_plan_in in;
	const struct ns_plan_vm *web, *db, *wide;
	int skipped = -1, iw = -1, id = -1, ix = -1;

	(void)state;
	assert_int_equal(ns_plan_gather(fixture("plan2"), NULL, NULL, 0, NULL, &in, &skipped), 0);
	assert_int_equal(in.nr_nodes, 2);
	assert_int_equal(in.nr_vms, 3);
	assert_int_equal(skipped, 1); /* the QEMU without thread names */
	/* headroom is the same rule numa-plan show uses */
	assert_int_equal(ns_topo_read(fixture("plan2"), &t), 0);
	for (int n = 0; n < 2; n++) {
		const struct ns_node *node = ns_topo_find(t, n);

		assert_int_equal(in.nodes[n].id, n);
		assert_int_equal(in.nodes[n].headroom, ns_node_headroom(node, ns_reserve_for(node, NULL)));
		assert_int_equal(in.nodes[n].cpus, 2);
	}
	ns_topo_free(t);
	web = vm_named(&in, "web", &iw);
	db = vm_named(&in, "db", &id);
	wide = vm_named(&in, "wide", &ix);
	assert_non_null(web);
	assert_non_null(db);
	assert_non_null(wide);
	assert_false(web->is_domain);
	assert_true(db->is_domain); /* run/libvirt/qemu/db.pid */
	assert_int_equal(web->pid, 500);
	assert_int_equal(web->start_time, 5000);
	assert_int_equal(web->vcpus, 2);
	assert_int_equal(wide->vcpus, 4);
	assert_int_equal(web->mem[0], 512 * MB);
	assert_int_equal(web->mem[1], 512 * MB);
	/* own memory only: db's library page cache on node 1 does not count */
	assert_int_equal(db->mem[0], 1024 * MB);
	assert_int_equal(db->mem[1], 0);
	assert_int_equal(db->threads_node, 0);
	assert_int_equal(web->threads_node, -1);
	assert_int_equal(db->pinned_node, -1);
	ns_plan_in_release(&in);
}

static void t_solve(void **state)
{
	struct ns_plan_in in;
	struct ns_plan_out out;
	int skipped, iw = -1, id = -1, ix = -1;

	(void)state;
	assert_int_equal(ns_plan_gather(fixture("plan2"), NULL, NULL, 0, NULL, &in, &skipped), 0);
	assert_int_equal(ns_plan_solve(&in, &out), 0);
	assert_non_null(vm_named(&in, "web", &iw));
	assert_non_null(vm_named(&in, "db", &id));
	assert_non_null(vm_named(&in, "wide", &ix));
	/* db stays home on node 0; web, with the same vCPUs, can only go to node 1 */
	assert_int_equal(out.placement[id], 0);
	assert_int_equal(out.placement[iw], 1);
	assert_int_equal(out.placement[ix], -1);
	assert_non_null(strstr(out.why[ix], "4 vCPUs"));
	assert_int_equal(out.bytes_moved, 512 * MB);
	assert_int_equal(out.nr_steps, 1);
	assert_int_equal(out.steps[0].vm, iw);
	assert_int_equal(out.steps[0].to, 1);
	assert_int_equal(out.steps[0].bytes, 512 * MB);
	assert_true(out.exact);
	ns_plan_out_free(&out);
	ns_plan_in_release(&in);
}

static void t_exclude_and_reserve(void **state)
{
	struct ns_plan_in in;
	struct ns_plan_out out;
	struct ns_set ex;
	struct ns_amount all = {.is_pct = true, .pct = 100};
	int skipped, iw = -1, id = -1, placed = 0;

	(void)state;
	/* with CPU 0 kept for the host node 0 has one CPU left: db and web now compete for node 1 */
	ns_set_clear(&ex);
	ns_set_add(&ex, 0);
	assert_int_equal(ns_plan_gather(fixture("plan2"), NULL, &ex, 0, NULL, &in, &skipped), 0);
	assert_int_equal(in.nodes[0].cpus, 1);
	assert_int_equal(in.nodes[1].cpus, 2);
	assert_int_equal(ns_plan_solve(&in, &out), 0);
	assert_non_null(vm_named(&in, "web", &iw));
	assert_non_null(vm_named(&in, "db", &id));
	placed = (out.placement[iw] >= 0) + (out.placement[id] >= 0);
	assert_int_equal(placed, 1);
	ns_plan_out_free(&out);
	ns_plan_in_release(&in);
	/* a reserve of the whole node leaves no headroom: web cannot move, nothing may go */
	assert_int_equal(ns_plan_gather(fixture("plan2"), &all, NULL, 0, NULL, &in, &skipped), 0);
	assert_int_equal(in.nodes[0].headroom, 0);
	assert_int_equal(in.nodes[1].headroom, 0);
	assert_int_equal(ns_plan_solve(&in, &out), 0);
	assert_non_null(vm_named(&in, "web", &iw));
	assert_int_equal(out.placement[iw], -1);
	assert_true(out.why[iw][0] != '\0');
	ns_plan_out_free(&out);
	ns_plan_in_release(&in);
}

static void t_missing(void **state)
{
	struct ns_plan_in in;
	int skipped;

	(void)state;
	assert_int_equal(ns_plan_gather(fixture("no-such-tree"), NULL, NULL, 0, NULL, &in, &skipped), -ENOENT);
	assert_null(in.vms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_gather),
		cmocka_unit_test(t_solve),
		cmocka_unit_test(t_exclude_and_reserve),
		cmocka_unit_test(t_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
