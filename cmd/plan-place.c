/* SPDX-License-Identifier: GPL-2.0-or-later */
/* numa-plan place: the node where a new VM would do best now, by the memory headroom and vCPU
 * cap every node has and the CPU demand its VMs are measured to make (lib/place.c). What
 * libvirt's placement='auto' asks numad for, measured and safe, for an orchestrator to ask
 * before it defines the domain. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "numasafe/plan.h"
#include "plan.h"

static struct {
	char *vcpus, *memory, *sample, *overcommit, *exclude;
} opt;

static struct poptOption options[] = {
	{"vcpus", '\0', POPT_ARG_STRING, &opt.vcpus, 0, "the new VM's vCPUs (required)", "N"},
	{"memory", '\0', POPT_ARG_STRING, &opt.memory, 0, "the new VM's memory (required)", "SIZE"},
	{"sample", '\0', POPT_ARG_STRING, &opt.sample, 0,
	 "measure the VMs' CPU demand over this many seconds first, 0-3600 (default 5; 0: vCPU counts)", "SECONDS"},
	{"cpu-overcommit", '\0', POPT_ARG_STRING, &opt.overcommit, 0,
	 "vCPUs allowed per usable CPU of a node, 1-1000 (default 1: no overcommit)", "RATIO"},
	{"exclude-cpus", '\0', POPT_ARG_STRING, &opt.exclude, 0, "CPUs reserved for the host, not counted for vCPUs",
	 "LIST"},
	NSC_RESERVE_TABLE,
	NSC_ROOT_OPTION,
	NSC_VM_TABLE,
	NSC_COMMON_TABLE,
	POPT_TABLEEND,
};

static void place_text(const struct ns_place_out *out)
{
	char a[32];

	if (out->node >= 0)
		printf("%d\n", out->nodes[out->node].id);
	else
		printf("none\n");
	printf("a new VM of %d vCPU%s and %s, its vCPUs counted as busy; CPU demand of the VMs there %s:\n", out->vcpus,
	       nsc_plural(out->vcpus), nsc_size(out->bytes, a),
	       out->have_demand ? "as measured" : "taken as their vCPU counts (--sample 0)");
	for (int i = 0; i < out->nr_nodes; i++)
		printf("  node %d%s: %s\n", out->nodes[i].id, i == out->node ? " (chosen)" : "", out->nodes[i].reason);
}

static int run(struct nsc *c, poptContext ctx, struct json_object **doc)
{
	struct ns_plan_in in;
	struct ns_place_out out;
	struct ns_amount reserve_buf;
	const struct ns_amount *reserve;
	struct ns_topo *topo = NULL;
	struct ns_set exclude, online;
	const char **args;
	double overcommit = 1.0, sample = 5.0;
	uint64_t bytes;
	int nargs, rc, skipped = 0, vcpus;

	memset(&in, 0, sizeof(in));
	while (nsc_next(c, ctx) >= 0)
		;
	args = nsc_args(ctx, &nargs);
	if (nargs > 0)
		nsc_usage(c, "place: unexpected argument '%s' (the new VM is --vcpus and --memory)", args[0]);
	if (!opt.vcpus || !opt.memory)
		nsc_usage(c, "place: --vcpus and --memory are required");
	vcpus = (int)nsc_opt_uint(c, "--vcpus", opt.vcpus, 1, 4096);
	nsc_opt_demand(c, opt.overcommit, opt.sample, &overcommit, &sample);
	rc = nsc_topo(c, nsc_plan_root, &topo);
	if (rc != NS_EXIT_OK)
		return rc;
	bytes = nsc_opt_size(c, "--memory", opt.memory, false, ns_topo_hostmem(topo)->mem_total);
	reserve = nsc_reserve(c, topo, &reserve_buf);
	nsc_opt_exclude(c, opt.exclude, topo, &online, &exclude);
	rc = nsc_gather(c, reserve, &exclude, sample, overcommit, &in, &skipped);
	if (rc != NS_EXIT_OK)
		goto out;
	rc = ns_place_solve(&in, vcpus, bytes, &out);
	if (rc < 0) {
		rc = nsc_fail_errno(c, rc, NSC_R_FAILED, "placing");
		goto out;
	}
	*doc = ns_place_to_json(&out);
	if (!*doc) {
		rc = nsc_fail_errno(c, -ENOMEM, NSC_R_FAILED, "placing");
		goto out;
	}
	json_object_object_add(*doc, "ignored", nsc_vm_ignored_json(in.ignored_owner, in.ignored_exe));
	if (nsc_text(c))
		place_text(&out);
	if (skipped)
		nsc_warn(c,
			 "%d QEMU process%s without thread names not counted (start QEMU with -name "
			 "NAME,debug-threads=on)",
			 skipped, skipped == 1 ? "" : "es");
	rc = NS_EXIT_OK;
	if (out.node < 0)
		rc = nsc_fail(c, NS_EXIT_REFUSED, NSC_R_NO_FIT,
			      "place: no node can take a VM of %d vCPU%s and %s now (see each node's reason)", vcpus,
			      nsc_plural(vcpus), nsc_size(bytes, (char[32]){0}));
out:
	ns_plan_in_release(&in);
	ns_topo_free(topo);
	return rc;
}

const struct nsc_subcmd nsc_plan_place = {
	.name = "place",
	.summary = "the node where a new VM would do best now, by headroom, vCPU cap and measured CPU demand",
	.usage = "--vcpus N --memory SIZE [--sample SECONDS] [--reserve SIZE|PCT] [--cpu-overcommit RATIO]",
	.options = options,
	.run = run,
};
