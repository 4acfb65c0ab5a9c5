/* fast-swapoff: page a swap area back in from userspace, throttled and headroom-checked, then
 * swapoff(2); refuse or stop (area left on) rather than risk the OOM killer. The engine is
 * lib/swapoff.c; this file parses, prints and maps outcomes to exit codes. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <unistd.h>

#include "common.h"
#include "numasafe/swapoff.h"

static char *opt_rate, *opt_readahead, *opt_reserve, *opt_max_psi, *opt_grace, *opt_pid;
static int opt_all, opt_dry_run, opt_no_swapoff;

enum { OPT_PID = NS_OPT_FIRST_CMD };

static struct poptOption options[] = {
	{"all", 'a', POPT_ARG_NONE, &opt_all, 0, "every active swap area, lowest priority first", NULL},
	{"rate", 'r', POPT_ARG_STRING, &opt_rate, 0, "bytes per second read back (default unlimited)", "SIZE"},
	{"readahead", '\0', POPT_ARG_STRING, &opt_readahead, 0,
	 "swapped bytes asked for ahead of the reads (MADV_WILLNEED; default 32M, 0 = off)", "SIZE"},
	{"reserve", '\0', POPT_ARG_STRING, &opt_reserve, 0,
	 "memory that must stay available (default max(256M, 2% of RAM))", "SIZE|PCT"},
	{"max-psi", '\0', POPT_ARG_STRING, &opt_max_psi, 0, "memory some avg10 that pauses paging in (default 10)",
	 "PCT"},
	{"psi-grace", '\0', POPT_ARG_STRING, &opt_grace, 0, "seconds of pressure tolerated (default 10)", "SECONDS"},
	{"no-swapoff", '\0', POPT_ARG_NONE, &opt_no_swapoff, 0, "page in only, leave the area on", NULL},
	{"pid", 'p', POPT_ARG_STRING, &opt_pid, OPT_PID, "page in only this process (repeatable; implies --no-swapoff)",
	 "PID"},
	{"dry-run", 'n', POPT_ARG_NONE, &opt_dry_run, 0, "print what would happen, change nothing", NULL},
	NS_COMMON_TABLE,
	POPT_TABLEEND,
};

/* Stop requests counted (ns_so_opts.stop); the handler runs with every signal blocked. */
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	if (stop_flag < 2)
		stop_flag++;
}

/* Is the area still listed in /proc/swaps? (1 yes, 0 no, -errno) */
static int area_active(const char *path)
{
	struct ns_swaps sw;
	int rc = ns_swaps_read(NULL, &sw);

	return rc < 0 ? rc : ns_swaps_find(&sw, path) >= 0;
}

static const char *sz(uint64_t b, char *buf)
{
	return ns_size_format(b, buf, 32);
}

static void progress(void *arg, uint64_t done, uint64_t total, double elapsed)
{
	double mib = (double)done / 1048576.0, rate = elapsed > 0 ? mib / elapsed : 0;
	double eta = rate > 0 ? ((double)total / 1048576.0 - mib) / rate : 0;
	struct ns_hostmem hm;
	char a[32];

	(void)arg;
	ns_hostmem_read(NULL, &hm);
	fprintf(stderr, "\rpaging in: %.1f/%.1f MiB  %.1f MiB/s  ETA %.0fs  MemAvailable %s   ", mib,
		(double)total / 1048576.0, rate, eta < 0 ? 0 : eta, sz(hm.mem_available, a));
}

static void print_plan(const struct ns_so_plan *p)
{
	char a[32], b[32], c[32];

	printf("%s: %s used (swap type %d): %s in process memory, %s elsewhere (shmem, tmpfs, SysV, swap cache)\n",
	       p->path, sz(p->used, a), p->type, sz(p->proc_bytes, b), sz(p->other, c));
	for (int i = 0; i < p->nprocs; i++)
		printf("  pid %-7d %-16s %8s  cgroup %s\n", (int)p->procs[i].pid, p->procs[i].comm,
		       sz(p->procs[i].bytes, a), p->procs[i].cgroup[0] ? p->procs[i].cgroup : "-");
	for (int i = 0; i < p->ncgroups; i++) {
		const struct ns_so_cgroup *g = &p->cgroups[i];

		char d[32];

		printf("  cgroup %s: %s to come back, room %s (limit %s, in use %s)\n", g->path,
		       sz(g->swapped, a), sz(g->max > g->current ? g->max - g->current : 0, b), sz(g->max, c),
		       sz(g->current, d));
	}
	printf("  memory: %s available, reserve %s\n", sz(p->available, a), sz(p->reserve, b));
	printf("  verdict: %s\n", p->fits ? "safe" : "unsafe");
}

