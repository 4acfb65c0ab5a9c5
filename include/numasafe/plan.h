/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whole-host rebalance: place every VM on one node so memory and vCPUs fit, then so the CPU
 * demand each node gets exceeds its CPUs the least, then moving the fewest bytes; order the
 * moves so each one's target has room when it runs. And where a new VM should go (ns_place).
 * Pure arithmetic over numbers the caller gathered (ns_plan_gather: topology, headroom,
 * per-VM memory per node, measured demand); no /proc reads except in ns_plan_gather. */
#ifndef NUMASAFE_PLAN_H
#define NUMASAFE_PLAN_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "numasafe/parse.h"

#define NS_PLAN_MAX_NODES 64
#define NS_PLAN_VERSION 1

/* A node as the planner sees it. */
struct ns_plan_node {
	int id;		   /* kernel node id */
	uint64_t headroom; /* bytes that may still go there now (MemFree - high wmark - reserve) */
	int cpus;	   /* the vCPU cap: vCPUs the node may hold. ns_plan_gather sets the usable
			    * CPUs; the caller multiplies by --cpu-overcommit */
	double capacity;   /* CPUs usable for vCPUs (excluded CPUs already removed), in CPUs: what
			    * the node's demand is measured against (0 to 1e6) */
	int memory_only;   /* 1: memory and no CPUs at all (CXL and other memory-only nodes): never
			    * a VM's home; memory there is to move */
};

/* A VM as the planner sees it. */
struct ns_plan_vm {
	char name[256];	   /* libvirt domain name, or the bare QEMU's name */
	int is_domain;	   /* 1: libvirt domain (executed by name), 0: bare process (by pid) */
	pid_t pid;
	unsigned long long start_time; /* /proc/PID/stat field 22, guards against PID reuse */
	int vcpus;
	uint64_t mem[NS_PLAN_MAX_NODES]; /* bytes on each node, indexed like ns_plan_in.nodes */
	int pinned_node;		 /* index of a node the VM must stay on, or -1 */
	int threads_node; /* kernel id of the node whose CPUs confine every thread of the VM, or
			   * -1 (filled by ns_plan_gather). A placed VM whose memory is home but
			   * whose threads are not confined there gets a pin-only step (bytes 0) */
	double demand;	  /* CPUs its vCPUs want (on CPU + runnable waiting, over the window),
			   * 0 to 1e6; used when ns_plan_in.have_demand */
};

/* Where a VM's CPU demand is now, and stays when the plan leaves it unplaced (or its step is
 * left out): the node whose CPUs confine its threads; else the node with CPUs holding most of
 * its memory; else the node with the most capacity (the scheduler spreads an unconfined
 * thread, most of it there). Never a memory-only node. Node index, -1 when no node has CPUs. */
struct ns_plan_in;
int ns_plan_vm_node(const struct ns_plan_in *in, int v);

struct ns_plan_in {
	int nr_nodes;
	struct ns_plan_node nodes[NS_PLAN_MAX_NODES];
	int nr_vms;
	struct ns_plan_vm *vms;
	int have_demand;   /* 1: vms[].demand was measured; 0: objective (2) below is skipped */
	double sample_s;   /* the window demand was measured over (s), 0 when not measured */
	int ignored_owner, ignored_exe; /* look-alikes left out (ns_vm_list), by ns_plan_gather */
	uint64_t max_move; /* with NS_PLAN_MAX_MOVE: the bytes one run may move (--max-move) */
	/* 0: exact search when small enough, heuristic beyond; NS_PLAN_EXACT / NS_PLAN_GREEDY /
	 * NS_PLAN_HEURISTIC force one method (for bench/plan and tests); at most one may be set.
	 * NS_PLAN_MAX_MOVE may be added to any. */
	unsigned flags;
	/* --exclude-cpus: CPUs kept for the host. ns_plan_gather sets it; the plan file carries
	 * it ("exclude_cpus") so that its executor pins vCPUs where the plan counted them */
	struct ns_set exclude;
};
#define NS_PLAN_EXACT 1u     /* branch and bound, whatever the size (may be slow) */
#define NS_PLAN_GREEDY 2u    /* numad-like baseline: one VM at a time, no look-ahead */
#define NS_PLAN_HEURISTIC 4u /* greedy + local search even when the exact search would be cheap */
#define NS_PLAN_MAX_MOVE 8u  /* bytes moved may not exceed max_move */

