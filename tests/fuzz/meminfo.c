/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_hostmem_read (/proc/meminfo in a private tree). Contract: 0 or -errno. */
#include "numasafe/topo.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ns_hostmem m;

	fz_write("proc/meminfo", data, size);
	FZ_CHECK(ns_hostmem_read(fz_root(), &m) <= 0);
	return 0;
}
