/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The migration engine. Its preflight counts from numa_maps and smaps. It walks the process's
 * VMAs through pagemap in bounded windows, jumping over what is not populated (PAGEMAP_SCAN)
 * and heeding stop requests between windows, asks move_pages(2) where each present page is,
 * and moves the ones on source nodes in chunks sized so that no single call stalls the guest
 * for long. Before every chunk it re-reads the
 * target's free memory and the host's PSI, and it paces itself with a token bucket. What it
 * moved is remembered as compact runs (address, count, node it came from) so that a rollback
 * costs memory in proportion to fragmentation, not to the VM's size; after a rollback every
 * page in that record is looked up, so each byte moved is accounted back or not back. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <numaif.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "numasafe/caps.h"
#include "numasafe/file.h"
#include "numasafe/migrate.h"
#include "numasafe/psi.h"
#include "numasafe/topo.h"
#include "throttle.h"
#include "util.h"

#define WIN_PAGES 4096		 /* pagemap entries per window (32 KiB buffer) */
#define SCAN_SPAN (64ULL << 30)	 /* address space per PAGEMAP_SCAN call: bounds each call's walk */
#define THP_PAGES 512		 /* PMD-sized THP on x86-64 */
#define STATUS_UNSET INT_MIN	 /* sentinel: the kernel did not write this slot */
#define CHUNK_MIN 32
#define CHUNK_MAX 16384
#define CHUNK_START 512
#define RETRY_MAX 65536
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_THP 22

/* One unit passed to move_pages: a base page, a THP (head address) or a hugetlb page. */
struct unit {
	uint64_t addr;
	uint32_t pages; /* base pages it covers */
	int16_t orig;	/* node it was on */
	int8_t kind;
	int8_t thp;
};

struct run {
	uint64_t addr;
	uint32_t count; /* units */
	uint32_t pages; /* base pages per unit */
	int16_t orig;
	int8_t kind;
};

/* A thread that makes move_pages calls while the main thread walks, checks and paces: with
 * jobs > 1 several chunks are in flight at once, each call still bounded like any other.
 * It only calls move_pages; everything it found is accounted by the main thread. */
struct mover {
	pthread_t th;
	pthread_cond_t cv; /* work handed out (under mig.mv_mu, as is state) */
	enum { MOVER_IDLE, MOVER_WORK, MOVER_DONE, MOVER_QUIT } state;
	struct mig *m;
	struct unit *units;
	void **addrs;
	int *nodes, *status;
	unsigned n, pages, chunk; /* units, base pages, and the chunk size when it was handed out */
	uint64_t bytes, huge; /* counted as in flight (bytes; hugetlb pages) until accounted */
	long rc;
	int err;
	uint64_t dt;
	double end; /* when the call ended (ns_now) */
};

struct mig {
	pid_t pid;
	const struct ns_mig_opts *o;
	struct ns_topo *topo;
	struct ns_set from, to;
	uint64_t ps;
	int pm_fd, kpf_fd;
	int flags;

	/* walker */
	struct ns_maps *maps;
	struct ns_vma vma;
	int vma_kind;
	uint64_t vma_huge, cursor;
	bool have_vma;
	bool scan; /* the kernel has PAGEMAP_SCAN: the walk jumps over what is not populated */
	uint64_t pm[WIN_PAGES];

	/* memory block -> node, so a page's node follows from its PFN without a syscall */
	int16_t *blk_node;
	size_t nblk;
	uint64_t blk_pages;

	/* the pending chunk */
	struct unit *pend;
	unsigned npend, pend_pages, chunk;
	struct ns_mig_costs costs; /* of the last calls, for the chunk size */
	void **addrs;
	int *nodes, *status;

	/* where units whose status the kernel left unwritten are now (resolve_unset, and the
	 * pages of a THP that arrived split): scratch for one query */
	void **q_addrs;
	int *q_status;
	unsigned *q_idx;

	/* retries (-EBUSY, unattempted) */
	struct unit *retry;
	unsigned nretry;
	bool retry_overflow;

	/* rollback record */
	struct run *runs;
	size_t nruns, capruns;
	uint64_t lost_bytes; /* moved, but the record could not hold them */

	/* the rollback and its check (settle): what is asked about, what is tried again */
	struct unit *sv_slot, *sv_again;
	int *sv_st;
	uint64_t rb_progress; /* bytes seen back during the rollback calls (for progress only) */
	bool rb_stopped;

	/* pacing and pressure */
	double t_start, t_phase;
	struct ns_throttle thr;
	uint64_t headroom_seen;
	enum ns_mig_stop stop;
	bool rolling_back;

	struct ns_mig_result *res;
	uint64_t total_bytes;

	/* parallel movers (jobs > 1): each chunk goes to the first one free */
	struct mover *movers;
	unsigned nmovers;
	pthread_mutex_t mv_mu; /* the movers' states */
	pthread_cond_t mv_done; /* a mover finished its call */
	uint64_t inflight;	/* bytes (not hugetlb) handed to movers and not yet accounted */
	uint64_t inflight_huge; /* hugetlb pages, likewise: they come out of the pools */
};

void ns_mig_opts_init(struct ns_mig_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_psi = NS_MIG_DEFAULT_MAX_PSI;
	o->psi_grace = NS_MIG_DEFAULT_GRACE;
	o->rollback = true;
}

const char *ns_mig_unback_name(enum ns_mig_unback r)
{
	static const char *const names[NS_MIG_UNBACK_COUNT] = {
		"busy", "nomem", "shared", "not_present", "unmapped", "exited", "stopped", "other",
	};

	return r >= 0 && r < NS_MIG_UNBACK_COUNT ? names[r] : "?";
}

const char *ns_mig_stop_str(enum ns_mig_stop s)
{
	switch (s) {
	case NS_MIG_DONE:
		return "done";
	case NS_MIG_STOP_HEADROOM:
		return "target headroom ran out";
	case NS_MIG_STOP_PSI:
		return "memory pressure above the limit";
	case NS_MIG_STOP_ENOMEM:
		return "the kernel could not allocate on the target (ENOMEM)";
	case NS_MIG_STOP_SIGNAL:
		return "interrupted";
	case NS_MIG_STOP_EXITED:
		return "the process exited";
	}
	return "?";
}

/* ---- walking the address space ---- */

static int walker_open(struct mig *m)
{
	char path[4096];
	int rc;

	m->have_vma = false;
	/* pagemap and kpageflags stay open for the run: accounting and the rollback look at
	 * pages after the walk too */
	if (m->pm_fd < 0) {
		uint64_t found, walk_end;

		rc = ns_path(path, sizeof(path), m->o->root, "/proc/%d/pagemap", (int)m->pid);
		if (rc < 0)
			return rc;
		m->pm_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (m->pm_fd < 0)
			return errno == ENOENT ? -ESRCH : -errno;
		/* kpageflags tells THP heads from base pages; without it (not root) every page is
		 * passed alone, which is correct, only slower for THP */
		rc = ns_path(path, sizeof(path), m->o->root, "/proc/kpageflags");
		m->kpf_fd = rc < 0 ? -1 : open(path, O_RDONLY | O_CLOEXEC);
		m->scan = ns_pagemap_next_populated(m->pm_fd, 0, m->ps, &found, &walk_end) != -EOPNOTSUPP;
	}
	/* without PAGEMAP_SCAN, smaps's per-VMA Rss and Swap let the walk skip VMAs that hold
	 * nothing (the kernel walks only populated page tables for them); with it, maps is
	 * enough and cheaper (smaps walks every page table of a large VM) */
	rc = m->scan ? ns_maps_open(m->o->root, m->pid, &m->maps) : ns_maps_open_smaps(m->o->root, m->pid, &m->maps);
	if (rc < 0)
		return rc == -ENOENT ? -ESRCH : rc;
	return 0;
}

/* Move the cursor to the first populated address of the VMA at or after it, aligned down to
 * a THP boundary (not below where it was): 1. 0 when nothing is populated in the span looked
 * at (the cursor moved past it), -errno.
 * One call looks at SCAN_SPAN of address space at most, so a walk over terabytes returns to
 * its caller (and its stop check) often. */
