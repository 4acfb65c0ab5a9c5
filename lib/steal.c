/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Steal seen from the host: per-thread scheduler counters, the host's CPU counters, thread
 * affinity, cgroup CPU weights, the measurement over a window (two snapshots), and the
 * arithmetic that turns them into rates, CPU demand and a verdict (busy, idle or no steal)
 * with the causes the host can see. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "numasafe/numasafe.h"
#include "numasafe/steal.h"
#include "util.h"

int ns_schedstat_parse(const char *text, struct ns_schedstat *s)
{
	unsigned long long r, w, n;

	if (sscanf(text, "%llu %llu %llu", &r, &w, &n) != 3)
		return -EINVAL;
	s->run_ns = r;
	s->wait_ns = w;
	s->slices = n;
	return 0;
}

int ns_schedstat_read(const char *root, pid_t pid, pid_t tid, struct ns_schedstat *s)
{
	char path[4096], buf[256];
	ssize_t n;
	int rc = ns_path(path, sizeof(path), root, "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);

	if (rc < 0)
		return rc;
	n = ns_read_file(path, buf, sizeof(buf));
	if (n == -ENOENT) {
		/* the thread is gone, or the kernel was built without CONFIG_SCHED_INFO */
		rc = ns_path(path, sizeof(path), root, "/proc/%d/task/%d", (int)pid, (int)tid);
		if (rc < 0)
			return rc;
		return access(path, F_OK) == 0 ? -EOPNOTSUPP : -ESRCH;
	}
	if (n < 0)
		return (int)n;
	return ns_schedstat_parse(buf, s);
}

int ns_cpustat_parse(const char *text, struct ns_cpustat *c)
{
	const char *line = text;
	int have_cpu = 0;

	memset(c, 0, sizeof(*c));
	while (line && *line) {
		unsigned long long v[10] = {0};
		unsigned u;

		if (strncmp(line, "cpu ", 4) == 0) {
			int n = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
				       &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);

			if (n < 4)
				return -EINVAL;
			/* guest and guest_nice (8, 9) are already counted in user and nice */
			for (int i = 0; i < n && i < 8; i++)
				c->total += v[i];
			c->idle = v[3] + v[4];
			have_cpu = 1;
		} else if (strncmp(line, "cpu", 3) == 0 && line[3] >= '0' && line[3] <= '9')
			c->ncpus++;
		else if (sscanf(line, "procs_running %u", &u) == 1)
			c->procs_running = u;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return have_cpu && c->ncpus ? 0 : -EINVAL;
}

int ns_cpustat_read(const char *root, struct ns_cpustat *c)
{
	char path[4096], *buf;
	size_t cap = 1 << 20; /* /proc/stat grows with CPUs and interrupts */
	ssize_t n;
	int rc = ns_path(path, sizeof(path), root, "/proc/stat");

	if (rc < 0)
		return rc;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	n = ns_read_file(path, buf, cap);
	rc = n < 0 ? (int)n : ns_cpustat_parse(buf, c);
	free(buf);
	if (rc < 0)
		return ns_detail(rc, "%s: %s", path, n < 0 ? strerror(-rc) : "no aggregate \"cpu\" line the parser accepts");
	return rc;
}

int ns_thread_cpus_read(const char *root, pid_t pid, pid_t tid, struct ns_set *cpus)
{
	char path[4096], line[8192];
	int rc = ns_path(path, sizeof(path), root, "/proc/%d/task/%d/status", (int)pid, (int)tid);
	FILE *f;

	if (rc < 0)
		return rc;
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	rc = -ENODATA;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Cpus_allowed_list:", 18) == 0) {
			rc = ns_set_parse(line + 18 + strspn(line + 18, " \t"), NS_SET_MAX, cpus);
			break;
		}
	fclose(f);
	return rc;
}

