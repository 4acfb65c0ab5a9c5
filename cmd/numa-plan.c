/* numa-plan: the operator's view of the host's NUMA memory (show), and later the verdicts and
 * whole-host plans built on it. The library computes; this file parses and prints. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static char *opt_root;
static char *opt_reserve;
static int opt_swap_types, opt_swap_probe;

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

	if (ns_cli.json) {
		struct json_object *o = host_json(t, reserve, &sw, psi_rc, &psi);

		json_object_object_add(o, "process", u ? proc_json(t, u) : NULL);
		ns_json_print(o);
		json_object_put(o);
	} else {
		print_host(t, reserve, &sw, psi_rc, &psi);
		if (u)
			print_proc(t, u);
	}
	rc = NS_EXIT_OK;
out:
	free(u);
	ns_topo_free(t);
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
					    "       numa-plan steal|check|rebalance ... (not implemented yet)");
		rc = cmd_show(ctx);
		poptFreeContext(ctx);
		return ns_cli_exit(rc);
	}
	if (strcmp(sub, "steal") == 0 || strcmp(sub, "check") == 0 || strcmp(sub, "rebalance") == 0) {
		/* their issue has not landed: say so rather than pretend, whatever the arguments */
		ns_err("%s: not implemented yet", sub);
		return ns_cli_exit(NS_EXIT_UNSUPPORTED);
	}
	ns_usage("unknown command '%s' (show, steal, check, rebalance)", sub);
}
