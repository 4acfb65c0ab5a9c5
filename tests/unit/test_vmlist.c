/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: VM discovery on the hand-made fixture tree tests/fixtures/qemu1 (a named QEMU
 * that is a libvirt domain, a QEMU without thread names, and a shell). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* A pid file's value is a pid or nothing: 2^32 + N is not N (it was, cut to 32 bits). */
static void t_pidfile_range(void **state)
{
	const char *dir = tree_copy("qemu1");
	pid_t pid = 0;

	(void)state;
	assert_int_equal(ns_domain_pidfile(dir, "web1", &pid), 0);
	assert_int_equal(pid, 100);
	tree_put(dir, "/run/libvirt/qemu/web1.pid", "4294967396\n");
	assert_int_equal(ns_domain_pidfile(dir, "web1", &pid), -ERANGE);
	tree_put(dir, "/run/libvirt/qemu/web1.pid", "2147483648\n");
	assert_int_equal(ns_domain_pidfile(dir, "web1", &pid), -ERANGE);
	tree_put(dir, "/run/libvirt/qemu/web1.pid", "0\n");
	assert_int_equal(ns_domain_pidfile(dir, "web1", &pid), -ERANGE);
	tree_put(dir, "/run/libvirt/qemu/web1.pid", "100 \n");
	assert_int_equal(ns_domain_pidfile(dir, "web1", &pid), -EINVAL);
	/* so the process is no domain: its pid file does not name it */
	{
		struct ns_vm vm;

		assert_int_equal(ns_vm_from_pid(dir, 100, &vm), 0);
		assert_int_equal(vm.is_domain, 0);
		ns_vm_release(&vm);
	}
	assert_int_equal(ns_domain_pidfile(dir, "..", &pid), -EINVAL);
	assert_int_equal(ns_domain_pidfile(dir, "", &pid), -EINVAL);
	tree_rm(dir);
}

/* "CPU n/KVM" is a label: one thread named CPU 9999999/KVM is one vCPU, not ten million. */
static void t_vcpu_label(void **state)
{
	const char *dir = tree_copy("qemu1");
	struct ns_vm vm;

	(void)state;
	tree_put(dir, "/proc/100/task/102/comm", "CPU 9999999/KVM\n");
	assert_int_equal(ns_vm_from_pid(dir, 100, &vm), 0);
	assert_int_equal(vm.nvcpus, 2);
	assert_int_equal(vm.threads[1].index, 9999999);
	ns_vm_release(&vm);
	/* past int: not a vCPU name at all */
	tree_put(dir, "/proc/100/task/102/comm", "CPU 99999999999/K\n");
	assert_int_equal(ns_vm_from_pid(dir, 100, &vm), 0);
	assert_int_equal(vm.nvcpus, 1);
	ns_vm_release(&vm);
	tree_rm(dir);
}

/* The rule: both uids VM users, the executable a regular file of root's not writable by
 * group or others. */
static void t_trust_judge(void **state)
{
	struct ns_vm_users u = {.n = 2, .uid = {0, 64055}};
	struct stat exe = {.st_mode = S_IFREG | 0755, .st_uid = 0};

	(void)state;
	assert_int_equal(ns_vm_trust_judge(&u, 0, 0, &exe), 0);
	assert_int_equal(ns_vm_trust_judge(&u, 64055, 64055, &exe), 0);
	assert_int_equal(ns_vm_trust_judge(&u, 65534, 65534, &exe), -EPERM);
	assert_int_equal(ns_vm_trust_judge(&u, 0, 65534, &exe), -EPERM); /* effective uid too */
	assert_int_equal(ns_vm_trust_judge(&u, 65534, 0, &exe), -EPERM); /* real uid too */
	exe.st_mode = S_IFREG | 0775;
	assert_int_equal(ns_vm_trust_judge(&u, 0, 0, &exe), -EACCES);
	exe.st_mode = S_IFREG | 0757;
	assert_int_equal(ns_vm_trust_judge(&u, 0, 0, &exe), -EACCES);
	exe.st_mode = S_IFREG | 0755;
	exe.st_uid = 1000;
	assert_int_equal(ns_vm_trust_judge(&u, 0, 0, &exe), -EACCES);
	exe.st_uid = 0;
	exe.st_mode = S_IFDIR | 0755;
	assert_int_equal(ns_vm_trust_judge(&u, 0, 0, &exe), -EACCES);
}

