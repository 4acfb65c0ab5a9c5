/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host's NUMA topology and memory state, read from /sys and /proc under a root prefix. */
#ifndef NUMASAFE_TOPO_H
#define NUMASAFE_TOPO_H

#include <stdbool.h>
#include <stdint.h>

#include "parse.h"

#define NS_MAX_HPOOLS 4

struct ns_hpool {
	uint64_t page_size; /* bytes */
	uint64_t total;	    /* pages */
	uint64_t free;
	uint64_t surplus;
};

/* One node's memory as the kernel reports it; every size in bytes. */
struct ns_node {
	int id;
	struct ns_set cpus;
	uint64_t mem_total;
	uint64_t mem_free;
	uint64_t mem_used;
	uint64_t file_pages;
	uint64_t active_file;
	uint64_t inactive_file;
	uint64_t anon_pages;
	uint64_t shmem;
	uint64_t sreclaimable;
	/* Per-zone watermarks summed over the node's zones (boost included, as zoneinfo prints). */
	uint64_t wmark_min;
	uint64_t wmark_low;
	uint64_t wmark_high;
	unsigned nr_hpools;
	struct ns_hpool hpools[NS_MAX_HPOOLS];
};

/* Host-wide memory from /proc/meminfo (bytes). */
struct ns_hostmem {
	uint64_t mem_total;
	uint64_t mem_free;
	uint64_t mem_available;
	uint64_t swap_total;
	uint64_t swap_free;
	uint64_t swap_cached; /* SwapCached; 0 where the line is absent (it is only a hint) */
};

struct ns_topo;

/* root: "/" or a fixture tree; NULL means "/". The nodes are those the online list names,
 * each of which must have its node directory. Every safety input (per-node meminfo, zoneinfo,
 * /proc/meminfo, the hugetlb pools' counts) must read and parse; none is ever taken as 0.
 * 0, or -ENOENT (a file missing), -EINVAL (unparsable, a required line absent, an online
 * node without a directory or without zones in zoneinfo, a node listed twice, a reading that
 * cannot be true: free above total in any pool, MemAvailable above MemTotal), -ERANGE (a value that does not
 * fit, e.g. a watermark of 99999999999999999999999 pages), -ENOMEM; ns_error_detail() then
 * names the file and line. Without /sys/devices/system/node/online (a kernel without
 * CONFIG_NUMA) the host is node 0 without per-node meminfo (no memory to move to). Distances
 * and numa_balancing are informative: missing, they read as unknown. */
int ns_topo_read(const char *root, struct ns_topo **out);
void ns_topo_free(struct ns_topo *t);

int ns_topo_nr_nodes(const struct ns_topo *t);
/* By index 0..nr-1, in ascending node id order. */
const struct ns_node *ns_topo_node(const struct ns_topo *t, int idx);
/* By node id; NULL when the node is not online. */
const struct ns_node *ns_topo_find(const struct ns_topo *t, int node_id);
/* The set of online node ids. */
const struct ns_set *ns_topo_nodes(const struct ns_topo *t);
/* SLIT distance between node ids, or -1 when unknown. */
int ns_topo_distance(const struct ns_topo *t, int from, int to);
const struct ns_hostmem *ns_topo_hostmem(const struct ns_topo *t);
/* /proc/sys/kernel/numa_balancing: 0 off, >0 mode bits, -ENOENT when the kernel lacks it. */
int ns_topo_numa_balancing(const struct ns_topo *t);
/* The node a CPU belongs to, or -1. */
int ns_topo_cpu_node(const struct ns_topo *t, unsigned cpu);
/* The nodes the CPUs belong to; returns how many of the CPUs belong to no node. */
int ns_topo_cpus_nodes(const struct ns_topo *t, const struct ns_set *cpus, struct ns_set *nodes);

/* Readers used by ns_topo_read, exposed for unit tests on fixture files; the same errors and
 * detail as ns_topo_read, and on failure nothing is written to the result.
 * Per-node meminfo: every line "Node N Key: value[ kB]" of node N; MemTotal, MemFree,
 * MemUsed, FilePages, Active(file), Inactive(file), AnonPages, Shmem, SReclaimable required;
 * MemFree above MemTotal, HugePages_Free or _Surp above HugePages_Total is -EINVAL. */
int ns_node_read_meminfo(const char *root, int node, struct ns_node *n);
/* zoneinfo: every zone of every node in nodes[] (by id) must be there with its min, low and
 * high watermarks; their sums in bytes go to the nodes. Nodes not in nodes[] are skipped. */
int ns_zoneinfo_read_wmarks(const char *root, struct ns_node *nodes, int nr);
/* /proc/meminfo: every line "Key: value[ kB]"; MemTotal, MemFree, MemAvailable, SwapTotal and
 * SwapFree required. MemFree or MemAvailable above MemTotal, SwapFree above SwapTotal,
 * HugePages_Free or _Surp above HugePages_Total is -EINVAL. */
int ns_hostmem_read(const char *root, struct ns_hostmem *m);

#endif
