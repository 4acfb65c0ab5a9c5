/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz the /proc/PID/status readers in a private tree: ns_proc_status_read (Name,
 * Mems_allowed_list, Cpus_allowed_list, VmSwap) and ns_thread_cpus_read (a thread's
 * Cpus_allowed_list). Contract: 0 or -errno; the name NUL-terminated. */
#include <string.h>

#include "numasafe/procmem.h"
#include "numasafe/steal.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ns_proc_usage u;
	struct ns_set cpus;

	fz_write("proc/1/status", data, size);
	fz_write("proc/1/task/1/status", data, size);
	memset(&u, 0, sizeof(u));
	FZ_CHECK(ns_proc_status_read(fz_root(), 1, &u) <= 0);
	FZ_CHECK(memchr(u.comm, '\0', sizeof(u.comm)));
	FZ_CHECK(ns_thread_cpus_read(fz_root(), 1, 1, &cpus) <= 0);
	return 0;
}
