/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The planner's input read from the host: nodes with headroom, usable CPUs and whether they
 * have CPUs at all, VMs with their own memory per node and, sampled over a window, the CPU
 * demand of their vCPUs. Kept apart from lib/plan.c so the solver stays pure arithmetic. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numasafe/headroom.h"
#include "numasafe/numasafe.h"
#include "numasafe/plan.h"
#include "numasafe/procmem.h"
#include "numasafe/steal.h"
#include "numasafe/topo.h"
#include "numasafe/vm.h"
#include "util.h"

/* The node whose CPUs confine every thread of the VM (Cpus_allowed_list), or -1. */
static int threads_node(const char *root, const struct ns_topo *t, const struct ns_vm *vm)
{
	struct ns_set all, nodes;

	ns_set_clear(&all);
	for (int i = 0; i < vm->nthreads; i++) {
		struct ns_set cpus;
		int rc = ns_thread_cpus_read(root, vm->pid, vm->threads[i].tid, &cpus);

		if (rc == -ESRCH)
			continue; /* the thread ended */
		if (rc < 0)
			return -1;
		ns_set_or(&all, &cpus);
	}
	/* a CPU of no node counts as outside every node */
	if (ns_topo_cpus_nodes(t, &all, &nodes) > 0 || ns_set_count(&nodes) != 1)
		return -1;
	return ns_set_next(&nodes, 0);
}

void ns_plan_in_release(struct ns_plan_in *in)
{
	if (!in)
		return;
	free(in->vms);
	in->vms = NULL;
	in->nr_vms = 0;
}

int ns_plan_gather(const char *root, const struct ns_amount *reserve, const struct ns_set *exclude,
		   double sample_s, volatile sig_atomic_t *stop, struct ns_plan_in *in, int *skipped)
{
	struct ns_vm_list list = {0};
	struct ns_topo *t = NULL;
	struct ns_steal_vm *sv = NULL;
	struct ns_steal_host h;
	int rc, idx_of[NS_MAX_NODES];

	ns_detail_clear();
	memset(in, 0, sizeof(*in));
	*skipped = 0;
	if (!(sample_s >= 0 && sample_s <= 3600))
		return -EINVAL;
	rc = ns_topo_read(root, &t);
	if (rc < 0)
		return rc;
	for (int i = 0; i < NS_MAX_NODES; i++)
		idx_of[i] = -1;
	if (exclude)
		in->exclude = *exclude;
	for (int i = 0; i < ns_topo_nr_nodes(t) && in->nr_nodes < NS_PLAN_MAX_NODES; i++) {
		const struct ns_node *n = ns_topo_node(t, i);
		struct ns_plan_node *pn;
		struct ns_set cpus = n->cpus;

		if (n->mem_total == 0)
			continue; /* a CPU-only node holds no memory to plan with */
		if (exclude)
			ns_set_andnot(&cpus, exclude);
		pn = &in->nodes[in->nr_nodes];
		pn->id = n->id;
		pn->headroom = ns_node_headroom(n, ns_reserve_for(n, reserve));
		pn->cpus = (int)ns_set_count(&cpus);
		pn->capacity = pn->cpus;
		/* no CPUs at all, not merely all excluded: CXL and other memory-only nodes */
		pn->memory_only = ns_set_count(&n->cpus) == 0;
		if (n->id >= 0 && n->id < NS_MAX_NODES)
			idx_of[n->id] = in->nr_nodes;
		in->nr_nodes++;
	}
	rc = ns_vm_list_read(root, &list);
	if (rc < 0)
		goto out;
	in->ignored_owner = list.ignored_owner;
	in->ignored_exe = list.ignored_exe;
	in->vms = calloc((size_t)list.n + 1, sizeof(*in->vms));
	if (!in->vms) {
		rc = -ENOMEM;
		goto out;
	}
	if (sample_s > 0) {
		/* demand first, memory after: the plan starts from memory as fresh as it can be */
		ns_detail_clear(); /* what the VM list tolerated is no reason for what fails here */
		memset(&h, 0, sizeof(h));
		rc = ns_steal_vms_new(list.v, list.n, &sv);
		if (rc == 0)
			rc = ns_steal_measure(root, &h, sv, list.n, sample_s, stop);
		if (rc < 0)
			goto out;
		in->have_demand = 1;
		in->sample_s = h.interval_s;
	}
	for (int i = 0; i < list.n; i++) {
		const struct ns_vm *vm = &list.v[i];
		struct ns_plan_vm *pv = &in->vms[in->nr_vms];
		struct ns_proc_usage *u = NULL;

		if (!vm->named) {
			(*skipped)++;
			continue;
		}
		if (sv && sv[i].gone)
			continue; /* it exited during the window */
		if (ns_proc_usage_read(root, vm->pid, &u) < 0)
			continue; /* it exited meanwhile */
		snprintf(pv->name, sizeof(pv->name), "%s", vm->name);
		pv->is_domain = vm->is_domain;
		pv->pid = vm->pid;
		pv->start_time = vm->start_time;
		pv->vcpus = vm->nvcpus;
		pv->pinned_node = -1;
		pv->threads_node = threads_node(root, t, vm);
		pv->demand = sv ? sv[i].demand : 0;
		for (unsigned n = 0; n < u->max_node && n < NS_MAX_NODES; n++) {
			uint64_t b = ns_sat_add(ns_sat_add(u->bytes[NS_KIND_ANON][n], u->bytes[NS_KIND_SHMEM][n]),
						u->bytes[NS_KIND_HUGETLB][n]);

			/* saturating: ns_plan_solve refuses a size past its bound instead of wrapping */
			if (idx_of[n] >= 0)
				pv->mem[idx_of[n]] = ns_sat_add(pv->mem[idx_of[n]], b);
		}
		free(u);
		in->nr_vms++;
	}
	rc = 0;
out:
	if (rc < 0)
		ns_plan_in_release(in);
	ns_steal_vms_free(sv, list.n);
	ns_vm_list_free(&list);
	ns_topo_free(t);
	return rc;
}
