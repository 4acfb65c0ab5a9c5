/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vm-pin: pin a VM's vCPU, emulator and I/O threads to a node's CPUs in one idempotent
 * command, through libvirt for domains and with sched_setaffinity for bare QEMU processes;
 * optionally weight its CPU share by vCPU count and bring its memory along (the numa-migrate
 * engine). Any failure puts the previous pinning back. --show lists the pinning, memory and
 * locality of one VM or every VM; --plan executes a numa-plan rebalance plan. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "numasafe/locality.h"
#include "numasafe/steal.h"
#include "pinops.h"
#include "planrun.h"

static struct {
	char *to, *node, *cpus, *vcpus, *exclude, *plan;
	int show, no_emulator, iothreads, spread, mem, weight, config, dry_run;
} opt;

static struct poptOption options[] = {
	{"to", 't', POPT_ARG_STRING, &opt.to, 0, "pin to these nodes' CPUs (a list like 1, 0-1, all, !0)", "NODES"},
	{"node", '\0', POPT_ARG_STRING, &opt.node, 0, "the same as --to (its older name)", "NODES"},
	{"cpus", '\0', POPT_ARG_STRING, &opt.cpus, 0, "pin to these CPUs", "LIST"},
	{"show", '\0', POPT_ARG_NONE, &opt.show, 0, "show the pinning, memory and locality of one VM or every VM",
	 NULL},
	{"vcpus", '\0', POPT_ARG_STRING, &opt.vcpus, 0, "which vCPUs (default all)", "LIST"},
	{"no-emulator", '\0', POPT_ARG_NONE, &opt.no_emulator, 0, "leave emulator threads alone", NULL},
	{"iothreads", '\0', POPT_ARG_NONE, &opt.iothreads, 0, "pin I/O threads too", NULL},
	{"exclude-cpus", '\0', POPT_ARG_STRING, &opt.exclude, 0, "CPUs reserved for the host", "LIST"},
	{"spread", '\0', POPT_ARG_NONE, &opt.spread, 0, "one vCPU per CPU, cores before siblings", NULL},
	{"mem", '\0', POPT_ARG_NONE, &opt.mem, 0, "also move the memory there (and point a domain's numatune at it)",
	 NULL},
	{"weight", '\0', POPT_ARG_NONE, &opt.weight, 0, "CPU weight proportional to vCPUs", NULL},
	{"config", '\0', POPT_ARG_NONE, &opt.config, 0, "also persist in the domain definition", NULL},
	{"plan", '\0', POPT_ARG_STRING, &opt.plan, 0, "execute a numa-plan rebalance plan", "FILE"},
	{"dry-run", 'n', POPT_ARG_NONE, &opt.dry_run, 0, "say what would change, change nothing", NULL},
	NSC_RESERVE_TABLE,
	NSC_TARGET_TABLE,
	NSC_VM_TABLE,
	NSC_COMMON_TABLE,
	POPT_TABLEEND,
};

/* ---- --show ---- */

struct view {
	struct nsc_vmid id;
	int named;
	bool pins_ok;
	bool failed; /* in a listing: part of it could not be read (said on stderr) */
	struct ns_pin_result pins;
	struct ns_proc_usage *mem;
	int mem_rc;
	struct ns_locality loc;
};

static void view_locality(const struct ns_topo *t, struct view *v, const struct ns_vm *vm)
{
	struct ns_set nodes;

	if (!vm || ns_vm_cpu_nodes(NULL, vm, t, &nodes) < 0)
		ns_set_clear(&nodes);
	ns_locality_compute(t, &nodes, v->mem, &v->loc);
}

static struct json_object *view_json(const struct ns_topo *t, const struct view *v)
{
	struct json_object *o = nsc_vmid_json(&v->id), *th = json_object_new_array();

