/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A process's memory: VMAs (/proc/PID/maps, smaps), per-node pages (/proc/PID/numa_maps),
 * the two together (what is resident, by kind and node), a streaming pagemap reader and
 * PAGEMAP_SCAN (/proc/PID/pagemap). */
#ifndef NUMASAFE_PROCMEM_H
#define NUMASAFE_PROCMEM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "parse.h"

#define NS_MAX_NODES 1024

enum ns_kind {
	NS_KIND_ANON = 0, /* private anonymous: heap, stack, guest RAM without a backend file */
	NS_KIND_THP,	  /* anonymous memory in transparent huge pages */
	NS_KIND_FILE,	  /* page cache of a regular file */
	NS_KIND_SHMEM,	  /* tmpfs, /dev/shm, memfd, shared anonymous, SysV shm */
	NS_KIND_HUGETLB,  /* hugetlbfs pages from the per-node pools */
	NS_KIND_COUNT
};
const char *ns_kind_name(enum ns_kind k);

struct ns_vma {
	uint64_t start, end;
	char perms[5];
	uint64_t offset;
	unsigned dev_major, dev_minor;
	uint64_t inode;
	char path[512]; /* "" for anonymous, "[heap]", "[stack]", or the file */
	bool swap_known; /* read from smaps: swap_kb is this VMA's "Swap:", rss_kb its "Rss:" */
	uint64_t swap_kb;
	uint64_t rss_kb;
	uint64_t thp_kb; /* smaps "AnonHugePages:" */
};

/* What a VMA holds, for moving it: NS_KIND_ANON/FILE/SHMEM/HUGETLB, or -1 for mappings that
 * hold no movable memory ([vdso], [vvar], [vsyscall]). *huge_size is the hugetlb page size.
 * Uses /proc/PID/map_files (root) to ask the filesystem, else the path. */
int ns_vma_classify(const char *root, pid_t pid, const struct ns_vma *vma, uint64_t *huge_size);

/* Streaming reader over /proc/PID/maps: memory use does not grow with the VMA count. */
struct ns_maps;
int ns_maps_open(const char *root, pid_t pid, struct ns_maps **out);
/* The same VMAs from /proc/PID/smaps, with swap_known and swap_kb filled: a scan for swapped
 * pages can skip VMAs without any. smaps walks only populated page tables, where a pagemap
 * read produces an entry for every page of a VMA, holes included (terabytes for a process
 * that reserves address space, as sanitizers and some VMs do). */
int ns_maps_open_smaps(const char *root, pid_t pid, struct ns_maps **out);
/* 1 with *vma filled, 0 at the end, -errno on error. */
int ns_maps_next(struct ns_maps *m, struct ns_vma *vma);
void ns_maps_close(struct ns_maps *m);
int ns_maps_parse_line(const char *line, struct ns_vma *vma);

/* One VMA of numa_maps. Node counts are in pages of page_size. */
struct ns_numa_vma {
	uint64_t start;
	char policy[64];
	enum ns_kind kind; /* never NS_KIND_THP: numa_maps cannot tell (see ns_kind) */
	uint64_t page_size;
	uint64_t anon, dirty, mapped, swapcache, active, writeback, mapmax;
	bool is_heap, is_stack, is_huge;
	char file[512];
	unsigned max_node; /* highest node with pages + 1 */
	uint64_t pages[NS_MAX_NODES];
};

struct ns_numa_maps;
int ns_numa_maps_open(const char *root, pid_t pid, struct ns_numa_maps **out);
/* 1 with *v filled, 0 at end, -errno. v is large (8 KiB): keep one and reuse it. */
int ns_numa_maps_next(struct ns_numa_maps *m, struct ns_numa_vma *v);
void ns_numa_maps_close(struct ns_numa_maps *m);
/* Parse one line. root is used to check whether a mapped file lives on tmpfs (NULL: don't). */
int ns_numa_maps_parse_line(const char *root, const char *line, struct ns_numa_vma *v);

/* Of a VMA's bytes per node (bytes[0..n)), the part in transparent huge pages, given the
 * VMA's THP total (smaps AnonHugePages, which is not split per node): shared out in proportion
 * to each node's bytes, so exact when the VMA is on one node; the last node with bytes takes
 * the rounding, and no node gets more than it has. Pure. */
void ns_thp_split(const uint64_t *bytes, unsigned n, uint64_t thp, uint64_t *thp_out);

/* One VMA as numa_maps and smaps see it together: bytes per node (bytes[0..max_node)) of one
 * kind (NS_KIND_THP for the THP part of an anonymous VMA, which comes as a second call) and
 * page size (the hugetlb page size for NS_KIND_HUGETLB). */
typedef int (*ns_resident_fn)(void *arg, enum ns_kind kind, uint64_t page_size, const uint64_t *bytes,
			      unsigned max_node);
/* What a process has resident, VMA by VMA, from numa_maps (pages per node) paired with smaps
 * (the VMA's kind via ns_vma_classify, its THP and swap): the kernel walks only populated
 * page tables for both, so terabytes of reserved, untouched address space cost nothing.
 * Mappings with nothing movable ([vdso]...) are left out. *swapped: the sum of smaps Swap.
 * *stop (may be NULL) is looked at between VMAs: -EINTR when it is above 0. -EAGAIN when the
 * two files disagree (a VMA mapped or unmapped between the reads: read again); -ESRCH when
 * the process is gone; what fn returns when not 0; other -errno. */
int ns_resident_scan(const char *root, pid_t pid, volatile sig_atomic_t *stop, ns_resident_fn fn, void *arg,
		     uint64_t *swapped);

