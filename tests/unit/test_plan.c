/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the rebalance planner (placement, reasons, step order, the objective with CPU
 * demand and a byte limit, memory-only nodes) and its JSON plan file. Every plan a test
 * produces also goes through check_plan, an independent re-computation of capacities, vCPUs,
 * pinning, bytes, the byte limit, the demand per node and the excess, and the headroom each
 * step finds when it runs. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "numasafe/plan.h"
#include "unit.h"

#define G (1ULL << 30)
#define M (1ULL << 20)

static struct ns_plan_vm *vms_new(int n)
{
	struct ns_plan_vm *v = calloc((size_t)n, sizeof(*v));

	assert_non_null(v);
	for (int i = 0; i < n; i++) {
		snprintf(v[i].name, sizeof(v[i].name), "vm%c", 'A' + i);
		v[i].pid = 100 + i;
		v[i].start_time = 5000 + (unsigned long long)i;
		v[i].vcpus = 1;
		v[i].pinned_node = -1;
		v[i].is_domain = i % 2;
	}
	return v;
}

static void node(struct ns_plan_in *in, int i, int id, uint64_t headroom, int cpus)
{
	in->nodes[i].id = id;
	in->nodes[i].headroom = headroom;
	in->nodes[i].cpus = cpus;
	if (in->nr_nodes < i + 1)
		in->nr_nodes = i + 1;
}

static uint64_t total(const struct ns_plan_in *in, int v)
{
	uint64_t t = 0;

	for (int n = 0; n < in->nr_nodes; n++)
		t += in->vms[v].mem[n];
	return t;
}

static int nplaced(const struct ns_plan_in *in, const struct ns_plan_out *out)
{
	int k = 0;

	for (int v = 0; v < in->nr_vms; v++)
		k += out->placement[v] >= 0;
	return k;
}

/* Thousandths of a CPU, as the plan counts them. */
static int64_t milli(double x)
{
	return (int64_t)(x * 1000.0 + 0.5);
}

/* Where a VM's demand is when it is not moved (README, "Rebalance plan"): the node confining
 * its threads, else the CPU node holding most of its memory, else the CPU node with the most
 * capacity. Written apart from the library's on purpose. */
static int home_of(const struct ns_plan_in *in, int v)
{
	const struct ns_plan_vm *vm = &in->vms[v];
	int h = -1;

	for (int n = 0; n < in->nr_nodes; n++)
		if (!in->nodes[n].memory_only && in->nodes[n].id == vm->threads_node)
			return n;
	for (int n = 0; n < in->nr_nodes; n++)
		if (!in->nodes[n].memory_only && vm->mem[n] && (h < 0 || vm->mem[n] > vm->mem[h]))
			h = n;
	if (h >= 0)
		return h;
	for (int n = 0; n < in->nr_nodes; n++)
		if (!in->nodes[n].memory_only && (h < 0 || in->nodes[n].capacity > in->nodes[h].capacity))
			h = n;
	return h;
}

/* Excess (thousandths) of a placement: at[v] a node, or -1 for "stays on its home". */
static int64_t excess_of(const struct ns_plan_in *in, const int *at, int64_t *dem)
{
	int64_t d[NS_PLAN_MAX_NODES] = { 0 }, e = 0;

	for (int v = 0; v < in->nr_vms; v++) {
		int n = at[v] >= 0 ? at[v] : home_of(in, v);

		if (n >= 0)
			d[n] += milli(in->vms[v].demand);
	}
	for (int n = 0; n < in->nr_nodes; n++) {
		int64_t c = milli(in->nodes[n].capacity);

		e += d[n] > c ? d[n] - c : 0;
		if (dem)
			dem[n] = d[n];
	}
	return e;
}

/* The demand bookkeeping of a plan, recomputed from its placement. */
static void check_demand(const struct ns_plan_in *in, const struct ns_plan_out *out)
{
	int *at = calloc((size_t)in->nr_vms + 1, sizeof(int));
	int64_t dem[NS_PLAN_MAX_NODES], e;

	assert_non_null(at);
	if (!in->have_demand) {
		assert_true(out->excess_before == 0 && out->excess_after == 0);
		free(at);
		return;
	}
	for (int v = 0; v < in->nr_vms; v++)
		at[v] = -1;
	e = excess_of(in, at, dem);
	assert_int_equal(milli(out->excess_before), e);
	for (int n = 0; n < in->nr_nodes; n++)
		assert_int_equal(milli(out->demand_before[n]), dem[n]);
	for (int v = 0; v < in->nr_vms; v++)
		at[v] = out->placement[v] >= 0 && !out->why[v][0] ? out->placement[v] : -1;
	e = excess_of(in, at, dem);
	assert_int_equal(milli(out->excess_after), e);
	for (int n = 0; n < in->nr_nodes; n++)
		assert_int_equal(milli(out->demand_after[n]), dem[n]);
	free(at);
}

/* The plan obeys the model: capacities (an unplaced VM keeps its memory where it is), vCPUs,
 * pins, memory-only nodes, bytes and their limit, demand; each step's target has room when
 * it runs; after the steps every placed VM not reported unordered is wholly on its node. */
static void check_plan(const struct ns_plan_in *in, const struct ns_plan_out *out)
{
	int nn = in->nr_nodes, nv = in->nr_vms, vcpu[NS_PLAN_MAX_NODES] = { 0 }, unordered = 0;
	uint64_t load[NS_PLAN_MAX_NODES] = { 0 }, cap[NS_PLAN_MAX_NODES], bytes = 0;
	int64_t free_[NS_PLAN_MAX_NODES];
	uint64_t(*cur)[NS_PLAN_MAX_NODES] = calloc((size_t)nv + 1, sizeof(*cur));

	assert_non_null(cur);
	for (int n = 0; n < nn; n++) {
		cap[n] = in->nodes[n].headroom;
		free_[n] = (int64_t)in->nodes[n].headroom;
		for (int v = 0; v < nv; v++)
			cap[n] += in->vms[v].mem[n];
	}
	for (int v = 0; v < nv; v++) {
		int p = out->placement[v];

		memcpy(cur[v], in->vms[v].mem, sizeof(cur[v]));
		if (p < 0) {
			assert_true(out->why[v][0] != '\0');
			for (int n = 0; n < nn; n++)
				load[n] += in->vms[v].mem[n];
			continue;
		}
		assert_true(p < nn);
		assert_false(in->nodes[p].memory_only);
		if (in->vms[v].pinned_node >= 0)
			assert_int_equal(p, in->vms[v].pinned_node);
		load[p] += total(in, v);
		vcpu[p] += in->vms[v].vcpus;
		bytes += total(in, v) - in->vms[v].mem[p];
		unordered += out->why[v][0] != '\0';
	}
	for (int n = 0; n < nn; n++) {
		assert_true(load[n] <= cap[n]);
		assert_true(vcpu[n] <= in->nodes[n].cpus);
	}
	assert_int_equal(bytes, out->bytes_moved);
	if (in->flags & NS_PLAN_MAX_MOVE)
		assert_true(bytes <= in->max_move);
	check_demand(in, out);
	for (int i = 0; i < out->nr_steps; i++) {
		const struct ns_plan_step *s = &out->steps[i];
		uint64_t tot = total(in, s->vm);

		assert_false(in->nodes[s->to].memory_only);
		assert_int_equal(s->bytes, tot - cur[s->vm][s->to]);
		assert_true(free_[s->to] >= (int64_t)s->bytes);
		for (int n = 0; n < nn; n++)
			if (n != s->to)
				free_[n] += (int64_t)cur[s->vm][n];
		free_[s->to] -= (int64_t)s->bytes;
		memset(cur[s->vm], 0, sizeof(cur[s->vm]));
		cur[s->vm][s->to] = tot;
	}
	for (int v = 0; v < nv; v++) {
		int p = out->placement[v];

		if (p >= 0 && !out->why[v][0])
			assert_int_equal(cur[v][p], total(in, v));
	}
	assert_int_equal(unordered, out->nr_unordered);
	free(cur);
}

