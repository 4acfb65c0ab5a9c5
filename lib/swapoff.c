/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fast-swapoff engine. The kernel's swapoff(2) reads an area back with no throttle, no
 * memory check that means anything and no way to stop; a page read back is charged to the
 * cgroup that swapped it out, so a VM at its limit is the one the OOM killer takes. Here the
 * pages are found in each process's pagemap (by swap type), memory and every memory cgroup's
 * room are checked first, and the pages are read back through /proc/PID/mem in bounded
 * batches, re-checking MemAvailable and PSI and pacing between batches. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "numasafe/caps.h"
#include "numasafe/file.h"
#include "numasafe/headroom.h"
#include "numasafe/procmem.h"
#include "numasafe/swapoff.h"
#include "numasafe/topo.h"
#include "numasafe/vmlock.h"
#include "swap_int.h"
#include "throttle.h"
#include "util.h"

#define BATCH_PAGES 256 /* 1 MiB per read: bounded memory, and a check between batches */
#define WINDOW_RUNS 4096 /* runs collected before they are sorted by swap offset and read */
#define RA_STEP (2ULL << 20) /* read-ahead is asked (and checked, and paced) 2 MiB at a time */
#define RA_IOVS 256
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif

void ns_so_opts_init(struct ns_so_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_psi = 10.0;
	o->psi_grace = 10.0;
	o->readahead = 32ULL << 20;
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
	for (int i = 0; i < plan->nprocs; i++)
		free(plan->procs[i].ranges);
	free(plan->procs);
	free(plan->cgroups);
	free(plan);
}

static unsigned long long proc_start_time(const char *root, pid_t pid)
{
	struct ns_proc_stat st;

	return ns_proc_stat_read(root, pid, &st) < 0 ? 0 : st.start_time;
}

/* Is the cgroup v1 memory controller mounted (a v1 or hybrid host)? Then it, not the unified
 * hierarchy, holds the limits. */
static bool memcg_v1(const char *root)
{
	char path[4096];

	return ns_path(path, sizeof(path), root, "/sys/fs/cgroup/memory/memory.limit_in_bytes") == 0 &&
	       access(path, F_OK) == 0;
}

/* The process's memory cgroup: the v1 "memory" line on a v1 host (v1 true), else the v2
 * "0::" line. */
static void proc_cgroup(const char *root, bool v1, pid_t pid, char *out, size_t len)
{
	char path[4096], buf[4096];
	int version;

	out[0] = '\0';
	if (ns_path(path, sizeof(path), root, "/proc/%d/cgroup", (int)pid) < 0 || ns_read_file(path, buf, sizeof(buf)) < 0 ||
	    ns_cgroup_path(buf, "memory", out, len, &version) < 0 || (version == 2) == v1)
		out[0] = '\0'; /* no cgroup of the hierarchy that holds the limits */
}

/* The limit and usage of a memory cgroup: memory.max / memory.current on v2, memory.limit_in_bytes
 * / memory.usage_in_bytes on v1 (where "no limit" is a page counter near 2^63). 1 when the
 * cgroup has no limit file (no memory controller there); a file that does not read or parse is
 * an error (with the detail), never "no limit". */
static int cg_limits(const char *root, bool v1, const char *cg, uint64_t *max, uint64_t *cur)
{
	const char *base = v1 ? "/sys/fs/cgroup/memory" : "/sys/fs/cgroup";
	char path[4096], buf[64];
	unsigned long long v;
	ssize_t n;
	int rc;

	rc = ns_path(path, sizeof(path), root, "%s%s/%s", base, strcmp(cg, "/") ? cg : "",
		     v1 ? "memory.limit_in_bytes" : "memory.max");
	if (rc < 0)
		return rc;
	n = ns_read_file(path, buf, sizeof(buf));
	if (n == -ENOENT)
		return 1;
	if (n < 0)
		return ns_detail((int)n, "%s: %s", path, strerror((int)-n));
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (!v1 && strcmp(buf, "max") == 0)
		*max = UINT64_MAX;
	else if ((rc = ns_uint_parse(buf, UINT64_MAX, &v)) < 0)
		return ns_detail(rc, "%s: '%.32s' is not \"max\" or a number of bytes", path, buf);
	else
		*max = v1 && v >= (1ULL << 62) ? UINT64_MAX : v;
	rc = ns_path(path, sizeof(path), root, "%s%s/%s", base, strcmp(cg, "/") ? cg : "",
		     v1 ? "memory.usage_in_bytes" : "memory.current");
	if (rc < 0)
		return rc;
	return ns_read_u64(path, cur);
}

/* Cgroups already looked at in this preflight, limited or not: many processes share a few
 * cgroups, and each used to cost two file reads per ancestor per process. idx is the entry
 * in plan->cgroups, or -1 for a cgroup without a limit. */
struct cg_seen {
	struct cg_seen_one {
		char path[512];
		int idx;
	} *v;
	size_t n;
	bool v1;
};

