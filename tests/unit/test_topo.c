/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: topology, watermarks, host memory, headroom arithmetic, PSI on fixture trees,
 * and corrupted copies of them: every safety input that is missing or damaged is an error
 * naming the file (and line), never a value of 0. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "numasafe/numasafe.h"
#include "throttle.h"
#include "unit.h"

#define KB 1024ULL
#define MB (1024ULL * 1024)

static void t_synth2(void **state)
{
	struct ns_topo *t;
	const struct ns_node *n0, *n1;
	char buf[64];

	(void)state;
	assert_int_equal(ns_topo_read(fixture("synth2"), &t), 0);
	assert_int_equal(ns_topo_nr_nodes(t), 2);
	n0 = ns_topo_find(t, 0);
	n1 = ns_topo_find(t, 1);
	assert_non_null(n0);
	assert_non_null(n1);
	assert_null(ns_topo_find(t, 2));
	ns_set_format(&n1->cpus, buf, sizeof(buf));
	assert_string_equal(buf, "2-3");
	assert_int_equal(n0->mem_total, 4194304 * KB);
	assert_int_equal(n0->mem_free, 1048576 * KB);
	assert_int_equal(n0->inactive_file, 200000 * KB);
	assert_int_equal(n0->sreclaimable, 40000 * KB);
	/* watermarks summed over DMA, DMA32 and Normal, in 4 KiB pages */
	assert_int_equal(n0->wmark_min, (10 + 1000 + 5000) * 4 * KB);
	assert_int_equal(n0->wmark_low, (20 + 2000 + 6000) * 4 * KB);
	assert_int_equal(n0->wmark_high, (30 + 3000 + 7000) * 4 * KB);
	assert_int_equal(n1->wmark_high, 6000 * 4 * KB);
	assert_int_equal(n0->nr_hpools, 1);
	assert_int_equal(n0->hpools[0].page_size, 2 * MB);
	assert_int_equal(n0->hpools[0].total, 8);
	assert_int_equal(n0->hpools[0].free, 2);
	assert_int_equal(ns_topo_distance(t, 0, 1), 21);
	assert_int_equal(ns_topo_distance(t, 1, 1), 10);
	assert_int_equal(ns_topo_distance(t, 0, 5), -1);
	assert_int_equal(ns_topo_cpu_node(t, 3), 1);
	assert_int_equal(ns_topo_cpu_node(t, 9), -1);
	assert_int_equal(ns_topo_numa_balancing(t), 1);
	assert_int_equal(ns_topo_hostmem(t)->mem_available, 5000000 * KB);
	assert_int_equal(ns_topo_hostmem(t)->swap_free, 1048576 * KB);
	ns_topo_free(t);
}