static void solve(struct ns_plan_in *in, unsigned flags, struct ns_plan_out *out)
{
	in->flags = flags;
	assert_int_equal(ns_plan_solve(in, out), 0);
	check_plan(in, out);
}

/* Greedy to the home node is wrong here: A (5 GiB, 3 on node 0) would take node 0 from B
 * (4 GiB, all on node 0); the optimum sends A to node 1 (3 GiB) and leaves B alone. */
static void host_ab(struct ns_plan_in *in)
{
	memset(in, 0, sizeof(*in));
	in->vms = vms_new(2);
	in->nr_vms = 2;
	node(in, 0, 0, 0, 8);
	node(in, 1, 1, 3 * G, 8);
	in->vms[0].mem[0] = 3 * G; /* A */
	in->vms[0].mem[1] = 2 * G;
	in->vms[1].mem[0] = 4 * G; /* B */
}

static void t_optimum(void **state)
{
	struct ns_plan_in in;
	struct ns_plan_out out;

	(void)state;
	host_ab(&in);
	solve(&in, 0, &out);
	assert_int_equal(out.exact, 1);
	assert_int_equal(out.placement[0], 1);
	assert_int_equal(out.placement[1], 0);
	assert_int_equal(out.bytes_moved, 3 * G);
	/* B is already wholly at home: one step, A's 3 GiB to node 1 */
	assert_int_equal(out.nr_steps, 1);
	assert_int_equal(out.steps[0].vm, 0);
	assert_int_equal(out.steps[0].to, 1);
	assert_int_equal(out.steps[0].bytes, 3 * G);
	assert_false(out.steps[0].via_temp);
	ns_plan_out_free(&out);

	solve(&in, NS_PLAN_HEURISTIC, &out); /* the swap in the local search finds it too */
	assert_int_equal(out.bytes_moved, 3 * G);
	ns_plan_out_free(&out);

	solve(&in, NS_PLAN_GREEDY, &out); /* numad: the emptier node first, no look-ahead */
	assert_int_equal(out.placement[0], 0);
	assert_int_equal(out.placement[1], 1);
	assert_int_equal(out.bytes_moved, 6 * G);
	assert_int_equal(out.exact, 0);
	ns_plan_out_free(&out);
	free(in.vms);
}

/* Three VMs, capacities that force A and B apart; the optimum (3.5 GiB) is unique. */
static void t_optimum3(void **state)
{
	struct ns_plan_in in = { 0 };
	struct ns_plan_out out;

	(void)state;
	in.vms = vms_new(3);
	in.nr_vms = 3;
	node(&in, 0, 0, G / 2, 8);
	node(&in, 1, 1, 3 * G / 2, 8);
	in.vms[0].mem[0] = 3 * G, in.vms[0].mem[1] = G;		/* A: 4 GiB */
	in.vms[1].mem[0] = 5 * G / 2, in.vms[1].mem[1] = 3 * G / 2; /* B: 4 GiB */
	in.vms[2].mem[1] = 2 * G;				/* C: 2 GiB */
	solve(&in, NS_PLAN_EXACT, &out);
	assert_int_equal(out.exact, 1);
	assert_int_equal(out.placement[0], 0);
	assert_int_equal(out.placement[1], 1);
	assert_int_equal(out.placement[2], 1);
	assert_int_equal(out.bytes_moved, 7 * G / 2);
	ns_plan_out_free(&out);
	free(in.vms);
}

static void t_infeasible(void **state)
{
	struct ns_plan_in in = { 0 };
	struct ns_plan_out out;

	(void)state;
	in.vms = vms_new(3);
	in.nr_vms = 3;
	node(&in, 0, 0, G, 8);
	node(&in, 1, 1, G, 8);
	in.vms[0].mem[0] = 3 * G, in.vms[0].mem[1] = 3 * G; /* A: 6 GiB; nodes hold 4.5 and 5 */
	in.vms[1].mem[0] = G / 2, in.vms[1].mem[1] = G / 2; /* B: fits */
	in.vms[2].mem[1] = G / 2, in.vms[2].vcpus = 16;	    /* C: 16 vCPUs, nodes have 8 */
	solve(&in, 0, &out);
	assert_int_equal(out.placement[0], -1);
	assert_string_equal(out.why[0], "needs 6G, largest node capacity 5G");
	assert_int_equal(out.placement[2], -1);
	assert_string_equal(out.why[2], "16 vCPUs, no node has 16 free CPUs (most: 8)");
	/* the rest is still planned: B goes where half of it already is */
	assert_true(out.placement[1] >= 0);
	assert_string_equal(out.why[1], "");
	assert_int_equal(out.bytes_moved, G / 2);
	assert_int_equal(out.exact, 1);
	ns_plan_out_free(&out);
	free(in.vms);
}

/* Each fits alone, not both: 6 + 6 vCPUs on nodes of 8 and 2 CPUs. */
static void t_crowded(void **state)
{
	struct ns_plan_in in = { 0 };
	struct ns_plan_out out;
	int placed, other;

	(void)state;
	in.vms = vms_new(2);
	in.nr_vms = 2;
	node(&in, 0, 0, 10 * G, 8);
	node(&in, 1, 1, 10 * G, 2);
	in.vms[0].mem[0] = G, in.vms[0].vcpus = 6;
	in.vms[1].mem[0] = G, in.vms[1].vcpus = 6;
	solve(&in, 0, &out);
	assert_int_equal(nplaced(&in, &out), 1);
	placed = out.placement[0] >= 0 ? 0 : 1;
	other = 1 - placed;
	assert_int_equal(out.placement[placed], 0);
	assert_int_equal(out.bytes_moved, 0);
	assert_non_null(strstr(out.why[other], "needs 1G and 6 vCPUs"));
	assert_non_null(strstr(out.why[other], "2 free CPUs"));
	assert_int_equal(out.nr_steps, 0); /* nothing moves: the placed one is home already */
	ns_plan_out_free(&out);
	free(in.vms);
}

static void t_pinned(void **state)
{
	struct ns_plan_in in = { 0 };
	struct ns_plan_out out;

	(void)state;
	in.vms = vms_new(2);
	in.nr_vms = 2;
	node(&in, 0, 0, 8 * G, 8);
	node(&in, 1, 1, 4 * G, 8);
	in.vms[0].mem[0] = 3 * G, in.vms[0].pinned_node = 1; /* all of it on 0, must go to 1 */
	in.vms[1].mem[0] = G, in.vms[1].pinned_node = 1;
	in.vms[1].vcpus = 9; /* pinned to a node with 8 CPUs */
	solve(&in, 0, &out);
	assert_int_equal(out.placement[0], 1);
	assert_int_equal(out.bytes_moved, 3 * G);
	assert_int_equal(out.nr_steps, 1);
	assert_int_equal(out.steps[0].to, 1);
	assert_int_equal(out.placement[1], -1);
	assert_string_equal(out.why[1], "pinned to node 1, which has 8 CPUs; needs 9 vCPUs");
	ns_plan_out_free(&out);

	in.vms[1].vcpus = 1;
	in.vms[1].mem[0] = 2 * G; /* node 1 can hold 4 GiB of VMs; 3 + 2 do not fit there */
	solve(&in, 0, &out);
	assert_int_equal(nplaced(&in, &out), 1);
	/* either fits alone; the smaller one moves fewer bytes */
	assert_int_equal(out.placement[1], 1);
	assert_int_equal(out.bytes_moved, 2 * G);
	assert_int_equal(out.placement[0], -1);
	assert_string_equal(out.why[0], "needs 3G and 1 vCPUs on node 1 (pinned); with the other VMs placed, "
					"it has 2G and 7 free CPUs");
	ns_plan_out_free(&out);
	free(in.vms);
}

