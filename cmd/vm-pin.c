/* vm-pin: pin a VM's vCPU, emulator and I/O threads to a node's CPUs in one idempotent
 * command, through libvirt for domains and with sched_setaffinity for bare QEMU processes;
 * optionally weight its CPU share by vCPU count and bring its memory along (the numa-migrate
 * engine). Any failure puts the previous pinning back. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "move.h"
#include "vmops.h"
#include "numasafe/pin.h"

static char *opt_node, *opt_cpus, *opt_vcpus, *opt_exclude, *opt_plan, *opt_reserve;
static int opt_show, opt_no_emulator, opt_iothreads, opt_spread, opt_mem, opt_weight, opt_config, opt_dry_run;

static struct poptOption options[] = {
	{"node", '\0', POPT_ARG_STRING, &opt_node, 0, "pin to these nodes' CPUs", "NODES"},
	{"cpus", '\0', POPT_ARG_STRING, &opt_cpus, 0, "pin to these CPUs", "LIST"},
	{"show", '\0', POPT_ARG_NONE, &opt_show, 0, "show the pinning of one VM or every VM", NULL},
	{"vcpus", '\0', POPT_ARG_STRING, &opt_vcpus, 0, "which vCPUs (default all)", "LIST"},
	{"no-emulator", '\0', POPT_ARG_NONE, &opt_no_emulator, 0, "leave emulator threads alone", NULL},
	{"iothreads", '\0', POPT_ARG_NONE, &opt_iothreads, 0, "pin I/O threads too", NULL},
	{"exclude-cpus", '\0', POPT_ARG_STRING, &opt_exclude, 0, "CPUs reserved for the host", "LIST"},
	{"spread", '\0', POPT_ARG_NONE, &opt_spread, 0, "one vCPU per CPU, cores before siblings", NULL},
	{"mem", '\0', POPT_ARG_NONE, &opt_mem, 0, "also move the memory and set the policy", NULL},
	{"reserve", '\0', POPT_ARG_STRING, &opt_reserve, 0,
	 "with --mem: headroom kept on the target (default max(256M, 2%))", "SIZE|PCT"},
	{"weight", '\0', POPT_ARG_NONE, &opt_weight, 0, "CPU weight proportional to vCPUs", NULL},
	{"config", '\0', POPT_ARG_NONE, &opt_config, 0, "also persist in the domain definition", NULL},
	{"plan", '\0', POPT_ARG_STRING, &opt_plan, 0, "execute a numa-plan rebalance plan", "FILE"},
	{"dry-run", 'n', POPT_ARG_NONE, &opt_dry_run, 0, "print what would change, change nothing", NULL},
	NS_TARGET_TABLE,
	NS_COMMON_TABLE,
	POPT_TABLEEND,
};

/* The nodes whose CPUs a set of CPUs touches. */
static struct ns_set cpu_nodes(const struct ns_topo *t, const struct ns_set *cpus)
{
	struct ns_set n;

	ns_topo_cpus_nodes(t, cpus, &n);
	return n;
}

/* ---- --show ---- */

struct view {
	const char *name;
	int is_domain;
	pid_t pid;
	int named;
	struct ns_pin_result pins;
	struct ns_proc_usage *mem;
};

/* The VM's own memory on a node: anonymous (guest RAM, heap), shmem (memfd/file-backed
 * guest RAM) and hugetlb. Page cache of binaries and libraries is shared with the rest of
 * the host and does not make a VM remote. */
static uint64_t own_bytes(const struct ns_proc_usage *u, unsigned n)
{
	return u->bytes[NS_KIND_ANON][n] + u->bytes[NS_KIND_SHMEM][n] + u->bytes[NS_KIND_HUGETLB][n];
}

/* Local: every thread may run only on one node's CPUs and that node holds >= 99% of the
 * VM's own memory. Returns the node, or -1. */
static int view_local(const struct ns_topo *t, const struct view *v, double *share)
{
	struct ns_set nodes;
	uint64_t total = 0;
	int node;

	ns_set_clear(&nodes);
	*share = 0;
	for (int i = 0; i < v->pins.n; i++) {
		struct ns_set n = cpu_nodes(t, &v->pins.items[i].before);

		ns_set_or(&nodes, &n);
	}
	if (ns_set_count(&nodes) != 1 || !v->mem)
		return -1;
	node = ns_set_next(&nodes, 0);
	for (unsigned n = 0; n < v->mem->max_node; n++)
		total += own_bytes(v->mem, n);
	*share = total ? 100.0 * (double)own_bytes(v->mem, (unsigned)node) / (double)total : 100.0;
	return *share >= 99.0 ? node : -1;
}

