/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Swap areas (/proc/swaps) and which pagemap swap type each one is. */
#ifndef NUMASAFE_SWAP_H
#define NUMASAFE_SWAP_H

#include <stdint.h>
#include <sys/types.h>

#define NS_MAX_SWAPFILES 32 /* the kernel's MAX_SWAPFILES is at most 32 (5 type bits) */

struct ns_swap_area {
	char path[4096];
	char kind[16]; /* "partition" or "file" */
	uint64_t size; /* bytes */
	uint64_t used; /* bytes */
	int priority;
	int type;	      /* pagemap swap type, or -1 while unknown */
	const char *type_how; /* how the type was established: "pagemap" (fitted from pagemap
			       * evidence by order and size), "content" (probe), or NULL */
};

struct ns_swaps {
	int nr;
	struct ns_swap_area area[NS_MAX_SWAPFILES];
};

/* /proc/swaps in its own order, which is swap type order with unused types skipped:
 * the line index is NOT the type once an earlier area was swapped off. Types start at -1.
 * 0; -ENOENT (no file), -EINVAL (no header, a line not of five fields, a number that is
 * not one, Used above Size), -ERANGE (a size past 2^64 bytes, more than NS_MAX_SWAPFILES
 * areas), each with ns_error_detail() naming the file and line; *s is then empty. */
int ns_swaps_read(const char *root, struct ns_swaps *s);
int ns_swaps_find(const struct ns_swaps *s, const char *path);

/* What a scan of pagemaps found about one swap type. */
struct ns_swap_seen {
	uint64_t pages;	     /* swapped pages with this type */
	uint64_t max_offset; /* highest offset seen */
	/* a few pages to use as content probes */
	unsigned nsamples;
	struct {
		pid_t pid;
		uint64_t addr;
		uint64_t offset;
	} sample[8];
};

struct ns_swap_evidence {
	uint64_t page_size;
	struct ns_swap_seen type[NS_MAX_SWAPFILES];
};

/* Scan every process that has swap (VmSwap > 0) and record the types its pagemap shows.
 * Needs CAP_SYS_ADMIN (without it the kernel zeroes type and offset): -EPERM then. */
int ns_swap_gather(const char *root, struct ns_swap_evidence *ev);
/* The same, calling fn for each process with what its own pagemap showed (one). A negative
 * return from fn stops the scan and is returned. */
struct ns_proc_usage;
typedef int (*ns_swap_proc_fn)(void *arg, pid_t pid, const struct ns_proc_usage *status,
			       const struct ns_swap_evidence *one);
int ns_swap_gather_each(const char *root, struct ns_swap_evidence *ev, ns_swap_proc_fn fn, void *arg);
/* Record one process only (for tests and for fast-swapoff's per-process pass). */
int ns_swap_gather_pid(const char *root, pid_t pid, struct ns_swap_evidence *ev);

/* Assign types to areas from the evidence without touching anything: an observed type goes
 * to the only area the ordering and sizes allow. Areas left unresolved keep type -1. */
int ns_swap_assign(struct ns_swaps *s, const struct ns_swap_evidence *ev);

/* Settle what ns_swap_assign left open by comparing a swapped page's bytes on each candidate
 * area with the page itself (read through /proc/PID/mem). This faults the sample pages back
 * in (a few pages at most), so it is only for callers that are about to page in anyway. */
int ns_swap_probe_content(const char *root, struct ns_swaps *s, const struct ns_swap_evidence *ev);

#endif
