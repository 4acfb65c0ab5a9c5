/* SPDX-License-Identifier: GPL-2.0-or-later */
/* numa-plan show: the host's nodes (free memory, watermarks, reserve, headroom, huge pages,
 * distances), swap areas, memory pressure, every VM (vCPUs, thread nodes, memory per node,
 * locality), and one process's memory per node and kind. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numasafe/steal.h"
#include "plan.h"
#include "target.h"

static struct {
	int swap_types, swap_probe;
} opt;

static struct poptOption options[] = {
	NSC_RESERVE_TABLE,
	{"swap-types", '\0', POPT_ARG_NONE, &opt.swap_types, 0,
	 "establish each swap area's pagemap type (scans swapped processes; needs CAP_SYS_ADMIN)", NULL},
	{"swap-probe", '\0', POPT_ARG_NONE, &opt.swap_probe, 0,
	 "with --swap-types, settle ambiguous types by comparing a few swapped pages with the devices "
	 "(reads those pages back in)",
	 NULL},
	NSC_ROOT_OPTION,
	NSC_TARGET_TABLE,
	NSC_VM_TABLE,
	NSC_COMMON_TABLE,
	POPT_TABLEEND,
};

/* ---- VM views, shared with steal ---- */

void nsc_vm_views_free(struct nsc_vm_view *v, int n)
{
	for (int i = 0; v && i < n; i++)
		free(v[i].u);
	free(v);
}

void nsc_vm_views_report(const struct nsc *c, const struct nsc_vm_view *v, int n)
{
	if (nsc_plan_root)
		return; /* a fixture tree need not hold every file of its processes */
	for (int i = 0; i < n; i++)
		if (v[i].u_rc < 0) {
			char who[300];

			nsc_warn(c, "%s: reading its memory: %s", nsc_vmid_text(&v[i].id, who, sizeof(who)),
				 strerror(-v[i].u_rc));
		}
}

int nsc_vm_views_read(const struct ns_topo *t, struct ns_vm *vms, int n, struct nsc_vm_view **out)
{
	struct nsc_vm_view *v = calloc(n ? (size_t)n : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		v[i].vm = &vms[i];
		nsc_vmid_from_vm(&v[i].id, &vms[i]);
		if (ns_vm_cpu_nodes(nsc_plan_root, &vms[i], t, &v[i].cpu_nodes) < 0)
			ns_set_clear(&v[i].cpu_nodes);
		v[i].u_rc = ns_proc_usage_read(nsc_plan_root, vms[i].pid, &v[i].u);
		if (v[i].u_rc < 0)
			v[i].u = NULL;
		ns_locality_compute(t, &v[i].cpu_nodes, v[i].u, &v[i].loc);
	}
	*out = v;
	return 0;
}

/* ---- text ---- */

static const char *mib(uint64_t b, char *buf, size_t len)
{
	snprintf(buf, len, "%.2f", (double)b / (1024.0 * 1024.0));
	return buf;
}

