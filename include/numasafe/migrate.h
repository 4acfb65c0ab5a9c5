/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The migration engine: move a process's pages to target nodes with move_pages(2) in
 * throttled, headroom-checked chunks, and put them back when pressure appears. numa-migrate,
 * numa-plan check and vm-pin --mem all use this one code path. */
#ifndef NUMASAFE_MIGRATE_H
#define NUMASAFE_MIGRATE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "headroom.h"
#include "parse.h"
#include "procmem.h"

#define NS_MIG_DEFAULT_MAX_PSI 10.0
#define NS_MIG_DEFAULT_GRACE 10.0
#define NS_MIG_TARGET_CALL_NS 20000000ULL /* aim: no single move_pages call over ~20 ms */
#define NS_MIG_JOBS_MAX 16
#define NS_MIG_PSI_WINDOW_US 500000ULL /* the PSI trigger's window: 0.5 s, the kernel's least */

struct ns_mig_progress;

struct ns_mig_opts {
	const char *root;     /* NULL: the live system (the engine only runs live) */
	struct ns_set to;     /* target nodes */
	struct ns_set from;   /* source nodes; empty: every node not in to */
	uint64_t rate;	      /* bytes per second, 0 = unlimited */
	unsigned chunk;	      /* base pages per call, 0 = adaptive */
	unsigned jobs;	      /* move_pages calls in flight at once (threads, at most
			       * NS_MIG_JOBS_MAX); 0: 2 if the host has 2 CPUs or more, else 1.
			       * Rollback and retries use 1; fewer if threads cannot be made */
	const struct ns_amount *reserve; /* NULL: default per node */
	double max_psi;	      /* memory some avg10 (%) that pauses; <= 0: PSI not watched */
	double psi_grace;     /* seconds above max_psi before it counts as pressure */
	bool rollback;	      /* on pressure (headroom, PSI, ENOMEM): move back what this run
			       * moved; false: stop where it is (--on-pressure stop) */
	bool all_shared;      /* MPOL_MF_MOVE_ALL */
	/* Stop requests, counted: the caller's signal handler increments *stop (with every
	 * signal blocked while it runs). 1: stop moving at the next chunk boundary and roll back
	 * what this run moved, whatever rollback says (only pressure obeys it); 2, during a
	 * rollback: stop the rollback at its next chunk boundary, and count what is left on the
	 * targets (rollback_stopped). The walks (preflight and move) look at it between
	 * windows of the address space, every few ms: a preflight returns -EINTR, a move stops
	 * and rolls back. NULL: no stop requests. */
	volatile sig_atomic_t *stop;
	void (*progress)(void *arg, const struct ns_mig_progress *p);
	void *progress_arg;
	/* a preflight of the same process and options just made: ns_mig_run takes the totals
	 * for its progress from it instead of walking the process once more (NULL: it walks),
	 * and when it found nothing on a source node, the run does not walk at all */
	const struct ns_mig_plan *plan;
};
void ns_mig_opts_init(struct ns_mig_opts *o);

/* What the preflight found; bytes unless named pages. */
struct ns_mig_plan {
	pid_t pid;
	uint64_t move[NS_KIND_COUNT];	   /* on source nodes, to move */
	uint64_t on_target[NS_KIND_COUNT]; /* already on a target node */
	uint64_t elsewhere;		   /* on nodes neither source nor target (--from) */
	uint64_t swapped;		   /* swapped out: not moved, reported */
	uint64_t move_total;		   /* sum of move[] except hugetlb */
	uint64_t headroom;		   /* sum over targets, now */
	uint64_t huge_move[4];		   /* hugetlb bytes to move per pool (index in pool_size) */
	uint64_t huge_free[4];		   /* free hugetlb bytes on the targets per pool */
	uint64_t pool_size[4];
	unsigned nr_pools;
	int nr_targets;
	struct ns_fit target_fit[16];	   /* per target node */
	bool fits;
	uint64_t shortfall;		   /* bytes missing when !fits */
	bool huge_short;		   /* the shortfall is in a hugetlb pool */
	struct ns_set mems_allowed;
	bool mems_ok;			   /* every target is in the process's Mems_allowed */
};

