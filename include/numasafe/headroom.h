/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Headroom: how much can go to a node now without pushing it under its high watermark. */
#ifndef NUMASAFE_HEADROOM_H
#define NUMASAFE_HEADROOM_H

#include <stdint.h>

#include "parse.h"
#include "topo.h"

#define NS_RESERVE_MIN (256ULL << 20)
#define NS_RESERVE_PCT 2.0

enum ns_fit_reason {
	NS_FIT_OK = 0,
	NS_FIT_SHORT,	      /* headroom exists but is less than asked */
	NS_FIT_BELOW_RESERVE, /* free memory is already at or under high watermark + reserve */
	NS_FIT_NO_MEMORY,     /* the node has no memory at all (CPU-only node) */
	NS_FIT_NO_NODE,	      /* the node is not online */
	NS_FIT_HUGETLB_SHORT, /* the node's hugetlb pool of that page size lacks free pages */
};

/* The answer to "can N bytes go to node K now?". */
struct ns_fit {
	int node;
	enum ns_fit_reason reason;
	uint64_t want;	    /* bytes asked for */
	uint64_t free;	    /* node MemFree (or free huge pages * size for hugetlb) */
	uint64_t floor;	    /* high watermark + reserve, saturated at UINT64_MAX (0 for hugetlb) */
	uint64_t reserve;   /* resolved reserve */
	uint64_t headroom;  /* free - floor, clamped at 0 */
	uint64_t shortfall; /* want - headroom when it does not fit, else 0 */
};

/* The default reserve for memory of that total size: the larger of 256 MiB and 2%. */
uint64_t ns_reserve_default(uint64_t total);
/* The reserve to keep on a node: the amount resolved against the node's MemTotal, or, when
 * amount is NULL, the default: the larger of 256 MiB and 2% of the node. */
uint64_t ns_reserve_for(const struct ns_node *n, const struct ns_amount *amount);
/* MemFree - (high watermark + reserve), clamped at 0; the sum saturates, so a reserve or a
 * watermark near 2^64 leaves no headroom instead of wrapping into plenty. */
uint64_t ns_node_headroom(const struct ns_node *n, uint64_t reserve);

/* 0 with *fit filled (fit->reason says whether it fits); -errno only for bad arguments. */
int ns_fit_check(const struct ns_topo *t, int node, uint64_t bytes, const struct ns_amount *reserve,
		 struct ns_fit *fit);
/* The same for hugetlb pages: the node's pool of page_size must have npages free. */
int ns_fit_check_huge(const struct ns_topo *t, int node, uint64_t page_size, uint64_t npages,
		      struct ns_fit *fit);
const char *ns_fit_reason_str(enum ns_fit_reason r);

#endif