static struct json_object *view_json(const struct ns_topo *t, const struct view *v)
{
	struct json_object *o = json_object_new_object(), *th = json_object_new_array();
	double share;
	int local = view_local(t, v, &share);

	json_object_object_add(o, "name", json_object_new_string(v->name));
	json_object_object_add(o, "domain", json_object_new_boolean(v->is_domain));
	json_object_object_add(o, "pid", v->pid > 0 ? json_object_new_int(v->pid) : NULL);
	json_object_object_add(o, "thread_names", json_object_new_boolean(v->named));
	for (int i = 0; i < v->pins.n; i++) {
		const struct ns_pin_item *it = &v->pins.items[i];
		struct json_object *x = json_object_new_object();
		struct ns_set nodes = cpu_nodes(t, &it->before);

		json_object_object_add(x, "kind", json_object_new_string(ns_pin_what_name(it->what)));
		json_object_object_add(x, "index", it->index >= 0 ? json_object_new_int(it->index) : NULL);
		json_object_object_add(x, "tid", it->tid > 0 ? json_object_new_int(it->tid) : NULL);
		json_object_object_add(x, "label", json_object_new_string(it->label));
		json_object_object_add(x, "cpus", ns_json_set(&it->before));
		json_object_object_add(x, "nodes", ns_json_set(&nodes));
		json_object_array_add(th, x);
	}
	json_object_object_add(o, "threads", th);
	if (v->mem) {
		struct json_object *m = json_object_new_object();

		for (unsigned n = 0; n < v->mem->max_node; n++) {
			char k[16];

			snprintf(k, sizeof(k), "%u", n);
			json_object_object_add(m, k, ns_json_u64(v->mem->node_total[n]));
		}
		json_object_object_add(o, "memory_per_node", m);
	} else
		json_object_object_add(o, "memory_per_node", NULL);
	json_object_object_add(o, "local", json_object_new_boolean(local >= 0));
	json_object_object_add(o, "local_node", local >= 0 ? json_object_new_int(local) : NULL);
	return o;
}

static void view_print(const struct ns_topo *t, const struct view *v)
{
	char a[256], b[256], sz[32];
	double share;
	int local = view_local(t, v, &share);

	printf("%s (%s", v->name, v->is_domain ? "libvirt domain" : "qemu");
	if (v->pid > 0 && strncmp(v->name, "pid ", 4) != 0)
		printf(", pid %d", (int)v->pid);
	printf(")");
	if (!v->named) {
		printf(": no thread names, vCPUs cannot be told apart (start QEMU with -name NAME,debug-threads=on)\n");
		return;
	}
	if (local >= 0)
		printf(": local to node %d\n", local);
	else
		printf(": not local\n");
	printf("  %-32s %7s  %-16s %s\n", "thread", "tid", "cpus", "nodes");
	for (int i = 0; i < v->pins.n; i++) {
		const struct ns_pin_item *it = &v->pins.items[i];
		struct ns_set nodes = cpu_nodes(t, &it->before);
		char tid[16] = "-";

		if (it->tid > 0)
			snprintf(tid, sizeof(tid), "%d", (int)it->tid);
		printf("  %-32s %7s  %-16s %s\n", it->label, tid, ns_setstr(&it->before, a, sizeof(a)),
		       ns_setstr(&nodes, b, sizeof(b)));
	}
	if (v->mem) {
		printf("  memory:");
		for (unsigned n = 0; n < v->mem->max_node; n++)
			printf(" node%u %s", n, ns_size_format(v->mem->node_total[n], sz, sizeof(sz)));
		printf("\n");
	}
}

static void view_fill(struct view *v, const struct ns_vm *vm)
{
	char msg[256];

	v->name = vm->name;
	v->is_domain = vm->is_domain;
	v->pid = vm->pid;
	v->named = vm->named;
	if (vm->named)
		ns_pin_get_pid(vm, &v->pins, msg, sizeof(msg));
	if (ns_proc_usage_read(NULL, vm->pid, &v->mem) < 0)
		v->mem = NULL;
}