enum ns_mig_stop {
	NS_MIG_DONE = 0,
	NS_MIG_STOP_HEADROOM, /* a target's headroom ran out */
	NS_MIG_STOP_PSI,      /* memory pressure above --max-psi past the grace */
	NS_MIG_STOP_ENOMEM,   /* move_pages failed with ENOMEM (the target could not allocate),
			       * or the rollback record could not grow */
	NS_MIG_STOP_SIGNAL,   /* a stop request (*opts->stop): always rolled back */
	NS_MIG_STOP_EXITED,   /* the process went away */
};
const char *ns_mig_stop_str(enum ns_mig_stop s);

struct ns_mig_progress {
	uint64_t moved_bytes, total_bytes;
	double elapsed;		/* seconds */
	uint64_t target_headroom;
	bool rolling_back;
};

/* Why bytes this run moved did not come back in its rollback. */
enum ns_mig_unback {
	NS_MIG_UNBACK_BUSY,	   /* could not be isolated (-EBUSY, or not tried), also on the last try */
	NS_MIG_UNBACK_NOMEM,	   /* its original node could not take it (-ENOMEM) */
	NS_MIG_UNBACK_SHARED,	   /* mapped by another process now, and no CAP_SYS_NICE (-EACCES) */
	NS_MIG_UNBACK_NOT_PRESENT, /* no longer in memory (-ENOENT): swapped out or freed meanwhile */
	NS_MIG_UNBACK_UNMAPPED,	   /* the process unmapped it meanwhile (-EFAULT) */
	NS_MIG_UNBACK_EXITED,	   /* the process exited during the rollback */
	NS_MIG_UNBACK_STOPPED,	   /* a second stop request ended the rollback before it came back */
	NS_MIG_UNBACK_OTHER,	   /* any other status */
	NS_MIG_UNBACK_COUNT
};
/* "busy", "nomem", "shared", "not_present", "unmapped", "exited", "stopped", "other". */
const char *ns_mig_unback_name(enum ns_mig_unback r);

/* How a run ended, for the exit code: stop DONE: done (0). EXITED: failed (1). Rolled back
 * with rollback_complete: nothing changed, retry later (4). Otherwise stopped partway (5):
 * stopped by pressure without rollback (opts->rollback false), or a rollback that a second
 * stop request ended (rollback_stopped) or that left bytes on the targets (rollback_unback
 * says why); moved_total and the rollback fields say exactly where things are. */
struct ns_mig_result {
	enum ns_mig_stop stop;
	uint64_t moved[NS_KIND_COUNT]; /* bytes that arrived on a target */
	uint64_t moved_total;
	uint64_t pages_moved;	       /* in units passed (a THP counts once) */
	uint64_t pages_busy;	       /* still -EBUSY after the retry */
	uint64_t pages_retried;
	uint64_t pages_fault, pages_noent, pages_acces, pages_nomem, pages_other;
	uint64_t swapped;	       /* bytes seen swapped out */
	uint64_t thp_seen, thp_arrived_huge; /* THP units moved; of them still huge after */
	uint64_t calls, longest_call_ns, chunk_min, chunk_max;
	uint64_t move_ns; /* time spent inside move_pages moving (not asking), summed over jobs */
	unsigned jobs;	  /* move_pages calls that were in flight at once */
	double duration;
	double started;	  /* when the run started, seconds since the Unix epoch */
	double last_call_end; /* seconds after the start when the last call moving forward (not
			       * a rollback's) ended; 0: none */
	double longest_call_end; /* seconds after the start when the longest call ended */
	/* Pressure. Kernel PSI triggers ("some" max_psi% of NS_MIG_PSI_WINDOW_US) on
	 * /proc/pressure/memory and, when the process is in a cgroup v2 other than the root, on
	 * its memory.pressure, warn between chunks and during the pacing sleeps; the averages
	 * are still read before every chunk. A trigger that cannot be armed leaves the sampling
	 * alone (psi_trigger_err says why). Before every chunk, too, the live stall totals of the
	 * same files are read: any stall since the last chunk holds the move until the stall
	 * since is below max_psi% of the time since (a hold), or for a window, when it counts as
	 * pressure; so a stall is seen at the next chunk, before the trigger can speak. */
	unsigned psi_triggers;	 /* armed: 0, 1 (system) or 2 (system and cgroup) */
	bool psi_trigger_cgroup; /* the cgroup's is among them */
	double psi_window;	 /* their window, seconds (2 where the kernel refused 0.5) */
	int psi_trigger_err;	 /* -errno of the first that could not be armed, 0 none */
	uint64_t psi_events;	 /* trigger events seen */
	double pressure_first;	 /* seconds after the start when pressure was first seen
				  * (event, average, or a hold that became pressure); < 0: never */
	uint64_t calls_after_pressure; /* calls moving forward handed out after that */
	unsigned psi_stall_files;      /* files whose stall totals were watched: 0, 1 or 2 */
	uint64_t psi_holds;	       /* holds begun on a stall */
	double psi_held;	       /* seconds held, all holds */
	double hold_first;	       /* seconds after the start when the first began; < 0: never */
	/* The rollback. Every byte moved is either back or not back with a reason:
	 * rollback_bytes + rollback_failed_bytes == moved_total, and rollback_failed_bytes is the
	 * sum of rollback_unback[]. Checked page by page after the rollback (a THP the kernel
	 * split since is checked per base page), so pages whose status the kernel left unwritten
	 * are counted where they are. */
	bool rolled_back;	 /* a rollback ran */
	bool rollback_stopped;	 /* a second stop request ended it partway */
	bool rollback_complete;	 /* every byte moved is back on its original node */
	uint64_t rollback_bytes, rollback_pages;	  /* back (pages: base pages) */
	uint64_t rollback_failed_bytes, rollback_failed; /* not back (failed: base pages) */
	uint64_t rollback_unback[NS_MIG_UNBACK_COUNT];	  /* bytes not back, by reason */
};

