/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: schedstat, /proc/stat and cgroup readers on tests/fixtures/qemu1, the steal
 * arithmetic (rates, demand, busy/idle/none, spanning and CPU weight causes) on synthetic
 * snapshots, and the measurement (snapshots of a tree the test rewrites between them, threads
 * that end, unreadable counters, a stop request during the window). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "numasafe/numasafe.h"
#include "numasafe/steal.h"
#include "unit.h"

#define MS 1000000ULL /* ns */

static void t_schedstat(void **state)
{
	struct ns_schedstat s;

	(void)state;
	assert_int_equal(ns_schedstat_parse("123 456 7\n", &s), 0);
	assert_int_equal(s.run_ns, 123);
	assert_int_equal(s.wait_ns, 456);
	assert_int_equal(s.slices, 7);
	assert_int_equal(ns_schedstat_parse("123 456\n", &s), -EINVAL);
	assert_int_equal(ns_schedstat_read(fixture("qemu1"), 100, 101, &s), 0);
	assert_int_equal(s.run_ns, 2000000000ULL);
	assert_int_equal(s.wait_ns, 30000000ULL);
	assert_int_equal(s.slices, 1000);
	assert_int_equal(ns_schedstat_read(fixture("qemu1"), 100, 999, &s), -ESRCH);
	/* the thread is there but has no schedstat: a kernel without CONFIG_SCHED_INFO */
	assert_int_equal(ns_schedstat_read(fixture("synth2"), 4242, 4242, &s), -ESRCH);
}

static void t_cpustat(void **state)
{
	struct ns_cpustat c;

	(void)state;
	assert_int_equal(ns_cpustat_read(fixture("qemu1"), &c), 0);
	assert_int_equal(c.ncpus, 4);
	/* user..steal; guest (300) is inside user already */
	assert_int_equal(c.total, 1000 + 10 + 200 + 5000 + 50 + 0 + 5 + 0);
	assert_int_equal(c.idle, 5050);
	assert_int_equal(c.procs_running, 3);
	assert_int_equal(ns_cpustat_parse("intr 1\n", &c), -EINVAL);
	assert_int_equal(ns_cpustat_parse("cpu  1 2 3 4\ncpu0 1 2 3 4\n", &c), 0);
	assert_int_equal(c.total, 10);
	assert_int_equal(c.ncpus, 1);
}

static void t_cgroup(void **state)
{
	struct ns_cgroup_weight w;
	char path[256];
	int v;

	(void)state;
	/* v1 cpu controller wins over the v2 line; a combined mount is found by its name */
	assert_int_equal(ns_cgroup_path("12:memory:/a\n4:cpu,cpuacct:/machine/vm1\n0::/b\n", "cpu", path, sizeof(path), &v), 0);
	assert_string_equal(path, "/machine/vm1");
	assert_int_equal(v, 1);
	assert_int_equal(ns_cgroup_path("0::/machine.slice/x.scope\n", "cpu", path, sizeof(path), &v), 0);
	assert_string_equal(path, "/machine.slice/x.scope");
	assert_int_equal(v, 2);
	assert_int_equal(ns_cgroup_path("3:memory:/a\n", "cpu", path, sizeof(path), &v), -ENOENT);
	/* the vCPU's own cgroup (libvirt/vcpu0) is skipped for the domain's scope */
	assert_int_equal(ns_cgroup_cpu_weight(fixture("qemu1"), 100, 101, &w), 0);
	assert_string_equal(w.path, "/machine.slice/machine-qemu\\x2d1\\x2dweb1.scope");
	assert_int_equal(w.version, 2);
	assert_int_equal(w.weight, 200);
	assert_int_equal(ns_cgroup_cpu_weight(fixture("qemu1"), 100, 0, &w), 0);
	assert_int_equal(w.weight, 200);
	assert_int_equal(ns_cgroup_cpu_weight(fixture("qemu1"), 999, 0, &w), -ESRCH);
}

/* One VM with n vCPUs, each having run run_ms and waited wait_ms over the interval. */
static void vm_fill(struct ns_steal_vm *vm, struct ns_steal_thread *th, int n, const unsigned *run_ms,
		    const unsigned *wait_ms)
{
	memset(vm, 0, sizeof(*vm));
	vm->nthreads = n;
	vm->nvcpus = n;
	vm->th = th;
	vm->weight = -1;
	for (int i = 0; i < n; i++) {
		memset(&th[i], 0, sizeof(th[i]));
		th[i].index = i;
		th[i].ok = true;
		th[i].a = (struct ns_schedstat){1000 * MS, 10 * MS, 100};
		th[i].b = (struct ns_schedstat){(1000 + run_ms[i]) * MS, (10 + wait_ms[i]) * MS, 150};
	}
	ns_set_clear(&vm->cpu_nodes);
	ns_set_add(&vm->cpu_nodes, 0);
	ns_set_clear(&vm->mem_nodes);
	ns_set_add(&vm->mem_nodes, 0);
}

