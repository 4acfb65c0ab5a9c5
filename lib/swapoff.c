/* The fast-swapoff engine. The kernel's swapoff(2) reads an area back with no throttle, no
 * memory check that means anything and no way to stop; a page read back is charged to the
 * cgroup that swapped it out, so a VM at its limit is the one the OOM killer takes. Here the
 * pages are found in each process's pagemap (by swap type), memory and every memory cgroup's
 * room are checked first, and the pages are read back through /proc/PID/mem in bounded
 * batches, re-checking MemAvailable and PSI and pacing between batches. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "numasafe/headroom.h"
#include "numasafe/procmem.h"
#include "numasafe/swapoff.h"
#include "numasafe/topo.h"
#include "throttle.h"
#include "util.h"

#define BATCH_PAGES 256 /* 1 MiB per read: bounded memory, and a check between batches */

void ns_so_opts_init(struct ns_so_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_psi = 10.0;
	o->psi_grace = 10.0;
}

const char *ns_so_stop_str(enum ns_so_stop s)
{
	switch (s) {
	case NS_SO_DONE:
		return "done";
	case NS_SO_STOP_MEMORY:
		return "available memory fell to the reserve";
	case NS_SO_STOP_PSI:
		return "memory pressure above the limit";
	case NS_SO_STOP_SIGNAL:
		return "interrupted";
	}
	return "?";
}

void ns_so_plan_free(struct ns_so_plan *plan)
{
	if (!plan)
		return;
	free(plan->procs);
	free(plan->cgroups);
	free(plan);
}

static unsigned long long proc_start_time(const char *root, pid_t pid)
{
	struct ns_proc_stat st;

	return ns_proc_stat_read(root, pid, &st) < 0 ? 0 : st.start_time;
}

static void proc_cgroup(const char *root, pid_t pid, char *out, size_t len)
{
	char path[4096], buf[4096], *p;

	out[0] = '\0';
	if (ns_path(path, sizeof(path), root, "/proc/%d/cgroup", (int)pid) < 0 || ns_read_file(path, buf, sizeof(buf)) < 0)
		return;
	/* cgroup v2: the single line "0::/path" */
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, "0::", 3) == 0) {
			size_t n = strcspn(p + 3, "\n");

			snprintf(out, len, "%.*s", (int)n, p + 3);
			return;
		}
}

/* memory.max / memory.current of a cgroup v2 directory; -ENOENT without a memory controller. */
static int cg_limits(const char *root, const char *cg, uint64_t *max, uint64_t *cur)
{
	char path[4096], buf[64];
	int rc;

	rc = ns_path(path, sizeof(path), root, "/sys/fs/cgroup%s/memory.max", strcmp(cg, "/") ? cg : "");
	if (rc < 0)
		return rc;
	if (ns_read_file(path, buf, sizeof(buf)) < 0)
		return -ENOENT;
	*max = strncmp(buf, "max", 3) == 0 ? UINT64_MAX : strtoull(buf, NULL, 10);
	rc = ns_path(path, sizeof(path), root, "/sys/fs/cgroup%s/memory.current", strcmp(cg, "/") ? cg : "");
	if (rc < 0)
		return rc;
	return ns_read_u64(path, cur);
}