	json_object_object_add(o, "named", json_object_new_boolean(v->named));
	for (int i = 0; i < v->pins.n; i++) {
		const struct ns_pin_item *it = &v->pins.items[i];
		struct json_object *x = json_object_new_object();
		struct ns_set nodes;

		ns_topo_cpus_nodes(t, &it->before, &nodes);
		json_object_object_add(x, "kind", json_object_new_string(nsc_pin_what_name(it->what)));
		json_object_object_add(x, "index", it->index >= 0 ? json_object_new_int(it->index) : NULL);
		json_object_object_add(x, "tid", it->tid > 0 ? json_object_new_int(it->tid) : NULL);
		json_object_object_add(x, "label", json_object_new_string(it->label));
		json_object_object_add(x, "cpus", nsc_json_set(&it->before));
		json_object_object_add(x, "nodes", nsc_json_set(&nodes));
		json_object_array_add(th, x);
	}
	json_object_object_add(o, "threads", th);
	json_object_object_add(o, "memory", v->mem ? nsc_json_memory(t, v->loc.own) : NULL);
	json_object_object_add(o, "home_node", v->loc.home_node >= 0 ? json_object_new_int(v->loc.home_node) : NULL);
	json_object_object_add(o, "locality_ratio", v->mem ? nsc_json_round(v->loc.ratio, 3) : NULL);
	json_object_object_add(o, "local", v->mem ? json_object_new_boolean(v->loc.local) : NULL);
	json_object_object_add(o, "note", v->mem || !v->id.pid ? NULL : json_object_new_string(strerror(-v->mem_rc)));
	return o;
}

static void view_print(const struct ns_topo *t, const struct view *v)
{
	char a[256], b[256], sz[32], who[300];

	printf("%s", nsc_vmid_text(&v->id, who, sizeof(who)));
	if (!v->named) {
		printf(": no thread names, vCPUs cannot be told apart (start QEMU with -name NAME,debug-threads=on)\n");
		return;
	}
	if (!v->mem && v->id.pid)
		printf(": locality unknown: memory not readable (%s)\n", strerror(-v->mem_rc));
	else if (!v->mem)
		printf(": no local process (pinning as libvirt has it)\n");
	else if (v->loc.local)
		printf(": local to node %d (%.1f%% of its memory)\n", v->loc.home_node, v->loc.ratio * 100);
	else if (v->loc.threads_node < 0)
		printf(": not local: its vCPU threads may run on more than one node\n");
	else
		printf(": not local: %.1f%% of its memory on node %d, where its vCPU threads run\n", v->loc.ratio * 100,
		       v->loc.threads_node);
	printf("  %-32s %7s  %-16s %s\n", "thread", "tid", "cpus", "nodes");
	for (int i = 0; i < v->pins.n; i++) {
		const struct ns_pin_item *it = &v->pins.items[i];
		struct ns_set nodes;
		char tid[16] = "-", label[sizeof(it->label)];

		ns_topo_cpus_nodes(t, &it->before, &nodes);
		if (it->tid > 0)
			snprintf(tid, sizeof(tid), "%d", (int)it->tid);
		printf("  %-32s %7s  %-16s %s\n", nsc_safe(it->label, label, sizeof(label)), tid,
		       nsc_set_text(&it->before, a, sizeof(a)),
		       nsc_set_text(&nodes, b, sizeof(b)));
	}
	if (v->mem) {
		printf("  memory:");
		for (int i = 0; i < ns_topo_nr_nodes(t); i++) {
			int id = ns_topo_node(t, i)->id;

			printf(" node%d %s", id, nsc_size(v->loc.own[id], sz));
		}
		printf("\n");
	}
}

/* One view; a failure to read a single target's pinning or memory is the command's failure.
 * In a listing it is not: the entry is named on stderr and shown with what could be read. */
