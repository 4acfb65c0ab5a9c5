/* numa-plan: the operator's view of the host's NUMA memory and VMs (show), the steal its VMs
 * see (steal), the verdict on a move (check), and whole-host plans (rebalance). The library
 * computes; this file parses and prints. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "numasafe/file.h"
#include "numasafe/plan.h"
#include "numasafe/steal.h"

static char *opt_root;
static char *opt_reserve;
static char *opt_interval;
static char *opt_to;
static char *opt_exclude, *opt_out, *opt_overcommit;
static int opt_swap_types, opt_swap_probe;

#define NO_THREAD_NAMES "no thread names: start QEMU with -name NAME,debug-threads=on"

static struct poptOption show_options[] = {
	{"reserve", '\0', POPT_ARG_STRING, &opt_reserve, 0,
	 "headroom reserve per node above the high watermark (default: max(256M, 2%))", "SIZE|PCT"},
	{"swap-types", '\0', POPT_ARG_NONE, &opt_swap_types, 0,
	 "establish each swap area's pagemap type (scans swapped processes; needs CAP_SYS_ADMIN)", NULL},
	{"swap-probe", '\0', POPT_ARG_NONE, &opt_swap_probe, 0,
	 "with --swap-types, settle ambiguous types by comparing a few swapped pages with the devices "
	 "(reads those pages back in)", NULL},
	{"root", '\0', POPT_ARG_STRING | POPT_ARGFLAG_DOC_HIDDEN, &opt_root, 0,
	 "read /proc and /sys under DIR (fixture trees, for tests)", "DIR"},
	NS_TARGET_TABLE,
	NS_COMMON_TABLE,
	POPT_TABLEEND,
};

static struct poptOption steal_options[] = {
	{"interval", 'i', POPT_ARG_STRING, &opt_interval, 0, "how long to measure (default 1)", "SECONDS"},
	{"root", '\0', POPT_ARG_STRING | POPT_ARGFLAG_DOC_HIDDEN, &opt_root, 0,
	 "read /proc and /sys under DIR (fixture trees, for tests)", "DIR"},
	NS_TARGET_TABLE,
	NS_COMMON_TABLE,
	POPT_TABLEEND,
};

static struct poptOption check_options[] = {
	{"to", 't', POPT_ARG_STRING, &opt_to, 0, "target node(s)", "NODES"},
	{"reserve", '\0', POPT_ARG_STRING, &opt_reserve, 0,
	 "headroom kept on each target above its high watermark (default max(256M, 2%))", "SIZE|PCT"},
	NS_TARGET_TABLE,
	NS_COMMON_TABLE,
	POPT_TABLEEND,
};

static struct poptOption rebalance_options[] = {
	{"exclude-cpus", '\0', POPT_ARG_STRING, &opt_exclude, 0, "CPUs reserved for the host, not counted for vCPUs",
	 "LIST"},
	{"reserve", '\0', POPT_ARG_STRING, &opt_reserve, 0,
	 "headroom kept on each node above its high watermark (default max(256M, 2%))", "SIZE|PCT"},
	{"cpu-overcommit", '\0', POPT_ARG_STRING, &opt_overcommit, 0,
	 "vCPUs allowed per usable CPU of a node (default 1: no overcommit)", "RATIO"},
	{"out", 'o', POPT_ARG_STRING, &opt_out, 0, "write the plan (JSON) to FILE for numa-migrate --plan", "FILE"},
	{"root", '\0', POPT_ARG_STRING | POPT_ARGFLAG_DOC_HIDDEN, &opt_root, 0,
	 "read /proc and /sys under DIR (fixture trees, for tests)", "DIR"},
	NS_COMMON_TABLE,
	POPT_TABLEEND,
};

static const char *fmt_mib(uint64_t b, char *buf, size_t len)
{
	snprintf(buf, len, "%.2f", (double)b / (1024.0 * 1024.0));
	return buf;
}

static void hpools_str(const struct ns_node *n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < n->nr_hpools; i++) {
		char sz[32];
		int k = snprintf(buf + off, len - off, "%s%s:%llu/%llu", i ? " " : "",
				 ns_size_format(n->hpools[i].page_size, sz, sizeof(sz)),
				 (unsigned long long)n->hpools[i].free, (unsigned long long)n->hpools[i].total);

		if (k < 0 || (size_t)k >= len - off)
			break;
		off += (size_t)k;
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

static void print_host(const struct ns_topo *t, const struct ns_amount *reserve, const struct ns_swaps *sw,
		       int psi_rc, const struct ns_psi *psi)
{
	const struct ns_hostmem *hm = ns_topo_hostmem(t);
	int nr = ns_topo_nr_nodes(t), nb = ns_topo_numa_balancing(t);
	char a[32], b[32], c[32], d[32], e[32], f[32], g[32], h[128], cpus[256];

	printf("host: %d node%s, memory %s total, %s available, swap %s free of %s\n", nr, nr == 1 ? "" : "s",
	       ns_size_format(hm->mem_total, a, sizeof(a)), ns_size_format(hm->mem_available, b, sizeof(b)),
	       ns_size_format(hm->swap_free, c, sizeof(c)), ns_size_format(hm->swap_total, d, sizeof(d)));
	printf("automatic NUMA balancing: %s\n",
	       nb < 0 ? "not in this kernel" : nb == 0 ? "off" : "ON (it moves pages and fights pinning)");
	if (psi_rc == 0)
		printf("memory pressure (PSI avg10/60/300 %%): some %.2f %.2f %.2f, full %.2f %.2f %.2f\n",
		       psi->some.avg10, psi->some.avg60, psi->some.avg300, psi->full.avg10, psi->full.avg60,
		       psi->full.avg300);
	else
		printf("memory pressure (PSI): not available (%s)\n",
		       psi_rc == -EOPNOTSUPP ? "disabled, psi=0" : "kernel without CONFIG_PSI");

	printf("\n%-4s  %-10s  %8s  %8s  %8s  %8s  %8s  %8s  %8s  %s\n", "node", "cpus", "total", "free",
	       "min", "low", "high", "reserve", "headroom", "hugepages(free/total)");
	for (int i = 0; i < nr; i++) {
		const struct ns_node *n = ns_topo_node(t, i);
		uint64_t res = ns_reserve_for(n, reserve);

		ns_set_format(&n->cpus, cpus, sizeof(cpus));
		hpools_str(n, h, sizeof(h));
		printf("%-4d  %-10s  %8s  %8s  %8s  %8s  %8s  %8s  %8s  %s\n", n->id, cpus[0] ? cpus : "-",
		       ns_size_format(n->mem_total, a, sizeof(a)), ns_size_format(n->mem_free, b, sizeof(b)),
		       ns_size_format(n->wmark_min, c, sizeof(c)), ns_size_format(n->wmark_low, d, sizeof(d)),
		       ns_size_format(n->wmark_high, e, sizeof(e)), ns_size_format(res, f, sizeof(f)),
		       ns_size_format(ns_node_headroom(n, res), g, sizeof(g)), h);
	}
	if (nr > 1) {
		printf("\ndistances:\n%-4s", "node");
		for (int j = 0; j < nr; j++)
			printf(" %4d", ns_topo_node(t, j)->id);
		putchar('\n');
		for (int i = 0; i < nr; i++) {
			printf("%-4d", ns_topo_node(t, i)->id);
			for (int j = 0; j < nr; j++)
				printf(" %4d", ns_topo_distance(t, ns_topo_node(t, i)->id, ns_topo_node(t, j)->id));
			putchar('\n');
		}
	}
	printf("\nswap areas:");
	if (sw->nr == 0)
		printf(" none\n");
	else {
		printf("\n%-24s  %-9s  %8s  %8s  %5s  %s\n", "device", "kind", "size", "used", "prio", "type");
		for (int i = 0; i < sw->nr; i++) {
			const struct ns_swap_area *s = &sw->area[i];
			char ty[16];

			if (s->type >= 0)
				snprintf(ty, sizeof(ty), "%d", s->type);
			else
				snprintf(ty, sizeof(ty), "%s", opt_swap_types ? "?" : "-");
			printf("%-24s  %-9s  %8s  %8s  %5d  %s\n", s->path, s->kind,
			       ns_size_format(s->size, a, sizeof(a)), ns_size_format(s->used, b, sizeof(b)),
			       s->priority, ty);
		}
	}
}

static void print_proc(const struct ns_topo *t, const struct ns_proc_usage *u)
{
	static const enum ns_kind kinds[] = {NS_KIND_ANON, NS_KIND_FILE, NS_KIND_SHMEM, NS_KIND_HUGETLB};
	int nr = ns_topo_nr_nodes(t);
	char buf[32], buf2[32], ma[256], ca[256];
	uint64_t all = 0;

	printf("\nprocess %d (%s): memory per node in MiB\n%-8s", (int)u->pid, u->comm, "kind");
	for (int i = 0; i < nr; i++) {
		char hdr[16];

		snprintf(hdr, sizeof(hdr), "node %d", ns_topo_node(t, i)->id);
		printf(" %10s", hdr);
	}
	printf(" %10s\n", "total");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		printf("%-8s", ns_kind_name(kinds[k]));
		for (int i = 0; i < nr; i++) {
			int id = ns_topo_node(t, i)->id;

			printf(" %10s", fmt_mib(id < NS_MAX_NODES ? u->bytes[kinds[k]][id] : 0, buf, sizeof(buf)));
		}
		printf(" %10s\n", fmt_mib(u->total[kinds[k]], buf, sizeof(buf)));
		all += u->total[kinds[k]];
	}
	printf("%-8s", "total");
	for (int i = 0; i < nr; i++)
		printf(" %10s", fmt_mib(u->node_total[ns_topo_node(t, i)->id], buf, sizeof(buf)));
	printf(" %10s\n", fmt_mib(all, buf, sizeof(buf)));
	ns_set_format(&u->mems_allowed, ma, sizeof(ma));
	ns_set_format(&u->cpus_allowed, ca, sizeof(ca));
	printf("THP (of anon, all nodes) %s MiB; swapped out %s MiB\n", fmt_mib(u->thp_bytes, buf, sizeof(buf)),
	       fmt_mib(u->swap_bytes, buf2, sizeof(buf2)));
	printf("mems allowed %s; cpus allowed %s\n", ma, ca);
}

/* What show and steal tell about one VM beyond discovery: where its threads may run and
 * where its memory is. */
