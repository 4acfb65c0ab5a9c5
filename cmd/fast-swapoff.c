/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fast-swapoff: page a swap area back in from userspace, throttled and headroom-checked, then
 * swapoff(2); refuse or stop (area left on) rather than risk the OOM killer. The engine is
 * lib/swapoff.c; this file parses, reports and maps outcomes to exit codes. There is no
 * rollback: pages read back stay in memory, so a stop once paging in has begun is exit 5
 * (the area stays on; running the same command again finishes it). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <syslog.h>
#include <unistd.h>

#include "nsc.h"
#include "numasafe/swapoff.h"

static struct {
	char *readahead, *pid, *jobs;
	int all, dry_run, no_swapoff;
} opt;

enum { OPT_PID = NSC_OPT_FIRST_CMD };

static struct poptOption options[] = {
	{"all", 'a', POPT_ARG_NONE, &opt.all, 0, "every active swap area, lowest priority first", NULL},
	{"readahead", '\0', POPT_ARG_STRING, &opt.readahead, 0,
	 "swapped bytes asked for ahead of the reads (MADV_WILLNEED; default 32M, 0 = off)", "SIZE"},
	{"jobs", 'j', POPT_ARG_STRING, &opt.jobs, 0, "processes' pages read by this many workers at once, 1-16 (default 2, 1 on a 1-CPU host)", "N"},
	{"no-swapoff", '\0', POPT_ARG_NONE, &opt.no_swapoff, 0, "page in only, leave the area on", NULL},
	{"pid", 'p', POPT_ARG_STRING, &opt.pid, OPT_PID, "page in only this process (repeatable; implies --no-swapoff)",
	 "PID"},
	{"dry-run", 'n', POPT_ARG_NONE, &opt.dry_run, 0, "say what would happen, change nothing", NULL},
	NSC_RESERVE_TABLE,
	NSC_THROTTLE_TABLE,
	NSC_COMMON_TABLE,
	POPT_TABLEEND,
};

/* One area's run, filled once. */
struct area {
	char device[4096];
	struct ns_so_plan *plan;
	bool ran; /* paging in ran: res is filled */
	struct ns_so_result res;
	bool swapped_off;
	const char *outcome; /* "done", "refused", "partial", "failed"; "checked" for a dry run */
};

static void on_progress(void *arg, uint64_t done, uint64_t total, double elapsed)
{
	struct nsc_progress *p = arg;
	struct ns_hostmem hm;

	/* a reader gone (`| head -1`) stops the run at the next batch, as SIGTERM would */
	nsc_output_watch();
	if (!nsc_progress_on(p))
		return;
	if (ns_hostmem_read(NULL, &hm) < 0)
		hm.mem_available = 0;
	nsc_progress_update(p, "paging_in", done, total, elapsed, "mem_available", hm.mem_available);
}

/* Is path an active swap area now? 1, 0, or -errno. */
static int area_active(const char *path)
{
	struct ns_swaps sw;
	int rc = ns_swaps_read(NULL, &sw);

	return rc < 0 ? rc : ns_swaps_find(&sw, path) >= 0;
}

static uint64_t room(const struct ns_so_cgroup *g)
{
	return g->max > g->current ? g->max - g->current : 0;
}

static void plan_text(const struct nsc *c, const struct ns_so_plan *p)
{
	char a[32], b[32], cc[32], d[32];

	if (!nsc_text(c))
		return;
	if (p->cached_only)
		printf("%s: %s used, in the swap cache but for at most %s: in memory and charged already, "
		       "swapoff(2) maps it back with no reads (no process scan needed)\n",
		       p->path, nsc_size(p->used, a), nsc_size(p->uncached, b));
	else
		printf("%s: %s used (swap type %d): %s in process memory, %s elsewhere (shmem, tmpfs, SysV, swap "
		       "cache)\n",
		       p->path, nsc_size(p->used, a), p->type, nsc_size(p->proc_bytes, b), nsc_size(p->other, cc));
	for (int i = 0; i < p->nprocs; i++) {
		char comm[sizeof(p->procs[i].comm)], cg[sizeof(p->procs[i].cgroup)];

		printf("  pid %-7d %-16s %8s  cgroup %s\n", (int)p->procs[i].pid,
		       nsc_safe(p->procs[i].comm, comm, sizeof(comm)), nsc_size(p->procs[i].bytes, a),
		       p->procs[i].cgroup[0] ? nsc_safe(p->procs[i].cgroup, cg, sizeof(cg)) : "-");
	}
	for (int i = 0; i < p->ncgroups; i++) {
		const struct ns_so_cgroup *g = &p->cgroups[i];
		char cg[sizeof(g->path)];

		printf("  cgroup %s: %s to come back, room %s (limit %s, in use %s)\n", nsc_safe(g->path, cg, sizeof(cg)),
		       nsc_size(g->swapped, a), nsc_size(room(g), b),
		       g->max == UINT64_MAX ? "max" : nsc_size(g->max, cc), nsc_size(g->current, d));
	}
	printf("  memory: %s available, reserve %s\n", nsc_size(p->available, a), nsc_size(p->reserve, b));
	printf("  verdict: %s\n", p->fits && !p->tight ? "safe" : "unsafe");
}

