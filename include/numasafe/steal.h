/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Steal seen from the host: a vCPU is a host thread, and the time it waits on a runqueue
 * (/proc/PID/task/TID/schedstat) is the steal its guest sees. Readers take a root prefix;
 * ns_steal_compute turns two snapshots into rates and a verdict without touching the system,
 * so it can be tested with synthetic numbers. */
#ifndef NUMASAFE_STEAL_H
#define NUMASAFE_STEAL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "parse.h"
#include "topo.h"
#include "vm.h"

/* A vCPU waiting more than this share of the interval is "substantial" steal. */
#define NS_STEAL_WAIT_PCT 5.0
/* Flag per-VM CPU weights when weight per vCPU differs by more than this factor. */
#define NS_STEAL_WEIGHT_RATIO 2.0

/* /proc/PID/task/TID/schedstat. */
struct ns_schedstat {
	uint64_t run_ns;  /* time on a CPU */
	uint64_t wait_ns; /* time runnable, waiting on a runqueue */
	uint64_t slices;  /* timeslices run */
};
/* -ESRCH when the thread is gone, -EOPNOTSUPP when the kernel lacks schedstat. */
int ns_schedstat_read(const char *root, pid_t pid, pid_t tid, struct ns_schedstat *s);
int ns_schedstat_parse(const char *text, struct ns_schedstat *s);

/* The host's CPU counters from /proc/stat. */
struct ns_cpustat {
	uint64_t total; /* all jiffies of the "cpu" line (guest time is inside user) */
	uint64_t idle;	/* idle + iowait */
	unsigned ncpus; /* "cpuN" lines: online CPUs */
	unsigned procs_running;
};
int ns_cpustat_read(const char *root, struct ns_cpustat *c);
int ns_cpustat_parse(const char *text, struct ns_cpustat *c);

/* A thread's Cpus_allowed_list (/proc/PID/task/TID/status). */
int ns_thread_cpus_read(const char *root, pid_t pid, pid_t tid, struct ns_set *cpus);
/* The nodes a VM's vCPU threads may run on (every thread for a QEMU without thread names):
 * the union of their CPU affinities mapped to nodes. */
int ns_vm_cpu_nodes(const char *root, const struct ns_vm *vm, const struct ns_topo *t, struct ns_set *nodes);

/* The CPU weight of the cgroup a VM runs in: cgroup v2 cpu.weight (default 100) or v1
 * cpu.shares (default 1024). libvirt puts each vCPU in .../libvirt/vcpuN (or vcpuN in v1);
 * the weight that competes with other VMs is the domain's, so those per-thread levels are
 * skipped. path gets the cgroup path ("/machine.slice/..."). -ENOENT: no cpu controller. */
struct ns_cgroup_weight {
	char path[512];
	int version;	 /* 1 or 2 */
	uint64_t weight; /* cpu.weight or cpu.shares as read */
	char file[4096]; /* the file it was read from ("" for the v2 root, which has none) */
};
int ns_cgroup_cpu_weight(const char *root, pid_t pid, pid_t tid, struct ns_cgroup_weight *w);

/* One vCPU thread: two snapshots in, rates out. */
struct ns_steal_thread {
	pid_t tid;
	int index;		  /* vCPU number */
	struct ns_schedstat a, b; /* before and after */
	bool ok;		  /* both snapshots read (the thread lived through the interval) */
	double cpu_pct;		  /* time on a CPU, % of the interval */
	double wait_pct;	  /* time waiting on a runqueue, % of the interval */
	double demand;		  /* CPUs it wanted: (time on a CPU + time waiting) / interval */
	uint64_t slices;
};

