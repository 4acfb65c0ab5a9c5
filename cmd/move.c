/* Moving one VM's memory with the migration engine, as numa-migrate, vm-pin --mem and the
 * plan executors all do it: lock, preflight, numatune handling for domains, the throttled
 * move, and the exit code. Shared by the commands so the safety rules live in one place. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "move.h"

/* Stop requests counted, as the engine reads them (ns_mig_opts.stop): the first rolls the
 * move back, a second stops the rollback. The handler runs with every signal blocked, so the
 * other signal cannot interrupt the increment. */
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	if (stop_flag < 2)
		stop_flag++;
}

static const char *sz(uint64_t b, char *buf)
{
	return ns_size_format(b, buf, 32);
}

static double mib(uint64_t b)
{
	return (double)b / 1048576.0;
}

static void progress(void *arg, const struct ns_mig_progress *p)
{
	double rate = p->elapsed > 0 ? mib(p->moved_bytes) / p->elapsed : 0;
	double eta = rate > 0 ? (mib(p->total_bytes) - mib(p->moved_bytes)) / rate : 0;
	char h[32];

	(void)arg;
	if (p->rolling_back)
		fprintf(stderr, "\rrolling back: %.1f/%.1f MiB  %.1f MiB/s  ETA %.0fs                         ",
			mib(p->moved_bytes), mib(p->total_bytes), rate, eta < 0 ? 0 : eta);
	else
		fprintf(stderr, "\rmoving: %.1f/%.1f MiB  %.1f MiB/s  ETA %.0fs  target headroom %s   ",
			mib(p->moved_bytes), mib(p->total_bytes), rate, eta < 0 ? 0 : eta,
			sz(p->target_headroom, h));
}

static void print_plan(const struct ns_mig_plan *p, const char *comm, const char *to)
{
	char a[32], b[32], c[32], d[32], e[32];

	printf("pid %d (%s): move to node %s\n", (int)p->pid, comm, to);
	printf("  to move:    anon %s, thp %s, file %s, shmem %s, hugetlb %s\n", sz(p->move[NS_KIND_ANON], a),
	       sz(p->move[NS_KIND_THP], b), sz(p->move[NS_KIND_FILE], c), sz(p->move[NS_KIND_SHMEM], d),
	       sz(p->move[NS_KIND_HUGETLB], e));
	printf("  on target:  %s; on other nodes (not moved): %s; swapped out (not moved): %s\n",
	       sz(p->on_target[NS_KIND_ANON] + p->on_target[NS_KIND_THP] + p->on_target[NS_KIND_FILE] +
			  p->on_target[NS_KIND_SHMEM] + p->on_target[NS_KIND_HUGETLB],
		  a),
	       sz(p->elsewhere, b), sz(p->swapped, c));
	for (int i = 0; i < p->nr_targets; i++) {
		const struct ns_fit *f = &p->target_fit[i];

		printf("  node %d:     headroom %s (free %s, high watermark + reserve %s)\n", f->node,
		       sz(f->headroom, a), sz(f->free, b), sz(f->floor, c));
	}
	for (unsigned i = 0; i < p->nr_pools; i++)
		printf("  hugetlb %s: %s to move, %s free in the targets' pools\n", sz(p->pool_size[i], a),
		       sz(p->huge_move[i], b), sz(p->huge_free[i], c));
	if (p->fits)
		printf("  verdict:    safe: %s of %s headroom\n", sz(p->move_total, a), sz(p->headroom, b));
	else
		printf("  verdict:    unsafe: short by %s%s\n", sz(p->shortfall, a),
		       p->huge_short ? " (hugetlb pool)" : "");
}

static struct json_object *kinds_json(const uint64_t *v)
{
	struct json_object *o = json_object_new_object();

	for (int k = 0; k < NS_KIND_COUNT; k++)
		json_object_object_add(o, ns_kind_name(k), ns_json_u64(v[k]));
	return o;
}

static struct json_object *plan_json(const struct ns_mig_plan *p)
{
	struct json_object *o = json_object_new_object(), *t = json_object_new_array();