static const char *stop_reason(enum ns_so_stop s)
{
	switch (s) {
	case NS_SO_STOP_MEMORY:
		return NSC_R_MEMORY;
	case NS_SO_STOP_PSI:
		return NSC_R_PRESSURE;
	case NS_SO_STOP_SIGNAL:
		return NSC_R_SIGNAL;
	case NS_SO_DONE:
		break;
	}
	return NSC_R_FAILED;
}

static struct json_object *area_json(const struct area *ar)
{
	const struct ns_so_plan *p = ar->plan;
	struct json_object *o = json_object_new_object(), *procs = json_object_new_array();
	struct json_object *cgs = json_object_new_array();

	json_object_object_add(o, "device", json_object_new_string(ar->device));
	json_object_object_add(o, "outcome", json_object_new_string(ar->outcome ? ar->outcome : "failed"));
	if (!p) {
		json_object_put(procs);
		json_object_put(cgs);
		return o;
	}
	json_object_object_add(o, "type", json_object_new_int(p->type));
	json_object_object_add(o, "used", nsc_json_u64(p->used));
	json_object_object_add(o, "process_bytes", nsc_json_u64(p->proc_bytes));
	json_object_object_add(o, "other_bytes", nsc_json_u64(p->other));
	json_object_object_add(o, "cached_only", json_object_new_boolean(p->cached_only));
	json_object_object_add(o, "uncached", p->cached_only ? nsc_json_u64(p->uncached) : NULL);
	json_object_object_add(o, "available", nsc_json_u64(p->available));
	json_object_object_add(o, "reserve", nsc_json_u64(p->reserve));
	for (int i = 0; i < p->nprocs; i++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "pid", json_object_new_int(p->procs[i].pid));
		json_object_object_add(x, "start_time", nsc_json_u64(p->procs[i].start_time));
		json_object_object_add(x, "comm", json_object_new_string(p->procs[i].comm));
		json_object_object_add(x, "cgroup", json_object_new_string(p->procs[i].cgroup));
		json_object_object_add(x, "bytes", nsc_json_u64(p->procs[i].bytes));
		json_object_object_add(x, "back", nsc_json_u64(p->procs[i].back));
		if (p->procs[i].busy) {
			struct json_object *b = json_object_new_object();

			json_object_object_add(b, "command", p->procs[i].busy_command[0]
								     ? json_object_new_string(p->procs[i].busy_command)
								     : NULL);
			json_object_object_add(b, "pid",
					       p->procs[i].busy_pid > 0 ? json_object_new_int(p->procs[i].busy_pid) : NULL);
			json_object_object_add(x, "busy_by", b);
		} else
			json_object_object_add(x, "busy_by", NULL);
		json_object_array_add(procs, x);
	}
	json_object_object_add(o, "processes", procs);
	for (int i = 0; i < p->ncgroups; i++) {
		const struct ns_so_cgroup *g = &p->cgroups[i];
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "path", json_object_new_string(g->path));
		json_object_object_add(x, "swapped", nsc_json_u64(g->swapped));
		json_object_object_add(x, "max", g->max == UINT64_MAX ? NULL : nsc_json_u64(g->max));
		json_object_object_add(x, "current", nsc_json_u64(g->current));
		json_object_object_add(x, "room", g->max == UINT64_MAX ? NULL : nsc_json_u64(room(g)));
		json_object_array_add(cgs, x);
	}
	json_object_object_add(o, "cgroups", cgs);
	json_object_object_add(o, "verdict", json_object_new_string(p->fits && !p->tight ? "safe" : "unsafe"));
	json_object_object_add(o, "shortfall", nsc_json_u64(p->shortfall));
	json_object_object_add(o, "stop",
			       ar->ran ? json_object_new_string(ar->res.stop == NS_SO_DONE ? "done"
											   : stop_reason(ar->res.stop))
				       : NULL);
	json_object_object_add(o, "back", nsc_json_u64(ar->res.back));
	json_object_object_add(o, "shmem_back", nsc_json_u64(ar->res.shmem_back));
	json_object_object_add(o, "shmem_objects", nsc_json_u64(ar->res.shmem_objects));
	json_object_object_add(o, "readahead", nsc_json_u64(ar->res.readahead));
	json_object_object_add(o, "left_in_swap_cache", nsc_json_u64(ar->res.cached));
	json_object_object_add(o, "jobs", json_object_new_int((int)ar->res.jobs));
	json_object_object_add(o, "processes_gone", nsc_json_u64(ar->res.skipped));
	json_object_object_add(o, "processes_busy", nsc_json_u64(ar->res.busy));
	json_object_object_add(o, "duration_s", nsc_json_seconds(ar->res.duration));
	json_object_object_add(o, "swapped_off", json_object_new_boolean(ar->swapped_off));
	return o;
}

