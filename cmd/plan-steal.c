/* SPDX-License-Identifier: GPL-2.0-or-later */
/* numa-plan steal: vCPU run-queue wait per VM over an interval (the steal its guest sees),
 * whether it is busy or idle steal, and the causes the host shows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numasafe/steal.h"
#include "plan.h"
#include "target.h"

static struct {
	char *interval;
} opt;

static struct poptOption options[] = {
	{"interval", 'i', POPT_ARG_STRING, &opt.interval, 0, "how long to measure, 0.01-3600 (default 1)", "SECONDS"},
	NSC_ROOT_OPTION,
	NSC_TARGET_TABLE,
	NSC_VM_TABLE,
	NSC_COMMON_TABLE,
	POPT_TABLEEND,
};

/* Nodes holding a noticeable share (2% or more) of a VM's own memory. */
static void mem_nodes(const struct nsc_vm_view *v, struct ns_set *nodes)
{
	ns_set_clear(nodes);
	for (int id = 0; v->u && id < NS_MAX_NODES; id++)
		if (v->loc.own[id] && v->loc.own[id] >= v->loc.own_bytes / 50)
			ns_set_add(nodes, (unsigned)id);
}

struct steal {
	struct ns_steal_host h;
	struct ns_vm *vms;
	int n;
	struct nsc_vm_view *views;
	struct ns_steal_vm *sv;
	struct ns_cgroup_weight *cg;
};

/* The causes, as text lines or as JSON objects (arr). */
static void causes(const struct steal *s, struct json_object *arr)
{
	char text[1024], safe[1024], a[256], b[256], who[300];
	int shown = 0;

	if (!arr)
		printf("\nlikely causes the host shows:\n");
	for (int v = -1; v < s->n; v++) {
		const char *kind = NULL;

		if (v < 0 && s->h.numa_balancing > 0) {
			kind = "numa_balancing";
			snprintf(text, sizeof(text),
				 "automatic NUMA balancing is on (/proc/sys/kernel/numa_balancing = %d): it migrates "
				 "VM "
				 "threads and pages between nodes; turn it off where VMs are pinned",
				 s->h.numa_balancing);
		} else if (v >= 0 && s->sv[v].spans_nodes) {
			kind = "spans_nodes";
			ns_set_format(&s->sv[v].cpu_nodes, a, sizeof(a));
			ns_set_format(&s->sv[v].mem_nodes, b, sizeof(b));
			snprintf(text, sizeof(text),
				 "%s spans nodes: its vCPU threads may run on node%s %s, its memory is on "
				 "node%s %s; pin it to one node",
				 nsc_vmid_text(&s->views[v].id, who, sizeof(who)),
				 nsc_plural(ns_set_count(&s->sv[v].cpu_nodes)), a[0] ? a : "-",
				 nsc_plural(ns_set_count(&s->sv[v].mem_nodes)), b[0] ? b : "-");
		}
		if (kind) {
			if (arr) {
				struct json_object *o = json_object_new_object();

				json_object_object_add(o, "cause", json_object_new_string(kind));
				json_object_object_add(o, "vm", v >= 0 ? nsc_vmid_json(&s->views[v].id) : NULL);
				json_object_object_add(o, "text", json_object_new_string(text));
				json_object_array_add(arr, o);
			} else
				printf("  %s\n", nsc_safe(text, safe, sizeof(safe)));
			shown++;
		}
	}
	for (int v = 0; v < s->n; v++)
		if (s->sv[v].weight_off) {
			snprintf(text, sizeof(text),
				 "%s: cgroup %s has CPU weight %lld for %d vCPU%s (%.0f per vCPU), out of "
				 "proportion with the other VMs: weight cgroups by vCPU count",
				 nsc_vmid_text(&s->views[v].id, who, sizeof(who)), s->sv[v].cgroup,
				 (long long)s->sv[v].weight, s->sv[v].nvcpus, nsc_plural(s->sv[v].nvcpus),
				 (double)s->sv[v].weight / s->sv[v].nvcpus);
			if (arr) {
				struct json_object *o = json_object_new_object();

				json_object_object_add(o, "cause", json_object_new_string("cpu_weight"));
				json_object_object_add(o, "vm", nsc_vmid_json(&s->views[v].id));
				json_object_object_add(o, "text", json_object_new_string(text));
				json_object_array_add(arr, o);
			} else
				printf("  %s\n", nsc_safe(text, safe, sizeof(safe)));
			shown++;
		}
	if (!arr && !shown)
		printf("  none seen (NUMA balancing off, no VM spans nodes, CPU weights in proportion)\n");
}

