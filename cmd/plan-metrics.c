/* SPDX-License-Identifier: GPL-2.0-or-later */
/* numa-plan metrics: what show and steal know, in Prometheus' text exposition format for
 * node_exporter's textfile collector: each node's headroom, free memory and high watermark,
 * each VM's memory per node, locality and vCPU wait, NUMA balancing, swap in use, and the last
 * run of each command that changes things. -o FILE replaces FILE atomically, so the collector
 * never reads half a file; a run that fails leaves the old file (its mtime shows its age). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numasafe/state.h"
#include "numasafe/steal.h"
#include "plan.h"

static struct {
	char *out, *sample;
} opt;

static struct poptOption options[] = {
	{"out", 'o', POPT_ARG_STRING, &opt.out, 0,
	 "write the metrics to FILE (replaced atomically), e.g. /var/lib/prometheus/node-exporter/numasafe.prom", "FILE"},
	{"sample", '\0', POPT_ARG_STRING, &opt.sample, 0,
	 "seconds over which vCPU wait is measured, 0.01-3600, or 0 not to measure it (default 5)", "SECONDS"},
	NSC_RESERVE_TABLE,
	NSC_ROOT_OPTION,
	NSC_VM_TABLE,
	NSC_COMMON_TABLE,
	POPT_TABLEEND,
};

/* The commands whose last run is recorded (nsc_last_run_record): a bounded label. */
static const char *const recorded[] = {"numa-migrate", "fast-swapoff", "vm-pin"};

struct metrics {
	struct ns_topo *t;
	const struct ns_amount *reserve;
	struct ns_swaps sw;
	struct ns_vm_list vms;
	struct nsc_vm_view *views;
	bool *labelled; /* per VM: reported under its name (a name of its own, not "pid N") */
	int unlabelled;
	struct ns_steal_host h;
	struct ns_steal_vm *sv; /* NULL when vCPU wait was not measured */
	struct ns_last_run runs[sizeof(recorded) / sizeof(recorded[0])];
	bool have_run[sizeof(recorded) / sizeof(recorded[0])];
};

/* ---- vCPU wait ---- */

/* vCPU run-queue wait of every named VM over window seconds: the library's measurement, the
 * one numa-plan steal and the planner use. 0, -EOPNOTSUPP (no schedstat), -ENOMEM, -errno. */
static int wait_measure(struct metrics *m, double window)
{
	int rc = ns_steal_vms_new(m->vms.v, m->vms.n, &m->sv);

	if (rc < 0) {
		m->sv = NULL;
		return rc;
	}
	m->h.numa_balancing = ns_topo_numa_balancing(m->t);
	return ns_steal_measure(nsc_plan_root, &m->h, m->sv, m->vms.n, window, NULL);
}

/* ---- the exposition format ---- */

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* value as valid UTF-8, each byte outside a valid sequence as U+FFFD (every byte can become
 * three): the form labels are written and compared in. malloc()ed; NULL when out of memory. */
static char *label_value(const char *value)
{
	size_t n = strlen(value) * 3 + 1;
	char *v = malloc(n);

	if (v)
		ns_utf8_fix(value, v, n);
	return v;
}

/* A label value: valid UTF-8 (a name with invalid bytes made the whole file invalid, and
 * node_exporter dropped every series in it), backslash, double quote and newline escaped, as
 * the format wants. */
