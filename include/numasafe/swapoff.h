/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fast-swapoff engine: bring a swap area's pages back from userspace, throttled and
 * headroom-checked, so that swapoff(2) afterwards has next to nothing left to read. */
#ifndef NUMASAFE_SWAPOFF_H
#define NUMASAFE_SWAPOFF_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "parse.h"
#include "swap.h"

#define NS_SO_JOBS_MAX 16

struct ns_so_opts {
	const char *root;
	uint64_t rate;			 /* bytes per second, 0 = unlimited */
	const struct ns_amount *reserve; /* of MemTotal; NULL: max(256M, 2%) */
	double max_psi, psi_grace;
	uint64_t readahead; /* bytes of swapped pages asked for ahead of the reads with
			     * process_madvise(MADV_WILLNEED), so the device has many reads in
			     * flight; counted against memory and the rate when asked. 0 = off */
	unsigned jobs;	   /* workers paging in at once (threads, at most NS_SO_JOBS_MAX); 0: 2
			    * if the host has 2 CPUs or more, else 1 */
	const pid_t *pids; /* only these processes (NULL: every process) */
	int npids;
	bool then_swapoff; /* swapoff(2) follows at once: what is still in the swap cache
			    * may be left to it (ns_so_preflight, ns_so_pagein) */
	bool scan_always;  /* scan every process even when the swap cache holds (nearly) all of
			    * the used swap: set after ns_so_pagein said -EAGAIN */
	volatile sig_atomic_t *stop; /* stop requests (a signal handler increments it): stop at
				      * the next batch or file; ns_so_pagein reports NS_SO_STOP_SIGNAL
				      * for a request made at any time during the run */
	void (*progress)(void *arg, uint64_t done, uint64_t total, double elapsed);
	void *progress_arg;
	/* ns_so_pagein takes each process's VM lock (numasafe/vmlock.h) as this command before
	 * paging any in, and holds them to its end; a process whose lock another command holds
	 * is left to swapoff(2) and reported (ns_so_proc.busy, ns_so_result.busy): one busy VM
	 * neither blocks the run nor refuses the area. NULL: no locks (a test's fixture tree). */
	const char *lock_command;
};
void ns_so_opts_init(struct ns_so_opts *o);

struct ns_so_proc {
	pid_t pid;
	unsigned long long start_time; /* /proc/PID/stat field 22: tells a reused PID apart */
	char comm[64];
	char cgroup[512]; /* cgroup v2 path, "" if unknown */
	uint64_t bytes;	  /* swapped on this area, from pagemap */
	uint64_t back;	  /* brought back by this run */
	/* where the scan saw its swapped pages: nranges [start, end) pairs in ranges[2 * i],
	 * ranges[2 * i + 1]; paging in reads only these pagemap ranges */
	uint64_t *ranges;
	size_t nranges;
	/* its VM lock was held by another command (opts->lock_command): not read back */
	bool busy;
	pid_t busy_pid;		/* the holder, 0 unknown */
	char busy_command[32];	/* its command, "" unknown */
};

struct ns_so_cgroup {
	char path[512];
	uint64_t swapped; /* bytes of its processes on this area */
	uint64_t max;	  /* memory.max, UINT64_MAX for "max" */
	uint64_t current; /* memory.current */
};

struct ns_so_plan {
	char path[4096];
	int type;	     /* pagemap swap type of the area */
	uint64_t used;	     /* /proc/swaps Used */
	uint64_t proc_bytes; /* swapped process pages found in pagemaps */
	uint64_t other;	     /* the rest of Used: shmem, tmpfs, SysV, swap cache (swapoff(2) reads it) */
	uint64_t available;  /* MemAvailable now */
	uint64_t reserve;
	bool fits;
	uint64_t shortfall;
	const struct ns_so_cgroup *tight; /* the first cgroup that lacks room, or NULL */
	/* Nearly all used swap is in the swap cache (at most uncached bytes of it, of every
	 * area, is not): those pages are in memory and charged to their cgroups already, and
	 * swapoff(2) maps them back with no read and no new charge. No process was scanned
	 * (nprocs and proc_bytes are 0, type is -1, other is all of used); the verdict is
	 * uncached + reserve against MemAvailable. */
	bool cached_only;
	uint64_t uncached;
	int nprocs, ncgroups;
	struct ns_so_proc *procs;
	struct ns_so_cgroup *cgroups;
};

