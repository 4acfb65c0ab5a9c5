/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_node_read_meminfo (/sys/devices/system/node/nodeN/meminfo in a private tree), read
 * as node 0 and as node 1 (the "Node N" prefix must match the file's node). Contract: 0 or
 * -errno; what it accepts is a true reading (MemFree within MemTotal). */
#include <string.h>

#include "numasafe/topo.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int node = 0; node < 2; node++) {
		char rel[64];
		struct ns_node n;
		int rc;

		memset(&n, 0, sizeof(n));
		n.id = node;
		snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/meminfo", node);
		fz_write(rel, data, size);
		rc = ns_node_read_meminfo(fz_root(), node, &n);
		FZ_CHECK(rc <= 0);
		if (rc == 0)
			FZ_CHECK(n.mem_free <= n.mem_total);
	}
	return 0;
}