/* Node 0 is full until X leaves it: Y (listed first) can only run after X. */
static void t_order(void **state)
{
	struct ns_plan_in in = { 0 };
	struct ns_plan_out out;

	(void)state;
	in.vms = vms_new(2);
	in.nr_vms = 2;
	node(&in, 0, 0, 0, 8);
	node(&in, 1, 1, G, 8);
	in.vms[0].mem[0] = 3 * G, in.vms[0].mem[1] = G; /* Y: home is node 0 */
	in.vms[1].mem[0] = G, in.vms[1].mem[1] = 2 * G; /* X: home is node 1 */
	solve(&in, 0, &out);
	assert_int_equal(out.placement[0], 0);
	assert_int_equal(out.placement[1], 1);
	assert_int_equal(out.nr_steps, 2);
	assert_int_equal(out.nr_unordered, 0);
	assert_int_equal(out.steps[0].vm, 1);
	assert_int_equal(out.steps[1].vm, 0);
	ns_plan_out_free(&out);
	free(in.vms);
}

/* Two steps can run first, but only one of them frees what the third step waits for: A and B
 * both want node 0's 4 GiB; A frees node 1, where C needs room, and C frees node 0 for B.
 * B first would leave node 0 full with A and C waiting on each other. */
static void t_order_choice(void **state)
{
	struct ns_plan_in in = { 0 };
	struct ns_plan_out out;

	(void)state;
	in.vms = vms_new(3);
	in.nr_vms = 3;
	node(&in, 0, 0, 4 * G, 8);
	node(&in, 1, 1, 0, 8);
	node(&in, 2, 2, 0, 8);
	in.vms[0].mem[2] = 4 * G, in.vms[0].pinned_node = 0; /* B, listed first */
	in.vms[1].mem[1] = 4 * G, in.vms[1].pinned_node = 0; /* A */
	in.vms[2].mem[0] = 4 * G, in.vms[2].pinned_node = 1; /* C */
	solve(&in, 0, &out);
	assert_int_equal(out.nr_unordered, 0);
	assert_int_equal(out.nr_steps, 3); /* and no parking leg */
	assert_int_equal(out.steps[0].vm, 1);
	assert_int_equal(out.steps[1].vm, 2);
	assert_int_equal(out.steps[2].vm, 0);
	ns_plan_out_free(&out);
	free(in.vms);
}

/* P and Q swap nodes 0 and 1, both full: no order without a place to park one of them. */
static void host_cycle(struct ns_plan_in *in, int park)
{
	memset(in, 0, sizeof(*in));
	in->vms = vms_new(2);
	in->nr_vms = 2;
	node(in, 0, 0, 0, 8);
	node(in, 1, 1, 0, 8);
	if (park)
		node(in, 2, 2, 2 * G, 8);
	in->vms[0].mem[0] = 2 * G, in->vms[0].pinned_node = 1;
	in->vms[1].mem[1] = 2 * G, in->vms[1].pinned_node = 0;
}

static void t_cycle(void **state)
{
	struct ns_plan_in in;
	struct ns_plan_out out;

	(void)state;
	host_cycle(&in, 0);
	solve(&in, 0, &out);
	assert_int_equal(nplaced(&in, &out), 2);
	assert_int_equal(out.bytes_moved, 4 * G);
	assert_int_equal(out.nr_steps, 0);
	assert_int_equal(out.nr_unordered, 2);
	assert_string_equal(out.why[0], "no safe order: needs 2G on node 1 (0 free), "
					"which frees only after vmB move");
	assert_string_equal(out.why[1], "no safe order: needs 2G on node 0 (0 free), "
					"which frees only after vmA move");
	ns_plan_out_free(&out);
	free(in.vms);

	host_cycle(&in, 1);
	solve(&in, 0, &out);
	assert_int_equal(out.nr_unordered, 0);
	assert_int_equal(out.nr_steps, 3);
	assert_true(out.steps[0].via_temp);
	assert_int_equal(out.steps[0].to, 2);
	assert_int_equal(out.steps[0].bytes, 2 * G);
	assert_false(out.steps[1].via_temp || out.steps[2].via_temp);
	assert_int_equal(out.steps[1].vm, 1 - out.steps[0].vm);
	assert_int_equal(out.steps[2].vm, out.steps[0].vm);
	assert_string_equal(out.why[0], "");
	assert_string_equal(out.why[1], "");
	ns_plan_out_free(&out);
	free(in.vms);
}

/* ---- random instances ---- */

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void random_host(struct ns_plan_in *in, int nn, int nv)
{
	memset(in, 0, sizeof(*in));
	in->vms = vms_new(nv);
	in->nr_vms = nv;
	for (int n = 0; n < nn; n++)
		node(in, n, 10 + n, (rnd() % 17) * (G / 4), 4 + (int)(rnd() % 5));
	for (int v = 0; v < nv; v++) {
		uint64_t size = (1 + rnd() % 48) * (G / 4), a = rnd() % (uint64_t)nn;

		if (rnd() % 2) {
			uint64_t b = rnd() % (uint64_t)nn, part = size * (50 + rnd() % 50) / 100 / M * M;

			in->vms[v].mem[a] += part;
			in->vms[v].mem[b] += size - part;
		} else {
			in->vms[v].mem[a] = size;
		}
		in->vms[v].vcpus = 1 + (int)(rnd() % 4);
		if (rnd() % 10 == 0)
			in->vms[v].pinned_node = (int)(rnd() % (uint64_t)nn);
	}
}

/* Every assignment (a node or unplaced per VM), for the true optimum. */
static void brute(const struct ns_plan_in *in, int *bu, uint64_t *bb)
{
	int nn = in->nr_nodes, nv = in->nr_vms, a[16];
	long combos = 1;

	for (int v = 0; v < nv; v++)
		combos *= nn + 1;
	*bu = nv + 1;
	for (long k = 0; k < combos; k++) {
		uint64_t load[NS_PLAN_MAX_NODES] = { 0 }, cap[NS_PLAN_MAX_NODES], bytes = 0;
		int cpu[NS_PLAN_MAX_NODES] = { 0 }, unpl = 0, ok = 1;
		long x = k;

		for (int v = 0; v < nv; v++, x /= nn + 1)
			a[v] = (int)(x % (nn + 1)) - 1;
		for (int n = 0; n < nn; n++) {
			cap[n] = in->nodes[n].headroom;
			for (int v = 0; v < nv; v++)
				cap[n] += in->vms[v].mem[n];
		}
		for (int v = 0; v < nv; v++) {
			if (a[v] < 0) {
				unpl++;
				for (int n = 0; n < nn; n++)
					load[n] += in->vms[v].mem[n];
				continue;
			}
			if (in->vms[v].pinned_node >= 0 && in->vms[v].pinned_node != a[v])
				ok = 0;
			load[a[v]] += total(in, v);
			cpu[a[v]] += in->vms[v].vcpus;
			bytes += total(in, v) - in->vms[v].mem[a[v]];
		}
		for (int n = 0; n < nn; n++)
			ok &= load[n] <= cap[n] && cpu[n] <= in->nodes[n].cpus;
		if (ok && (unpl < *bu || (unpl == *bu && bytes < *bb)))
			*bu = unpl, *bb = bytes;
	}
}

