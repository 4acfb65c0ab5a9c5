/* Whole-host rebalance: place every VM on one node so memory and vCPUs fit, moving the fewest
 * bytes, and order the moves so each one's target has room when it runs. Pure arithmetic over
 * numbers the caller gathered (topology, headroom, per-VM memory per node); no /proc reads. */
#ifndef NUMASAFE_PLAN_H
#define NUMASAFE_PLAN_H

#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#define NS_PLAN_MAX_NODES 64
#define NS_PLAN_VERSION 1

/* A node as the planner sees it. */
struct ns_plan_node {
	int id;		   /* kernel node id */
	uint64_t headroom; /* bytes that may still go there now (MemFree - high wmark - reserve) */
	int cpus;	   /* CPUs usable for vCPUs (excluded CPUs already removed) */
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
			   * -1; filled by ns_plan_gather, ignored by the solver (numa-plan adds
			   * pin-only steps for VMs whose memory is home but whose threads are not) */
};

struct ns_plan_in {
	int nr_nodes;
	struct ns_plan_node nodes[NS_PLAN_MAX_NODES];
	int nr_vms;
	struct ns_plan_vm *vms;
	/* 0: exact search when small enough, heuristic beyond; NS_PLAN_EXACT / NS_PLAN_GREEDY /
	 * NS_PLAN_HEURISTIC force one method (for bench/plan and tests); at most one may be set. */
	unsigned flags;
};
#define NS_PLAN_EXACT 1u     /* branch and bound, whatever the size (may be slow) */
#define NS_PLAN_GREEDY 2u    /* numad-like baseline: one VM at a time, no look-ahead */
#define NS_PLAN_HEURISTIC 4u /* greedy + local search even when the exact search would be cheap */

/* Fill a planner input from the host (under root): every online node with memory, its
 * headroom (reserve NULL: the default per node) and its CPUs minus exclude; every VM with
 * named vCPU threads (ns_vm_list_read), its own memory per node (anonymous, shmem and hugetlb:
 * what the engine moves and locality counts). QEMUs without thread names cannot be pinned and
 * are left out: *skipped counts them. in->vms is allocated: ns_plan_in_release. */
struct ns_amount;
struct ns_set;
int ns_plan_gather(const char *root, const struct ns_amount *reserve, const struct ns_set *exclude,
		   struct ns_plan_in *in, int *skipped);
void ns_plan_in_release(struct ns_plan_in *in);

/* One executable step: pin the VM to the node, then move its memory there. */
struct ns_plan_step {
	int vm;		/* index into ns_plan_in.vms */
	int to;		/* node index */
	uint64_t bytes; /* bytes that move */
	int via_temp;	/* 1: a first leg parking memory on a temporary node to break a cycle */
};

struct ns_plan_out {
	int *placement; /* per VM: node index, or -1 when it fits nowhere (its memory stays put) */
	/* per VM: why it is unplaced, or why its step was left out (nr_unordered); "" otherwise */
	char (*why)[160];
	int nr_steps;
	struct ns_plan_step *steps;
	uint64_t bytes_moved; /* sum over placed VMs of bytes not yet on their node */
	int exact;	      /* 1 when the placement is proven optimal (most VMs placed, then fewest bytes) */
	int nr_unordered;     /* steps that no order can make safe (reported, not emitted) */
};

/* 0, or -EINVAL on bad input, -ENOMEM. An infeasible VM is not an error: placement -1 + why. */
int ns_plan_solve(const struct ns_plan_in *in, struct ns_plan_out *out);
void ns_plan_out_free(struct ns_plan_out *out);

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
};
/* Parse a plan file; *steps (free() it) in execution order. The file must be a regular file
 * (opened without following a symlink or waiting on a FIFO: numasafe/file.h) of at most
 * NS_PLAN_MAX_BYTES, hold exactly one JSON object (nothing but white space after it), and every
 * field must be present, of its type and in range (json-c's silent clamping of huge integers
 * is refused, as is a NUL or control character in a VM name); start_time must be positive.
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