/* Fill a planner input from the host (under root): every online node with memory, its
 * headroom (reserve NULL: the default per node), its CPUs minus exclude (cpus and capacity)
 * and whether it has no CPUs at all (memory_only); every VM with named vCPU threads
 * (ns_vm_list_read), its own memory per node (anonymous, shmem and hugetlb: what the engine
 * moves and locality counts). QEMUs without thread names cannot be pinned and are left out:
 * *skipped counts them. sample_s > 0: each VM's demand is measured over that many seconds
 * first (ns_steal_measure; have_demand 1, sample_s the window as it passed); a VM that exits
 * meanwhile is left out; stop (may be NULL) ends the window early: -EINTR. sample_s 0: no
 * measurement, have_demand 0. in->vms is allocated: ns_plan_in_release. Errors: -errno from
 * the readers (-EOPNOTSUPP: no schedstat), -EINVAL for sample_s < 0 or beyond 3600, -ENOMEM. */
struct ns_amount;
struct ns_set;
int ns_plan_gather(const char *root, const struct ns_amount *reserve, const struct ns_set *exclude,
		   double sample_s, volatile sig_atomic_t *stop, struct ns_plan_in *in, int *skipped);
void ns_plan_in_release(struct ns_plan_in *in);

/* One executable step: pin the VM to the node, then move its memory there. */
struct ns_plan_step {
	int vm;		/* index into ns_plan_in.vms */
	int to;		/* node index */
	uint64_t bytes; /* bytes that move */
	int via_temp;	/* 1: a first leg parking memory on a temporary node to break a cycle */
};

/* The objective, in order: (1) place as many VMs as possible (each node's memory and vCPU
 * cap); (2) minimise the excess demand: over the nodes, the demand placed there beyond its
 * capacity, summed (what turns into steal); (3) move the fewest bytes. A VM left unplaced keeps
 * its memory where it is and its demand on ns_plan_vm_node. With NS_PLAN_MAX_MOVE the bytes
 * moved stay within max_move: a VM that cannot be brought home within it is left unplaced
 * (with a reason), and the plan is the best within the cap. Demands are compared in
 * thousandths of a CPU, the precision of the plan file. */
struct ns_plan_out {
	int *placement; /* per VM: node index, or -1 when it fits nowhere (its memory stays put) */
	/* per VM: why it is unplaced, or why its step was left out (nr_unordered); "" otherwise */
	char (*why)[160];
	/* per VM: what is worth knowing that is no failure ("memory on CPU-less node 2 (512M)"),
	 * "" otherwise */
	char (*note)[160];
	int nr_steps;
	struct ns_plan_step *steps; /* pin-only steps (bytes 0) first, then the moves in order */
	uint64_t bytes_moved; /* sum over placed VMs of bytes not yet on their node */
	int exact;	      /* 1 when the placement is proven optimal for the objective */
	int nr_unordered;     /* steps that no order can make safe (reported, not emitted) */
	int nr_limited;	      /* unplaced VMs that fit somewhere but whose move the byte limit
			       * cannot pay for ("left where it is: ..."); the other unplaced VMs
			       * fit nowhere */
	/* CPU demand in CPUs (0 when !in->have_demand): per node (indexed like in->nodes) before
	 * the plan and after its emitted steps (a VM unplaced or whose step was left out stays on
	 * ns_plan_vm_node), and the excess, sum over nodes of max(0, demand - capacity) */
	double demand_before[NS_PLAN_MAX_NODES], demand_after[NS_PLAN_MAX_NODES];
	double excess_before, excess_after;
	/* NS_PLAN_MAX_MOVE: 1 when the cap changed the plan (the best plan without it moves more);
	 * then what that plan reaches, for "what the cap cost" */
	int max_move_bound;
	int unplaced_uncapped;
	double excess_uncapped;
	uint64_t bytes_uncapped;
};

/* 0, or -EINVAL on bad input, -ENOMEM. An infeasible VM is not an error: placement -1 + why. */
int ns_plan_solve(const struct ns_plan_in *in, struct ns_plan_out *out);
void ns_plan_out_free(struct ns_plan_out *out);