static int walker_seek(struct mig *m)
{
	uint64_t lim = m->vma.end - m->cursor > SCAN_SPAN ? m->cursor + SCAN_SPAN : m->vma.end;
	uint64_t found, walk_end, thp = THP_PAGES * m->ps;
	int rc = ns_pagemap_next_populated(m->pm_fd, m->cursor, lim, &found, &walk_end);

	if (rc == -EOPNOTSUPP) {
		m->scan = false; /* read pagemap itself from here on */
		return 1;
	}
	if (rc <= 0) {
		if (rc == 0)
			m->cursor = walk_end;
		return rc;
	}
	if (m->vma_kind == NS_KIND_HUGETLB && m->vma_huge > thp)
		thp = m->vma_huge;
	found &= ~(thp - 1);
	if (found > m->cursor)
		m->cursor = found;
	return 1;
}

static void walker_close(struct mig *m)
{
	ns_maps_close(m->maps);
	m->maps = NULL;
}

static void pagemap_close(struct mig *m)
{
	if (m->pm_fd >= 0)
		close(m->pm_fd);
	if (m->kpf_fd >= 0)
		close(m->kpf_fd);
	m->pm_fd = m->kpf_fd = -1;
}

static uint64_t page_flags(const struct mig *m, uint64_t entry)
{
	uint64_t pfn = ns_pme_pfn(entry), flags = 0;

	if (m->kpf_fd < 0 || pfn == 0)
		return 0;
	if (pread(m->kpf_fd, &flags, sizeof(flags), (off_t)(pfn * sizeof(flags))) != sizeof(flags))
		return 0;
	return flags;
}

/* Is the page at this address still a THP? Used to report what arrived. */
static bool still_thp(const struct mig *m, uint64_t addr)
{
	uint64_t e;

	if (m->pm_fd < 0 || pread(m->pm_fd, &e, sizeof(e), (off_t)(addr / m->ps * sizeof(e))) != sizeof(e))
		return false;
	return (page_flags(m, e) & (1ULL << KPF_THP)) != 0;
}

/* The sysfs memory blocks of every node: /sys/devices/system/node/nodeN/memoryM links. */
static int load_block_map(struct mig *m)
{
	const struct ns_set *online = ns_topo_nodes(m->topo);
	char path[4096], buf[64];
	uint64_t bsz;

	if (ns_path(path, sizeof(path), m->o->root, "/sys/devices/system/memory/block_size_bytes") < 0 ||
	    ns_read_file(path, buf, sizeof(buf)) <= 0)
		return 0; /* no map: every page gets asked */
	bsz = strtoull(buf, NULL, 16);
	if (bsz < m->ps)
		return 0;
	m->blk_pages = bsz / m->ps;
	for (int n = ns_set_next(online, 0); n >= 0; n = ns_set_next(online, (unsigned)n + 1)) {
		struct dirent *de;
		DIR *d;

		if (ns_path(path, sizeof(path), m->o->root, "/sys/devices/system/node/node%d", n) < 0)
			continue;
		d = opendir(path);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			unsigned long idx;
			char *end;

			if (strncmp(de->d_name, "memory", 6) != 0)
				continue;
			idx = strtoul(de->d_name + 6, &end, 10);
			if (*end || end == de->d_name + 6)
				continue;
			if (idx >= m->nblk) {
				size_t nn = idx + 1024;
				int16_t *nb = realloc(m->blk_node, nn * sizeof(*nb));

				if (!nb) {
					closedir(d);
					return -ENOMEM;
				}
				for (size_t i = m->nblk; i < nn; i++)
					nb[i] = -1;
				m->blk_node = nb;
				m->nblk = nn;
			}
			m->blk_node[idx] = (int16_t)n;
		}
		closedir(d);
	}
	return 0;
}

static int16_t pfn_node(const struct mig *m, uint64_t pfn)
{
	uint64_t blk;

	if (pfn == 0 || m->blk_pages == 0)
		return -1; /* PFNs hidden (no CAP_SYS_ADMIN) or no map: ask move_pages */
	blk = pfn / m->blk_pages;
	return blk < m->nblk ? m->blk_node[blk] : -1;
}

/* Fill units[] with the present pages of the next window. Returns 1 with *n set (possibly 0),
 * 0 when the walk is over, -errno on error. */
static int walker_next(struct mig *m, struct unit *units, unsigned *n, uint64_t *swapped)
{
	uint64_t start, end, win_end, count;
	ssize_t got;
	int rc;

	*n = 0;
	while (!m->have_vma || m->cursor >= m->vma.end) {
		rc = ns_maps_next(m->maps, &m->vma);
		if (rc <= 0)
			return rc;
		m->vma_kind = ns_vma_classify(m->o->root, m->pid, &m->vma, &m->vma_huge);
		m->cursor = m->vma.start;
		m->have_vma = m->vma_kind >= 0;
		/* smaps (no PAGEMAP_SCAN) says nothing is resident or swapped here */
		if (m->vma.swap_known && m->vma.rss_kb == 0 && m->vma.swap_kb == 0)
			m->have_vma = false;
	}
	if (m->scan) {
		rc = walker_seek(m);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return 1; /* nothing populated in this span: an empty window */
	}
	start = m->cursor;
	/* end windows on 2 MiB boundaries so a THP never straddles two windows */
	win_end = ((start / (THP_PAGES * m->ps)) + WIN_PAGES / THP_PAGES) * THP_PAGES * m->ps;
	end = win_end < m->vma.end ? win_end : m->vma.end;
	count = (end - start) / m->ps;
	got = pread(m->pm_fd, m->pm, count * sizeof(uint64_t), (off_t)(start / m->ps * sizeof(uint64_t)));
	if (got < 0)
		return errno == ESRCH ? -ESRCH : -errno;
	if (got == 0)
		return -ESRCH;
	count = (uint64_t)got / sizeof(uint64_t);
	m->cursor = start + count * m->ps;

	for (uint64_t i = 0; i < count; i++) {
		uint64_t e = m->pm[i], addr = start + i * m->ps, step = 1;
		struct unit *u;

		if (ns_pme_swapped(e) && ns_pme_swap_offset(e) != 0) {
			*swapped += m->ps;
			continue;
		}
		if (!ns_pme_present(e))
			continue;
		u = &units[*n];
		u->addr = addr;
		u->orig = pfn_node(m, ns_pme_pfn(e));
		u->pages = 1;
		u->kind = (int8_t)m->vma_kind;
		u->thp = 0;
		if (m->vma_kind == NS_KIND_HUGETLB && m->vma_huge > m->ps) {
			/* one address per huge page; the rest of it is the same page */
			uint64_t hp = m->vma_huge / m->ps;

			if ((addr / m->ps) % hp != 0)
				continue;
			u->pages = (uint32_t)hp;
			step = hp;
		} else if ((addr / m->ps) % THP_PAGES == 0 && i + THP_PAGES <= count) {
			uint64_t fl = page_flags(m, e);

			if ((fl & (1ULL << KPF_THP)) && (fl & (1ULL << KPF_COMPOUND_HEAD))) {
				u->pages = THP_PAGES;
				u->thp = 1;
				if (u->kind == NS_KIND_ANON)
					u->kind = NS_KIND_THP;
				step = THP_PAGES;
			}
		}
		(*n)++;
		i += step - 1;
	}
	return 1;
}

/* Where is each unit now? Units whose node the PFN told keep it; the others are asked with
 * move_pages(nodes=NULL). Units the kernel cannot place are dropped. */
static int query_nodes(struct mig *m, struct unit *units, unsigned *n)
{
	unsigned k = 0, q = 0;
	long rc;

	for (unsigned i = 0; i < *n; i++)
		if (units[i].orig < 0) {
			m->addrs[q] = (void *)(uintptr_t)units[i].addr;
			m->status[q++] = STATUS_UNSET;
		}
	if (q) {
		rc = move_pages(m->pid, q, m->addrs, NULL, m->status, 0);
		if (rc < 0)
			return errno == ESRCH ? -ESRCH : -errno;
	}
	q = 0;
	for (unsigned i = 0; i < *n; i++) {
		if (units[i].orig < 0) {
			int s = m->status[q++];

			if (s < 0)
				continue; /* gone, or not movable: -EFAULT / -ENOENT */
			units[i].orig = (int16_t)s;
		}
		units[k++] = units[i];
	}
	*n = k;
	return 0;
}

/* ---- pressure, headroom, pacing ---- */

static uint64_t target_headroom(struct mig *m, int node)
{
	const struct ns_node *tn = ns_topo_find(m->topo, node);
	struct ns_node cur;

	if (!tn)
		return 0;
	cur = *tn;
	if (ns_node_read_meminfo(m->o->root, node, &cur) < 0)
		return 0;
	return ns_node_headroom(&cur, ns_reserve_for(&cur, m->o->reserve));
}

