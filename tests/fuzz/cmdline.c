/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz how a VM gets its name: ns_vm_from_pid on a private tree whose QEMU (pid 1, one vCPU
 * thread) has the input as /proc/1/cmdline (-name NAME or guest=NAME, ",," escapes), and
 * libvirt's pid file for a domain "web" names pid 1. Contract: 0 with a NUL-terminated, non-empty
 * name; a domain only when the name is "web". */
#include <string.h>

#include "numasafe/vm.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char stat[] = "1 (qemu-system-x86) S 0 1 1 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 3 0 5000 1000 100\n";
	static int ready;
	struct ns_vm vm;
	int rc;

	if (!ready) {
		fz_write("proc/1/stat", stat, sizeof(stat) - 1);
		fz_write("proc/1/comm", "qemu-system-x86\n", 16);
		fz_write("proc/1/task/1/comm", "qemu-system-x86\n", 16);
		fz_write("proc/1/task/2/comm", "CPU 0/TCG\n", 10);
		fz_write("run/libvirt/qemu/web.pid", "1\n", 2);
		ready = 1;
	}
	fz_write("proc/1/cmdline", data, size);
	rc = ns_vm_from_pid(fz_root(), 1, &vm);
	FZ_CHECK(rc == 0);
	FZ_CHECK(vm.name[0] != '\0' && memchr(vm.name, '\0', sizeof(vm.name)));
	FZ_CHECK(vm.nvcpus == 1 && vm.named);
	FZ_CHECK(vm.is_domain == (strcmp(vm.name, "web") == 0));
	ns_vm_release(&vm);
	return 0;
}
