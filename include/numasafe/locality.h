/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A VM's locality, one definition for every command. A VM's own memory is what a guest
 * touches and the engine moves: anonymous, shmem and hugetlb pages (not the page cache of
 * binaries and libraries, which is shared with the rest of the host). Its home node is the one
 * node all its vCPU threads may run on when there is one, else the node holding most of its
 * own memory. Its locality is the share of its own memory on the home node; it is local when
 * its vCPU threads are confined to the home node and that share is at least NS_LOCAL_RATIO. */
#ifndef NUMASAFE_LOCALITY_H
#define NUMASAFE_LOCALITY_H

#include <stdbool.h>
#include <stdint.h>

#include "parse.h"
#include "procmem.h"
#include "topo.h"

#define NS_LOCAL_RATIO 0.99

struct ns_locality {
	int home_node;	      /* -1: no single thread node and no memory */
	int threads_node;     /* the one node whose CPUs confine every vCPU thread, or -1 */
	int memory_node;      /* the node holding most of its own memory, or -1 when it has none */
	uint64_t own[NS_MAX_NODES]; /* own memory per node id */
	uint64_t own_bytes;   /* over all nodes */
	uint64_t home_bytes;  /* of it on home_node */
	double ratio;	      /* home_bytes / own_bytes; 1 when it has no own memory */
	bool local;
};

/* Own memory of a process per node (u: ns_proc_usage_read). */
uint64_t ns_own_bytes(const struct ns_proc_usage *u, unsigned node);
/* The locality of a VM whose vCPU threads may run on thread_nodes (ns_vm_cpu_nodes) and
 * whose memory is u (NULL: unknown, then only threads count and ratio is 0). */
void ns_locality_compute(const struct ns_topo *t, const struct ns_set *thread_nodes, const struct ns_proc_usage *u,
			 struct ns_locality *out);

#endif
