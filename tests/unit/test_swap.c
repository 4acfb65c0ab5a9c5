/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: /proc/swaps parsing and fitting pagemap swap types to its lines; fast-swapoff's
 * preflight on a fixture tree (saturating sums, cgroup limits that do not parse). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "numasafe/numasafe.h"
#include "numasafe/swapoff.h"
#include "unit.h"

static void t_read(void **state)
{
	struct ns_swaps s;

	(void)state;
	assert_int_equal(ns_swaps_read(fixture("synth2"), &s), 0);
	assert_int_equal(s.nr, 2);
	assert_string_equal(s.area[0].path, "/dev/vdb");
	assert_string_equal(s.area[0].kind, "partition");
	assert_int_equal(s.area[0].size, 1048572ULL * 1024);
	assert_int_equal(s.area[0].used, 524288ULL * 1024);
	assert_int_equal(s.area[0].priority, -3);
	assert_int_equal(s.area[0].type, -1);
	assert_string_equal(s.area[1].path, "/var/swap file");
	assert_int_equal(s.area[1].priority, 5);
	assert_int_equal(ns_swaps_find(&s, "/var/swap file"), 1);
	assert_int_equal(ns_swaps_find(&s, "/dev/nope"), -ENOENT);
	assert_int_equal(ns_swaps_read(fixture("host1"), &s), 0);
	assert_int_equal(s.nr, 0);
}

/* n areas of the given sizes (pages), all in use */
static void mk(struct ns_swaps *s, int n, const uint64_t *pages)
{
	memset(s, 0, sizeof(*s));
	s->nr = n;
	for (int i = 0; i < n; i++) {
		snprintf(s->area[i].path, sizeof(s->area[i].path), "/dev/vd%c", 'a' + i);
		s->area[i].size = pages[i] * 4096;
		s->area[i].used = 4096;
		s->area[i].type = -1;
	}
}

static void see(struct ns_swap_evidence *ev, int type, uint64_t max_off)
{
	ev->page_size = 4096;
	ev->type[type].pages++;
	if (max_off > ev->type[type].max_offset)
		ev->type[type].max_offset = max_off;
}

static void t_assign(void **state)
{
	static const uint64_t big[3] = {1 << 20, 1 << 20, 1 << 20};
	static const uint64_t small_first[2] = {100, 1 << 20};
	struct ns_swap_evidence ev;
	struct ns_swaps s;

	(void)state;
	/* one line left after area 0 was swapped off: its pages say type 1, so it is type 1 */
	mk(&s, 1, big);
	memset(&ev, 0, sizeof(ev));
	see(&ev, 1, 50);
	assert_int_equal(ns_swap_assign(&s, &ev), 0);
	assert_int_equal(s.area[0].type, 1);
	assert_string_equal(s.area[0].type_how, "pagemap");

	/* two lines, types 1 and 2 seen: the order fixes both (line index would say 0 and 1) */
	mk(&s, 2, big);
	memset(&ev, 0, sizeof(ev));
	see(&ev, 1, 5);
	see(&ev, 2, 5);
	assert_int_equal(ns_swap_assign(&s, &ev), 0);
	assert_int_equal(s.area[0].type, 1);
	assert_int_equal(s.area[1].type, 2);

	/* two lines, only type 2 seen: either could be it; nothing is guessed */
	mk(&s, 2, big);
	memset(&ev, 0, sizeof(ev));
	see(&ev, 2, 5);
	assert_int_equal(ns_swap_assign(&s, &ev), 0);
	assert_int_equal(s.area[0].type, -1);
	assert_int_equal(s.area[1].type, -1);

	/* ... unless size settles it: offset 5000 cannot be on a 100-page area */
	mk(&s, 2, small_first);
	memset(&ev, 0, sizeof(ev));
	see(&ev, 2, 5000);
	assert_int_equal(ns_swap_assign(&s, &ev), 0);
	assert_int_equal(s.area[0].type, -1);
	assert_int_equal(s.area[1].type, 2);

	/* type 0 seen with two lines: only the first line can be type 0 */
	mk(&s, 2, big);
	memset(&ev, 0, sizeof(ev));
	see(&ev, 0, 5);
	assert_int_equal(ns_swap_assign(&s, &ev), 0);
	assert_int_equal(s.area[0].type, 0);
	assert_int_equal(s.area[1].type, -1);

	/* three types seen, three lines: fully determined whatever the gaps */
	mk(&s, 3, big);
	memset(&ev, 0, sizeof(ev));
	see(&ev, 0, 1);
	see(&ev, 4, 1);
	see(&ev, 9, 1);
	assert_int_equal(ns_swap_assign(&s, &ev), 0);
	assert_int_equal(s.area[0].type, 0);
	assert_int_equal(s.area[1].type, 4);
	assert_int_equal(s.area[2].type, 9);

	/* more types seen than lines: /proc/swaps changed under us */
	mk(&s, 1, big);
	memset(&ev, 0, sizeof(ev));
	see(&ev, 0, 1);
	see(&ev, 1, 1);
	assert_int_equal(ns_swap_assign(&s, &ev), -EAGAIN);

	/* an unused area cannot own swapped pages */
	mk(&s, 2, big);
	s.area[0].used = 0;
	memset(&ev, 0, sizeof(ev));
	see(&ev, 3, 1);
	assert_int_equal(ns_swap_assign(&s, &ev), 0);
	assert_int_equal(s.area[1].type, 3);
}