struct vm_view {
	struct ns_vm *vm;
	struct ns_set cpu_nodes;
	struct ns_proc_usage *u; /* NULL when its memory could not be read */
	int u_rc;
	int main_node;		 /* the node holding most of its memory, -1 when none */
	double locality;	 /* % of its memory on main_node, < 0 when unknown */
};

static void vm_views_free(struct vm_view *v, int n)
{
	for (int i = 0; v && i < n; i++)
		free(v[i].u);
	free(v);
}

static int vm_views_read(const struct ns_topo *t, struct ns_vm *vms, int n, struct vm_view **out)
{
	struct vm_view *v = calloc(n ? (size_t)n : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		uint64_t all = 0, best = 0;

		v[i].vm = &vms[i];
		v[i].main_node = -1;
		v[i].locality = -1;
		if (ns_vm_cpu_nodes(opt_root, &vms[i], t, &v[i].cpu_nodes) < 0)
			ns_set_clear(&v[i].cpu_nodes);
		v[i].u_rc = ns_proc_usage_read(opt_root, vms[i].pid, &v[i].u);
		if (v[i].u_rc < 0) {
			v[i].u = NULL;
			continue;
		}
		for (int k = 0; k < ns_topo_nr_nodes(t); k++) {
			int id = ns_topo_node(t, k)->id;
			uint64_t b = id < NS_MAX_NODES ? v[i].u->node_total[id] : 0;

			all += b;
			if (b > best) {
				best = b;
				v[i].main_node = id;
			}
		}
		if (all)
			v[i].locality = (double)best * 100.0 / (double)all;
	}
	*out = v;
	return 0;
}

/* Nodes holding a noticeable share (2% or more) of a VM's memory. */
static void vm_mem_nodes(const struct ns_topo *t, const struct vm_view *v, struct ns_set *nodes)
{
	uint64_t all = 0;

	ns_set_clear(nodes);
	if (!v->u)
		return;
	for (int k = 0; k < ns_topo_nr_nodes(t); k++)
		all += v->u->node_total[ns_topo_node(t, k)->id];
	for (int k = 0; k < ns_topo_nr_nodes(t); k++) {
		int id = ns_topo_node(t, k)->id;

		if (all && v->u->node_total[id] * 50 >= all && v->u->node_total[id])
			ns_set_add(nodes, (unsigned)id);
	}
}

static const char *vm_kind(const struct ns_vm *vm)
{
	return vm->is_domain ? "domain" : "qemu";
}

static void print_vms(const struct ns_topo *t, const struct vm_view *v, int n)
{
	int nr = ns_topo_nr_nodes(t);
	char buf[32], nodes[256], vc[16], loc[16];

	if (n == 0) {
		printf("\nVMs: none\n");
		return;
	}
	printf("\nVMs: %d (memory in MiB)\n%-20s  %-6s  %7s  %5s  %-9s", n, "name", "kind", "pid", "vcpus", "cpu nodes");
	for (int i = 0; i < nr; i++) {
		char hdr[16];

		snprintf(hdr, sizeof(hdr), "node %d", ns_topo_node(t, i)->id);
		printf("  %10s", hdr);
	}
	printf("  %10s  %10s  %8s\n", "total", "swap", "locality");
	for (int j = 0; j < n; j++) {
		const struct ns_vm *vm = v[j].vm;
		uint64_t all = 0;

		ns_set_format(&v[j].cpu_nodes, nodes, sizeof(nodes));
		if (vm->named)
			snprintf(vc, sizeof(vc), "%d", vm->nvcpus);
		else
			snprintf(vc, sizeof(vc), "?");
		printf("%-20s  %-6s  %7d  %5s  %-9s", vm->name, vm_kind(vm), (int)vm->pid, vc, nodes[0] ? nodes : "-");
		for (int i = 0; i < nr; i++) {
			int id = ns_topo_node(t, i)->id;

			if (v[j].u) {
				all += v[j].u->node_total[id];
				printf("  %10s", fmt_mib(v[j].u->node_total[id], buf, sizeof(buf)));
			} else
				printf("  %10s", "-");
		}
		if (v[j].locality >= 0)
			snprintf(loc, sizeof(loc), "%.1f%%", v[j].locality);
		else
			snprintf(loc, sizeof(loc), "-");
		printf("  %10s", v[j].u ? fmt_mib(all, buf, sizeof(buf)) : "-");
		printf("  %10s  %8s\n", v[j].u ? fmt_mib(v[j].u->swap_bytes, buf, sizeof(buf)) : "-", loc);
	}
	for (int j = 0; j < n; j++) {
		char who[300];

		if (strncmp(v[j].vm->name, "pid ", 4) == 0)
			snprintf(who, sizeof(who), "%s", v[j].vm->name);
		else
			snprintf(who, sizeof(who), "%.256s (pid %d)", v[j].vm->name, (int)v[j].vm->pid);
		if (!v[j].vm->named)
			printf("  %s: %s\n", who, NO_THREAD_NAMES);
		if (!v[j].u)
			printf("  %s: memory not readable: %s\n", who, strerror(-v[j].u_rc));
	}
}

static struct json_object *vms_json(const struct ns_topo *t, const struct vm_view *v, int n)
{
	struct json_object *a = json_object_new_array();