/* A process's totals per kind and node, in bytes. */
struct ns_proc_usage {
	pid_t pid;
	char comm[64];
	unsigned max_node;
	uint64_t bytes[NS_KIND_COUNT][NS_MAX_NODES];
	uint64_t total[NS_KIND_COUNT];
	uint64_t node_total[NS_MAX_NODES];
	uint64_t thp_bytes;  /* AnonHugePages from smaps_rollup, not split per node */
	uint64_t swap_bytes; /* VmSwap */
	uint64_t vm_size;    /* VmSize: the address space mapped (0: no such line) */
	struct ns_set mems_allowed;
	struct ns_set cpus_allowed;
};
/* Heap-allocated because it is large; free with free(). */
int ns_proc_usage_read(const char *root, pid_t pid, struct ns_proc_usage **out);
/* Mems_allowed_list / Cpus_allowed_list / VmSwap / Name from /proc/PID/status. */
int ns_proc_status_read(const char *root, pid_t pid, struct ns_proc_usage *u);
/* The few /proc/PID/stat fields the tools need. */
struct ns_proc_stat {
	char state;		       /* R, S, D, Z, X, ... */
	unsigned long flags;	       /* PF_* */
	unsigned long long start_time; /* clock ticks after boot: tells a reused PID apart */
};
/* 0, -ESRCH when there is no such process, -EINVAL when the file does not parse. */
int ns_proc_stat_read(const char *root, pid_t pid, struct ns_proc_stat *st);
/* The cgroup of a controller ("cpu", "memory") from /proc/PID/cgroup text: a v1 line naming
 * the controller wins over the v2 "0::" line. Sets *version (1 or 2); -ENOENT when neither. */
int ns_cgroup_path(const char *text, const char *controller, char *path, size_t len, int *version);
/* -ESRCH when no such process (or a zombie); -EINVAL for a kernel thread (no mm); 0 otherwise. */
int ns_proc_check_user(const char *root, pid_t pid);

/* Pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst). */
#define NS_PME_PRESENT (1ULL << 63)
#define NS_PME_SWAPPED (1ULL << 62)
#define NS_PME_FILE_SHARED (1ULL << 61)
#define NS_PME_EXCLUSIVE (1ULL << 56)
#define NS_PME_SOFT_DIRTY (1ULL << 55)
static inline bool ns_pme_present(uint64_t e) { return (e & NS_PME_PRESENT) != 0; }
static inline bool ns_pme_swapped(uint64_t e) { return (e & (NS_PME_PRESENT | NS_PME_SWAPPED)) == NS_PME_SWAPPED; }
static inline unsigned ns_pme_swap_type(uint64_t e) { return (unsigned)(e & 0x1f); }
static inline uint64_t ns_pme_swap_offset(uint64_t e) { return (e >> 5) & ((1ULL << 50) - 1); }
static inline uint64_t ns_pme_pfn(uint64_t e) { return e & ((1ULL << 55) - 1); }

/* Streaming pagemap reader. It keeps one bounded buffer (NS_PAGEMAP_BATCH entries), so a
 * 1 TiB VM costs the same memory to scan as a 1 MiB one. */
#define NS_PAGEMAP_BATCH 4096
struct ns_pagemap;
int ns_pagemap_open(const char *root, pid_t pid, struct ns_pagemap **out);
void ns_pagemap_close(struct ns_pagemap *pm);
/* Called for each batch: entries[i] describes the page at addr + i * page size.
 * Return 0 to go on, anything else stops the scan and is returned by ns_pagemap_scan. */
typedef int (*ns_pagemap_fn)(void *arg, uint64_t addr, const uint64_t *entries, size_t n);
int ns_pagemap_scan(struct ns_pagemap *pm, uint64_t start, uint64_t end, ns_pagemap_fn fn, void *arg);
/* Where the next page that is present or swapped lies in [start, end), asked of the kernel
 * with the PAGEMAP_SCAN ioctl (Linux 6.7+) on an open /proc/PID/pagemap fd: the kernel walks
 * only the page tables that exist, so terabytes of reserved, untouched address space cost
 * microseconds, where reading pagemap costs 8 bytes of output per page. start and end are
 * page-aligned. 1 with *found set; 0 when there is none below *walk_end (the kernel may stop
 * early: go on from *walk_end); -EOPNOTSUPP when the kernel has no PAGEMAP_SCAN (ENOTTY,
 * EINVAL: read pagemap instead); -ESRCH when the process is gone; other -errno. */
int ns_pagemap_next_populated(int fd, uint64_t start, uint64_t end, uint64_t *found, uint64_t *walk_end);
/* ns_pagemap_scan over the populated parts of [start, end) only: spans with no page present
 * or swapped are skipped with PAGEMAP_SCAN (ns_pagemap_next_populated, at most 64 GiB of
 * address space per call) and fn sees windows of at most NS_PAGEMAP_BATCH entries that begin
 * at a populated page (entries in a window may still be empty), so a 16 TB reserved mapping
 * with a few pages costs milliseconds. Without PAGEMAP_SCAN, pagemap is read window by window.
 * *stop (may be NULL) is looked at before each window and each PAGEMAP_SCAN call: -EINTR when
 * it is above 0. What fn returns when not 0; -ESRCH when the process is gone; other -errno. */
int ns_pagemap_scan_populated(struct ns_pagemap *pm, uint64_t start, uint64_t end, volatile sig_atomic_t *stop,
			      ns_pagemap_fn fn, void *arg);
/* Entries of a single page (convenience for tests and probes). */
int ns_pagemap_get(struct ns_pagemap *pm, uint64_t addr, uint64_t *entry);

#endif
