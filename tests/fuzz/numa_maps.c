/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_numa_maps_parse_line (/proc/PID/numa_maps, one line), with a fixture root so no
 * live filesystem is asked about the mapped file. Contract: node counts only below
 * NS_MAX_NODES, strings NUL-terminated, a kind that is not THP (numa_maps cannot tell). The
 * structure is reused from one line to the next, as ns_numa_maps_next does, so stale slots
 * left by a longer line are caught too. */
#include <errno.h>
#include <string.h>

#include "numasafe/procmem.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ns_numa_vma v;
	char *s = fz_str(data, size), *line, *save = NULL;

	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int rc = ns_numa_maps_parse_line(fz_root(), line, &v);

		FZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE || rc == -ENOMEM);
		if (rc < 0)
			continue;
		FZ_CHECK(v.max_node <= NS_MAX_NODES);
		FZ_CHECK(v.kind != NS_KIND_THP && (unsigned)v.kind < NS_KIND_COUNT);
		FZ_CHECK(memchr(v.policy, '\0', sizeof(v.policy)) && memchr(v.file, '\0', sizeof(v.file)));
		for (unsigned n = 0; n < v.max_node; n++)
			(void)v.pages[n];
	}
	free(s);
	return 0;
}
