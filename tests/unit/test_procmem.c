/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: /proc/PID/maps, numa_maps and status parsing, per-node per-kind totals. */
#include <errno.h>
#include <string.h>

#include "numasafe/numasafe.h"
#include "unit.h"

#define KB 1024ULL
#define MB (1024ULL * 1024)

static void t_maps_line(void **state)
{
	struct ns_vma v;

	(void)state;
	assert_int_equal(ns_maps_parse_line("7f1000000000-7f1000400000 rw-s 00001000 00:19 77    /dev/shm/guest ram\n", &v), 0);
	assert_int_equal(v.start, 0x7f1000000000ULL);
	assert_int_equal(v.end, 0x7f1000400000ULL);
	assert_string_equal(v.perms, "rw-s");
	assert_int_equal(v.offset, 0x1000);
	assert_int_equal(v.dev_minor, 0x19);
	assert_int_equal(v.inode, 77);
	assert_string_equal(v.path, "/dev/shm/guest ram");
	assert_int_equal(ns_maps_parse_line("7f0000000000-7f0040000000 rw-p 00000000 00:00 0 \n", &v), 0);
	assert_string_equal(v.path, "");
	assert_int_equal(ns_maps_parse_line("garbage\n", &v), -EINVAL);
	assert_int_equal(ns_maps_parse_line("2000-1000 rw-p 00000000 00:00 0\n", &v), -EINVAL);
}

static void t_maps_file(void **state)
{
	struct ns_maps *m;
	struct ns_vma v;
	int n = 0, rc;

	(void)state;
	assert_int_equal(ns_maps_open(fixture("synth2"), 4242, &m), 0);
	while ((rc = ns_maps_next(m, &v)) > 0)
		n++;
	assert_int_equal(rc, 0);
	assert_int_equal(n, 5);
	assert_string_equal(v.path, "[stack]");
	ns_maps_close(m);
	assert_int_equal(ns_maps_open(fixture("synth2"), 1, &m), -ENOENT);
	ns_maps_close(NULL);
}

/* smaps gives the same VMAs with each one's swap, so swap scans can skip the rest */
static void t_smaps_file(void **state)
{
	static const uint64_t want_swap[] = {0, 1200, 262144, 0, 8};
	struct ns_maps *m, *plain;
	struct ns_vma v, p;
	int n = 0;

	(void)state;
	assert_int_equal(ns_maps_open_smaps(fixture("synth2"), 4242, &m), 0);
	assert_int_equal(ns_maps_open(fixture("synth2"), 4242, &plain), 0);
	while (ns_maps_next(m, &v) > 0) {
		assert_int_equal(ns_maps_next(plain, &p), 1);
		assert_true(n < 5);
		assert_int_equal(v.start, p.start);
		assert_int_equal(v.end, p.end);
		assert_string_equal(v.path, p.path);
		assert_true(v.swap_known);
		assert_false(p.swap_known);
		assert_int_equal(v.swap_kb, want_swap[n]);
		n++;
	}
	assert_int_equal(n, 5);
	assert_int_equal(ns_maps_next(plain, &p), 0);
	ns_maps_close(m);
	ns_maps_close(plain);
}

/* the THP share of each node: proportional, exact on one node, never more than a node has */
static void t_thp_split(void **state)
{
	uint64_t out[4];

	(void)state;
	ns_thp_split((const uint64_t[]){0, 8 * MB, 0}, 3, 6 * MB, out);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 6 * MB);
	assert_int_equal(out[2], 0);
	ns_thp_split((const uint64_t[]){256 * MB, 768 * MB}, 2, 512 * MB, out);
	assert_int_equal(out[0], 128 * MB);
	assert_int_equal(out[1], 384 * MB);
	/* rounding goes to the last node with bytes */
	ns_thp_split((const uint64_t[]){3, 3, 3, 0}, 4, 4, out);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 1);
	assert_int_equal(out[2], 2);
	assert_int_equal(out[3], 0);
	/* more THP than bytes (the files were read at different moments): all of it, no more */
	ns_thp_split((const uint64_t[]){2 * MB, 4 * MB}, 2, 64 * MB, out);
	assert_int_equal(out[0], 2 * MB);
	assert_int_equal(out[1], 4 * MB);
	ns_thp_split((const uint64_t[]){2 * MB, 4 * MB}, 2, 0, out);
	assert_int_equal(out[0] + out[1], 0);
	/* sizes near 2^64 do not wrap the products */
	ns_thp_split((const uint64_t[]){UINT64_MAX / 2, UINT64_MAX / 2}, 2, UINT64_MAX / 2, out);
	assert_int_equal(out[0], UINT64_MAX / 4);
	assert_int_equal(out[0] + out[1], UINT64_MAX / 2);
}

struct resident_sum {
	uint64_t bytes[NS_KIND_COUNT][2];
	uint64_t huge_size;
	int calls;
};

static int resident_add(void *arg, enum ns_kind kind, uint64_t page_size, const uint64_t *bytes, unsigned max_node)
{
	struct resident_sum *r = arg;

	assert_true(max_node <= 2);
	for (unsigned n = 0; n < max_node; n++)
		r->bytes[kind][n] += bytes[n];
	if (kind == NS_KIND_HUGETLB)
		r->huge_size = page_size;
	r->calls++;
	return 0;
}

