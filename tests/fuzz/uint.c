/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_uint_parse (pids, node and vCPU ids, counts). Contract (parse.h): the whole string,
 * decimal digits only, no sign; the value never exceeds max. Tried with several maxima, small
 * ones included, since callers pass ranges as small as a node count. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "numasafe/parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned long long maxes[] = {0, 1, 7, 9, 10, 4095, 0x3fffffff, INT_MAX, ULLONG_MAX - 1,
						   ULLONG_MAX};
	char *s = fz_str(data, size);

	for (size_t i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
		unsigned long long v = 0;
		int rc = ns_uint_parse(s, maxes[i], &v);

		FZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE);
		if (rc == 0) {
			FZ_CHECK(v <= maxes[i]);
			FZ_CHECK(s[0] != '\0' && strspn(s, "0123456789") == strlen(s));
		}
	}
	free(s);
	return 0;
}