static uint64_t huge_free(struct mig *m, int node, uint64_t size)
{
	char path[4096];
	uint64_t v = 0;

	if (ns_path(path, sizeof(path), m->o->root,
		    "/sys/devices/system/node/node%d/hugepages/hugepages-%llukB/free_hugepages", node,
		    (unsigned long long)(size / 1024)) < 0 ||
	    ns_read_u64(path, &v) < 0)
		return 0;
	return v;
}

/* Pick the target with the most room for this chunk; -1 (and m->stop) when none has it. */
static int pick_target(struct mig *m, uint64_t bytes, uint64_t huge_pages, uint64_t huge_size)
{
	int best = -1;
	uint64_t best_room = 0;

	for (int t = ns_set_next(&m->to, 0); t >= 0; t = ns_set_next(&m->to, (unsigned)t + 1)) {
		uint64_t room = target_headroom(m, t);

		if (huge_pages && huge_free(m, t, huge_size) < huge_pages)
			continue;
		if (room >= bytes && (best < 0 || room > best_room)) {
			best = t;
			best_room = room;
		}
	}
	m->headroom_seen = best_room;
	return best;
}

static void report(struct mig *m)
{
	struct ns_mig_progress p;

	if (!m->o->progress)
		return;
	p.moved_bytes = m->rolling_back ? m->rb_progress : m->res->moved_total;
	p.total_bytes = m->rolling_back ? m->res->moved_total : m->total_bytes;
	p.elapsed = ns_now() - m->t_phase;
	p.target_headroom = m->headroom_seen;
	p.rolling_back = m->rolling_back;
	m->o->progress(m->o->progress_arg, &p);
}

/* ---- moving ---- */

/* Does unit-run b start where a ends, with the same node, kind and unit size? */
static bool run_joins(const struct mig *m, const struct run *a, const struct run *b)
{
	return a->orig == b->orig && a->pages == b->pages && a->kind == b->kind &&
	       a->addr + (uint64_t)a->count * a->pages * m->ps == b->addr && (uint64_t)a->count + b->count <= UINT32_MAX;
}