/* Charge bytes to cg and each limited ancestor: a parent's memory.max binds its children. */
static int charge(struct ns_so_plan *plan, struct cg_seen *seen, const char *root, const char *cg, uint64_t bytes)
{
	char cur[512];

	snprintf(cur, sizeof(cur), "%s", cg);
	while (cur[0] && strcmp(cur, "/") != 0) {
		uint64_t max = 0, now = 0;
		size_t k;
		int i, rc;
		char *slash;

		for (k = 0; k < seen->n && strcmp(seen->v[k].path, cur) != 0; k++)
			;
		if (k == seen->n) {
			struct cg_seen_one *nv = realloc(seen->v, (seen->n + 1) * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			seen->v = nv;
			rc = cg_limits(root, seen->v1, cur, &max, &now);
			if (rc < 0)
				return rc;
			i = -1;
			if (rc == 0 && max != UINT64_MAX) {
				struct ns_so_cgroup *n = realloc(plan->cgroups, (size_t)(plan->ncgroups + 1) * sizeof(*n));

				if (!n)
					return -ENOMEM;
				plan->cgroups = n;
				i = plan->ncgroups++;
				memset(&n[i], 0, sizeof(n[i]));
				snprintf(n[i].path, sizeof(n[i].path), "%s", cur);
				n[i].max = max;
				n[i].current = now;
			}
			snprintf(seen->v[k].path, sizeof(seen->v[k].path), "%s", cur);
			seen->v[k].idx = i;
			seen->n++;
		}
		if (seen->v[k].idx >= 0)
			plan->cgroups[seen->v[k].idx].swapped = ns_sat_add(plan->cgroups[seen->v[k].idx].swapped, bytes);
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
	bool v1; /* memcg_v1(root), asked once */
	struct scan *v;
	size_t n, cap;
};

/* Remember each swapped process: identity, cgroup, bytes per swap type and where. */
static int scan_proc(void *arg, pid_t pid, const struct ns_proc_usage *u, const struct ns_swap_evidence *one,
		     const struct ns_swap_range *r, size_t nr)
{
	struct scans *sc = arg;
	struct scan *x;
	uint64_t *ranges = NULL;

	if (sc->n == sc->cap) {
		size_t nc = sc->cap ? sc->cap * 2 : 64;
		struct scan *nv = realloc(sc->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		sc->v = nv;
		sc->cap = nc;
	}
	if (nr) {
		ranges = malloc(nr * 2 * sizeof(*ranges));
		if (!ranges)
			return -ENOMEM;
		for (size_t i = 0; i < nr; i++) {
			ranges[2 * i] = r[i].start;
			ranges[2 * i + 1] = r[i].end;
		}
	}
	x = &sc->v[sc->n++];
	memset(x, 0, sizeof(*x));
	x->p.ranges = ranges;
	x->p.nranges = nr;
	x->p.pid = pid;
	x->p.start_time = proc_start_time(sc->root, pid);
	snprintf(x->p.comm, sizeof(x->p.comm), "%s", u->comm);
	proc_cgroup(sc->root, sc->v1, pid, x->p.cgroup, sizeof(x->p.cgroup));
	for (int t = 0; t < NS_MAX_SWAPFILES; t++)
		x->per_type[t] = ns_sat_mul(one->type[t].pages, one->page_size);
	return 0;
}

/* May this area be left to swapoff(2) as it is? Only when swapoff(2) follows at once, for
 * the whole area, and every used slot of the host but NS_SO_UNCACHED_MAX is in the swap
 * cache (SwapTotal - SwapFree - SwapCached bounds this area's uncached part; slots held in
 * per-CPU caches only make the bound larger). */
static uint64_t swap_uncached(const struct ns_hostmem *hm)
{
	return ns_sat_sub(ns_sat_sub(hm->swap_total, hm->swap_free), hm->swap_cached);
}

static bool cached_only(const struct ns_so_opts *o, const struct ns_so_plan *plan, const struct ns_hostmem *hm)
{
	return o->then_swapoff && !o->pids && plan->used > 0 && swap_uncached(hm) <= NS_SO_UNCACHED_MAX;
}

int ns_so_preflight(const struct ns_so_opts *o, const char *device, struct ns_so_plan **out)
{
	struct ns_swap_evidence *ev = NULL;
	struct ns_so_plan *plan = NULL;
	struct scans sc = {o->root, memcg_v1(o->root), NULL, 0, 0};
	struct cg_seen seen = {NULL, 0, sc.v1};
	struct ns_hostmem hm;
	struct ns_swaps sw;
	uint64_t need;
	int rc, idx, type;

	ns_detail_clear();
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
	plan->type = -1;
	rc = ns_hostmem_read(o->root, &hm);
	if (rc < 0)
		goto out;
	plan->available = hm.mem_available;
	if (o->reserve)
		plan->reserve = ns_amount_resolve(o->reserve, hm.mem_total);
	else
		plan->reserve = ns_reserve_default(hm.mem_total);

	/* Nearly everything in the swap cache: nothing needs a read or new memory, and the
	 * process scan (a few ms per swapped process) would cost more than swapoff(2) itself */
	if (!o->scan_always && cached_only(o, plan, &hm)) {
		plan->cached_only = true;
		plan->uncached = swap_uncached(&hm);
		plan->other = plan->used;
		need = ns_sat_add(plan->uncached, plan->reserve);
		plan->fits = need <= plan->available;
		plan->shortfall = ns_sat_sub(need, plan->available);
		*out = plan;
		plan = NULL;
		goto out;
	}

	/* every process with swap: its pages per swap type */
	rc = ns_swap_gather_each_ranges(o->root, ev, scan_proc, &sc, o->stop);
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
		sc.v[i].p.ranges = NULL; /* the plan owns them now */
		plan->procs[plan->nprocs].bytes = b;
		plan->proc_bytes = ns_sat_add(plan->proc_bytes, b);
		if (sc.v[i].p.cgroup[0]) {
			rc = charge(plan, &seen, o->root, sc.v[i].p.cgroup, b);
			if (rc < 0)
				goto out;
		}
		plan->nprocs++;
	}
	/* with --pid only what is asked comes back; otherwise swapoff(2) reads all of Used */
	plan->other = (!o->pids && plan->used > plan->proc_bytes) ? plan->used - plan->proc_bytes : 0;
	/* saturating: a reserve near 2^64 must refuse, not wrap into "fits" */
	need = ns_sat_add(ns_sat_add(plan->proc_bytes, plan->other), plan->reserve);
	plan->fits = need <= plan->available;
	plan->shortfall = ns_sat_sub(need, plan->available);
	for (int i = 0; i < plan->ncgroups; i++) {
		const struct ns_so_cgroup *c = &plan->cgroups[i];
		uint64_t room = ns_sat_sub(c->max, c->current);

		if (c->swapped > room && !plan->tight) {
			plan->tight = c;
			plan->fits = false;
		}
	}
	*out = plan;
	plan = NULL;
	rc = 0;
out:
	for (size_t i = 0; i < sc.n; i++)
		free(sc.v[i].p.ranges);
	free(seen.v);
	free(sc.v);
	free(ev);
	ns_so_plan_free(plan);
	return rc;
}

/* ---- paging in ---- */

/* What the workers share. Everything below mu is read and written under it (the gate's
 * MemAvailable and pressure state, the throttle, the result, the work queue). */
struct pagein {
	const struct ns_so_opts *o;
	struct ns_so_plan *plan;
	struct ns_so_result *res;
	uint64_t ps;
	double t0;
	char *buf; /* shmem reads (the main thread, before any worker starts) */

	pthread_mutex_t mu;
	struct ns_throttle thr;
	bool ra_off; /* process_madvise failed once: no more read-ahead */
	uint64_t avail, avail_bytes_since; /* last MemAvailable, and bytes read since */
	double avail_at;
	uint64_t total, done;
	/* the work: pieces of the plan's processes, taken in order by the first worker free */
	struct item {
		int proc;	     /* index in plan->procs */
		uint64_t start, end; /* the part of its swapped ranges this piece reads */
	} *items;
	size_t nitems, next;
	bool *gone; /* per process: seen gone (counted once in res->skipped) */
	int err;    /* the first worker's error: the others stop at their next piece */
};

/* One worker's own state. */
struct worker {
	struct pagein *pi;
	struct ns_so_proc *proc;
	int pidfd; /* the process being read: process_vm_readv goes by PID, so the pidfd says
		    * before each window that the PID still names the process that was checked */
	struct iovec iov[BATCH_PAGES]; /* one per page of a run, for process_vm_readv */
	char buf[BATCH_PAGES];	       /* one byte per page comes back here */
	pthread_t th;
};

/* With mu held: 1 if the run is to stop (a stop or a worker's error already seen, or a stop
 * request now: then res->stop says so). */
static int stopped_locked(struct pagein *pi)
{
	if (pi->res->stop != NS_SO_DONE || pi->err)
		return 1;
	if (!ns_throttle_stopped(&pi->thr))
		return 0;
	pi->res->stop = NS_SO_STOP_SIGNAL;
	return 1;
}

/* Before each batch: stop on a signal, when MemAvailable would fall under the reserve, or
 * on sustained pressure; then pace to the rate (for all workers together: the pacing
 * sleeps with the lock held, so the others wait their turn). 1 means stop (res->stop
 * says why; a stop one worker saw stops the others at their next batch). */
static int gate(struct pagein *pi, uint64_t bytes)
{
	struct ns_hostmem hm;
	double now = ns_now();
	int rc = 1;

	pthread_mutex_lock(&pi->mu);
	if (stopped_locked(pi))
		goto out;
	/* MemAvailable is re-read every 8 MiB or 20 ms; in between, what this run brought in
	 * is subtracted from the last reading, so the check never trusts more than it saw */
	if (pi->avail_at > 0 && now - pi->avail_at < 0.02 && pi->avail_bytes_since < (8ULL << 20) &&
	    pi->avail >= ns_sat_add(ns_sat_add(pi->plan->reserve, pi->avail_bytes_since), bytes)) {
		pi->avail_bytes_since += bytes;
	} else {
		/* MemAvailable that cannot be read stops the run like too little of it (the detail
		 * says why): going on unchecked is what the check is there to prevent */
		if (ns_hostmem_read(pi->o->root, &hm) < 0 || hm.mem_available < ns_sat_add(pi->plan->reserve, bytes)) {
			pi->res->stop = NS_SO_STOP_MEMORY;
			goto out;
		}
		pi->avail = hm.mem_available;
		pi->avail_at = now;
		pi->avail_bytes_since = bytes;
	}
	if (!ns_throttle_psi_ok(&pi->thr)) {
		pi->res->stop = NS_SO_STOP_PSI;
		goto out;
	}
	ns_throttle_pace(&pi->thr, bytes);
	rc = 0;
out:
	pthread_mutex_unlock(&pi->mu);
	return rc;
}

/* A stop request seen where no gate is passed: 1 (res->stop set) to stop. */
static int stopped(struct pagein *pi)
{
	int rc;

	pthread_mutex_lock(&pi->mu);
	rc = stopped_locked(pi);
	pthread_mutex_unlock(&pi->mu);
	return rc;
}

/* Count what came back (proc: whose, NULL for shmem) and report progress. */
static void progressed(struct pagein *pi, struct ns_so_proc *proc, uint64_t bytes, bool batch)
{
	pthread_mutex_lock(&pi->mu);
	pi->res->back += bytes;
	pi->res->batches += batch;
	pi->done += bytes;
	if (proc)
		proc->back += bytes;
	if (pi->o->progress)
		pi->o->progress(pi->o->progress_arg, pi->done, pi->total, ns_now() - pi->t0);
	pthread_mutex_unlock(&pi->mu);
}

/* Fault [addr, addr + pages) in. gated: run the checks that keep the host safe first; runs
 * already asked for by read-ahead were checked and paced then, and only look for a stop. */
static int read_run(struct worker *w, uint64_t addr, uint64_t pages, bool gated)
{
	struct pagein *pi = w->pi;
	struct iovec local = {w->buf, pages};
	size_t n = 0;
	ssize_t got;

	if (gated ? gate(pi, pages * pi->ps) : stopped(pi))
		return 1;
	/* One byte of a page faults the whole page in: copying 4 KiB per page, as a read of
	 * /proc/PID/mem does, was 42% of the time in the lab's profile. Two bytes across a page
	 * boundary fault two pages with one lookup of the range (10-25% less when the pages are
	 * still in the swap cache). Every page gives exactly one byte, so bytes read = pages. */
	for (uint64_t k = 0; k < pages; k += 2)
		w->iov[n++] = k + 1 < pages ? (struct iovec){(void *)(uintptr_t)(addr + (k + 1) * pi->ps - 1), 2}
					 : (struct iovec){(void *)(uintptr_t)(addr + k * pi->ps), 1};
	got = process_vm_readv(w->proc->pid, &local, 1, w->iov, n, 0);
	if (got < 0) {
		progressed(pi, NULL, 0, true);
		return errno == EIO || errno == ESRCH ? -ESRCH : -errno;
	}
	progressed(pi, w->proc, (uint64_t)got * pi->ps, true);
	return 0;
}

struct run {
	uint64_t start, pages, offset; /* offset: swap offset of the first page */
};

struct run_ctx {
	struct worker *w;
	struct run cur;	  /* the run being collected */
	struct run *win;  /* finished runs, read in swap-offset order when the window fills */
	size_t nwin;
};

static int run_cmp(const void *a, const void *b)
{
	const struct run *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static bool ra_off(struct pagein *pi)
{
	bool off;

	pthread_mutex_lock(&pi->mu);
	off = pi->ra_off;
	pthread_mutex_unlock(&pi->mu);
	return off;
}

/* Ask for runs [*next, ...) ahead with MADV_WILLNEED, at most RA_STEP bytes, after the
 * same checks as a read: the device then has many reads in flight instead of the one (plus
 * the fault's own read-ahead) that a fault waits for. 1 means stop. */
static int ask_ahead(struct run_ctx *c, size_t *next, uint64_t *ahead)
{
	struct pagein *pi = c->w->pi;
	struct iovec v[RA_IOVS];
	uint64_t bytes = 0;
	long got;
	int nv = 0, err;

	while (*next + nv < c->nwin && nv < RA_IOVS && (nv == 0 || bytes < RA_STEP)) {
		const struct run *r = &c->win[*next + nv];

		v[nv++] = (struct iovec){(void *)(uintptr_t)r->start, r->pages * pi->ps};
		bytes += r->pages * pi->ps;
	}
	if (gate(pi, bytes))
		return 1;
	got = syscall(SYS_process_madvise, c->w->pidfd, v, (size_t)nv, MADV_WILLNEED, 0U);
	err = got < 0 ? errno : 0;
	pthread_mutex_lock(&pi->mu);
	if (got >= 0) {
		pi->res->readahead += (uint64_t)got; /* it stops at a range no longer mapped */
	} else if (err == ENOSYS || err == EINVAL || err == EPERM) {
		/* no process_madvise, no MADV_WILLNEED through it, or not allowed: from now on
		 * the pages are faulted in plainly */
		pi->ra_off = true;
		pi->res->readahead_err = -err;
	}
	pthread_mutex_unlock(&pi->mu);
	/* anything else (the process exiting, a range unmapped since the scan) concerns these
	 * runs only; either way the checks just made hold for them, so they count as asked */
	*next += (size_t)nv;
	*ahead += bytes;
	return 0;
}

/* Read the window's runs in swap-offset order: the device sees (mostly) ascending reads
 * whatever order the pages have in the address space. With read-ahead, up to opts->readahead
 * bytes are asked for ahead of the run being faulted in. */
static int flush_window(struct run_ctx *c)
{
	struct worker *w = c->w;
	struct pagein *pi = w->pi;
	uint64_t ahead = 0, limit = pi->o->readahead;
	size_t asked = 0; /* runs [0, asked) were checked and asked for */
	int rc = 0;

	qsort(c->win, c->nwin, sizeof(*c->win), run_cmp);
	if (c->nwin && syscall(SYS_pidfd_send_signal, w->pidfd, 0, NULL, 0) < 0)
		return -ESRCH;
	for (size_t i = 0; i < c->nwin && rc == 0; i++) {
		uint64_t bytes = c->win[i].pages * pi->ps;

		while (limit && asked < c->nwin && (asked <= i || ahead + RA_STEP <= limit) && !ra_off(pi)) {
			rc = ask_ahead(c, &asked, &ahead);
			if (rc)
				break;
		}
		if (rc)
			break;
		rc = read_run(w, c->win[i].start, c->win[i].pages, i >= asked);
		if (i < asked)
			ahead -= bytes;
	}
	c->nwin = 0;
	return rc;
}

static int end_run(struct run_ctx *c)
{
	if (!c->cur.pages)
		return 0;
	c->win[c->nwin++] = c->cur;
	c->cur.pages = 0;
	return c->nwin == WINDOW_RUNS ? flush_window(c) : 0;
}

static int pagein_cb(void *arg, uint64_t addr, const uint64_t *e, size_t n)
{
	struct run_ctx *c = arg;
	struct pagein *pi = c->w->pi;

	for (size_t i = 0; i < n; i++) {
		uint64_t a = addr + i * pi->ps, off = ns_pme_swap_offset(e[i]);
		bool ours = ns_pme_swapped(e[i]) && off != 0 && (int)ns_pme_swap_type(e[i]) == pi->plan->type;
		int rc;

		/* pages adjacent in memory and on the device make one read; anything else ends it */
		if (ours && c->cur.pages && a == c->cur.start + c->cur.pages * pi->ps &&
		    off == c->cur.offset + c->cur.pages && c->cur.pages < BATCH_PAGES) {
			c->cur.pages++;
			continue;
		}
		rc = end_run(c);
		if (rc)
			return rc;
		if (ours)
			c->cur = (struct run){a, 1, off};
	}
	return 0;
}

/* One piece of work: the part [it->start, it->end) of a process's swapped ranges. */
static int pagein_item(struct worker *w, const struct item *it)
{
	struct pagein *pi = w->pi;
	struct run_ctx c = {.w = w};
	struct ns_pagemap *pm = NULL;
	int pidfd, rc;

	w->proc = &pi->plan->procs[it->proc];
	/* a pidfd pins the identity: if the PID was reused since the scan, leave it alone */
	pidfd = (int)syscall(SYS_pidfd_open, w->proc->pid, 0);
	if (pidfd < 0)
		return -ESRCH;
	if (proc_start_time(pi->o->root, w->proc->pid) != w->proc->start_time) {
		close(pidfd);
		return -ESRCH;
	}
	w->pidfd = pidfd;
	rc = ns_pagemap_open(pi->o->root, w->proc->pid, &pm);
	if (rc < 0)
		goto out;
	c.win = malloc(WINDOW_RUNS * sizeof(*c.win));
	if (!c.win) {
		rc = -ENOMEM;
		goto out;
	}
	/* Only where the scan just saw swapped pages: a second smaps pass to find them again
	 * was half of a small process's cost. Pages swapped out since, in other ranges, are
	 * left to swapoff(2); a range unmapped since reads as not swapped. */
	for (size_t k = 0; k < w->proc->nranges && rc == 0; k++) {
		uint64_t lo = w->proc->ranges[2 * k], hi = w->proc->ranges[2 * k + 1];

		lo = lo > it->start ? lo : it->start;
		hi = hi < it->end ? hi : it->end;
		/* only the populated parts: a range spans a VMA's first to last swapped page,
		 * which may be terabytes apart in reserved address space */
		if (lo < hi)
			rc = ns_pagemap_scan_populated(pm, lo, hi, pi->o->stop, pagein_cb, &c);
	}
	/* a stop request seen between windows: the run stops as at a batch (res->stop says why) */
	if (rc == -EINTR && stopped(pi))
		rc = 1;
	if (rc == 0)
		rc = end_run(&c);
	if (rc == 0)
		rc = flush_window(&c);
	/* still the same process at the end? (a pidfd signal 0 fails once it has exited) */
	if (rc == 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		rc = -ESRCH;
out:
	free(c.win);
	ns_pagemap_close(pm);
	close(pidfd);
	w->pidfd = -1;
	return rc;
}

/* Take pieces until none is left, a stop, or an error (kept in pi->err for the caller). */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pagein *pi = w->pi;

	for (;;) {
		const struct item *it;
		int rc;

		pthread_mutex_lock(&pi->mu);
		if (pi->err || pi->res->stop != NS_SO_DONE || pi->next == pi->nitems) {
			pthread_mutex_unlock(&pi->mu);
			break;
		}
		it = &pi->items[pi->next++];
		pthread_mutex_unlock(&pi->mu);
		if (stopped(pi))
			break;
		rc = pagein_item(w, it);
		pthread_mutex_lock(&pi->mu);
		if (rc == -ESRCH && !pi->gone[it->proc]) {
			pi->gone[it->proc] = true; /* exited: its swap is freed by the kernel anyway */
			pi->res->skipped++;
		} else if (rc < 0 && rc != -ESRCH && !pi->err) {
			pi->err = rc;
		}
		pthread_mutex_unlock(&pi->mu);
		if (rc > 0)
			break; /* a stop: res->stop says why */
	}
	return NULL;
}

/* The pieces of work, in the plan's order. One job takes whole processes (one pagemap pass
 * and one swap-offset order per process, as before there were jobs); with more, a process
 * is cut every ITEM_BYTES of its swapped ranges, so one large VM keeps every worker busy. */
#define ITEM_BYTES (64ULL << 20)
static int item_add(struct pagein *pi, size_t *cap, int proc, uint64_t start, uint64_t end)
{
	if (pi->nitems == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct item *nv = realloc(pi->items, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		pi->items = nv;
		*cap = nc;
	}
	pi->items[pi->nitems++] = (struct item){proc, start, end};
	return 0;
}

static int items_make(struct pagein *pi, unsigned jobs)
{
	size_t cap = 0;
	int rc = 0;

	for (int i = 0; i < pi->plan->nprocs && rc == 0; i++) {
		const struct ns_so_proc *p = &pi->plan->procs[i];
		uint64_t start = 0, span = 0;

		if (p->busy)
			continue;
		if (jobs < 2) {
			rc = item_add(pi, &cap, i, 0, UINT64_MAX);
			continue;
		}
		/* ranges are in address order and do not overlap: a piece [start, end) takes
		 * exactly the parts of them it covers */
		for (size_t k = 0; k < p->nranges && rc == 0; k++) {
			uint64_t lo = p->ranges[2 * k], hi = p->ranges[2 * k + 1];

			while (rc == 0 && lo < hi) {
				uint64_t take = hi - lo < ITEM_BYTES - span ? hi - lo : ITEM_BYTES - span;

				if (span == 0)
					start = lo;
				lo += take;
				span += take;
				if (span == ITEM_BYTES) {
					rc = item_add(pi, &cap, i, start, lo);
					span = 0;
				}
			}
		}
		if (rc == 0 && span)
			rc = item_add(pi, &cap, i, start, p->ranges[2 * (p->nranges - 1) + 1]);
	}
	return rc;
}

/* ---- shmem: tmpfs files, SysV segments, memfd and shared anonymous memory ---- */

struct shm_ctx {
	struct pagein *pi;
	/* files handled, by (dev, ino): an open-addressing set, so a user's million files in
	 * /dev/shm cost a million lookups, not a million squared */
	struct shm_id { dev_t dev; ino_t ino; bool used; } *seen;
	size_t nseen, capseen;
	unsigned char *vec;
};

static size_t shm_hash(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t h = ((uint64_t)dev * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)ino * 0xBF58476D1CE4E5B9ULL);

	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* 1 if the file was already handled, 0 if new (now remembered), -ENOMEM. */
static int shm_seen(struct shm_ctx *c, const struct stat *st)
{
	size_t i;

	if ((c->nseen + 1) * 2 > c->capseen) {
		size_t cap = c->capseen ? c->capseen * 2 : 256;
		struct shm_id *n = calloc(cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (size_t k = 0; k < c->capseen; k++)
			if (c->seen[k].used) {
				for (i = shm_hash(c->seen[k].dev, c->seen[k].ino, cap); n[i].used; i = (i + 1) & (cap - 1))
					;
				n[i] = c->seen[k];
			}
		free(c->seen);
		c->seen = n;
		c->capseen = cap;
	}
	for (i = shm_hash(st->st_dev, st->st_ino, c->capseen); c->seen[i].used; i = (i + 1) & (c->capseen - 1))
		if (c->seen[i].dev == st->st_dev && c->seen[i].ino == st->st_ino)
			return 1;
	c->seen[i] = (struct shm_id){st->st_dev, st->st_ino, true};
	c->nseen++;
	return 0;
}

/* A stop request seen during the shmem walk, which reads nothing for most files and so
 * passes no gate: 1 (res->stop set) to end the walk. */
static int shm_stopped(struct shm_ctx *c)
{
	if (!ns_throttle_stopped(&c->pi->thr))
		return 0;
	c->pi->res->stop = NS_SO_STOP_SIGNAL;
	return 1;
}

static uint64_t count_resident(const unsigned char *vec, uint64_t n)
{
	uint64_t r = 0;

	for (uint64_t i = 0; i < n; i++)
		r += vec[i] & 1;
	return r;
}

/* Bring a shmem file's swapped pages back by reading them with pread: a read of a hole
 * allocates nothing, so only pages that exist (resident or swapped) cost memory. mincore
 * on a mapping that is never touched tells which pages are not resident. */
static int shm_file(struct shm_ctx *c, int fd)
{
	struct pagein *pi = c->pi;
	uint64_t size, back = 0;
	struct stat st;
	char *map;
	int rc = 0;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0)
		return 0;
	rc = shm_seen(c, &st);
	if (rc)
		return rc < 0 ? rc : 0;
	size = (uint64_t)st.st_size;
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return 0; /* not mappable: leave it to swapoff(2) */
	/* tmpfs reports swapped pages as data: walk the data extents, never the holes */
	for (off_t data = 0; rc == 0 && (uint64_t)data < size;) {
		off_t hole;

		data = lseek(fd, data, SEEK_DATA);
		if (data < 0)
			break; /* ENXIO: no data after it */
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > size)
			hole = (off_t)size;
		data = (off_t)((uint64_t)data / pi->ps * pi->ps);
		for (uint64_t off = (uint64_t)data; off < (uint64_t)hole && rc == 0; off += BATCH_PAGES * pi->ps) {
			uint64_t len = (uint64_t)hole - off < BATCH_PAGES * pi->ps ? (uint64_t)hole - off : BATCH_PAGES * pi->ps;
			uint64_t pages = (len + pi->ps - 1) / pi->ps, before, after;

			if (mincore(map + off, len, c->vec) < 0) {
				rc = -errno;
				break;
			}
			before = count_resident(c->vec, pages);
			if (before == pages)
				continue; /* all in memory: nothing swapped here */
			if (gate(pi, (pages - before) * pi->ps)) {
				rc = 1;
				break;
			}
			if (pread(fd, pi->buf, len, (off_t)off) < 0) {
				rc = -errno;
				break;
			}
			if (mincore(map + off, len, c->vec) < 0) {
				rc = -errno;
				break;
			}
			after = count_resident(c->vec, pages);
			back += after > before ? (after - before) * pi->ps : 0;
			progressed(pi, NULL, after > before ? (after - before) * pi->ps : 0, true);
		}
		data = hole;
	}
	if (rc < 0)
		rc = 0; /* a file that cannot be read is left to swapoff(2) */
	munmap(map, size);
	if (back) {
		pi->res->shmem_back += back;
		pi->res->shmem_objects++;
	}
	return rc;
}

/* Every regular file below dirfd, on the same filesystem (st_dev). Users own files here
 * (/dev/shm, /run/user/UID) and may rename anything over any name at any moment: the type
 * seen by fstatat only picks what to try; each entry is opened first and judged by fstat of
 * what was opened (ns_file_open_regular never waits on a FIFO or opens a device). */
static int shm_walk(struct shm_ctx *c, int dirfd, dev_t dev, int depth)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (depth > 64) {
		close(dirfd);
		return 0;
	}
	d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return 0;
	}
	while (rc == 0 && (de = readdir(d))) {
		struct stat st;
		int fd;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (shm_stopped(c)) {
			rc = 1;
			break;
		}
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
			if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_dev != dev)) {
				close(fd);
				fd = -1;
			}
			if (fd >= 0)
				rc = shm_walk(c, fd, dev, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			/* O_NOATIME where allowed: reading back must not look like use */
			fd = ns_file_open_regular(dirfd, de->d_name, O_RDONLY | O_NOATIME, &st);
			if (fd >= 0 && st.st_dev == dev)
				rc = shm_file(c, fd);
			if (fd >= 0)
				close(fd);
		}
	}
	closedir(d);
	return rc;
}

