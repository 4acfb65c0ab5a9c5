/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pinning a VM's threads to CPUs: through libvirt for domains (so libvirt's own view and cgroups
 * stay right), with sched_setaffinity for bare QEMU processes. Every change is recorded, so a
 * partial failure is undone and a second identical run changes nothing. */
#ifndef NUMASAFE_PIN_H
#define NUMASAFE_PIN_H

#include <stdint.h>
#include <sys/types.h>

#include "parse.h"
#include "vm.h"

struct ns_pin_req {
	struct ns_set cpus;  /* where the selected threads may run */
	struct ns_set vcpus; /* which vCPUs; empty means all */
	int emulator;	     /* emulator threads follow to the same CPUs */
	int iothreads;	     /* I/O threads too */
	int spread;	     /* vCPU k runs only on order[k % norder] */
	int norder;
	unsigned order[NS_SET_MAX];
	int config;  /* libvirt: persist in the definition too */
	int dry_run; /* compute the changes, apply none */
};

enum ns_pin_what { NS_PIN_VCPU, NS_PIN_EMULATOR, NS_PIN_IOTHREAD, NS_PIN_THREAD };

struct ns_pin_item {
	enum ns_pin_what what;
	int index;	    /* vCPU number, libvirt IOThread id, or -1 */
	pid_t tid;	    /* the host thread, when known */
	char label[48];	    /* "vcpu 0", "emulator", "iothread 1", "thread 4242 (call_rcu)" */
	struct ns_set before;
	struct ns_set after;
	int changed;
};

struct ns_pin_result {
	int n;
	struct ns_pin_item *items;
	int nchanged;
	int undone; /* a failure happened and the changes made before it were reverted */
};
void ns_pin_result_free(struct ns_pin_result *r);

/* Pin a bare VM (threads from ns_vm_from_pid). root must be live. On failure the threads
 * already changed are put back; -errno, errmsg names the thread. -EINVAL: a vCPU in req->vcpus
 * that the VM does not have. */
int ns_pin_pid(const struct ns_vm *vm, const struct ns_pin_req *req, struct ns_pin_result *res,
	       char *errmsg, size_t len);
/* Pin a running libvirt domain through the API. -ENOENT no such domain, -ESRCH not running,
 * -ECONNREFUSED no connection, -EINVAL a vCPU that does not exist, -EPERM libvirt refused. */
int ns_pin_domain(const char *uri, const char *name, const struct ns_pin_req *req,
		  struct ns_pin_result *res, char *errmsg, size_t len);

/* Put back the "before" of every changed item of a successful ns_pin_pid/ns_pin_domain (when
 * a later step of the same command failed). Best effort: returns the first error. */
int ns_pin_revert_pid(const struct ns_pin_result *res);
int ns_pin_revert_domain(const char *uri, const char *name, const struct ns_pin_result *res, int config);

/* The current pinning, items with before == after and changed = 0. */
int ns_pin_get_pid(const struct ns_vm *vm, struct ns_pin_result *res, char *errmsg, size_t len);
int ns_pin_get_domain(const char *uri, const char *name, struct ns_pin_result *res, char *errmsg,
		      size_t len);

/* CPUs ordered for --spread: first CPU of every core, then second siblings, ... (sysfs
 * topology/thread_siblings_list under root). Returns how many were written. */
int ns_cpu_spread_order(const char *root, const struct ns_set *cpus, unsigned *order, int max);
/* The online CPUs (/sys/devices/system/cpu/online under root). */
int ns_cpus_online(const char *root, struct ns_set *out);

/* CPU weight proportional to vCPUs. The unit is the backend's default weight of one VM, so a
 * 1-vCPU VM keeps the default: libvirt cpu_shares 1024 on cgroup v1, 100 on v2 (cpu.weight);
 * the test driver's "weight" 100. before/after are the weights. restore, when not 0, is set
 * instead (to put back a weight read before, after a later step failed). */
int ns_weight_domain(const char *uri, const char *name, int vcpus, uint64_t restore, int dry_run,
		     uint64_t *before, uint64_t *after, char *errmsg, size_t len);
/* The same for a bare process: its own cgroup's cpu.weight (v2) or cpu.shares (v1).
 * -EPERM when the process sits in the root cgroup (no per-VM cgroup to weight). */
int ns_weight_pid(const char *root, pid_t pid, int vcpus, uint64_t restore, int dry_run,
		  uint64_t *before, uint64_t *after, char *path, size_t pathlen);

#endif
