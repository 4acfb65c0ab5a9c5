/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the planner's input gathered from fixture trees (tests/fixtures/plan2 and plan3,
 * see their make.sh) and solved: the VM found behind each process, its own memory per node,
 * where its threads may run, headroom, usable CPUs and memory-only nodes, the CPU demand
 * measured over a window (in a copy of plan3 whose counters move during it), and the plan
 * that follows. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "numasafe/headroom.h"
#include "numasafe/numasafe.h"
#include "numasafe/plan.h"
#include "unit.h"

#define MB (1024ULL * 1024)

static const struct ns_plan_vm *vm_named(const struct ns_plan_in *in, const char *name, int *idx)
{
	for (int i = 0; i < in->nr_vms; i++)
		if (strcmp(in->vms[i].name, name) == 0) {
			*idx = i;
			return &in->vms[i];
		}
	return NULL;
}

static void t_gather(void **state)
{
	struct ns_topo *t;
	struct ns_plan_in in;
	const struct ns_plan_vm *web, *db, *wide;
	int skipped = -1, iw = -1, id = -1, ix = -1;

	(void)state;
	assert_int_equal(ns_plan_gather(fixture("plan2"), NULL, NULL, 0, NULL, &in, &skipped), 0);
	assert_int_equal(in.nr_nodes, 2);
	assert_int_equal(in.nr_vms, 3);
	assert_int_equal(skipped, 1); /* the QEMU without thread names */
	/* headroom is the same rule numa-plan show uses */
	assert_int_equal(ns_topo_read(fixture("plan2"), &t), 0);
	for (int n = 0; n < 2; n++) {
		const struct ns_node *node = ns_topo_find(t, n);

		assert_int_equal(in.nodes[n].id, n);
		assert_int_equal(in.nodes[n].headroom, ns_node_headroom(node, ns_reserve_for(node, NULL)));
		assert_int_equal(in.nodes[n].cpus, 2);
	}
	ns_topo_free(t);
	web = vm_named(&in, "web", &iw);
	db = vm_named(&in, "db", &id);
	wide = vm_named(&in, "wide", &ix);
	assert_non_null(web);
	assert_non_null(db);
	assert_non_null(wide);
	assert_false(web->is_domain);
	assert_true(db->is_domain); /* run/libvirt/qemu/db.pid */
	assert_int_equal(web->pid, 500);
	assert_int_equal(web->start_time, 5000);
	assert_int_equal(web->vcpus, 2);
	assert_int_equal(wide->vcpus, 4);
	assert_int_equal(web->mem[0], 512 * MB);
	assert_int_equal(web->mem[1], 512 * MB);
	/* own memory only: db's library page cache on node 1 does not count */
	assert_int_equal(db->mem[0], 1024 * MB);
	assert_int_equal(db->mem[1], 0);
	assert_int_equal(db->threads_node, 0);
	assert_int_equal(web->threads_node, -1);
	assert_int_equal(db->pinned_node, -1);
	ns_plan_in_release(&in);
}

static void t_solve(void **state)
{
	struct ns_plan_in in;
	struct ns_plan_out out;
	int skipped, iw = -1, id = -1, ix = -1;

	(void)state;
	assert_int_equal(ns_plan_gather(fixture("plan2"), NULL, NULL, 0, NULL, &in, &skipped), 0);
	assert_int_equal(ns_plan_solve(&in, &out), 0);
	assert_non_null(vm_named(&in, "web", &iw));
	assert_non_null(vm_named(&in, "db", &id));
	assert_non_null(vm_named(&in, "wide", &ix));
	/* db stays home on node 0; web, with the same vCPUs, can only go to node 1 */
	assert_int_equal(out.placement[id], 0);
	assert_int_equal(out.placement[iw], 1);
	assert_int_equal(out.placement[ix], -1);
	assert_non_null(strstr(out.why[ix], "4 vCPUs"));
	assert_int_equal(out.bytes_moved, 512 * MB);
	assert_int_equal(out.nr_steps, 1);
	assert_int_equal(out.steps[0].vm, iw);
	assert_int_equal(out.steps[0].to, 1);
	assert_int_equal(out.steps[0].bytes, 512 * MB);
	assert_true(out.exact);
	ns_plan_out_free(&out);
	ns_plan_in_release(&in);
}