/* One area, its lock held: preflight, page in, swapoff. Returns an exit code. */
static int area_run(struct nsc *c, struct ns_so_opts *o, bool swapoff_after, struct area *ar)
{
	struct nsc_progress prog;
	const char *dev = ar->device;
	char a[32], b[32], d[32], e[32], qdev[1100];
	int rc, prio;

	rc = nsc_psi_required(c, o->max_psi);
	if (rc != NS_EXIT_OK)
		return rc;
	/* known before the preflight: a dry run gives the verdict the real run would */
	o->then_swapoff = swapoff_after;
	o->scan_always = false;
again:
	rc = ns_so_preflight(o, dev, &ar->plan);
	if (rc == -ENOENT)
		return nsc_fail(c, NS_EXIT_FAIL, NSC_R_NOT_SWAP, "%s: not an active swap area", dev);
	/* a stop request seen by the scans: as one seen after them, nothing changed */
	if (rc == -EINTR && nsc_stopped()) {
		ar->plan = NULL;
		ar->outcome = "refused";
		return nsc_fail(c, NS_EXIT_REFUSED, NSC_R_SIGNAL, "%s: interrupted before paging in: nothing changed",
				dev);
	}
	if (rc < 0) {
		ar->plan = NULL;
		return nsc_fail_errno(c, rc, NULL, "%s", dev);
	}
	nsc_info(c, "%s: preflight: %llu bytes in %d process%s, %llu elsewhere, %llu available", dev,
		 (unsigned long long)ar->plan->proc_bytes, ar->plan->nprocs, ar->plan->nprocs == 1 ? "" : "es",
		 (unsigned long long)ar->plan->other, (unsigned long long)ar->plan->available);
	plan_text(c, ar->plan);
	if (ar->plan->tight) {
		const struct ns_so_cgroup *g = ar->plan->tight;

		ar->outcome = "refused";
		return nsc_fail(c, NS_EXIT_REFUSED, NSC_R_CGROUP,
				"%s: refused: cgroup %s would need %s back but has %s of room (limit %s): its "
				"processes "
				"would be OOM-killed; raise its memory limit first",
				dev, g->path, nsc_size(g->swapped, a), nsc_size(room(g), b), nsc_size(g->max, d));
	}
	if (!ar->plan->fits) {
		ar->outcome = "refused";
		return nsc_fail(c, NS_EXIT_REFUSED, NSC_R_MEMORY,
				"%s: refused: %s to bring back, %s available with a %s reserve: short by %s", dev,
				nsc_size(ar->plan->cached_only ? ar->plan->uncached
							       : ns_sat_add(ar->plan->proc_bytes, ar->plan->other),
					 a),
				nsc_size(ar->plan->available, b), nsc_size(ar->plan->reserve, d),
				nsc_size(ar->plan->shortfall, e));
	}
	if (opt.dry_run) {
		ar->outcome = "checked";
		return NS_EXIT_OK;
	}
	/* a stop request during the preflight: nothing was read back yet */
	if (nsc_stopped() || nsc_output_watch()) {
		ar->outcome = "refused";
		return nsc_fail(c, NS_EXIT_REFUSED, NSC_R_SIGNAL, "%s: interrupted before paging in: nothing changed",
				dev);
	}
	nsc_progress_init(&prog, c);
	o->progress = on_progress;
	o->progress_arg = &prog;
	nsc_audit(c, LOG_NOTICE, "swapoff", "start", NULL, "device=%s used=%llu process_bytes=%llu swapoff=%s",
		  nsc_audit_quote(dev, qdev, sizeof(qdev)),
		  (unsigned long long)ar->plan->used, (unsigned long long)ar->plan->proc_bytes,
		  swapoff_after ? "yes" : "no");
	rc = ns_so_pagein(o, ar->plan, &ar->res);
	nsc_progress_end(&prog);
	o->progress = NULL;
	if (rc == -EAGAIN && ar->plan->cached_only && !o->scan_always) {
		/* reclaim dropped pages from the swap cache since the preflight: what is on the
		 * device now needs reads and memory, so look at every process after all */
		nsc_info(c, "%s: the swap cache shrank since the preflight; scanning the processes", dev);
		ns_so_plan_free(ar->plan);
		ar->plan = NULL;
		memset(&ar->res, 0, sizeof(ar->res));
		o->scan_always = true;
		goto again;
	}
	if (rc < 0) {
		ar->outcome = "failed";
		rc = nsc_fail_errno(c, rc, NULL, "%s: paging in", dev);
		goto out;
	}
	ar->ran = true;
	/* a VM another command is changing was left alone: swapoff(2) reads its pages (they were
	 * counted in the preflight's check, as all of Used is) */
	for (int i = 0; i < ar->plan->nprocs; i++) {
		const struct ns_so_proc *p = &ar->plan->procs[i];

		if (!p->busy)
			continue;
		if (p->busy_pid > 0)
			nsc_warn(c, "%s: pid %d (%s): skipped, %s (pid %d) is changing it; %s", dev, (int)p->pid, p->comm,
				 p->busy_command[0] ? p->busy_command : "another numasafe command", (int)p->busy_pid,
				 swapoff_after ? "swapoff(2) reads its pages" : "its pages stay in swap");
		else
			nsc_warn(c, "%s: pid %d (%s): skipped, another numasafe command is changing it; %s", dev,
				 (int)p->pid, p->comm, swapoff_after ? "swapoff(2) reads its pages" : "its pages stay in swap");
	}
	if (nsc_text(c))
		printf("%s: read back %s in %.1f s (%llu reads; shmem %s in %llu files or segments), %llu process%s "
		       "gone "
		       "meanwhile\n",
		       ns_so_stop_str(ar->res.stop), nsc_size(ar->res.back, a), ar->res.duration,
		       (unsigned long long)ar->res.batches, nsc_size(ar->res.shmem_back, b),
		       (unsigned long long)ar->res.shmem_objects, (unsigned long long)ar->res.skipped,
		       ar->res.skipped == 1 ? "" : "es");
	if (nsc_text(c) && ar->res.cached)
		printf("%s: %s still in the swap cache, in memory already: left to swapoff(2) (no reads, no new "
		       "memory)\n",
		       dev, nsc_size(ar->res.cached, a));
	if (ar->res.readahead_err)
		nsc_warn(c, "%s: read-ahead unavailable (process_madvise: %s); pages were faulted in one by one", dev,
			 strerror(-ar->res.readahead_err));
	if (ar->res.stop != NS_SO_DONE) {
		ar->outcome = "partial";
		rc = nsc_fail(c, NS_EXIT_PARTIAL, stop_reason(ar->res.stop),
			      "%s: stopped: %s; the area stays on, what came back (%s) stays in; run the same command "
			      "again to finish",
			      dev, ns_so_stop_str(ar->res.stop), nsc_size(ar->res.back, a));
		goto out;
	}
	rc = NS_EXIT_OK;
	ar->outcome = "done";
	if (swapoff_after) {
		nsc_info(c, "%s: paged in; swapoff(2)", dev);
		if (swapoff(ar->plan->path) < 0) {
			int err = errno;

			if (err == EINVAL && area_active(ar->plan->path) == 0) {
				/* swapped off meanwhile by something else (swapoff(8)): it is off, not by us */
				nsc_warn(c, "%s: was swapped off meanwhile by another program", dev);
			} else if (err == EINTR) {
				/* swapoff(2) gives up on a signal and puts the area back in service */
				ar->outcome = "partial";
				rc = nsc_fail(c, NS_EXIT_PARTIAL, NSC_R_SIGNAL,
					      "%s: stopped: interrupted in swapoff(2); the area stays on, what came "
					      "back stays "
					      "in; run the same command again to finish",
					      dev);
			} else {
				ar->outcome = "partial";
				rc = nsc_fail(c, err == ENOMEM ? NS_EXIT_PARTIAL : NS_EXIT_FAIL,
					      err == ENOMEM ? NSC_R_MEMORY : NSC_R_FAILED,
					      "%s: swapoff: %s; the area is still on, what came back stays in", dev,
					      strerror(err));
			}
		} else {
			ar->swapped_off = true;
			if (nsc_text(c))
				printf("%s: swapped off\n", dev);
		}
	}
out:
	prio = rc == NS_EXIT_OK ? LOG_NOTICE : rc == NS_EXIT_PARTIAL ? LOG_WARNING : LOG_ERR;
	nsc_audit(c, prio, "swapoff", "end", NULL,
		  "device=%s outcome=%s code=%d back=%llu duration_s=%.3f swapped_off=%s",
		  nsc_audit_quote(dev, qdev, sizeof(qdev)),
		  ar->outcome ? ar->outcome : "failed", rc, (unsigned long long)ar->res.back, ar->res.duration,
		  ar->swapped_off ? "yes" : "no");
	return rc;
}