/* numa_maps and smaps read together: per node and kind, THP split off anon, swap summed; a
 * 16 TB VMA with 64 pages counts its 64 pages; [vdso] and empty VMAs give nothing */
static void t_resident_scan(void **state)
{
	struct resident_sum r;
	volatile sig_atomic_t stop = 0;
	uint64_t swapped = 1;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(ns_resident_scan(fixture("sparse1"), 4242, &stop, resident_add, &r, &swapped), 0);
	assert_int_equal(swapped, (1200 + 8 + 8) * KB);
	assert_int_equal(r.bytes[NS_KIND_FILE][0], 100 * 4 * KB);
	assert_int_equal(r.bytes[NS_KIND_FILE][1], 0);
	/* heap, the 64 sparse pages, the anon VMA less its THP, the stack */
	assert_int_equal(r.bytes[NS_KIND_ANON][0], 100 * 4 * KB + 64 * 4 * KB + 128 * MB + 4 * 4 * KB);
	assert_int_equal(r.bytes[NS_KIND_ANON][1], 200 * 4 * KB + 384 * MB);
	assert_int_equal(r.bytes[NS_KIND_THP][0], 128 * MB);
	assert_int_equal(r.bytes[NS_KIND_THP][1], 384 * MB);
	assert_int_equal(r.bytes[NS_KIND_SHMEM][0], 0);
	assert_int_equal(r.bytes[NS_KIND_SHMEM][1], 4 * MB);
	assert_int_equal(r.bytes[NS_KIND_HUGETLB][0], 2 * MB);
	assert_int_equal(r.bytes[NS_KIND_HUGETLB][1], 6 * MB);
	assert_int_equal(r.huge_size, 2 * MB);
	assert_int_equal(r.calls, 8); /* file, heap, sparse, THP + anon, shmem, hugetlb, stack */
	/* a VMA numa_maps lists and smaps does not: read again */
	assert_int_equal(ns_resident_scan(fixture("sparse1"), 4243, NULL, resident_add, &r, &swapped), -EAGAIN);
	/* a stop request ends it between VMAs */
	stop = 1;
	assert_int_equal(ns_resident_scan(fixture("sparse1"), 4242, &stop, resident_add, &r, &swapped), -EINTR);
	assert_int_equal(ns_resident_scan(fixture("sparse1"), 9999, NULL, resident_add, &r, &swapped), -ESRCH);
}

/* smaps's Rss and AnonHugePages per VMA */
static void t_smaps_rss_thp(void **state)
{
	static const uint64_t want_rss[] = {400, 1200, 256, 1048576, 4096, 0, 0, 16, 8};
	static const uint64_t want_thp[] = {0, 0, 0, 524288, 0, 0, 0, 0, 0};
	struct ns_maps *m;
	struct ns_vma v;
	int n = 0;

	(void)state;
	assert_int_equal(ns_maps_open_smaps(fixture("sparse1"), 4242, &m), 0);
	while (ns_maps_next(m, &v) > 0) {
		assert_true(n < 9);
		assert_int_equal(v.rss_kb, want_rss[n]);
		assert_int_equal(v.thp_kb, want_thp[n]);
		n++;
	}
	assert_int_equal(n, 9);
	ns_maps_close(m);
}

static void t_numa_maps_line(void **state)
{
	struct ns_numa_vma *v = calloc(1, sizeof(*v));

	(void)state;
	assert_int_equal(ns_numa_maps_parse_line(NULL, "7f0000000000 bind:1 anon=262144 dirty=262144 N0=65536 N1=196608 kernelpagesize_kB=4\n", v), 0);
	assert_int_equal(v->start, 0x7f0000000000ULL);
	assert_string_equal(v->policy, "bind:1");
	assert_int_equal(v->kind, NS_KIND_ANON);
	assert_int_equal(v->anon, 262144);
	assert_int_equal(v->max_node, 2);
	assert_int_equal(v->pages[0], 65536);
	assert_int_equal(v->pages[1], 196608);
	assert_int_equal(v->page_size, 4096);

	assert_int_equal(ns_numa_maps_parse_line(NULL, "7f3000000000 default file=/dev/hugepages/vm1 huge dirty=4 N0=1 N1=3 kernelpagesize_kB=2048\n", v), 0);
	assert_int_equal(v->kind, NS_KIND_HUGETLB);
	assert_int_equal(v->page_size, 2 * MB);
	assert_int_equal(v->pages[1], 3);

	assert_int_equal(ns_numa_maps_parse_line(NULL, "7f1000000000 default file=/dev/shm/guest\\040ram mapped=1024 N1=1024 kernelpagesize_kB=4\n", v), 0);
	assert_int_equal(v->kind, NS_KIND_SHMEM);
	assert_string_equal(v->file, "/dev/shm/guest ram");
	/* a line with only N1 must not leave N0 from an earlier line */
	assert_int_equal(v->pages[0], 0);

	assert_int_equal(ns_numa_maps_parse_line(NULL, "7f2000000000 default file=/SYSV00000000\\040(deleted) dirty=10 N0=10 kernelpagesize_kB=4\n", v), 0);
	assert_int_equal(v->kind, NS_KIND_SHMEM);
	assert_int_equal(ns_numa_maps_parse_line(NULL, "7f2000000000 default file=/memfd:guest\\040(deleted) N0=10 kernelpagesize_kB=4\n", v), 0);
	assert_int_equal(v->kind, NS_KIND_SHMEM);
	assert_int_equal(ns_numa_maps_parse_line(NULL, "55d0c8a6c000 default file=/usr/bin/qemu mapped=100 mapmax=2 N0=100 kernelpagesize_kB=4\n", v), 0);
	assert_int_equal(v->kind, NS_KIND_FILE);
	assert_int_equal(v->mapmax, 2);
	assert_int_equal(ns_numa_maps_parse_line(NULL, "55d0c9b3e000 default heap anon=300 N0=100 N1=200 kernelpagesize_kB=4\n", v), 0);
	assert_true(v->is_heap);
	assert_int_equal(v->kind, NS_KIND_ANON);
	assert_int_equal(ns_numa_maps_parse_line(NULL, "7f4000000000 default\n", v), 0);
	assert_int_equal(v->max_node, 0);
	assert_int_equal(ns_numa_maps_parse_line(NULL, "7f4000000000 default N5000=1\n", v), -ERANGE);
	assert_int_equal(ns_numa_maps_parse_line(NULL, "zz\n", v), -EINVAL);
	free(v);
}