static const char *class_text(enum ns_steal_class c)
{
	switch (c) {
	case NS_STEAL_BUSY:
		return "busy steal: runnable vCPUs exceed the CPUs; only moving VMs away helps";
	case NS_STEAL_IDLE:
		return "idle steal: vCPUs wait on a runqueue while CPUs are idle; scheduling limits, "
		       "mitigable in software (pinning, NUMA balancing off, CPU weights by vCPU count)";
	case NS_STEAL_NONE:
		break;
	}
	return "none: no vCPU waited over 5% of the interval";
}

static struct json_object *steal_json(const struct steal *s)
{
	const struct ns_steal_host *h = &s->h;
	struct json_object *o = nsc_doc(NSC_KIND_STEAL), *ho = json_object_new_object();
	struct json_object *arr = json_object_new_array(), *ca = json_object_new_array();

	json_object_object_add(o, "interval_s", nsc_json_seconds(h->interval_s));
	json_object_object_add(ho, "cpus", json_object_new_int((int)h->ncpus));
	json_object_object_add(ho, "idle_pct", nsc_json_round(h->idle_pct, 2));
	json_object_object_add(ho, "spare_cpus", nsc_json_round(h->spare_cpus, 3));
	json_object_object_add(ho, "vcpu_demand", nsc_json_round(h->vcpu_demand, 3));
	json_object_object_add(ho, "max_wait_pct", nsc_json_round(h->max_wait_pct, 2));
	json_object_object_add(ho, "procs_running", json_object_new_int((int)h->b.procs_running));
	json_object_object_add(ho, "numa_balancing",
			       h->numa_balancing < 0 ? NULL : json_object_new_int(h->numa_balancing));
	json_object_object_add(o, "host", ho);
	json_object_object_add(o, "classification", json_object_new_string(ns_steal_class_name(h->cls)));
	for (int v = 0; v < s->n; v++) {
		const struct ns_steal_vm *sv = &s->sv[v];
		struct json_object *vo = nsc_vmid_json(&s->views[v].id), *va = json_object_new_array();

		json_object_object_add(vo, "named", json_object_new_boolean(s->vms[v].named));
		json_object_object_add(vo, "vcpus", s->vms[v].named ? json_object_new_int(s->vms[v].nvcpus) : NULL);
		for (int i = 0; i < sv->nthreads; i++) {
			const struct ns_steal_thread *th = &sv->th[i];
			struct json_object *to = json_object_new_object();

			json_object_object_add(to, "vcpu", json_object_new_int(th->index));
			json_object_object_add(to, "tid", json_object_new_int(th->tid));
			json_object_object_add(to, "cpu_pct", th->ok ? nsc_json_round(th->cpu_pct, 2) : NULL);
			json_object_object_add(to, "wait_pct", th->ok ? nsc_json_round(th->wait_pct, 2) : NULL);
			json_object_object_add(to, "slices", th->ok ? nsc_json_u64(th->slices) : NULL);
			json_object_array_add(va, to);
		}
		json_object_object_add(vo, "vcpu_threads", va);
		json_object_object_add(vo, "cpu_pct", nsc_json_round(sv->cpu_pct, 2));
		json_object_object_add(vo, "wait_pct", nsc_json_round(sv->wait_pct, 2));
		json_object_object_add(vo, "max_wait_pct", nsc_json_round(sv->max_wait_pct, 2));
		json_object_object_add(vo, "demand", nsc_json_round(sv->demand, 3));
		json_object_object_add(vo, "cpu_nodes", nsc_json_set(&sv->cpu_nodes));
		json_object_object_add(vo, "mem_nodes", nsc_json_set(&sv->mem_nodes));
		json_object_object_add(vo, "cgroup", sv->cgroup ? json_object_new_string(sv->cgroup) : NULL);
		json_object_object_add(vo, "cgroup_version",
				       sv->weight >= 0 ? json_object_new_int(sv->weight_version) : NULL);
		json_object_object_add(vo, "cpu_weight", sv->weight >= 0 ? json_object_new_int64(sv->weight) : NULL);
		json_object_object_add(vo, "spans_nodes", json_object_new_boolean(sv->spans_nodes));
		json_object_object_add(vo, "weight_off", json_object_new_boolean(sv->weight_off));
		json_object_object_add(vo, "note",
				       s->vms[v].named ? NULL : json_object_new_string(NSC_NO_THREAD_NAMES));
		json_object_array_add(arr, vo);
	}
	json_object_object_add(o, "vms", arr);
	causes(s, ca);
	json_object_object_add(o, "causes", ca);
	return o;
}