static int run_cmp(const void *a, const void *b)
{
	const struct run *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Sort the runs by address and merge the ones that join. */
static void runs_compact(struct mig *m)
{
	size_t k = 0;

	qsort(m->runs, m->nruns, sizeof(*m->runs), run_cmp);
	for (size_t i = 0; i < m->nruns; i++) {
		if (k && run_joins(m, &m->runs[k - 1], &m->runs[i]))
			m->runs[k - 1].count += m->runs[i].count;
		else
			m->runs[k++] = m->runs[i];
	}
	m->nruns = k;
}

/* Remember that unit u moved. Movers' chunks are accounted in the order they come back, not
 * in address order, so a unit extends any of the last few runs; and a full record is sorted
 * and merged before it grows (a review measured 8396 runs for 20000 contiguous chunks with 2
 * movers when only the last run was extended). */
static int record_run(struct mig *m, const struct unit *u)
{
	struct run nu = {u->addr, 1, u->pages, u->orig, u->kind};

	for (size_t i = m->nruns, look = 0; i > 0 && look < 8; i--, look++)
		if (run_joins(m, &m->runs[i - 1], &nu)) {
			m->runs[i - 1].count++;
			return 0;
		}
	if (m->nruns == m->capruns) {
		if (m->nruns)
			runs_compact(m);
		if (m->capruns == 0 || m->nruns > m->capruns / 4 * 3) {
			/* starts small, so that the lab's rollbacks sort and merge too */
			size_t cap = m->capruns ? m->capruns * 2 : 16;
			struct run *nr = realloc(m->runs, cap * sizeof(*nr));

			if (!nr)
				return -ENOMEM;
			m->runs = nr;
			m->capruns = cap;
		}
	}
	m->runs[m->nruns++] = nu;
	return 0;
}

unsigned ns_mig_next_chunk(struct ns_mig_costs *c, unsigned now, unsigned pages, unsigned chunk_then,
			   uint64_t ns, uint64_t target_ns, unsigned lo, unsigned hi)
{
	double want, worst = 0;

	if (pages == 0 || pages < chunk_then / 2 || ns == 0)
		return now; /* a partial chunk says little */
	/* the cost comes from the call itself: with calls in flight together the chunk may have
	 * changed since this one was handed out; the limit on growth comes from the size now */
	c->ns_per_page[c->next] = (double)ns / (double)pages;
	c->next = (c->next + 1) % NS_MIG_COST_WINDOW;
	if (c->n < NS_MIG_COST_WINDOW)
		c->n++;
	for (unsigned i = 0; i < c->n; i++)
		if (c->ns_per_page[i] > worst)
			worst = c->ns_per_page[i];
	want = (double)target_ns / worst;
	if (want > (double)now * 1.25)
		want = (double)now * 1.25;
	if (want < (double)lo)
		want = (double)lo;
	if (want > (double)hi)
		want = (double)hi;
	return (unsigned)want;
}

static void adapt_chunk(struct mig *m, uint64_t ns, unsigned pages, unsigned chunk_then)
{
	if (!m->o->chunk) /* else fixed by the operator */
		/* a call should take 20 ms, 10 ms with calls in parallel (they contend, and a chunk
		 * sized on a quick call lands on a slow one) */
		m->chunk = ns_mig_next_chunk(&m->costs, m->chunk, pages, chunk_then, ns,
					     m->nmovers ? NS_MIG_TARGET_CALL_NS / 2 : NS_MIG_TARGET_CALL_NS, CHUNK_MIN,
					     CHUNK_MAX);
}

/* May a unit of next base pages join a chunk of n units and pages base pages? A chunk ends
 * before the unit that would take it past the chunk size; a unit alone always goes. Ending
 * after it instead made calls of 3 THPs where the size allowed 2: 30-45 ms in the lab,
 * against an aim of 10. */
static bool chunk_takes(const struct mig *m, unsigned n, unsigned pages, unsigned next)
{
	return n == 0 || (n < CHUNK_MAX && pages + next <= m->chunk);
}

static void fill_call(const struct unit *units, unsigned n, int dest, void **addrs, int *nodes, int *status)
{
	for (unsigned i = 0; i < n; i++) {
		addrs[i] = (void *)(uintptr_t)units[i].addr;
		nodes[i] = dest >= 0 ? dest : units[i].orig;
		status[i] = STATUS_UNSET;
	}
}

/* The call itself, timed; rc < 0 with *err set on a whole-call failure. */
static long timed_move(pid_t pid, unsigned n, void **addrs, int *nodes, int *status, int flags, uint64_t *dt,
		       int *err, double *end)
{
	struct timespec a, b;
	long rc;

	clock_gettime(CLOCK_MONOTONIC, &a);
	rc = move_pages(pid, n, addrs, nodes, status, flags);
	*err = rc < 0 ? errno : 0;
	clock_gettime(CLOCK_MONOTONIC, &b);
	*dt = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000ULL + (uint64_t)b.tv_nsec - (uint64_t)a.tv_nsec;
	*end = (double)b.tv_sec + (double)b.tv_nsec / 1e9; /* the clock of ns_now */
	return rc;
}

/* The kernel writes no status for a unit when the call failed whole, or when another page of
 * the unit's batch could not move: do_pages_move stores a batch's statuses only when all of it
 * moved, yet the others of that batch did move. Ask where each such unit is now: found on
 * nodes[i], it moved (status nodes[i]); gone from the address space, it gets that status; the
 * rest stay STATUS_UNSET, not moved. If the question itself fails they all stay unset. */
static void resolve_unset(struct mig *m, const struct unit *units, unsigned n, const int *nodes, int *status)
{
	unsigned q = 0;

	for (unsigned i = 0; i < n; i++)
		if (status[i] == STATUS_UNSET) {
			m->q_addrs[q] = (void *)(uintptr_t)units[i].addr;
			m->q_status[q] = STATUS_UNSET;
			m->q_idx[q++] = i;
		}
	if (q == 0 || move_pages(m->pid, q, m->q_addrs, NULL, m->q_status, 0) < 0)
		return;
	for (unsigned k = 0; k < q; k++) {
		int s = m->q_status[k];
		unsigned i = m->q_idx[k];

		if ((s >= 0 && s == nodes[i]) || s == -EFAULT || s == -ENOENT)
			status[i] = s;
	}
}

/* u arrived on a target: count it and remember it for a rollback. A record that cannot grow
 * (no memory) ends the move like pressure; the bytes are kept as lost, so the rollback's
 * account still covers them. */
static void count_moved(struct mig *m, const struct unit *u)
{
	uint64_t bytes = (uint64_t)u->pages * m->ps;

	m->res->pages_moved++;
	m->res->moved[u->kind] += bytes;
	m->res->moved_total += bytes;
	if (record_run(m, u) < 0) {
		m->lost_bytes += bytes;
		m->stop = NS_MIG_STOP_ENOMEM;
	}
}

/* Not moved now: kept for the retry at the end, or counted busy. */
static void not_moved(struct mig *m, const struct unit *u, bool collect_retry)
{
	if (!collect_retry)
		m->res->pages_busy++;
	else if (m->nretry < RETRY_MAX)
		m->retry[m->nretry++] = *u;
	else
		m->retry_overflow = true;
}

/* A THP unit whose head arrived on dest but is no longer huge: the kernel split it, on the way
 * (no huge page free on the target: every base page moved) or before the call (only the
 * first base page went). Each base page is looked up and counted where it is, so the record
 * and moved_total hold what really moved and a rollback moves every page back. */
static void thp_arrived_split(struct mig *m, const struct unit *u, int dest, bool collect_retry)
{
	struct unit b = *u;

	b.pages = 1;
	b.thp = 0;
	for (unsigned j = 0; j < u->pages; j++) {
		m->q_addrs[j] = (void *)(uintptr_t)(u->addr + (uint64_t)j * m->ps);
		m->q_status[j] = STATUS_UNSET;
	}
	if (move_pages(m->pid, u->pages, m->q_addrs, NULL, m->q_status, 0) < 0) {
		count_moved(m, u); /* cannot tell: kept whole, the rollback checks it page by page */
		return;
	}
	for (unsigned j = 0; j < u->pages; j++) {
		b.addr = u->addr + (uint64_t)j * m->ps;
		if (m->q_status[j] == dest)
			count_moved(m, &b);
		else if (m->q_status[j] >= 0)
			not_moved(m, &b, collect_retry);
		/* negative: the page is gone from the address space; nothing moved, nothing to move */
	}
}

/* Account one finished call for units[0..n) (pages: base pages it carried). Returns 0 or
 * -errno for a whole-call failure (after counting what moved before it failed). */
static int account(struct mig *m, struct unit *units, unsigned n, unsigned pages, unsigned chunk_then,
		   const int *nodes, int *status, long rc, int err, uint64_t dt, double end, bool collect_retry)
{
	m->res->calls++;
	if (!m->rolling_back && end - m->t_start > m->res->last_call_end)
		m->res->last_call_end = end - m->t_start;
	m->res->move_ns += dt;
	if (dt > m->res->longest_call_ns) {
		m->res->longest_call_ns = dt;
		m->res->longest_call_end = end - m->t_start;
	}
	if (rc < 0 && err == ESRCH)
		return -ESRCH;
	resolve_unset(m, units, n, nodes, status);
	for (unsigned i = 0; i < n; i++) {
		struct unit *u = &units[i];
		int s = status[i];

		if (m->rolling_back) {
			/* for the progress meter only: settle() counts what is back */
			if (s == u->orig)
				m->rb_progress += (uint64_t)u->pages * m->ps;
			continue;
		}
		if (s >= 0 && s == nodes[i]) {
			if (u->thp) {
				m->res->thp_seen++;
				if (still_thp(m, u->addr)) {
					m->res->thp_arrived_huge++;
					count_moved(m, u);
				} else
					thp_arrived_split(m, u, nodes[i], collect_retry);
			} else
				count_moved(m, u);
		} else if (s == STATUS_UNSET || s == -EBUSY)
			not_moved(m, u, collect_retry);
		else if (s == -EFAULT)
			m->res->pages_fault++;
		else if (s == -ENOENT)
			m->res->pages_noent++;
		else if (s == -EACCES)
			m->res->pages_acces++;
		else if (s == -ENOMEM) {
			m->res->pages_nomem++;
			m->stop = NS_MIG_STOP_ENOMEM; /* the target cannot allocate: that is pressure */
		} else
			m->res->pages_other++;
	}
	if (rc < 0)
		return -err;
	adapt_chunk(m, dt, pages, chunk_then);
	if (m->res->chunk_min == 0 || n < m->res->chunk_min)
		m->res->chunk_min = n;
	if (n > m->res->chunk_max)
		m->res->chunk_max = n;
	return 0;
}

/* One move_pages call for units[0..n) (pages base pages) to node dest (or each unit's orig
 * when dest < 0), in this thread. Accounts each unit. Returns 0 or -errno for a whole-call
 * failure. */
static int move_units(struct mig *m, struct unit *units, unsigned n, unsigned pages, int dest, bool collect_retry)
{
	uint64_t dt;
	double end;
	int err;
	long rc;

	fill_call(units, n, dest, m->addrs, m->nodes, m->status);
	rc = timed_move(m->pid, n, m->addrs, m->nodes, m->status, m->flags, &dt, &err, &end);
	return account(m, units, n, pages, m->chunk, m->nodes, m->status, rc, err, dt, end, collect_retry);
}

/* A whole-call failure that ends the move, not the run: the target could not allocate
 * (pressure) or the process is gone. Sets m->stop and says so. */
static bool call_ended(struct mig *m, int rc)
{
	if (rc == -ENOMEM)
		m->stop = NS_MIG_STOP_ENOMEM;
	else if (rc == -ESRCH)
		m->stop = NS_MIG_STOP_EXITED;
	else
		return false;
	return true;
}

/* ---- parallel movers ---- */

static void *mover_main(void *arg)
{
	struct mover *w = arg;
	struct mig *m = w->m;

	pthread_mutex_lock(&m->mv_mu);
	for (;;) {
		while (w->state != MOVER_WORK && w->state != MOVER_QUIT)
			pthread_cond_wait(&w->cv, &m->mv_mu);
		if (w->state == MOVER_QUIT)
			break;
		pthread_mutex_unlock(&m->mv_mu);
		w->rc = timed_move(m->pid, w->n, w->addrs, w->nodes, w->status, m->flags, &w->dt, &w->err, &w->end);
		pthread_mutex_lock(&m->mv_mu);
		if (w->state != MOVER_QUIT) /* told to quit meanwhile: do not wait again */
			w->state = MOVER_DONE;
		pthread_cond_broadcast(&m->mv_done);
	}
	pthread_mutex_unlock(&m->mv_mu);
	return NULL;
}

/* Wait for the mover's chunk, if it has one, and account it. */
static int mover_collect(struct mig *m, struct mover *w)
{
	int rc;

	pthread_mutex_lock(&m->mv_mu);
	if (w->state == MOVER_IDLE) {
		pthread_mutex_unlock(&m->mv_mu);
		return 0;
	}
	while (w->state != MOVER_DONE)
		pthread_cond_wait(&m->mv_done, &m->mv_mu);
	w->state = MOVER_IDLE;
	pthread_mutex_unlock(&m->mv_mu);
	m->inflight -= w->bytes;
	m->inflight_huge -= w->huge;
	rc = account(m, w->units, w->n, w->pages, w->chunk, w->nodes, w->status, w->rc, w->err, w->dt, w->end, true);
	if (call_ended(m, rc))
		rc = 0;
	report(m);
	return rc;
}

/* A mover for the next chunk: every chunk that has come back is accounted (those seen back
 * together in mover order), and the first mover with nothing in hand is returned, waiting for one to
 * finish if all are busy. Handing chunks out in a fixed turn instead left a mover idle
 * whenever the one before it in turn had the slower call: a third of the time with THPs in
 * the lab. Returns 0 or the first accounting error. */
static int mover_next(struct mig *m, struct mover **out)
{
	uint32_t done = 0; /* a bit per mover */
	int rc = 0;

	_Static_assert(NS_MIG_JOBS_MAX <= 32, "one bit per mover");
	*out = NULL;
	pthread_mutex_lock(&m->mv_mu);
	for (;;) {
		for (unsigned i = 0; i < m->nmovers; i++) {
			if (m->movers[i].state == MOVER_DONE)
				done |= 1U << i;
			else if (m->movers[i].state == MOVER_IDLE && !*out)
				*out = &m->movers[i];
		}
		if (done || *out)
			break;
		pthread_cond_wait(&m->mv_done, &m->mv_mu);
	}
	pthread_mutex_unlock(&m->mv_mu);
	for (unsigned i = 0; i < m->nmovers; i++)
		if (done & (1U << i)) {
			int r = mover_collect(m, &m->movers[i]);

			if (r < 0 && rc == 0)
				rc = r;
			if (!*out)
				*out = &m->movers[i];
		}
	return rc;
}

/* Account every chunk still in flight; the first error wins. */
static int movers_drain(struct mig *m)
{
	int rc = 0;

	for (unsigned i = 0; i < m->nmovers; i++) {
		int r = mover_collect(m, &m->movers[i]);

		if (r < 0 && rc == 0)
			rc = r;
	}
	return rc;
}

static void mover_give(struct mig *m, struct mover *w, const struct unit *units, unsigned n, unsigned pages,
		       int dest, uint64_t bytes, uint64_t huge)
{
	memcpy(w->units, units, n * sizeof(*units));
	fill_call(w->units, n, dest, w->addrs, w->nodes, w->status);
	w->n = n;
	w->pages = pages;
	w->chunk = m->chunk;
	w->bytes = bytes;
	w->huge = huge;
	m->inflight += bytes;
	m->inflight_huge += huge;
	pthread_mutex_lock(&m->mv_mu);
	w->state = MOVER_WORK;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&m->mv_mu);
}