static void t_exclude_and_reserve(void **state)
{
	struct ns_plan_in in;
	struct ns_plan_out out;
	struct ns_set ex;
	struct ns_amount all = {.is_pct = true, .pct = 100};
	int skipped, iw = -1, id = -1, placed = 0;

	(void)state;
	/* with CPU 0 kept for the host node 0 has one CPU left: db and web now compete for node 1 */
	ns_set_clear(&ex);
	ns_set_add(&ex, 0);
	assert_int_equal(ns_plan_gather(fixture("plan2"), NULL, &ex, 0, NULL, &in, &skipped), 0);
	assert_int_equal(in.nodes[0].cpus, 1);
	assert_int_equal(in.nodes[1].cpus, 2);
	assert_int_equal(ns_plan_solve(&in, &out), 0);
	assert_non_null(vm_named(&in, "web", &iw));
	assert_non_null(vm_named(&in, "db", &id));
	placed = (out.placement[iw] >= 0) + (out.placement[id] >= 0);
	assert_int_equal(placed, 1);
	ns_plan_out_free(&out);
	ns_plan_in_release(&in);
	/* a reserve of the whole node leaves no headroom: web cannot move, nothing may go */
	assert_int_equal(ns_plan_gather(fixture("plan2"), &all, NULL, 0, NULL, &in, &skipped), 0);
	assert_int_equal(in.nodes[0].headroom, 0);
	assert_int_equal(in.nodes[1].headroom, 0);
	assert_int_equal(ns_plan_solve(&in, &out), 0);
	assert_non_null(vm_named(&in, "web", &iw));
	assert_int_equal(out.placement[iw], -1);
	assert_true(out.why[iw][0] != '\0');
	ns_plan_out_free(&out);
	ns_plan_in_release(&in);
}

/* Sizes saturate: a reserve of 2^64 - 1 leaves no headroom (it wrapped into more than a 1G
 * reserve leaves), and a VM whose memory on a node adds up past 2^64 is refused by the solver
 * instead of wrapping to a few bytes it would then plan to move freely. */
static void t_saturates(void **state)
{
	struct ns_amount huge = {.bytes = UINT64_MAX}, giga = {.bytes = 1ULL << 30};
	struct ns_plan_in in;
	struct ns_plan_out out;
	const char *tree;
	int skipped, iw = -1;

	(void)state;
	assert_int_equal(ns_plan_gather(fixture("plan2"), &giga, NULL, 0, NULL, &in, &skipped), 0);
	assert_true(in.nodes[1].headroom > 0); /* node 1 has 3 GiB free */
	ns_plan_in_release(&in);
	assert_int_equal(ns_plan_gather(fixture("plan2"), &huge, NULL, 0, NULL, &in, &skipped), 0);
	assert_int_equal(in.nodes[0].headroom, 0);
	assert_int_equal(in.nodes[1].headroom, 0);
	ns_plan_in_release(&in);
	/* 2^63 bytes of anonymous memory and 2^63 of hugetlb on node 0 */
	tree = tree_copy("plan2");
	tree_put(tree, "/proc/500/numa_maps",
		 "7f0000000000 default anon=1 dirty=1 N0=2251799813685248 kernelpagesize_kB=4\n"
		 "7f4000000000 default file=/dev/hugepages/web huge dirty=1 N0=4398046511104 kernelpagesize_kB=2048\n");
	assert_int_equal(ns_plan_gather(tree, NULL, NULL, 0, NULL, &in, &skipped), 0);
	assert_non_null(vm_named(&in, "web", &iw));
	assert_int_equal(in.vms[iw].mem[0], UINT64_MAX);
	assert_int_equal(ns_plan_solve(&in, &out), -EINVAL);
	ns_plan_in_release(&in);
	tree_rm(tree);
}

static void t_missing(void **state)
{
	struct ns_plan_in in;
	int skipped;

	(void)state;
	assert_int_equal(ns_plan_gather(fixture("no-such-tree"), NULL, NULL, 0, NULL, &in, &skipped), -ENOENT);
	assert_null(in.vms);
}

