/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Headroom arithmetic: the answer to "can N bytes go to node K now?".
 * The rule mirrors the kernel's own NUMA balancing (migrate_balanced_pgdat): a node takes
 * pages only while its free memory stays above the high watermark, plus our reserve. */
#include <errno.h>
#include <string.h>

#include "numasafe/headroom.h"

uint64_t ns_reserve_default(uint64_t total)
{
	uint64_t pct = (uint64_t)((double)total * NS_RESERVE_PCT / 100.0);

	return pct > NS_RESERVE_MIN ? pct : NS_RESERVE_MIN;
}

uint64_t ns_reserve_for(const struct ns_node *n, const struct ns_amount *amount)
{
	return amount ? ns_amount_resolve(amount, n->mem_total) : ns_reserve_default(n->mem_total);
}

uint64_t ns_node_headroom(const struct ns_node *n, uint64_t reserve)
{
	/* saturating: a reserve of 2^64 - 1 must leave no headroom, not wrap into plenty */
	return ns_sat_sub(n->mem_free, ns_sat_add(n->wmark_high, reserve));
}

int ns_fit_check(const struct ns_topo *t, int node, uint64_t bytes, const struct ns_amount *reserve,
		 struct ns_fit *fit)
{
	const struct ns_node *n;

	if (!t || !fit)
		return -EINVAL;
	memset(fit, 0, sizeof(*fit));
	fit->node = node;
	fit->want = bytes;
	n = ns_topo_find(t, node);
	if (!n) {
		fit->reason = NS_FIT_NO_NODE;
		fit->shortfall = bytes;
		return 0;
	}
	if (n->mem_total == 0) {
		fit->reason = NS_FIT_NO_MEMORY;
		fit->shortfall = bytes;
		return 0;
	}
	fit->free = n->mem_free;
	fit->reserve = ns_reserve_for(n, reserve);
	fit->floor = ns_sat_add(n->wmark_high, fit->reserve);
	fit->headroom = ns_node_headroom(n, fit->reserve);
	if (bytes <= fit->headroom)
		fit->reason = NS_FIT_OK;
	else {
		fit->shortfall = bytes - fit->headroom;
		fit->reason = fit->headroom == 0 ? NS_FIT_BELOW_RESERVE : NS_FIT_SHORT;
	}
	/* nothing to place always fits, even on a node that is already full */
	if (bytes == 0) {
		fit->reason = NS_FIT_OK;
		fit->shortfall = 0;
	}
	return 0;
}

int ns_fit_check_huge(const struct ns_topo *t, int node, uint64_t page_size, uint64_t npages,
		      struct ns_fit *fit)
{
	const struct ns_node *n;

	if (!t || !fit || page_size == 0)
		return -EINVAL;
	memset(fit, 0, sizeof(*fit));
	fit->node = node;
	fit->want = ns_sat_mul(npages, page_size);
	n = ns_topo_find(t, node);
	if (!n) {
		fit->reason = NS_FIT_NO_NODE;
		fit->shortfall = fit->want;
		return 0;
	}
	for (unsigned i = 0; i < n->nr_hpools; i++)
		if (n->hpools[i].page_size == page_size) {
			fit->free = fit->headroom = ns_sat_mul(n->hpools[i].free, page_size);
			break;
		}
	if (fit->want <= fit->headroom)
		fit->reason = NS_FIT_OK;
	else {
		fit->reason = NS_FIT_HUGETLB_SHORT;
		fit->shortfall = fit->want - fit->headroom;
	}
	return 0;
}

const char *ns_fit_reason_str(enum ns_fit_reason r)
{
	switch (r) {
	case NS_FIT_OK:
		return "fits";
	case NS_FIT_SHORT:
		return "not enough free memory above the high watermark and reserve";
	case NS_FIT_BELOW_RESERVE:
		return "free memory is already at or below the high watermark plus reserve";
	case NS_FIT_NO_MEMORY:
		return "the node has no memory";
	case NS_FIT_NO_NODE:
		return "the node is not online";
	case NS_FIT_HUGETLB_SHORT:
		return "the node's hugetlb pool has too few free huge pages";
	}
	return "unknown";
}