/* ns_swaps_read on the tree must fail with err and name the file (and line) as want. */
static void swaps_fail(const char *tree, const char *text, int err, const char *want)
{
	struct ns_swaps s;
	char full[8300];
	int rc;

	tree_put(tree, "/proc/swaps", text);
	rc = ns_swaps_read(tree, &s);
	if (rc != err)
		fail_msg("'%s': %d, want %d", text ? text : "(no file)", rc, err);
	assert_int_equal(s.nr, 0);
	snprintf(full, sizeof(full), "%s%s", tree, want);
	if (!ns_error_detail() || strcmp(ns_error_detail(), full) != 0)
		fail_msg("detail '%s', want '%s'", ns_error_detail() ? ns_error_detail() : "(none)", full);
}

#define HDR "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"

static void t_read_bad(void **state)
{
	const char *tree = tree_copy("synth2");
	struct ns_swaps s;
	char many[64 * 40 + 100];

	(void)state;
	swaps_fail(tree, NULL, -ENOENT, "/proc/swaps: No such file or directory");
	swaps_fail(tree, "", -EINVAL, "/proc/swaps: empty, no header line");
	swaps_fail(tree, "/dev/vdb partition 1 0 -2\n", -EINVAL,
		   "/proc/swaps:1: not the \"Filename Type Size Used Priority\" header");
	swaps_fail(tree, HDR "/dev/vdb partition 100 0\n", -EINVAL, "/proc/swaps:2: not \"Filename Type Size Used Priority\"");
	swaps_fail(tree, HDR "/dev/vdb partition 100 0 -2 x\n", -EINVAL, "/proc/swaps:2: not \"Filename Type Size Used Priority\"");
	swaps_fail(tree, HDR "/dev/vdb partition -1 0 -2\n", -EINVAL, "/proc/swaps:2: Size: '-1' kB is not a number");
	swaps_fail(tree, HDR "/dev/vdb partition 100 0x10 -2\n", -EINVAL, "/proc/swaps:2: Used: '0x10' kB is not a number");
	swaps_fail(tree, HDR "/dev/vdb partition 99999999999999999999999 0 -2\n", -ERANGE,
		   "/proc/swaps:2: Size: '99999999999999999999999' kB is out of range");
	swaps_fail(tree, HDR "/dev/vdb partition 18014398509481984 0 -2\n", -ERANGE,
		   "/proc/swaps:2: Size: '18014398509481984' kB is out of range");
	swaps_fail(tree, HDR "/dev/vdb partition 100 200 -2\n", -EINVAL, "/proc/swaps:2: Used is more than Size");
	swaps_fail(tree, HDR "/dev/vdb partition 100 0 high\n", -EINVAL,
		   "/proc/swaps:2: Priority: 'high' is not a number from -32768 to 32767");
	swaps_fail(tree, HDR "/dev/vdb partition 100 0 -32769\n", -ERANGE,
		   "/proc/swaps:2: Priority: '-32769' is not a number from -32768 to 32767");
	strcpy(many, HDR);
	for (int i = 0; i <= NS_MAX_SWAPFILES; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "/dev/zram%d partition 100 0 -2\n", i);
	swaps_fail(tree, many, -ERANGE, "/proc/swaps:34: more than 32 swap areas");
	/* the limits themselves read */
	tree_put(tree, "/proc/swaps", HDR "/dev/vdb partition 18014398509481983 18014398509481983 -32768\n");
	assert_int_equal(ns_swaps_read(tree, &s), 0);
	assert_int_equal(s.area[0].size, 18014398509481983ULL * 1024);
	assert_int_equal(s.area[0].priority, -32768);
	tree_rm(tree);
}

/* A pagemap for the fixture's pid 4242: 16 pages of its heap swapped, 8 on type 0 and 8 on
 * type 1 (so both areas' types are known), sparse up to the end of its highest mapping. */