	json_object_object_add(o, "pid", json_object_new_int(p->pid));
	json_object_object_add(o, "move", kinds_json(p->move));
	json_object_object_add(o, "move_total", ns_json_u64(p->move_total));
	json_object_object_add(o, "on_target", kinds_json(p->on_target));
	json_object_object_add(o, "elsewhere", ns_json_u64(p->elsewhere));
	json_object_object_add(o, "swapped", ns_json_u64(p->swapped));
	for (int i = 0; i < p->nr_targets; i++) {
		struct json_object *n = json_object_new_object();

		json_object_object_add(n, "node", json_object_new_int(p->target_fit[i].node));
		json_object_object_add(n, "headroom", ns_json_u64(p->target_fit[i].headroom));
		json_object_object_add(n, "free", ns_json_u64(p->target_fit[i].free));
		json_object_object_add(n, "floor", ns_json_u64(p->target_fit[i].floor));
		json_object_array_add(t, n);
	}
	json_object_object_add(o, "targets", t);
	json_object_object_add(o, "headroom", ns_json_u64(p->headroom));
	json_object_object_add(o, "verdict", json_object_new_string(p->fits ? "safe" : "unsafe"));
	json_object_object_add(o, "shortfall", ns_json_u64(p->shortfall));
	return o;
}

static void print_result(const struct ns_mig_result *r)
{
	char a[32], b[32];

	printf("%s: moved %s (%llu pages or huge pages) in %.1f s, %.1f MiB/s; %llu calls (%u at once), longest "
	       "%.1f ms, chunks %llu-%llu\n",
	       ns_mig_stop_str(r->stop), sz(r->moved_total, a), (unsigned long long)r->pages_moved, r->duration,
	       r->duration > 0 ? mib(r->moved_total) / r->duration : 0, (unsigned long long)r->calls, r->jobs,
	       (double)r->longest_call_ns / 1e6, (unsigned long long)r->chunk_min, (unsigned long long)r->chunk_max);
	printf("pages: moved %llu, busy %llu (retried %llu), shared with other processes %llu, not movable %llu, "
	       "not present %llu, no memory %llu, other %llu; swapped out %s\n",
	       (unsigned long long)r->pages_moved, (unsigned long long)r->pages_busy,
	       (unsigned long long)r->pages_retried, (unsigned long long)r->pages_acces,
	       (unsigned long long)r->pages_fault, (unsigned long long)r->pages_noent,
	       (unsigned long long)r->pages_nomem, (unsigned long long)r->pages_other, sz(r->swapped, b));
	if (r->thp_seen)
		printf("THP: %llu moved, %llu still huge on arrival\n", (unsigned long long)r->thp_seen,
		       (unsigned long long)r->thp_arrived_huge);
	if (r->rolled_back) {
		printf("rollback%s: %s back on their original nodes (%llu pages), %s not back", r->rollback_stopped ? " (stopped)" : "",
		       sz(r->rollback_bytes, a), (unsigned long long)r->rollback_pages, sz(r->rollback_failed_bytes, b));
		for (int k = 0; k < NS_MIG_UNBACK_COUNT; k++)
			if (r->rollback_unback[k])
				printf("; %s %s", ns_mig_unback_name(k), sz(r->rollback_unback[k], a));
		printf("\n");
	}
}

static struct json_object *result_json(const struct ns_mig_result *r)
{
	struct json_object *o = json_object_new_object(), *pg = json_object_new_object();

