/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_double_parse (--interval, --max-psi, --psi-grace, percentages). Contract (parse.h):
 * no NaN, no infinity, nothing negative. */
#include <errno.h>
#include <math.h>

#include "numasafe/parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size);
	double v = 0;
	int rc = ns_double_parse(s, &v);

	FZ_CHECK(rc <= 0);
	if (rc == 0)
		FZ_CHECK(isfinite(v) && v >= 0.0);
	free(s);
	return 0;
}