static void hpools_text(const struct ns_node *n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < n->nr_hpools; i++) {
		char sz[32];
		int k = snprintf(buf + off, len - off, "%s%s:%llu/%llu", i ? " " : "",
				 nsc_size(n->hpools[i].page_size, sz), (unsigned long long)n->hpools[i].free,
				 (unsigned long long)n->hpools[i].total);

		if (k < 0 || (size_t)k >= len - off)
			break;
		off += (size_t)k;
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

struct show {
	struct ns_topo *t;
	const struct ns_amount *reserve;
	struct ns_swaps sw;
	int psi_rc;
	struct ns_psi psi;
	struct ns_vm_list vms;
	struct nsc_vm_view *views;
	struct ns_proc_usage *u; /* show PID */
};

static void host_text(const struct show *s)
{
	const struct ns_hostmem *hm = ns_topo_hostmem(s->t);
	int nr = ns_topo_nr_nodes(s->t), nb = ns_topo_numa_balancing(s->t);
	char a[32], b[32], c[32], d[32], e[32], f[32], g[32], h[128], cpus[256];

	printf("host: %d node%s, memory %s total, %s available, swap %s free of %s\n", nr, nsc_plural(nr),
	       nsc_size(hm->mem_total, a), nsc_size(hm->mem_available, b), nsc_size(hm->swap_free, c),
	       nsc_size(hm->swap_total, d));
	printf("automatic NUMA balancing: %s\n", nb < 0    ? "not in this kernel"
						 : nb == 0 ? "off"
							   : "ON (it moves pages and fights pinning)");
	if (s->psi_rc == 0)
		printf("memory pressure (PSI avg10/60/300 %%): some %.2f %.2f %.2f, full %.2f %.2f %.2f\n",
		       s->psi.some.avg10, s->psi.some.avg60, s->psi.some.avg300, s->psi.full.avg10, s->psi.full.avg60,
		       s->psi.full.avg300);
	else
		printf("memory pressure (PSI): not available (%s)\n",
		       s->psi_rc == -EOPNOTSUPP ? "disabled, psi=0" : "kernel without CONFIG_PSI");
	printf("\n%-4s  %-10s  %8s  %8s  %8s  %8s  %8s  %8s  %8s  %s\n", "node", "cpus", "total", "free", "min", "low",
	       "high", "reserve", "headroom", "hugepages(free/total)");
	for (int i = 0; i < nr; i++) {
		const struct ns_node *n = ns_topo_node(s->t, i);
		uint64_t res = ns_reserve_for(n, s->reserve);

		ns_set_format(&n->cpus, cpus, sizeof(cpus));
		hpools_text(n, h, sizeof(h));
		printf("%-4d  %-10s  %8s  %8s  %8s  %8s  %8s  %8s  %8s  %s\n", n->id, cpus[0] ? cpus : "-",
		       nsc_size(n->mem_total, a), nsc_size(n->mem_free, b), nsc_size(n->wmark_min, c),
		       nsc_size(n->wmark_low, d), nsc_size(n->wmark_high, e), nsc_size(res, f),
		       nsc_size(ns_node_headroom(n, res), g), h);
	}
	if (nr > 1) {
		printf("\ndistances:\n%-4s", "node");
		for (int j = 0; j < nr; j++)
			printf(" %4d", ns_topo_node(s->t, j)->id);
		putchar('\n');
		for (int i = 0; i < nr; i++) {
			printf("%-4d", ns_topo_node(s->t, i)->id);
			for (int j = 0; j < nr; j++)
				printf(" %4d",
				       ns_topo_distance(s->t, ns_topo_node(s->t, i)->id, ns_topo_node(s->t, j)->id));
			putchar('\n');
		}
	}
	printf("\nswap areas:");
	if (s->sw.nr == 0)
		printf(" none\n");
	else {
		printf("\n%-24s  %-9s  %8s  %8s  %5s  %s\n", "device", "kind", "size", "used", "prio", "type");
		for (int i = 0; i < s->sw.nr; i++) {
			const struct ns_swap_area *w = &s->sw.area[i];
			char ty[16], sp[sizeof(w->path)];

			if (w->type >= 0)
				snprintf(ty, sizeof(ty), "%d", w->type);
			else
				snprintf(ty, sizeof(ty), "%s", opt.swap_types ? "?" : "-");
			printf("%-24s  %-9s  %8s  %8s  %5d  %s\n", nsc_safe(w->path, sp, sizeof(sp)), w->kind,
			       nsc_size(w->size, a),
			       nsc_size(w->used, b), w->priority, ty);
		}
	}
}

static void vms_text(const struct show *s)
{
	int nr = ns_topo_nr_nodes(s->t), n = s->vms.n;
	char buf[32], nodes[256], vc[16], loc[16], who[300];

	if (n == 0) {
		printf("\nVMs: none\n");
		return;
	}
	printf("\nVMs: %d (own memory in MiB: anonymous, shmem, hugetlb)\n%-20s  %-6s  %7s  %5s  %-9s", n, "name",
	       "kind", "pid", "vcpus", "cpu nodes");
	for (int i = 0; i < nr; i++) {
		char hdr[16];

		snprintf(hdr, sizeof(hdr), "node %d", ns_topo_node(s->t, i)->id);
		printf("  %10s", hdr);
	}
	printf("  %10s  %10s  %8s\n", "total", "swap", "locality");
	for (int j = 0; j < n; j++) {
		const struct nsc_vm_view *v = &s->views[j];
		char sname[sizeof(v->vm->name)];

		ns_set_format(&v->cpu_nodes, nodes, sizeof(nodes));
		if (v->vm->named)
			snprintf(vc, sizeof(vc), "%d", v->vm->nvcpus);
		else
			snprintf(vc, sizeof(vc), "?");
		printf("%-20s  %-6s  %7d  %5s  %-9s", nsc_safe(v->vm->name, sname, sizeof(sname)),
		       v->vm->is_domain ? "domain" : "qemu",
		       (int)v->vm->pid, vc, nodes[0] ? nodes : "-");
		for (int i = 0; i < nr; i++)
			printf("  %10s", v->u ? mib(v->loc.own[ns_topo_node(s->t, i)->id], buf, sizeof(buf)) : "-");
		if (v->u)
			snprintf(loc, sizeof(loc), "%.1f%%%s", v->loc.ratio * 100, v->loc.local ? "" : "*");
		else
			snprintf(loc, sizeof(loc), "-");
		printf("  %10s", v->u ? mib(v->loc.own_bytes, buf, sizeof(buf)) : "-");
		printf("  %10s  %8s\n", v->u ? mib(v->u->swap_bytes, buf, sizeof(buf)) : "-", loc);
	}
	printf("locality: share of the VM's own memory on its home node (where its vCPU threads are confined, else "
	       "where most of its memory is); * not local\n");
	for (int j = 0; j < n; j++) {
		const struct nsc_vm_view *v = &s->views[j];

		nsc_vmid_text(&v->id, who, sizeof(who));
		if (!v->vm->named)
			printf("  %s: %s\n", who, NSC_NO_THREAD_NAMES);
		if (!v->u)
			printf("  %s: memory not readable: %s\n", who, strerror(-v->u_rc));
	}
}

static void proc_text(const struct show *s)
{
	static const enum ns_kind kinds[] = {NS_KIND_ANON, NS_KIND_FILE, NS_KIND_SHMEM, NS_KIND_HUGETLB};
	const struct ns_proc_usage *u = s->u;
	int nr = ns_topo_nr_nodes(s->t);
	char buf[32], buf2[32], ma[256], ca[256], sc[sizeof(u->comm) * 4];
	uint64_t all = 0;

	printf("\nprocess %d (%s): memory per node in MiB\n%-8s", (int)u->pid, nsc_safe(u->comm, sc, sizeof(sc)), "kind");
	for (int i = 0; i < nr; i++) {
		char hdr[16];

		snprintf(hdr, sizeof(hdr), "node %d", ns_topo_node(s->t, i)->id);
		printf(" %10s", hdr);
	}
	printf(" %10s\n", "total");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		printf("%-8s", ns_kind_name(kinds[k]));
		for (int i = 0; i < nr; i++) {
			int id = ns_topo_node(s->t, i)->id;

			printf(" %10s", mib(id < NS_MAX_NODES ? u->bytes[kinds[k]][id] : 0, buf, sizeof(buf)));
		}
		printf(" %10s\n", mib(u->total[kinds[k]], buf, sizeof(buf)));
		all += u->total[kinds[k]];
	}
	printf("%-8s", "total");
	for (int i = 0; i < nr; i++)
		printf(" %10s", mib(u->node_total[ns_topo_node(s->t, i)->id], buf, sizeof(buf)));
	printf(" %10s\n", mib(all, buf, sizeof(buf)));
	ns_set_format(&u->mems_allowed, ma, sizeof(ma));
	ns_set_format(&u->cpus_allowed, ca, sizeof(ca));
	printf("THP (of anon, all nodes) %s MiB; swapped out %s MiB\n", mib(u->thp_bytes, buf, sizeof(buf)),
	       mib(u->swap_bytes, buf2, sizeof(buf2)));
	printf("mems allowed %s; cpus allowed %s\n", ma, ca);
}