static struct json_object *plan_json(const struct ns_so_plan *p)
{
	struct json_object *o = json_object_new_object(), *procs = json_object_new_array();
	struct json_object *cgs = json_object_new_array();

	json_object_object_add(o, "device", json_object_new_string(p->path));
	json_object_object_add(o, "type", json_object_new_int(p->type));
	json_object_object_add(o, "used", ns_json_u64(p->used));
	json_object_object_add(o, "process_bytes", ns_json_u64(p->proc_bytes));
	json_object_object_add(o, "other_bytes", ns_json_u64(p->other));
	json_object_object_add(o, "available", ns_json_u64(p->available));
	json_object_object_add(o, "reserve", ns_json_u64(p->reserve));
	for (int i = 0; i < p->nprocs; i++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "pid", json_object_new_int(p->procs[i].pid));
		json_object_object_add(x, "comm", json_object_new_string(p->procs[i].comm));
		json_object_object_add(x, "cgroup", json_object_new_string(p->procs[i].cgroup));
		json_object_object_add(x, "bytes", ns_json_u64(p->procs[i].bytes));
		json_object_object_add(x, "back", ns_json_u64(p->procs[i].back));
		json_object_array_add(procs, x);
	}
	json_object_object_add(o, "processes", procs);
	for (int i = 0; i < p->ncgroups; i++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "path", json_object_new_string(p->cgroups[i].path));
		json_object_object_add(x, "swapped", ns_json_u64(p->cgroups[i].swapped));
		json_object_object_add(x, "max", ns_json_u64(p->cgroups[i].max));
		json_object_object_add(x, "current", ns_json_u64(p->cgroups[i].current));
		json_object_array_add(cgs, x);
	}
	json_object_object_add(o, "cgroups", cgs);
	json_object_object_add(o, "verdict", json_object_new_string(p->fits ? "safe" : "unsafe"));
	json_object_object_add(o, "shortfall", ns_json_u64(p->shortfall));
	return o;
}