/* Charge bytes to cg and each limited ancestor: a parent's memory.max binds its children. */
static int charge(struct ns_so_plan *plan, const char *root, const char *cg, uint64_t bytes)
{
	char cur[512];

	snprintf(cur, sizeof(cur), "%s", cg);
	while (cur[0] && strcmp(cur, "/") != 0) {
		uint64_t max, now;
		int i;
		char *slash;

		if (cg_limits(root, cur, &max, &now) == 0 && max != UINT64_MAX) {
			for (i = 0; i < plan->ncgroups && strcmp(plan->cgroups[i].path, cur) != 0; i++)
				;
			if (i == plan->ncgroups) {
				struct ns_so_cgroup *n = realloc(plan->cgroups, (size_t)(i + 1) * sizeof(*n));

				if (!n)
					return -ENOMEM;
				plan->cgroups = n;
				memset(&n[i], 0, sizeof(n[i]));
				snprintf(n[i].path, sizeof(n[i].path), "%s", cur);
				n[i].max = max;
				n[i].current = now;
				plan->ncgroups++;
			}
			plan->cgroups[i].swapped += bytes;
		}
		slash = strrchr(cur, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	return 0;
}

static bool wanted(const struct ns_so_opts *o, pid_t pid)
{
	if (!o->pids)
		return true;
	for (int i = 0; i < o->npids; i++)
		if (o->pids[i] == pid)
			return true;
	return false;
}

struct scan {
	struct ns_so_proc p;
	uint64_t per_type[NS_MAX_SWAPFILES];
};

struct scans {
	const char *root;
	struct scan *v;
	size_t n, cap;
};

/* Remember each swapped process: identity, cgroup and bytes per swap type. */
static int scan_proc(void *arg, pid_t pid, const struct ns_proc_usage *u, const struct ns_swap_evidence *one)
{
	struct scans *sc = arg;
	struct scan *x;

	if (sc->n == sc->cap) {
		size_t nc = sc->cap ? sc->cap * 2 : 64;
		struct scan *nv = realloc(sc->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		sc->v = nv;
		sc->cap = nc;
	}
	x = &sc->v[sc->n++];
	memset(x, 0, sizeof(*x));
	x->p.pid = pid;
	x->p.start_time = proc_start_time(sc->root, pid);
	snprintf(x->p.comm, sizeof(x->p.comm), "%s", u->comm);
	proc_cgroup(sc->root, pid, x->p.cgroup, sizeof(x->p.cgroup));
	for (int t = 0; t < NS_MAX_SWAPFILES; t++)
		x->per_type[t] = one->type[t].pages * one->page_size;
	return 0;
}

int ns_so_preflight(const struct ns_so_opts *o, const char *device, struct ns_so_plan **out)
{
	struct ns_swap_evidence *ev = NULL;
	struct ns_so_plan *plan = NULL;
	struct scans sc = {o->root, NULL, 0, 0};
	struct ns_hostmem hm;
	struct ns_swaps sw;
	int rc, idx, type;

	rc = ns_swaps_read(o->root, &sw);
	if (rc < 0)
		return rc;
	idx = ns_swaps_find(&sw, device);
	if (idx < 0)
		return -ENOENT;
	plan = calloc(1, sizeof(*plan));
	ev = calloc(1, sizeof(*ev));
	if (!plan || !ev) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(plan->path, sizeof(plan->path), "%s", sw.area[idx].path);
	plan->used = sw.area[idx].used;

	/* every process with swap: its pages per swap type */
	rc = ns_swap_gather_each(o->root, ev, scan_proc, &sc);
	if (rc < 0)
		goto out;
	rc = ns_swap_assign(&sw, ev);
	if (rc == 0 && sw.area[idx].type < 0 && sw.area[idx].used > 0)
		rc = ns_swap_probe_content(o->root, &sw, ev);
	if (rc < 0)
		goto out;
	type = sw.area[idx].type;
	plan->type = type;

	/* only the processes asked for, with pages on this area */
	for (size_t i = 0; i < sc.n; i++) {
		uint64_t b = type >= 0 ? sc.v[i].per_type[type] : 0;
		struct ns_so_proc *np;

		if (b == 0 || !wanted(o, sc.v[i].p.pid))
			continue;
		np = realloc(plan->procs, (size_t)(plan->nprocs + 1) * sizeof(*plan->procs));
		if (!np) {
			rc = -ENOMEM;
			goto out;
		}
		plan->procs = np;
		plan->procs[plan->nprocs] = sc.v[i].p;
		plan->procs[plan->nprocs].bytes = b;
		plan->proc_bytes += b;
		if (sc.v[i].p.cgroup[0]) {
			rc = charge(plan, o->root, sc.v[i].p.cgroup, b);
			if (rc < 0)
				goto out;
		}
		plan->nprocs++;
	}
	/* with --pid only what is asked comes back; otherwise swapoff(2) reads all of Used */
	plan->other = (!o->pids && plan->used > plan->proc_bytes) ? plan->used - plan->proc_bytes : 0;
	rc = ns_hostmem_read(o->root, &hm);
	if (rc < 0)
		goto out;
	plan->available = hm.mem_available;
	if (o->reserve)
		plan->reserve = ns_amount_resolve(o->reserve, hm.mem_total);
	else
		plan->reserve = ns_reserve_default(hm.mem_total);
	plan->fits = plan->proc_bytes + plan->other + plan->reserve <= plan->available;
	if (!plan->fits)
		plan->shortfall = plan->proc_bytes + plan->other + plan->reserve - plan->available;
	for (int i = 0; i < plan->ncgroups; i++) {
		const struct ns_so_cgroup *c = &plan->cgroups[i];
		uint64_t room = c->max > c->current ? c->max - c->current : 0;

		if (c->swapped > room && !plan->tight) {
			plan->tight = c;
			plan->fits = false;
		}
	}
	*out = plan;
	plan = NULL;
	rc = 0;
out:
	free(sc.v);
	free(ev);
	ns_so_plan_free(plan);
	return rc;
}

/* ---- paging in ---- */

struct pagein {
	const struct ns_so_opts *o;
	struct ns_so_plan *plan;
	struct ns_so_result *res;
	struct ns_so_proc *proc;
	struct ns_throttle thr;
	int mem_fd;
	uint64_t ps, total, done;
	double t0;
	char *buf;
};

/* Read [addr, addr + pages) back, after the checks that keep the host safe. */
static int read_run(struct pagein *pi, uint64_t addr, uint64_t pages)
{
	uint64_t bytes = pages * pi->ps;
	struct ns_hostmem hm;
	ssize_t got;

	if (ns_throttle_stopped(&pi->thr)) {
		pi->res->stop = NS_SO_STOP_SIGNAL;
		return 1;
	}
	if (ns_hostmem_read(pi->o->root, &hm) == 0 && hm.mem_available < pi->plan->reserve + bytes) {
		pi->res->stop = NS_SO_STOP_MEMORY;
		return 1;
	}
	if (!ns_throttle_psi_ok(&pi->thr)) {
		pi->res->stop = NS_SO_STOP_PSI;
		return 1;
	}
	ns_throttle_pace(&pi->thr, bytes);
	got = pread(pi->mem_fd, pi->buf, bytes, (off_t)addr);
	pi->res->batches++;
	if (got < 0)
		return errno == EIO || errno == ESRCH ? -ESRCH : -errno;
	pi->proc->back += (uint64_t)got;
	pi->res->back += (uint64_t)got;
	pi->done += (uint64_t)got;
	if (pi->o->progress)
		pi->o->progress(pi->o->progress_arg, pi->done, pi->total, ns_now() - pi->t0);
	return 0;
}

struct run_ctx {
	struct pagein *pi;
	uint64_t start, pages; /* the run being collected */
	int rc;
};

static int flush_run(struct run_ctx *c)
{
	int rc = 0;

	if (c->pages)
		rc = read_run(c->pi, c->start, c->pages);
	c->pages = 0;
	return rc;
}

static int pagein_cb(void *arg, uint64_t addr, const uint64_t *e, size_t n)
{
	struct run_ctx *c = arg;
	struct pagein *pi = c->pi;

	for (size_t i = 0; i < n; i++) {
		uint64_t a = addr + i * pi->ps;
		bool ours = ns_pme_swapped(e[i]) && ns_pme_swap_offset(e[i]) != 0 &&
			    (int)ns_pme_swap_type(e[i]) == pi->plan->type;
		int rc;

		/* contiguous swapped pages make one read; anything else ends the run */
		if (ours && c->pages && a == c->start + c->pages * pi->ps && c->pages < BATCH_PAGES) {
			c->pages++;
			continue;
		}
		rc = flush_run(c);
		if (rc)
			return rc;
		if (ours) {
			c->start = a;
			c->pages = 1;
		}
	}
	return 0;
}

static int pagein_proc(struct pagein *pi)
{
	struct run_ctx c = {pi, 0, 0, 0};
	struct ns_pagemap *pm = NULL;
	struct ns_maps *maps = NULL;
	struct ns_vma vma;
	char path[4096];
	int pidfd, rc;

	/* a pidfd pins the identity: if the PID was reused since the scan, leave it alone */
	pidfd = (int)syscall(SYS_pidfd_open, pi->proc->pid, 0);
	if (pidfd < 0)
		return -ESRCH;
	if (proc_start_time(pi->o->root, pi->proc->pid) != pi->proc->start_time) {
		close(pidfd);
		return -ESRCH;
	}
	rc = ns_path(path, sizeof(path), pi->o->root, "/proc/%d/mem", (int)pi->proc->pid);
	if (rc < 0)
		goto out;
	pi->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pi->mem_fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = ns_maps_open(pi->o->root, pi->proc->pid, &maps);
	if (rc < 0)
		goto out;
	rc = ns_pagemap_open(pi->o->root, pi->proc->pid, &pm);
	if (rc < 0)
		goto out;
	while ((rc = ns_maps_next(maps, &vma)) > 0) {
		if (vma.path[0] == '[' && strcmp(vma.path, "[heap]") != 0 && strcmp(vma.path, "[stack]") != 0)
			continue;
		rc = ns_pagemap_scan(pm, vma.start, vma.end, pagein_cb, &c);
		if (rc == 0)
			rc = flush_run(&c);
		if (rc)
			break;
	}
	/* still the same process at the end? (a pidfd signal 0 fails once it has exited) */
	if (rc == 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		rc = -ESRCH;
out:
	if (pi->mem_fd >= 0)
		close(pi->mem_fd);
	pi->mem_fd = -1;
	ns_pagemap_close(pm);
	ns_maps_close(maps);
	close(pidfd);
	return rc;
}

int ns_so_pagein(const struct ns_so_opts *o, struct ns_so_plan *plan, struct ns_so_result *res)
{
	struct pagein pi;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	memset(&pi, 0, sizeof(pi));
	pi.o = o;
	pi.plan = plan;
	pi.res = res;
	pi.mem_fd = -1;
	pi.ps = (uint64_t)sysconf(_SC_PAGESIZE);
	pi.total = plan->proc_bytes;
	pi.t0 = ns_now();
	ns_throttle_init(&pi.thr, o->root, o->rate, o->max_psi, o->psi_grace, o->stop);
	pi.buf = malloc(BATCH_PAGES * pi.ps);
	if (!pi.buf)
		return -ENOMEM;
	for (int i = 0; i < plan->nprocs && res->stop == NS_SO_DONE; i++) {
		pi.proc = &plan->procs[i];
		rc = pagein_proc(&pi);
		if (rc == -ESRCH) {
			res->skipped++; /* exited: its swap is freed by the kernel anyway */
			rc = 0;
		}
		if (rc < 0)
			break;
		rc = 0;
	}
	res->duration = ns_now() - pi.t0;
	free(pi.buf);
	return rc;
}