static void steal_text(const struct steal *s)
{
	const struct ns_steal_host *h = &s->h;

	printf("host: %u CPU%s, %.1f%% idle over %.2f s (%.2f CPUs spare); vCPUs want %.2f CPUs; %u task%s running\n",
	       h->ncpus, nsc_plural(h->ncpus), h->idle_pct, h->interval_s, h->spare_cpus, h->vcpu_demand,
	       h->b.procs_running, nsc_plural(h->b.procs_running));
	printf("steal: %s\n", class_text(h->cls));
	if (s->n == 0)
		printf("\nVMs: none\n");
	else
		printf("\n%-20s  %7s  %4s  %7s  %6s  %6s  %6s\n", "VM", "pid", "vcpu", "tid", "cpu%", "wait%",
		       "slices");
	for (int v = 0; v < s->n; v++) {
		const struct ns_vm *vm = &s->vms[v];
		char name[sizeof(vm->name)];

		nsc_safe(vm->name, name, sizeof(name));
		if (!vm->named) {
			printf("%-20s  %7d  %4s  %s\n", name, (int)vm->pid, "-", NSC_NO_THREAD_NAMES);
			continue;
		}
		for (int i = 0; i < s->sv[v].nthreads; i++) {
			const struct ns_steal_thread *th = &s->sv[v].th[i];
			char p[16] = "";

			if (!i)
				snprintf(p, sizeof(p), "%d", (int)vm->pid);
			if (th->ok)
				printf("%-20s  %7s  %4d  %7d  %6.1f  %6.1f  %6llu\n", i ? "" : name, p, th->index,
				       (int)th->tid, th->cpu_pct, th->wait_pct, (unsigned long long)th->slices);
			else
				printf("%-20s  %7s  %4d  %7d  %6s  %6s  %6s  (thread ended)\n", i ? "" : name, p,
				       th->index, (int)th->tid, "-", "-", "-");
		}
		printf("%-20s  %7s  %4s  %7s  %6.1f  %6.1f\n", "", "", "all", "", s->sv[v].cpu_pct, s->sv[v].wait_pct);
	}
	causes(s, NULL);
}