static void t_exact_brute(void **state)
{
	(void)state;
	for (int i = 0; i < 150; i++) {
		struct ns_plan_in in;
		struct ns_plan_out out;
		int nn = 2 + (int)(rnd() % 2), nv = 2 + (int)(rnd() % 6), bu;
		uint64_t bb = 0;

		random_host(&in, nn, nv);
		brute(&in, &bu, &bb);
		solve(&in, NS_PLAN_EXACT, &out);
		assert_int_equal(out.exact, 1);
		assert_int_equal(nv - nplaced(&in, &out), bu);
		assert_int_equal(out.bytes_moved, bb);
		ns_plan_out_free(&out);
		free(in.vms);
	}
}

/* The heuristic against the optimum on small random hosts. It is a heuristic: on about 1 host
 * in 300 of this kind it places a VM fewer or moves more than 5% more (bench/plan measures the
 * rate), so the test asks for 97 of 100 and a mean within 1%; a plain greedy scores far worse. */
static void t_heuristic_vs_exact(void **state)
{
	int worse = 0, good = 0, same = 0;
	double sum = 0;

	(void)state;
	for (int i = 0; i < 100; i++) {
		struct ns_plan_in in;
		struct ns_plan_out e, h, g;
		int nn = 2 + (int)(rnd() % 3), nv = 4 + (int)(rnd() % 9);

		random_host(&in, nn, nv);
		solve(&in, NS_PLAN_EXACT, &e);
		solve(&in, NS_PLAN_HEURISTIC, &h);
		solve(&in, NS_PLAN_GREEDY, &g);
		/* the optimum is never beaten (most VMs placed first, then fewest bytes) */
		assert_true(nplaced(&in, &h) <= nplaced(&in, &e));
		assert_true(nplaced(&in, &g) <= nplaced(&in, &e));
		if (nplaced(&in, &h) == nplaced(&in, &e)) {
			assert_true(h.bytes_moved >= e.bytes_moved);
			good += (double)h.bytes_moved <= 1.05 * (double)e.bytes_moved;
			if (e.bytes_moved) {
				sum += (double)h.bytes_moved / (double)e.bytes_moved;
				same++;
			}
		}
		if (nplaced(&in, &g) == nplaced(&in, &e))
			assert_true(g.bytes_moved >= e.bytes_moved);
		worse += g.bytes_moved > e.bytes_moved * 21 / 20 || nplaced(&in, &g) < nplaced(&in, &e);
		ns_plan_out_free(&e);
		ns_plan_out_free(&h);
		ns_plan_out_free(&g);
		free(in.vms);
	}
	assert_true(good >= 97);
	assert_true(sum / same <= 1.01);
	assert_true(worse >= 50); /* the same bar fails the numad-like baseline most of the time */
}

/* The default method on a host too big for the exact search still plans everything. */
static void t_large(void **state)
{
	struct ns_plan_in in;
	struct ns_plan_out out;

	(void)state;
	random_host(&in, 8, 500);
	for (int n = 0; n < 8; n++) /* room for everyone, so every VM must be placed */
		in.nodes[n].headroom += 600 * G, in.nodes[n].cpus = 2000;
	solve(&in, 0, &out);
	assert_int_equal(nplaced(&in, &out), 500);
	assert_int_equal(out.nr_unordered, 0);
	/* with room everywhere, each VM goes where most of it is: the lower bound, proven */
	assert_int_equal(out.exact, 1);
	ns_plan_out_free(&out);
	free(in.vms);
}

/* ---- CPU demand, the byte limit, memory-only nodes ---- */

/* A VM wholly on node n with its threads there too. */
static void vm_at(struct ns_plan_in *in, int v, int n, uint64_t bytes, int vcpu, double demand)
{
	memset(in->vms[v].mem, 0, sizeof(in->vms[v].mem));
	in->vms[v].mem[n] = bytes;
	in->vms[v].vcpus = vcpu;
	in->vms[v].demand = demand;
	in->vms[v].threads_node = in->nodes[n].id;
}

static void cpu_node(struct ns_plan_in *in, int i, uint64_t headroom, int vcpu_cap, double capacity)
{
	node(in, i, i, headroom, vcpu_cap);
	in->nodes[i].capacity = capacity;
}

/* The worked example of numa-plan(8), "The objective": two nodes of 2 CPUs (vCPU cap 6,
 * --cpu-overcommit 3); web (1.8 CPUs, 4G) and db (1.6, 6G) on node 0, batch (0.9, 2G), idle1
 * (0.1, 1G) and idle2 (0.05, 1G) on node 1. Node 0 wants 3.4 CPUs of 2: 1.4 excess. */
static void host_worked(struct ns_plan_in *in)
{
	memset(in, 0, sizeof(*in));
	in->vms = vms_new(5);
	in->nr_vms = 5;
	in->have_demand = 1;
	cpu_node(in, 0, 8 * G, 6, 2);
	cpu_node(in, 1, 8 * G, 6, 2);
	strcpy(in->vms[0].name, "web");
	strcpy(in->vms[1].name, "db");
	strcpy(in->vms[2].name, "batch");
	strcpy(in->vms[3].name, "idle1");
	strcpy(in->vms[4].name, "idle2");
	vm_at(in, 0, 0, 4 * G, 2, 1.8);
	vm_at(in, 1, 0, 6 * G, 2, 1.6);
	vm_at(in, 2, 1, 2 * G, 1, 0.9);
	vm_at(in, 3, 1, 1 * G, 1, 0.1);
	vm_at(in, 4, 1, 1 * G, 1, 0.05);
}

static void t_worked_example(void **state)
{
	static const unsigned methods[] = { 0, NS_PLAN_EXACT, NS_PLAN_HEURISTIC };
	struct ns_plan_in in;
	struct ns_plan_out out;

	(void)state;
	host_worked(&in);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		/* moving db alone (6G) leaves 0.65, web alone (4G) 0.85; web and batch trading
		 * places leaves 0.5 (node 0: db + batch = 2.5, node 1: web + idles = 1.95): the
		 * least any placement leaves here, and the cheapest of those (6G, where db and
		 * idles for web and batch would move 8G) */
		solve(&in, methods[i], &out);
		assert_int_equal(out.placement[0], 1);
		assert_int_equal(out.placement[1], 0);
		assert_int_equal(out.placement[2], 0);
		assert_int_equal(out.placement[3], 1);
		assert_int_equal(out.placement[4], 1);
		assert_int_equal(out.bytes_moved, 6 * G);
		assert_int_equal(milli(out.excess_before), 1400);
		assert_int_equal(milli(out.excess_after), 500);
		assert_int_equal(milli(out.demand_before[0]), 3400);
		assert_int_equal(milli(out.demand_before[1]), 1050);
		assert_int_equal(milli(out.demand_after[0]), 2500);
		assert_int_equal(milli(out.demand_after[1]), 1950);
		assert_int_equal(out.nr_steps, 2);
		assert_int_equal(out.max_move_bound, 0);
		if (methods[i] != NS_PLAN_HEURISTIC)
			assert_true(out.exact);
		ns_plan_out_free(&out);
	}
	/* --max-move 4G: the swap no longer fits; web alone is the best within it */
	in.max_move = 4 * G;
	solve(&in, NS_PLAN_MAX_MOVE, &out);
	assert_int_equal(out.placement[0], 1);
	assert_int_equal(out.placement[2], 1);
	assert_int_equal(out.bytes_moved, 4 * G);
	assert_int_equal(milli(out.excess_after), 850);
	assert_int_equal(out.max_move_bound, 1);
	assert_int_equal(milli(out.excess_uncapped), 500); /* what the limit cost: 0.35 CPUs */
	assert_int_equal(out.bytes_uncapped, 6 * G);
	assert_int_equal(out.unplaced_uncapped, 0);
	assert_true(out.exact);
	ns_plan_out_free(&out);
	solve(&in, NS_PLAN_MAX_MOVE | NS_PLAN_HEURISTIC, &out);
	assert_int_equal(out.bytes_moved, 4 * G);
	assert_int_equal(milli(out.excess_after), 850);
	ns_plan_out_free(&out);
	/* a limit the best plan fits in costs nothing */
	in.max_move = 6 * G;
	solve(&in, NS_PLAN_MAX_MOVE, &out);
	assert_int_equal(out.max_move_bound, 0);
	assert_int_equal(out.bytes_moved, 6 * G);
	ns_plan_out_free(&out);
	/* moving idle VMs only adds demand to node 0: with 1G nothing is worth it */
	in.max_move = G;
	solve(&in, NS_PLAN_MAX_MOVE, &out);
	assert_int_equal(out.bytes_moved, 0);
	assert_int_equal(out.nr_steps, 0);
	assert_int_equal(milli(out.excess_after), 1400);
	assert_int_equal(out.max_move_bound, 1);
	ns_plan_out_free(&out);
	/* unmeasured, it is today's plan: every VM is home, nothing moves */
	in.have_demand = 0;
	solve(&in, 0, &out);
	assert_int_equal(out.bytes_moved, 0);
	assert_int_equal(out.nr_steps, 0);
	assert_true(out.excess_before == 0 && out.excess_after == 0);
	ns_plan_out_free(&out);
	free(in.vms);
}

