/* The per-process pass of lib/swap.c with the address ranges that held swap, for
 * fast-swapoff (lib/swapoff.c): it pages a process in right after the scan, and reading that
 * process's smaps a second time to find the same ranges was half of a small process's cost. */
#ifndef NS_LIB_SWAP_INT_H
#define NS_LIB_SWAP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "numasafe/procmem.h"
#include "numasafe/swap.h"

/* [start, end) of one VMA, narrowed to its first and last swapped page, and cut where 64 MiB
 * or more of it hold no swapped page. */
struct ns_swap_range {
	uint64_t start, end;
};

/* Like ns_swap_proc_fn, plus the ranges that held swapped pages of any type (valid during
 * the call only). */
typedef int (*ns_swap_proc_ranges_fn)(void *arg, pid_t pid, const struct ns_proc_usage *status,
				      const struct ns_swap_evidence *one, const struct ns_swap_range *r, size_t nr);
/* ns_swap_gather_each with ranges. *stop (may be NULL) is looked at between processes and between pagemap
 * windows (ns_pagemap_scan_populated): -EINTR when it is above 0. */
int ns_swap_gather_each_ranges(const char *root, struct ns_swap_evidence *ev, ns_swap_proc_ranges_fn fn, void *arg,
			       volatile sig_atomic_t *stop);

#endif
