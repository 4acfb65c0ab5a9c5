/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_amount_parse ("256M" or "10%": --reserve) and ns_amount_resolve.
 * Contract: a percentage is within 0..100, so it never resolves to more than the whole. */
#include <errno.h>

#include "numasafe/parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t wholes[] = {0, 1, 4096, 1ULL << 40, UINT64_MAX - 1, UINT64_MAX};
	char *s = fz_str(data, size);
	struct ns_amount a;
	int rc = ns_amount_parse(s, &a);

	FZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE);
	if (rc == 0 && a.is_pct) {
		FZ_CHECK(a.pct >= 0.0 && a.pct <= 100.0);
		for (size_t i = 0; i < sizeof(wholes) / sizeof(wholes[0]); i++)
			FZ_CHECK(ns_amount_resolve(&a, wholes[i]) <= wholes[i]);
	}
	free(s);
	return 0;
}