static void put_pagemap(const char *tree)
{
	const uint64_t heap = 0x55d0c9b3e000ULL, top = 0x7ffcf7966000ULL;
	char path[8300];
	int fd;

	snprintf(path, sizeof(path), "%s/proc/4242/pagemap", tree);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	for (uint64_t i = 0; i < 16; i++) {
		uint64_t e = (1ULL << 62) | ((i % 8 + 1) << 5) | (i / 8);

		assert_int_equal(pwrite(fd, &e, sizeof(e), (off_t)((heap / 4096 + i) * 8)), sizeof(e));
	}
	assert_int_equal(ftruncate(fd, (off_t)(top / 4096 * 8)), 0);
	close(fd);
}

/* proc_bytes + other + reserve wrapped: a reserve of 2^64 - 1 made a 512 MiB area "fit" in
 * 4.8 GiB of MemAvailable. */
static void t_preflight_reserve_saturates(void **state)
{
	const char *tree = tree_copy("synth2");
	struct ns_amount huge = {.bytes = UINT64_MAX}, giga = {.bytes = 1ULL << 30};
	struct ns_so_plan *plan = NULL;
	struct ns_so_opts o;

	(void)state;
	if (sysconf(_SC_PAGESIZE) != 4096)
		skip();
	put_pagemap(tree);
	ns_so_opts_init(&o);
	o.root = tree;
	o.reserve = &giga;
	assert_int_equal(ns_so_preflight(&o, "/dev/vdb", &plan), 0);
	assert_int_equal(plan->type, 0);
	assert_int_equal(plan->proc_bytes, 8 * 4096);
	assert_int_equal(plan->proc_bytes + plan->other, 524288ULL * 1024);
	assert_true(plan->fits);
	ns_so_plan_free(plan);
	o.reserve = &huge;
	assert_int_equal(ns_so_preflight(&o, "/dev/vdb", &plan), 0);
	assert_false(plan->fits);
	assert_int_equal(plan->shortfall, UINT64_MAX - 5000000ULL * 1024);
	ns_so_plan_free(plan);
	tree_rm(tree);
}

/* The meminfo of synth2 with SwapCached set (SwapTotal 2 GiB, SwapFree 1 GiB: 1 GiB used). */
static void put_swapcached(const char *tree, const char *cached_kb)
{
	char path[8300], cmd[8400];

	snprintf(path, sizeof(path), "%s/proc/meminfo", tree);
	snprintf(cmd, sizeof(cmd), "sed -i 's/^SwapCached:.*/SwapCached: %s kB/' '%s'", cached_kb, path);
	assert_int_equal(system(cmd), 0);
}

/* Nearly all used swap in the swap cache, swapoff(2) to follow: no process is scanned, and
 * the verdict weighs only the uncached part (SwapTotal - SwapFree - SwapCached) and the
 * reserve. Anything else (16 MiB + 1 kB uncached, --pid, no swapoff, scan_always) scans. */
static void t_preflight_cached_only(void **state)
{
	const char *tree = tree_copy("synth2");
	struct ns_amount huge = {.bytes = UINT64_MAX};
	struct ns_so_plan *plan = NULL;
	struct ns_so_opts o;
	pid_t pid = 4242;

	(void)state;
	if (sysconf(_SC_PAGESIZE) != 4096)
		skip();
	put_pagemap(tree);
	ns_so_opts_init(&o);
	o.root = tree;
	o.then_swapoff = true;
	put_swapcached(tree, "1032192"); /* 1 GiB - 16 MiB */
	assert_int_equal(ns_so_preflight(&o, "/dev/vdb", &plan), 0);
	assert_true(plan->cached_only);
	assert_int_equal(plan->uncached, 16ULL << 20);
	assert_int_equal(plan->nprocs, 0);
	assert_int_equal(plan->proc_bytes, 0);
	assert_int_equal(plan->type, -1);
	assert_int_equal(plan->other, 524288ULL * 1024);
	assert_true(plan->fits);
	ns_so_plan_free(plan);
	/* the reserve still counts, saturating */
	o.reserve = &huge;
	assert_int_equal(ns_so_preflight(&o, "/dev/vdb", &plan), 0);
	assert_true(plan->cached_only);
	assert_false(plan->fits);
	assert_int_equal(plan->shortfall, UINT64_MAX - 5000000ULL * 1024);
	ns_so_plan_free(plan);
	o.reserve = NULL;
	/* one kB more outside the cache: every process is looked at */
	put_swapcached(tree, "1032191");
	assert_int_equal(ns_so_preflight(&o, "/dev/vdb", &plan), 0);
	assert_false(plan->cached_only);
	assert_int_equal(plan->nprocs, 1);
	assert_int_equal(plan->type, 0);
	ns_so_plan_free(plan);
	put_swapcached(tree, "1048576");
	o.scan_always = true;
	assert_int_equal(ns_so_preflight(&o, "/dev/vdb", &plan), 0);
	assert_false(plan->cached_only);
	ns_so_plan_free(plan);
	o.scan_always = false;
	o.then_swapoff = false;
	assert_int_equal(ns_so_preflight(&o, "/dev/vdb", &plan), 0);
	assert_false(plan->cached_only);
	ns_so_plan_free(plan);
	o.then_swapoff = true;
	o.pids = &pid;
	o.npids = 1;
	assert_int_equal(ns_so_preflight(&o, "/dev/vdb", &plan), 0);
	assert_false(plan->cached_only);
	assert_int_equal(plan->proc_bytes, 8 * 4096);
	ns_so_plan_free(plan);
	tree_rm(tree);
}