static void label(FILE *f, const char *key, const char *raw, bool last)
{
	char *value = label_value(raw);

	fprintf(f, "%s=\"", key);
	for (const char *p = value ? value : ""; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', f);
		if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fputs(last ? "\"}" : "\",", f);
	free(value);
}

static void vm_labels(FILE *f, const char *name, const struct nsc_vm_view *v, bool last)
{
	fprintf(f, "%s{", name);
	label(f, "vm", v->vm->name, false);
	label(f, "domain", v->vm->is_domain ? "true" : "false", last);
}

static double clamp01(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

static void nodes_out(FILE *f, const struct metrics *m)
{
	static const struct {
		const char *name, *help;
	} fam[] = {
		{"numasafe_node_headroom_bytes",
		 "Memory that may still go to the node: free memory above its high watermark and the reserve, never "
		 "below 0 (numa-plan show's headroom)."},
		{"numasafe_node_free_bytes", "Free memory of the node (MemFree of its meminfo)."},
		{"numasafe_node_watermark_high_bytes", "High watermark of the node, summed over its zones (/proc/zoneinfo)."},
		{"numasafe_node_reserve_bytes", "Reserve kept on the node above its high watermark (--reserve)."},
		{"numasafe_node_memory_bytes", "Total memory of the node."},
	};
	int nr = ns_topo_nr_nodes(m->t);

	for (size_t k = 0; k < sizeof(fam) / sizeof(fam[0]); k++) {
		family(f, fam[k].name, "gauge", fam[k].help);
		for (int i = 0; i < nr; i++) {
			const struct ns_node *n = ns_topo_node(m->t, i);
			uint64_t res = ns_reserve_for(n, m->reserve);
			uint64_t v = k == 0   ? ns_node_headroom(n, res)
				     : k == 1 ? n->mem_free
				     : k == 2 ? n->wmark_high
				     : k == 3 ? res
					      : n->mem_total;

			fprintf(f, "%s{node=\"%d\"} %llu\n", fam[k].name, n->id, (unsigned long long)v);
		}
	}
}

static void host_out(FILE *f, const struct metrics *m)
{
	int nb = ns_topo_numa_balancing(m->t);

	/* a kernel without the sysctl has no NUMA balancing to report: no sample */
	family(f, "numasafe_numa_balancing_enabled", "gauge",
	       "1 when the kernel's automatic NUMA balancing is on (kernel.numa_balancing), which moves pages and "
	       "fights pinning.");
	if (nb >= 0)
		fprintf(f, "numasafe_numa_balancing_enabled %d\n", nb > 0);
	family(f, "numasafe_ignored_processes", "gauge",
	       "Processes that look like VMs (vCPU thread names, a QEMU name) but are not, by why: their owner is not "
	       "root or a VM user, or their executable is not root's alone.");
	fprintf(f, "numasafe_ignored_processes{reason=\"owner\"} %d\n", m->vms.ignored_owner);
	fprintf(f, "numasafe_ignored_processes{reason=\"executable\"} %d\n", m->vms.ignored_exe);
	family(f, "numasafe_swap_size_bytes", "gauge", "Size of each active swap area (/proc/swaps).");
	for (int i = 0; i < m->sw.nr; i++) {
		fputs("numasafe_swap_size_bytes{", f);
		label(f, "area", m->sw.area[i].path, true);
		fprintf(f, " %llu\n", (unsigned long long)m->sw.area[i].size);
	}
	family(f, "numasafe_swap_used_bytes", "gauge", "Bytes in use in each active swap area (/proc/swaps).");
	for (int i = 0; i < m->sw.nr; i++) {
		fputs("numasafe_swap_used_bytes{", f);
		label(f, "area", m->sw.area[i].path, true);
		fprintf(f, " %llu\n", (unsigned long long)m->sw.area[i].used);
	}
}

static void vms_out(FILE *f, const struct metrics *m)
{
	int nr = ns_topo_nr_nodes(m->t), n = m->vms.n, domains = 0;

	for (int j = 0; j < n; j++)
		domains += m->vms.v[j].is_domain != 0;
	family(f, "numasafe_vms", "gauge", "VMs found: QEMU processes, libvirt domains or not.");
	fprintf(f, "numasafe_vms{domain=\"true\"} %d\nnumasafe_vms{domain=\"false\"} %d\n", domains, n - domains);
	family(f, "numasafe_vms_unlabelled", "gauge",
	       "VMs left out of the per-VM metrics: a QEMU without -name, or a name another VM has too (labels are "
	       "VM names, never pids, which change with every restart).");
	fprintf(f, "numasafe_vms_unlabelled %d\n", m->unlabelled);
	family(f, "numasafe_vm_vcpus", "gauge", "vCPUs of the VM (QEMU with thread names only).");
	for (int j = 0; j < n; j++)
		if (m->labelled[j] && m->vms.v[j].named) {
			vm_labels(f, "numasafe_vm_vcpus", &m->views[j], true);
			fprintf(f, " %d\n", m->vms.v[j].nvcpus);
		}
	family(f, "numasafe_vm_memory_bytes", "gauge",
	       "The VM's own memory (anonymous, shmem, hugetlb) on each node.");
	for (int j = 0; j < n; j++)
		for (int i = 0; m->labelled[j] && m->views[j].u && i < nr; i++) {
			int id = ns_topo_node(m->t, i)->id;

			vm_labels(f, "numasafe_vm_memory_bytes", &m->views[j], false);
			fprintf(f, "node=\"%d\"} %llu\n", id,
				(unsigned long long)(id < NS_MAX_NODES ? m->views[j].loc.own[id] : 0));
		}
	family(f, "numasafe_vm_locality_ratio", "gauge",
	       "Share of the VM's own memory on its home node (numasafe(7): the node its vCPU threads are confined "
	       "to, else the node holding most of its memory).");
	for (int j = 0; j < n; j++)
		if (m->labelled[j] && m->views[j].u) {
			vm_labels(f, "numasafe_vm_locality_ratio", &m->views[j], true);
			fprintf(f, " %.6g\n", clamp01(m->views[j].loc.ratio));
		}
	family(f, "numasafe_vm_local", "gauge",
	       "1 when the VM is local: vCPU threads confined to its home node and at least 0.99 of its memory there.");
	for (int j = 0; j < n; j++)
		if (m->labelled[j] && m->views[j].u) {
			vm_labels(f, "numasafe_vm_local", &m->views[j], true);
			fprintf(f, " %d\n", m->views[j].loc.local ? 1 : 0);
		}
	family(f, "numasafe_vm_vcpu_wait_ratio", "gauge",
	       "Share of the sampling window the VM's vCPU threads spent runnable but waiting for a host CPU, averaged "
	       "over its vCPUs: the steal its guest sees (numa-plan steal).");
	for (int j = 0; m->sv && j < n; j++) {
		const struct ns_steal_vm *sv = &m->sv[j];
		int ok = 0;

		for (int i = 0; i < sv->nthreads; i++)
			ok += sv->th[i].ok;
		if (!m->labelled[j] || !ok)
			continue;
		vm_labels(f, "numasafe_vm_vcpu_wait_ratio", &m->views[j], true);
		fprintf(f, " %.6g\n", clamp01(sv->wait_pct / 100.0 / ok));
	}
	if (m->sv) {
		family(f, "numasafe_vcpu_wait_sample_seconds", "gauge", "Length of the window vCPU wait was measured over.");
		fprintf(f, "numasafe_vcpu_wait_sample_seconds %.3f\n", m->h.interval_s);
	}
}

static void runs_out(FILE *f, const struct metrics *m)
{
	const size_t nc = sizeof(recorded) / sizeof(recorded[0]);

	family(f, "numasafe_last_run_timestamp_seconds", "gauge",
	       "When the command's last run that changed things (not a dry run, not --show) ended, in seconds since "
	       "the epoch.");
	for (size_t k = 0; k < nc; k++)
		if (m->have_run[k])
			fprintf(f, "numasafe_last_run_timestamp_seconds{command=\"%s\"} %.3f\n", recorded[k], m->runs[k].time);
	family(f, "numasafe_last_run_exit_code", "gauge",
	       "Exit code of that run (numasafe(7): 0 done, 1 failed, 2 usage, 3 unsupported, 4 refused or rolled "
	       "back, 5 stopped partway); reason is numasafe(7)'s keyword, none when it succeeded.");
	for (size_t k = 0; k < nc; k++)
		if (m->have_run[k]) {
			fprintf(f, "numasafe_last_run_exit_code{command=\"%s\",", recorded[k]);
			label(f, "reason", m->runs[k].code ? m->runs[k].reason : "none", true);
			fprintf(f, " %d\n", m->runs[k].code);
		}
	family(f, "numasafe_last_run_duration_seconds", "gauge", "How long that run took.");
	for (size_t k = 0; k < nc; k++)
		if (m->have_run[k])
			fprintf(f, "numasafe_last_run_duration_seconds{command=\"%s\"} %.3f\n", recorded[k],
				m->runs[k].duration);
}

/* Per-VM labels must be unique and bounded: a QEMU without -name is "pid N" (a pid churns
 * with every restart), and two VMs with one name would make one series of two. Names are
 * compared as they are written: two names that differ only in invalid bytes are one label
 * (a duplicate series makes node_exporter drop the whole file). */
static int labels_choose(struct metrics *m)
{
	int n = m->vms.n, rc = 0;
	char **lv;

	m->labelled = calloc(n ? (size_t)n : 1, sizeof(*m->labelled));
	lv = calloc(n ? (size_t)n : 1, sizeof(*lv));
	if (!m->labelled || !lv) {
		rc = -ENOMEM;
		goto out;
	}
	for (int j = 0; j < n; j++) {
		lv[j] = label_value(m->vms.v[j].name);
		if (!lv[j]) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (int j = 0; j < n; j++) {
		const struct ns_vm *vm = &m->vms.v[j];
		bool ok = strncmp(vm->name, "pid ", 4) != 0 && vm->name[0];

		for (int k = 0; ok && k < n; k++)
			if (k != j && m->vms.v[k].is_domain == vm->is_domain && strcmp(lv[k], lv[j]) == 0)
				ok = false;
		m->labelled[j] = ok;
		m->unlabelled += !ok;
	}
out:
	for (int j = 0; lv && j < n; j++)
		free(lv[j]);
	free(lv);
	return rc;
}

static int render(struct metrics *m, char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);

	if (!f)
		return -errno;
	nodes_out(f, m);
	host_out(f, m);
	vms_out(f, m);
	runs_out(f, m);
	if (ferror(f)) {
		fclose(f);
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	return fclose(f) == 0 ? 0 : -ENOMEM;
}

static int run(struct nsc *c, poptContext ctx, struct json_object **doc)
{
	struct ns_amount reserve_buf;
	struct metrics m;
	const char **args;
	char *text = NULL;
	size_t len = 0;
	double sample = 5;
	int nargs, rc;

	(void)doc; /* one output format: the exposition text, no JSON document */
	memset(&m, 0, sizeof(m));
	while (nsc_next(c, ctx) >= 0)
		;
	args = nsc_args(ctx, &nargs);
	if (nargs > 0)
		nsc_usage(c, "metrics: unexpected argument '%s' (it reports every node and VM)", args[0]);
	if (c->json)
		nsc_usage(c, "metrics: --json: metrics are printed in Prometheus' text format only");
	if (opt.sample) {
		sample = nsc_opt_double(c, "--sample", opt.sample, 0, NSC_INTERVAL_MAX);
		if (sample > 0 && sample < NSC_INTERVAL_MIN)
			nsc_usage(c, "--sample: '%s' is not 0 or a number from %g to %g", opt.sample, NSC_INTERVAL_MIN,
				  NSC_INTERVAL_MAX);
	}
	if (opt.out && !opt.out[0])
		nsc_usage(c, "--out: an empty file name");
	rc = nsc_topo(c, nsc_plan_root, &m.t);
	if (rc != NS_EXIT_OK)
		return rc;
	m.reserve = nsc_reserve(c, m.t, &reserve_buf);
	rc = ns_swaps_read(nsc_plan_root, &m.sw);
	if (rc < 0) {
		rc = nsc_fail_errno(c, rc, NULL, "reading the swap areas");
		goto out;
	}
	rc = nsc_vm_setup(c);
	if (rc != NS_EXIT_OK)
		goto out;
	rc = ns_vm_list_read(nsc_plan_root, &m.vms);
	if (rc == 0)
		rc = nsc_vm_views_read(m.t, m.vms.v, m.vms.n, &m.views);
	if (rc == 0)
		rc = labels_choose(&m);
	if (rc < 0) {
		rc = nsc_fail_errno(c, rc, NULL, "listing VMs");
		goto out;
	}
	nsc_vm_list_report(c, &m.vms);
	nsc_vm_views_report(c, m.views, m.vms.n);
	/* a record that cannot be trusted stops the run, as any input that cannot be read does */
	for (size_t k = 0; k < sizeof(recorded) / sizeof(recorded[0]); k++) {
		rc = ns_last_run_read(nsc_plan_root, recorded[k], &m.runs[k]);
		m.have_run[k] = rc == 0;
		if (rc < 0 && rc != -ENOENT) {
			rc = nsc_fail_errno(c, rc, NSC_R_BAD_INPUT, "last run of %s", recorded[k]);
			goto out;
		}
	}
	if (sample > 0) {
		rc = wait_measure(&m, sample);
		if (rc == -EOPNOTSUPP) {
			nsc_warn(c, "vCPU wait not measured: this kernel has no /proc/PID/task/TID/schedstat "
				    "(CONFIG_SCHED_INFO)");
			ns_steal_vms_free(m.sv, m.vms.n);
			m.sv = NULL;
		} else if (rc < 0) {
			rc = nsc_fail_errno(c, rc, NULL, "measuring vCPU wait");
			goto out;
		}
	}
	if (m.unlabelled)
		nsc_info(c, "%d VM%s left out of the per-VM metrics (no -name, or a name shared with another VM)",
			 m.unlabelled, nsc_plural(m.unlabelled));
	rc = render(&m, &text, &len);
	if (rc < 0) {
		rc = nsc_fail_errno(c, rc, NULL, "metrics");
		goto out;
	}
	if (opt.out) {
		rc = ns_file_replace(opt.out, text, len, 0644);
		if (rc < 0) {
			rc = nsc_fail_errno(c, rc, rc == -EPERM ? NSC_R_BAD_INPUT : NSC_R_FAILED, "%s", opt.out);
			goto out;
		}
		nsc_info(c, "metrics written to %s", opt.out);
	} else if (!c->quiet)
		fwrite(text, 1, len, stdout);
	rc = NS_EXIT_OK;
out:
	free(text);
	ns_steal_vms_free(m.sv, m.vms.n);
	free(m.labelled);
	nsc_vm_views_free(m.views, m.vms.n);
	ns_vm_list_free(&m.vms);
	ns_topo_free(m.t);
	return rc;
}

const struct nsc_subcmd nsc_plan_metrics = {
	.name = "metrics",
	.summary = "the same facts as Prometheus metrics, for node_exporter's textfile collector",
	.usage = "[-o FILE] [--sample SECONDS] [--reserve SIZE|PCT]",
	.options = options,
	.run = run,
};