	for (int j = 0; j < n; j++) {
		const struct ns_vm *vm = v[j].vm;
		struct json_object *o = json_object_new_object(), *mem = NULL;
		uint64_t all = 0;

		json_object_object_add(o, "name", json_object_new_string(vm->name));
		json_object_object_add(o, "kind", json_object_new_string(vm_kind(vm)));
		json_object_object_add(o, "pid", json_object_new_int(vm->pid));
		json_object_object_add(o, "named", json_object_new_boolean(vm->named));
		json_object_object_add(o, "vcpus", vm->named ? json_object_new_int(vm->nvcpus) : NULL);
		json_object_object_add(o, "threads", json_object_new_int(vm->nthreads));
		json_object_object_add(o, "cpu_nodes", ns_json_set(&v[j].cpu_nodes));
		if (v[j].u) {
			mem = json_object_new_array();
			for (int i = 0; i < ns_topo_nr_nodes(t); i++) {
				int id = ns_topo_node(t, i)->id;
				struct json_object *m = json_object_new_object();

				json_object_object_add(m, "node", json_object_new_int(id));
				json_object_object_add(m, "bytes", ns_json_u64(v[j].u->node_total[id]));
				json_object_array_add(mem, m);
				all += v[j].u->node_total[id];
			}
		}
		json_object_object_add(o, "memory", mem);
		json_object_object_add(o, "mem_total", v[j].u ? ns_json_u64(all) : NULL);
		json_object_object_add(o, "swap_bytes", v[j].u ? ns_json_u64(v[j].u->swap_bytes) : NULL);
		json_object_object_add(o, "main_node", v[j].main_node >= 0 ? json_object_new_int(v[j].main_node) : NULL);
		json_object_object_add(o, "locality_pct",
				       v[j].locality >= 0 ? json_object_new_double(v[j].locality) : NULL);
		json_object_object_add(o, "note", vm->named ? NULL : json_object_new_string(NO_THREAD_NAMES));
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *psi_json(const struct ns_psi_line *l)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "avg10", json_object_new_double(l->avg10));
	json_object_object_add(o, "avg60", json_object_new_double(l->avg60));
	json_object_object_add(o, "avg300", json_object_new_double(l->avg300));
	json_object_object_add(o, "total_us", ns_json_u64(l->total));
	return o;
}

static struct json_object *host_json(const struct ns_topo *t, const struct ns_amount *reserve,
				     const struct ns_swaps *sw, int psi_rc, const struct ns_psi *psi)
{
	const struct ns_hostmem *hm = ns_topo_hostmem(t);
	struct json_object *root = json_object_new_object(), *host = json_object_new_object();
	struct json_object *nodes = json_object_new_array(), *swaps = json_object_new_array();
	int nr = ns_topo_nr_nodes(t), nb = ns_topo_numa_balancing(t);

	json_object_object_add(root, "version", json_object_new_int(1));
	json_object_object_add(host, "mem_total", ns_json_u64(hm->mem_total));
	json_object_object_add(host, "mem_free", ns_json_u64(hm->mem_free));
	json_object_object_add(host, "mem_available", ns_json_u64(hm->mem_available));
	json_object_object_add(host, "swap_total", ns_json_u64(hm->swap_total));
	json_object_object_add(host, "swap_free", ns_json_u64(hm->swap_free));
	json_object_object_add(host, "numa_balancing", nb < 0 ? NULL : json_object_new_int(nb));
	json_object_object_add(root, "host", host);
	if (psi_rc == 0) {
		struct json_object *p = json_object_new_object();

		json_object_object_add(p, "some", psi_json(&psi->some));
		json_object_object_add(p, "full", psi_json(&psi->full));
		json_object_object_add(root, "psi", p);
	} else
		json_object_object_add(root, "psi", NULL);
	for (int i = 0; i < nr; i++) {
		const struct ns_node *n = ns_topo_node(t, i);
		struct json_object *o = json_object_new_object(), *hp = json_object_new_array();
		struct json_object *dist = json_object_new_array();
		uint64_t res = ns_reserve_for(n, reserve);

		json_object_object_add(o, "id", json_object_new_int(n->id));
		json_object_object_add(o, "cpus", ns_json_set(&n->cpus));
		json_object_object_add(o, "mem_total", ns_json_u64(n->mem_total));
		json_object_object_add(o, "mem_free", ns_json_u64(n->mem_free));
		json_object_object_add(o, "file_pages", ns_json_u64(n->file_pages));
		json_object_object_add(o, "inactive_file", ns_json_u64(n->inactive_file));
		json_object_object_add(o, "sreclaimable", ns_json_u64(n->sreclaimable));
		json_object_object_add(o, "wmark_min", ns_json_u64(n->wmark_min));
		json_object_object_add(o, "wmark_low", ns_json_u64(n->wmark_low));
		json_object_object_add(o, "wmark_high", ns_json_u64(n->wmark_high));
		json_object_object_add(o, "reserve", ns_json_u64(res));
		json_object_object_add(o, "headroom", ns_json_u64(ns_node_headroom(n, res)));
		for (unsigned k = 0; k < n->nr_hpools; k++) {
			struct json_object *h = json_object_new_object();

			json_object_object_add(h, "page_size", ns_json_u64(n->hpools[k].page_size));
			json_object_object_add(h, "total", ns_json_u64(n->hpools[k].total));
			json_object_object_add(h, "free", ns_json_u64(n->hpools[k].free));
			json_object_object_add(h, "surplus", ns_json_u64(n->hpools[k].surplus));
			json_object_array_add(hp, h);
		}
		json_object_object_add(o, "hugepages", hp);
		for (int j = 0; j < nr; j++)
			json_object_array_add(dist, json_object_new_int(ns_topo_distance(t, n->id, ns_topo_node(t, j)->id)));
		json_object_object_add(o, "distances", dist);
		json_object_array_add(nodes, o);
	}
	json_object_object_add(root, "nodes", nodes);
	for (int i = 0; i < sw->nr; i++) {
		const struct ns_swap_area *s = &sw->area[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "path", json_object_new_string(s->path));
		json_object_object_add(o, "kind", json_object_new_string(s->kind));
		json_object_object_add(o, "size", ns_json_u64(s->size));
		json_object_object_add(o, "used", ns_json_u64(s->used));
		json_object_object_add(o, "priority", json_object_new_int(s->priority));
		json_object_object_add(o, "type", s->type >= 0 ? json_object_new_int(s->type) : NULL);
		json_object_object_add(o, "type_how", s->type_how ? json_object_new_string(s->type_how) : NULL);
		json_object_array_add(swaps, o);
	}
	json_object_object_add(root, "swap", swaps);
	return root;
}

static struct json_object *proc_json(const struct ns_topo *t, const struct ns_proc_usage *u)
{
	struct json_object *o = json_object_new_object(), *nodes = json_object_new_array();
	struct json_object *tot = json_object_new_object();
	int nr = ns_topo_nr_nodes(t);

	json_object_object_add(o, "pid", json_object_new_int(u->pid));
	json_object_object_add(o, "comm", json_object_new_string(u->comm));
	json_object_object_add(o, "mems_allowed", ns_json_set(&u->mems_allowed));
	json_object_object_add(o, "cpus_allowed", ns_json_set(&u->cpus_allowed));
	for (int i = 0; i < nr; i++) {
		int id = ns_topo_node(t, i)->id;
		struct json_object *n = json_object_new_object();

		json_object_object_add(n, "node", json_object_new_int(id));
		for (int k = 0; k < NS_KIND_COUNT; k++)
			if (k != NS_KIND_THP)
				json_object_object_add(n, ns_kind_name(k), ns_json_u64(u->bytes[k][id]));
		json_object_object_add(n, "total", ns_json_u64(u->node_total[id]));
		json_object_array_add(nodes, n);
	}
	json_object_object_add(o, "nodes", nodes);
	for (int k = 0; k < NS_KIND_COUNT; k++)
		if (k != NS_KIND_THP)
			json_object_object_add(tot, ns_kind_name(k), ns_json_u64(u->total[k]));
	json_object_object_add(o, "total", tot);
	json_object_object_add(o, "thp_bytes", ns_json_u64(u->thp_bytes));
	json_object_object_add(o, "swap_bytes", ns_json_u64(u->swap_bytes));
	return o;
}