/* Every tmpfs mount of this mount namespace. */
static int shm_tmpfs(struct shm_ctx *c)
{
	char line[8192];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int rc = 0;

	if (!f)
		return 0;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		char mnt[4096], *sep = strstr(line, " - ");
		struct stat st;
		int fd;

		if (!sep || strncmp(sep + 3, "tmpfs ", 6) != 0 || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		ns_unescape_octal(mnt);
		fd = open(mnt, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) < 0) {
			close(fd);
			continue;
		}
		rc = shm_walk(c, fd, st.st_dev, 0);
	}
	fclose(f);
	return rc;
}

/* A mapping of the caller's or another process's address space, as a file. The map_files
 * link is followed with O_PATH first: a process may map a device (devtmpfs reports as tmpfs),
 * whose open would run its driver; only a regular file is opened for reading. */
static int shm_map_file(struct shm_ctx *c, pid_t pid, uint64_t start, uint64_t end)
{
	char path[128], self[64];
	struct stat st;
	int pfd, fd, rc = 0;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)pid, (unsigned long long)start,
		 (unsigned long long)end);
	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return 0;
	if (fstat(pfd, &st) == 0 && S_ISREG(st.st_mode)) {
		/* the very inode checked, whatever the mapping's name means now */
		snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
		fd = open(self, O_RDONLY | O_NONBLOCK | O_NOATIME | O_CLOEXEC);
		if (fd < 0 && errno == EPERM)
			fd = open(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			rc = shm_file(c, fd);
			close(fd);
		}
	}
	close(pfd);
	return rc;
}