static void t_headroom(void **state)
{
	struct ns_topo *t;
	struct ns_fit fit;
	struct ns_amount res = {.is_pct = false, .bytes = 100 * MB};
	uint64_t high1 = 6000 * 4 * KB, free1 = 3145728 * KB;

	(void)state;
	assert_int_equal(ns_topo_read(fixture("synth2"), &t), 0);
	/* default reserve: max(256M, 2% of 4 GiB = 81.9M) = 256M */
	assert_int_equal(ns_reserve_for(ns_topo_find(t, 1), NULL), 256 * MB);
	assert_int_equal(ns_fit_check(t, 1, 1 * MB, NULL, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_OK);
	assert_int_equal(fit.headroom, free1 - high1 - 256 * MB);
	/* exactly the headroom fits; one byte more falls short by one byte */
	assert_int_equal(ns_fit_check(t, 1, free1 - high1 - 100 * MB, &res, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_OK);
	assert_int_equal(ns_fit_check(t, 1, free1 - high1 - 100 * MB + 1, &res, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_SHORT);
	assert_int_equal(fit.shortfall, 1);
	/* a reserve of 80% leaves nothing: already below the floor */
	res.is_pct = true;
	res.pct = 80;
	assert_int_equal(ns_fit_check(t, 1, 4096, &res, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_BELOW_RESERVE);
	assert_int_equal(fit.headroom, 0);
	assert_int_equal(fit.shortfall, 4096);
	assert_int_equal(ns_fit_check(t, 1, 0, &res, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_OK);
	assert_int_equal(ns_fit_check(t, 7, 4096, NULL, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_NO_NODE);
	/* hugetlb: node 0 has 2 free 2M pages */
	assert_int_equal(ns_fit_check_huge(t, 0, 2 * MB, 2, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_OK);
	assert_int_equal(ns_fit_check_huge(t, 0, 2 * MB, 3, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_HUGETLB_SHORT);
	assert_int_equal(fit.shortfall, 2 * MB);
	assert_int_equal(ns_fit_check_huge(t, 0, 1024 * MB, 1, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_HUGETLB_SHORT);
	assert_string_not_equal(ns_fit_reason_str(NS_FIT_SHORT), "unknown");
	ns_topo_free(t);
}

/* Captured trees: every node parses, totals are sane and the files agree with each other. */
static void check_captured(const char *name, int want_nodes)
{
	struct ns_topo *t;
	uint64_t sum_total = 0;

	if (ns_topo_read(fixture(name), &t) != 0)
		fail_msg("fixture %s does not parse", name);
	assert_int_equal(ns_topo_nr_nodes(t), want_nodes);
	for (int i = 0; i < want_nodes; i++) {
		const struct ns_node *n = ns_topo_node(t, i);

		assert_int_equal(n->id, i);
		assert_true(n->mem_total > 0);
		assert_true(n->mem_free <= n->mem_total);
		assert_true(n->wmark_min > 0 && n->wmark_min <= n->wmark_low && n->wmark_low <= n->wmark_high);
		assert_false(ns_set_empty(&n->cpus));
		assert_int_equal(ns_topo_distance(t, i, i), 10);
		sum_total += n->mem_total;
	}
	assert_true(ns_topo_hostmem(t)->mem_total > 0);
	assert_true(sum_total <= ns_topo_hostmem(t)->mem_total + 4096);
	ns_topo_free(t);
}

static void t_captured(void **state)
{
	(void)state;
	check_captured("host1", 1);
	check_captured("lab2", 2);
	check_captured("lab4", 4);
}

static void t_missing(void **state)
{
	struct ns_topo *t;

	(void)state;
	assert_int_equal(ns_topo_read(fixture("does-not-exist"), &t), -ENOENT);
}

static void t_psi(void **state)
{
	struct ns_psi p;

	(void)state;
	assert_int_equal(ns_psi_read(fixture("synth2"), &p), 0);
	assert_true(p.some.avg10 == 1.5 && p.some.avg60 == 0.75 && p.some.avg300 == 0.10);
	assert_int_equal(p.some.total, 123456);
	assert_true(p.has_full);
	assert_true(p.full.avg10 == 0.5);
	assert_int_equal(p.full.total, 65432);
	assert_int_equal(ns_psi_read(fixture("does-not-exist"), &p), -ENOENT);
	assert_int_equal(ns_psi_parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &p), 0);
	assert_false(p.has_full);
	assert_int_equal(ns_psi_parse("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &p), -EINVAL);
	assert_int_equal(ns_psi_parse("some avg10=x\n", &p), -EINVAL);
}


/* ns_topo_read on the tree must fail with err, and the detail must be the tree's path + want. */
static void topo_fails(const char *tree, int err, const char *want)
{
	struct ns_topo *t = NULL;
	char full[8300];
	int rc = ns_topo_read(tree, &t);

	if (rc != err)
		fail_msg("ns_topo_read: %d (%s), want %d; detail: %s", rc, strerror(-rc), err,
			 ns_error_detail() ? ns_error_detail() : "(none)");
	assert_null(t);
	snprintf(full, sizeof(full), "%s%s", tree, want);
	if (!ns_error_detail() || strcmp(ns_error_detail(), full) != 0)
		fail_msg("detail '%s', want '%s'", ns_error_detail() ? ns_error_detail() : "(none)", full);
}

/* zoneinfo missing, empty, garbage, truncated, out of range: an error, never watermarks of 0
 * (which made the headroom grow silently). */
static void t_zoneinfo_bad(void **state)
{
	const char *tree = tree_copy("synth2");
	struct ns_topo *t;

	(void)state;
	tree_put(tree, "/proc/zoneinfo", NULL);
	topo_fails(tree, -ENOENT, "/proc/zoneinfo: No such file or directory");
	tree_put(tree, "/proc/zoneinfo", "");
	topo_fails(tree, -EINVAL, "/proc/zoneinfo: no zones of node 0");
	tree_put(tree, "/proc/zoneinfo", "hello world\n");
	topo_fails(tree, -EINVAL, "/proc/zoneinfo:1: text before the first \"Node N, zone NAME\" line");
	tree_put(tree, "/proc/zoneinfo", "Node zero, zone DMA\n");
	topo_fails(tree, -EINVAL, "/proc/zoneinfo:1: not a \"Node N, zone NAME\" line");
	/* cut inside node 0's DMA32 zone, before its high watermark */
	tree_put(tree, "/proc/zoneinfo", "Node 0, zone      DMA\n        min      10\n        low      20\n"
					  "        high     30\nNode 0, zone    DMA32\n        min      1000\n"
					  "        low      2000\n");
	topo_fails(tree, -EINVAL, "/proc/zoneinfo:5: node 0 zone DMA32: no high watermark before line 8");
	/* node 0 complete, node 1 missing */
	tree_put(tree, "/proc/zoneinfo", "Node 0, zone   Normal\n        min      1\n        low      2\n        high     3\n");
	topo_fails(tree, -EINVAL, "/proc/zoneinfo: no zones of node 1");
	/* a watermark that does not fit 64 bits, one whose bytes do not, and a sum that does not */
	tree_rm(tree);
	tree = tree_copy("synth2");
	tree_sed(tree, "/proc/zoneinfo", "9s/high     30/high     99999999999999999999999/");
	topo_fails(tree, -ERANGE, "/proc/zoneinfo:9: watermark high: 99999999999999999999999 is out of range");
	tree_sed(tree, "/proc/zoneinfo", "9s/high     99999999999999999999999/high     4503599627370496/");
	topo_fails(tree, -ERANGE, "/proc/zoneinfo:1: node 0 zone DMA: high watermark 4503599627370496 pages is out of range");
	tree_sed(tree, "/proc/zoneinfo", "9s/high     4503599627370496/high     4503599627370495/");
	topo_fails(tree, -ERANGE, "/proc/zoneinfo:15: node 0 zone DMA32: the node's high watermarks add up past 2^64 bytes");
	/* not numbers */
	tree_sed(tree, "/proc/zoneinfo", "9s/high     4503599627370495/high     -1/");
	topo_fails(tree, -EINVAL, "/proc/zoneinfo:9: watermark high: '-1' is not a number of pages");
	tree_sed(tree, "/proc/zoneinfo", "9s/high     -1/high     0x10/");
	topo_fails(tree, -EINVAL, "/proc/zoneinfo:9: watermark high: '0x10' is not a number of pages");
	tree_sed(tree, "/proc/zoneinfo", "9s/high     0x10/high     30 pages/");
	topo_fails(tree, -EINVAL, "/proc/zoneinfo:9: watermark high: '30 pages' is not a number of pages");
	tree_sed(tree, "/proc/zoneinfo", "9s/high     30 pages/high     30/;8s/low/high/");
	topo_fails(tree, -EINVAL, "/proc/zoneinfo:9: watermark high a second time in the zone");
	/* a NUL byte hides the rest of a line from a parser */
	tree_sed(tree, "/proc/zoneinfo", "8s/high/low/;9s/high     30/high     3\\x000/");
	topo_fails(tree, -EINVAL, "/proc/zoneinfo:9: NUL byte in the line");
	/* put back, it reads again */
	tree_sed(tree, "/proc/zoneinfo", "9s/.*/        high     30/");
	assert_int_equal(ns_topo_read(tree, &t), 0);
	assert_null(ns_error_detail());
	assert_int_equal(ns_topo_find(t, 0)->wmark_high, (30 + 3000 + 7000) * 4 * KB);
	ns_topo_free(t);
	tree_rm(tree);
}

/* Per-node and host meminfo: missing, a required line absent, garbage, out of range. */
static void t_meminfo_bad(void **state)
{
	const char *tree = tree_copy("synth2");
	const char *m1 = "/sys/devices/system/node/node1/meminfo";

	(void)state;
	tree_put(tree, m1, NULL);
	topo_fails(tree, -ENOENT, "/sys/devices/system/node/node1/meminfo: No such file or directory");
	tree_put(tree, m1, "");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/node1/meminfo: no MemTotal line");
	tree_put(tree, m1, "Node 1 MemTotal:       4194304 kB\nNode 1 MemUsed: 1 kB\n");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/node1/meminfo: no MemFree line");
	tree_put(tree, m1, "Node 1 MemTotal:       4194304 kB\nNode 1 MemFree:  lots kB\n");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/node1/meminfo:2: MemFree: the value is not a decimal number");
	tree_put(tree, m1, "Node 1 MemTotal:       4194304 kB\nNode 1 MemFree:  -1 kB\n");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/node1/meminfo:2: MemFree: the value is not a decimal number");
	tree_put(tree, m1, "Node 1 MemTotal:       4194304 kB\nNode 1 MemFree:  99999999999999999999999 kB\n");
	topo_fails(tree, -ERANGE, "/sys/devices/system/node/node1/meminfo:2: MemFree: value out of range");
	tree_put(tree, m1, "Node 1 MemTotal:       4194304 kB\nNode 1 MemFree:  18014398509481984 kB\n");
	topo_fails(tree, -ERANGE, "/sys/devices/system/node/node1/meminfo:2: MemFree: 18014398509481984 kB is out of range");
	tree_put(tree, m1, "Node 1 MemTotal:       4194304 kB\nNode 1 MemFree:  1 MB\n");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/node1/meminfo:2: MemFree: unexpected text after the value");
	tree_put(tree, m1, "Node 0 MemTotal:       4194304 kB\n");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/node1/meminfo:1: a line of node 0 in node 1's file");
	tree_put(tree, m1, "garbage\n");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/node1/meminfo:1: not a \"Node N Key: value\" line");
	tree_put(tree, m1, "Node 1 MemFree: 1 kB\nNode 1 MemFree: 9999999 kB\n");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/node1/meminfo:2: MemFree a second time");
	tree_rm(tree);

	tree = tree_copy("synth2");
	tree_put(tree, "/proc/meminfo", NULL);
	topo_fails(tree, -ENOENT, "/proc/meminfo: No such file or directory");
	tree_put(tree, "/proc/meminfo", "MemTotal: 8388608 kB\nMemFree: 4194304 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n");
	topo_fails(tree, -EINVAL, "/proc/meminfo: no MemAvailable line");
	tree_put(tree, "/proc/meminfo", "MemTotal: 8388608 kB\nMemAvailable: 0x10 kB\n");
	topo_fails(tree, -EINVAL, "/proc/meminfo:2: MemAvailable: unexpected text after the value");
	tree_put(tree, "/proc/meminfo", "MemTotal 8388608 kB\n");
	topo_fails(tree, -EINVAL, "/proc/meminfo:1: not a \"Key: value\" line");
	tree_rm(tree);

	/* a hugetlb pool's free count is a safety input too */
	tree = tree_copy("synth2");
	tree_put(tree, "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages", "two\n");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages: 'two' is not a decimal number");
	tree_put(tree, "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages", "-1\n");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages: '-1' is not a decimal number");
	tree_put(tree, "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages", NULL);
	topo_fails(tree, -ENOENT, "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages: No such file or directory");
	tree_rm(tree);
}

/* Readings that cannot be true: free above total in any pool (a node's memory, the host's
 * memory and swap, a hugetlb pool), MemAvailable above MemTotal, a node listed twice. Each is
 * refused naming the file and the line; equal is a true reading (an empty node, a pool whose
 * pages are all free). */
static void t_not_true(void **state)
{
	const char *m1 = "/sys/devices/system/node/node1/meminfo";
	const char *hp = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB";
	const char *tree = tree_copy("synth2");
	struct ns_topo *t;
	char path[256];

	(void)state;
	tree_sed(tree, m1, "s/MemFree: .*/MemFree:        4194305 kB/");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/node1/meminfo:2: MemFree 4194305 kB is more than "
				  "MemTotal 4194304 kB (line 1): not a true reading");
	tree_sed(tree, m1, "s/MemFree: .*/MemFree:        4194304 kB/");
	assert_int_equal(ns_topo_read(tree, &t), 0);
	assert_int_equal(ns_topo_find(t, 1)->mem_free, 4194304 * KB);
	ns_topo_free(t);
	/* the lines in another order: still the part's line, and the whole's */
	tree_put(tree, m1, "Node 1 MemFree: 2 kB\nNode 1 MemUsed: 0 kB\nNode 1 FilePages: 0 kB\n"
			   "Node 1 Active(file): 0 kB\nNode 1 Inactive(file): 0 kB\nNode 1 AnonPages: 0 kB\n"
			   "Node 1 Shmem: 0 kB\nNode 1 SReclaimable: 0 kB\nNode 1 MemTotal: 1 kB\n");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/node1/meminfo:1: MemFree 2 kB is more than "
				  "MemTotal 1 kB (line 9): not a true reading");
	tree_rm(tree);

	tree = tree_copy("synth2");
	tree_sed(tree, m1, "s/HugePages_Free: .*/HugePages_Free:      5/");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/node1/meminfo:11: HugePages_Free 5 is more than "
				  "HugePages_Total 4 (line 10): not a true reading");
	tree_sed(tree, m1, "s/HugePages_Free: .*/HugePages_Free:      4/;s/HugePages_Surp: .*/HugePages_Surp:      5/");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/node1/meminfo:12: HugePages_Surp 5 is more than "
				  "HugePages_Total 4 (line 10): not a true reading");
	tree_rm(tree);

	tree = tree_copy("synth2");
	tree_sed(tree, "/proc/meminfo", "s/^MemFree: .*/MemFree:         8388609 kB/");
	topo_fails(tree, -EINVAL, "/proc/meminfo:2: MemFree 8388609 kB is more than MemTotal 8388608 kB (line 1): "
				  "not a true reading");
	tree_sed(tree, "/proc/meminfo", "s/^MemFree: .*/MemFree:         4194304 kB/;s/^MemAvailable: .*/MemAvailable: 999999999999 kB/");
	topo_fails(tree, -EINVAL, "/proc/meminfo:3: MemAvailable 999999999999 kB is more than MemTotal 8388608 kB "
				  "(line 1): not a true reading");
	tree_sed(tree, "/proc/meminfo", "s/^MemAvailable: .*/MemAvailable: 5000000 kB/;s/^SwapFree: .*/SwapFree: 2097153 kB/");
	topo_fails(tree, -EINVAL, "/proc/meminfo:8: SwapFree 2097153 kB is more than SwapTotal 2097152 kB (line 7): "
				  "not a true reading");
	tree_sed(tree, "/proc/meminfo", "s/^SwapFree: .*/SwapFree: 2097152 kB/;$a HugePages_Total: 1\\nHugePages_Free: 2");
	topo_fails(tree, -EINVAL, "/proc/meminfo:10: HugePages_Free 2 is more than HugePages_Total 1 (line 9): "
				  "not a true reading");
	tree_sed(tree, "/proc/meminfo", "s/^HugePages_Free: .*/HugePages_Free: 1/");
	assert_int_equal(ns_topo_read(tree, &t), 0);
	assert_int_equal(ns_topo_hostmem(t)->swap_free, 2097152 * KB);
	ns_topo_free(t);
	tree_rm(tree);

	tree = tree_copy("synth2");
	snprintf(path, sizeof(path), "%s/free_hugepages", hp);
	tree_put(tree, path, "9\n");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/node0/hugepages/hugepages-2048kB: free_hugepages 9 is "
				  "more than nr_hugepages 8: not a true reading");
	tree_put(tree, path, "8\n");
	snprintf(path, sizeof(path), "%s/surplus_hugepages", hp);
	tree_put(tree, path, "9\n");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/node0/hugepages/hugepages-2048kB: surplus_hugepages 9 is "
				  "more than nr_hugepages 8: not a true reading");
	tree_put(tree, path, "0\n");
	assert_int_equal(ns_topo_read(tree, &t), 0);
	assert_int_equal(ns_topo_find(t, 0)->hpools[0].free, 8);
	ns_topo_free(t);

	/* a zone listed twice would count its watermarks twice */
	tree_put(tree, "/proc/zoneinfo", "Node 0, zone   Normal\n        min      1\n        low      2\n        high     3\n"
					  "Node 1, zone   Normal\n        min      1\n        low      2\n        high     3\n"
					  "Node 0, zone   Normal\n        min      1\n        low      2\n        high     3\n");
	topo_fails(tree, -EINVAL, "/proc/zoneinfo:9: node 0 zone Normal a second time (first at line 1)");
	tree_sed(tree, "/proc/zoneinfo", "9s/Normal/Movable/");
	assert_int_equal(ns_topo_read(tree, &t), 0);
	assert_int_equal(ns_topo_find(t, 0)->wmark_high, 6 * 4 * KB);
	ns_topo_free(t);

	/* a node listed twice is not the kernel's list (it writes each node once) */
	tree_put(tree, "/sys/devices/system/node/online", "0,0\n");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/online: '0,0' is not a node list");
	tree_put(tree, "/sys/devices/system/node/online", "0-1,1\n");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/online: '0-1,1' is not a node list");
	tree_put(tree, "/sys/devices/system/node/online", "0-1\n");
	assert_int_equal(ns_topo_read(tree, &t), 0);
	assert_int_equal(ns_topo_nr_nodes(t), 2);
	ns_topo_free(t);
	tree_rm(tree);
}

/* Nodes come from what exists: an online list naming nodes without a directory is an error
 * (it used to make 4096 nodes out of four directories). */
static void t_online_absurd(void **state)
{
	const char *tree = tree_copy("lab4");
	char want[8300];

	(void)state;
	tree_put(tree, "/sys/devices/system/node/online", "0-4095\n");
	snprintf(want, sizeof(want), "/sys/devices/system/node/online: node 4 is online but %s/sys/devices/system/node/node4 does not exist", tree);
	topo_fails(tree, -EINVAL, want);
	tree_put(tree, "/sys/devices/system/node/online", "0-1,3\n");
	{
		struct ns_topo *t;

		/* a subset of the directories is fine: node 2 is offline */
		assert_int_equal(ns_topo_read(tree, &t), 0);
		assert_int_equal(ns_topo_nr_nodes(t), 3);
		assert_null(ns_topo_find(t, 2));
		ns_topo_free(t);
	}
	tree_put(tree, "/sys/devices/system/node/online", "nodes\n");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/online: 'nodes' is not a node list");
	tree_put(tree, "/sys/devices/system/node/online", "\n");
	topo_fails(tree, -EINVAL, "/sys/devices/system/node/online: '' is not a node list");
	tree_rm(tree);
}

/* Headroom arithmetic saturates: a reserve of 2^64 - 1 leaves nothing, it does not wrap into
 * more headroom than a reserve of 1G. */
static void t_headroom_saturates(void **state)
{
	struct ns_topo *t;
	struct ns_fit fit;
	struct ns_amount huge = {.bytes = UINT64_MAX}, giga = {.bytes = 1ULL << 30};
	const struct ns_node *n1;
	struct ns_node n;

	(void)state;
	assert_int_equal(ns_topo_read(fixture("synth2"), &t), 0);
	n1 = ns_topo_find(t, 1);
	assert_int_equal(ns_node_headroom(n1, UINT64_MAX), 0);
	assert_true(ns_node_headroom(n1, 1ULL << 30) > 0);
	assert_int_equal(ns_fit_check(t, 1, 4096, &huge, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_BELOW_RESERVE);
	assert_int_equal(fit.floor, UINT64_MAX);
	assert_int_equal(fit.headroom, 0);
	assert_int_equal(ns_fit_check(t, 1, 4096, &giga, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_OK);
	/* just below the wrap: 2^64 - high watermark would have wrapped to 0 */
	assert_int_equal(ns_node_headroom(n1, UINT64_MAX - n1->wmark_high + 1), 0);
	/* a watermark near 2^64 (a hand-built node) does not wrap either */
	n = *n1;
	n.wmark_high = UINT64_MAX - 10;
	assert_int_equal(ns_node_headroom(&n, 256ULL << 20), 0);
	/* hugetlb: 2^53 pages of 2 MiB is 2^74 bytes, which wrapped to 0 and "fit" */
	assert_int_equal(ns_fit_check_huge(t, 0, 2 * MB, 1ULL << 43, &fit), 0);
	assert_int_equal(fit.reason, NS_FIT_HUGETLB_SHORT);
	assert_int_equal(fit.want, UINT64_MAX);
	ns_topo_free(t);
}

/* PSI: only the kernel's exact shape parses; values out of range are errors. */
static void t_psi_bad(void **state)
{
	static const struct {
		const char *text;
		int err;
	} cases[] = {
		{"", -EINVAL},
		{"\n", -EINVAL},
		{"garbage\n", -EINVAL},
		{"some avg10=0x10 avg60=0.00 avg300=0.00 total=0\n", -EINVAL},
		{"some avg10=1e1 avg60=0.00 avg300=0.00 total=0\n", -EINVAL},
		{"some avg10=-1.00 avg60=0.00 avg300=0.00 total=0\n", -EINVAL},
		{"some avg10=inf avg60=0.00 avg300=0.00 total=0\n", -EINVAL},
		{"some avg10=nan avg60=0.00 avg300=0.00 total=0\n", -EINVAL},
		{"some avg10=100.01 avg60=0.00 avg300=0.00 total=0\n", -ERANGE},
		{"some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n", -EINVAL},
		{"some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551616\n", -ERANGE},
		{"some avg10=0.00 avg60=0.00 avg300=0.00\n", -EINVAL},
		{"some avg10=0.00 avg60=0.00 avg300=0.00 total=0 more=1\n", -EINVAL},
		{"some avg10=0.00  avg60=0.00 avg300=0.00 total=0\n", -EINVAL},
		{"some avg60=0.00 avg10=0.00 avg300=0.00 total=0\n", -EINVAL},
		{"some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nsome avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", -EINVAL},
		{"some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n\n", -EINVAL},
		{"full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", -EINVAL},
	};
	const char *tree;
	struct ns_psi p;
	char want[8300];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = ns_psi_parse(cases[i].text, &p);

		if (rc != cases[i].err)
			fail_msg("case %zu: %d, want %d", i, rc, cases[i].err);
		assert_non_null(ns_error_detail());
	}
	assert_int_equal(ns_psi_parse("some avg10=100.00 avg60=0.00 avg300=0.00 total=18446744073709551615\n", &p), 0);
	assert_true(p.some.avg10 == 100.0);
	assert_int_equal(p.some.total, UINT64_MAX);
	assert_null(ns_error_detail());
	tree = tree_copy("synth2");
	tree_put(tree, "/proc/pressure/memory", "some avg10=1.50 avg60=0.75 avg300=0.10 total=123456\nfull avg10=x\n");
	assert_int_equal(ns_psi_read(tree, &p), -EINVAL);
	snprintf(want, sizeof(want), "%s/proc/pressure/memory:2: avg10= expected", tree);
	assert_string_equal(ns_error_detail(), want);
	tree_put(tree, "/proc/pressure/memory", NULL);
	assert_int_equal(ns_psi_read(tree, &p), -ENOENT);
	snprintf(want, sizeof(want),
		 "%s/proc/pressure/memory: No such file or directory: PSI is not available (a kernel without "
		 "CONFIG_PSI, or booted with psi=0)",
		 tree);
	assert_string_equal(ns_error_detail(), want);
	tree_rm(tree);
}

/* The PSI watch fails closed: a run that watches PSI does not start without it, and a reading
 * that fails in the middle stops it as pressure would (it used to read as "fine"). */
static void t_throttle_psi(void **state)
{
	const char *tree = tree_copy("synth2");
	struct ns_throttle thr;

	(void)state;
	assert_int_equal(ns_throttle_init(&thr, tree, 0, 10.0, 0.0, NULL), 0);
	assert_true(ns_throttle_psi_ok(&thr)); /* avg10 1.5 <= 10 */
	thr.psi_ok_at = 0;		       /* no trusting the last reading */
	tree_put(tree, "/proc/pressure/memory", NULL);
	assert_false(ns_throttle_psi_ok(&thr));
	assert_int_equal(thr.psi_err, -ENOENT);
	assert_non_null(ns_error_detail());
	tree_put(tree, "/proc/pressure/memory", "some avg10=0x1 avg60=0 avg300=0 total=0\n");
	assert_false(ns_throttle_psi_ok(&thr));
	assert_int_equal(thr.psi_err, -EINVAL);
	/* not watching PSI: no reading needed */
	assert_int_equal(ns_throttle_init(&thr, tree, 0, 0.0, 0.0, NULL), 0);
	assert_true(ns_throttle_psi_ok(&thr));
	/* watching: the first reading must work */
	assert_int_equal(ns_throttle_init(&thr, tree, 0, 10.0, 0.0, NULL), -EINVAL);
	tree_put(tree, "/proc/pressure/memory", NULL);
	assert_int_equal(ns_throttle_init(&thr, tree, 0, 10.0, 0.0, NULL), -ENOENT);
	tree_rm(tree);
}

/* The stall watch's arithmetic: calm is below max_psi% of the time since, for every file. */
static void t_stall_calm(void **state)
{
	const uint64_t base[2] = {1000, 5000}, blip[2] = {2000, 5000}, back[2] = {999, 5000};

	(void)state;
	/* 1 ms of stall: at 10% calm only after 10 ms */
	assert_false(ns_stall_calm(base, blip, 2, 0.009, 10.0));
	assert_false(ns_stall_calm(base, blip, 2, 0.010, 10.0));
	assert_true(ns_stall_calm(base, blip, 2, 0.011, 10.0));
	assert_true(ns_stall_calm(base, base, 2, 0.001, 10.0));
	/* the second file alone decides too */
	assert_false(ns_stall_calm(blip, (const uint64_t[]){2000, 6000}, 2, 0.009, 10.0));
	/* a total that went back, or no time: not calm */
	assert_false(ns_stall_calm(base, back, 2, 1.0, 10.0));
	assert_false(ns_stall_calm(base, base, 2, 0.0, 10.0));
	assert_false(ns_stall_calm(base, base, 2, -1.0, 10.0));
	/* saturated totals do not wrap into calm */
	assert_false(ns_stall_calm((const uint64_t[]){0}, (const uint64_t[]){UINT64_MAX}, 1, 1e6, 10.0));
}

/* The stall over the last window, from the kept samples: what a trigger would fire on. */
static void t_stall_window(void **state)
{
	static struct ns_stall_hist h;
	uint64_t tot[2] = {0, 0}, cur[2];

	(void)state;
	/* no samples: no judgement */
	cur[0] = cur[1] = 1000000;
	assert_false(ns_stall_window_over(&h, 2, cur, 1.0, 0.5, 10.0));
	/* a sample every 2.5 ms is kept every 5 ms (4 ms apart at least) */
	for (int k = 0; k <= 400; k++) {
		tot[0] = (uint64_t)k * 125; /* 5% stall on the first file */
		ns_stall_hist_push(&h, 2, 1.0 + k * 0.0025, tot);
	}
	assert_int_equal(h.n, 201);
	/* at 2.0 s, the window (1.5, 2.0]: 5% of 0.5 s = 25 ms of stall, under 10% */
	cur[0] = 50000;
	cur[1] = 0;
	assert_false(ns_stall_window_over(&h, 2, cur, 2.0, 0.5, 10.0));
	/* 30 ms more since the last sample: 55 ms in the window, at or over 50 */
	cur[0] = 80000;
	assert_true(ns_stall_window_over(&h, 2, cur, 2.0, 0.5, 10.0));
	/* over 5%: 25 ms */
	cur[0] = 50000;
	assert_true(ns_stall_window_over(&h, 2, cur, 2.0, 0.5, 5.0));
	/* the second file alone */
	cur[1] = 60000;
	assert_true(ns_stall_window_over(&h, 2, cur, 2.0, 0.5, 10.0));
	/* a total that went back: over (fail closed) */
	cur[1] = 0;
	cur[0] = 1;
	assert_true(ns_stall_window_over(&h, 2, cur, 2.0, 0.5, 10.0));
	/* every sample older than the window (a long call between looks): the stall since
	 * the newest is spread evenly over the time since. 60 ms in 1 s: 30 ms a window */
	cur[0] = 50000 + 60000;
	assert_false(ns_stall_window_over(&h, 2, cur, 3.0, 0.5, 10.0));
	cur[0] = 50000 + 120000; /* 60 ms a window */
	assert_true(ns_stall_window_over(&h, 2, cur, 3.0, 0.5, 10.0));
	/* no samples at all: no judgement */
	{
		static struct ns_stall_hist empty;

		assert_false(ns_stall_window_over(&empty, 2, cur, 3.0, 0.5, 10.0));
	}
	/* the ring keeps the newest 512 */
	for (int k = 0; k < 2000; k++)
		ns_stall_hist_push(&h, 2, 10.0 + k * 0.005, tot);
	assert_int_equal(h.n, NS_STALL_HISTORY);
}

/* A stall that came during a long call (looks 1 s apart) is judged over the window as the
 * kernel's trigger would, spread evenly: 120 ms in 1 s is 60 ms a window, pressure. It used
 * to be held for a window and let go. */
static void t_throttle_long_gap(void **state)
{
	const char *tree = tree_copy("synth2");
	struct ns_throttle thr;

	(void)state;
	tree_put(tree, "/proc/pressure/memory", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1000000\n");
	assert_int_equal(ns_throttle_init(&thr, tree, 0, 10.0, 0.0, NULL), 0);
	assert_int_equal(ns_throttle_stall_watch(&thr, "/proc/pressure/memory"), 0);
	assert_true(ns_throttle_psi_ok(&thr)); /* a first look, kept in the history */
	assert_int_equal(thr.hist->n, 1);
	thr.hist->s[0].t -= 1.0; /* as if a call of 1 s came after it */
	thr.stall_at -= 1.0;
	thr.psi_ok_at = 0;
	tree_put(tree, "/proc/pressure/memory", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1120000\n");
	assert_false(ns_throttle_psi_ok(&thr));
	assert_int_equal(thr.psi_err, 0);
	assert_int_equal(thr.holds, 1);
	ns_throttle_fini(&thr);
	tree_rm(tree);
}

/* A steady stall under the limit: 5% (100 us every 2 ms), growing at every look. */
struct steady {
	int fd;
	volatile int stop;
};

static void *steady_main(void *arg)
{
	struct steady *st = arg;
	unsigned long long total = 0;
	char line[128];

	while (!st->stop) {
		/* one pwrite of a fixed width: a reader never sees a short file */
		int len = snprintf(line, sizeof(line), "some avg10=0.00 avg60=0.00 avg300=0.00 total=%016llu\n", total);

		if (pwrite(st->fd, line, (size_t)len, 0) != len)
			break;
		total += 100;
		usleep(2000);
	}
	return NULL;
}

/* A stall that runs on under the limit is moved through: the hold measures its rate for
 * 50 ms and lets go, where "wait until it stops" would have held a whole window and then
 * (it used to) called it pressure, stopping a --psi-grace 0 run at 5% against 10%. */
static void t_throttle_steady(void **state)
{
	const char *tree = tree_copy("synth2");
	char path[4200];
	struct ns_throttle thr;
	struct steady st = {.stop = 0};
	pthread_t th;

	(void)state;
	snprintf(path, sizeof(path), "%s/proc/pressure/memory", tree);
	tree_put(tree, "/proc/pressure/memory", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0000000000000000\n");
	st.fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(st.fd >= 0);
	assert_int_equal(ns_throttle_init(&thr, tree, 0, 10.0, 0.0, NULL), 0);
	assert_int_equal(ns_throttle_stall_watch(&thr, "/proc/pressure/memory"), 0);
	assert_int_equal(pthread_create(&th, NULL, steady_main, &st), 0);
	usleep(20000);
	for (int i = 0; i < 5; i++) {
		assert_true(ns_throttle_psi_ok(&thr)); /* grace 0: false would be a stop */
		usleep(5000);
	}
	st.stop = 1;
	pthread_join(th, NULL);
	close(st.fd);
	assert_true(thr.holds >= 1);
	assert_true(thr.psi_first == 0);
	assert_int_equal(thr.psi_err, 0);
	ns_throttle_fini(&thr);
	tree_rm(tree);
}

/* The stall watch on a file: growth holds, a blip ends calm, a stall held for a window is
 * pressure, a file that stops parsing stops the run (fail closed). The real kernel's totals are
 * proven in the lab (migrate.bats, pressure mid-move). */
static void t_throttle_stall(void **state)
{
	const char *tree = tree_copy("synth2");
	struct ns_throttle thr;

	(void)state;
	assert_int_equal(ns_throttle_init(&thr, tree, 0, 10.0, 0.0, NULL), 0);
	assert_int_equal(ns_throttle_stall_watch(&thr, "/proc/pressure/memory"), 0);
	assert_int_equal(thr.nstall, 1);
	assert_int_equal(thr.stall_last[0], 123456);
	assert_true(ns_throttle_psi_ok(&thr));
	assert_int_equal(thr.holds, 0);
	assert_true(thr.psi_first == 0);
	/* 1 ms of stall since: held, then calm */
	tree_put(tree, "/proc/pressure/memory", "some avg10=1.50 avg60=0.75 avg300=0.10 total=124456\n");
	assert_true(ns_throttle_psi_ok(&thr));
	assert_int_equal(thr.holds, 1);
	assert_true(thr.held > 0);
	assert_true(thr.hold_first > 0);
	assert_true(thr.psi_first == 0); /* a hold that ends calm is no pressure */
	assert_int_equal(thr.stall_last[0], 124456);
	assert_true(ns_throttle_psi_ok(&thr));
	assert_int_equal(thr.holds, 1);
	/* 10 s more: above 10% for the whole window, pressure (grace 0: stop) */
	tree_put(tree, "/proc/pressure/memory", "some avg10=1.50 avg60=0.75 avg300=0.10 total=10124456\n");
	assert_false(ns_throttle_psi_ok(&thr));
	assert_int_equal(thr.holds, 2);
	assert_int_equal(thr.psi_err, 0);
	assert_true(thr.psi_first > 0);
	/* a watched file that stops parsing: stop, with the error */
	thr.trig_at = 0;
	tree_put(tree, "/proc/pressure/memory", "some avg10=1.50 avg60=0.75 avg300=0.10 total=x\n");
	assert_false(ns_throttle_psi_ok(&thr));
	assert_int_equal(thr.psi_err, -EINVAL);
	ns_throttle_fini(&thr);
	assert_int_equal(thr.nstall, 0);
	/* damaged at the start: no run; then a directory or a missing file is no stall watch */
	assert_int_equal(ns_throttle_init(&thr, tree, 0, 10.0, 0.0, NULL), -EINVAL);
	tree_put(tree, "/proc/pressure/memory", "some avg10=0 avg60=0 avg300=0 total=0\n");
	assert_int_equal(ns_throttle_init(&thr, tree, 0, 10.0, 0.0, NULL), 0);
	assert_int_equal(ns_throttle_stall_watch(&thr, "/proc"), -EINVAL);
	assert_int_equal(ns_throttle_stall_watch(&thr, "/proc/pressure/none"), -ENOENT);
	assert_int_equal(thr.nstall, 0);
	/* PSI not watched: no stall watch either */
	assert_int_equal(ns_throttle_init(&thr, tree, 0, 0.0, 0.0, NULL), 0);
	assert_int_equal(ns_throttle_stall_watch(&thr, "/proc/pressure/memory"), -EINVAL);
	tree_rm(tree);
}

/* Kernel PSI triggers: the bounds the kernel would refuse are refused here with a reason; a
 * fixture file takes a trigger (a regular file) but never fires. */
static void t_psi_trigger_open(void **state)
{
	const char *tree = tree_copy("synth2");
	unsigned fired, broken;
	int fd;

	(void)state;
	assert_int_equal(ns_psi_trigger_open(tree, "/proc/pressure/memory", 100000, 400000, &fd), -EINVAL);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(ns_error_detail(), "no trigger of 100000 us in 400000 us"));
	assert_int_equal(ns_psi_trigger_open(tree, "/proc/pressure/memory", 0, 1000000, &fd), -EINVAL);
	assert_int_equal(ns_psi_trigger_open(tree, "/proc/pressure/memory", 1000001, 1000000, &fd), -EINVAL);
	assert_int_equal(ns_psi_trigger_open(tree, "/proc/pressure/memory", 1, 10000001, &fd), -EINVAL);
	assert_int_equal(ns_psi_trigger_open(tree, "/sys/fs/cgroup/vm/memory.pressure", 100000, 1000000, &fd), -ENOENT);
	assert_int_equal(fd, -1);
	assert_int_equal(ns_psi_trigger_open(tree, "/proc/pressure/memory", 100000, 1000000, &fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(ns_psi_trigger_wait(&fd, 1, 0, &fired, &broken), 0);
	assert_int_equal(fired | broken, 0);
	close(fd);
	tree_rm(tree);
}

/* A trigger event is pressure now, whatever avg10 says: it pauses (or, past the grace, stops)
 * the run at once and ends a pacing wait early; two windows without one are calm again. A
 * trigger that reports an error is dropped, not taken for pressure. Events are stood in for
 * by out-of-band data on a socket, which polls as POLLPRI as the kernel's triggers do. */
static void t_throttle_trigger(void **state)
{
	const char *tree = tree_copy("synth2");
	struct ns_throttle thr;
	int sv[2];
	char c;
	double t0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (send(sv[1], "x", 1, MSG_OOB) != 1) {
		close(sv[0]);
		close(sv[1]);
		tree_rm(tree);
		skip(); /* no AF_UNIX out-of-band data in this kernel */
	}
	assert_int_equal(recv(sv[0], &c, 1, MSG_OOB), 1);
	/* grace 0: pressure stops at once */
	assert_int_equal(ns_throttle_init(&thr, tree, 0, 10.0, 0.0, NULL), 0);
	thr.trig_fd[0] = sv[0];
	thr.ntrig = 1;
	thr.trig_window = 0.1;
	assert_true(ns_throttle_psi_ok(&thr)); /* avg10 1.5, no event */
	assert_int_equal(send(sv[1], "x", 1, MSG_OOB), 1);
	/* trusted reading of a moment ago or not, the event is looked at */
	assert_false(ns_throttle_psi_ok(&thr));
	assert_true(thr.trig_events >= 1);
	assert_true(thr.psi_first > 0);
	/* an event while pacing ends the wait: nothing sent, nothing taken */
	thr.rate = 1000000;
	thr.tokens = 0;
	thr.t_tokens = ns_now();
	t0 = ns_now();
	assert_false(ns_throttle_pace_watch(&thr, 500000)); /* 0.5 s of tokens */
	assert_true(ns_now() - t0 < 0.25);
	assert_int_equal(recv(sv[0], &c, 1, MSG_OOB), 1);
	/* no event: the wait runs its course */
	thr.tokens = 0;
	thr.t_tokens = ns_now();
	t0 = ns_now();
	assert_true(ns_throttle_pace_watch(&thr, 100000));
	assert_true(ns_now() - t0 >= 0.09);
	/* with a grace longer than two windows, one event is waited out, then calm */
	thr.grace = 5.0;
	thr.psi_since = 0;
	thr.trig_at = ns_now(); /* an event just now, already taken from the socket */
	thr.trig_new = true;
	t0 = ns_now();
	assert_true(ns_throttle_psi_ok(&thr));
	assert_true(ns_now() - t0 >= 0.15); /* held for two windows of 0.1 s */
	/* the other end gone: an error, not pressure; the trigger is dropped */
	close(sv[1]);
	thr.psi_ok_at = 0;
	thr.grace = 0;
	assert_true(ns_throttle_psi_ok(&thr));
	assert_int_equal(thr.ntrig, 0);
	ns_throttle_fini(&thr);
	tree_rm(tree);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_synth2),   cmocka_unit_test(t_headroom), cmocka_unit_test(t_captured),
		cmocka_unit_test(t_missing),  cmocka_unit_test(t_psi),	    cmocka_unit_test(t_zoneinfo_bad),
		cmocka_unit_test(t_meminfo_bad), cmocka_unit_test(t_not_true), cmocka_unit_test(t_online_absurd), cmocka_unit_test(t_headroom_saturates),
		cmocka_unit_test(t_psi_bad),     cmocka_unit_test(t_throttle_psi), cmocka_unit_test(t_stall_calm), cmocka_unit_test(t_stall_window), cmocka_unit_test(t_throttle_stall), cmocka_unit_test(t_throttle_steady), cmocka_unit_test(t_throttle_long_gap), cmocka_unit_test(t_psi_trigger_open),
		cmocka_unit_test(t_throttle_trigger),
	};

	return cmocka_run_group_tests_name("topo", tests, NULL, NULL);
}
