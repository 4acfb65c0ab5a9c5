/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the migration engine's accounting of a move and its rollback, with move_pages(2)
 * replaced by a simulation of the kernel's own rules (this binary defines move_pages, which
 * takes precedence over libnuma's for the engine linked into it). The engine runs for real
 * on this process: it walks its own maps and pagemap, reads a 2-node fixture host for the
 * topology and headroom, and moves a region of this process that the simulation says is on
 * node 1 to node 0. The simulation follows mm/migrate.c's do_pages_move: pages that go to the
 * same node form a batch; when any page of a batch cannot move, the others of that batch
 * still move but no status of the batch (or of the pages after it) is written, and the call
 * returns a positive count; an allocation failure fails the whole call after part of the
 * batch moved. Every test checks that the engine's account matches where the simulation
 * says each page is: each page moved is either back or counted as not back, with a reason. */
#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "numasafe/migrate.h"
#include "unit.h"

#define NPAGES 2048
#define SRC 1
#define DST 0

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char *region;
static long ps;
static int node_of[NPAGES];
static unsigned char failed_back[NPAGES]; /* times a page failed to go back */
static unsigned fwd_moved; /* pages the simulation moved from SRC to DST */
static volatile sig_atomic_t stop_req;

static struct {
	unsigned fail_pct;	   /* a page of a move fails (-EBUSY inside migrate_pages) this often */
	unsigned sticky_every;	   /* pages idx % sticky_every == 0 never move back (0: none) */
	unsigned enomem_call;	   /* this forward call fails whole with ENOMEM after half its batch */
	unsigned signal_after;	   /* forward calls before a first stop request (0: none) */
	unsigned signal2_after;	   /* rollback calls before a second stop request (0: none) */
	unsigned fwd_calls, back_calls;
	uint64_t rng;
} sim;

static unsigned rnd(void)
{
	sim.rng ^= sim.rng << 13;
	sim.rng ^= sim.rng >> 7;
	sim.rng ^= sim.rng << 17;
	return (unsigned)(sim.rng % 100);
}

static long page_index(void *addr)
{
	uintptr_t a = (uintptr_t)addr, r = (uintptr_t)region;

	return a >= r && a < r + (uintptr_t)NPAGES * (uintptr_t)ps ? (long)((a - r) / (uintptr_t)ps) : -1;
}

/* One batch to node `to`: returns the number that failed (their statuses unwritten), or -1
 * for an allocation failure after half of it moved. */
static long flush_batch(const unsigned long *idx, const long *slot, unsigned n, int to, int *status, bool enomem)
{
	long failed = 0;

	for (unsigned k = 0; k < n; k++) {
		long p = (long)idx[k];

		if (enomem && k >= n / 2)
			return -1;
		/* on the way back a page fails at most once (a transient -EBUSY), unless sticky */
		if ((rnd() < sim.fail_pct && (to == DST || failed_back[p] == 0)) ||
		    (to == SRC && sim.sticky_every && p % sim.sticky_every == 0)) {
			if (to == SRC)
				failed_back[p]++;
			failed++;
			continue;
		}
		if (node_of[p] == SRC && to == DST)
			fwd_moved++;
		node_of[p] = to;
	}
	if (!failed)
		for (unsigned k = 0; k < n; k++)
			status[slot[k]] = to;
	return failed;
}

long move_pages(int pid, unsigned long count, void **pages, const int *nodes, int *status, int flags)
{
	static unsigned long idx[65536];
	static long slot[65536];
	unsigned n = 0;
	long rc = 0;
	int to = -1;
	bool enomem = false;

	(void)pid;
	(void)flags;
	pthread_mutex_lock(&mu);
	if (!nodes) {
		for (unsigned long i = 0; i < count; i++) {
			long p = page_index(pages[i]);

			status[i] = p < 0 ? DST : node_of[p]; /* the rest of this process: not on a source */
		}
		goto out;
	}
	if (nodes[0] == DST) {
		sim.fwd_calls++;
		enomem = sim.enomem_call && sim.fwd_calls == sim.enomem_call;
		if (sim.signal_after && sim.fwd_calls == sim.signal_after && stop_req < 1)
			stop_req = 1;
	} else {
		sim.back_calls++;
		if (sim.signal2_after && sim.back_calls == sim.signal2_after)
			stop_req = 2;
	}
	for (unsigned long i = 0; i < count; i++) {
		long p = page_index(pages[i]);

		if (p < 0) {
			status[i] = -EFAULT;
			continue;
		}
		if (to >= 0 && nodes[i] != to) {
			long f = flush_batch(idx, slot, n, to, status, enomem);

			if (f) {
				rc = f < 0 ? -1 : f + (long)(count - i);
				goto out;
			}
			n = 0;
		}
		if (node_of[p] == nodes[i]) {
			status[i] = nodes[i];
			continue;
		}
		to = nodes[i];
		idx[n] = (unsigned long)p;
		slot[n++] = (long)i;
	}
	if (n) {
		long f = flush_batch(idx, slot, n, to, status, enomem);

		if (f)
			rc = f < 0 ? -1 : f;
	}
out:
	pthread_mutex_unlock(&mu);
	if (rc < 0)
		errno = ENOMEM;
	return rc;
}