	json_object_object_add(o, "outcome", json_object_new_string(r->stop == NS_MIG_DONE ? "done" : "stopped"));
	json_object_object_add(o, "reason", json_object_new_string(ns_mig_stop_str(r->stop)));
	json_object_object_add(o, "moved", kinds_json(r->moved));
	json_object_object_add(o, "moved_total", ns_json_u64(r->moved_total));
	json_object_object_add(pg, "moved", ns_json_u64(r->pages_moved));
	json_object_object_add(pg, "busy", ns_json_u64(r->pages_busy));
	json_object_object_add(pg, "retried", ns_json_u64(r->pages_retried));
	json_object_object_add(pg, "shared", ns_json_u64(r->pages_acces));
	json_object_object_add(pg, "fault", ns_json_u64(r->pages_fault));
	json_object_object_add(pg, "not_present", ns_json_u64(r->pages_noent));
	json_object_object_add(pg, "nomem", ns_json_u64(r->pages_nomem));
	json_object_object_add(pg, "other", ns_json_u64(r->pages_other));
	json_object_object_add(o, "pages", pg);
	json_object_object_add(o, "swapped", ns_json_u64(r->swapped));
	json_object_object_add(o, "thp_moved", ns_json_u64(r->thp_seen));
	json_object_object_add(o, "thp_still_huge", ns_json_u64(r->thp_arrived_huge));
	json_object_object_add(o, "duration_s", json_object_new_double(r->duration));
	json_object_object_add(o, "calls", ns_json_u64(r->calls));
	json_object_object_add(o, "jobs", ns_json_u64(r->jobs));
	json_object_object_add(o, "move_s", json_object_new_double((double)r->move_ns / 1e9));
	json_object_object_add(o, "longest_call_ms", json_object_new_double((double)r->longest_call_ns / 1e6));
	json_object_object_add(o, "rolled_back", json_object_new_boolean(r->rolled_back));
	json_object_object_add(o, "rollback_bytes", ns_json_u64(r->rollback_bytes));
	json_object_object_add(o, "rollback_failed", ns_json_u64(r->rollback_failed));
	json_object_object_add(o, "rollback_stopped", json_object_new_boolean(r->rollback_stopped));
	json_object_object_add(o, "rollback_complete", json_object_new_boolean(r->rollback_complete));
	json_object_object_add(o, "rollback_failed_bytes", ns_json_u64(r->rollback_failed_bytes));
	{
		struct json_object *nb = json_object_new_object();

		for (int k = 0; k < NS_MIG_UNBACK_COUNT; k++)
			json_object_object_add(nb, ns_mig_unback_name(k), ns_json_u64(r->rollback_unback[k]));
		json_object_object_add(o, "rollback_not_back", nb);
	}
	return o;
}

/* After a finished move: make the domain's memory policy point at the new nodes, so new
 * allocations do not return to the old ones. Only restrictive mode can change live. */
static int domain_policy(const char *domain, int mode, const char *before, const char *to, struct json_object *js)
{
	char msg[512];
	bool set = false;

	if (mode == NS_NUMA_RESTRICTIVE && strcmp(before, to) != 0) {
		if (ns_domain_numatune_set(ns_cli.connect, domain, to, msg, sizeof(msg)) < 0) {
			ns_err("domain %s: the memory moved, but setting numatune nodeset %s failed: %s", domain,
			       to, msg);
			return NS_EXIT_FAIL;
		}
		set = true;
		if (!js && !ns_cli.quiet)
			printf("domain %s: numatune nodeset %s -> %s (restrictive, live)\n", domain,
			       before[0] ? before : "(none)", to);
	} else if (mode != NS_NUMA_RESTRICTIVE && before[0] && strcmp(before, to) != 0)
		ns_warn("domain %s: numatune is %s with nodeset %s, which libvirt cannot change live: new "
			"allocations may go back there; run 'virsh numatune %s --nodeset %s --config' and restart it, "
			"or switch its mode to restrictive",
			domain, ns_numa_mode_name(mode), before, domain, to);
	if (js) {
		struct json_object *d = json_object_new_object();

		json_object_object_add(d, "name", json_object_new_string(domain));
		json_object_object_add(d, "numatune_mode", json_object_new_string(ns_numa_mode_name(mode)));
		json_object_object_add(d, "nodeset_before", json_object_new_string(before));
		json_object_object_add(d, "nodeset_after", json_object_new_string(set ? to : before));
		json_object_object_add(js, "domain", d);
	}
	return NS_EXIT_OK;
}