/* Chunk sizing (the arithmetic alone, for tests). The per-page cost of a move swings: with
 * THPs in the lab, the slowest tenth of calls took 2-4x the median per page, so a chunk sized
 * on the last call alone lands a few calls later on a slow stretch. Chunks are therefore sized
 * on the slowest per-page cost of the last NS_MIG_COST_WINDOW calls. */
#define NS_MIG_COST_WINDOW 8
struct ns_mig_costs {
	double ns_per_page[NS_MIG_COST_WINDOW];
	unsigned n, next;
};

/* After a call that carried pages base pages in ns nanoseconds and was handed out when the
 * chunk size was chunk_then: record its cost in c and return the size for the next chunks,
 * given the size now (other calls in flight may have changed it since) and what one call
 * should take. The size is what would take target_ns at the slowest recent cost, reached at
 * once when smaller, by at most a quarter per call when larger. A partial chunk (under half
 * of chunk_then) or an unmeasured call is not recorded and leaves it. Clamped to [lo, hi]. */
unsigned ns_mig_next_chunk(struct ns_mig_costs *c, unsigned now, unsigned pages, unsigned chunk_then,
			   uint64_t ns, uint64_t target_ns, unsigned lo, unsigned hi);

/* Fill the plan from numa_maps and smaps (ns_resident_scan: costs what is resident, not what
 * is mapped; the pagemap walk only when the mappings keep changing under it). Changes
 * nothing. *o->stop is looked at between VMAs and between walk windows: -EINTR when a stop
 * request came. The move's walk skips address space with nothing populated (PAGEMAP_SCAN,
 * 6.7+; without it, VMAs whose smaps shows nothing resident or swapped). */
int ns_mig_preflight(pid_t pid, const struct ns_mig_opts *o, struct ns_mig_plan *plan);
/* Move. Returns 0 when the engine ran (see res->stop for how it ended), -errno when it could
 * not start or failed (-ESRCH: process gone; -EACCES: a target outside its cpuset). */
int ns_mig_run(pid_t pid, const struct ns_mig_opts *o, struct ns_mig_result *res);

/* One move per target process at a time: the lock NS_RUNDIR/migrate-PID.lock (see
 * ns_runlock_take in numasafe/file.h, whose errors it returns). -EBUSY with *holder set (0 if
 * unknown) when another process holds it: busy, retry later. A dry run changes nothing and
 * takes no lock. */
int ns_mig_lock(pid_t target, int *fd, pid_t *holder, char *errmsg, size_t len);
void ns_mig_unlock(int fd);

#endif