enum ns_so_stop {
	NS_SO_DONE = 0,
	NS_SO_STOP_MEMORY, /* MemAvailable fell to the reserve, or could not be read (ns_error_detail) */
	NS_SO_STOP_PSI,
	NS_SO_STOP_SIGNAL, /* a stop request (*opts->stop): what came back stays in, the area stays on */
};
const char *ns_so_stop_str(enum ns_so_stop s);

struct ns_so_result {
	enum ns_so_stop stop;
	uint64_t back;	   /* bytes read back */
	uint64_t skipped;  /* processes that exited or were replaced meanwhile */
	uint64_t shmem_back;	/* bytes of shmem (tmpfs files, SysV segments, memfd and shared
				 * anonymous memory) that came back in from swap */
	uint64_t shmem_objects; /* shmem files and segments that had pages brought back */
	double duration;
	uint64_t batches;
	uint64_t readahead; /* bytes asked for ahead with MADV_WILLNEED */
	int readahead_err;  /* -errno if process_madvise failed and read-ahead was dropped */
	uint64_t cached;    /* bytes left to swapoff(2) because they were still in the swap
			     * cache (no read, no new memory); 0 when pages were read back */
	unsigned jobs;	    /* workers that paged processes in (0: none ran) */
	uint64_t busy;	    /* processes left to swapoff(2): another command held their VM lock */
};

/* Find the area and everything swapped on it; check memory and each memory cgroup's room
 * (sums saturate: a reserve near 2^64 does not fit). With then_swapoff, no pids and not
 * scan_always, when at most NS_SO_UNCACHED_MAX of the host's used swap is outside the swap
 * cache, nothing is scanned (plan->cached_only). -ENOENT: not an active swap area;
 * -EPERM: no CAP_SYS_ADMIN (swap types are hidden); /proc/swaps, /proc/meminfo or a cgroup's
 * memory.max/memory.current (v1: limit_in_bytes/usage_in_bytes) that does not read or parse
 * is an error (-EINVAL, -ERANGE, ...) with ns_error_detail() naming the file. */
int ns_so_preflight(const struct ns_so_opts *o, const char *device, struct ns_so_plan **plan);
/* Page the plan's processes (and, without pids, shmem) back in. With then_swapoff and no
 * pids, when the area has pages in swap but at most NS_SO_UNCACHED_MAX of the host's used
 * swap is outside the swap cache, nothing is read: those pages are in memory and charged
 * already, and swapoff(2) maps them and frees their slots in one pass (res->cached). A
 * cached_only plan whose condition no longer holds (reclaim dropped pages from the swap
 * cache since the preflight) is -EAGAIN: preflight again with scan_always. */
#define NS_SO_UNCACHED_MAX (16ULL << 20)
void ns_so_plan_free(struct ns_so_plan *plan);
/* Read the plan's pages back: shmem first (every tmpfs file, SysV segment, memfd and shared
 * anonymous mapping, read through its file so holes stay holes; skipped with opts->pids),
 * then process by process through /proc/PID/mem, runs read in swap-offset order. shmem pages
 * are found by mincore, which cannot tell the swap area: shmem on other areas comes back too. */
int ns_so_pagein(const struct ns_so_opts *o, struct ns_so_plan *plan, struct ns_so_result *res);

/* One fast-swapoff per swap area at a time: the lock NS_RUNDIR/swapoff-ID.lock (see
 * ns_runlock_take in numasafe/file.h, whose errors it returns), where ID names the area
 * itself: a block device by its device number, a swap file by its file system and inode, so
 * every path to the same area takes the same lock. -EBUSY with *holder set (0 if unknown)
 * when another process holds it: busy, retry later; -errno when area cannot be stat()ed.
 * Take it before the preflight and hold it through swapoff(2); a dry run takes none. */
int ns_so_lock(const char *area, int *fd, pid_t *holder, char *errmsg, size_t len);
void ns_so_unlock(int fd);

#endif