static int view_fill(struct nsc *c, const struct ns_topo *t, struct view *v, const struct ns_vm *vm, bool single)
{
	char msg[512] = "", who[300];
	int rc;

	v->named = vm->named;
	nsc_vmid_text(&v->id, who, sizeof(who));
	if (v->id.domain) {
		/* libvirt is the authority on a domain's pinning; the process adds thread ids */
		rc = ns_pin_get_domain(c->connect, v->id.name, &v->pins, msg, sizeof(msg));
		if (rc < 0 && single)
			return nsc_fail_libvirt(c, rc, who, msg);
		if (rc < 0) {
			/* a pid file libvirt does not stand behind: the process is what there is */
			nsc_warn(c, "%s: libvirt: %s: shown from its process", who, msg[0] ? msg : strerror(-rc));
			v->id.domain = false;
			v->failed = 1;
			if (vm->named)
				(void)ns_pin_get_pid(vm, &v->pins, msg, sizeof(msg));
			goto mem;
		}
		for (int i = 0; i < v->pins.n; i++)
			for (int j = 0; j < vm->nthreads; j++)
				if (v->pins.items[i].what == NS_PIN_VCPU && vm->threads[j].kind == NS_THREAD_VCPU &&
				    vm->threads[j].index == v->pins.items[i].index)
					v->pins.items[i].tid = vm->threads[j].tid;
		v->named = 1;
	} else if (vm->named) {
		rc = ns_pin_get_pid(vm, &v->pins, msg, sizeof(msg));
		if (rc < 0 && single)
			return nsc_fail_errno(c, rc, NULL, "%s: reading the threads' CPU affinity", who);
		if (rc < 0) {
			nsc_warn(c, "%s: reading the threads' CPU affinity: %s", who, strerror(-rc));
			v->failed = 1;
		}
	}
mem:
	if (v->id.pid > 0) {
		v->mem_rc = ns_proc_usage_read(NULL, v->id.pid, &v->mem);
		if (v->mem_rc < 0) {
			v->mem = NULL;
			if (single)
				return nsc_fail_errno(c, v->mem_rc, NULL, "%s: reading its memory", who);
			nsc_warn(c, "%s: reading its memory: %s", who, strerror(-v->mem_rc));
			v->failed = true;
		}
	}
	view_locality(t, v, v->id.pid > 0 ? vm : NULL);
	return NS_EXIT_OK;
}

static int show(struct nsc *c, const struct ns_topo *t, const char *pidarg, struct json_object **doc)
{
	struct ns_vm_list list = {0};
	struct nsc_target tg;
	struct view *views = NULL;
	int nviews = 0, rc;

	rc = nsc_target(c, pidarg, NSC_TG_OPTIONAL, &tg);
	if (rc > 0)
		goto out;
	if (rc == NS_EXIT_OK) {
		views = calloc(1, sizeof(*views));
		if (!views) {
			rc = nsc_fail_errno(c, -ENOMEM, NULL, "show");
			goto out;
		}
		nviews = 1;
		views[0].id = tg.id;
		rc = view_fill(c, t, &views[0], &tg.vm, true);
		if (rc != NS_EXIT_OK)
			goto out;
	} else {
		rc = ns_vm_list_read(NULL, &list);
		if (rc < 0) {
			rc = nsc_fail_errno(c, rc, NULL, "listing VMs");
			goto out;
		}
		nsc_vm_list_report(c, &list);
		views = calloc((size_t)list.n + 1, sizeof(*views));
		if (!views) {
			rc = nsc_fail_errno(c, -ENOMEM, NULL, "listing VMs");
			goto out;
		}
		nviews = list.n;
		for (int i = 0; i < list.n; i++) {
			nsc_vmid_from_vm(&views[i].id, &list.v[i]);
			rc = view_fill(c, t, &views[i], &list.v[i], false);
			if (rc != NS_EXIT_OK)
				goto out;
		}
	}
	rc = NS_EXIT_OK;
	*doc = nsc_doc(NSC_KIND_PIN_SHOW);
	{
		struct json_object *arr = json_object_new_array();

		for (int i = 0; i < nviews; i++)
			json_object_array_add(arr, view_json(t, &views[i]));
		json_object_object_add(*doc, "vms", arr);
		json_object_object_add(*doc, "ignored", nsc_vm_ignored_json(list.ignored_owner, list.ignored_exe));
		json_object_object_add(*doc, "failed", nsc_vm_failed_json(&list));
	}
	if (nsc_text(c)) {
		if (nviews == 0)
			printf("no VMs found (QEMU processes or libvirt domains)\n");
		for (int i = 0; i < nviews; i++)
			view_print(t, &views[i]);
	}
out:
	for (int i = 0; i < nviews; i++) {
		ns_pin_result_free(&views[i].pins);
		free(views[i].mem);
	}
	free(views);
	ns_vm_list_free(&list);
	nsc_target_release(&tg);
	return rc;
}