/* A host of ncpus over 1 s (100 jiffies a CPU) with idle_pct of it idle. */
static void host_fill(struct ns_steal_host *h, unsigned ncpus, unsigned idle_pct, unsigned running)
{
	memset(h, 0, sizeof(*h));
	h->interval_s = 1.0;
	h->a = (struct ns_cpustat){.total = 10000, .idle = 5000, .ncpus = ncpus, .procs_running = 1};
	h->b = (struct ns_cpustat){.total = 10000 + 100 * ncpus, .idle = 5000 + idle_pct * ncpus,
				   .ncpus = ncpus, .procs_running = running};
}

static void t_compute_rates_none(void **state)
{
	struct ns_steal_thread th[2];
	struct ns_steal_vm vm;
	struct ns_steal_host h;
	const unsigned run[] = {100, 20}, wait[] = {10, 0};

	(void)state;
	vm_fill(&vm, th, 2, run, wait);
	host_fill(&h, 4, 90, 1);
	assert_int_equal(ns_steal_compute(&h, &vm, 1), 0);
	assert_true(th[0].cpu_pct > 9.99 && th[0].cpu_pct < 10.01);
	assert_true(th[0].wait_pct > 0.99 && th[0].wait_pct < 1.01);
	assert_int_equal(th[0].slices, 50);
	assert_true(vm.cpu_pct > 11.99 && vm.cpu_pct < 12.01);
	assert_true(vm.wait_pct > 0.99 && vm.wait_pct < 1.01);
	assert_true(h.idle_pct > 89.9 && h.idle_pct < 90.1);
	assert_true(h.spare_cpus > 3.59 && h.spare_cpus < 3.61);
	assert_true(h.vcpu_demand > 0.129 && h.vcpu_demand < 0.131);
	assert_int_equal(h.ncpus, 4);
	assert_int_equal(h.cls, NS_STEAL_NONE);
	assert_false(vm.spans_nodes);
	assert_string_equal(ns_steal_class_name(h.cls), "none");
	h.interval_s = 0;
	assert_int_equal(ns_steal_compute(&h, &vm, 1), -EINVAL);
}

static void t_compute_idle(void **state)
{
	struct ns_steal_thread th[2];
	struct ns_steal_vm vm;
	struct ns_steal_host h;
	/* two vCPUs forced onto one CPU: each runs half the time and waits the other half */
	const unsigned run[] = {500, 500}, wait[] = {490, 495};

	(void)state;
	vm_fill(&vm, th, 2, run, wait);
	host_fill(&h, 4, 70, 3);
	assert_int_equal(ns_steal_compute(&h, &vm, 1), 0);
	assert_true(h.max_wait_pct > 49.4 && h.max_wait_pct < 49.6);
	assert_true(h.vcpu_demand < 2.0);
	assert_int_equal(h.cls, NS_STEAL_IDLE);
	assert_string_equal(ns_steal_class_name(h.cls), "idle");
}

static void t_compute_busy(void **state)
{
	struct ns_steal_thread th[4];
	struct ns_steal_vm vm;
	struct ns_steal_host h;
	const unsigned run[] = {500, 500, 500, 500}, wait[] = {500, 500, 500, 500};

	(void)state;
	/* four runnable vCPUs on a 2-CPU host: demand 4 CPUs */
	vm_fill(&vm, th, 4, run, wait);
	host_fill(&h, 2, 0, 5);
	assert_int_equal(ns_steal_compute(&h, &vm, 1), 0);
	assert_true(h.vcpu_demand > 3.99 && h.vcpu_demand < 4.01);
	assert_int_equal(h.cls, NS_STEAL_BUSY);
	/* waits with no CPU to spare (other work fills the host) are busy steal as well */
	{
		const unsigned r2[] = {100, 100}, w2[] = {100, 0};

		vm_fill(&vm, th, 2, r2, w2);
		host_fill(&h, 2, 1, 2);
		assert_int_equal(ns_steal_compute(&h, &vm, 1), 0);
		assert_int_equal(h.cls, NS_STEAL_BUSY);
	}
	/* more runnable tasks than CPUs and no idle time, even without vCPU waits */
	{
		const unsigned r3[] = {10}, w3[] = {0};

		vm_fill(&vm, th, 1, r3, w3);
		host_fill(&h, 2, 0, 6);
		assert_int_equal(ns_steal_compute(&h, &vm, 1), 0);
		assert_int_equal(h.cls, NS_STEAL_BUSY);
	}
}

