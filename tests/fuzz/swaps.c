/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_swaps_read (/proc/swaps in a private tree). Contract: 0 or -errno; at most
 * NS_MAX_SWAPFILES areas, each path and kind NUL-terminated, types not yet known (-1). */
#include <string.h>

#include "numasafe/swap.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ns_swaps s;
	int rc;

	fz_write("proc/swaps", data, size);
	rc = ns_swaps_read(fz_root(), &s);
	FZ_CHECK(rc <= 0);
	if (rc == 0) {
		FZ_CHECK(s.nr >= 0 && s.nr <= NS_MAX_SWAPFILES);
		for (int i = 0; i < s.nr; i++) {
			FZ_CHECK(memchr(s.area[i].path, '\0', sizeof(s.area[i].path)));
			FZ_CHECK(memchr(s.area[i].kind, '\0', sizeof(s.area[i].kind)));
			FZ_CHECK(s.area[i].type == -1);
			(void)ns_swaps_find(&s, s.area[i].path);
		}
	}
	return 0;
}