/* A memory cgroup limit that does not parse stops the preflight (it read as no limit, or 0). */
static void t_preflight_cgroup_bad(void **state)
{
	const char *tree = tree_copy("synth2");
	const char *cg = "/sys/fs/cgroup/vm.slice/web";
	struct ns_so_plan *plan = NULL;
	struct ns_so_opts o;
	char path[8300], want[8300];

	(void)state;
	if (sysconf(_SC_PAGESIZE) != 4096)
		skip();
	put_pagemap(tree);
	tree_put(tree, "/proc/4242/cgroup", "0::/vm.slice/web\n");
	snprintf(path, sizeof(path), "mkdir -p '%s%s'", tree, cg);
	assert_int_equal(system(path), 0);
	ns_so_opts_init(&o);
	o.root = tree;
	/* a limit with little room: named as the tight cgroup */
	tree_put(tree, "/sys/fs/cgroup/vm.slice/web/memory.max", "1048576\n");
	tree_put(tree, "/sys/fs/cgroup/vm.slice/web/memory.current", "1044480\n");
	assert_int_equal(ns_so_preflight(&o, "/dev/vdb", &plan), 0);
	assert_false(plan->fits);
	assert_non_null(plan->tight);
	assert_string_equal(plan->tight->path, "/vm.slice/web");
	assert_int_equal(plan->tight->swapped, 8 * 4096);
	ns_so_plan_free(plan);
	/* "max" is no limit */
	tree_put(tree, "/sys/fs/cgroup/vm.slice/web/memory.max", "max\n");
	assert_int_equal(ns_so_preflight(&o, "/dev/vdb", &plan), 0);
	assert_null(plan->tight);
	ns_so_plan_free(plan);
	/* damaged: errors naming the file */
	tree_put(tree, "/sys/fs/cgroup/vm.slice/web/memory.max", "-1\n");
	assert_int_equal(ns_so_preflight(&o, "/dev/vdb", &plan), -EINVAL);
	snprintf(want, sizeof(want), "%s%s/memory.max: '-1' is not \"max\" or a number of bytes", tree, cg);
	assert_string_equal(ns_error_detail(), want);
	tree_put(tree, "/sys/fs/cgroup/vm.slice/web/memory.max", "maximum\n");
	assert_int_equal(ns_so_preflight(&o, "/dev/vdb", &plan), -EINVAL);
	tree_put(tree, "/sys/fs/cgroup/vm.slice/web/memory.max", "99999999999999999999999\n");
	assert_int_equal(ns_so_preflight(&o, "/dev/vdb", &plan), -ERANGE);
	tree_put(tree, "/sys/fs/cgroup/vm.slice/web/memory.max", "1048576\n");
	tree_put(tree, "/sys/fs/cgroup/vm.slice/web/memory.current", "lots\n");
	assert_int_equal(ns_so_preflight(&o, "/dev/vdb", &plan), -EINVAL);
	snprintf(want, sizeof(want), "%s%s/memory.current: 'lots' is not a decimal number", tree, cg);
	assert_string_equal(ns_error_detail(), want);
	tree_put(tree, "/sys/fs/cgroup/vm.slice/web/memory.current", NULL);
	assert_int_equal(ns_so_preflight(&o, "/dev/vdb", &plan), -ENOENT);
	/* meminfo damaged: the preflight stops too */
	tree_put(tree, "/sys/fs/cgroup/vm.slice/web/memory.max", NULL);
	tree_put(tree, "/proc/meminfo", "MemTotal: 1 kB\n");
	assert_int_equal(ns_so_preflight(&o, "/dev/vdb", &plan), -EINVAL);
	snprintf(want, sizeof(want), "%s/proc/meminfo: no MemFree line", tree);
	assert_string_equal(ns_error_detail(), want);
	tree_rm(tree);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_read),
		cmocka_unit_test(t_assign),
		cmocka_unit_test(t_read_bad),
		cmocka_unit_test(t_preflight_reserve_saturates),
		cmocka_unit_test(t_preflight_cached_only),
		cmocka_unit_test(t_preflight_cgroup_bad),
	};

	return cmocka_run_group_tests_name("swap", tests, NULL, NULL);
}