static void t_compute_gone_thread(void **state)
{
	struct ns_steal_thread th[2];
	struct ns_steal_vm vm;
	struct ns_steal_host h;
	const unsigned run[] = {900, 900}, wait[] = {500, 500};

	(void)state;
	vm_fill(&vm, th, 2, run, wait);
	th[0].ok = th[1].ok = false; /* both ended during the interval: they count for nothing */
	host_fill(&h, 4, 90, 1);
	assert_int_equal(ns_steal_compute(&h, &vm, 1), 0);
	assert_true(vm.cpu_pct == 0 && vm.wait_pct == 0);
	assert_int_equal(h.cls, NS_STEAL_NONE);
}

static void t_compute_causes(void **state)
{
	struct ns_steal_thread t1[1], t4[4], t2[2];
	struct ns_steal_vm vms[3];
	struct ns_steal_host h;
	const unsigned r[] = {10, 10, 10, 10}, w[] = {0, 0, 0, 0};

	(void)state;
	vm_fill(&vms[0], t1, 1, r, w);
	vm_fill(&vms[1], t4, 4, r, w);
	vm_fill(&vms[2], t2, 2, r, w);
	/* the 1-vCPU and the 4-vCPU VM get the same weight: 4x apart per vCPU */
	vms[0].weight = 100;
	vms[0].cgroup = "/machine.slice/a";
	vms[1].weight = 100;
	vms[1].cgroup = "/machine.slice/b";
	/* the third shares b's cgroup: b's weight now serves 6 vCPUs */
	vms[2].weight = 100;
	vms[2].cgroup = "/machine.slice/b";
	ns_set_add(&vms[1].cpu_nodes, 1); /* threads allowed on nodes 0-1 */
	host_fill(&h, 4, 90, 1);
	assert_int_equal(ns_steal_compute(&h, vms, 3), 0);
	assert_true(vms[0].weight_off);
	assert_true(vms[1].weight_off);
	assert_true(vms[2].weight_off);
	assert_int_equal(h.nr_weight_off, 3);
	assert_false(vms[0].spans_nodes);
	assert_true(vms[1].spans_nodes);
	assert_int_equal(h.nr_spanning, 1);
	/* weights by vCPU count are fine (a: 100 for 1, b: 600 for 4 + 2); memory on two nodes
	 * spans as well */
	vms[1].weight = 600;
	vms[2].weight = 600;
	ns_set_clear(&vms[1].cpu_nodes);
	ns_set_add(&vms[1].cpu_nodes, 0);
	ns_set_add(&vms[2].mem_nodes, 1);
	assert_int_equal(ns_steal_compute(&h, vms, 3), 0);
	assert_false(vms[0].weight_off);
	assert_false(vms[1].weight_off);
	assert_int_equal(h.nr_weight_off, 0);
	assert_false(vms[2].weight_off);
	assert_true(vms[2].spans_nodes);
	assert_false(vms[1].spans_nodes);
	/* one cgroup for every VM: nothing to compare */
	vms[0].cgroup = "/machine.slice/b";
	vms[0].weight = 1;
	assert_int_equal(ns_steal_compute(&h, vms, 3), 0);
	assert_int_equal(h.nr_weight_off, 0);
}

/* Demand is time on a CPU plus time waiting, per vCPU and summed; a VM whose threads all
 * ended is gone, one that lost some counts the rest. */