/* What `make demo` showed: two busy VMs on node 0's one CPU, node 1's CPU idle. Bytes alone
 * keep them there; with their demand one of them moves (the smaller), the idle VM does not. */
static void t_busy_separated(void **state)
{
	static const unsigned methods[] = { 0, NS_PLAN_EXACT, NS_PLAN_HEURISTIC };
	struct ns_plan_in in = { 0 };
	struct ns_plan_out out;

	(void)state;
	in.vms = vms_new(3);
	in.nr_vms = 3;
	cpu_node(&in, 0, 2 * G, 4, 1);
	cpu_node(&in, 1, 2 * G, 4, 1);
	vm_at(&in, 0, 0, 512 * M, 2, 1.0);  /* busy A */
	vm_at(&in, 1, 0, 384 * M, 2, 1.0);  /* busy B */
	vm_at(&in, 2, 1, 128 * M, 1, 0.01); /* idle C */
	solve(&in, 0, &out);
	assert_int_equal(out.bytes_moved, 0); /* unmeasured: stays stacked */
	assert_int_equal(out.placement[0], 0);
	assert_int_equal(out.placement[1], 0);
	ns_plan_out_free(&out);
	in.have_demand = 1;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		solve(&in, methods[i], &out);
		assert_int_equal(out.placement[0], 0);
		assert_int_equal(out.placement[1], 1);
		assert_int_equal(out.placement[2], 1);
		assert_int_equal(out.bytes_moved, 384 * M);
		assert_int_equal(milli(out.excess_before), 1000);
		assert_int_equal(milli(out.excess_after), 10); /* 2.01 CPUs wanted of 2 */
		assert_int_equal(out.nr_steps, 1);
		assert_int_equal(out.steps[0].vm, 1);
		ns_plan_out_free(&out);
	}
	free(in.vms);
}

/* Idle VMs stay where they are when moving them lowers no excess: a VM wanting 3 CPUs on a
 * 2-CPU node is over by 1 whatever moves, and idle VMs beside it cost that node nothing. */
static void t_idle_stay(void **state)
{
	static const unsigned methods[] = { 0, NS_PLAN_EXACT, NS_PLAN_HEURISTIC };
	struct ns_plan_in in = { 0 };
	struct ns_plan_out out;

	(void)state;
	in.vms = vms_new(6);
	in.nr_vms = 6;
	in.have_demand = 1;
	cpu_node(&in, 0, 4 * G, 16, 2);
	cpu_node(&in, 1, 4 * G, 16, 2);
	vm_at(&in, 0, 0, 2 * G, 4, 3.0);
	vm_at(&in, 1, 0, G, 2, 0);
	vm_at(&in, 2, 0, G, 2, 0);
	vm_at(&in, 3, 1, G, 2, 0.05);
	vm_at(&in, 4, 1, G, 2, 0.02);
	vm_at(&in, 5, 1, G / 2, 1, 0.3);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		solve(&in, methods[i], &out);
		assert_int_equal(out.bytes_moved, 0);
		assert_int_equal(out.nr_steps, 0);
		for (int v = 0; v < 6; v++)
			assert_int_equal(out.placement[v], v < 3 ? 0 : 1);
		assert_int_equal(milli(out.excess_before), 1000);
		assert_int_equal(milli(out.excess_after), 1000);
		ns_plan_out_free(&out);
	}
	free(in.vms);
}

/* A VM spread over two nodes cannot come home within a small byte limit: it is left where it
 * is, with the limit as its reason, and the rest is planned. */
static void t_max_move_spread(void **state)
{
	struct ns_plan_in in = { 0 };
	struct ns_plan_out out;

	(void)state;
	in.vms = vms_new(2);
	in.nr_vms = 2;
	cpu_node(&in, 0, 4 * G, 8, 4);
	cpu_node(&in, 1, 4 * G, 8, 4);
	in.vms[0].mem[0] = G, in.vms[0].mem[1] = G, in.vms[0].threads_node = -1;
	vm_at(&in, 1, 1, G, 1, 0);
	in.max_move = G / 2;
	solve(&in, NS_PLAN_MAX_MOVE, &out);
	assert_int_equal(out.placement[0], -1);
	assert_string_equal(out.why[0], "left where it is: moving it to node 0 takes 1G, the --max-move limit 512M "
					"has 512M left");
	assert_int_equal(out.placement[1], 1);
	assert_int_equal(out.bytes_moved, 0);
	assert_int_equal(out.nr_limited, 1);
	assert_int_equal(out.max_move_bound, 1);
	assert_int_equal(out.unplaced_uncapped, 0);
	assert_int_equal(out.bytes_uncapped, G);
	ns_plan_out_free(&out);
	in.max_move = G;
	solve(&in, NS_PLAN_MAX_MOVE, &out);
	assert_true(out.placement[0] >= 0);
	assert_int_equal(out.nr_limited, 0);
	assert_int_equal(out.max_move_bound, 0);
	ns_plan_out_free(&out);
	free(in.vms);
}

/* Node 2 has memory and no CPUs (CXL): never a home, its memory is to move, and the VMs with
 * memory there say so. */