/* Where a new VM of vcpus vCPUs and bytes of memory would do best now: a node that is not
 * memory-only, whose headroom holds the memory and whose vCPU cap (cpus) the vCPUs of the VMs
 * there now (on ns_plan_vm_node) plus vcpus; among those, the least excess once its demand is
 * added, then the most spare CPU (capacity - demand), then the most headroom, then the lowest
 * index. The new VM's demand is taken as vcpus CPUs (every vCPU busy: the safe assumption).
 * A node's demand is its VMs' measured demand; unmeasured (have_demand 0), their vCPU count.
 * The input is what ns_plan_gather fills (its VMs' placement is not consulted). */
struct ns_place_node {
	int id;		   /* kernel node id */
	double demand;	   /* CPUs its VMs want now */
	double capacity;   /* usable CPUs */
	uint64_t headroom; /* bytes */
	int vcpus;	   /* vCPUs of its VMs now */
	int vcpu_cap;	   /* in->nodes[].cpus */
	double excess;	   /* max(0, demand + new vCPUs - capacity): CPUs short with the new VM */
	int fits;	   /* memory and vCPU cap hold it, and the node has CPUs */
	char reason[160];  /* why it fits or not, with the numbers */
};
struct ns_place_out {
	int node; /* index into nodes[] of the choice, -1 when no node fits */
	int vcpus;
	uint64_t bytes;
	int have_demand;
	int nr_nodes;
	struct ns_place_node nodes[NS_PLAN_MAX_NODES];
};
/* 0, or -EINVAL (vcpus < 1, bytes 0, a bad input as for ns_plan_solve). No node fitting is
 * no error: node -1, every reason filled. */
int ns_place_solve(const struct ns_plan_in *in, int vcpus, uint64_t bytes, struct ns_place_out *out);
/* {"version":1, "kind":"numasafe-place", "node": id or null, "nodes": [...]} (README
 * "Placement advice"); NULL when out of memory. */
struct json_object *ns_place_to_json(const struct ns_place_out *out);

/* The plan as JSON (schema: README "Rebalance plan"), and back: ns_plan_read fills steps
 * with VM names, pids and kernel node ids for execution; see struct ns_plan_exec_step.
 * ns_plan_to_json returns NULL when out of memory (or given no nodes). */
struct json_object *ns_plan_to_json(const struct ns_plan_in *in, const struct ns_plan_out *out);

struct ns_plan_exec_step {
	int index; /* 1-based step number as printed */
	char vm[256];
	int is_domain;
	pid_t pid;
	unsigned long long start_time;
	int to_node; /* kernel node id */
	uint64_t bytes;
	int temporary; /* 1: parking leg of a cycle break; the VM's own step follows later */
	struct ns_set exclude; /* the plan's "exclude_cpus" (empty when it has none): CPUs the
				* step's vCPUs are kept off */
};
/* Parse a plan file; *steps (free() it) in execution order. The file must be a regular file
 * (opened without following a symlink or waiting on a FIFO: numasafe/file.h) of at most
 * NS_PLAN_MAX_BYTES, hold exactly one JSON object (nothing but white space after it), and every
 * field must be present, of its type and in range (json-c's silent clamping of huge integers
 * is refused, as is a NUL or control character in a VM name); start_time must be positive.
 * "exclude_cpus" (a CPU list) may be absent, as plans written before it have none.
 * errmsg names the file and the first problem, on one line. -EINVAL on a bad file, schema or
 * version; -ELOOP (symlink), -EISDIR, -EFBIG, or -errno when the file cannot be read; -ENOMEM. */
#define NS_PLAN_MAX_BYTES (64 << 20)
int ns_plan_read(const char *path, struct ns_plan_exec_step **steps, int *nr, char *errmsg,
		 size_t len);

/* Is the step's process still the VM the plan was made for? Its start time must equal the
 * step's (so a reused pid is not taken for the VM), and for a domain the pid file under root
 * must name the step's pid; for a bare process, its QEMU -name (as VM discovery reports it,
 * "pid N" without one) or its comm must equal the step's VM name. 0 when it is; -ESTALE
 * when not, or when the process is gone or is no VM, with errmsg saying what is there now
 * (no file or step prefix); -EINVAL when the step has no start time. */
int ns_plan_step_verify(const char *root, const struct ns_plan_exec_step *s, char *errmsg, size_t len);

#endif