/* SysV segments with swapped pages (/proc/sysvipc/shm "swap" column): attach read-only and
 * read the segment's file through our own map_files entry. */
static int shm_sysv(struct shm_ctx *c)
{
	char line[1024];
	FILE *f = fopen("/proc/sysvipc/shm", "re");
	int rc = 0;

	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 0;
	}
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		unsigned long long size, rss, swap;
		int shmid;
		void *p;

		if (shm_stopped(c)) {
			rc = 1;
			break;
		}
		if (sscanf(line, "%*d %d %*o %llu %*d %*d %*u %*u %*u %*u %*u %*u %*u %*u %llu %llu", &shmid, &size, &rss,
			   &swap) != 4 ||
		    swap == 0 || size == 0)
			continue;
		p = shmat(shmid, NULL, SHM_RDONLY);
		if (p == (void *)-1)
			continue;
		rc = shm_map_file(c, getpid(), (uint64_t)(uintptr_t)p,
				  (uint64_t)(uintptr_t)p + ((size + c->pi->ps - 1) / c->pi->ps) * c->pi->ps);
		shmdt(p);
	}
	fclose(f);
	return rc;
}

/* memfd and shared anonymous mappings live on the kernel's internal shmem mount, which no
 * walk of tmpfs mounts reaches: find them in each process's maps. */