int ns_move_vm(const struct ns_move_req *r)
{
	struct ns_mig_opts o = *r->o;
	struct ns_mig_plan plan;
	struct ns_mig_result res;
	struct ns_proc_usage *u = NULL;
	struct json_object *js = r->js;
	struct sigaction sa;
	const char *dom = r->domain;
	char tostr[256], allowed[256], dnodes[256] = "", msg[512];
	int dmode = -1, rc, lock_fd = -1;
	bool widened = false;
	pid_t pid = r->pid, holder = 0;

	ns_set_format(&o.to, tostr, sizeof(tostr));
	if (o.all_shared && ns_cap_have(CAP_SYS_NICE) != 1) {
		ns_err("--all-shared needs %s (moving pages of other processes: MPOL_MF_MOVE_ALL)",
		       ns_cap_name(CAP_SYS_NICE));
		rc = NS_EXIT_FAIL;
		goto out;
	}
	/* identity only: a kernel thread has no memory; the name is for the output. (Not
	 * ns_proc_usage_read: its walk of numa_maps costs as much as a pagemap pass.) */
	rc = ns_proc_check_user(NULL, pid);
	if (rc == 0 && !(u = calloc(1, sizeof(*u))))
		rc = -ENOMEM;
	if (rc == 0)
		rc = ns_proc_status_read(NULL, pid, u);
	if (rc < 0) {
		if (rc == -EINVAL)
			ns_err("pid %d: a kernel thread has no memory to move", (int)pid);
		else
			ns_errno(rc, "pid %d", (int)pid);
		rc = NS_EXIT_FAIL;
		goto out;
	}
	/* a dry run changes nothing: it takes no lock (and needs no right to make one) */
	rc = r->dry_run ? 0 : ns_mig_lock(pid, &lock_fd, &holder, msg, sizeof(msg));
	if (rc == -EBUSY) {
		if (holder)
			ns_err("pid %d: another numa-migrate (pid %d) is moving it", (int)pid, (int)holder);
		else
			ns_err("pid %d: another numa-migrate is moving it", (int)pid);
		rc = NS_EXIT_FAIL;
		goto out;
	} else if (rc < 0) {
		ns_err("pid %d: lock: %s", (int)pid, msg[0] ? msg : strerror(-rc));
		rc = NS_EXIT_FAIL;
		goto out;
	}

	rc = ns_mig_preflight(pid, &o, &plan);
	if (rc < 0) {
		ns_errno(rc, "pid %d", (int)pid);
		rc = NS_EXIT_FAIL;
		goto out;
	}
	if (js) {
		json_object_object_add(js, "plan", plan_json(&plan));
	} else if (!ns_cli.quiet)
		print_plan(&plan, u->comm, tostr);
	if (dom) {
		rc = ns_domain_numatune_get(ns_cli.connect, dom, &dmode, dnodes, sizeof(dnodes), msg,
					    sizeof(msg));
		if (rc < 0) {
			ns_err("domain %s: reading numatune: %s", dom, msg[0] ? msg : strerror(-rc));
			rc = NS_EXIT_FAIL;
			goto out;
		}
	}
	if (!plan.mems_ok && dom && dmode == NS_NUMA_RESTRICTIVE && !r->dry_run) {
		/* widen to old ∪ new so the pages may live on both while they move */
		struct ns_set wide = plan.mems_allowed;
		char widestr[256];

		ns_set_or(&wide, &o.to);
		ns_set_format(&wide, widestr, sizeof(widestr));
		rc = ns_domain_numatune_set(ns_cli.connect, dom, widestr, msg, sizeof(msg));
		if (rc < 0) {
			ns_err("domain %s: widening numatune nodeset to %s: %s", dom, widestr, msg);
			rc = NS_EXIT_FAIL;
			goto out;
		}
		widened = true;
		if (!js && !ns_cli.quiet)
			printf("domain %s: numatune nodeset %s -> %s (widened for the move, restrictive, live)\n",
			       dom, dnodes, widestr);
		rc = ns_mig_preflight(pid, &o, &plan);
		if (rc < 0) {
			ns_errno(rc, "pid %d", (int)pid);
			rc = NS_EXIT_FAIL;
			goto out;
		}
	}
	if (!plan.mems_ok && dom && dmode == NS_NUMA_RESTRICTIVE && r->dry_run) {
		if (!js && !ns_cli.quiet)
			printf("domain %s: numatune nodeset %s would be widened to include node %s for the move\n",
			       dom, dnodes, tostr);
		plan.mems_ok = true;
	}
	if (!plan.mems_ok) {
		ns_set_format(&plan.mems_allowed, allowed, sizeof(allowed));
		if (dom && dmode != NS_NUMA_RESTRICTIVE)
			ns_err("domain %s: node %s is outside its numatune nodeset (%s, mode %s), which libvirt cannot "
			       "change while the domain runs: set <numatune><memory mode='restrictive'/> in its "
			       "definition (virsh edit) and restart it, or give the new nodeset with "
			       "'virsh numatune %s --nodeset %s --config' and restart",
			       dom, tostr, allowed, ns_numa_mode_name(dmode), dom, tostr);
		else
			ns_err("pid %d: node %s is not in its allowed memory nodes (%s): its cpuset forbids it; add "
			       "the node to the cpuset's cpuset.mems first",
			       (int)pid, tostr, allowed);
		rc = NS_EXIT_FAIL;
		goto out;
	}
	if (!plan.fits) {
		char a[32], b[32], c[32];

		ns_err("pid %d: refused: %s to move, node %s has %s of headroom: short by %s%s", (int)pid,
		       sz(plan.move_total, a), tostr, sz(plan.headroom, b), sz(plan.shortfall, c),
		       plan.huge_short ? " (hugetlb pool)" : "");
		rc = NS_EXIT_REFUSED;
		goto out;
	}
	if (r->dry_run) {
		rc = NS_EXIT_OK;
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
	o.plan = &plan; /* the run takes its totals from this preflight instead of walking again */
	rc = ns_mig_run(pid, &o, &res);
	if (o.progress)
		fputc('\n', stderr);
	if (rc == -EACCES) {
		ns_err("pid %d: the kernel refused node %s (not in the process's cpuset mems)", (int)pid, tostr);
		rc = NS_EXIT_FAIL;
		goto out;
	}
	if (rc < 0) {
		ns_errno(rc, "pid %d", (int)pid);
		rc = NS_EXIT_FAIL;
		goto out;
	}
	if (js)
		json_object_object_add(js, "result", result_json(&res));
	else if (!ns_cli.quiet)
		print_result(&res);
	switch (res.stop) {
	case NS_MIG_DONE:
		rc = NS_EXIT_OK;
		break;
	case NS_MIG_STOP_EXITED:
		ns_err("pid %d: the process exited during the move", (int)pid);
		rc = NS_EXIT_FAIL;
		break;
	default:
		if (res.rolled_back && res.rollback_complete) {
			ns_err("pid %d: stopped: %s; moved pages were put back", (int)pid, ns_mig_stop_str(res.stop));
			rc = NS_EXIT_REFUSED;
		} else if (res.rolled_back) {
			char a[32], b[32];

			ns_err("pid %d: stopped: %s; the rollback %s: %s of %s moved is not back", (int)pid,
			       ns_mig_stop_str(res.stop), res.rollback_stopped ? "was stopped too" : "is incomplete",
			       sz(res.rollback_failed_bytes, a), sz(res.moved_total, b));
			rc = NS_EXIT_STOPPED;
		} else {
			char a[32];

			ns_err("pid %d: stopped: %s; %s moved stays where it is", (int)pid, ns_mig_stop_str(res.stop),
			       sz(res.moved_total, a));
			rc = NS_EXIT_STOPPED;
		}
		break;
	}
	if (dom && rc == NS_EXIT_OK)
		rc = domain_policy(dom, dmode, dnodes, tostr, js);
out:
	/* a widened nodeset is put back when the move did not happen or did not finish */
	if (widened && rc != NS_EXIT_OK && dnodes[0] &&
	    ns_domain_numatune_set(ns_cli.connect, dom, dnodes, msg, sizeof(msg)) < 0)
		ns_err("domain %s: restoring numatune nodeset %s: %s", dom, dnodes, msg);
	ns_mig_unlock(lock_fd);
	free(u);
	return rc;
}