static int run(struct nsc *c, poptContext ctx, struct json_object **doc)
{
	struct ns_vm_list list = {0};
	struct nsc_target tg;
	struct steal s;
	struct ns_topo *t = NULL;
	const char **args;
	double interval = 1.0;
	int nargs, rc;

	memset(&s, 0, sizeof(s));
	memset(&tg, 0, sizeof(tg));
	while (nsc_next(c, ctx) >= 0)
		;
	args = nsc_args(ctx, &nargs);
	if (nargs > 1)
		nsc_usage(c, "steal: too many arguments ('%s')", args[1]);
	if (opt.interval)
		interval = nsc_opt_double(c, "--interval", opt.interval, NSC_INTERVAL_MIN, NSC_INTERVAL_MAX);
	if (nsc_plan_root && (nargs || c->domain))
		nsc_usage(c, "--root: measures every VM of the tree (no PID or --domain)");
	rc = nsc_topo(c, nsc_plan_root, &t);
	if (rc != NS_EXIT_OK)
		return rc;
	rc = nsc_plan_root ? -1 : nsc_target(c, nargs ? args[0] : NULL, NSC_TG_OPTIONAL | NSC_TG_LOCAL, &tg);
	if (rc > 0)
		goto out;
	if (rc == NS_EXIT_OK) {
		s.vms = &tg.vm;
		s.n = 1;
	} else {
		rc = nsc_vm_setup(c);
		if (rc != NS_EXIT_OK)
			goto out;
		rc = ns_vm_list_read(nsc_plan_root, &list);
		if (rc < 0) {
			rc = nsc_fail_errno(c, rc, NULL, "listing VMs");
			goto out;
		}
		nsc_vm_list_report(c, &list);
		s.vms = list.v;
		s.n = list.n;
	}
	rc = nsc_vm_views_read(t, s.vms, s.n, &s.views);
	if (rc == 0)
		rc = ns_steal_vms_new(s.vms, s.n, &s.sv);
	s.cg = calloc(s.n ? (size_t)s.n : 1, sizeof(*s.cg));
	if (rc < 0 || !s.cg) {
		rc = nsc_fail_errno(c, rc < 0 ? rc : -ENOMEM, NULL, "reading VMs");
		goto out;
	}
	for (int v = 0; v < s.n; v++) {
		const struct ns_vm *vm = &s.vms[v];

		s.sv[v].cpu_nodes = s.views[v].cpu_nodes;
		mem_nodes(&s.views[v], &s.sv[v].mem_nodes);
		if (ns_cgroup_cpu_weight(nsc_plan_root, vm->pid, s.sv[v].nthreads ? s.sv[v].th[0].tid : vm->pid,
					 &s.cg[v]) == 0) {
			s.sv[v].weight = (int64_t)s.cg[v].weight;
			s.sv[v].weight_version = s.cg[v].version;
			s.sv[v].cgroup = s.cg[v].path;
		}
	}
	s.h.numa_balancing = ns_topo_numa_balancing(t);
	nsc_signals_catch();
	rc = ns_steal_measure(nsc_plan_root, &s.h, s.sv, s.n, interval, &nsc_stop_requests);
	if (rc == -EINTR) {
		rc = nsc_fail(c, NS_EXIT_REFUSED, NSC_R_SIGNAL, "interrupted: nothing measured");
		goto out;
	}
	if (rc == -EOPNOTSUPP) {
		rc = nsc_fail(c, NS_EXIT_UNSUPPORTED, NSC_R_UNSUPPORTED,
			      "this kernel has no /proc/PID/task/TID/schedstat (CONFIG_SCHED_INFO)");
		goto out;
	}
	if (rc < 0) {
		rc = nsc_fail_errno(c, rc, NULL, "reading CPU counters");
		goto out;
	}
	rc = NS_EXIT_OK;
	*doc = steal_json(&s);
	json_object_object_add(*doc, "ignored", nsc_vm_ignored_json(list.ignored_owner, list.ignored_exe));
	json_object_object_add(*doc, "failed", nsc_vm_failed_json(&list));
	if (nsc_text(c))
		steal_text(&s);
out:
	ns_steal_vms_free(s.sv, s.n);
	free(s.cg);
	nsc_vm_views_free(s.views, s.n);
	nsc_target_release(&tg);
	ns_vm_list_free(&list);
	ns_topo_free(t);
	return rc;
}

const struct nsc_subcmd nsc_plan_steal = {
	.name = "steal",
	.summary = "vCPU run-queue wait per VM over an interval, busy or idle steal, and its causes",
	.usage = "[-i SECONDS] [PID | --domain NAME]",
	.options = options,
	.run = run,
};
