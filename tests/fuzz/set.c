/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_set_parse (node and CPU lists: sysfs files, --node, --cpus, Mems_allowed_list).
 * Contract: ids below max; what it prints (ns_set_format) parses back to the same set; a
 * smaller max accepts a subset of what a larger one does, never something else. */
#include <errno.h>

#include "numasafe/parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[NS_SET_MAX * 6];
	char *s = fz_str(data, size);
	struct ns_set big, small, back;
	int rc_big, rc_small;

	rc_big = ns_set_parse(s, NS_SET_MAX, &big);
	rc_small = ns_set_parse(s, 64, &small);
	FZ_CHECK(rc_big == 0 || rc_big == -EINVAL || rc_big == -ERANGE);
	FZ_CHECK(rc_small == 0 || rc_small == -EINVAL || rc_small == -ERANGE);
	if (rc_small == 0) {
		FZ_CHECK(rc_big == 0 && ns_set_equal(&small, &big));
		FZ_CHECK(ns_set_empty(&small) || ns_set_next(&small, 64) < 0);
	}
	if (rc_big == 0) {
		FZ_CHECK(ns_set_format(&big, buf, sizeof(buf)) == 0);
		FZ_CHECK(ns_set_parse(buf, NS_SET_MAX, &back) == 0 && ns_set_equal(&back, &big));
	}
	free(s);
	return 0;
}
