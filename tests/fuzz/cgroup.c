/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_cgroup_path (/proc/PID/cgroup text, v1, v2 and hybrid) for the controllers the tools
 * ask about, into buffers of several sizes. Contract: 0 with a NUL-terminated path inside the
 * buffer and version 1 or 2, -ENOENT or -ENAMETOOLONG; never a write past len. */
#include <errno.h>
#include <string.h>

#include "numasafe/procmem.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ctls[] = {"cpu", "memory", "cpuset", ""};
	static const size_t lens[] = {1, 2, 16, 512};
	char *s = fz_str(data, size);

	for (size_t c = 0; c < sizeof(ctls) / sizeof(ctls[0]); c++)
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			char *path = malloc(lens[l]);
			int version = 0, rc;

			FZ_CHECK(path);
			rc = ns_cgroup_path(s, ctls[c], path, lens[l], &version);
			FZ_CHECK(rc == 0 || rc == -ENOENT || rc == -ENAMETOOLONG);
			if (rc == 0)
				FZ_CHECK((version == 1 || version == 2) && strnlen(path, lens[l]) < lens[l]);
			free(path);
		}
	free(s);
	return 0;
}
