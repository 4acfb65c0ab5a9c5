/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz the smaps reader (ns_maps_open_smaps + ns_maps_next over /proc/PID/smaps in a private
 * tree): VMA headers and their "Swap:" fields, lines of any length. Contract: 1 with a VMA
 * whose start <= end, 0 at the end, -errno otherwise; it ends. */
#include <errno.h>
#include <string.h>

#include "numasafe/procmem.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ns_maps *m = NULL;
	struct ns_vma v;
	size_t count = 0;
	int rc;

	fz_write("proc/1/smaps", data, size);
	FZ_CHECK(ns_maps_open_smaps(fz_root(), 1, &m) == 0);
	while ((rc = ns_maps_next(m, &v)) > 0) {
		FZ_CHECK(rc == 1 && v.start <= v.end && v.swap_known);
		FZ_CHECK(++count <= size); /* every VMA costs at least one byte of input */
	}
	FZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
	ns_maps_close(m);
	return 0;
}