/* plan3: node 2 has memory and no CPUs. Nothing measured: demand unknown. */
static void t_memory_only(void **state)
{
	struct ns_plan_in in;
	const struct ns_plan_vm *cxl, *busy2;
	int skipped = -1, ic = -1, ib = -1;

	(void)state;
	assert_int_equal(ns_plan_gather(fixture("plan3"), NULL, NULL, 0, NULL, &in, &skipped), 0);
	assert_int_equal(skipped, 0);
	assert_int_equal(in.nr_nodes, 3);
	assert_int_equal(in.have_demand, 0);
	assert_true(in.sample_s == 0);
	for (int n = 0; n < 2; n++) {
		assert_false(in.nodes[n].memory_only);
		assert_true(in.nodes[n].capacity == 2);
		assert_int_equal(in.nodes[n].cpus, 2);
	}
	assert_int_equal(in.nodes[2].id, 2);
	assert_true(in.nodes[2].memory_only);
	assert_true(in.nodes[2].capacity == 0);
	assert_int_equal(in.nodes[2].cpus, 0);
	assert_true(in.nodes[2].headroom > 0);
	cxl = vm_named(&in, "cxl", &ic);
	busy2 = vm_named(&in, "busy2", &ib);
	assert_non_null(cxl);
	assert_non_null(busy2);
	assert_int_equal(cxl->mem[1], 64 * MB);
	assert_int_equal(cxl->mem[2], 256 * MB);
	assert_int_equal(cxl->threads_node, -1);
	assert_int_equal(busy2->threads_node, 0);
	assert_int_equal(ns_plan_vm_node(&in, ic), 1); /* its memory on a node with CPUs */
	ns_plan_in_release(&in);
}

/* The counters move once the first snapshot has read them all: inotify says when each
 * vCPU's schedstat was read and closed; the new values are renamed in whole. */
struct bump {
	char root[64];
	pthread_barrier_t ready;
	int done;
};

static const struct {
	int pid, tid;
	unsigned long long run, wait; /* after the window; before: 1 s and 0.1 s (make.sh) */
} bumps[] = {
	{500, 501, 1400000000ULL, 400000000ULL}, /* busy1: 0.4 + 0.3 s each */
	{500, 502, 1400000000ULL, 400000000ULL},
	{600, 601, 1600000000ULL, 500000000ULL}, /* busy2: 0.6 + 0.4 s each */
	{600, 602, 1600000000ULL, 500000000ULL},
	{700, 701, 1010000000ULL, 100000000ULL}, /* cxl: 0.01 s */
};
#define NBUMPS ((int)(sizeof(bumps) / sizeof(bumps[0])))