static char root[64];

static int copy_file(const char *from, const char *to)
{
	char cmd[8400];

	snprintf(cmd, sizeof(cmd), "cp -r '%s' '%s'", from, to);
	return system(cmd) == 0 ? 0 : -1;
}

/* A host with the lab's two nodes, and this process (and its kernel files) in /proc. */
static int setup(void **state)
{
	char p[256], t[256];

	(void)state;
	ps = sysconf(_SC_PAGESIZE);
	snprintf(root, sizeof(root), "/tmp/ns-unit-mig.XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/proc", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/sys", root);
	assert_int_equal(symlink(fixture("lab2/sys"), p), 0);
	snprintf(p, sizeof(p), "%s/proc/%d", root, (int)getpid());
	snprintf(t, sizeof(t), "/proc/%d", (int)getpid());
	assert_int_equal(symlink(t, p), 0);
	snprintf(p, sizeof(p), "%s/proc/kpageflags", root);
	assert_int_equal(symlink("/proc/kpageflags", p), 0);
	for (const char *const *f = (const char *const[]){"zoneinfo", "meminfo", "pressure", NULL}; *f; f++) {
		snprintf(p, sizeof(p), "%s/proc/%s", root, *f);
		snprintf(t, sizeof(t), "lab2/proc/%s", *f);
		/* copies, not links: the readers refuse a symlink where a host file belongs */
		assert_int_equal(copy_file(fixture(t), p), 0);
	}
	region = mmap(NULL, (size_t)NPAGES * (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(region != MAP_FAILED);
	madvise(region, (size_t)NPAGES * (size_t)ps, MADV_NOHUGEPAGE);
	memset(region, 7, (size_t)NPAGES * (size_t)ps);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	munmap(region, (size_t)NPAGES * (size_t)ps);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void reset(unsigned fail_pct, uint64_t seed)
{
	memset(&sim, 0, sizeof(sim));
	sim.fail_pct = fail_pct;
	sim.rng = seed;
	for (int i = 0; i < NPAGES; i++)
		node_of[i] = SRC;
	memset(failed_back, 0, sizeof(failed_back));
	fwd_moved = 0;
	stop_req = 0;
}

static unsigned on_node(int node)
{
	unsigned n = 0;

	for (int i = 0; i < NPAGES; i++)
		n += node_of[i] == node;
	return n;
}

static void run(unsigned jobs, struct ns_mig_result *res)
{
	static struct ns_amount none = {false, 0, 0};
	struct ns_mig_opts o;

	ns_mig_opts_init(&o);
	o.root = root;
	ns_set_clear(&o.to);
	ns_set_add(&o.to, DST);
	ns_set_clear(&o.from);
	ns_set_add(&o.from, SRC);
	o.reserve = &none;
	o.max_psi = 0;
	o.chunk = 64;
	o.jobs = jobs;
	o.stop = &stop_req;
	assert_int_equal(ns_mig_run(getpid(), &o, res), 0);
}

/* The account matches the simulation: moved_total is what went to the target, and every
 * byte of it is back or counted as not back; what is not back is exactly what the simulation
 * still has on the target. */
static void check_account(const struct ns_mig_result *r)
{
	uint64_t left = (uint64_t)on_node(DST) * (uint64_t)ps;

	assert_int_equal(r->moved_total, (uint64_t)fwd_moved * (uint64_t)ps);
	assert_true(r->rolled_back);
	assert_int_equal(r->rollback_bytes + r->rollback_failed_bytes, r->moved_total);
	assert_int_equal(r->rollback_failed_bytes, left);
	{
		uint64_t sum = 0;

		for (int k = 0; k < NS_MIG_UNBACK_COUNT; k++)
			sum += r->rollback_unback[k];
		assert_int_equal(sum, r->rollback_failed_bytes);
	}
	assert_int_equal(r->rollback_complete, left == 0 && !r->rollback_stopped);
}

/* Pressure (the target cannot allocate) ends the move partway; pages of every direction's
 * calls fail now and then, so batches come back with unwritten statuses though most of
 * their pages moved. Everything must come back, and be counted so. */
static void t_enomem_rollback(void **state)
{
	struct ns_mig_result r;

	(void)state;
	for (unsigned t = 0; t < 40; t++) {
		unsigned jobs = 1 + t % 2;

		reset(3, 0x9e3779b97f4a7c15ULL + t);
		sim.enomem_call = 3 + t % 20;
		run(jobs, &r);
		assert_int_equal(r.stop, NS_MIG_STOP_ENOMEM);
		check_account(&r);
		assert_int_equal(on_node(DST), 0);
		assert_true(r.rollback_complete);
		assert_true(r.moved_total > 0);
	}
}

/* A first stop request (a signal) rolls the move back, whatever o.rollback says for pressure. */
static void t_signal_rolls_back(void **state)
{
	struct ns_mig_result r;

	(void)state;
	for (unsigned t = 0; t < 40; t++) {
		unsigned jobs = 1 + t % 2;

		reset(2, 12345 + t);
		sim.signal_after = 2 + t % 25;
		run(jobs, &r);
		assert_int_equal(r.stop, NS_MIG_STOP_SIGNAL);
		check_account(&r);
		assert_false(r.rollback_stopped);
		assert_int_equal(on_node(DST), 0);
	}
}

/* Pages that cannot go back are counted, with the reason the kernel gave. */
static void t_sticky_pages(void **state)
{
	struct ns_mig_result r;

	(void)state;
	reset(0, 777);
	sim.sticky_every = 50;
	sim.signal_after = 10;
	run(1, &r);
	check_account(&r);
	assert_true(on_node(DST) > 0);
	assert_false(r.rollback_complete);
	assert_int_equal(r.rollback_unback[NS_MIG_UNBACK_BUSY], (uint64_t)on_node(DST) * (uint64_t)ps);
}

/* A second stop request during the rollback stops it where it is; the account says exactly
 * what is still on the target. */
static void t_second_signal(void **state)
{
	struct ns_mig_result r;

	(void)state;
	for (unsigned t = 0; t < 20; t++) {
		reset(1, 4242 + t);
		sim.signal_after = 20;
		sim.signal2_after = 2 + t % 8;
		run(1 + t % 2, &r);
		assert_int_equal(r.stop, NS_MIG_STOP_SIGNAL);
		assert_true(r.rollback_stopped);
		check_account(&r);
		assert_true(on_node(DST) > 0);
		assert_true(r.rollback_bytes > 0);
		/* pages that were sent back but failed count busy; the rest were never sent */
		assert_int_equal(r.rollback_unback[NS_MIG_UNBACK_STOPPED] + r.rollback_unback[NS_MIG_UNBACK_BUSY],
				 (uint64_t)on_node(DST) * (uint64_t)ps);
		assert_true(r.rollback_unback[NS_MIG_UNBACK_STOPPED] > 0);
	}
}

/* Without a stop, a move with failing pages ends with moved_total saying exactly how much
 * went, and what stayed (failed on the retry too) counted busy. */
static void t_done(void **state)
{
	struct ns_mig_result r;

	(void)state;
	reset(5, 99);
	run(2, &r);
	assert_int_equal(r.stop, NS_MIG_DONE);
	assert_int_equal(r.moved_total, (uint64_t)fwd_moved * (uint64_t)ps);
	assert_int_equal(r.pages_busy, on_node(SRC));
	assert_int_equal(r.pages_moved + r.pages_busy, NPAGES);
	assert_true(r.pages_retried > 0);
	assert_false(r.rolled_back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_enomem_rollback),
		cmocka_unit_test(t_signal_rolls_back),
		cmocka_unit_test(t_sticky_pages),
		cmocka_unit_test(t_second_signal),
		cmocka_unit_test(t_done),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