static int shm_procs(struct shm_ctx *c)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int rc = 0;

	if (!d)
		return 0;
	while (rc == 0 && (de = readdir(d))) {
		struct ns_maps *maps = NULL;
		struct ns_vma vma;
		pid_t pid;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		if (shm_stopped(c)) {
			rc = 1;
			break;
		}
		pid = (pid_t)atoi(de->d_name);
		if (pid == getpid() || ns_maps_open(NULL, pid, &maps) < 0)
			continue;
		while (rc == 0 && ns_maps_next(maps, &vma) > 0) {
			uint64_t huge = 0;

			if (vma.perms[3] != 's' || ns_vma_classify(NULL, pid, &vma, &huge) != NS_KIND_SHMEM)
				continue;
			rc = shm_map_file(c, pid, vma.start, vma.end);
		}
		ns_maps_close(maps);
	}
	closedir(d);
	return rc;
}

static int pagein_shmem(struct pagein *pi)
{
	struct shm_ctx c = {.pi = pi};
	int rc;

	c.vec = malloc(BATCH_PAGES);
	if (!c.vec)
		return -ENOMEM;
	rc = shm_tmpfs(&c);
	if (rc == 0)
		rc = shm_sysv(&c);
	if (rc == 0)
		rc = shm_procs(&c);
	free(c.vec);
	free(c.seen);
	return rc;
}