static void t_memory_only(void **state)
{
	struct ns_plan_in in = { 0 };
	struct ns_plan_out out;

	(void)state;
	in.vms = vms_new(4);
	in.nr_vms = 4;
	cpu_node(&in, 0, 4 * G, 8, 2);
	cpu_node(&in, 1, 4 * G, 8, 3);
	cpu_node(&in, 2, 16 * G, 0, 0);
	in.nodes[2].memory_only = 1;
	in.vms[0].mem[2] = G, in.vms[0].mem[0] = G / 4, in.vms[0].threads_node = -1; /* X */
	in.vms[1].mem[2] = G / 2, in.vms[1].threads_node = -1;			 /* Z: all there */
	vm_at(&in, 2, 1, G / 2, 1, 0);
	in.vms[3].mem[2] = G / 2, in.vms[3].pinned_node = 2;
	in.vms[3].threads_node = -1;
	for (int d = 0; d < 2; d++) {
		in.have_demand = d;
		in.vms[0].demand = 1.5, in.vms[1].demand = 0.5;
		solve(&in, 0, &out);
		assert_int_equal(out.placement[0], 0);
		assert_string_equal(out.note[0], "memory on CPU-less node 2 (1G)");
		assert_true(out.placement[1] == 0 || out.placement[1] == 1);
		assert_string_equal(out.note[1], "memory on CPU-less node 2 (512M)");
		assert_string_equal(out.note[2], "");
		assert_int_equal(out.placement[3], -1);
		assert_string_equal(out.why[3], "pinned to node 2, which has no CPUs");
		assert_int_equal(out.bytes_moved, G + G / 2);
		if (d) {
			/* X's demand was on node 0 (its memory there), Z's on node 1 (most capacity) */
			assert_int_equal(milli(out.demand_before[0]), 1500);
			assert_int_equal(milli(out.demand_before[1]), 500);
			assert_int_equal(milli(out.demand_before[2]), 0);
		}
		ns_plan_out_free(&out);
	}
	free(in.vms);
}

/* Random hosts with demand: busy VMs (half to all of their vCPUs) and idle ones, nodes of 1-4
 * CPUs with a vCPU cap of 4-8 (overcommitted), threads confined or not, now and then a node
 * without CPUs and a byte limit. */
static void random_demand_host(struct ns_plan_in *in, int nn, int nv)
{
	uint64_t all = 0;

	random_host(in, nn, nv);
	in->have_demand = 1;
	for (int n = 0; n < nn; n++)
		in->nodes[n].capacity = 1 + (double)(rnd() % 4);
	if (nn > 2 && rnd() % 4 == 0) {
		in->nodes[0].memory_only = 1;
		in->nodes[0].capacity = 0;
		in->nodes[0].cpus = 0;
		for (int v = 0; v < nv; v++)
			if (in->vms[v].pinned_node == 0)
				in->vms[v].pinned_node = -1;
	}
	for (int v = 0; v < nv; v++) {
		struct ns_plan_vm *vm = &in->vms[v];

		if (rnd() % 2)
			vm->demand = (double)((uint64_t)vm->vcpus * (500 + rnd() % 501)) / 1000.0;
		else
			vm->demand = (double)(rnd() % 100) / 1000.0;
		vm->threads_node = rnd() % 3 ? in->nodes[rnd() % (uint64_t)nn].id : -1;
		all += total(in, v);
	}
	if (rnd() % 3 == 0) {
		in->flags |= NS_PLAN_MAX_MOVE;
		in->max_move = rnd() % (all / 2 + 1);
	}
}

/* Every assignment (a node or unplaced per VM) for the true optimum: (unplaced, excess,
 * bytes) in that order, within the byte limit. */
static void brute_demand(const struct ns_plan_in *in, int *bu, int64_t *be, uint64_t *bb)
{
	int nn = in->nr_nodes, nv = in->nr_vms, a[16];
	long combos = 1;

	for (int v = 0; v < nv; v++)
		combos *= nn + 1;
	*bu = nv + 1;
	for (long k = 0; k < combos; k++) {
		uint64_t load[NS_PLAN_MAX_NODES] = { 0 }, cap[NS_PLAN_MAX_NODES], bytes = 0;
		int cpu[NS_PLAN_MAX_NODES] = { 0 }, unpl = 0, ok = 1;
		int64_t e;
		long x = k;

		for (int v = 0; v < nv; v++, x /= nn + 1)
			a[v] = (int)(x % (nn + 1)) - 1;
		for (int n = 0; n < nn; n++) {
			cap[n] = in->nodes[n].headroom;
			for (int v = 0; v < nv; v++)
				cap[n] += in->vms[v].mem[n];
		}
		for (int v = 0; v < nv && ok; v++) {
			if (a[v] < 0) {
				unpl++;
				for (int n = 0; n < nn; n++)
					load[n] += in->vms[v].mem[n];
				continue;
			}
			if ((in->vms[v].pinned_node >= 0 && in->vms[v].pinned_node != a[v]) ||
			    in->nodes[a[v]].memory_only)
				ok = 0;
			load[a[v]] += total(in, v);
			cpu[a[v]] += in->vms[v].vcpus;
			bytes += total(in, v) - in->vms[v].mem[a[v]];
		}
		for (int n = 0; n < nn; n++)
			ok &= load[n] <= cap[n] && cpu[n] <= in->nodes[n].cpus;
		if ((in->flags & NS_PLAN_MAX_MOVE) && bytes > in->max_move)
			ok = 0;
		if (!ok)
			continue;
		e = excess_of(in, a, NULL);
		if (unpl < *bu || (unpl == *bu && (e < *be || (e == *be && bytes < *bb))))
			*bu = unpl, *be = e, *bb = bytes;
	}
}

static void t_exact_brute_demand(void **state)
{
	(void)state;
	for (int i = 0; i < 150; i++) {
		struct ns_plan_in in;
		struct ns_plan_out out;
		int nn = 2 + (int)(rnd() % 2), nv = 2 + (int)(rnd() % 6), bu;
		int64_t be = 0;
		uint64_t bb = 0;

		random_demand_host(&in, nn, nv);
		brute_demand(&in, &bu, &be, &bb);
		solve(&in, NS_PLAN_EXACT | (in.flags & NS_PLAN_MAX_MOVE), &out);
		assert_int_equal(out.exact, 1);
		assert_int_equal(nv - nplaced(&in, &out), bu);
		if (out.nr_unordered == 0)
			assert_int_equal(milli(out.excess_after), be);
		assert_int_equal(out.bytes_moved, bb);
		ns_plan_out_free(&out);
		free(in.vms);
	}
}

/* The heuristic against the optimum on small random hosts with demand: the same VMs placed
 * and the same excess nearly always, bytes within 5%; the numad-like greedy far from it. */
static void t_heuristic_vs_exact_demand(void **state)
{
	int good = 0, greedy_good = 0;

	(void)state;
	for (int i = 0; i < 100; i++) {
		struct ns_plan_in in;
		struct ns_plan_out e, h, g;
		int nn = 2 + (int)(rnd() % 3), nv = 4 + (int)(rnd() % 9);
		unsigned cap;

		random_demand_host(&in, nn, nv);
		cap = in.flags & NS_PLAN_MAX_MOVE;
		solve(&in, NS_PLAN_EXACT | cap, &e);
		solve(&in, NS_PLAN_HEURISTIC | cap, &h);
		solve(&in, NS_PLAN_GREEDY | cap, &g);
		assert_true(e.exact);
		/* the optimum is never beaten */
		assert_true(nplaced(&in, &h) <= nplaced(&in, &e));
		assert_true(nplaced(&in, &g) <= nplaced(&in, &e));
		if (nplaced(&in, &h) == nplaced(&in, &e) && !h.nr_unordered && !e.nr_unordered)
			assert_true(milli(h.excess_after) >= milli(e.excess_after));
		good += nplaced(&in, &h) == nplaced(&in, &e) && milli(h.excess_after) == milli(e.excess_after) &&
			(double)h.bytes_moved <= 1.05 * (double)e.bytes_moved;
		greedy_good += nplaced(&in, &g) == nplaced(&in, &e) &&
			       milli(g.excess_after) == milli(e.excess_after) &&
			       (double)g.bytes_moved <= 1.05 * (double)e.bytes_moved;
		ns_plan_out_free(&e);
		ns_plan_out_free(&h);
		ns_plan_out_free(&g);
		free(in.vms);
	}
	print_message("heuristic matches the optimum on %d of 100, the numad-like greedy on %d\n", good,
		      greedy_good);
	assert_true(good >= 95);
	assert_true(greedy_good <= 50);
}