/* ---- JSON ---- */

static struct json_object *psi_json(const struct ns_psi_line *l)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "avg10", nsc_json_round(l->avg10, 2));
	json_object_object_add(o, "avg60", nsc_json_round(l->avg60, 2));
	json_object_object_add(o, "avg300", nsc_json_round(l->avg300, 2));
	json_object_object_add(o, "total_s", nsc_json_seconds((double)l->total / 1e6));
	return o;
}

static struct json_object *vms_json(const struct show *s)
{
	struct json_object *a = json_object_new_array();

	for (int j = 0; j < s->vms.n; j++) {
		const struct nsc_vm_view *v = &s->views[j];
		struct json_object *o = nsc_vmid_json(&v->id);

		json_object_object_add(o, "named", json_object_new_boolean(v->vm->named));
		json_object_object_add(o, "vcpus", v->vm->named ? json_object_new_int(v->vm->nvcpus) : NULL);
		json_object_object_add(o, "threads", json_object_new_int(v->vm->nthreads));
		json_object_object_add(o, "cpu_nodes", nsc_json_set(&v->cpu_nodes));
		json_object_object_add(o, "memory", v->u ? nsc_json_memory(s->t, v->loc.own) : NULL);
		json_object_object_add(o, "memory_total", v->u ? nsc_json_u64(v->loc.own_bytes) : NULL);
		json_object_object_add(o, "swap_bytes", v->u ? nsc_json_u64(v->u->swap_bytes) : NULL);
		json_object_object_add(o, "home_node",
				       v->loc.home_node >= 0 ? json_object_new_int(v->loc.home_node) : NULL);
		json_object_object_add(o, "locality_ratio", v->u ? nsc_json_round(v->loc.ratio, 3) : NULL);
		json_object_object_add(o, "local", v->u ? json_object_new_boolean(v->loc.local) : NULL);
		json_object_object_add(o, "note",
				       !v->vm->named ? json_object_new_string(NSC_NO_THREAD_NAMES)
				       : !v->u       ? json_object_new_string(strerror(-v->u_rc))
						     : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *proc_json(const struct show *s)
{
	const struct ns_proc_usage *u = s->u;
	struct json_object *o = json_object_new_object(), *nodes = json_object_new_array();
	struct json_object *tot = json_object_new_object();

	json_object_object_add(o, "pid", json_object_new_int(u->pid));
	json_object_object_add(o, "comm", json_object_new_string(u->comm));
	json_object_object_add(o, "mems_allowed", nsc_json_set(&u->mems_allowed));
	json_object_object_add(o, "cpus_allowed", nsc_json_set(&u->cpus_allowed));
	for (int i = 0; i < ns_topo_nr_nodes(s->t); i++) {
		int id = ns_topo_node(s->t, i)->id;
		struct json_object *n = json_object_new_object();

		json_object_object_add(n, "node", json_object_new_int(id));
		for (int k = 0; k < NS_KIND_COUNT; k++)
			if (k != NS_KIND_THP)
				json_object_object_add(n, ns_kind_name(k), nsc_json_u64(u->bytes[k][id]));
		json_object_object_add(n, "total", nsc_json_u64(u->node_total[id]));
		json_object_array_add(nodes, n);
	}
	json_object_object_add(o, "memory", nodes);
	for (int k = 0; k < NS_KIND_COUNT; k++)
		if (k != NS_KIND_THP)
			json_object_object_add(tot, ns_kind_name(k), nsc_json_u64(u->total[k]));
	json_object_object_add(o, "total", tot);
	json_object_object_add(o, "thp_bytes", nsc_json_u64(u->thp_bytes));
	json_object_object_add(o, "swap_bytes", nsc_json_u64(u->swap_bytes));
	return o;
}

static struct json_object *show_json(const struct show *s)
{
	const struct ns_hostmem *hm = ns_topo_hostmem(s->t);
	struct json_object *root = nsc_doc(NSC_KIND_SHOW), *host = json_object_new_object();
	struct json_object *nodes = json_object_new_array(), *swaps = json_object_new_array();
	int nr = ns_topo_nr_nodes(s->t), nb = ns_topo_numa_balancing(s->t);

	json_object_object_add(host, "mem_total", nsc_json_u64(hm->mem_total));
	json_object_object_add(host, "mem_free", nsc_json_u64(hm->mem_free));
	json_object_object_add(host, "mem_available", nsc_json_u64(hm->mem_available));
	json_object_object_add(host, "swap_total", nsc_json_u64(hm->swap_total));
	json_object_object_add(host, "swap_free", nsc_json_u64(hm->swap_free));
	json_object_object_add(host, "numa_balancing", nb < 0 ? NULL : json_object_new_int(nb));
	json_object_object_add(root, "host", host);
	if (s->psi_rc == 0) {
		struct json_object *p = json_object_new_object();

		json_object_object_add(p, "some", psi_json(&s->psi.some));
		json_object_object_add(p, "full", psi_json(&s->psi.full));
		json_object_object_add(root, "psi", p);
	} else
		json_object_object_add(root, "psi", NULL);
	for (int i = 0; i < nr; i++) {
		const struct ns_node *n = ns_topo_node(s->t, i);
		struct json_object *o = json_object_new_object(), *hp = json_object_new_array();
		struct json_object *dist = json_object_new_array();
		uint64_t res = ns_reserve_for(n, s->reserve);

		json_object_object_add(o, "node", json_object_new_int(n->id));
		json_object_object_add(o, "cpus", nsc_json_set(&n->cpus));
		json_object_object_add(o, "mem_total", nsc_json_u64(n->mem_total));
		json_object_object_add(o, "mem_free", nsc_json_u64(n->mem_free));
		json_object_object_add(o, "file_pages", nsc_json_u64(n->file_pages));
		json_object_object_add(o, "inactive_file", nsc_json_u64(n->inactive_file));
		json_object_object_add(o, "sreclaimable", nsc_json_u64(n->sreclaimable));
		json_object_object_add(o, "wmark_min", nsc_json_u64(n->wmark_min));
		json_object_object_add(o, "wmark_low", nsc_json_u64(n->wmark_low));
		json_object_object_add(o, "wmark_high", nsc_json_u64(n->wmark_high));
		json_object_object_add(o, "reserve", nsc_json_u64(res));
		json_object_object_add(o, "headroom", nsc_json_u64(ns_node_headroom(n, res)));
		for (unsigned k = 0; k < n->nr_hpools; k++) {
			struct json_object *h = json_object_new_object();

			json_object_object_add(h, "page_size", nsc_json_u64(n->hpools[k].page_size));
			json_object_object_add(h, "total", nsc_json_u64(n->hpools[k].total));
			json_object_object_add(h, "free", nsc_json_u64(n->hpools[k].free));
			json_object_object_add(h, "surplus", nsc_json_u64(n->hpools[k].surplus));
			json_object_array_add(hp, h);
		}
		json_object_object_add(o, "hugepages", hp);
		for (int j = 0; j < nr; j++) {
			struct json_object *d = json_object_new_object();
			int to = ns_topo_node(s->t, j)->id, dv = ns_topo_distance(s->t, n->id, to);

			json_object_object_add(d, "node", json_object_new_int(to));
			json_object_object_add(d, "distance", dv >= 0 ? json_object_new_int(dv) : NULL);
			json_object_array_add(dist, d);
		}
		json_object_object_add(o, "distances", dist);
		json_object_array_add(nodes, o);
	}
	json_object_object_add(root, "nodes", nodes);
	for (int i = 0; i < s->sw.nr; i++) {
		const struct ns_swap_area *w = &s->sw.area[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "path", json_object_new_string(w->path));
		json_object_object_add(o, "kind", json_object_new_string(w->kind));
		json_object_object_add(o, "size", nsc_json_u64(w->size));
		json_object_object_add(o, "used", nsc_json_u64(w->used));
		json_object_object_add(o, "priority", json_object_new_int(w->priority));
		json_object_object_add(o, "type", w->type >= 0 ? json_object_new_int(w->type) : NULL);
		json_object_object_add(o, "type_how", w->type_how ? json_object_new_string(w->type_how) : NULL);
		json_object_array_add(swaps, o);
	}
	json_object_object_add(root, "swap", swaps);
	json_object_object_add(root, "vms", vms_json(s));
	json_object_object_add(root, "process", s->u ? proc_json(s) : NULL);
	json_object_object_add(root, "ignored", nsc_vm_ignored_json(s->vms.ignored_owner, s->vms.ignored_exe));
	json_object_object_add(root, "failed", nsc_vm_failed_json(&s->vms));
	return root;
}

/* ---- the subcommand ---- */

static void swap_types(struct nsc *c, struct show *s)
{
	struct ns_swap_evidence *ev = calloc(1, sizeof(*ev));
	int rc = ev ? ns_swap_gather(nsc_plan_root, ev) : -ENOMEM;

	if (rc == 0)
		rc = ns_swap_assign(&s->sw, ev);
	if (rc == 0 && opt.swap_probe)
		rc = ns_swap_probe_content(nsc_plan_root, &s->sw, ev);
	free(ev);
	if (rc == -EPERM)
		nsc_warn(c, "--swap-types: the kernel hides swap types without %s", ns_cap_name(CAP_SYS_ADMIN));
	else if (rc < 0)
		nsc_warn(c, "--swap-types: %s", strerror(-rc));
}

static int run(struct nsc *c, poptContext ctx, struct json_object **doc)
{
	struct show s;
	struct ns_amount reserve_buf;
	struct nsc_target tg;
	const char **args;
	int nargs, rc;
	bool have_pid;

	memset(&s, 0, sizeof(s));
	memset(&tg, 0, sizeof(tg));
	while (nsc_next(c, ctx) >= 0)
		;
	args = nsc_args(ctx, &nargs);
	if (nargs > 1)
		nsc_usage(c, "show: too many arguments ('%s')", args[1]);
	if (opt.swap_probe)
		opt.swap_types = 1;
	rc = nsc_topo(c, nsc_plan_root, &s.t);
	if (rc != NS_EXIT_OK)
		return rc;
	s.reserve = nsc_reserve(c, s.t, &reserve_buf);
	if (nsc_plan_root && c->domain)
		nsc_usage(c, "--root: a fixture tree has no libvirt (give a PID)");
	if (nsc_plan_root) {
		/* a fixture's process is not this host's: take the PID as it is */
		have_pid = nargs > 0;
		if (have_pid)
			tg.id.pid = nsc_opt_pid(c, "pid", args[0]);
	} else {
		rc = nsc_target(c, nargs ? args[0] : NULL, NSC_TG_OPTIONAL | NSC_TG_ANY_PROCESS | NSC_TG_LOCAL, &tg);
		if (rc > 0)
			goto out;
		have_pid = rc == NS_EXIT_OK;
	}
	if (have_pid) {
		rc = ns_proc_usage_read(nsc_plan_root, tg.id.pid, &s.u);
		if (rc < 0) {
			s.u = NULL;
			rc = nsc_fail_errno(c, rc, NULL, "pid %d", (int)tg.id.pid);
			goto out;
		}
	}
	rc = ns_swaps_read(nsc_plan_root, &s.sw);
	if (rc < 0) {
		rc = nsc_fail_errno(c, rc, NULL, "reading the swap areas");
		goto out;
	}
	if (opt.swap_types && s.sw.nr)
		swap_types(c, &s);
	s.psi_rc = ns_psi_read(nsc_plan_root, &s.psi);
	if (s.psi_rc < 0 && s.psi_rc != -ENOENT && s.psi_rc != -EOPNOTSUPP) {
		rc = nsc_fail_errno(c, s.psi_rc, NULL, "reading memory pressure");
		goto out;
	}
	rc = nsc_vm_setup(c);
	if (rc != NS_EXIT_OK)
		goto out;
	rc = ns_vm_list_read(nsc_plan_root, &s.vms);
	if (rc == 0)
		rc = nsc_vm_views_read(s.t, s.vms.v, s.vms.n, &s.views);
	if (rc < 0) {
		rc = nsc_fail_errno(c, rc, NULL, "listing VMs");
		goto out;
	}
	nsc_vm_list_report(c, &s.vms);
	nsc_vm_views_report(c, s.views, s.vms.n);
	rc = NS_EXIT_OK;
	*doc = show_json(&s);
	if (nsc_text(c)) {
		host_text(&s);
		vms_text(&s);
		if (s.u)
			proc_text(&s);
	}
out:
	nsc_vm_views_free(s.views, s.vms.n);
	ns_vm_list_free(&s.vms);
	free(s.u);
	nsc_target_release(&tg);
	ns_topo_free(s.t);
	return rc;
}

const struct nsc_subcmd nsc_plan_show = {
	.name = "show",
	.summary = "the host's nodes, headroom, swap, pressure and every VM's memory and locality",
	.usage = "[OPTIONS] [PID | --domain NAME]",
	.options = options,
	.run = run,
};