/* The processes' pages: the pieces of work shared out to jobs workers (o->jobs, 0: 2 on a
 * host with 2 CPUs or more, else 1; at most NS_SO_JOBS_MAX). Workers are an optimisation:
 * if no thread can be made, this thread does the work alone. They block every signal, so
 * SIGINT and SIGTERM reach the main thread's handler; the workers see the request at their
 * next batch. */
/* Each process's VM lock (opts->lock_command), taken before any is read: a busy one is marked
 * and left out, its bytes out of the total. An unsafe lock directory stops the run (fail
 * closed). locks[i] is -1 for a process not locked. */
static int procs_lock(struct pagein *pi, int *locks)
{
	for (int i = 0; i < pi->plan->nprocs; i++) {
		struct ns_so_proc *p = &pi->plan->procs[i];
		struct ns_vm_holder h;
		char msg[512];
		int rc;

		locks[i] = -1;
		if (!pi->o->lock_command)
			continue;
		rc = ns_vm_lock(p->pid, p->start_time, pi->o->lock_command, &locks[i], &h, msg, sizeof(msg));
		if (rc == -EBUSY) {
			p->busy = true;
			p->busy_pid = h.pid;
			snprintf(p->busy_command, sizeof(p->busy_command), "%s", h.command);
			pi->res->busy++;
			pi->total = ns_sat_sub(pi->total, p->bytes);
		} else if (rc < 0) {
			(void)ns_detail(0, "%s", msg[0] ? msg : strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static int pagein_procs(struct pagein *pi)
{
	unsigned jobs = pi->o->jobs ? pi->o->jobs : (sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1);
	struct worker *w = NULL;
	unsigned started = 0;
	sigset_t all, old;
	int rc, *locks;

	if (jobs > NS_SO_JOBS_MAX)
		jobs = NS_SO_JOBS_MAX;
	locks = malloc(((size_t)pi->plan->nprocs + 1) * sizeof(*locks));
	if (!locks)
		return -ENOMEM;
	rc = procs_lock(pi, locks);
	if (rc < 0)
		goto out;
	rc = items_make(pi, jobs);
	pi->gone = calloc((size_t)pi->plan->nprocs + 1, sizeof(*pi->gone));
	if (rc < 0 || !pi->gone) {
		rc = -ENOMEM;
		goto out;
	}
	if (jobs > pi->nitems)
		jobs = pi->nitems ? (unsigned)pi->nitems : 1;
	w = calloc(jobs, sizeof(*w));
	if (!w) {
		rc = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < jobs; i++) {
		w[i].pi = pi;
		w[i].pidfd = -1;
	}
	if (jobs > 1) {
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		for (started = 0; started < jobs; started++)
			if (pthread_create(&w[started].th, NULL, worker_main, &w[started]) != 0)
				break;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		for (unsigned i = 0; i < started; i++)
			pthread_join(w[i].th, NULL);
	}
	if (started == 0)
		worker_main(&w[0]); /* one job, or no thread could be made */
	pi->res->jobs = pi->nitems == 0 ? 0 : started ? started : 1;
	rc = pi->err;
out:
	for (int i = 0; i < pi->plan->nprocs; i++)
		ns_vm_unlock(locks[i]);
	free(locks);
	free(w);
	free(pi->gone);
	free(pi->items);
	return rc;
}

int ns_so_pagein(const struct ns_so_opts *o, struct ns_so_plan *plan, struct ns_so_result *res)
{
	struct ns_hostmem hm;
	struct pagein pi;
	bool have_hm;
	int rc = 0;

	ns_detail_clear();
	memset(res, 0, sizeof(*res));
	memset(&pi, 0, sizeof(pi));
	pi.o = o;
	pi.plan = plan;
	pi.res = res;
	pi.ps = (uint64_t)sysconf(_SC_PAGESIZE);
	pi.total = plan->proc_bytes;
	pi.t0 = ns_now();
	rc = ns_throttle_init(&pi.thr, o->root, o->rate, o->max_psi, o->psi_grace, o->stop);
	if (rc < 0)
		return rc;
	pi.buf = malloc(BATCH_PAGES * pi.ps);
	if (!pi.buf)
		return -ENOMEM;
	pthread_mutex_init(&pi.mu, NULL);
	/* Pages still in the swap cache are in memory and charged to their cgroups already:
	 * swapoff(2) maps them with no read and no allocation, and frees their slots in the same
	 * pass. Faulting them in first did that work twice (the kernel keeps a read fault's slot
	 * in the swap cache, so swapoff(2) still visits every slot): in the lab, swapoff(2) after
	 * paging in 600 MiB of cached pages took as long as swapoff(2) alone (3.9 s each). So
	 * when every used slot but a few (SwapTotal - SwapFree - SwapCached bounds this area's
	 * uncached part) is in the swap cache, nothing is left to check or pace. A meminfo that
	 * does not read only means the pages are read back as usual. */
	have_hm = ns_hostmem_read(o->root, &hm) == 0;
	if (have_hm && cached_only(o, plan, &hm)) {
		res->cached = plan->used;
		goto out;
	}
	if (plan->cached_only) {
		rc = -EAGAIN; /* nothing was scanned: nothing to read from */
		goto out;
	}
	/* Read-ahead is for pages on the device. When (nearly) every used swap slot is still in
	 * the swap cache there is little to read, and asking would walk each range's page
	 * tables once more for nothing. Only a hint: if it does not read, read-ahead stays on. */
	if (o->readahead && have_hm) {
		uint64_t used = ns_sat_sub(hm.swap_total, hm.swap_free);

		if (used > 0 && hm.swap_cached >= used - used / 10)
			pi.ra_off = true;
	}
	/* shmem first, as the kernel's swapoff does; it belongs to no single process */
	if (!o->pids && ns_root_is_live(o->root)) {
		pi.total += plan->other;
		rc = pagein_shmem(&pi);
		if (rc < 0)
			goto out;
		rc = 0;
	}
	rc = pagein_procs(&pi);
out:
	/* a stop request that arrived where nothing was left to gate (the last file, the last
	 * process, or a blocking call it interrupted) is still a stop: the caller must not
	 * swap off as if it were done */
	if (rc == 0 && res->stop == NS_SO_DONE && ns_throttle_stopped(&pi.thr))
		res->stop = NS_SO_STOP_SIGNAL;
	res->duration = ns_now() - pi.t0;
	free(pi.buf);
	pthread_mutex_destroy(&pi.mu);
	return rc;
}

int ns_so_lock(const char *area, int *fd, pid_t *holder, char *errmsg, size_t len)
{
	char name[64];
	struct stat st;

	*fd = -1;
	if (holder)
		*holder = 0;
	if (stat(area, &st) < 0) {
		int err = errno;

		if (errmsg && len)
			snprintf(errmsg, len, "%s: %s", area, strerror(err));
		return -err;
	}
	if (S_ISBLK(st.st_mode))
		snprintf(name, sizeof(name), "swapoff-dev-%u:%u", major(st.st_rdev), minor(st.st_rdev));
	else
		snprintf(name, sizeof(name), "swapoff-file-%llx-%llu", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
	return ns_runlock_take(name, fd, holder, errmsg, len);
}

void ns_so_unlock(int fd)
{
	ns_runlock_release(fd);
}
