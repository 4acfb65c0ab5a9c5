/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_maps_parse_line (/proc/PID/maps, one line). Contract: start <= end, four permission
 * characters, the path NUL-terminated inside its buffer and without the newline. */
#include <errno.h>
#include <string.h>

#include "numasafe/procmem.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size);
	struct ns_vma v;
	int rc = ns_maps_parse_line(s, &v);

	FZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc == 0) {
		FZ_CHECK(v.start <= v.end);
		FZ_CHECK(strlen(v.perms) == 4);
		FZ_CHECK(memchr(v.path, '\0', sizeof(v.path)) != NULL && !strchr(v.path, '\n'));
	}
	free(s);
	return 0;
}