/* One area: preflight, page in, swapoff. Returns an exit code. */
static int one_area(const char *dev, struct ns_so_opts *o, bool swapoff_after, struct json_object *jarr)
{
	struct ns_so_plan *plan = NULL;
	struct ns_so_result res;
	struct json_object *j = NULL;
	char a[32], b[32], c[32], msg[512];
	pid_t holder = 0;
	int rc, lock_fd = -1;

	/* one run per area; a dry run changes nothing and takes no lock */
	if (!opt_dry_run) {
		rc = ns_so_lock(dev, &lock_fd, &holder, msg, sizeof(msg));
		if (rc == -EBUSY) {
			if (holder)
				ns_err("%s: another fast-swapoff (pid %d) is working on this area", dev, (int)holder);
			else
				ns_err("%s: another fast-swapoff is working on this area", dev);
			return NS_EXIT_REFUSED;
		}
		if (rc < 0) {
			ns_err("%s: lock: %s", dev, msg[0] ? msg : strerror(-rc));
			return NS_EXIT_FAIL;
		}
	}
	rc = ns_so_preflight(o, dev, &plan);
	if (rc == -ENOENT) {
		ns_err("%s: not an active swap area", dev);
		rc = NS_EXIT_FAIL;
		goto out;
	}
	if (rc == -EPERM) {
		ns_err("%s: needs %s to see which swap area each page is on", dev, ns_cap_name(CAP_SYS_ADMIN));
		rc = NS_EXIT_FAIL;
		goto out;
	}
	if (rc < 0) {
		ns_errno(rc, "%s", dev);
		rc = NS_EXIT_FAIL;
		goto out;
	}
	if (jarr) {
		j = json_object_new_object();
		json_object_object_add(j, "plan", plan_json(plan));
		json_object_array_add(jarr, j);
	} else if (!ns_cli.quiet)
		print_plan(plan);
	if (plan->tight) {
		const struct ns_so_cgroup *g = plan->tight;

		ns_err("%s: refused: cgroup %s would need %s back but has %s of room (limit %s): its processes "
		       "would be OOM-killed; raise its memory limit first",
		       dev, g->path, sz(g->swapped, a), sz(g->max > g->current ? g->max - g->current : 0, b),
		       sz(g->max, c));
		rc = NS_EXIT_REFUSED;
		goto out;
	}
	if (!plan->fits) {
		char d[32];

		ns_err("%s: refused: %s to bring back, %s available with a %s reserve: short by %s", dev,
		       sz(plan->proc_bytes + plan->other, a), sz(plan->available, b), sz(plan->reserve, c),
		       sz(plan->shortfall, d));
		rc = NS_EXIT_REFUSED;
		goto out;
	}
	if (opt_dry_run) {
		rc = NS_EXIT_OK;
		goto out;
	}
	rc = ns_so_pagein(o, plan, &res);
	if (o->progress)
		fputc('\n', stderr);
	if (rc < 0) {
		ns_errno(rc, "%s: paging in", dev);
		rc = NS_EXIT_FAIL;
		goto out;
	}
	if (j) {
		json_object_object_add(j, "back", ns_json_u64(res.back));
		json_object_object_add(j, "shmem_back", ns_json_u64(res.shmem_back));
		json_object_object_add(j, "shmem_objects", ns_json_u64(res.shmem_objects));
		json_object_object_add(j, "duration_s", json_object_new_double(res.duration));
		json_object_object_add(j, "readahead", ns_json_u64(res.readahead));
		json_object_object_add(j, "outcome", json_object_new_string(ns_so_stop_str(res.stop)));
	} else if (!ns_cli.quiet)
		printf("%s: read back %s in %.1f s (%llu reads; shmem %s in %llu files or segments), %llu processes "
		       "gone meanwhile\n",
		       ns_so_stop_str(res.stop), sz(res.back, a), res.duration, (unsigned long long)res.batches,
		       sz(res.shmem_back, b), (unsigned long long)res.shmem_objects, (unsigned long long)res.skipped);
	if (res.readahead_err && !ns_cli.quiet)
		ns_warn("%s: read-ahead unavailable (process_madvise: %s); pages were faulted in one by one", dev,
			strerror(-res.readahead_err));
	/* a stop request is never a success, whenever it came */
	if (res.stop == NS_SO_DONE && stop_flag)
		res.stop = NS_SO_STOP_SIGNAL;
	if (res.stop != NS_SO_DONE) {
		ns_err("%s: stopped: %s; the area stays on, what came back stays in", dev, ns_so_stop_str(res.stop));
		rc = res.stop == NS_SO_STOP_SIGNAL ? NS_EXIT_STOPPED : NS_EXIT_REFUSED;
		goto out;
	}
	rc = NS_EXIT_OK;
	if (swapoff_after) {
		if (swapoff(plan->path) < 0) {
			int err = errno;

			if (err == EINTR) {
				/* swapoff(2) gives up on a signal and puts the area back */
				ns_err("%s: stopped: %s; the area stays on, what came back stays in", dev,
				       ns_so_stop_str(NS_SO_STOP_SIGNAL));
				rc = NS_EXIT_STOPPED;
			} else if (err == EINVAL && area_active(plan->path) == 0) {
				/* swapped off meanwhile by something else (swapoff(8)): it is off */
				ns_warn("%s: was swapped off meanwhile by another program", dev);
				rc = NS_EXIT_OK;
			} else {
				ns_errno(-err, "%s: swapoff", dev);
				ns_err("%s: the area is still on", dev);
				rc = err == ENOMEM ? NS_EXIT_REFUSED : NS_EXIT_FAIL;
			}
		} else if (j)
			json_object_object_add(j, "swapoff", json_object_new_boolean(1));
		else if (!ns_cli.quiet)
			printf("%s: swapped off\n", dev);
	}
out:
	ns_so_unlock(lock_fd);
	ns_so_plan_free(plan);
	return rc;
}

