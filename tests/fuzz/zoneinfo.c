/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_zoneinfo_read_wmarks (/proc/zoneinfo in a private tree) for a host of four nodes.
 * Contract: 0 or -errno; min <= low <= high is what a kernel writes, but the reader is only
 * held to not crash, not to loop and to leave nodes it found no zone for at zero. */
#include <errno.h>
#include <string.h>

#include "numasafe/topo.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ns_node nodes[4];
	int rc;

	memset(nodes, 0, sizeof(nodes));
	for (int i = 0; i < 4; i++) {
		nodes[i].id = i;
		nodes[i].wmark_high = 1; /* must be reset, not added to */
	}
	fz_write("proc/zoneinfo", data, size);
	rc = ns_zoneinfo_read_wmarks(fz_root(), nodes, 4);
	FZ_CHECK(rc <= 0);
	if (rc == 0 && !memmem(data, size, "Node", 4))
		for (int i = 0; i < 4; i++)
			FZ_CHECK(nodes[i].wmark_min == 0 && nodes[i].wmark_low == 0 && nodes[i].wmark_high == 0);
	return 0;
}