static int show(const struct ns_topo *t, const char *pidarg)
{
	struct json_object *js = NULL, *arr = NULL;
	struct ns_vm_list list = {0};
	struct ns_vm one;
	struct view *views = NULL;
	int nviews = 0, rc = NS_EXIT_OK;
	char msg[512];

	memset(&one, 0, sizeof(one));
	if (ns_cli.domain) {
		views = calloc(1, sizeof(*views));
		if (!views)
			return NS_EXIT_FAIL;
		nviews = 1;
		/* libvirt is the authority on a domain's pinning; the process (when local) adds
		 * thread ids and memory */
		if (ns_vm_from_domain(NULL, ns_cli.domain, &one) == 0) {
			views[0].pid = one.pid;
			if (ns_proc_usage_read(NULL, one.pid, &views[0].mem) < 0)
				views[0].mem = NULL;
		}
		views[0].name = ns_cli.domain;
		views[0].is_domain = 1;
		views[0].named = 1;
		rc = ns_pin_get_domain(ns_cli.connect, ns_cli.domain, &views[0].pins, msg, sizeof(msg));
		if (rc < 0) {
			if (rc == -ENOENT)
				ns_err("domain %s: no such domain", ns_cli.domain);
			else
				ns_err("domain %s: %s", ns_cli.domain, msg[0] ? msg : strerror(-rc));
			rc = NS_EXIT_FAIL;
			goto out;
		}
		/* libvirt's items carry no thread ids: take them from the process */
		for (int i = 0; i < views[0].pins.n; i++)
			for (int j = 0; j < one.nthreads; j++)
				if (views[0].pins.items[i].what == NS_PIN_VCPU && one.threads[j].kind == NS_THREAD_VCPU &&
				    one.threads[j].index == views[0].pins.items[i].index)
					views[0].pins.items[i].tid = one.threads[j].tid;
		rc = NS_EXIT_OK;
	} else if (pidarg) {
		pid_t pid = ns_opt_pid("pid", pidarg);

		rc = ns_vm_from_pid(NULL, pid, &one);
		if (rc < 0 && rc != -ENODATA) {
			if (rc == -ENOEXEC)
				ns_err("pid %d is not a QEMU VM (no \"CPU n/KVM\" or \"CPU n/TCG\" threads)", (int)pid);
			else
				ns_errno(rc, "pid %d", (int)pid);
			rc = NS_EXIT_FAIL;
			goto out;
		}
		views = calloc(1, sizeof(*views));
		if (!views)
			return NS_EXIT_FAIL;
		nviews = 1;
		view_fill(&views[0], &one);
		rc = NS_EXIT_OK;
	} else {
		rc = ns_vm_list_read(NULL, &list);
		if (rc < 0) {
			ns_errno(rc, "listing VMs");
			rc = NS_EXIT_FAIL;
			goto out;
		}
		views = calloc((size_t)list.n + 1, sizeof(*views));
		if (!views) {
			rc = NS_EXIT_FAIL;
			goto out;
		}
		nviews = list.n;
		for (int i = 0; i < list.n; i++)
			view_fill(&views[i], &list.v[i]);
		rc = NS_EXIT_OK;
	}
	if (ns_cli.json) {
		js = json_object_new_object();
		arr = json_object_new_array();
		json_object_object_add(js, "version", json_object_new_int(1));
		for (int i = 0; i < nviews; i++)
			json_object_array_add(arr, view_json(t, &views[i]));
		json_object_object_add(js, "vms", arr);
		ns_json_print(js);
		json_object_put(js);
	} else {
		if (nviews == 0 && !ns_cli.quiet)
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
	ns_vm_release(&one);
	ns_vm_list_free(&list);
	return rc;
}

int main(int argc, char **argv)
{
	struct ns_topo *topo = NULL;
	struct json_object *js = NULL;
	struct ns_set online, exclude;
	struct ns_pin_job job;
	struct ns_target tg;
	const char **args;
	const char *pidarg;
	poptContext ctx;
	int nargs, rc;

	ns_cli_init("vm-pin", argc, argv);
	ns_numa_init();
	ctx = poptGetContext("vm-pin", argc, (const char **)(void *)argv, options, 0);
	poptSetOtherOptionHelp(ctx, "[OPTIONS] (PID | --domain NAME) (--node NODES | --cpus LIST)");
	while (ns_cli_next(ctx) >= 0)
		;
	args = ns_cli_args(ctx, &nargs);
	pidarg = nargs ? args[0] : NULL;
	memset(&job, 0, sizeof(job));
	memset(&tg, 0, sizeof(tg));
	if (nargs > 1)
		ns_usage("too many arguments ('%s')", args[1]);
	if (pidarg && ns_cli.domain)
		ns_usage("give either a PID or --domain, not both");
	if (ns_cli.connect && !ns_cli.domain && !opt_plan)
		ns_usage("--connect: only meaningful with --domain");
	if (opt_node && opt_cpus)
		ns_usage("--node and --cpus are mutually exclusive");
	if (opt_show && (opt_node || opt_cpus || opt_mem || opt_reserve || opt_weight || opt_spread || opt_vcpus || opt_plan ||
			 opt_config || opt_dry_run || opt_exclude || opt_iothreads || opt_no_emulator))
		ns_usage("--show takes only a target (PID or --domain)");
	if (opt_plan && (pidarg || ns_cli.domain || opt_node || opt_cpus || opt_vcpus || opt_spread))
		ns_usage("--plan takes the targets and nodes from the plan file");
	if (!opt_show && !opt_plan) {
		if (!opt_node && !opt_cpus)
			ns_usage("--node or --cpus is required");
		if (!pidarg && !ns_cli.domain)
			ns_usage("no target: give a PID or --domain NAME");
	}
	rc = ns_topo_read(NULL, &topo);
	if (rc < 0) {
		ns_errno_detail(rc, "reading the host's NUMA topology");
		rc = NS_EXIT_FAIL;
		goto out;
	}
	if (ns_cpus_online(NULL, &online) < 0) {
		ns_set_clear(&online);
		for (int i = 0; i < ns_topo_nr_nodes(topo); i++)
			ns_set_or(&online, &ns_topo_node(topo, i)->cpus);
	}
	ns_set_clear(&exclude);
	if (opt_exclude)
		ns_opt_cpus("--exclude-cpus", opt_exclude, &online, &exclude);
	if (opt_show) {
		rc = show(topo, pidarg);
		goto out;
	}
	if (opt_node) {
		struct ns_set nodes;

		ns_opt_nodes("--node", opt_node, &nodes, ns_topo_nodes(topo));
		ns_set_clear(&job.req.cpus);
		for (int n = ns_set_next(&nodes, 0); n >= 0; n = ns_set_next(&nodes, (unsigned)n + 1))
			ns_set_or(&job.req.cpus, &ns_topo_find(topo, n)->cpus);
		job.mem_nodes = nodes;
	} else if (opt_cpus) {
		ns_opt_cpus("--cpus", opt_cpus, &online, &job.req.cpus);
		job.mem_nodes = cpu_nodes(topo, &job.req.cpus);
	}
	if (!opt_plan) {
		ns_set_andnot(&job.req.cpus, &exclude);
		if (ns_set_empty(&job.req.cpus))
			ns_usage("%s leaves no CPU to pin to%s", opt_node ? "--node" : "--cpus",
				 opt_exclude ? " after --exclude-cpus" : "");
	}
	if (opt_vcpus && (ns_set_parse(opt_vcpus, NS_SET_MAX, &job.req.vcpus) < 0 || ns_set_empty(&job.req.vcpus)))
		ns_usage("--vcpus: '%s' is not a vCPU list (like 0 or 0-3)", opt_vcpus);
	job.req.emulator = !opt_no_emulator;
	job.req.iothreads = opt_iothreads;
	job.req.config = opt_config;
	job.req.dry_run = opt_dry_run;
	if (opt_spread) {
		job.req.spread = 1;
		job.req.norder = ns_cpu_spread_order(NULL, &job.req.cpus, job.req.order, NS_SET_MAX);
	}
	job.mem = opt_mem;
	if (opt_reserve) {
		static struct ns_amount reserve;

		if (!opt_mem && !opt_plan)
			ns_usage("--reserve: only meaningful with --mem or --plan");
		ns_opt_amount("--reserve", opt_reserve, &reserve);
		job.reserve = &reserve;
	}
	job.weight = opt_weight;
	if (ns_topo_numa_balancing(topo) > 0)
		ns_warn("automatic NUMA balancing is on (kernel.numa_balancing): it moves memory and tasks and "
			"fights pinning; turn it off with 'sysctl kernel.numa_balancing=0'");
	if (ns_cli.json) {
		js = json_object_new_object();
		json_object_object_add(js, "version", json_object_new_int(1));
	}
	if (opt_plan) {
		rc = ns_plan_run(opt_plan, topo, &exclude, job.reserve, opt_dry_run, js);
		goto out;
	}
	ns_target_resolve(pidarg, &tg);
	if (!tg.is_domain && !opt_dry_run && ns_cap_have(CAP_SYS_NICE) != 1 && geteuid() != 0) {
		ns_err("pinning another process's threads needs %s (run as root)", ns_cap_name(CAP_SYS_NICE));
		rc = NS_EXIT_FAIL;
		goto out;
	}
	if (opt_config && !tg.is_domain)
		ns_usage("--config: only meaningful for a libvirt domain");
	rc = ns_pin_one(&tg, &job, js);
out:
	if (js) {
		ns_json_print(js);
		json_object_put(js);
	}
	ns_vm_release(&tg.vm);
	ns_topo_free(topo);
	poptFreeContext(ctx);
	return ns_cli_exit(rc);
}