/* ---- JSON ---- */

static char *tmpfile_with(const char *text)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/ns-plan-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	if (text)
		assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void t_json_roundtrip(void **state)
{
	struct ns_plan_in in;
	struct ns_plan_out out;
	struct json_object *js, *x, *vms, *steps;
	struct ns_plan_exec_step *ex;
	char err[256], *path;
	int nr;

	(void)state;
	host_cycle(&in, 1);
	in.nodes[0].id = 4, in.nodes[1].id = 7, in.nodes[2].id = 9; /* kernel ids, not indexes */
	in.vms = realloc(in.vms, 3 * sizeof(*in.vms));
	memset(&in.vms[2], 0, sizeof(in.vms[2]));
	strcpy(in.vms[2].name, "big");
	in.vms[2].pid = 4242, in.vms[2].vcpus = 64, in.vms[2].pinned_node = -1;
	in.vms[2].mem[0] = 20 * G; /* fits nowhere: no node has 64 CPUs */
	in.nr_vms = 3;
	solve(&in, 0, &out);
	js = ns_plan_to_json(&in, &out);
	assert_non_null(js);
	assert_true(json_object_object_get_ex(js, "version", &x) && json_object_get_int(x) == 1);
	assert_true(json_object_object_get_ex(js, "kind", &x));
	assert_string_equal(json_object_get_string(x), "numasafe-rebalance");
	assert_true(json_object_object_get_ex(js, "bytes_moved", &x) && json_object_get_int64(x) == (int64_t)(4 * G));
	assert_true(json_object_object_get_ex(js, "vms", &vms));
	assert_int_equal(json_object_array_length(vms), 3);
	x = json_object_array_get_idx(vms, 0);
	assert_int_equal(json_object_get_int(json_object_object_get(x, "node")), 7);
	assert_int_equal(json_object_get_int(json_object_object_get(x, "node_now")), 4);
	assert_false(json_object_object_get_ex(x, "reason", NULL));
	x = json_object_array_get_idx(vms, 2);
	assert_true(json_object_object_get_ex(x, "node", &steps) && steps == NULL); /* null */
	assert_true(json_object_object_get_ex(x, "reason", NULL));
	assert_true(json_object_object_get_ex(js, "nodes", &x));
	assert_int_equal(json_object_get_int(json_object_object_get(json_object_array_get_idx(x, 2), "node")), 9);
	/* after the plan: A on node 7, B on node 4, big still on node 4 */
	assert_int_equal(json_object_get_int64(json_object_object_get(json_object_array_get_idx(x, 0), "bytes_after")),
			 (int64_t)(22 * G));
	assert_int_equal(json_object_get_int64(json_object_object_get(json_object_array_get_idx(x, 1), "bytes_after")),
			 (int64_t)(2 * G));

	path = tmpfile_with(NULL);
	assert_int_equal(json_object_to_file_ext(path, js, JSON_C_TO_STRING_PRETTY), 0);
	assert_int_equal(ns_plan_read(path, &ex, &nr, err, sizeof(err)), 0);
	assert_int_equal(nr, out.nr_steps);
	assert_int_equal(nr, 3);
	for (int i = 0; i < nr; i++) {
		const struct ns_plan_vm *vm = &in.vms[out.steps[i].vm];

		assert_int_equal(ex[i].index, i + 1);
		assert_string_equal(ex[i].vm, vm->name);
		assert_int_equal(ex[i].is_domain, vm->is_domain);
		assert_int_equal(ex[i].pid, vm->pid);
		assert_int_equal(ex[i].start_time, vm->start_time);
		assert_int_equal(ex[i].to_node, in.nodes[out.steps[i].to].id);
		assert_int_equal(ex[i].bytes, out.steps[i].bytes);
		assert_int_equal(ex[i].temporary, out.steps[i].via_temp);
	}
	assert_int_equal(ex[0].to_node, 9);
	assert_true(ex[0].temporary);
	free(ex);
	unlink(path);
	json_object_put(js);
	ns_plan_out_free(&out);
	free(in.vms);
}

static double jnum(struct json_object *o, const char *key)
{
	struct json_object *x;

	assert_true(json_object_object_get_ex(o, key, &x));
	assert_true(json_object_is_type(x, json_type_double) || json_object_is_type(x, json_type_int));
	return json_object_get_double(x);
}

/* The demand fields of the plan file, on the worked example with --max-move 4G; and null
 * demands when nothing was measured. */
static void t_json_demand(void **state)
{
	struct ns_plan_in in;
	struct ns_plan_out out;
	struct json_object *js, *x, *mm, *n0;
	const char *text;

	(void)state;
	host_worked(&in);
	in.sample_s = 5.0;
	in.max_move = 4 * G;
	solve(&in, NS_PLAN_MAX_MOVE, &out);
	js = ns_plan_to_json(&in, &out);
	assert_non_null(js);
	assert_true(jnum(js, "excess_before") == 1.4);
	assert_true(jnum(js, "excess_after") == 0.85);
	assert_true(jnum(js, "sample_s") == 5.0);
	assert_true(json_object_object_get_ex(js, "max_move", &mm));
	assert_int_equal(json_object_get_int64(json_object_object_get(mm, "limit")), (int64_t)(4 * G));
	assert_true(json_object_get_boolean(json_object_object_get(mm, "bound")));
	assert_int_equal(json_object_get_int(json_object_object_get(mm, "vms_left")), 0);
	assert_true(jnum(mm, "excess_uncapped") == 0.5);
	assert_int_equal(json_object_get_int64(json_object_object_get(mm, "bytes_uncapped")), (int64_t)(6 * G));
	assert_int_equal(json_object_get_int(json_object_object_get(mm, "unplaced_uncapped")), 0);
	assert_true(json_object_object_get_ex(js, "nodes", &x));
	n0 = json_object_array_get_idx(x, 0);
	assert_true(jnum(n0, "capacity") == 2);
	assert_true(jnum(n0, "demand_before") == 3.4);
	assert_true(jnum(n0, "demand_after") == 1.6);
	assert_true(jnum(json_object_array_get_idx(x, 1), "demand_after") == 2.85);
	assert_true(json_object_object_get_ex(js, "vms", &x));
	assert_true(jnum(json_object_array_get_idx(x, 0), "demand") == 1.8);
	assert_true(jnum(json_object_array_get_idx(x, 4), "demand") == 0.05);
	assert_false(json_object_object_get_ex(json_object_array_get_idx(x, 0), "note", NULL));
	/* three decimals at most, as written */
	text = json_object_to_json_string_ext(js, JSON_C_TO_STRING_PLAIN);
	assert_non_null(strstr(text, "\"excess_before\":1.4,"));
	assert_non_null(strstr(text, "\"demand\":0.05}"));
	json_object_put(js);
	ns_plan_out_free(&out);

	/* unmeasured: the demands are null, capacity is still there, no limit */
	in.have_demand = 0;
	in.sample_s = 0;
	solve(&in, 0, &out);
	js = ns_plan_to_json(&in, &out);
	assert_non_null(js);
	assert_true(json_object_object_get_ex(js, "excess_before", &x) && x == NULL);
	assert_true(json_object_object_get_ex(js, "max_move", &x) && x == NULL);
	assert_true(json_object_object_get_ex(js, "nodes", &x));
	n0 = json_object_array_get_idx(x, 0);
	assert_true(json_object_object_get_ex(n0, "demand_after", &mm) && mm == NULL);
	assert_true(jnum(n0, "capacity") == 2);
	json_object_put(js);
	ns_plan_out_free(&out);

	/* memory on a node without CPUs: the VM's note */
	in.nodes[1].memory_only = 1;
	in.nodes[1].cpus = 0;
	in.nodes[1].capacity = 0;
	in.nodes[0].headroom = 32 * G;
	in.nodes[0].cpus = 16;
	solve(&in, 0, &out);
	js = ns_plan_to_json(&in, &out);
	assert_non_null(js);
	assert_true(json_object_object_get_ex(js, "vms", &x));
	assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(x, 2), "note")),
			    "memory on CPU-less node 1 (2G)");
	json_object_put(js);
	ns_plan_out_free(&out);
	free(in.vms);
}