static void t_compute_demand(void **state)
{
	struct ns_steal_thread t2[2], t3[3];
	struct ns_steal_vm vms[2];
	struct ns_steal_host h;
	const unsigned run[] = {600, 250, 100}, wait[] = {300, 50, 0};

	(void)state;
	vm_fill(&vms[0], t2, 2, run, wait);
	vm_fill(&vms[1], t3, 3, run, wait);
	host_fill(&h, 4, 50, 1);
	h.interval_s = 2.0; /* the counters moved by run + wait ms over 2 s */
	t3[1].ok = false;
	assert_int_equal(ns_steal_compute(&h, vms, 2), 0);
	assert_true(fabs(t2[0].demand - 0.45) < 1e-9);
	assert_true(fabs(t2[1].demand - 0.15) < 1e-9);
	assert_true(fabs(vms[0].demand - 0.60) < 1e-9);
	assert_int_equal(vms[0].nr_gone, 0);
	assert_false(vms[0].gone);
	assert_true(t3[1].demand == 0);
	assert_true(fabs(vms[1].demand - 0.50) < 1e-9); /* 0.45 + 0.05 */
	assert_int_equal(vms[1].nr_gone, 1);
	assert_false(vms[1].gone);
	assert_true(fabs(h.vcpu_demand - 1.10) < 1e-9);
	t3[0].ok = t3[2].ok = false;
	assert_int_equal(ns_steal_compute(&h, vms, 2), 0);
	assert_true(vms[1].gone);
	assert_int_equal(vms[1].nr_gone, 3);
	assert_true(vms[1].demand == 0);
}

/* ---- measurement on a tree the test writes ---- */

static char tree[64];