int ns_vm_cpu_nodes(const char *root, const struct ns_vm *vm, const struct ns_topo *t, struct ns_set *nodes)
{
	struct ns_set all;
	int seen = 0, rc = 0;

	ns_set_clear(&all);
	ns_set_clear(nodes);
	for (int i = 0; i < vm->nthreads; i++) {
		struct ns_set cpus;

		if (vm->named && vm->threads[i].kind != NS_THREAD_VCPU)
			continue;
		rc = ns_thread_cpus_read(root, vm->pid, vm->threads[i].tid, &cpus);
		if (rc == -ESRCH)
			continue; /* the thread ended meanwhile */
		if (rc < 0)
			return rc;
		seen++;
		ns_set_or(&all, &cpus);
	}
	ns_topo_cpus_nodes(t, &all, nodes);
	return seen ? 0 : -ESRCH;
}

/* Drop libvirt's per-thread levels: the weight that competes with other VMs is the one of
 * the domain's own cgroup (machine-qemu...scope), not of its vcpuN/emulator children. */
static void strip_thread_levels(char *path)
{
	for (;;) {
		char *slash = strrchr(path, '/');
		const char *last;
		unsigned idx;
		char tail;

		if (!slash || slash == path)
			return;
		last = slash + 1;
		if (strcmp(last, "emulator") == 0 || strcmp(last, "libvirt") == 0 ||
		    sscanf(last, "vcpu%u%c", &idx, &tail) == 1 || sscanf(last, "iothread%u%c", &idx, &tail) == 1)
			*slash = '\0';
		else
			return;
	}
}

int ns_cgroup_cpu_weight(const char *root, pid_t pid, pid_t tid, struct ns_cgroup_weight *w)
{
	static const char *const v1_mounts[] = {"cpu,cpuacct", "cpu", "cpuacct,cpu"};
	char path[4096], buf[8192];
	ssize_t n;
	uint64_t v;
	int rc;

	memset(w, 0, sizeof(*w));
	if (tid)
		rc = ns_path(path, sizeof(path), root, "/proc/%d/task/%d/cgroup", (int)pid, (int)tid);
	else
		rc = ns_path(path, sizeof(path), root, "/proc/%d/cgroup", (int)pid);
	if (rc < 0)
		return rc;
	n = ns_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	rc = ns_cgroup_path(buf, "cpu", w->path, sizeof(w->path), &w->version);
	if (rc < 0)
		return rc;
	strip_thread_levels(w->path);
	if (w->version == 2) {
		/* the root cgroup has no cpu.weight: everything there shares one weight */
		rc = ns_path(path, sizeof(path), root, "/sys/fs/cgroup%s/cpu.weight",
			     strcmp(w->path, "/") == 0 ? "" : w->path);
		if (rc < 0)
			return rc;
		rc = ns_read_u64(path, &v);
		if (rc == -ENOENT && strcmp(w->path, "/") == 0) {
			v = 100;
			rc = 0;
		} else if (rc == 0)
			snprintf(w->file, sizeof(w->file), "%s", path);
		if (rc < 0)
			return rc;
		w->weight = v;
		return 0;
	}
	rc = -ENOENT;
	for (size_t i = 0; i < NS_ARRAY_SIZE(v1_mounts) && rc == -ENOENT; i++) {
		if (ns_path(path, sizeof(path), root, "/sys/fs/cgroup/%s%s/cpu.shares", v1_mounts[i],
			    strcmp(w->path, "/") == 0 ? "" : w->path) < 0)
			continue;
		rc = ns_read_u64(path, &v);
	}
	if (rc < 0)
		return rc;
	snprintf(w->file, sizeof(w->file), "%s", path);
	w->weight = v;
	return 0;
}

const char *ns_steal_class_name(enum ns_steal_class c)
{
	switch (c) {
	case NS_STEAL_IDLE:
		return "idle";
	case NS_STEAL_BUSY:
		return "busy";
	case NS_STEAL_NONE:
		break;
	}
	return "none";
}

static double pct(uint64_t a, uint64_t b, double interval_ns)
{
	return b > a ? (double)(b - a) * 100.0 / interval_ns : 0.0;
}

/* Weight per vCPU of VM v's cgroup, counting every VM in that cgroup; -1 when unknown. */
static double group_ratio(const struct ns_steal_vm *vms, int nvm, int v)
{
	int64_t vcpus = 0; /* a sum of counts: 64 bits, as every vCPU sum */

	if (vms[v].weight <= 0 || vms[v].nvcpus <= 0 || !vms[v].cgroup)
		return -1;
	for (int u = 0; u < nvm; u++)
		if (vms[u].cgroup && vms[u].nvcpus > 0 && strcmp(vms[u].cgroup, vms[v].cgroup) == 0)
			vcpus += vms[u].nvcpus;
	return (double)vms[v].weight / (double)vcpus;
}