#define STEP(n, to) \
	"{\"step\":" #n ",\"vm\":\"a\",\"domain\":true,\"pid\":7,\"start_time\":1,\"to\":" to \
	",\"bytes\":10,\"temporary\":false}"

static void expect_bad(const char *text, int rc, const char *msg)
{
	struct ns_plan_exec_step *ex = (void *)1;
	char err[256], *path = tmpfile_with(text), want[320];
	int nr = 5;

	assert_int_equal(ns_plan_read(path, &ex, &nr, err, sizeof(err)), rc);
	assert_null(ex);
	assert_int_equal(nr, 0);
	snprintf(want, sizeof(want), "%s: %s", path, msg);
	assert_string_equal(err, want);
	unlink(path);
}

static void t_json_bad(void **state)
{
	struct ns_plan_exec_step *ex;
	char err[256], *path;
	int nr;

	(void)state;
	path = tmpfile_with("{\"version\":1,\"kind\":\"numasafe-rebalance\",\"steps\":["
			    STEP(1, "0") "," STEP(2, "3") "]}");
	assert_int_equal(ns_plan_read(path, &ex, &nr, err, sizeof(err)), 0);
	assert_int_equal(nr, 2);
	assert_int_equal(ex[1].to_node, 3);
	assert_string_equal(ex[1].vm, "a");
	assert_int_equal(ex[1].bytes, 10);
	free(ex);
	unlink(path);

	expect_bad("{\"version\":2,\"kind\":\"numasafe-rebalance\",\"steps\":[]}", -EINVAL,
		   "plan version 2 is not supported (only 1)");
	expect_bad("{\"kind\":\"numasafe-rebalance\",\"steps\":[]}", -EINVAL, "\"version\" is missing");
	expect_bad("{\"version\":1,\"kind\":\"other\",\"steps\":[]}", -EINVAL,
		   "\"kind\" is not \"numasafe-rebalance\"");
	expect_bad("{\"version\":1,\"kind\":\"numasafe-rebalance\"}", -EINVAL,
		   "\"steps\" is missing or not an array");
	expect_bad("{\"version\":1,\"kind\":\"numasafe-rebalance\",\"steps\":[" STEP(1, "0") "," STEP(2, "1") "," STEP(3, "\"x\"") "]}",
		   -EINVAL, "step 3: \"to\" is not a node id");
	expect_bad("{\"version\":1,\"kind\":\"numasafe-rebalance\",\"steps\":[" STEP(1, "-1") "]}", -EINVAL,
		   "step 1: \"to\" is not a node id");
	expect_bad("{\"version\":1,\"kind\":\"numasafe-rebalance\",\"steps\":[{\"step\":1,\"vm\":\"a\",\"domain\":true,"
		   "\"pid\":7,\"start_time\":1,\"to\":0,\"temporary\":false}]}",
		   -EINVAL, "step 1: \"bytes\" is missing");
	expect_bad("{\"version\":1,\"kind\":\"numasafe-rebalance\",\"steps\":[{\"step\":1,\"vm\":\"a\",\"domain\":1,"
		   "\"pid\":7,\"start_time\":1,\"to\":0,\"bytes\":1,\"temporary\":false}]}",
		   -EINVAL, "step 1: \"domain\" is not true or false");
	expect_bad("{\"version\":1,\"kind\":\"numasafe-rebalance\",\"steps\":[" STEP(2, "0") "]}", -EINVAL,
		   "step 1: \"step\" is out of sequence");
	expect_bad("{\"version\":1,\"kind\":\"numasafe-rebalance\",\"steps\":[7]}", -EINVAL, "step 1 is not an object");
	expect_bad("[1,2]", -EINVAL, "the plan is not a JSON object");

	path = tmpfile_with("{\"version\":1,");
	assert_int_equal(ns_plan_read(path, &ex, &nr, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not valid JSON"));
	unlink(path);
	assert_int_equal(ns_plan_read("/nonexistent/plan.json", &ex, &nr, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/plan.json: No such file or directory");
}

static void t_bad_input(void **state)
{
	struct ns_plan_in in;
	struct ns_plan_out out;

	(void)state;
	host_ab(&in);
	in.flags = NS_PLAN_EXACT | NS_PLAN_GREEDY;
	assert_int_equal(ns_plan_solve(&in, &out), -EINVAL);
	in.flags = 0;
	in.vms[0].pinned_node = 2;
	assert_int_equal(ns_plan_solve(&in, &out), -EINVAL);
	in.vms[0].pinned_node = -1;
	in.nr_nodes = 0;
	assert_int_equal(ns_plan_solve(&in, &out), -EINVAL);
	in.nr_nodes = 2;
	in.vms[0].mem[0] = ~0ULL; /* sums would overflow */
	assert_int_equal(ns_plan_solve(&in, &out), -EINVAL);
	in.vms[0].mem[0] = 0;
	/* vCPU sums the search's int arithmetic cannot hold are refused, not wrapped */
	in.vms[0].vcpus = 300000000;
	in.vms[1].vcpus = 300000000;
	assert_int_equal(ns_plan_solve(&in, &out), -EINVAL);
	in.vms[0].vcpus = in.vms[1].vcpus = 1;
	in.nodes[0].cpus = 1 << 30;
	assert_int_equal(ns_plan_solve(&in, &out), -EINVAL);
	in.nodes[0].cpus = 8;
	in.nr_vms = 0; /* nothing to do is fine */
	assert_int_equal(ns_plan_solve(&in, &out), 0);
	assert_int_equal(out.nr_steps, 0);
	assert_int_equal(out.exact, 1);
	ns_plan_out_free(&out);
	ns_plan_out_free(&out); /* twice is harmless */
	ns_plan_out_free(NULL);
	free(in.vms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_optimum),	 cmocka_unit_test(t_optimum3),
		cmocka_unit_test(t_infeasible),	 cmocka_unit_test(t_crowded),
		cmocka_unit_test(t_pinned),	 cmocka_unit_test(t_order),
		cmocka_unit_test(t_order_choice), cmocka_unit_test(t_cycle),
		cmocka_unit_test(t_exact_brute), cmocka_unit_test(t_heuristic_vs_exact),
		cmocka_unit_test(t_large),	 cmocka_unit_test(t_json_roundtrip),
		cmocka_unit_test(t_json_bad),	 cmocka_unit_test(t_bad_input),
		cmocka_unit_test(t_worked_example), cmocka_unit_test(t_busy_separated),
		cmocka_unit_test(t_idle_stay),	 cmocka_unit_test(t_max_move_spread),
		cmocka_unit_test(t_memory_only), cmocka_unit_test(t_exact_brute_demand),
		cmocka_unit_test(t_heuristic_vs_exact_demand), cmocka_unit_test(t_json_demand),
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
