/* SPDX-License-Identifier: GPL-2.0-or-later */
/* numa-plan rebalance: a whole-host plan, every VM on one node, written for numa-migrate --plan
 * and vm-pin --plan. The planner is lib/plan.c; this file gathers, renders and writes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "numasafe/plan.h"
#include "plan.h"

static struct {
	char *exclude, *out, *overcommit, *sample, *max_move;
} opt;

static struct poptOption options[] = {
	{"exclude-cpus", '\0', POPT_ARG_STRING, &opt.exclude, 0, "CPUs reserved for the host, not counted for vCPUs",
	 "LIST"},
	{"cpu-overcommit", '\0', POPT_ARG_STRING, &opt.overcommit, 0,
	 "vCPUs allowed per usable CPU of a node, 1-1000 (default 1: no overcommit)", "RATIO"},
	{"sample", '\0', POPT_ARG_STRING, &opt.sample, 0,
	 "measure each VM's CPU demand over this many seconds first, 0-3600 (default 5; 0: by vCPU counts alone)",
	 "SECONDS"},
	{"max-move", '\0', POPT_ARG_STRING, &opt.max_move, 0,
	 "move at most this many bytes in this plan (the best plan within it, and what the cap cost)", "SIZE"},
	{"out", 'o', POPT_ARG_STRING, &opt.out, 0, "write the plan (JSON) to FILE for numa-migrate --plan", "FILE"},
	NSC_RESERVE_TABLE,
	NSC_ROOT_OPTION,
	NSC_VM_TABLE,
	NSC_COMMON_TABLE,
	POPT_TABLEEND,
};

/* Write the plan next to FILE and rename it into place: a reader never sees half a plan. */
static int write_plan(const char *file, struct json_object *plan)
{
	size_t len;
	char *text = nsc_json_text(plan, JSON_C_TO_STRING_PRETTY, &len);
	char *buf;
	int rc;

	buf = text ? realloc(text, len + 2) : NULL;
	if (!buf) {
		free(text);
		return -ENOMEM;
	}
	buf[len++] = '\n';
	rc = ns_file_replace(file, buf, len, 0644);
	free(buf);
	return rc;
}

static void plan_text(const struct ns_plan_in *in, const struct ns_plan_out *out, int unplaced)
{
	char a[32], b[32];

	if (in->nr_vms == 0)
		printf("rebalance: no VMs on %d node%s: nothing to do\n", in->nr_nodes, nsc_plural(in->nr_nodes));
	else
		printf("rebalance: %d VM%s on %d node%s; %d step%s move %s (%s)\n", in->nr_vms, nsc_plural(in->nr_vms),
		       in->nr_nodes, nsc_plural(in->nr_nodes), out->nr_steps, nsc_plural(out->nr_steps),
		       nsc_size(out->bytes_moved, a),
		       out->exact ? "proven optimal" : "heuristic: greedy placement and local search");
	if (in->have_demand)
		printf("CPU demand measured over %.1f s; excess demand (beyond the nodes' CPUs) %.2f -> %.2f CPUs\n",
		       in->sample_s, out->excess_before, out->excess_after);
	printf("%-6s %10s %6s %8s %17s\n", "node", "headroom", "vcpus", "cpus", "demand");
	for (int i = 0; i < in->nr_nodes; i++) {
		char d[40] = "-";

		if (in->have_demand)
			snprintf(d, sizeof(d), "%.2f -> %.2f", out->demand_before[i], out->demand_after[i]);
		printf("%-6d %10s %6d %8.2f %17s%s\n", in->nodes[i].id, nsc_size(in->nodes[i].headroom, a),
		       in->nodes[i].cpus, in->nodes[i].capacity, d, in->nodes[i].memory_only ? "  (memory only)" : "");
	}
	for (int i = 0; i < out->nr_steps; i++) {
		const struct ns_plan_step *st = &out->steps[i];
		const struct ns_plan_vm *v = &in->vms[st->vm];
		char who[64] = "", dem[32] = "", name[sizeof(v->name)];

		if (strncmp(v->name, "pid ", 4) != 0)
			snprintf(who, sizeof(who), "%s %d, ", v->is_domain ? "domain, pid" : "pid", (int)v->pid);
		if (in->have_demand)
			snprintf(dem, sizeof(dem), ", demand %.2f", v->demand);
		printf("step %d: %s (%s%d vCPU%s%s) -> node %d, %s%s\n", i + 1, nsc_safe(v->name, name, sizeof(name)),
		       who, v->vcpus,
		       nsc_plural(v->vcpus), dem, in->nodes[st->to].id, st->bytes ? nsc_size(st->bytes, b) : "pin only",
		       st->via_temp ? " (parked until its own step)" : "");
	}
	for (int i = 0; i < in->nr_vms; i++) {
		char name[sizeof(in->vms[i].name)], why[512];

		nsc_safe(in->vms[i].name, name, sizeof(name));
		if (out->why[i][0])
			printf("%s: %s\n", name, nsc_safe(out->why[i], why, sizeof(why)));
		if (out->note[i][0])
			printf("%s: %s\n", name, nsc_safe(out->note[i], why, sizeof(why)));
	}
	if (out->max_move_bound)
		printf("--max-move %s kept this plan from the best one, which moves %s and leaves %.2f CPUs of excess "
		       "demand (this plan leaves %.2f) and %d VM%s unplaced\n",
		       nsc_size(in->max_move, a), nsc_size(out->bytes_uncapped, b), out->excess_uncapped,
		       out->excess_after, out->unplaced_uncapped, nsc_plural(out->unplaced_uncapped));
	if (in->nr_vms && out->nr_steps == 0 && !unplaced && !out->nr_unordered)
		printf("every VM is already on one node: nothing to do\n");
}