/* One area: one fast-swapoff per area at a time (a dry run changes nothing and takes no lock). */
static int one_area(struct nsc *c, struct ns_so_opts *o, bool swapoff_after, struct area *ar)
{
	char msg[512] = "";
	pid_t holder = 0;
	int rc, fd = -1;

	if (!opt.dry_run) {
		rc = ns_so_lock(ar->device, &fd, &holder, msg, sizeof(msg));
		if (rc == -EBUSY) {
			ar->outcome = "refused";
			if (holder)
				return nsc_fail(c, NS_EXIT_REFUSED, NSC_R_BUSY,
						"%s: another fast-swapoff (pid %d) is working on this area; try again "
						"when it is "
						"done",
						ar->device, (int)holder);
			return nsc_fail(c, NS_EXIT_REFUSED, NSC_R_BUSY,
					"%s: another fast-swapoff is working on this area; try again when it is done",
					ar->device);
		}
		if (rc < 0 && msg[0])
			return nsc_fail(c, NS_EXIT_FAIL, rc == -EPERM ? NSC_R_PERMISSION : NSC_R_FAILED, "%s: lock: %s",
					ar->device, msg);
		if (rc < 0)
			return nsc_fail_errno(c, rc, NULL, "%s: lock", ar->device);
	}
	rc = area_run(c, o, swapoff_after, ar);
	ns_so_unlock(fd);
	return rc;
}

