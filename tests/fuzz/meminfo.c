/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_hostmem_read (/proc/meminfo in a private tree). Contract: 0 or -errno; what it
 * accepts is a true reading: free memory, MemAvailable and free swap within their totals. */
#include "numasafe/topo.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ns_hostmem m;
	int rc;

	fz_write("proc/meminfo", data, size);
	rc = ns_hostmem_read(fz_root(), &m);
	FZ_CHECK(rc <= 0);
	if (rc == 0)
		FZ_CHECK(m.mem_free <= m.mem_total && m.mem_available <= m.mem_total && m.swap_free <= m.swap_total);
	return 0;
}