static int cmd_show(poptContext ctx)
{
	struct ns_amount reserve_amt, *reserve = NULL;
	struct ns_proc_usage *u = NULL;
	struct ns_topo *t = NULL;
	struct ns_vm_list vms = {0};
	struct vm_view *views = NULL;
	struct ns_swaps sw;
	struct ns_psi psi;
	const char **args;
	pid_t pid = 0;
	int nargs, rc, psi_rc, have_pid;

	while (ns_cli_next(ctx) >= 0)
		;
	args = ns_cli_args(ctx, &nargs);
	if (nargs > 1)
		ns_usage("show: too many arguments ('%s')", args[1]);
	if (opt_swap_probe)
		opt_swap_types = 1;
	if (opt_reserve) {
		ns_opt_amount("--reserve", opt_reserve, &reserve_amt);
		reserve = &reserve_amt;
	}
	have_pid = ns_cli_target(nargs ? args[0] : NULL, false, &pid) == 0;

	rc = ns_topo_read(opt_root, &t);
	if (rc < 0) {
		ns_errno(rc, "reading the host's NUMA topology");
		return NS_EXIT_FAIL;
	}
	if (have_pid) {
		rc = ns_proc_usage_read(opt_root, pid, &u);
		if (rc < 0) {
			if (rc == -EINVAL)
				ns_err("pid %d: a kernel thread has no memory to show", (int)pid);
			else
				ns_errno(rc, "pid %d", (int)pid);
			rc = NS_EXIT_FAIL;
			goto out;
		}
	}
	rc = ns_swaps_read(opt_root, &sw);
	if (rc < 0) {
		ns_errno(rc, "reading swap areas");
		rc = NS_EXIT_FAIL;
		goto out;
	}
	if (opt_swap_types && sw.nr) {
		struct ns_swap_evidence *ev = calloc(1, sizeof(*ev));

		rc = ev ? ns_swap_gather(opt_root, ev) : -ENOMEM;
		if (rc == 0)
			rc = ns_swap_assign(&sw, ev);
		if (rc == 0 && opt_swap_probe)
			rc = ns_swap_probe_content(opt_root, &sw, ev);
		free(ev);
		if (rc == -EPERM)
			ns_warn("--swap-types: the kernel hides swap types without %s",
				ns_cap_name(CAP_SYS_ADMIN));
		else if (rc < 0)
			ns_warn("--swap-types: %s", strerror(-rc));
	}
	psi_rc = ns_psi_read(opt_root, &psi);
	rc = ns_vm_list_read(opt_root, &vms);
	if (rc == 0)
		rc = vm_views_read(t, vms.v, vms.n, &views);
	if (rc < 0) {
		ns_errno(rc, "listing VMs");
		rc = NS_EXIT_FAIL;
		goto out;
	}

	if (ns_cli.json) {
		struct json_object *o = host_json(t, reserve, &sw, psi_rc, &psi);

		json_object_object_add(o, "vms", vms_json(t, views, vms.n));
		json_object_object_add(o, "process", u ? proc_json(t, u) : NULL);
		ns_json_print(o);
		json_object_put(o);
	} else {
		print_host(t, reserve, &sw, psi_rc, &psi);
		print_vms(t, views, vms.n);
		if (u)
			print_proc(t, u);
	}
	rc = NS_EXIT_OK;
out:
	vm_views_free(views, vms.n);
	ns_vm_list_free(&vms);
	free(u);
	ns_topo_free(t);
	return rc;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One snapshot of every vCPU thread; a thread that cannot be read is marked not ok. */
static int steal_snap(struct ns_steal_vm *sv, int n, int second)
{
	for (int v = 0; v < n; v++)
		for (int i = 0; i < sv[v].nthreads; i++) {
			struct ns_steal_thread *t = &sv[v].th[i];
			int rc = ns_schedstat_read(opt_root, sv[v].pid, t->tid, second ? &t->b : &t->a);

			if (rc == -EOPNOTSUPP)
				return rc;
			if (second)
				t->ok = t->ok && rc == 0;
			else
				t->ok = rc == 0;
		}
	return 0;
}

static void steal_causes(const struct ns_steal_host *h, const struct vm_view *views, const struct ns_steal_vm *sv,
			 int n, struct json_object *arr)
{
	char text[1024], a[256], b[256];
	int shown = 0;

	if (!arr)
		printf("\nlikely causes the host shows:\n");
#define CAUSE(kind, idx)                                                                                    \
	do {                                                                                                   \
		if (arr) {                                                                                     \
			struct json_object *c = json_object_new_object();                                     \
			json_object_object_add(c, "cause", json_object_new_string(kind));                     \
			json_object_object_add(c, "vm", (idx) >= 0 ? json_object_new_string(views[idx].vm->name) : NULL); \
			json_object_object_add(c, "pid", (idx) >= 0 ? json_object_new_int(views[idx].vm->pid) : NULL); \
			json_object_object_add(c, "text", json_object_new_string(text));                      \
			json_object_array_add(arr, c);                                                         \
		} else                                                                                         \
			printf("  %s\n", text);                                                               \
		shown++;                                                                                       \
	} while (0)
	if (h->numa_balancing > 0) {
		snprintf(text, sizeof(text),
			 "automatic NUMA balancing is on (/proc/sys/kernel/numa_balancing = %d): it migrates VM threads "
			 "and pages between nodes; turn it off where VMs are pinned",
			 h->numa_balancing);
		CAUSE("numa_balancing", -1);
	}
	for (int v = 0; v < n; v++)
		if (sv[v].spans_nodes) {
			ns_set_format(&sv[v].cpu_nodes, a, sizeof(a));
			ns_set_format(&sv[v].mem_nodes, b, sizeof(b));
			snprintf(text, sizeof(text), "VM %s (pid %d) spans nodes: its vCPU threads may run on node%s %s, "
				 "its memory is on node%s %s; pin it to one node",
				 views[v].vm->name, (int)views[v].vm->pid, ns_set_count(&sv[v].cpu_nodes) == 1 ? "" : "s",
				 a[0] ? a : "-", ns_set_count(&sv[v].mem_nodes) == 1 ? "" : "s", b[0] ? b : "-");
			CAUSE("spans_nodes", v);
		}
	for (int v = 0; v < n; v++)
		if (sv[v].weight_off) {
			snprintf(text, sizeof(text),
				 "VM %s (pid %d): cgroup %s has CPU weight %lld for %d vCPU%s (%.0f per vCPU), out of "
				 "proportion with the other VMs: weight cgroups by vCPU count",
				 views[v].vm->name, (int)views[v].vm->pid, sv[v].cgroup, (long long)sv[v].weight,
				 sv[v].nvcpus, sv[v].nvcpus == 1 ? "" : "s", (double)sv[v].weight / sv[v].nvcpus);
			CAUSE("cpu_weight", v);
		}
#undef CAUSE
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

static int cmd_steal(poptContext ctx)
{
	struct ns_vm_list list = {0};
	struct ns_vm one;
	struct ns_vm *vms = NULL;
	struct vm_view *views = NULL;
	struct ns_steal_vm *sv = NULL;
	struct ns_cgroup_weight *cg = NULL;
	struct ns_steal_host h;
	struct ns_topo *t = NULL;
	const char **args;
	double interval = 1.0, t0;
	int nargs, rc, n = 0, have_one = 0;
	pid_t pid = 0;

	memset(&h, 0, sizeof(h));
	while (ns_cli_next(ctx) >= 0)
		;
	args = ns_cli_args(ctx, &nargs);
	if (nargs > 1)
		ns_usage("steal: too many arguments ('%s')", args[1]);
	if (opt_interval) {
		interval = ns_opt_double("--interval", opt_interval, 3600);
		if (interval < 0.01)
			ns_usage("--interval: must be at least 0.01 seconds");
	}
	rc = ns_topo_read(opt_root, &t);
	if (rc < 0) {
		ns_errno(rc, "reading the host's NUMA topology");
		return NS_EXIT_FAIL;
	}
	if (ns_cli_target(nargs ? args[0] : NULL, false, &pid) == 0) {
		rc = ns_vm_from_pid(opt_root, pid, &one);
		if (rc == -ENOEXEC) {
			ns_err("pid %d: not a VM (no vCPU threads named \"CPU n/KVM\", not QEMU)", (int)pid);
			rc = NS_EXIT_FAIL;
			goto out;
		}
		if (rc < 0 && rc != -ENODATA) {
			ns_errno(rc, "pid %d", (int)pid);
			rc = NS_EXIT_FAIL;
			goto out;
		}
		if (ns_cli.domain) {
			snprintf(one.name, sizeof(one.name), "%s", ns_cli.domain);
			one.is_domain = 1;
		}
		have_one = 1;
		vms = &one;
		n = 1;
	} else {
		rc = ns_vm_list_read(opt_root, &list);
		if (rc < 0) {
			ns_errno(rc, "listing VMs");
			rc = NS_EXIT_FAIL;
			goto out;
		}
		vms = list.v;
		n = list.n;
	}
	rc = vm_views_read(t, vms, n, &views);
	sv = calloc(n ? (size_t)n : 1, sizeof(*sv));
	cg = calloc(n ? (size_t)n : 1, sizeof(*cg));
	if (rc < 0 || !sv || !cg) {
		ns_errno(rc < 0 ? rc : -ENOMEM, "reading VMs");
		rc = NS_EXIT_FAIL;
		goto out;
	}
	for (int v = 0; v < n; v++) {
		const struct ns_vm *vm = &vms[v];
		pid_t first = vm->pid;

		sv[v].pid = vm->pid;
		sv[v].nvcpus = vm->named ? vm->nvcpus : 0;
		sv[v].cpu_nodes = views[v].cpu_nodes;
		vm_mem_nodes(t, &views[v], &sv[v].mem_nodes);
		sv[v].th = calloc(vm->nthreads ? (size_t)vm->nthreads : 1, sizeof(*sv[v].th));
		if (!sv[v].th) {
			ns_errno(-ENOMEM, "reading VMs");
			rc = NS_EXIT_FAIL;
			goto out;
		}
		for (int i = 0; vm->named && i < vm->nthreads; i++)
			if (vm->threads[i].kind == NS_THREAD_VCPU) {
				if (!sv[v].nthreads)
					first = vm->threads[i].tid;
				sv[v].th[sv[v].nthreads].tid = vm->threads[i].tid;
				sv[v].th[sv[v].nthreads++].index = vm->threads[i].index;
			}
		sv[v].weight = -1;
		if (ns_cgroup_cpu_weight(opt_root, vm->pid, first, &cg[v]) == 0) {
			sv[v].weight = (int64_t)cg[v].weight;
			sv[v].weight_version = cg[v].version;
			sv[v].cgroup = cg[v].path;
		}
	}
	h.numa_balancing = ns_topo_numa_balancing(t);

	t0 = now_s();
	rc = ns_cpustat_read(opt_root, &h.a);
	if (rc == 0)
		rc = steal_snap(sv, n, 0);
	if (rc == 0) {
		sleep_s(interval);
		rc = steal_snap(sv, n, 1);
	}
	if (rc == 0)
		rc = ns_cpustat_read(opt_root, &h.b);
	h.interval_s = now_s() - t0;
	if (rc == -EOPNOTSUPP) {
		ns_err("this kernel has no /proc/PID/task/TID/schedstat (CONFIG_SCHED_INFO)");
		rc = NS_EXIT_UNSUPPORTED;
		goto out;
	}
	if (rc < 0) {
		ns_errno(rc, "reading CPU counters");
		rc = NS_EXIT_FAIL;
		goto out;
	}
	ns_steal_compute(&h, sv, n);

	if (ns_cli.json) {
		struct json_object *o = json_object_new_object(), *ho = json_object_new_object();
		struct json_object *arr = json_object_new_array(), *causes = json_object_new_array();

		json_object_object_add(o, "version", json_object_new_int(1));
		json_object_object_add(o, "interval_s", json_object_new_double(h.interval_s));
		json_object_object_add(ho, "cpus", json_object_new_int((int)h.ncpus));
		json_object_object_add(ho, "idle_pct", json_object_new_double(h.idle_pct));
		json_object_object_add(ho, "spare_cpus", json_object_new_double(h.spare_cpus));
		json_object_object_add(ho, "vcpu_demand", json_object_new_double(h.vcpu_demand));
		json_object_object_add(ho, "max_wait_pct", json_object_new_double(h.max_wait_pct));
		json_object_object_add(ho, "procs_running", json_object_new_int((int)h.b.procs_running));
		json_object_object_add(ho, "numa_balancing",
				       h.numa_balancing < 0 ? NULL : json_object_new_int(h.numa_balancing));
		json_object_object_add(o, "host", ho);
		json_object_object_add(o, "classification", json_object_new_string(ns_steal_class_name(h.cls)));
		for (int v = 0; v < n; v++) {
			struct json_object *vo = json_object_new_object(), *va = json_object_new_array();

			json_object_object_add(vo, "name", json_object_new_string(vms[v].name));
			json_object_object_add(vo, "kind", json_object_new_string(vm_kind(&vms[v])));
			json_object_object_add(vo, "pid", json_object_new_int(vms[v].pid));
			json_object_object_add(vo, "named", json_object_new_boolean(vms[v].named));
			for (int i = 0; i < sv[v].nthreads; i++) {
				const struct ns_steal_thread *th = &sv[v].th[i];
				struct json_object *to = json_object_new_object();

				json_object_object_add(to, "index", json_object_new_int(th->index));
				json_object_object_add(to, "tid", json_object_new_int(th->tid));
				json_object_object_add(to, "cpu_pct", th->ok ? json_object_new_double(th->cpu_pct) : NULL);
				json_object_object_add(to, "wait_pct", th->ok ? json_object_new_double(th->wait_pct) : NULL);
				json_object_object_add(to, "slices", th->ok ? ns_json_u64(th->slices) : NULL);
				json_object_array_add(va, to);
			}
			json_object_object_add(vo, "vcpus", va);
			json_object_object_add(vo, "cpu_pct", json_object_new_double(sv[v].cpu_pct));
			json_object_object_add(vo, "wait_pct", json_object_new_double(sv[v].wait_pct));
			json_object_object_add(vo, "max_wait_pct", json_object_new_double(sv[v].max_wait_pct));
			json_object_object_add(vo, "cpu_nodes", ns_json_set(&sv[v].cpu_nodes));
			json_object_object_add(vo, "mem_nodes", ns_json_set(&sv[v].mem_nodes));
			json_object_object_add(vo, "cgroup", sv[v].cgroup ? json_object_new_string(sv[v].cgroup) : NULL);
			json_object_object_add(vo, "cgroup_version",
					       sv[v].weight >= 0 ? json_object_new_int(sv[v].weight_version) : NULL);
			json_object_object_add(vo, "cpu_weight", sv[v].weight >= 0 ? json_object_new_int64(sv[v].weight) : NULL);
			json_object_object_add(vo, "spans_nodes", json_object_new_boolean(sv[v].spans_nodes));
			json_object_object_add(vo, "weight_off", json_object_new_boolean(sv[v].weight_off));
			json_object_object_add(vo, "note", vms[v].named ? NULL : json_object_new_string(NO_THREAD_NAMES));
			json_object_array_add(arr, vo);
		}
		json_object_object_add(o, "vms", arr);
		steal_causes(&h, views, sv, n, causes);
		json_object_object_add(o, "causes", causes);
		ns_json_print(o);
		json_object_put(o);
	} else {
		printf("host: %u CPU%s, %.1f%% idle over %.2f s (%.2f CPUs spare); vCPUs want %.2f CPUs; "
		       "%u task%s running\n",
		       h.ncpus, h.ncpus == 1 ? "" : "s", h.idle_pct, h.interval_s, h.spare_cpus, h.vcpu_demand,
		       h.b.procs_running, h.b.procs_running == 1 ? "" : "s");
		printf("steal: %s\n", class_text(h.cls));
		if (n == 0)
			printf("\nVMs: none\n");
		else
			printf("\n%-20s  %7s  %4s  %7s  %6s  %6s  %6s\n", "VM", "pid", "vcpu", "tid", "cpu%", "wait%",
			       "slices");
		for (int v = 0; v < n; v++) {
			if (!vms[v].named) {
				printf("%-20s  %7d  %4s  %s\n", vms[v].name, (int)vms[v].pid, "-", NO_THREAD_NAMES);
				continue;
			}
			for (int i = 0; i < sv[v].nthreads; i++) {
				const struct ns_steal_thread *th = &sv[v].th[i];

				char p[16] = "";

				if (!i)
					snprintf(p, sizeof(p), "%d", (int)vms[v].pid);
				if (th->ok)
					printf("%-20s  %7s  %4d  %7d  %6.1f  %6.1f  %6llu\n", i ? "" : vms[v].name, p,
					       th->index, (int)th->tid, th->cpu_pct, th->wait_pct,
					       (unsigned long long)th->slices);
				else
					printf("%-20s  %7s  %4d  %7d  %6s  %6s  %6s  (thread ended)\n", i ? "" : vms[v].name,
					       p, th->index, (int)th->tid, "-", "-", "-");
			}
			printf("%-20s  %7s  %4s  %7s  %6.1f  %6.1f\n", "", "", "all", "", sv[v].cpu_pct, sv[v].wait_pct);
		}
		steal_causes(&h, views, sv, n, NULL);
	}
	rc = NS_EXIT_OK;
out:
	for (int v = 0; sv && v < n; v++)
		free(sv[v].th);
	free(sv);
	free(cg);
	vm_views_free(views, n);
	if (have_one)
		ns_vm_release(&one);
	ns_vm_list_free(&list);
	ns_topo_free(t);
	return rc;
}

static const char *sz(uint64_t b, char *buf)
{
	return ns_size_format(b, buf, 32);
}

/* headroom - bytes, as a signed amount ("-1.5G" when short) */
static const char *sz_after(uint64_t headroom, uint64_t bytes, char *buf)
{
	char tmp[32];

	if (headroom >= bytes)
		return ns_size_format(headroom - bytes, buf, 32);
	snprintf(buf, 32, "-%s", ns_size_format(bytes - headroom, tmp, sizeof(tmp)));
	return buf;
}

static struct json_object *kinds_json(const uint64_t *v)
{
	struct json_object *o = json_object_new_object();

	for (int k = 0; k < NS_KIND_COUNT; k++)
		json_object_object_add(o, ns_kind_name(k), ns_json_u64(v[k]));
	return o;
}

static int cmd_check(poptContext ctx)
{
	struct ns_mig_opts o;
	struct ns_amount reserve;
	struct ns_mig_plan plan;
	struct ns_proc_usage *u = NULL;
	struct ns_topo *topo = NULL;
	struct json_object *js = NULL;
	const char **args;
	char tostr[256], allowed[256], dnodes[256] = "", msg[512], a[32], b[32], c[32], d[32], e[32];
	int nargs, rc, dmode = -1;
	bool widen = false;
	pid_t pid;

	ns_mig_opts_init(&o);
	while (ns_cli_next(ctx) >= 0)
		;
	args = ns_cli_args(ctx, &nargs);
	if (!opt_to)
		ns_usage("check: --to is required");
	if (nargs > 1)
		ns_usage("check: too many arguments ('%s')", args[1]);
	rc = ns_topo_read(NULL, &topo);
	if (rc < 0) {
		ns_errno(rc, "reading the host's NUMA topology");
		return NS_EXIT_FAIL;
	}
	ns_opt_nodes("--to", opt_to, &o.to, ns_topo_nodes(topo));
	if (opt_reserve) {
		ns_opt_amount("--reserve", opt_reserve, &reserve);
		o.reserve = &reserve;
	}
	ns_cli_target(nargs ? args[0] : NULL, true, &pid);
	ns_set_format(&o.to, tostr, sizeof(tostr));

	rc = ns_proc_usage_read(NULL, pid, &u);
	if (rc < 0) {
		if (rc == -EINVAL)
			ns_err("pid %d: a kernel thread has no memory to move", (int)pid);
		else
			ns_errno(rc, "pid %d", (int)pid);
		rc = NS_EXIT_FAIL;
		goto out;
	}
	/* the one preflight numa-migrate runs, with the same options */
	rc = ns_mig_preflight(pid, &o, &plan);
	if (rc < 0) {
		ns_errno(rc, "pid %d", (int)pid);
		rc = NS_EXIT_FAIL;
		goto out;
	}
	if (ns_cli.domain && !plan.mems_ok) {
		rc = ns_domain_numatune_get(ns_cli.connect, ns_cli.domain, &dmode, dnodes, sizeof(dnodes), msg,
					    sizeof(msg));
		if (rc < 0) {
			ns_err("domain %s: reading numatune: %s", ns_cli.domain, msg[0] ? msg : strerror(-rc));
			rc = NS_EXIT_FAIL;
			goto out;
		}
		/* numa-migrate widens a restrictive nodeset for the move itself */
		widen = dmode == NS_NUMA_RESTRICTIVE;
	}
	ns_set_format(&plan.mems_allowed, allowed, sizeof(allowed));
	if (ns_cli.json) {
		struct json_object *p = json_object_new_object(), *tg = json_object_new_array();
		struct json_object *hp = json_object_new_array();

		js = json_object_new_object();
		json_object_object_add(js, "version", json_object_new_int(1));
		json_object_object_add(p, "pid", json_object_new_int(pid));
		json_object_object_add(p, "comm", json_object_new_string(u->comm));
		json_object_object_add(p, "to", ns_json_set(&o.to));
		json_object_object_add(p, "move", kinds_json(plan.move));
		json_object_object_add(p, "move_total", ns_json_u64(plan.move_total));
		json_object_object_add(p, "on_target", kinds_json(plan.on_target));
		json_object_object_add(p, "elsewhere", ns_json_u64(plan.elsewhere));
		json_object_object_add(p, "swapped", ns_json_u64(plan.swapped));
		for (int i = 0; i < plan.nr_targets; i++) {
			struct json_object *n = json_object_new_object();

			json_object_object_add(n, "node", json_object_new_int(plan.target_fit[i].node));
			json_object_object_add(n, "headroom", ns_json_u64(plan.target_fit[i].headroom));
			json_object_object_add(n, "free", ns_json_u64(plan.target_fit[i].free));
			json_object_object_add(n, "floor", ns_json_u64(plan.target_fit[i].floor));
			json_object_array_add(tg, n);
		}
		json_object_object_add(p, "targets", tg);
		json_object_object_add(p, "headroom_before", ns_json_u64(plan.headroom));
		json_object_object_add(p, "headroom_after",
				       json_object_new_int64((int64_t)plan.headroom - (int64_t)plan.move_total));
		for (unsigned i = 0; i < plan.nr_pools; i++) {
			struct json_object *h = json_object_new_object();

			json_object_object_add(h, "page_size", ns_json_u64(plan.pool_size[i]));
			json_object_object_add(h, "move", ns_json_u64(plan.huge_move[i]));
			json_object_object_add(h, "free_before", ns_json_u64(plan.huge_free[i]));
			json_object_object_add(h, "free_after",
					       json_object_new_int64((int64_t)plan.huge_free[i] - (int64_t)plan.huge_move[i]));
			json_object_array_add(hp, h);
		}
		json_object_object_add(p, "hugetlb", hp);
		json_object_object_add(p, "mems_allowed", ns_json_set(&plan.mems_allowed));
		json_object_object_add(p, "mems_ok", json_object_new_boolean(plan.mems_ok || widen));
		json_object_object_add(p, "verdict",
				       json_object_new_string(!plan.mems_ok && !widen ? "not_allowed"
							      : plan.fits	      ? "safe"
										      : "unsafe"));
		json_object_object_add(p, "shortfall", ns_json_u64(plan.shortfall));
		json_object_object_add(js, "check", p);
	} else if (!ns_cli.quiet) {
		printf("pid %d (%s): move to node %s\n", (int)pid, u->comm, tostr);
		printf("  to move:    anon %s, thp %s, file %s, shmem %s, hugetlb %s\n", sz(plan.move[NS_KIND_ANON], a),
		       sz(plan.move[NS_KIND_THP], b), sz(plan.move[NS_KIND_FILE], c), sz(plan.move[NS_KIND_SHMEM], d),
		       sz(plan.move[NS_KIND_HUGETLB], e));
		printf("  on target:  %s; on other nodes (not moved): %s; swapped out (not moved): %s\n",
		       sz(plan.on_target[NS_KIND_ANON] + plan.on_target[NS_KIND_THP] + plan.on_target[NS_KIND_FILE] +
				  plan.on_target[NS_KIND_SHMEM] + plan.on_target[NS_KIND_HUGETLB],
			  a),
		       sz(plan.elsewhere, b), sz(plan.swapped, c));
		for (int i = 0; i < plan.nr_targets; i++) {
			const struct ns_fit *f = &plan.target_fit[i];

			printf("  node %d:     headroom %s (free %s, high watermark + reserve %s)\n", f->node,
			       sz(f->headroom, a), sz(f->free, b), sz(f->floor, c));
		}
		printf("  headroom:   %s before, %s after the move\n", sz(plan.headroom, a),
		       sz_after(plan.headroom, plan.move_total, b));
		for (unsigned i = 0; i < plan.nr_pools; i++)
			printf("  hugetlb %s: %s to move, %s free in the targets' pools, %s after\n", sz(plan.pool_size[i], a),
			       sz(plan.huge_move[i], b), sz(plan.huge_free[i], c),
			       sz_after(plan.huge_free[i], plan.huge_move[i], d));
		printf("  memory:     allowed on node%s %s%s\n", ns_set_count(&plan.mems_allowed) == 1 ? "" : "s", allowed,
		       plan.mems_ok ? ""
		       : widen	    ? " (restrictive numatune: numa-migrate widens it for the move)"
				    : " (the target is not among them)");
		if (!plan.mems_ok && !widen)
			printf("  verdict:    not allowed: node %s is outside the allowed memory nodes\n", tostr);
		else if (plan.fits)
			printf("  verdict:    safe: %s of %s headroom\n", sz(plan.move_total, a), sz(plan.headroom, b));
		else
			printf("  verdict:    unsafe: short by %s%s\n", sz(plan.shortfall, a),
			       plan.huge_short ? " (hugetlb pool)" : "");
	}
	/* the same outcomes, messages and exit codes as numa-migrate --dry-run */
	if (!plan.mems_ok && !widen) {
		if (ns_cli.domain)
			ns_err("domain %s: node %s is outside its numatune nodeset (%s, mode %s), which libvirt cannot "
			       "change while the domain runs: set <numatune><memory mode='restrictive'/> in its "
			       "definition (virsh edit) and restart it, or give the new nodeset with "
			       "'virsh numatune %s --nodeset %s --config' and restart",
			       ns_cli.domain, tostr, allowed, ns_numa_mode_name(dmode), ns_cli.domain, tostr);
		else
			ns_err("pid %d: node %s is not in its allowed memory nodes (%s): its cpuset forbids it; add "
			       "the node to the cpuset's cpuset.mems first",
			       (int)pid, tostr, allowed);
		rc = NS_EXIT_FAIL;
	} else if (!plan.fits) {
		ns_err("pid %d: unsafe: %s to move, node %s has %s of headroom: short by %s%s", (int)pid,
		       sz(plan.move_total, a), tostr, sz(plan.headroom, b), sz(plan.shortfall, c),
		       plan.huge_short ? " (hugetlb pool)" : "");
		rc = NS_EXIT_REFUSED;
	} else
		rc = NS_EXIT_OK;
out:
	if (js) {
		ns_json_print(js);
		json_object_put(js);
	}
	free(u);
	ns_topo_free(topo);
	return rc;
}

/* ---- rebalance ---- */

/* Write the plan through a temporary file in FILE's directory and rename it into place: a
 * reader never sees half a plan, and nothing planted there is written through. A new plan is
 * 0644: it holds nothing secret (VM names and pids, as ps shows them), and whoever executes it
 * must read it; an existing file keeps its mode. */
static int write_plan(const char *file, struct json_object *plan)
{
	const char *text = json_object_to_json_string_ext(plan, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *buf = NULL;
	size_t n;
	int rc;

	if (!text)
		return -ENOMEM;
	n = strlen(text);
	buf = malloc(n + 2);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, text, n);
	buf[n++] = '\n';
	rc = ns_file_replace(file, buf, n, 0644);
	free(buf);
	return rc;
}

/* The solver only moves memory; a VM whose memory is already home but whose threads may run
 * elsewhere still needs pinning. Those steps move nothing, so they fit anywhere: first. */
static int add_pin_steps(const struct ns_plan_in *in, struct ns_plan_out *out)
{
	struct ns_plan_step *steps;
	int extra = 0, k = 0;
	bool *has = calloc((size_t)in->nr_vms + 1, sizeof(*has));

	if (!has)
		return -ENOMEM;
	for (int i = 0; i < out->nr_steps; i++)
		has[out->steps[i].vm] = true;
	for (int v = 0; v < in->nr_vms; v++)
		extra += out->placement[v] >= 0 && !has[v] && !out->why[v][0] &&
			 in->vms[v].threads_node != in->nodes[out->placement[v]].id;
	if (!extra) {
		free(has);
		return 0;
	}
	steps = calloc((size_t)(out->nr_steps + extra), sizeof(*steps));
	if (!steps) {
		free(has);
		return -ENOMEM;
	}
	for (int v = 0; v < in->nr_vms; v++)
		if (out->placement[v] >= 0 && !has[v] && !out->why[v][0] &&
		    in->vms[v].threads_node != in->nodes[out->placement[v]].id)
			steps[k++] = (struct ns_plan_step){.vm = v, .to = out->placement[v], .bytes = 0, .via_temp = 0};
	memcpy(steps + k, out->steps, (size_t)out->nr_steps * sizeof(*steps));
	free(out->steps);
	out->steps = steps;
	out->nr_steps += extra;
	free(has);
	return 0;
}

static int cmd_rebalance(poptContext ctx)
{
	struct ns_plan_in in;
	struct ns_plan_out out;
	struct ns_amount reserve;
	struct ns_topo *topo = NULL;
	struct json_object *plan = NULL;
	struct ns_set exclude, online;
	const char **args;
	int nargs, rc, skipped = 0, unplaced = 0;
	double overcommit = 1.0;
	char a[32], b[32];

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	while (ns_cli_next(ctx) >= 0)
		;
	args = ns_cli_args(ctx, &nargs);
	if (nargs > 0)
		ns_usage("rebalance: unexpected argument '%s' (it plans every VM on the host)", args[0]);
	if (opt_overcommit) {
		overcommit = ns_opt_double("--cpu-overcommit", opt_overcommit, 1000);
		if (overcommit < 1)
			ns_usage("--cpu-overcommit: must be at least 1");
	}
	if (opt_reserve)
		ns_opt_amount("--reserve", opt_reserve, &reserve);
	rc = ns_topo_read(opt_root, &topo);
	if (rc < 0) {
		ns_errno(rc, "reading the host's NUMA topology");
		return NS_EXIT_FAIL;
	}
	ns_set_clear(&online);
	for (int i = 0; i < ns_topo_nr_nodes(topo); i++)
		ns_set_or(&online, &ns_topo_node(topo, i)->cpus);
	ns_set_clear(&exclude);
	if (opt_exclude)
		ns_opt_cpus("--exclude-cpus", opt_exclude, &online, &exclude);
	rc = ns_plan_gather(opt_root, opt_reserve ? &reserve : NULL, &exclude, &in, &skipped);
	if (rc < 0) {
		ns_errno(rc, "gathering the VMs");
		rc = NS_EXIT_FAIL;
		goto out;
	}
	for (int i = 0; i < in.nr_nodes; i++)
		in.nodes[i].cpus = (int)((double)in.nodes[i].cpus * overcommit);
	rc = ns_plan_solve(&in, &out);
	if (rc < 0) {
		ns_errno(rc, "planning");
		rc = NS_EXIT_FAIL;
		goto out;
	}
	rc = add_pin_steps(&in, &out);
	if (rc < 0) {
		ns_errno(rc, "planning");
		rc = NS_EXIT_FAIL;
		goto out;
	}
	plan = ns_plan_to_json(&in, &out);
	if (!plan) {
		ns_errno(-ENOMEM, "planning");
		rc = NS_EXIT_FAIL;
		goto out;
	}
	for (int i = 0; i < in.nr_vms; i++)
		unplaced += out.placement[i] < 0;
	if (opt_out) {
		rc = write_plan(opt_out, plan);
		if (rc < 0) {
			ns_errno(rc, "%s", opt_out);
			rc = NS_EXIT_FAIL;
			goto out;
		}
	}
	if (ns_cli.json)
		ns_json_print(plan);
	else if (!ns_cli.quiet) {
		printf("rebalance: %d VMs on %d nodes; %d steps move %s (%s)\n", in.nr_vms, in.nr_nodes, out.nr_steps,
		       ns_size_format(out.bytes_moved, a, sizeof(a)),
		       out.exact ? "proven optimal" : "heuristic: greedy placement and local search");
		printf("%-6s %10s %6s\n", "node", "headroom", "cpus");
		for (int i = 0; i < in.nr_nodes; i++)
			printf("%-6d %10s %6d\n", in.nodes[i].id, ns_size_format(in.nodes[i].headroom, a, sizeof(a)),
			       in.nodes[i].cpus);
		for (int i = 0; i < out.nr_steps; i++) {
			const struct ns_plan_step *st = &out.steps[i];
			const struct ns_plan_vm *v = &in.vms[st->vm];

			char who[64] = "";

			if (strncmp(v->name, "pid ", 4) != 0)
				snprintf(who, sizeof(who), "%s %d, ", v->is_domain ? "domain, pid" : "pid", (int)v->pid);
			printf("step %d: %s (%s%d vCPUs) -> node %d, %s%s\n", i + 1, v->name, who, v->vcpus,
			       in.nodes[st->to].id, ns_size_format(st->bytes, b, sizeof(b)),
			       st->via_temp ? " (parked until its own step)" : "");
		}
		for (int i = 0; i < in.nr_vms; i++)
			if (out.why[i][0])
				printf("%s: %s\n", in.vms[i].name, out.why[i]);
		if (out.nr_steps == 0 && !unplaced && !out.nr_unordered)
			printf("every VM is already on one node: nothing to do\n");
		if (opt_out && out.nr_steps)
			printf("plan written to %s: run it with 'numa-migrate --plan %s' (or 'vm-pin --plan %s')\n",
			       opt_out, opt_out, opt_out);
	}
	if (skipped)
		ns_warn("%d QEMU process%s without thread names left out (start QEMU with -name NAME,debug-threads=on)",
			skipped, skipped == 1 ? "" : "es");
	/* a partial plan is still written, but orchestration must know not every VM is settled */
	rc = unplaced || out.nr_unordered ? NS_EXIT_REFUSED : NS_EXIT_OK;
	if (rc == NS_EXIT_REFUSED)
		ns_err("rebalance: %d VM%s cannot be placed and %d step%s have no safe order (see the reasons)", unplaced,
		       unplaced == 1 ? "" : "s", out.nr_unordered, out.nr_unordered == 1 ? "" : "s");
out:
	if (plan)
		json_object_put(plan);
	ns_plan_out_free(&out);
	ns_plan_in_release(&in);
	ns_topo_free(topo);
	return rc;
}

int main(int argc, char **argv)
{
	const char *sub = "show";
	poptContext ctx;
	int rc, off = 1;

	ns_cli_init("numa-plan", argc, argv);
	ns_numa_init();
	/* "numa-plan" alone means "numa-plan show"; a subcommand is the first word, and a first
	 * word that is a number is show's PID ("numa-plan 4242") */
	if (argc > 1 && argv[1][0] != '-' && !(argv[1][0] >= '0' && argv[1][0] <= '9')) {
		sub = argv[1];
		off = 2;
	}
	if (strcmp(sub, "show") == 0) {
		ctx = poptGetContext("numa-plan", argc - off + 1, (const char **)(void *)argv + off - 1, show_options, 0);
		poptSetOtherOptionHelp(ctx, "[show] [OPTIONS] [PID | --domain NAME]\n"
					    "       numa-plan steal [-i SECONDS] [PID | --domain NAME]\n"
					    "       numa-plan check -t NODES [--reserve SIZE|PCT] (PID | --domain NAME)\n"
					    "       numa-plan rebalance [--exclude-cpus LIST] [--reserve SIZE|PCT] [-o FILE]");
		rc = cmd_show(ctx);
		poptFreeContext(ctx);
		return ns_cli_exit(rc);
	}
	if (strcmp(sub, "steal") == 0) {
		static char name[] = "numa-plan steal"; /* popt's "Usage:" line names argv[0] */

		argv[off - 1] = name;
		ctx = poptGetContext("numa-plan steal", argc - off + 1, (const char **)(void *)argv + off - 1,
				     steal_options, 0);
		poptSetOtherOptionHelp(ctx, "[OPTIONS] [PID | --domain NAME]");
		rc = cmd_steal(ctx);
		poptFreeContext(ctx);
		return ns_cli_exit(rc);
	}
	if (strcmp(sub, "check") == 0) {
		static char name[] = "numa-plan check";

		argv[off - 1] = name;
		ctx = poptGetContext("numa-plan check", argc - off + 1, (const char **)(void *)argv + off - 1,
				     check_options, 0);
		poptSetOtherOptionHelp(ctx, "--to NODES [OPTIONS] (PID | --domain NAME)");
		rc = cmd_check(ctx);
		poptFreeContext(ctx);
		return ns_cli_exit(rc);
	}
	if (strcmp(sub, "rebalance") == 0) {
		static char name[] = "numa-plan rebalance";

		argv[off - 1] = name;
		ctx = poptGetContext("numa-plan rebalance", argc - off + 1, (const char **)(void *)argv + off - 1,
				     rebalance_options, 0);
		poptSetOtherOptionHelp(ctx, "[--exclude-cpus LIST] [--cpu-overcommit RATIO] [--reserve SIZE|PCT] [-o FILE]");
		rc = cmd_rebalance(ctx);
		poptFreeContext(ctx);
		return ns_cli_exit(rc);
	}
	ns_usage("unknown command '%s' (show, steal, check, rebalance)", sub);
}