static int run(struct nsc *c, poptContext ctx, struct json_object **doc)
{
	struct ns_plan_in in;
	struct ns_plan_out out;
	struct ns_amount reserve_buf;
	const struct ns_amount *reserve;
	struct ns_topo *topo = NULL;
	struct json_object *plan = NULL;
	struct ns_set exclude, online;
	const char **args;
	int nargs, rc, skipped = 0, unplaced = 0;
	double overcommit = 1.0, sample = 5.0;
	uint64_t max_move = 0;

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	while (nsc_next(c, ctx) >= 0)
		;
	args = nsc_args(ctx, &nargs);
	if (nargs > 0)
		nsc_usage(c, "rebalance: unexpected argument '%s' (it plans every VM on the host)", args[0]);
	nsc_opt_demand(c, opt.overcommit, opt.sample, &overcommit, &sample);
	rc = nsc_topo(c, nsc_plan_root, &topo);
	if (rc != NS_EXIT_OK)
		return rc;
	reserve = nsc_reserve(c, topo, &reserve_buf);
	nsc_opt_exclude(c, opt.exclude, topo, &online, &exclude);
	if (opt.max_move)
		max_move = nsc_opt_size(c, "--max-move", opt.max_move, true, 0);
	rc = nsc_gather(c, reserve, &exclude, sample, overcommit, &in, &skipped);
	if (rc != NS_EXIT_OK)
		goto out;
	if (opt.max_move) {
		in.flags |= NS_PLAN_MAX_MOVE;
		in.max_move = max_move;
	}
	rc = ns_plan_solve(&in, &out);
	if (rc < 0) {
		rc = nsc_fail_errno(c, rc, NSC_R_FAILED, "planning");
		goto out;
	}
	plan = ns_plan_to_json(&in, &out);
	if (!plan) {
		rc = nsc_fail_errno(c, -ENOMEM, NSC_R_FAILED, "planning");
		goto out;
	}
	for (int i = 0; i < in.nr_vms; i++)
		unplaced += out.placement[i] < 0;
	if (opt.out) {
		rc = write_plan(opt.out, plan);
		if (rc < 0) {
			rc = nsc_fail_errno(c, rc, rc == -EPERM ? NSC_R_BAD_INPUT : NSC_R_FAILED, "%s", opt.out);
			goto out;
		}
	}
	if (nsc_text(c)) {
		plan_text(&in, &out, unplaced);
		if (opt.out && out.nr_steps)
			printf("plan written to %s: run it with 'numa-migrate --plan %s' (or 'vm-pin --plan %s')\n",
			       opt.out, opt.out, opt.out);
	}
	if (skipped)
		nsc_warn(c,
			 "%d QEMU process%s without thread names left out (start QEMU with -name "
			 "NAME,debug-threads=on)",
			 skipped, skipped == 1 ? "" : "es");
	/* a partial plan is still written, but orchestration must know not every VM is settled */
	rc = NS_EXIT_OK;
	if (unplaced || out.nr_unordered)
		rc = nsc_fail(c, NS_EXIT_REFUSED, NSC_R_PLAN_UNPLACED,
			      "rebalance: %d VM%s cannot be placed and %d step%s have no safe order (see the reasons)",
			      unplaced, nsc_plural(unplaced), out.nr_unordered, nsc_plural(out.nr_unordered));
	*doc = plan;
	plan = NULL;
out:
	json_object_put(plan);
	ns_plan_out_free(&out);
	ns_plan_in_release(&in);
	ns_topo_free(topo);
	return rc;
}

const struct nsc_subcmd nsc_plan_rebalance = {
	.name = "rebalance",
	.summary = "a whole-host plan, every VM on one node, by measured CPU demand, for numa-migrate to execute",
	.usage = "[--sample SECONDS] [--max-move SIZE] [--exclude-cpus LIST] [--cpu-overcommit RATIO] "
		 "[--reserve SIZE|PCT] [-o FILE]",
	.options = options,
	.run = run,
};
