/* Unit tests: schedstat, /proc/stat and cgroup readers on tests/fixtures/qemu1, and the steal
 * arithmetic (rates, busy/idle/none, spanning and CPU weight causes) on synthetic snapshots. */
#include <errno.h>
#include <string.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_schedstat),	       cmocka_unit_test(t_cpustat),
		cmocka_unit_test(t_cgroup),	       cmocka_unit_test(t_compute_rates_none),
		cmocka_unit_test(t_compute_idle),      cmocka_unit_test(t_compute_busy),
		cmocka_unit_test(t_compute_gone_thread), cmocka_unit_test(t_compute_causes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
