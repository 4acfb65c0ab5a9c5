/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_psi_parse (/proc/pressure/memory and cgroup memory.pressure text). Contract: 0 only
 * with a "some" line; -EINVAL for bad syntax, -ERANGE for a number out of range (readers that
 * name the line return that); no averages that are not numbers. */
#include <errno.h>
#include <math.h>

#include "numasafe/psi.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size);
	struct ns_psi p;
	int rc = ns_psi_parse(s, &p);

	FZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE);
	if (rc == 0)
		FZ_CHECK(!isnan(p.some.avg10) && !isnan(p.some.avg60) && !isnan(p.some.avg300));
	free(s);
	return 0;
}