static int by_priority(const void *a, const void *b)
{
	const struct ns_swap_area *x = a, *y = b;

	return (x->priority > y->priority) - (x->priority < y->priority);
}

int main(int argc, char **argv)
{
	static pid_t pids[64];
	struct ns_so_opts o;
	struct ns_amount reserve;
	struct sigaction sa;
	struct json_object *js = NULL, *jarr = NULL;
	const char **args;
	int nargs, c, rc = NS_EXIT_OK, npids = 0;
	poptContext ctx;

	ns_cli_init("fast-swapoff", argc, argv);
	ns_so_opts_init(&o);
	ctx = poptGetContext("fast-swapoff", argc, (const char **)(void *)argv, options, 0);
	poptSetOtherOptionHelp(ctx, "[OPTIONS] (DEVICE... | --all)");
	while ((c = ns_cli_next(ctx)) >= 0)
		if (c == OPT_PID) {
			if (npids == (int)(sizeof(pids) / sizeof(pids[0])))
				ns_usage("--pid: at most %d processes", npids);
			pids[npids++] = ns_opt_pid("--pid", opt_pid);
		}
	args = ns_cli_args(ctx, &nargs);
	if (!opt_all && nargs == 0)
		ns_usage("no swap area given (DEVICE... or --all)");
	if (opt_all && nargs)
		ns_usage("give devices or --all, not both");
	if (opt_rate)
		o.rate = ns_opt_size("--rate", opt_rate, false);
	if (opt_readahead)
		o.readahead = ns_opt_size("--readahead", opt_readahead, true);
	if (opt_reserve) {
		ns_opt_amount("--reserve", opt_reserve, &reserve);
		o.reserve = &reserve;
	}
	if (opt_max_psi)
		o.max_psi = ns_opt_double("--max-psi", opt_max_psi, 100);
	if (opt_grace)
		o.psi_grace = ns_opt_double("--psi-grace", opt_grace, 86400);
	if (npids) {
		o.pids = pids;
		o.npids = npids;
		opt_no_swapoff = 1;
	}
	/* each device must exist and be a block device or regular file before anything else */
	for (int i = 0; i < nargs; i++) {
		struct stat st;

		if (stat(args[i], &st) < 0) {
			ns_errno(-errno, "%s", args[i]);
			rc = NS_EXIT_FAIL;
			goto out;
		}
	}
	if (!opt_dry_run && geteuid() != 0) {
		ns_err("needs root (CAP_SYS_ADMIN for swap types and swapoff, ptrace access to read processes)");
		rc = NS_EXIT_FAIL;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	o.stop = &stop_flag;
	if (ns_progress_enabled())
		o.progress = progress;
	if (ns_cli.json) {
		js = json_object_new_object();
		jarr = json_object_new_array();
		json_object_object_add(js, "version", json_object_new_int(1));
		json_object_object_add(js, "areas", jarr);
	}
	if (opt_all) {
		struct ns_swaps sw;

		rc = ns_swaps_read(NULL, &sw);
		if (rc < 0) {
			ns_errno(rc, "reading /proc/swaps");
			rc = NS_EXIT_FAIL;
			goto out;
		}
		/* lowest priority first: the kernel fills those last, so they hold the least */
		qsort(sw.area, (size_t)sw.nr, sizeof(sw.area[0]), by_priority);
		for (int i = 0; i < sw.nr && rc == NS_EXIT_OK; i++)
			rc = one_area(sw.area[i].path, &o, !opt_no_swapoff, jarr);
	} else
		for (int i = 0; i < nargs && rc == NS_EXIT_OK; i++)
			rc = one_area(args[i], &o, !opt_no_swapoff, jarr);
out:
	if (js) {
		ns_json_print(js);
		json_object_put(js);
	}
	poptFreeContext(ctx);
	return ns_cli_exit(rc);
}
