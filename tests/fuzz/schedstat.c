/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_schedstat_parse (/proc/PID/task/TID/schedstat). Contract: 0 or -EINVAL. */
#include <errno.h>

#include "numasafe/steal.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size);
	struct ns_schedstat st;
	int rc = ns_schedstat_parse(s, &st);

	FZ_CHECK(rc == 0 || rc == -EINVAL);
	free(s);
	return 0;
}
