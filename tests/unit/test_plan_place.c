/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: placement advice for a new VM (ns_place_solve): the node whose demand plus the
 * new vCPUs leaves the least excess among those whose headroom and vCPU cap hold it, the
 * tie-breaks, every node's reason when none fits, unmeasured demand, and the JSON advice. */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "numasafe/plan.h"
#include "unit.h"

#define G (1ULL << 30)

static void node(struct ns_plan_in *in, int i, uint64_t headroom, int vcpu_cap, double capacity)
{
	in->nodes[i].id = i;
	in->nodes[i].headroom = headroom;
	in->nodes[i].cpus = vcpu_cap;
	in->nodes[i].capacity = capacity;
	if (in->nr_nodes < i + 1)
		in->nr_nodes = i + 1;
}

static void vm(struct ns_plan_in *in, int v, int n, int vcpus, double demand)
{
	memset(&in->vms[v], 0, sizeof(in->vms[v]));
	snprintf(in->vms[v].name, sizeof(in->vms[v].name), "vm%d", v);
	in->vms[v].mem[n] = G;
	in->vms[v].vcpus = vcpus;
	in->vms[v].demand = demand;
	in->vms[v].pinned_node = -1;
	in->vms[v].threads_node = -1;
}

/* Node 0: 2 CPUs wanted 1.5 by its VMs; node 1: 2 CPUs, 0.2 wanted. */
static void host(struct ns_plan_in *in, struct ns_plan_vm *vms)
{
	memset(in, 0, sizeof(*in));
	in->vms = vms;
	in->nr_vms = 3;
	in->have_demand = 1;
	node(in, 0, 8 * G, 8, 2);
	node(in, 1, 4 * G, 8, 2);
	vm(in, 0, 0, 2, 1.0);
	vm(in, 1, 0, 2, 0.5);
	vm(in, 2, 1, 3, 0.2);
}

static void t_least_excess(void **state)
{
	struct ns_plan_vm vms[3];
	struct ns_plan_in in;
	struct ns_place_out out;

	(void)state;
	host(&in, vms);
	assert_int_equal(ns_place_solve(&in, 1, 2 * G, &out), 0);
	assert_int_equal(out.node, 1);
	assert_true(out.nodes[0].fits && out.nodes[1].fits);
	assert_true(out.nodes[0].demand == 1.5);
	assert_int_equal(out.nodes[0].vcpus, 4);
	assert_true(out.nodes[0].excess == 0.5);
	assert_true(out.nodes[1].excess == 0);
	assert_string_equal(out.nodes[0].reason, "fits: demand 1.5 + 1 of 2 CPUs, 0.5 CPUs short; headroom 8G");
	assert_string_equal(out.nodes[1].reason, "fits: demand 0.2 + 1 of 2 CPUs, 0.8 spare; headroom 4G");
	/* node 1 has the room but not the vCPU cap: node 0, CPUs short or not */
	in.nodes[1].cpus = 3;
	assert_int_equal(ns_place_solve(&in, 1, 2 * G, &out), 0);
	assert_int_equal(out.node, 0);
	assert_false(out.nodes[1].fits);
	assert_string_equal(out.nodes[1].reason, "3 vCPUs there + 1 exceed its vCPU cap of 3");
	/* nor the memory */
	in.nodes[1].cpus = 8;
	assert_int_equal(ns_place_solve(&in, 1, 5 * G, &out), 0);
	assert_int_equal(out.node, 0);
	assert_string_equal(out.nodes[1].reason, "needs 5G, headroom 4G");
}

/* The same excess: most spare CPU, then most headroom, then the first node. */
static void t_ties(void **state)
{
	struct ns_plan_vm vms[3];
	struct ns_plan_in in;
	struct ns_place_out out;

	(void)state;
	host(&in, vms);
	in.nodes[0].capacity = 8; /* neither is short for 1 vCPU; node 0 has 6.5 spare, node 1 1.8 */
	assert_int_equal(ns_place_solve(&in, 1, G, &out), 0);
	assert_true(out.nodes[0].excess == 0 && out.nodes[1].excess == 0);
	assert_int_equal(out.node, 0);
	in.nodes[0].capacity = 2;
	vms[0].demand = 0.1, vms[1].demand = 0.1; /* both 0.2 wanted, 1.8 spare */
	assert_int_equal(ns_place_solve(&in, 1, G, &out), 0);
	assert_int_equal(out.node, 0); /* 8G headroom against 4G */
	in.nodes[1].headroom = 8 * G;
	assert_int_equal(ns_place_solve(&in, 1, G, &out), 0);
	assert_int_equal(out.node, 0); /* all equal: the first */
	in.nodes[0].headroom = 4 * G;
	assert_int_equal(ns_place_solve(&in, 1, G, &out), 0);
	assert_int_equal(out.node, 1);
}