static void *bumper(void *arg)
{
	struct bump *b = arg;
	int fd = inotify_init1(IN_CLOEXEC), wd[NBUMPS], seen = 0;
	unsigned char got[NBUMPS] = {0};
	char path[256], tmp[300], buf[4096] __attribute__((aligned(8)));

	for (int i = 0; i < NBUMPS; i++) {
		snprintf(path, sizeof(path), "%s/proc/%d/task/%d/schedstat", b->root, bumps[i].pid, bumps[i].tid);
		wd[i] = fd >= 0 ? inotify_add_watch(fd, path, IN_CLOSE_NOWRITE) : -1;
	}
	pthread_barrier_wait(&b->ready);
	while (fd >= 0 && seen < NBUMPS) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 10000) <= 0)
			break;
		n = read(fd, buf, sizeof(buf));
		for (ssize_t off = 0; n > 0 && off < n;) {
			const struct inotify_event *ev = (const void *)(buf + off);

			for (int i = 0; i < NBUMPS; i++)
				if (ev->wd == wd[i] && !got[i])
					got[i] = 1, seen++;
			off += (ssize_t)sizeof(*ev) + ev->len;
		}
	}
	for (int i = 0; i < NBUMPS && seen == NBUMPS; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/proc/%d/task/%d/schedstat", b->root, bumps[i].pid, bumps[i].tid);
		snprintf(tmp, sizeof(tmp), "%s.new", path);
		f = fopen(tmp, "w");
		if (!f)
			break;
		fprintf(f, "%llu %llu 600\n", bumps[i].run, bumps[i].wait);
		if (fclose(f) || rename(tmp, path))
			break;
		b->done = i + 1;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void copy_plan3(char *root)
{
	char cmd[4200];

	strcpy(root, "/tmp/ns-plan3-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(cmd, sizeof(cmd), "cp -a '%s/.' '%s'", fixture("plan3"), root);
	assert_int_equal(system(cmd), 0);
}

static void remove_tree(const char *root)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static void t_demand(void **state)
{
	struct bump b = {0};
	pthread_t th;
	struct ns_plan_in in;
	struct ns_plan_out out;
	int skipped, i1 = -1, i2 = -1, ic = -1;

	(void)state;
	copy_plan3(b.root);
	assert_int_equal(pthread_barrier_init(&b.ready, NULL, 2), 0);
	assert_int_equal(pthread_create(&th, NULL, bumper, &b), 0);
	pthread_barrier_wait(&b.ready);
	assert_int_equal(ns_plan_gather(b.root, NULL, NULL, 1.0, NULL, &in, &skipped), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	pthread_barrier_destroy(&b.ready);
	assert_int_equal(b.done, NBUMPS);
	assert_int_equal(in.have_demand, 1);
	assert_true(in.sample_s >= 1.0);
	assert_non_null(vm_named(&in, "busy1", &i1));
	assert_non_null(vm_named(&in, "busy2", &i2));
	assert_non_null(vm_named(&in, "cxl", &ic));
	/* (on CPU + waiting) / window, summed over the vCPUs */
	assert_true(fabs(in.vms[i1].demand - 1.4 / in.sample_s) < 1e-9);
	assert_true(fabs(in.vms[i2].demand - 2.0 / in.sample_s) < 1e-9);
	assert_true(fabs(in.vms[ic].demand - 0.01 / in.sample_s) < 1e-9);
	/* node 0 wants 3.4 CPUs (over a window of at least 1 s) of its 2: busy1, cheaper to move
	 * than busy2, goes to node 1; cxl leaves the memory-only node for node 1, where its
	 * other memory is (with --cpu-overcommit 2, as numa-plan would apply it) */
	for (int n = 0; n < in.nr_nodes; n++)
		in.nodes[n].cpus *= 2;
	assert_int_equal(ns_plan_solve(&in, &out), 0);
	assert_int_equal(out.placement[i1], 1);
	assert_int_equal(out.placement[i2], 0);
	assert_int_equal(out.placement[ic], 1);
	assert_string_equal(out.note[ic], "memory on CPU-less node 2 (256M)");
	assert_int_equal(out.bytes_moved, 384 * MB + 256 * MB);
	assert_true(out.excess_before > 1.0);
	assert_true(out.excess_after == 0);
	assert_true(out.exact);
	ns_plan_out_free(&out);
	ns_plan_in_release(&in);
	remove_tree(b.root);
}

static volatile sig_atomic_t stop_now = 1;

/* Fail closed on what cannot be measured; a stop request ends the window. */
static void t_demand_errors(void **state)
{
	struct ns_plan_in in;
	char root[64], path[128];
	int skipped;

	(void)state;
	copy_plan3(root);
	assert_int_equal(ns_plan_gather(root, NULL, NULL, 3600, &stop_now, &in, &skipped), -EINTR);
	assert_null(in.vms);
	assert_int_equal(ns_plan_gather(root, NULL, NULL, -1, NULL, &in, &skipped), -EINVAL);
	assert_int_equal(ns_plan_gather(root, NULL, NULL, 3601, NULL, &in, &skipped), -EINVAL);
	snprintf(path, sizeof(path), "%s/proc/600/task/602/schedstat", root);
	assert_int_equal(unlink(path), 0); /* the thread is there, its counters are not */
	assert_int_equal(ns_plan_gather(root, NULL, NULL, 0.05, NULL, &in, &skipped), -EOPNOTSUPP);
	assert_null(in.vms);
	remove_tree(root);
	/* plan2 has no /proc/stat */
	assert_int_equal(ns_plan_gather(fixture("plan2"), NULL, NULL, 0.05, NULL, &in, &skipped), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_gather),
		cmocka_unit_test(t_solve),
		cmocka_unit_test(t_exclude_and_reserve),
		cmocka_unit_test(t_saturates),
		cmocka_unit_test(t_missing),
		cmocka_unit_test(t_memory_only),
		cmocka_unit_test(t_demand),
		cmocka_unit_test(t_demand_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