static void t_users_parse(void **state)
{
	struct ns_vm_users u;

	(void)state;
	assert_int_equal(ns_vm_users_parse("root 0, 64055", &u), 0);
	assert_int_equal(u.n, 3);
	assert_int_equal(u.uid[0], 0);
	assert_int_equal(u.uid[2], 64055);
	assert_int_equal(ns_vm_users_parse("", &u), -EINVAL);
	assert_int_equal(ns_vm_users_parse("  ", &u), -EINVAL);
	assert_int_equal(ns_vm_users_parse("root;id", &u), -EINVAL);
	assert_int_equal(ns_vm_users_parse("no-such-user-numasafe", &u), -ENOENT);
	assert_int_equal(ns_vm_users_parse("4294967295", &u), -ERANGE); /* (uid_t)-1 is no user */
	assert_int_equal(ns_vm_users_parse("0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", &u), -E2BIG);
	ns_vm_users_default(&u);
	assert_true(u.n >= 1);
	assert_int_equal(u.uid[0], 0);
}

/* /etc/default/numasafe: missing is the default; strict lines; only the owner may write it. */
static void t_config(void **state)
{
	const char *dir = tree_copy("qemu1");
	struct ns_vm_users u;
	char path[4200];
	int found;

	(void)state;
	assert_int_equal(ns_config_vm_users(dir, &u, &found), 0);
	assert_int_equal(found, 0);
	assert_int_equal(u.uid[0], 0);
	snprintf(path, sizeof(path), "%s/etc/default", dir);
	assert_int_equal(system(strcat(strcpy((char[4300]){0}, "mkdir -p "), path)), 0);
	tree_put(dir, "/etc/default/numasafe", "# policy\nREBALANCE_EXECUTE=no\n\nNUMASAFE_VM_USERS=\"root 4242\"\n");
	snprintf(path, sizeof(path), "%s/etc/default/numasafe", dir);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(ns_config_vm_users(dir, &u, &found), 0);
	assert_int_equal(found, 1);
	assert_int_equal(u.n, 2);
	assert_int_equal(u.uid[1], 4242);
	/* writable by others: refused, whatever it says */
	assert_int_equal(chmod(path, 0646), 0);
	assert_int_equal(ns_config_vm_users(dir, &u, &found), -EPERM);
	assert_int_equal(chmod(path, 0644), 0);
	tree_put(dir, "/etc/default/numasafe", "NUMASAFE_VM_USERS=root\nNUMASAFE_VM_USERS=nobody\n");
	assert_int_equal(ns_config_vm_users(dir, &u, &found), -EINVAL);
	assert_non_null(strstr(ns_error_detail(), "numasafe:2:"));
	tree_put(dir, "/etc/default/numasafe", "NUMASAFE_VM_USERS=\"root\n");
	assert_int_equal(ns_config_vm_users(dir, &u, &found), -EINVAL);
	tree_put(dir, "/etc/default/numasafe", "NUMASAFE_VM_USERS=$(id)\n");
	assert_int_equal(ns_config_vm_users(dir, &u, &found), -EINVAL);
	tree_put(dir, "/etc/default/numasafe", "OTHER=1\n");
	assert_int_equal(ns_config_vm_users(dir, &u, &found), -EINVAL);
	assert_non_null(strstr(ns_error_detail(), "numasafe:1: unknown setting OTHER"));
	/* a symlink is not followed */
	tree_put(dir, "/etc/default/numasafe", NULL);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(ns_config_vm_users(dir, &u, &found), -EPERM);
	tree_rm(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_named_domain), cmocka_unit_test(t_unnamed_qemu), cmocka_unit_test(t_not_a_vm),
		cmocka_unit_test(t_list),	  cmocka_unit_test(t_domain),	    cmocka_unit_test(t_cpu_nodes),
		cmocka_unit_test(t_pidfile_range), cmocka_unit_test(t_vcpu_label),  cmocka_unit_test(t_trust_judge),
		cmocka_unit_test(t_users_parse),   cmocka_unit_test(t_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