static void put(const char *rel, const char *text)
{
	char path[256], tmp[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	for (char *p = strchr(path + strlen(tree) + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	/* whole or not at all, as /proc would give it */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

static void sched(int pid, int tid, unsigned long long run, unsigned long long wait)
{
	char rel[128], text[128];

	snprintf(rel, sizeof(rel), "proc/%d/task/%d/schedstat", pid, tid);
	snprintf(text, sizeof(text), "%llu %llu 10\n", run, wait);
	put(rel, text);
}

static void tree_new(void)
{
	strcpy(tree, "/tmp/ns-steal-XXXXXX");
	assert_non_null(mkdtemp(tree));
	put("proc/stat", "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\n"
			 "cpu1 50 0 50 400 0 0 0 0 0 0\nprocs_running 2\n");
	sched(500, 501, 1000 * MS, 100 * MS);
	sched(500, 502, 2000 * MS, 0);
	sched(600, 601, 5000 * MS, 0);
}

static void tree_free(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
	assert_int_equal(system(cmd), 0);
}

/* Two VMs as discovery gives them: web (pid 500, vCPUs 501 and 502 and an emulator thread),
 * db (pid 600, one vCPU), and a QEMU without thread names (pid 700). */
static struct ns_vm_thread web_th[3] = {
	{.tid = 501, .kind = NS_THREAD_VCPU, .index = 0},
	{.tid = 502, .kind = NS_THREAD_VCPU, .index = 1},
	{.tid = 500, .kind = NS_THREAD_EMULATOR, .index = -1},
};
static struct ns_vm_thread db_th[1] = {{.tid = 601, .kind = NS_THREAD_VCPU, .index = 0}};
static struct ns_vm_thread anon_th[1] = {{.tid = 700, .kind = NS_THREAD_EMULATOR, .index = -1}};

static void vms_discovered(struct ns_vm *vms)
{
	memset(vms, 0, 3 * sizeof(*vms));
	vms[0] = (struct ns_vm){.name = "web", .pid = 500, .named = 1, .nvcpus = 2, .nthreads = 3, .threads = web_th};
	vms[1] = (struct ns_vm){.name = "db", .pid = 600, .named = 1, .nvcpus = 1, .nthreads = 1, .threads = db_th};
	vms[2] = (struct ns_vm){.name = "pid 700", .pid = 700, .named = 0, .nthreads = 1, .threads = anon_th};
}

static void t_snap(void **state)
{
	struct ns_vm vms[3];
	struct ns_steal_vm *sv;
	struct ns_steal_host h;

	(void)state;
	tree_new();
	vms_discovered(vms);
	assert_int_equal(ns_steal_vms_new(vms, 3, &sv), 0);
	assert_int_equal(sv[0].nthreads, 2); /* vCPUs only */
	assert_int_equal(sv[0].th[1].tid, 502);
	assert_int_equal(sv[0].nvcpus, 2);
	assert_int_equal(sv[2].nthreads, 0); /* no names: nothing to measure */
	assert_int_equal(sv[2].weight, -1);
	memset(&h, 0, sizeof(h));
	assert_int_equal(ns_cpustat_read(tree, &h.a), 0);
	assert_int_equal(ns_steal_snap(tree, sv, 3, 0), 0);
	/* one second later: web's vCPU 0 ran 0.5 s and waited 0.25 s, vCPU 1 ran the whole
	 * second; db exited */
	sched(500, 501, 1500 * MS, 350 * MS);
	sched(500, 502, 3000 * MS, 0);
	{
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s/proc/600'", tree);
		assert_int_equal(system(cmd), 0);
	}
	put("proc/stat", "cpu  200 0 200 1000 0 0 0 0 0 0\ncpu0 100 0 100 500 0 0 0 0 0 0\n"
			 "cpu1 100 0 100 500 0 0 0 0 0 0\nprocs_running 3\n");
	assert_int_equal(ns_steal_snap(tree, sv, 3, 1), 0);
	assert_int_equal(ns_cpustat_read(tree, &h.b), 0);
	h.interval_s = 1.0;
	assert_int_equal(ns_steal_compute(&h, sv, 3), 0);
	assert_true(fabs(sv[0].th[0].demand - 0.75) < 1e-9);
	assert_true(fabs(sv[0].th[1].demand - 1.0) < 1e-9);
	assert_true(fabs(sv[0].demand - 1.75) < 1e-9);
	assert_false(sv[0].gone);
	assert_true(sv[1].gone); /* no error: marked */
	assert_true(sv[1].demand == 0);
	assert_false(sv[2].gone);
	assert_true(fabs(h.vcpu_demand - 1.75) < 1e-9);
	assert_int_equal(h.ncpus, 2);

	/* fail closed: a counter that does not parse, a thread without schedstat (a kernel
	 * without CONFIG_SCHED_INFO) */
	sched(500, 501, 1, 1);
	put("proc/500/task/502/schedstat", "garbage\n");
	assert_int_equal(ns_steal_snap(tree, sv, 3, 0), -EINVAL);
	put("proc/500/task/502/schedstat", "1 2 3\n");
	{
		char path[160];

		snprintf(path, sizeof(path), "%s/proc/500/task/502/schedstat", tree);
		assert_int_equal(unlink(path), 0);
	}
	assert_int_equal(ns_steal_snap(tree, sv, 3, 0), -EOPNOTSUPP);
	ns_steal_vms_free(sv, 3);
	ns_steal_vms_free(NULL, 0);
	tree_free();
}

static volatile sig_atomic_t stop_flag;

static void on_alarm(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void t_measure(void **state)
{
	struct ns_vm vms[3];
	struct ns_steal_vm *sv;
	struct ns_steal_host h;
	struct sigaction sa;
	struct itimerval it = {.it_value = {.tv_sec = 0, .tv_usec = 100000}};

	(void)state;
	tree_new();
	vms_discovered(vms);
	assert_int_equal(ns_steal_vms_new(vms, 3, &sv), 0);
	memset(&h, 0, sizeof(h));
	h.numa_balancing = 7;
	/* the counters do not move in a tree: every demand is 0, the interval what passed */
	assert_int_equal(ns_steal_measure(tree, &h, sv, 3, 0.05, NULL), 0);
	assert_true(h.interval_s > 0);
	assert_true(sv[0].demand == 0 && !sv[0].gone && !sv[1].gone);
	assert_int_equal(h.numa_balancing, 7);
	assert_int_equal(h.ncpus, 2);
	assert_int_equal(ns_steal_measure(tree, &h, sv, 3, 0, NULL), -EINVAL);
	assert_int_equal(ns_steal_measure(tree, &h, sv, 3, 3601, NULL), -EINVAL);
	/* a stop request (a signal handler's flag) ends an hour's window */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	stop_flag = 0;
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	assert_int_equal(ns_steal_measure(tree, &h, sv, 3, 3600, &stop_flag), -EINTR);
	assert_true(stop_flag);
	assert_int_equal(ns_steal_measure(tree, &h, sv, 3, 1, &stop_flag), -EINTR); /* already set */
	/* no /proc/stat: fails before waiting */
	{
		char path[160];

		snprintf(path, sizeof(path), "%s/proc/stat", tree);
		assert_int_equal(unlink(path), 0);
	}
	assert_int_equal(ns_steal_measure(tree, &h, sv, 3, 3600, NULL), -ENOENT);
	ns_steal_vms_free(sv, 3);
	tree_free();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_schedstat),	       cmocka_unit_test(t_cpustat),
		cmocka_unit_test(t_cgroup),	       cmocka_unit_test(t_compute_rates_none),
		cmocka_unit_test(t_compute_idle),      cmocka_unit_test(t_compute_busy),
		cmocka_unit_test(t_compute_gone_thread), cmocka_unit_test(t_compute_causes),
		cmocka_unit_test(t_compute_demand),    cmocka_unit_test(t_snap),
		cmocka_unit_test(t_measure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