int main(int argc, char **argv)
{
	struct nsc cli, *c = &cli;
	struct ns_topo *topo = NULL;
	struct json_object *doc = NULL;
	struct ns_set online, exclude;
	struct ns_amount reserve_buf;
	struct nsc_pin_job job;
	struct nsc_target tg;
	struct nsc_pin p;
	const char **args;
	const char *pidarg, *to_name = "--to";
	poptContext ctx;
	int nargs, rc;

	nsc_init(c, "vm-pin", argc, argv);
	ns_numa_init();
	memset(&tg, 0, sizeof(tg));
	memset(&p, 0, sizeof(p));
	memset(&job, 0, sizeof(job));
	ctx = poptGetContext("vm-pin", argc, (const char **)(void *)argv, options, 0);
	poptSetOtherOptionHelp(ctx, "[OPTIONS] (PID | --domain NAME) (--to NODES | --cpus LIST)\n"
				    "       vm-pin --show [PID | --domain NAME]\n"
				    "       vm-pin [OPTIONS] --plan FILE");
	while (nsc_next(c, ctx) >= 0)
		;
	args = nsc_args(ctx, &nargs);
	c->record = !opt.show && !opt.dry_run;
	pidarg = nargs ? args[0] : NULL;
	/* --node is --to's older name: an error names the one given */
	if (opt.node && opt.to)
		nsc_usage(c, "--to and --node are the same option: give one");
	if (opt.node) {
		opt.to = opt.node;
		to_name = "--node";
	}
	if (nargs > 1)
		nsc_usage(c, "too many arguments ('%s')", args[1]);
	if (opt.to && opt.cpus)
		nsc_usage(c, "%s and --cpus are mutually exclusive", to_name);
	if (opt.show && (opt.to || opt.cpus || opt.mem || nsc_shared.reserve || opt.weight || opt.spread || opt.vcpus ||
			 opt.plan || opt.config || opt.dry_run || opt.exclude || opt.iothreads || opt.no_emulator))
		nsc_usage(c, "--show takes only a target (PID or --domain)");
	if (opt.plan && (pidarg || c->domain || opt.to || opt.cpus || opt.vcpus || opt.spread || opt.mem ||
			 opt.weight || opt.config || opt.iothreads || opt.no_emulator))
		nsc_usage(c, "--plan takes the targets and nodes from the plan file (only --exclude-cpus, --reserve, "
			     "--dry-run and the common options go with it)");
	if (c->connect && !c->domain)
		nsc_usage(c, "--connect: only meaningful with --domain");
	if (!opt.show && !opt.plan) {
		if (!opt.to && !opt.cpus)
			nsc_usage(c, "--to or --cpus is required");
		if (!pidarg && !c->domain)
			nsc_usage(c, "no target: give a PID or --domain NAME");
	}
	if (nsc_shared.reserve && !opt.mem && !opt.plan)
		nsc_usage(c, "--reserve: only meaningful with --mem or --plan");
	rc = nsc_topo(c, NULL, &topo);
	if (rc != NS_EXIT_OK)
		goto out;
	nsc_opt_exclude(c, opt.exclude, topo, &online, &exclude);
	job.reserve = nsc_reserve(c, topo, &reserve_buf);
	if (opt.show) {
		rc = show(c, topo, pidarg, &doc);
		goto out;
	}
	if (opt.plan) {
		struct nsc_plan_run run = {.file = opt.plan,
					   .topo = topo,
					   .exclude = exclude,
					   .reserve = job.reserve,
					   .dry_run = opt.dry_run};

		rc = nsc_plan_run(c, &run, &doc);
		goto out;
	}
	if (opt.to) {
		struct ns_set nodes;

		nsc_opt_nodes(c, to_name, opt.to, ns_topo_nodes(topo), &nodes);
		ns_set_clear(&job.req.cpus);
		for (int n = ns_set_next(&nodes, 0); n >= 0; n = ns_set_next(&nodes, (unsigned)n + 1))
			ns_set_or(&job.req.cpus, &ns_topo_find(topo, n)->cpus);
		job.mem_nodes = nodes;
	} else {
		nsc_opt_cpus(c, "--cpus", opt.cpus, &online, &job.req.cpus);
		ns_topo_cpus_nodes(topo, &job.req.cpus, &job.mem_nodes);
	}
	ns_set_andnot(&job.req.cpus, &exclude);
	if (ns_set_empty(&job.req.cpus))
		nsc_usage(c, "%s leaves no CPU to pin to%s", opt.to ? to_name : "--cpus",
			  opt.exclude ? " after --exclude-cpus" : "");
	if (opt.vcpus && strcmp(opt.vcpus, "all") != 0 &&
	    (ns_set_parse(opt.vcpus, NS_SET_MAX, &job.req.vcpus) < 0 || ns_set_empty(&job.req.vcpus)))
		nsc_usage(c, "--vcpus: '%s' is not a vCPU list (like 0, 0-3 or all)", opt.vcpus);
	job.req.emulator = !opt.no_emulator;
	job.req.iothreads = opt.iothreads;
	job.req.config = opt.config;
	job.req.dry_run = opt.dry_run;
	if (opt.spread) {
		job.req.spread = 1;
		job.req.norder = ns_cpu_spread_order(NULL, &job.req.cpus, job.req.order, NS_SET_MAX);
	}
	job.mem = opt.mem;
	job.weight = opt.weight;
	rc = nsc_target(c, pidarg, 0, &tg);
	if (rc != NS_EXIT_OK)
		goto out;
	if (tg.vm_rc == -ENODATA) {
		rc = nsc_fail(c, NS_EXIT_FAIL, NSC_R_NOT_A_VM,
			      "pid %d: QEMU without thread names: its vCPU threads cannot be told apart; start it with "
			      "-name NAME,debug-threads=on (libvirt does)",
			      (int)tg.id.pid);
		goto out;
	}
	if (opt.config && !tg.id.domain)
		nsc_usage(c, "--config: only meaningful for a libvirt domain");
	if (!tg.id.domain && !opt.dry_run && ns_cap_have(CAP_SYS_NICE) != 1) {
		rc = nsc_fail(c, NS_EXIT_FAIL, NSC_R_PERMISSION,
			      "pinning another process's threads needs %s (run as root)", ns_cap_name(CAP_SYS_NICE));
		goto out;
	}
	if (ns_topo_numa_balancing(topo) > 0)
		nsc_warn(c, "automatic NUMA balancing is on (kernel.numa_balancing): it moves memory and tasks and "
			    "fights pinning; turn it off with 'sysctl kernel.numa_balancing=0'");
	rc = nsc_pin_run(c, &tg, &job, &p);
	doc = nsc_pin_json(&p);
out:
	nsc_pin_release(&p);
	nsc_target_release(&tg);
	ns_topo_free(topo);
	poptFreeContext(ctx);
	return nsc_finish(c, rc, doc);
}
