/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_plan_read (a rebalance plan, as numa-migrate --plan and vm-pin --plan take it from a
 * file written to a private tree). Contract (plan.h): 0 with steps in order whose fields are in
 * range, or -errno with a one-line message naming the file; never a step without a VM name or
 * pid. */
#include <errno.h>
#include <string.h>

#include "numasafe/plan.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ns_plan_exec_step *steps = NULL;
	char path[4200], err[1024];
	int nr = -1, rc;

	fz_write("plan.json", data, size);
	snprintf(path, sizeof(path), "%s/plan.json", fz_root());
	rc = ns_plan_read(path, &steps, &nr, err, sizeof(err));
	FZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM || rc == -EFBIG || rc == -E2BIG);
	if (rc == 0) {
		FZ_CHECK(nr >= 0 && (nr == 0 || steps));
		for (int i = 0; i < nr; i++) {
			FZ_CHECK(steps[i].index == i + 1);
			FZ_CHECK(steps[i].vm[0] != '\0' && memchr(steps[i].vm, '\0', sizeof(steps[i].vm)));
			FZ_CHECK(steps[i].pid > 0 && steps[i].to_node >= 0 && steps[i].to_node < 4096);
			FZ_CHECK(steps[i].is_domain == 0 || steps[i].is_domain == 1);
			FZ_CHECK(steps[i].temporary == 0 || steps[i].temporary == 1);
		}
	} else {
		FZ_CHECK(!steps && err[0] != '\0' && strncmp(err, path, strlen(path)) == 0);
		FZ_CHECK(!strchr(err, '\n'));
	}
	free(steps);
	return 0;
}