static void t_usage(void **state)
{
	struct ns_proc_usage *u;

	(void)state;
	assert_int_equal(ns_proc_usage_read(fixture("synth2"), 4242, &u), 0);
	assert_string_equal(u->comm, "qemu-system-x86");
	/* anon: heap 100+200, guest RAM 65536+196608, stack 4 (N0) */
	assert_int_equal(u->bytes[NS_KIND_ANON][0], (100 + 65536 + 4) * 4 * KB);
	assert_int_equal(u->bytes[NS_KIND_ANON][1], (200 + 196608) * 4 * KB);
	assert_int_equal(u->bytes[NS_KIND_FILE][0], 100 * 4 * KB);
	assert_int_equal(u->bytes[NS_KIND_SHMEM][0], 10 * 4 * KB);
	assert_int_equal(u->bytes[NS_KIND_SHMEM][1], 1024 * 4 * KB);
	assert_int_equal(u->bytes[NS_KIND_HUGETLB][0], 2 * MB);
	assert_int_equal(u->bytes[NS_KIND_HUGETLB][1], 6 * MB);
	assert_int_equal(u->total[NS_KIND_HUGETLB], 8 * MB);
	assert_int_equal(u->node_total[1], (200 + 196608 + 1024) * 4 * KB + 6 * MB);
	assert_int_equal(u->thp_bytes, 409600 * KB);
	assert_int_equal(u->swap_bytes, 2048 * KB);
	assert_int_equal(ns_set_count(&u->mems_allowed), 2);
	assert_int_equal(ns_set_count(&u->cpus_allowed), 4);
	free(u);
	/* a kernel thread (comm with spaces and parens) is refused; a missing pid is ESRCH */
	assert_int_equal(ns_proc_check_user(fixture("synth2"), 77), -EINVAL);
	assert_int_equal(ns_proc_usage_read(fixture("synth2"), 77, &u), -EINVAL);
	assert_int_equal(ns_proc_usage_read(fixture("synth2"), 9999, &u), -ESRCH);
	assert_int_equal(ns_proc_check_user(fixture("synth2"), 0), -ESRCH);
}

static void t_usage_captured(void **state)
{
	static const char *const trees[] = {"host1", "lab2", "lab4"};

	(void)state;
	for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
		struct ns_proc_usage *u;
		uint64_t sum = 0;

		if (ns_proc_usage_read(fixture(trees[i]), 4242, &u) != 0)
			fail_msg("%s: stand-in process does not parse", trees[i]);
		/* every capture holds a stand-in with a 16 MiB anonymous buffer */
		assert_true(u->total[NS_KIND_ANON] >= 16 * MB);
		for (unsigned n = 0; n < u->max_node; n++)
			sum += u->node_total[n];
		assert_int_equal(sum, u->total[NS_KIND_ANON] + u->total[NS_KIND_FILE] + u->total[NS_KIND_SHMEM] +
					      u->total[NS_KIND_HUGETLB]);
		free(u);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_maps_line),	    cmocka_unit_test(t_maps_file), cmocka_unit_test(t_smaps_file),
		cmocka_unit_test(t_numa_maps_line), cmocka_unit_test(t_thp_split),
		cmocka_unit_test(t_resident_scan), cmocka_unit_test(t_smaps_rss_thp),
		cmocka_unit_test(t_usage),	    cmocka_unit_test(t_usage_captured),
	};

	return cmocka_run_group_tests_name("procmem", tests, NULL, NULL);
}
