/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench/plan: the rebalance planner on random overcommitted hosts with a fixed seed, busy and
 * idle VMs. (a) Time to plan many VMs on 8 nodes (target < 1 s) and the excess demand left by
 * the plan, by a bytes-only plan (demand unknown: the objective before CPU demand), by the
 * numad-like greedy, and within a byte limit. (b) On small instances, the heuristic's excess
 * demand and bytes against the exact optimum (target: ratio <= 1.05), without and with a byte
 * limit. (c) The excess the bytes-only plan and the greedy leave on the same instances. (d)
 * The exact search on 14 movable VMs and 8 nodes. Every plan is checked by an independent
 * validator: capacities, vCPUs, pinning, memory-only nodes, the byte limit, each step's room
 * when it runs, and the demand bookkeeping (demand per node and excess recomputed from the
 * placement). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "numasafe/plan.h"

#define GIB (1ULL << 30)
#define PAGE 4096ULL

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double rndf(double lo, double hi)
{
	return lo + (hi - lo) * (double)(rnd() >> 11) / 9007199254740992.0;
}

static int rndi(int lo, int hi) /* inclusive */
{
	return lo + (int)(rnd() % (uint64_t)(hi - lo + 1));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t milli(double x)
{
	return (int64_t)(x * 1000.0 + 0.5);
}

/* A host as one might find it: nodes of about equal size filled to 80-95% overall, some nodes
 * more popular than others (what a rebalance is for); VMs of 1-64 GiB whose memory is spread
 * over 1-3 nodes, most of it on one, and spilled to the emptiest node where a node is full (as
 * the kernel does), so no node holds more than it has; a vCPU cap a little above the vCPUs;
 * one VM in 20 pinned to the node holding most of it, four in five with their threads
 * confined there. Demand: a VM is busy (half to all of its vCPUs) with a probability that
 * grows with its node's popularity (about a third on average), idle (up to 5% of its vCPUs)
 * otherwise; each node's CPUs are the host's demand divided by 0.75-1.0, shared out about
 * evenly: the vCPUs overcommit the CPUs about 4 to 1, the host as a whole can carry the
 * demand, the popular nodes cannot. */
static void gen(struct ns_plan_in *in, int nn, int nv)
{
	uint64_t used[NS_PLAN_MAX_NODES] = { 0 }, cap[NS_PLAN_MAX_NODES], all = 0;
	double fill = rndf(0.80, 0.95), weight[NS_PLAN_MAX_NODES], wsum = 0, dsum = 0, ratio;
	int totv = 0, maxv = 0;

	memset(in->nodes, 0, sizeof(in->nodes));
	in->nr_nodes = nn;
	in->nr_vms = nv;
	in->flags = 0;
	in->have_demand = 1;
	in->sample_s = 5;
	in->max_move = 0;
	for (int v = 0; v < nv; v++) {
		struct ns_plan_vm *vm = &in->vms[v];

		memset(vm, 0, sizeof(*vm));
		vm->mem[0] = (uint64_t)rndi(4, 256) * (GIB / 4); /* the size, spread below */
		all += vm->mem[0];
	}
	for (int n = 0; n < nn; n++) {
		cap[n] = (uint64_t)((double)all / fill / nn * rndf(0.95, 1.05)) / PAGE * PAGE;
		weight[n] = rndf(0.5, 1.5);
		wsum += weight[n];
	}
	for (int v = 0; v < nv; v++) {
		struct ns_plan_vm *vm = &in->vms[v];
		uint64_t size = vm->mem[0], left = size;
		int k = rndi(1, nn < 3 ? nn : 3), nodes[3], home = 0;
		double pick = rndf(0, wsum), busy;

		vm->mem[0] = 0;
		snprintf(vm->name, sizeof(vm->name), "vm%d", v);
		vm->is_domain = (int)(rnd() & 1);
		vm->pid = 1000 + v;
		vm->start_time = 100000 + rnd() % 1000000;
		vm->vcpus = rndi(1, 1 + (int)(size / GIB) / 4);
		for (nodes[0] = 0; nodes[0] < nn - 1 && pick > weight[nodes[0]]; nodes[0]++)
			pick -= weight[nodes[0]];
		for (int i = 1; i < k; i++) {
			int again;

			do {
				nodes[i] = rndi(0, nn - 1);
				again = 0;
				for (int j = 0; j < i; j++)
					again |= nodes[j] == nodes[i];
			} while (again);
		}
		for (int i = 0; i < k && left > 0; i++) {
			uint64_t part, room = cap[nodes[i]] - used[nodes[i]];

			if (i == k - 1)
				part = left;
			else if (i == 0)
				part = (uint64_t)((double)size * rndf(k == 2 ? 0.5 : 0.4, 0.95)) / PAGE * PAGE;
			else
				part = (uint64_t)((double)left * rndf(0.3, 0.7)) / PAGE * PAGE;
			part = part < room ? part : room;
			vm->mem[nodes[i]] += part;
			used[nodes[i]] += part;
			left -= part;
		}
		while (left > 0) { /* spill to the emptiest node */
			int e = 0;
			uint64_t part;

			for (int n = 1; n < nn; n++)
				if (cap[n] - used[n] > cap[e] - used[e])
					e = n;
			part = cap[e] - used[e] < left ? cap[e] - used[e] : left;
			if (part == 0) { /* everything full: the node grows (cannot happen below 100%) */
				cap[e] += left;
				part = left;
			}
			vm->mem[e] += part;
			used[e] += part;
			left -= part;
		}
		for (int n = 0; n < nn; n++)
			if (vm->mem[n] > vm->mem[home])
				home = n;
		vm->pinned_node = rnd() % 20 == 0 ? home : -1;
		vm->threads_node = rnd() % 5 ? home : -1;
		busy = 0.35 * weight[nodes[0]] * nn / wsum;
		if (rndf(0, 1) < (busy > 0.9 ? 0.9 : busy))
			vm->demand = (double)milli(vm->vcpus * rndf(0.5, 1.0)) / 1000.0;
		else
			vm->demand = (double)milli(vm->vcpus * rndf(0, 0.05)) / 1000.0;
		dsum += vm->demand;
		totv += vm->vcpus;
		if (vm->vcpus > maxv)
			maxv = vm->vcpus;
	}
	ratio = rndf(0.75, 1.0);
	for (int n = 0; n < nn; n++) {
		int cpus = (int)((double)totv * rndf(1.15, 1.5) / nn) + 1;
		int ncpu = (int)(dsum / ratio / nn * rndf(0.9, 1.1) + 0.5);

		in->nodes[n].id = n;
		in->nodes[n].headroom = cap[n] - used[n];
		in->nodes[n].cpus = cpus > maxv ? cpus : maxv;
		in->nodes[n].capacity = ncpu > 1 ? ncpu : 1;
	}
}

static uint64_t vm_total(const struct ns_plan_vm *vm, int nn)
{
	uint64_t t = 0;

	for (int n = 0; n < nn; n++)
		t += vm->mem[n];
	return t;
}

/* Where a VM's demand stays when it is not moved (README "Rebalance plan"): the node confining
 * its threads, else the CPU node holding most of its memory, else the CPU node with the most
 * capacity. */
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

/* Excess demand (thousandths of a CPU) a plan leaves once its emitted steps have run, from the
 * measured demands whether or not the plan was made with them; before: with nothing moved. */
static int64_t excess(const struct ns_plan_in *in, const struct ns_plan_out *out, int before, int64_t *dem)
{
	int64_t d[NS_PLAN_MAX_NODES] = { 0 }, e = 0;

	for (int v = 0; v < in->nr_vms; v++) {
		int p = out->placement[v], n = !before && p >= 0 && !out->why[v][0] ? p : home_of(in, v);

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

/* Independent of lib/plan.c: 0 when the plan is sound, else a message on stderr and -1. */
static int validate(const struct ns_plan_in *in, const struct ns_plan_out *out, const char *what)
{
	int nn = in->nr_nodes, nv = in->nr_vms, bad = 0, unordered = 0, vcpu[NS_PLAN_MAX_NODES] = { 0 };
	uint64_t load[NS_PLAN_MAX_NODES] = { 0 }, cap[NS_PLAN_MAX_NODES], bytes = 0;
	int64_t free_[NS_PLAN_MAX_NODES], dem[NS_PLAN_MAX_NODES];
	uint64_t (*cur)[NS_PLAN_MAX_NODES] = calloc((size_t)nv + 1, sizeof(*cur));

	if (!cur)
		return -1;
	for (int n = 0; n < nn; n++) {
		cap[n] = in->nodes[n].headroom;
		free_[n] = (int64_t)in->nodes[n].headroom;
		for (int v = 0; v < nv; v++)
			cap[n] += in->vms[v].mem[n];
	}
	for (int v = 0; v < nv; v++) {
		const struct ns_plan_vm *vm = &in->vms[v];
		int p = out->placement[v];

		memcpy(cur[v], vm->mem, sizeof(cur[v]));
		if (p < 0) {
			for (int n = 0; n < nn; n++)
				load[n] += vm->mem[n];
			bad |= !out->why[v][0];
			continue;
		}
		if ((vm->pinned_node >= 0 && vm->pinned_node != p) || in->nodes[p].memory_only)
			bad |= 2;
		load[p] += vm_total(vm, nn);
		vcpu[p] += vm->vcpus;
		bytes += vm_total(vm, nn) - vm->mem[p];
		if (out->why[v][0])
			unordered++;
	}
	for (int n = 0; n < nn; n++)
		if (load[n] > cap[n] || vcpu[n] > in->nodes[n].cpus)
			bad |= 4;
	if (bytes != out->bytes_moved || ((in->flags & NS_PLAN_MAX_MOVE) && bytes > in->max_move))
		bad |= 8;
	for (int i = 0; i < out->nr_steps; i++) {
		const struct ns_plan_step *s = &out->steps[i];
		uint64_t tot = vm_total(&in->vms[s->vm], nn);

		if (s->bytes != tot - cur[s->vm][s->to] || free_[s->to] < (int64_t)s->bytes ||
		    in->nodes[s->to].memory_only)
			bad |= 16;
		for (int n = 0; n < nn; n++)
			if (n != s->to)
				free_[n] += (int64_t)cur[s->vm][n];
		free_[s->to] -= (int64_t)s->bytes;
		memset(cur[s->vm], 0, sizeof(cur[s->vm]));
		cur[s->vm][s->to] = tot;
	}
	for (int v = 0; v < nv; v++) {
		int p = out->placement[v];

		if (p >= 0 && !out->why[v][0] && cur[v][p] != vm_total(&in->vms[v], nn))
			bad |= 32; /* placed, not reported unordered, yet not moved */
	}
	if (unordered != out->nr_unordered)
		bad |= 64;
	/* the demand bookkeeping, when the plan was made with demand */
	if (in->have_demand) {
		if (milli(out->excess_before) != excess(in, out, 1, dem))
			bad |= 128;
		for (int n = 0; n < nn; n++)
			if (milli(out->demand_before[n]) != dem[n])
				bad |= 128;
		if (milli(out->excess_after) != excess(in, out, 0, dem))
			bad |= 256;
		for (int n = 0; n < nn; n++)
			if (milli(out->demand_after[n]) != dem[n])
				bad |= 256;
	}
	free(cur);
	if (bad)
		fprintf(stderr, "bench/plan: %s: invalid plan (flags %#x)\n", what, bad);
	return bad ? -1 : 0;
}

static int placed(const struct ns_plan_in *in, const struct ns_plan_out *out)
{
	int k = 0;

	for (int v = 0; v < in->nr_vms; v++)
		k += out->placement[v] >= 0;
	return k;
}

static int solve(struct ns_plan_in *in, unsigned flags, struct ns_plan_out *out, double *secs,
		 const char *what)
{
	double t0 = now();
	int rc;

	in->flags = flags;
	rc = ns_plan_solve(in, out);
	if (secs)
		*secs = now() - t0;
	if (rc) {
		fprintf(stderr, "bench/plan: %s: ns_plan_solve: %s\n", what, strerror(-rc));
		return rc;
	}
	return validate(in, out, what);
}

/* The plan without demand (the objective before it: most VMs, then fewest bytes), judged by
 * the measured demand. */
static int solve_bytes_only(struct ns_plan_in *in, struct ns_plan_out *out, double *secs, const char *what)
{
	int rc;

	in->have_demand = 0;
	rc = solve(in, 0, out, secs, what);
	in->have_demand = 1;
	return rc;
}

/* A method against the optimum. */
struct cmp {
	int fewer, more;	  /* instances placing fewer (more: an exact search bug) VMs */
	int ex_equal, ex_zero_miss; /* same excess; optimum 0 but not this */
	int ex_n;		  /* instances with optimum excess > 0 and the same VMs placed */
	double ex_sum, ex_worst;  /* excess / optimum over those */
	int64_t ex_total, ex_opt_total; /* summed over the instances with the same VMs placed */
	int by_n, by_zero_hit, by_zero_miss; /* bytes where placed and excess match the optimum */
	double by_sum, by_worst;
};

static void compare(struct cmp *c, const struct ns_plan_in *in, const struct ns_plan_out *e,
		    const struct ns_plan_out *h)
{
	int pe = placed(in, e), ph = placed(in, h);
	int64_t xe = excess(in, e, 0, NULL), xh = excess(in, h, 0, NULL);
	double r;

	if (ph < pe) {
		c->fewer++;
		return;
	}
	if (ph > pe) {
		c->more++;
		return;
	}
	c->ex_total += xh;
	c->ex_opt_total += xe;
	if (xe == 0) {
		c->ex_equal += xh == 0;
		c->ex_zero_miss += xh != 0;
	} else {
		r = (double)xh / (double)xe;
		c->ex_equal += xh == xe;
		c->ex_n++;
		c->ex_sum += r;
		if (r > c->ex_worst)
			c->ex_worst = r;
	}
	if (xh != xe)
		return;
	if (e->bytes_moved == 0) {
		c->by_zero_hit += h->bytes_moved == 0;
		c->by_zero_miss += h->bytes_moved != 0;
		return;
	}
	r = (double)h->bytes_moved / (double)e->bytes_moved;
	c->by_n++;
	c->by_sum += r;
	if (r > c->by_worst)
		c->by_worst = r;
}

static void print_cmp(const char *name, const struct cmp *c, int total)
{
	printf("  %-10s places fewer VMs than the optimum in %d of %d\n", name, c->fewer, total);
	printf("  %-10s excess demand: equal to the optimum in %d; / optimum mean %.4f, worst %.4f (over %d "
	       "with optimum > 0); total %.3f vs %.3f CPUs (ratio %.4f); optimum 0 missed %d\n",
	       "", c->ex_equal, c->ex_n ? c->ex_sum / c->ex_n : 1.0, c->ex_worst > 0 ? c->ex_worst : 1.0,
	       c->ex_n, (double)c->ex_total / 1000, (double)c->ex_opt_total / 1000,
	       c->ex_opt_total ? (double)c->ex_total / (double)c->ex_opt_total : 1.0, c->ex_zero_miss);
	printf("  %-10s bytes at equal excess: / optimum mean %.4f, worst %.4f (over %d with optimum > 0); "
	       "optimum 0 bytes: %d matched, %d missed\n",
	       "", c->by_n ? c->by_sum / c->by_n : 1.0, c->by_worst > 0 ? c->by_worst : 1.0, c->by_n,
	       c->by_zero_hit, c->by_zero_miss);
	if (c->more)
		printf("  %-10s places MORE VMs than the \"optimum\" in %d instances: exact search bug\n", "",
		       c->more);
}

static int usage(void)
{
	fprintf(stderr, "usage: plan [--seed N] [--instances N] [--vms N] [--nodes N] [--runs N]\n");
	return 2;
}

static void sort(double *t, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
			double x = t[j];

			t[j] = t[j - 1], t[j - 1] = x;
		}
}

int main(int argc, char **argv)
{
	unsigned long long seed = 20240611;
	int instances = 200, bigvms = 10000, bignodes = 8, runs = 5, rc = 1, invalid = 0;
	struct ns_plan_in in = { 0 };
	struct ns_plan_out e = { 0 }, h = { 0 }, g = { 0 }, b = { 0 }, ec = { 0 }, hc = { 0 };
	struct cmp ch = { 0 }, chc = { 0 };
	double times[64], worst_exact = 0, t, tb, tg;
	int64_t x_before = 0, x_opt = 0, x_bytes = 0, x_greedy = 0, x_heur = 0, x_opt_c = 0, x_opt_free = 0;
	int proven = 0, proven_c = 0, capped = 0, unplaced_some = 0;

	for (int i = 1; i < argc; i++) {
		char *end;
		unsigned long long val;

		if (i + 1 >= argc)
			return usage();
		errno = 0;
		val = strtoull(argv[i + 1], &end, 10);
		if (errno || *end || end == argv[i + 1])
			return usage();
		if (!strcmp(argv[i], "--seed"))
			seed = val;
		else if (!strcmp(argv[i], "--instances") && val > 0 && val < 1000000)
			instances = (int)val;
		else if (!strcmp(argv[i], "--vms") && val > 0 && val < 10000000)
			bigvms = (int)val;
		else if (!strcmp(argv[i], "--nodes") && val >= 1 && val <= NS_PLAN_MAX_NODES)
			bignodes = (int)val;
		else if (!strcmp(argv[i], "--runs") && val >= 1 && val <= 64)
			runs = (int)val;
		else
			return usage();
		i++;
	}
	rng_state = seed * 2654435761ULL + 1;
	in.vms = calloc((size_t)(bigvms > 14 ? bigvms : 14), sizeof(*in.vms));
	if (!in.vms)
		return 1;

	/* (a) */
	gen(&in, bignodes, bigvms);
	{
		double cpus = 0, vcap = 0, dem = 0;

		for (int n = 0; n < bignodes; n++)
			cpus += in.nodes[n].capacity, vcap += in.nodes[n].cpus;
		for (int v = 0; v < bigvms; v++)
			dem += in.vms[v].demand;
		printf("seed %llu\n(a) %d VMs on %d nodes: %.0f CPUs, vCPU cap %.1f per CPU, demand %.0f CPUs "
		       "(%.2f of the CPUs); default method, %d runs\n",
		       seed, bigvms, bignodes, cpus, vcap / cpus, dem, dem / cpus, runs);
	}
	for (int r = 0; r < runs; r++) {
		ns_plan_out_free(&h);
		if (solve(&in, 0, &h, &times[r], "large"))
			goto out;
	}
	sort(times, runs);
	printf("  plan time: median %.3f s, best %.3f s (target < 1 s)\n", times[runs / 2], times[0]);
	printf("  placed %d of %d; excess demand %.1f -> %.1f CPUs; bytes moved %.1f GiB; steps %d, "
	       "unordered %d\n",
	       placed(&in, &h), bigvms, (double)excess(&in, &h, 1, NULL) / 1000,
	       (double)excess(&in, &h, 0, NULL) / 1000, (double)h.bytes_moved / GIB, h.nr_steps, h.nr_unordered);
	if (solve_bytes_only(&in, &b, &tb, "large bytes-only") || solve(&in, NS_PLAN_GREEDY, &g, &tg, "large greedy"))
		goto out;
	printf("  bytes-only plan (demand unknown): %.3f s, placed %d, excess left %.1f CPUs, %.1f GiB\n", tb,
	       placed(&in, &b), (double)excess(&in, &b, 0, NULL) / 1000, (double)b.bytes_moved / GIB);
	printf("  numad-like greedy: %.3f s, placed %d, excess left %.1f CPUs, %.1f GiB\n", tg, placed(&in, &g),
	       (double)excess(&in, &g, 0, NULL) / 1000, (double)g.bytes_moved / GIB);
	in.max_move = h.bytes_moved / 4;
	if (solve(&in, NS_PLAN_MAX_MOVE, &hc, &t, "large capped"))
		goto out;
	printf("  --max-move %.1f GiB (a quarter): %.3f s (two plans), placed %d, excess left %.1f CPUs "
	       "(%.1f without the limit), %.1f GiB\n",
	       (double)in.max_move / GIB, t, placed(&in, &hc), (double)excess(&in, &hc, 0, NULL) / 1000,
	       hc.excess_uncapped, (double)hc.bytes_moved / GIB);
	ns_plan_out_free(&hc);

	/* (b), (c) */
	for (int i = 0; i < instances; i++) {
		char what[80];
		int nn = rndi(2, 4), nv = rndi(4, 12);

		gen(&in, nn, nv);
		ns_plan_out_free(&e);
		ns_plan_out_free(&h);
		ns_plan_out_free(&g);
		ns_plan_out_free(&b);
		snprintf(what, sizeof(what), "instance %d (%d VMs, %d nodes)", i, nv, nn);
		invalid += solve(&in, NS_PLAN_EXACT, &e, &t, what) != 0;
		if (t > worst_exact)
			worst_exact = t;
		invalid += solve(&in, NS_PLAN_HEURISTIC, &h, NULL, what) != 0;
		invalid += solve(&in, NS_PLAN_GREEDY, &g, NULL, what) != 0;
		invalid += solve_bytes_only(&in, &b, NULL, what) != 0;
		if (!e.placement || !h.placement || !g.placement || !b.placement)
			goto out;
		proven += e.exact;
		unplaced_some += placed(&in, &e) < nv;
		compare(&ch, &in, &e, &h);
		x_before += excess(&in, &e, 1, NULL);
		x_opt += excess(&in, &e, 0, NULL);
		x_heur += excess(&in, &h, 0, NULL);
		x_bytes += excess(&in, &b, 0, NULL);
		x_greedy += excess(&in, &g, 0, NULL);
		/* the same with a limit of half the optimum's bytes */
		if (e.bytes_moved > 0) {
			in.max_move = e.bytes_moved / 2;
			ns_plan_out_free(&ec);
			ns_plan_out_free(&hc);
			snprintf(what, sizeof(what), "instance %d capped", i);
			invalid += solve(&in, NS_PLAN_EXACT | NS_PLAN_MAX_MOVE, &ec, &t, what) != 0;
			if (t > worst_exact)
				worst_exact = t;
			invalid += solve(&in, NS_PLAN_HEURISTIC | NS_PLAN_MAX_MOVE, &hc, NULL, what) != 0;
			if (!ec.placement || !hc.placement)
				goto out;
			capped++;
			proven_c += ec.exact;
			compare(&chc, &in, &ec, &hc);
			x_opt_c += excess(&in, &ec, 0, NULL);
			x_opt_free += excess(&in, &e, 0, NULL);
		}
	}
	printf("(b) %d random instances, 4-12 VMs on 2-4 nodes, 80-95%% full: heuristic / exact optimum\n",
	       instances);
	printf("  exact      proven optimal in %d of %d, slowest %.1f ms; leaves a VM unplaced in %d\n", proven,
	       instances, worst_exact * 1e3, unplaced_some);
	print_cmp("heuristic", &ch, instances);
	printf("  with --max-move half the optimum's bytes (%d instances; exact proven in %d): the limit costs "
	       "%.3f CPUs of excess in all (%.3f -> %.3f)\n",
	       capped, proven_c, (double)(x_opt_c - x_opt_free) / 1000, (double)x_opt_free / 1000,
	       (double)x_opt_c / 1000);
	print_cmp("heuristic", &chc, capped);
	printf("(c) excess demand left on the same %d instances, summed: before %.3f CPUs; optimum %.3f, "
	       "heuristic %.3f, bytes-only plan %.3f, numad-like greedy %.3f\n",
	       instances, (double)x_before / 1000, (double)x_opt / 1000, (double)x_heur / 1000,
	       (double)x_bytes / 1000, (double)x_greedy / 1000);

	/* (d) */
	{
		double ts[40];
		int n14 = 0, p14 = 0;

		for (int i = 0; i < 40; i++) {
			char what[64];

			gen(&in, 8, 14);
			for (int v = 0; v < 14; v++)
				in.vms[v].pinned_node = -1;
			ns_plan_out_free(&e);
			snprintf(what, sizeof(what), "14 VMs, instance %d", i);
			invalid += solve(&in, 0, &e, &ts[n14], what) != 0;
			p14 += e.exact;
			n14++;
		}
		sort(ts, n14);
		printf("(d) 14 movable VMs on 8 nodes, default method (exact search, budget 5M nodes), %d "
		       "instances: proven optimal in %d, median %.1f ms, slowest %.1f ms\n",
		       n14, p14, ts[n14 / 2] * 1e3, ts[n14 - 1] * 1e3);
	}
	printf("plans failing validation: %d\n", invalid);
	rc = invalid ? 1 : 0;
out:
	ns_plan_out_free(&e);
	ns_plan_out_free(&h);
	ns_plan_out_free(&g);
	ns_plan_out_free(&b);
	ns_plan_out_free(&ec);
	ns_plan_out_free(&hc);
	free(in.vms);
	return rc;
}