int ns_steal_compute(struct ns_steal_host *h, struct ns_steal_vm *vms, int nvm)
{
	double ins, min_w = 0, max_w = 0;
	uint64_t dt, di;
	int nw = 0;

	if (!(h->interval_s > 0))
		return -EINVAL;
	ins = h->interval_s * 1e9;
	h->ncpus = h->b.ncpus ? h->b.ncpus : h->a.ncpus;
	dt = h->b.total > h->a.total ? h->b.total - h->a.total : 0;
	di = h->b.idle > h->a.idle ? h->b.idle - h->a.idle : 0;
	h->idle_pct = dt ? (double)(di > dt ? dt : di) * 100.0 / (double)dt : 0.0;
	h->spare_cpus = h->idle_pct / 100.0 * h->ncpus;
	h->vcpu_demand = 0;
	h->max_wait_pct = 0;
	h->nr_spanning = h->nr_weight_off = 0;

	for (int v = 0; v < nvm; v++) {
		struct ns_steal_vm *vm = &vms[v];

		vm->cpu_pct = vm->wait_pct = vm->max_wait_pct = vm->demand = 0;
		vm->nr_gone = 0;
		for (int i = 0; i < vm->nthreads; i++) {
			struct ns_steal_thread *t = &vm->th[i];

			t->cpu_pct = t->wait_pct = t->demand = 0;
			t->slices = 0;
			if (!t->ok) {
				vm->nr_gone++;
				continue;
			}
			t->cpu_pct = pct(t->a.run_ns, t->b.run_ns, ins);
			t->wait_pct = pct(t->a.wait_ns, t->b.wait_ns, ins);
			t->demand = (t->cpu_pct + t->wait_pct) / 100.0;
			vm->demand += t->demand;
			t->slices = t->b.slices > t->a.slices ? t->b.slices - t->a.slices : 0;
			vm->cpu_pct += t->cpu_pct;
			vm->wait_pct += t->wait_pct;
			if (t->wait_pct > vm->max_wait_pct)
				vm->max_wait_pct = t->wait_pct;
		}
		vm->gone = vm->nthreads > 0 && vm->nr_gone == vm->nthreads;
		h->vcpu_demand += vm->demand;
		if (vm->max_wait_pct > h->max_wait_pct)
			h->max_wait_pct = vm->max_wait_pct;
		vm->spans_nodes = ns_set_count(&vm->cpu_nodes) > 1 || ns_set_count(&vm->mem_nodes) > 1;
		if (vm->spans_nodes)
			h->nr_spanning++;
		vm->weight_off = false;
	}

	/* weights: compare weight per vCPU across cgroups. VMs in one cgroup share its weight, so
	 * their vCPUs are counted together against it */
	for (int v = 0; v < nvm; v++) {
		double r = group_ratio(vms, nvm, v);
		bool first = true;

		if (r < 0)
			continue;
		for (int u = 0; u < v && first; u++)
			first = !(vms[u].cgroup && strcmp(vms[u].cgroup, vms[v].cgroup) == 0);
		if (!first)
			continue;
		if (!nw || r < min_w)
			min_w = r;
		if (!nw || r > max_w)
			max_w = r;
		nw++;
	}
	if (nw > 1 && max_w > min_w * NS_STEAL_WEIGHT_RATIO) {
		/* flag the VMs at either end: out of line with the others */
		for (int v = 0; v < nvm; v++) {
			double r = group_ratio(vms, nvm, v);

			if (r < 0)
				continue;
			vms[v].weight_off = r > min_w * NS_STEAL_WEIGHT_RATIO || r * NS_STEAL_WEIGHT_RATIO < max_w;
			if (vms[v].weight_off)
				h->nr_weight_off++;
		}
	}

	/* the process reading /proc/stat is running itself: do not count it */
	if (h->vcpu_demand > h->ncpus + 0.05 ||
	    (h->b.procs_running > h->ncpus + 1 && h->spare_cpus < 0.5))
		h->cls = NS_STEAL_BUSY;
	else if (h->max_wait_pct > NS_STEAL_WAIT_PCT)
		h->cls = h->spare_cpus >= 0.5 ? NS_STEAL_IDLE : NS_STEAL_BUSY;
	else
		h->cls = NS_STEAL_NONE;
	return 0;
}

