/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: VM discovery on the hand-made fixture tree tests/fixtures/qemu1 (a named QEMU
 * that is a libvirt domain, a QEMU without thread names, and a shell). */
#include <errno.h>
#include <string.h>

#include "numasafe/numasafe.h"
#include "numasafe/steal.h"
#include "unit.h"

static void t_named_domain(void **state)
{
	struct ns_vm vm;

	(void)state;
	assert_int_equal(ns_vm_from_pid(fixture("qemu1"), 100, &vm), 0);
	assert_string_equal(vm.name, "web1");
	assert_int_equal(vm.is_domain, 1);
	assert_int_equal(vm.named, 1);
	assert_int_equal(vm.pid, 100);
	assert_int_equal(vm.start_time, 5000);
	assert_int_equal(vm.nvcpus, 2);
	assert_int_equal(vm.nthreads, 6);
	/* sorted: vCPUs by number, I/O threads, then emulator threads */
	assert_int_equal(vm.threads[0].kind, NS_THREAD_VCPU);
	assert_int_equal(vm.threads[0].index, 0);
	assert_int_equal(vm.threads[0].tid, 101);
	assert_int_equal(vm.threads[1].kind, NS_THREAD_VCPU);
	assert_int_equal(vm.threads[1].index, 1);
	assert_int_equal(vm.threads[1].tid, 102);
	assert_int_equal(vm.threads[2].kind, NS_THREAD_IO);
	assert_string_equal(vm.threads[2].io_id, "iothread1");
	assert_int_equal(vm.threads[2].index, 0);
	/* the monitor's iothread is an emulator thread, as libvirt counts */
	for (int i = 3; i < 6; i++) {
		assert_int_equal(vm.threads[i].kind, NS_THREAD_EMULATOR);
		assert_int_equal(vm.threads[i].index, -1);
	}
	ns_vm_release(&vm);
	ns_vm_release(&vm); /* twice is harmless */
}

static void t_unnamed_qemu(void **state)
{
	struct ns_vm vm;

	(void)state;
	assert_int_equal(ns_vm_from_pid(fixture("qemu1"), 200, &vm), -ENODATA);
	assert_int_equal(vm.named, 0);
	assert_int_equal(vm.pid, 200);
	assert_int_equal(vm.is_domain, 0);
	assert_int_equal(vm.nvcpus, 0);
	assert_string_equal(vm.name, "pid 200");
	assert_int_equal(vm.nthreads, 2);
	assert_int_equal(vm.threads[0].kind, NS_THREAD_EMULATOR);
	ns_vm_release(&vm);
}

static void t_not_a_vm(void **state)
{
	struct ns_vm vm;

	(void)state;
	assert_int_equal(ns_vm_from_pid(fixture("qemu1"), 300, &vm), -ENOEXEC);
	assert_null(vm.threads);
	assert_int_equal(ns_vm_from_pid(fixture("qemu1"), 999, &vm), -ESRCH);
}

static void t_list(void **state)
{
	struct ns_vm_list l;

	(void)state;
	assert_int_equal(ns_vm_list_read(fixture("qemu1"), &l), 0);
	assert_int_equal(l.n, 2);
	/* sorted by name: "pid 200" < "web1" */
	assert_string_equal(l.v[0].name, "pid 200");
	assert_int_equal(l.v[0].named, 0);
	assert_string_equal(l.v[1].name, "web1");
	assert_int_equal(l.v[1].is_domain, 1);
	assert_int_equal(l.v[1].nvcpus, 2);
	ns_vm_list_free(&l);
	ns_vm_list_free(&l);
}

static void t_domain(void **state)
{
	struct ns_vm vm;

	(void)state;
	assert_int_equal(ns_vm_from_domain(fixture("qemu1"), "web1", &vm), 0);
	assert_int_equal(vm.pid, 100);
	assert_int_equal(vm.is_domain, 1);
	assert_int_equal(vm.nvcpus, 2);
	ns_vm_release(&vm);
	assert_int_equal(ns_vm_from_domain(fixture("qemu1"), "nope", &vm), -ENOENT);
	assert_int_equal(ns_vm_from_domain(fixture("qemu1"), "../x", &vm), -ENOENT);
}

static void t_cpu_nodes(void **state)
{
	struct ns_topo *t;
	struct ns_vm vm;
	struct ns_set nodes, cpus;
	char buf[64];

	(void)state;
	assert_int_equal(ns_topo_read(fixture("qemu1"), &t), 0);
	assert_int_equal(ns_thread_cpus_read(fixture("qemu1"), 100, 102, &cpus), 0);
	ns_set_format(&cpus, buf, sizeof(buf));
	assert_string_equal(buf, "2-3");
	assert_int_equal(ns_thread_cpus_read(fixture("qemu1"), 100, 999, &cpus), -ESRCH);
	/* vCPU 0 may run on node 0's CPUs, vCPU 1 on node 1's: the VM spans both */
	assert_int_equal(ns_vm_from_pid(fixture("qemu1"), 100, &vm), 0);
	assert_int_equal(ns_vm_cpu_nodes(fixture("qemu1"), &vm, t, &nodes), 0);
	ns_set_format(&nodes, buf, sizeof(buf));
	assert_string_equal(buf, "0-1");
	ns_vm_release(&vm);
	/* an unnamed QEMU: every thread counts (all on CPUs 0-1, node 0) */
	assert_int_equal(ns_vm_from_pid(fixture("qemu1"), 200, &vm), -ENODATA);
	assert_int_equal(ns_vm_cpu_nodes(fixture("qemu1"), &vm, t, &nodes), 0);
	ns_set_format(&nodes, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	ns_vm_release(&vm);
	ns_topo_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_named_domain), cmocka_unit_test(t_unnamed_qemu), cmocka_unit_test(t_not_a_vm),
		cmocka_unit_test(t_list),	  cmocka_unit_test(t_domain),	    cmocka_unit_test(t_cpu_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