static int by_priority(const void *a, const void *b)
{
	const struct ns_swap_area *x = a, *y = b;

	return (x->priority > y->priority) - (x->priority < y->priority);
}

int main(int argc, char **argv)
{
	static pid_t pids[NSC_PIDS_MAX];
	static struct ns_swaps sw;
	struct nsc cli, *c = &cli;
	struct ns_so_opts o;
	struct ns_amount reserve;
	struct ns_hostmem hm;
	struct json_object *doc = NULL, *arr;
	struct area *areas = NULL;
	const char **args;
	int nargs, k, rc = NS_EXIT_OK, npids = 0, nareas = 0, done = 0;
	poptContext ctx;

	nsc_init(c, "fast-swapoff", argc, argv);
	ns_so_opts_init(&o);
	ctx = poptGetContext("fast-swapoff", argc, (const char **)(void *)argv, options, 0);
	poptSetOtherOptionHelp(ctx, "[OPTIONS] (DEVICE... | --all)");
	while ((k = nsc_next(c, ctx)) >= 0)
		if (k == OPT_PID) {
			if (npids == NSC_PIDS_MAX)
				nsc_usage(c, "--pid: at most %d processes", NSC_PIDS_MAX);
			pids[npids++] = nsc_opt_pid(c, "--pid", opt.pid);
		}
	args = nsc_args(ctx, &nargs);
	c->record = !opt.dry_run;
	if (!opt.all && nargs == 0)
		nsc_usage(c, "no swap area given (DEVICE... or --all)");
	if (opt.all && nargs)
		nsc_usage(c, "give devices or --all, not both");
	/* each device must exist before anything else */
	for (int i = 0; i < nargs; i++) {
		struct stat st;

		if (stat(args[i], &st) < 0) {
			rc = nsc_fail_errno(c, -errno, NSC_R_NOT_SWAP, "%s", args[i]);
			goto out;
		}
	}
	rc = ns_hostmem_read(NULL, &hm);
	if (rc < 0) {
		rc = nsc_fail_errno(c, rc, NULL, "reading /proc/meminfo");
		goto out;
	}
	rc = NS_EXIT_OK;
	nsc_throttle(c, &o.rate, &o.max_psi, &o.psi_grace);
	if (opt.readahead)
		o.readahead = nsc_opt_size(c, "--readahead", opt.readahead, true, hm.mem_total);
	if (opt.jobs)
		o.jobs = (unsigned)nsc_opt_uint(c, "--jobs", opt.jobs, 1, NS_SO_JOBS_MAX);
	if (nsc_shared.reserve) {
		nsc_opt_amount(c, "--reserve", nsc_shared.reserve, hm.mem_total, &reserve);
		o.reserve = &reserve;
	}
	if (npids) {
		o.pids = pids;
		o.npids = npids;
		opt.no_swapoff = 1;
	}
	if (!opt.dry_run && geteuid() != 0) {
		rc = nsc_fail(c, NS_EXIT_FAIL, NSC_R_PERMISSION,
			      "needs root (CAP_SYS_ADMIN for swap types and swapoff, ptrace access to read processes)");
		goto out;
	}
	if (opt.all) {
		rc = ns_swaps_read(NULL, &sw);
		if (rc < 0) {
			rc = nsc_fail_errno(c, rc, NULL, "reading /proc/swaps");
			goto out;
		}
		rc = NS_EXIT_OK;
		/* lowest priority first: the kernel fills those last, so they hold the least */
		qsort(sw.area, (size_t)sw.nr, sizeof(sw.area[0]), by_priority);
		nareas = sw.nr;
	} else
		nareas = nargs;
	areas = calloc((size_t)nareas + 1, sizeof(*areas));
	if (!areas) {
		rc = nsc_fail_errno(c, -ENOMEM, NULL, "starting");
		goto out;
	}
	for (int i = 0; i < nareas; i++)
		snprintf(areas[i].device, sizeof(areas[i].device), "%s", opt.all ? sw.area[i].path : args[i]);
	if (nareas == 0 && nsc_text(c))
		printf("no active swap areas: nothing to do\n");
	/* the handlers are in place since nsc_init: the scans see a stop request too */
	o.stop = &nsc_stop_requests;
	/* one changer per VM: a process another command is changing is skipped, not waited for */
	if (!opt.dry_run)
		o.lock_command = c->prog;
	for (int i = 0; i < nareas && rc == NS_EXIT_OK; i++) {
		rc = one_area(c, &o, !opt.no_swapoff, &areas[i]);
		done += rc == NS_EXIT_OK;
	}
	/* areas already swapped off make a later stop a partial run */
	if (rc != NS_EXIT_OK && rc != NS_EXIT_PARTIAL && done && !opt.dry_run)
		rc = NS_EXIT_PARTIAL;
	doc = nsc_doc(NSC_KIND_SWAPOFF);
	json_object_object_add(doc, "dry_run", json_object_new_boolean(opt.dry_run));
	arr = json_object_new_array();
	for (int i = 0; i < nareas; i++)
		if (areas[i].outcome || areas[i].plan)
			json_object_array_add(arr, area_json(&areas[i]));
	json_object_object_add(doc, "areas", arr);
	json_object_object_add(doc, "areas_done", json_object_new_int(done));
	{
		bool changed = false;

		for (int i = 0; i < nareas; i++)
			changed |= areas[i].swapped_off || (areas[i].ran && areas[i].res.back > 0);
		json_object_object_add(doc, "changed", json_object_new_boolean(changed));
	}
out:
	for (int i = 0; areas && i < nareas; i++)
		ns_so_plan_free(areas[i].plan);
	free(areas);
	poptFreeContext(ctx);
	return nsc_finish(c, rc, doc);
}