void ns_steal_vms_free(struct ns_steal_vm *sv, int nvm)
{
	for (int v = 0; sv && v < nvm; v++)
		free(sv[v].th);
	free(sv);
}

int ns_steal_vms_new(const struct ns_vm *vms, int nvm, struct ns_steal_vm **out)
{
	struct ns_steal_vm *sv;
	int rc = 0;

	*out = NULL;
	if (nvm < 0 || (nvm > 0 && !vms))
		return -EINVAL;
	sv = calloc(nvm ? (size_t)nvm : 1, sizeof(*sv));
	if (!sv)
		return -ENOMEM;
	for (int v = 0; v < nvm; v++) {
		const struct ns_vm *vm = &vms[v];

		sv[v].pid = vm->pid;
		sv[v].nvcpus = vm->named ? vm->nvcpus : 0;
		sv[v].weight = -1;
		ns_set_clear(&sv[v].cpu_nodes);
		ns_set_clear(&sv[v].mem_nodes);
		sv[v].th = calloc(vm->nthreads > 0 ? (size_t)vm->nthreads : 1, sizeof(*sv[v].th));
		if (!sv[v].th) {
			rc = -ENOMEM;
			goto out;
		}
		for (int i = 0; vm->named && i < vm->nthreads; i++)
			if (vm->threads[i].kind == NS_THREAD_VCPU) {
				sv[v].th[sv[v].nthreads].tid = vm->threads[i].tid;
				sv[v].th[sv[v].nthreads++].index = vm->threads[i].index;
			}
	}
out:
	if (rc)
		ns_steal_vms_free(sv, nvm);
	else
		*out = sv;
	return rc;
}

int ns_steal_snap(const char *root, struct ns_steal_vm *sv, int nvm, int second)
{
	for (int v = 0; v < nvm; v++)
		for (int i = 0; i < sv[v].nthreads; i++) {
			struct ns_steal_thread *t = &sv[v].th[i];
			int rc;

			if (second && !t->ok)
				continue; /* ended before the first snapshot */
			rc = ns_schedstat_read(root, sv[v].pid, t->tid, second ? &t->b : &t->a);
			if (rc < 0 && rc != -ESRCH)
				return rc;
			t->ok = rc == 0;
		}
	return 0;
}

static double clock_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep until the monotonic time "until", in slices of at most 0.1 s so that a stop request
 * (a flag a signal handler sets) ends the wait promptly even when its signal arrived just
 * before a slice began. -EINTR when stopped. */
static int wait_until(double until, volatile sig_atomic_t *stop)
{
	for (;;) {
		double left;
		struct timespec ts;

		if (stop && *stop)
			return -EINTR;
		left = until - clock_s();
		if (left <= 0)
			return 0;
		if (left > 0.1)
			left = 0.1;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e9);
		/* EINTR (a handled signal) just means: look at the flag again */
		nanosleep(&ts, NULL);
	}
}

int ns_steal_measure(const char *root, struct ns_steal_host *h, struct ns_steal_vm *sv, int nvm,
		     double window_s, volatile sig_atomic_t *stop)
{
	double t0;
	int rc;

	if (!h || nvm < 0 || (nvm > 0 && !sv) || !(window_s >= 0.01 && window_s <= 3600))
		return -EINVAL;
	t0 = clock_s();
	rc = ns_cpustat_read(root, &h->a);
	if (rc < 0)
		return rc;
	rc = ns_steal_snap(root, sv, nvm, 0);
	if (rc < 0)
		return rc;
	rc = wait_until(t0 + window_s, stop);
	if (rc < 0)
		return rc;
	rc = ns_steal_snap(root, sv, nvm, 1);
	if (rc < 0)
		return rc;
	rc = ns_cpustat_read(root, &h->b);
	if (rc < 0)
		return rc;
	h->interval_s = clock_s() - t0;
	return ns_steal_compute(h, sv, nvm);
}