/* What a mover holds besides its thread. */
static void mover_free(struct mover *w)
{
	pthread_cond_destroy(&w->cv);
	free(w->units);
	free(w->addrs);
	free(w->nodes);
	free(w->status);
}

static void movers_stop(struct mig *m)
{
	for (unsigned i = 0; i < m->nmovers; i++) {
		struct mover *w = &m->movers[i];

		pthread_mutex_lock(&m->mv_mu);
		w->state = MOVER_QUIT;
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&m->mv_mu);
		pthread_join(w->th, NULL);
		mover_free(w);
	}
	if (m->movers) {
		pthread_mutex_destroy(&m->mv_mu);
		pthread_cond_destroy(&m->mv_done);
	}
	free(m->movers);
	m->movers = NULL;
	m->nmovers = 0;
}

/* Start up to jobs movers; with fewer than 2 the main thread moves by itself. They are an
 * optimisation: if a thread cannot be made (a pid limit, no memory) the move goes on with
 * the movers that started, or with none. The movers block every signal, so SIGINT and
 * SIGTERM reach the main thread, which stops between chunks. */
static void movers_start(struct mig *m, unsigned jobs)
{
	sigset_t all, old;

	if (jobs < 2)
		return;
	if (jobs > NS_MIG_JOBS_MAX)
		jobs = NS_MIG_JOBS_MAX;
	m->movers = calloc(jobs, sizeof(*m->movers));
	if (!m->movers)
		return;
	pthread_mutex_init(&m->mv_mu, NULL);
	pthread_cond_init(&m->mv_done, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < jobs; i++) {
		struct mover *w = &m->movers[i];

		w->m = m;
		w->units = malloc(CHUNK_MAX * sizeof(*w->units));
		w->addrs = malloc(CHUNK_MAX * sizeof(*w->addrs));
		w->nodes = malloc(CHUNK_MAX * sizeof(*w->nodes));
		w->status = malloc(CHUNK_MAX * sizeof(*w->status));
		pthread_cond_init(&w->cv, NULL);
		if (w->units && w->addrs && w->nodes && w->status && pthread_create(&w->th, NULL, mover_main, w) == 0) {
			m->nmovers++;
			continue;
		}
		mover_free(w);
		break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (m->nmovers < 2)
		movers_stop(m); /* one mover would only take turns with this thread */
}

/* Check, pace and move units[0..n) to the best target, in chunks. With movers (and not for
 * the final retries) each chunk is handed to the first mover free, after the chunks that came
 * back are accounted; what is still in flight counts against the target's headroom. */
static int flush(struct mig *m, struct unit *units, unsigned n, bool collect_retry)
{
	while (n > 0 && !m->stop) {
		uint64_t bytes = 0, huge_pages = 0, huge_size = 0;
		unsigned k = 0, pages = 0;
		struct mover *w = NULL;
		int dest, rc;

		if (m->nmovers && collect_retry) {
			rc = mover_next(m, &w);
			if (rc < 0 || m->stop)
				return rc;
		}
		if (ns_throttle_stopped(&m->thr)) {
			m->stop = NS_MIG_STOP_SIGNAL;
			return 0;
		}
		/* the units were gathered for the chunk size then; with movers, the calls that
		 * came back since may have shrunk it, and a call of 4 THPs gathered at the old
		 * size took 30-60 ms in the lab where 1 took 10. So only what the size allows now
		 * goes, the rest in the next chunk. */
		for (; k < n && chunk_takes(m, k, pages, units[k].pages); k++) {
			pages += units[k].pages;
			if (units[k].kind == NS_KIND_HUGETLB) {
				huge_pages++;
				huge_size = (uint64_t)units[k].pages * m->ps;
			} else
				bytes += (uint64_t)units[k].pages * m->ps;
		}
		/* A trigger event while pacing sends it back to the pressure check before the
		 * chunk goes, and that check waits out (or stops on) the pressure: so no chunk is
		 * handed to any mover once the kernel has signalled pressure, and what is in
		 * flight then is all that lands. */
		do {
			if (!ns_throttle_psi_ok(&m->thr)) {
				m->stop = NS_MIG_STOP_PSI;
				return 0;
			}
			/* what is in flight will land on a target too: normal memory against
			 * the headroom, hugetlb pages against the pools */
			dest = pick_target(m, bytes + m->inflight, huge_pages ? huge_pages + m->inflight_huge : 0,
					   huge_size);
			if (dest < 0) {
				m->stop = NS_MIG_STOP_HEADROOM;
				return 0;
			}
		} while (!ns_throttle_pace_watch(&m->thr, bytes + huge_pages * huge_size) &&
			 !ns_throttle_stopped(&m->thr));
		if (ns_throttle_stopped(&m->thr)) {
			m->stop = NS_MIG_STOP_SIGNAL;
			return 0;
		}
		if (m->thr.psi_first > 0)
			m->res->calls_after_pressure++;
		if (w)
			mover_give(m, w, units, k, pages, dest, bytes, huge_pages);
		else {
			rc = move_units(m, units, k, pages, dest, collect_retry);
			if (call_ended(m, rc))
				return 0;
			report(m);
			if (rc < 0)
				return rc;
		}
		units += k;
		n -= k;
	}
	return 0;
}

/* Send the pending chunk (flush) and start a new one. */
static int flush_pending(struct mig *m, bool retry)
{
	int rc = flush(m, m->pend, m->npend, retry);

	m->npend = m->pend_pages = 0;
	return rc;
}

static bool on_source(const struct mig *m, int node)
{
	return ns_set_has(&m->from, (unsigned)node);
}

/* Walk everything once; either count (plan) or move (plan == NULL). With retry, pages found
 * busy are kept for one more try at the end; without (the last sweep), they are counted. */
static int walk(struct mig *m, struct ns_mig_plan *plan, bool retry)
{
	struct unit *win = NULL;
	uint64_t swapped = 0;
	unsigned n;
	int rc;

	win = malloc(WIN_PAGES * sizeof(*win));
	if (!win)
		return -ENOMEM;
	rc = walker_open(m);
	if (rc < 0)
		goto out;
	while ((rc = walker_next(m, win, &n, &swapped)) > 0) {
		/* a stop request ends the walk: the preflight gives up (-EINTR), the move stops
		 * and rolls back. A window is one pread of 16 MiB of address space or one
		 * PAGEMAP_SCAN call over SCAN_SPAN at most, so this is checked every few ms. */
		if (m->o->stop && *m->o->stop > 0) {
			if (plan) {
				rc = -EINTR;
				goto out;
			}
			m->stop = NS_MIG_STOP_SIGNAL;
			rc = 0;
			break;
		}
		rc = query_nodes(m, win, &n);
		if (rc < 0)
			goto out;
		for (unsigned i = 0; i < n; i++) {
			struct unit *u = &win[i];
			uint64_t bytes = (uint64_t)u->pages * m->ps;

			if (plan) {
				if (ns_set_has(&m->to, (unsigned)u->orig))
					plan->on_target[u->kind] += bytes;
				else if (on_source(m, u->orig)) {
					plan->move[u->kind] += bytes;
					if (u->kind == NS_KIND_HUGETLB) {
						unsigned p;

						for (p = 0; p < plan->nr_pools && plan->pool_size[p] != bytes; p++)
							;
						if (p == plan->nr_pools && p < 4)
							plan->pool_size[plan->nr_pools++] = bytes;
						if (p < 4)
							plan->huge_move[p] += bytes;
					}
				} else
					plan->elsewhere += bytes;
				continue;
			}
			if (!on_source(m, u->orig))
				continue;
			if (!chunk_takes(m, m->npend, m->pend_pages, u->pages)) {
				rc = flush_pending(m, retry);
				if (rc < 0 || m->stop)
					goto out;
			}
			m->pend[m->npend++] = *u;
			m->pend_pages += u->pages;
			/* full: out now, not when the next unit on a source shows up */
			if (m->pend_pages >= m->chunk || m->npend == CHUNK_MAX) {
				rc = flush_pending(m, retry);
				if (rc < 0 || m->stop)
					goto out;
			}
		}
	}
	if (rc < 0)
		goto out;
	if (!plan && m->npend)
		rc = flush_pending(m, retry);
out:
	if (!plan) {
		/* whatever ended the walk, every chunk in flight is accounted before it returns */
		int r = movers_drain(m);

		if (rc >= 0 && r < 0)
			rc = r;
	}
	if (plan)
		plan->swapped = swapped;
	else
		m->res->swapped = swapped;
	if (rc == -ESRCH && !plan) {
		m->stop = NS_MIG_STOP_EXITED;
		rc = 0;
	}
	walker_close(m);
	free(win);
	return rc;
}

static int mig_init(struct mig *m, pid_t pid, const struct ns_mig_opts *o)
{
	const struct ns_set *online;
	int rc;

	memset(m, 0, sizeof(*m));
	m->pid = pid;
	m->o = o;
	m->pm_fd = m->kpf_fd = -1;
	m->ps = (uint64_t)sysconf(_SC_PAGESIZE);
	m->chunk = o->chunk ? o->chunk : CHUNK_START;
	if (m->chunk > CHUNK_MAX)
		m->chunk = CHUNK_MAX;
	m->flags = o->all_shared ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE;
	if (ns_set_empty(&o->to))
		return -EINVAL;
	rc = ns_proc_check_user(o->root, pid);
	if (rc < 0)
		return rc;
	rc = ns_topo_read(o->root, &m->topo);
	if (rc < 0)
		return rc;
	online = ns_topo_nodes(m->topo);
	if (!ns_set_subset(&o->to, online))
		return -ENODEV;
	m->to = o->to;
	if (ns_set_empty(&o->from)) {
		m->from = *online;
		ns_set_andnot(&m->from, &o->to);
	} else {
		m->from = o->from;
		ns_set_andnot(&m->from, &o->to);
	}
	rc = load_block_map(m);
	if (rc < 0)
		return rc;
	m->pend = calloc(CHUNK_MAX, sizeof(*m->pend));
	m->addrs = calloc(WIN_PAGES > CHUNK_MAX ? WIN_PAGES : CHUNK_MAX, sizeof(*m->addrs));
	m->nodes = calloc(WIN_PAGES > CHUNK_MAX ? WIN_PAGES : CHUNK_MAX, sizeof(*m->nodes));
	m->status = calloc(WIN_PAGES > CHUNK_MAX ? WIN_PAGES : CHUNK_MAX, sizeof(*m->status));
	_Static_assert(CHUNK_MAX >= THP_PAGES, "a query holds a THP's pages");
	m->q_addrs = calloc(CHUNK_MAX, sizeof(*m->q_addrs));
	m->q_status = calloc(CHUNK_MAX, sizeof(*m->q_status));
	m->q_idx = calloc(CHUNK_MAX, sizeof(*m->q_idx));
	if (!m->pend || !m->addrs || !m->nodes || !m->status || !m->q_addrs || !m->q_status || !m->q_idx)
		return -ENOMEM;
	return 0;
}

static void mig_fini(struct mig *m)
{
	walker_close(m);
	pagemap_close(m);
	ns_topo_free(m->topo);
	free(m->pend);
	free(m->addrs);
	free(m->nodes);
	free(m->status);
	free(m->retry);
	free(m->runs);
	free(m->blk_node);
	free(m->q_addrs);
	free(m->q_status);
	free(m->q_idx);
	free(m->sv_slot);
	free(m->sv_again);
	free(m->sv_st);
}

/* numa_maps and smaps, VMA by VMA, into the plan (ns_resident_scan) */
static int plan_add(void *arg, enum ns_kind kind, uint64_t page_size, const uint64_t *bytes, unsigned max_node)
{
	struct mig *m = ((void **)arg)[0];
	struct ns_mig_plan *plan = ((void **)arg)[1];

	for (unsigned n = 0; n < max_node; n++) {
		uint64_t b = bytes[n];

		if (!b)
			continue;
		if (ns_set_has(&m->to, n))
			plan->on_target[kind] = ns_sat_add(plan->on_target[kind], b);
		else if (on_source(m, (int)n)) {
			plan->move[kind] = ns_sat_add(plan->move[kind], b);
			if (kind == NS_KIND_HUGETLB) {
				unsigned p;

				for (p = 0; p < plan->nr_pools && plan->pool_size[p] != page_size; p++)
					;
				if (p == plan->nr_pools && p < 4)
					plan->pool_size[plan->nr_pools++] = page_size;
				if (p < 4)
					plan->huge_move[p] = ns_sat_add(plan->huge_move[p], b);
			}
		} else
			plan->elsewhere = ns_sat_add(plan->elsewhere, b);
	}
	return 0;
}

/* What is where, for the plan: from numa_maps and smaps, which cost what is resident, not
 * what is mapped (a walk of pagemap costs 8 bytes per page of address space where the kernel
 * has no PAGEMAP_SCAN). Swap is smaps's, shmem's swapped pages included. When the process's
 * mappings keep changing between the two reads, the walk counts instead. */
static int plan_count(struct mig *m, struct ns_mig_plan *plan)
{
	void *arg[2] = {m, plan};
	int rc;

	for (int tries = 0; tries < 4; tries++) {
		/* what a scan that could not finish added is dropped */
		memset(plan->move, 0, sizeof(plan->move));
		memset(plan->on_target, 0, sizeof(plan->on_target));
		memset(plan->huge_move, 0, sizeof(plan->huge_move));
		memset(plan->pool_size, 0, sizeof(plan->pool_size));
		plan->nr_pools = 0;
		plan->elsewhere = 0;
		plan->swapped = 0;
		if (tries == 3)
			break;
		rc = ns_resident_scan(m->o->root, m->pid, m->o->stop, plan_add, arg, &plan->swapped);
		if (rc != -EAGAIN)
			return rc;
	}
	return walk(m, plan, true);
}

int ns_mig_preflight(pid_t pid, const struct ns_mig_opts *o, struct ns_mig_plan *plan)
{
	struct ns_proc_usage *u = NULL;
	struct mig m;
	int rc;

	ns_detail_clear();
	memset(plan, 0, sizeof(*plan));
	plan->pid = pid;
	rc = mig_init(&m, pid, o);
	if (rc < 0)
		goto out;
	u = calloc(1, sizeof(*u));
	if (!u) {
		rc = -ENOMEM;
		goto out;
	}
	rc = ns_proc_status_read(o->root, pid, u);
	if (rc < 0)
		goto out;
	plan->mems_allowed = u->mems_allowed;
	plan->mems_ok = ns_set_subset(&o->to, &u->mems_allowed);
	rc = plan_count(&m, plan);
	if (rc < 0)
		goto out;
	/* every sum saturates: a reserve near 2^64 must read as no headroom, not wrap into plenty */
	for (int k = 0; k < NS_KIND_COUNT; k++)
		if (k != NS_KIND_HUGETLB)
			plan->move_total = ns_sat_add(plan->move_total, plan->move[k]);
	for (int t = ns_set_next(&o->to, 0); t >= 0; t = ns_set_next(&o->to, (unsigned)t + 1)) {
		if (plan->nr_targets < 16)
			ns_fit_check(m.topo, t, plan->move_total, o->reserve, &plan->target_fit[plan->nr_targets++]);
		plan->headroom = ns_sat_add(plan->headroom, ns_node_headroom(ns_topo_find(m.topo, t),
									   ns_reserve_for(ns_topo_find(m.topo, t), o->reserve)));
		for (unsigned p = 0; p < plan->nr_pools; p++)
			plan->huge_free[p] = ns_sat_add(plan->huge_free[p],
							ns_sat_mul(huge_free(&m, t, plan->pool_size[p]), plan->pool_size[p]));
	}
	plan->fits = plan->move_total <= plan->headroom;
	plan->shortfall = ns_sat_sub(plan->move_total, plan->headroom);
	for (unsigned p = 0; p < plan->nr_pools; p++)
		if (plan->huge_move[p] > plan->huge_free[p]) {
			plan->fits = false;
			plan->huge_short = true;
			plan->shortfall = ns_sat_add(plan->shortfall, plan->huge_move[p] - plan->huge_free[p]);
		}
out:
	free(u);
	mig_fini(&m);
	return rc;
}

/* The c-th unit of a run, as it was before the move. */
static struct unit run_unit(const struct mig *m, const struct run *rn, uint32_t c)
{
	return (struct unit){rn->addr + (uint64_t)c * rn->pages * m->ps, rn->pages, rn->orig, rn->kind, 0};
}

/* Has the process gone (exited, a zombie, or exiting with its memory already released)? The
 * kernel reports a target without an mm as -EINVAL or -ESRCH depending on where the call
 * noticed, and /proc may still say "running" for a moment while it exits. */
static bool proc_gone(const char *root, pid_t pid)
{
	struct ns_proc_stat st;
	char path[4096], buf[512];

	if (ns_proc_stat_read(root, pid, &st) < 0 || st.state == 'Z' || st.state == 'X')
		return true;
	/* an exiting task has no mm: its maps read empty */
	if (ns_path(path, sizeof(path), root, "/proc/%d/maps", (int)pid) < 0)
		return true;
	return ns_read_file(path, buf, sizeof(buf)) <= 0;
}

/* Move units[0..n) back to the nodes they came from, in chunks, paced like the move; a
 * rollback must not give up on headroom. status (may be NULL) receives each unit's status
 * after its call (resolved as in account; a whole-call failure leaves -errno; a unit never
 * sent gets -EINTR or -ESRCH). Returns 0, -ESRCH when the process is gone, -EINTR when a
 * second stop request ended it. */
static int move_back(struct mig *m, struct unit *units, unsigned n, int *status)
{
	int rc = 0;

	if (status)
		for (unsigned i = 0; i < n; i++)
			status[i] = STATUS_UNSET;
	while (n > 0) {
		unsigned k = 0, pages = 0;
		int r;

		for (; k < n && chunk_takes(m, k, pages, units[k].pages); k++)
			pages += units[k].pages;
		ns_throttle_pace(&m->thr, (uint64_t)pages * m->ps);
		if (ns_throttle_stopped(&m->thr)) {
			m->rb_stopped = true;
			rc = -EINTR;
			break;
		}
		r = move_units(m, units, k, pages, -1, false);
		if (status)
			for (unsigned i = 0; i < k; i++)
				status[i] = r < 0 && m->status[i] == STATUS_UNSET ? r : m->status[i];
		if (r == -ESRCH) {
			rc = -ESRCH;
			break;
		}
		report(m);
		units += k;
		n -= k;
		if (status)
			status += k;
	}
	/* what was not sent: stopped, or the process is gone */
	if (status)
		for (unsigned i = 0; i < n; i++)
			if (status[i] == STATUS_UNSET)
				status[i] = rc;
	return rc;
}

static enum ns_mig_unback unback_reason(int status)
{
	switch (status) {
	case STATUS_UNSET:
	case -EBUSY:
	case -EAGAIN:
		return NS_MIG_UNBACK_BUSY;
	case -ENOMEM:
		return NS_MIG_UNBACK_NOMEM;
	case -EACCES:
	case -EPERM:
		return NS_MIG_UNBACK_SHARED;
	case -ENOENT:
		return NS_MIG_UNBACK_NOT_PRESENT;
	case -EFAULT:
		return NS_MIG_UNBACK_UNMAPPED;
	case -ESRCH:
		return NS_MIG_UNBACK_EXITED;
	case -EINTR:
		return NS_MIG_UNBACK_STOPPED;
	}
	return NS_MIG_UNBACK_OTHER;
}

static void settle_count(struct mig *m, const struct unit *u, bool back, enum ns_mig_unback why)
{
	uint64_t bytes = (uint64_t)u->pages * m->ps;

	if (back) {
		m->res->rollback_bytes += bytes;
		m->res->rollback_pages += u->pages;
	} else {
		m->res->rollback_failed_bytes += bytes;
		m->res->rollback_failed += u->pages;
		m->res->rollback_unback[why] += bytes;
	}
}

/* Check slot[0..n): one question for where each is; those not on their original node get one
 * more try (not after a second stop request, nor for a page gone from memory or from the
 * address space), and each is counted back or not back with its reason. */
static void settle_batch(struct mig *m, struct unit *slot, unsigned n)
{
	struct unit *again = m->sv_again;
	int *st = m->sv_st;
	unsigned nagain = 0;
	long rc;

	for (unsigned i = 0; i < n; i++) {
		m->addrs[i] = (void *)(uintptr_t)slot[i].addr;
		st[i] = STATUS_UNSET;
	}
	rc = move_pages(m->pid, n, m->addrs, NULL, st, 0);
	if (rc < 0) {
		/* a process without its memory any more reports -EINVAL or -ESRCH */
		enum ns_mig_unback why = errno == ESRCH || proc_gone(m->o->root, m->pid) ? NS_MIG_UNBACK_EXITED
										     : NS_MIG_UNBACK_OTHER;

		for (unsigned i = 0; i < n; i++)
			settle_count(m, &slot[i], false, why);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		if (st[i] == slot[i].orig)
			settle_count(m, &slot[i], true, 0);
		else if (st[i] == -ENOENT || st[i] == -EFAULT)
			settle_count(m, &slot[i], false, unback_reason(st[i]));
		else if (m->rb_stopped)
			settle_count(m, &slot[i], false, NS_MIG_UNBACK_STOPPED);
		else
			again[nagain++] = slot[i];
	}
	if (nagain == 0)
		return;
	/* st is free again: it takes the statuses of the last try */
	move_back(m, again, nagain, st);
	for (unsigned i = 0; i < nagain; i++)
		settle_count(m, &again[i], st[i] == again[i].orig, unback_reason(st[i]));
}

/* After the rollback: where is every page this run moved? Each byte is counted once, back or
 * not back with its reason. A THP is looked at page by page, as the kernel may have split it
 * since it arrived (then moving its head back moved one base page only). */
static void settle(struct mig *m)
{
	struct unit *slot = m->sv_slot;
	unsigned n = 0;

	for (size_t r = 0; r < m->nruns; r++)
		for (uint32_t c = 0; c < m->runs[r].count; c++) {
			struct unit u = run_unit(m, &m->runs[r], c);
			uint32_t parts = u.kind != NS_KIND_HUGETLB ? u.pages : 1;

			for (uint32_t j = 0; j < parts; j++) {
				if (parts > 1)
					slot[n] = (struct unit){u.addr + (uint64_t)j * m->ps, 1, u.orig, u.kind, 0};
				else
					slot[n] = u;
				if (++n == CHUNK_MAX) {
					settle_batch(m, slot, n);
					n = 0;
				}
			}
		}
	if (n)
		settle_batch(m, slot, n);
	/* moved but never recorded (the record could not grow): not moved back */
	if (m->lost_bytes) {
		m->res->rollback_failed_bytes += m->lost_bytes;
		m->res->rollback_failed += m->lost_bytes / m->ps;
		m->res->rollback_unback[NS_MIG_UNBACK_OTHER] += m->lost_bytes;
	}
	m->res->rollback_stopped = m->rb_stopped;
	m->res->rollback_complete = m->res->rollback_failed_bytes == 0 && !m->rb_stopped;
}

/* Move back what this run moved. A first stop request is what started it (or would have);
 * only a second one stops it, at a chunk boundary. Then settle() counts every byte. */
static void rollback(struct mig *m)
{
	struct unit *batch = m->pend;
	unsigned n = 0;
	int rc = 0;

	m->rolling_back = true;
	m->res->rolled_back = true;
	m->t_phase = ns_now();
	m->headroom_seen = 0;
	m->thr.stop_at = 2;
	/* a page we moved may have become shared since (a neighbour mapped the same file): a
	 * rollback restores placement as it was, so with CAP_SYS_NICE it moves those too */
	if (ns_cap_have(CAP_SYS_NICE) == 1)
		m->flags = MPOL_MF_MOVE_ALL;
	m->stop = NS_MIG_DONE;
	/* in address order: neighbours go back together */
	if (m->nruns)
		runs_compact(m);
	for (size_t r = 0; r < m->nruns && rc == 0; r++)
		for (uint32_t c = 0; c < m->runs[r].count && rc == 0; c++) {
			batch[n++] = run_unit(m, &m->runs[r], c);
			if (n == CHUNK_MAX) {
				rc = move_back(m, batch, n, NULL);
				n = 0;
			}
		}
	if (rc == 0 && n)
		move_back(m, batch, n, NULL);
	settle(m);
}

/* The process's cgroup v2 memory.pressure under the root, or "" when it has none of its own:
 * in the root cgroup (the system file is watched anyway), or on a v1 memory hierarchy. A
 * threaded cgroup (libvirt keeps QEMU's main thread in .../libvirt/emulator, its vCPUs in
 * .../vcpuN) counts only its own threads' stalls: the file is that of the threaded domain
 * above it, which counts them all. */
static void cgroup_pressure_file(const char *root, pid_t pid, char *out, size_t len)
{
	char path[4096], buf[4096], cg[2048], *slash;
	int version;

	out[0] = '\0';
	if (ns_path(path, sizeof(path), root, "/proc/%d/cgroup", (int)pid) < 0 ||
	    ns_read_file(path, buf, sizeof(buf)) < 0 || ns_cgroup_path(buf, "memory", cg, sizeof(cg), &version) < 0 ||
	    version != 2 || strcmp(cg, "/") == 0 || cg[0] != '/')
		return;
	while ((slash = strrchr(cg, '/')) != NULL && slash != cg &&
	       ns_path(path, sizeof(path), root, "/sys/fs/cgroup%s/cgroup.type", cg) == 0 &&
	       ns_read_file(path, buf, sizeof(buf)) > 0 && strncmp(buf, "threaded", 8) == 0)
		*slash = '\0';
	if ((size_t)snprintf(out, len, "/sys/fs/cgroup%s/memory.pressure", cg) >= len)
		out[0] = '\0';
}

/* One trigger: a window of NS_MIG_PSI_WINDOW_US, or, where the kernel refuses it, of 2 s: a
 * kernel of 6.5 or later takes an opener without CAP_SYS_RESOURCE (root in a container) as
 * unprivileged, and gives it only windows that are multiples of 2 s. */
static int arm_trigger(struct mig *m, const char *file)
{
	int rc = ns_throttle_trigger(&m->thr, file, NS_MIG_PSI_WINDOW_US);

	if ((rc == -EINVAL || rc == -EPERM) && NS_MIG_PSI_WINDOW_US % 2000000 != 0)
		rc = ns_throttle_trigger(&m->thr, file, 2000000);
	return rc;
}

/* Kernel PSI triggers and the stall watch for the system and the process's cgroup: an early
 * warning only, so one that cannot be armed is recorded and the sampled watch goes on without
 * it. (A file that opened but cannot be read later stops the run: fail closed.) */
static void arm_triggers(struct mig *m)
{
	char file[4096];
	int rc;

	rc = arm_trigger(m, "/proc/pressure/memory");
	if (rc < 0)
		m->res->psi_trigger_err = rc;
	(void)ns_throttle_stall_watch(&m->thr, "/proc/pressure/memory");
	cgroup_pressure_file(m->o->root, m->pid, file, sizeof(file));
	if (file[0]) {
		rc = arm_trigger(m, file);
		if (rc == 0)
			m->res->psi_trigger_cgroup = true;
		else if (m->res->psi_trigger_err == 0)
			m->res->psi_trigger_err = rc;
		(void)ns_throttle_stall_watch(&m->thr, file);
	}
	m->res->psi_stall_files = m->thr.nstall;
	m->res->psi_triggers = m->thr.ntrig;
	m->res->psi_window = m->thr.trig_window;
	ns_detail_clear();
}

int ns_mig_run(pid_t pid, const struct ns_mig_opts *o, struct ns_mig_result *res)
{
	struct ns_mig_plan *plan = NULL;
	struct mig m;
	int rc;

	ns_detail_clear();
	memset(res, 0, sizeof(*res));
	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return -ENOMEM;
	rc = mig_init(&m, pid, o);
	if (rc < 0)
		goto out;
	m.res = res;
	/* everything a rollback needs is there before anything moves */
	m.retry = malloc(RETRY_MAX * sizeof(*m.retry));
	m.sv_slot = malloc(CHUNK_MAX * sizeof(*m.sv_slot));
	m.sv_again = malloc(CHUNK_MAX * sizeof(*m.sv_again));
	m.sv_st = malloc(CHUNK_MAX * sizeof(*m.sv_st));
	if (!m.retry || !m.sv_slot || !m.sv_again || !m.sv_st) {
		rc = -ENOMEM;
		goto out;
	}
	m.t_start = m.t_phase = ns_now();
	{
		struct timespec wall;

		clock_gettime(CLOCK_REALTIME, &wall);
		res->started = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
	}
	rc = ns_throttle_init(&m.thr, o->root, o->rate, o->max_psi, o->psi_grace, o->stop);
	if (rc < 0)
		goto out;
	if (o->max_psi > 0)
		arm_triggers(&m);
	if (o->plan)
		*plan = *o->plan;
	else {
		rc = ns_mig_preflight(pid, o, plan);
		if (rc < 0)
			goto out;
	}
	m.total_bytes = plan->move_total + plan->move[NS_KIND_HUGETLB];
	movers_start(&m, o->jobs ? o->jobs : (sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1));
	res->jobs = m.nmovers ? m.nmovers : 1;
	if (o->plan && m.total_bytes == 0) {
		/* the caller's preflight found nothing on a source node: no walk (without
		 * PAGEMAP_SCAN a walk reads pagemap over each populated VMA whole, however
		 * sparse: 65 s for 16 TB with 64 pages) */
		res->swapped = plan->swapped;
		rc = 0;
	} else
		rc = walk(&m, NULL, true);
	if (rc == -EACCES || rc == -ENODEV || rc == -EPERM)
		goto out;
	if (rc < 0)
		goto out;
	/* -EBUSY and untried pages get exactly one more try, at the end */
	if (!m.stop && m.nretry) {
		res->pages_retried = m.nretry;
		/* one call at a time, in chunks as the walk makes them */
		rc = flush(&m, m.retry, m.nretry, false);
		if (rc < 0)
			goto out;
	}
	if (!m.stop && m.retry_overflow) {
		/* more stragglers than we keep: one more sweep finds them; what is busy in it is
		 * counted, with no further try */
		rc = walk(&m, NULL, false);
		if (rc < 0)
			goto out;
	}
	res->stop = m.stop;
	/* a stop request always rolls back; pressure as the caller chose */
	if (m.stop == NS_MIG_STOP_SIGNAL ||
	    (o->rollback && (m.stop == NS_MIG_STOP_HEADROOM || m.stop == NS_MIG_STOP_PSI || m.stop == NS_MIG_STOP_ENOMEM)))
		rollback(&m);
	rc = 0;
out:
	if (rc < 0 && proc_gone(o->root, pid)) {
		m.stop = NS_MIG_STOP_EXITED;
		rc = 0;
	}
	res->duration = ns_now() - m.t_start;
	if (res->stop == NS_MIG_DONE && m.stop)
		res->stop = m.stop;
	res->psi_events = m.thr.trig_events;
	res->psi_holds = m.thr.holds;
	res->psi_held = m.thr.held;
	res->hold_first = m.thr.hold_first > 0 ? m.thr.hold_first - m.t_start : -1;
	res->pressure_first = m.thr.psi_first > 0 ? m.thr.psi_first - m.t_start : -1;
	ns_throttle_fini(&m.thr);
	free(plan);
	movers_stop(&m);
	mig_fini(&m);
	return rc;
}

int ns_mig_lock(pid_t target, int *fd, pid_t *holder, char *errmsg, size_t len)
{
	char name[32];

	snprintf(name, sizeof(name), "migrate-%d", (int)target);
	return ns_runlock_take(name, fd, holder, errmsg, len);
}

void ns_mig_unlock(int fd)
{
	ns_runlock_release(fd);
}
