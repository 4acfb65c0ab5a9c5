/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_proc_stat_read (/proc/PID/stat in a private tree: comm with spaces and parentheses,
 * state, flags, start time). Contract: 0, -ESRCH or -EINVAL. */
#include <errno.h>

#include "numasafe/procmem.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ns_proc_stat st;
	int rc;

	fz_write("proc/1/stat", data, size);
	rc = ns_proc_stat_read(fz_root(), 1, &st);
	FZ_CHECK(rc == 0 || rc == -EINVAL);
	/* a zombie (state Z or X) is a process that is gone: -ESRCH */
	rc = ns_proc_check_user(fz_root(), 1);
	FZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ESRCH);
	return 0;
}