/* Nowhere: every node says why. A memory-only node is never a choice. */
static void t_none(void **state)
{
	struct ns_plan_vm vms[3];
	struct ns_plan_in in;
	struct ns_place_out out;

	(void)state;
	host(&in, vms);
	node(&in, 2, 64 * G, 0, 0);
	in.nodes[2].memory_only = 1;
	in.nodes[0].cpus = 5;
	assert_int_equal(ns_place_solve(&in, 2, 16 * G, &out), 0);
	assert_int_equal(out.node, -1);
	assert_int_equal(out.nr_nodes, 3);
	assert_string_equal(out.nodes[0].reason, "needs 16G, headroom 8G; 4 vCPUs there + 2 exceed its vCPU cap of 5");
	assert_string_equal(out.nodes[1].reason, "needs 16G, headroom 4G");
	assert_string_equal(out.nodes[2].reason, "no CPUs (memory-only node)");
	for (int n = 0; n < 3; n++)
		assert_false(out.nodes[n].fits);
	assert_int_equal(ns_place_solve(&in, 0, G, &out), -EINVAL);
	assert_int_equal(ns_place_solve(&in, 1, 0, &out), -EINVAL);
	assert_int_equal(ns_place_solve(NULL, 1, G, &out), -EINVAL);
	vms[0].demand = -1;
	assert_int_equal(ns_place_solve(&in, 1, G, &out), -EINVAL);
}

/* Unmeasured, every VM counts as busy as its vCPUs: node 0 (4 vCPUs on 2 CPUs) against
 * node 1 (3 on 2). A VM's threads confined to a node put it there, whatever its memory. */
static void t_unmeasured(void **state)
{
	struct ns_plan_vm vms[3];
	struct ns_plan_in in;
	struct ns_place_out out;

	(void)state;
	host(&in, vms);
	in.have_demand = 0;
	assert_int_equal(ns_place_solve(&in, 1, G, &out), 0);
	assert_true(out.nodes[0].demand == 4 && out.nodes[1].demand == 3);
	assert_int_equal(out.node, 1);
	vms[2].threads_node = 0;
	assert_int_equal(ns_place_solve(&in, 1, G, &out), 0);
	assert_true(out.nodes[0].demand == 7 && out.nodes[1].demand == 0);
	assert_int_equal(out.nodes[0].vcpus, 7);
	assert_int_equal(out.node, 1);
}

static void t_json(void **state)
{
	struct ns_plan_vm vms[3];
	struct ns_plan_in in;
	struct ns_place_out out;
	struct json_object *js, *x, *n1;

	(void)state;
	host(&in, vms);
	assert_int_equal(ns_place_solve(&in, 1, 2 * G, &out), 0);
	js = ns_place_to_json(&out);
	assert_non_null(js);
	assert_int_equal(json_object_get_int(json_object_object_get(js, "version")), 1);
	assert_string_equal(json_object_get_string(json_object_object_get(js, "kind")), "numasafe-place");
	assert_int_equal(json_object_get_int(json_object_object_get(js, "node")), 1);
	assert_true(json_object_object_get_ex(js, "nodes", &x));
	assert_int_equal(json_object_array_length(x), 2);
	n1 = json_object_array_get_idx(x, 1);
	assert_true(json_object_get_double(json_object_object_get(n1, "demand")) == 0.2);
	assert_true(json_object_get_double(json_object_object_get(n1, "capacity")) == 2);
	assert_int_equal(json_object_get_int64(json_object_object_get(n1, "headroom")), (int64_t)(4 * G));
	assert_true(json_object_get_boolean(json_object_object_get(n1, "fits")));
	assert_non_null(strstr(json_object_get_string(json_object_object_get(n1, "reason")), "0.8 spare"));
	json_object_put(js);
	assert_int_equal(ns_place_solve(&in, 1, 64 * G, &out), 0);
	js = ns_place_to_json(&out);
	assert_non_null(js);
	assert_true(json_object_object_get_ex(js, "node", &x) && x == NULL);
	json_object_put(js);
}

/* vCPU sums in 64 bits: VMs whose vCPUs add up past INT_MAX do not wrap to "fits". */
static void t_vcpu_sum(void **state)
{
	struct ns_plan_vm vms[220];
	struct ns_plan_in in;
	struct ns_place_out out;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.vms = vms;
	in.nr_vms = 220;
	node(&in, 0, 512 * G, 8, 8);
	for (int v = 0; v < 220; v++)
		vm(&in, v, 0, 10000000, 0);
	assert_int_equal(ns_place_solve(&in, 1, G, &out), 0);
	assert_int_equal(out.node, -1);
	assert_false(out.nodes[0].fits);
	assert_int_equal(out.nodes[0].vcpus, 2147483647); /* saturated, as shown */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_least_excess), cmocka_unit_test(t_ties), cmocka_unit_test(t_none),
		cmocka_unit_test(t_unmeasured),	  cmocka_unit_test(t_json), cmocka_unit_test(t_vcpu_sum),
	};

	return cmocka_run_group_tests_name("place", tests, NULL, NULL);
}
