/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_cpustat_parse (/proc/stat). Contract: 0 only with a "cpu " line and at least one
 * "cpuN" line; idle never more than the total the kernel's own line gives when it parses. */
#include <errno.h>

#include "numasafe/steal.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size);
	struct ns_cpustat c;
	int rc = ns_cpustat_parse(s, &c);

	FZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc == 0)
		FZ_CHECK(c.ncpus > 0);
	free(s);
	return 0;
}