struct ns_steal_vm {
	/* in */
	pid_t pid;
	int nthreads;
	struct ns_steal_thread *th;
	struct ns_set cpu_nodes; /* nodes the vCPU threads may run on */
	struct ns_set mem_nodes; /* nodes holding a noticeable share of its memory */
	int64_t weight;		 /* cgroup CPU weight, -1 when unknown */
	int weight_version;
	const char *cgroup;	 /* cgroup path, NULL when unknown (VMs sharing one share its weight) */
	int nvcpus;
	/* out */
	double cpu_pct, wait_pct; /* sums over the vCPUs, % of one CPU */
	double demand;		  /* CPUs its vCPUs wanted: the sum of theirs (threads that ended
				   * during the interval count for nothing) */
	int nr_gone;		  /* vCPU threads that ended during the interval (or before it) */
	bool gone;		  /* every vCPU thread ended: the VM exited, its demand means nothing */
	double max_wait_pct;	  /* the worst vCPU */
	bool spans_nodes;	  /* threads allowed on, or memory on, more than one node */
	bool weight_off;	  /* weight per vCPU out of line with the other VMs */
};

enum ns_steal_class {
	NS_STEAL_NONE = 0,
	NS_STEAL_IDLE, /* waits while CPUs are idle: scheduling limits, fixable in software */
	NS_STEAL_BUSY, /* runnable vCPUs exceed CPUs: only moving VMs away helps */
};
const char *ns_steal_class_name(enum ns_steal_class c);

struct ns_steal_host {
	/* in */
	double interval_s;	 /* wall time between the snapshots */
	struct ns_cpustat a, b;	 /* before and after */
	int numa_balancing;	 /* the sysctl, or < 0 when absent */
	/* out */
	unsigned ncpus;
	double idle_pct;	 /* share of all CPU time idle over the interval */
	double spare_cpus;	 /* idle_pct as a number of CPUs */
	double vcpu_demand;	 /* sum of (on CPU + waiting) of every vCPU, in CPUs */
	double max_wait_pct;
	enum ns_steal_class cls;
	int nr_spanning, nr_weight_off;
};

/* Rates, demand and the verdict from two snapshots; pure arithmetic. Busy: vCPU demand exceeds the
 * online CPUs (or more runnable tasks than CPUs with less than half a CPU idle, or
 * substantial waits with no CPU to spare); idle: some vCPU waits over NS_STEAL_WAIT_PCT
 * while at least half a CPU is idle; none otherwise. Also sets each VM's spans_nodes and
 * weight_off. -EINVAL for an interval <= 0. */
int ns_steal_compute(struct ns_steal_host *h, struct ns_steal_vm *vms, int nvm);

/* The measurement both numa-plan steal and the planner (ns_plan_gather) use.
 *
 * ns_steal_vms_new allocates one ns_steal_vm per VM of vms[] with its pid, nvcpus and its vCPU
 * threads (named VMs only: a QEMU without thread names gets none and nvcpus 0); weight -1,
 * cgroup NULL, cpu_nodes and mem_nodes empty, for the caller to fill when it reports causes.
 * 0 or -ENOMEM; ns_steal_vms_free takes NULL.
 *
 * ns_steal_snap reads one snapshot (second = 0: "a", else "b") of every vCPU thread's
 * schedstat. A thread that has ended (-ESRCH) is marked not ok, which is no error: a VM whose
 * threads vanish mid-window is marked gone by ns_steal_compute. Anything else fails closed:
 * -EOPNOTSUPP when the kernel has no schedstat (CONFIG_SCHED_INFO), -EINVAL when one does not
 * parse, -errno when one cannot be read.
 *
 * ns_steal_measure takes the host's /proc/stat and every thread's snapshot, waits window_s
 * seconds (0.01 to 3600), takes both again and calls ns_steal_compute; h->interval_s is the
 * wall time between them. h->numa_balancing is left as the caller set it. When stop is given
 * and becomes non-zero (a signal handler's flag) the wait ends within 0.1 s and -EINTR comes
 * back with nothing computed. Errors as ns_steal_snap and ns_cpustat_read; -EINVAL for a
 * window out of range. */
int ns_steal_vms_new(const struct ns_vm *vms, int nvm, struct ns_steal_vm **sv);
void ns_steal_vms_free(struct ns_steal_vm *sv, int nvm);
int ns_steal_snap(const char *root, struct ns_steal_vm *sv, int nvm, int second);
int ns_steal_measure(const char *root, struct ns_steal_host *h, struct ns_steal_vm *sv, int nvm,
		     double window_s, volatile sig_atomic_t *stop);

#endif
