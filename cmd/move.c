/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Moving one VM's memory with the migration engine, as numa-migrate, vm-pin --mem and the plan
 * executors all do it: the preflight (also numa-plan check and every dry run), the lock,
 * numatune handling for domains, the throttled move, the audit records and the exit code.
 * Shared by the commands so the safety rules and their messages live in one place. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "move.h"

static uint64_t kinds_sum(const uint64_t *v)
{
	uint64_t s = 0;

	for (int k = 0; k < NS_KIND_COUNT; k++)
		s = s + v[k] < s ? UINT64_MAX : s + v[k];
	return s;
}

static const char *nodes_text(const struct ns_set *s, char *buf, size_t len)
{
	if (ns_set_format(s, buf, len) < 0 || !buf[0])
		snprintf(buf, len, "-");
	return buf;
}

/* How pressure was watched, for --verbose: the kernel trigger is an early warning only, and
 * the run goes on sampling when it cannot be armed; the operator should know which it was. */
static void pressure_info(const struct nsc *c, const struct ns_mig_opts *o, const struct ns_mig_result *r,
			  const char *what)
{
	if (o->max_psi <= 0)
		return;
	if (r->psi_triggers)
		nsc_info(c, "%s: pressure: kernel PSI trigger on %s (some %.1f%% of %.1f s), %llu event%s", what,
			 r->psi_trigger_cgroup ? "the system and the process's cgroup" : "the system", o->max_psi,
			 r->psi_window, (unsigned long long)r->psi_events,
			 nsc_plural((long long)r->psi_events));
	if (r->psi_stall_files)
		nsc_info(c, "%s: pressure: stall totals of %s read before every chunk; %llu hold%s, %.3f s held", what,
			 r->psi_stall_files > 1 ? "the system and the process's cgroup" : "the system",
			 (unsigned long long)r->psi_holds, nsc_plural((long long)r->psi_holds), r->psi_held);
	if (r->psi_trigger_err)
		nsc_info(c, "%s: pressure: a kernel PSI trigger could not be armed (%s): %s", what,
			 strerror(-r->psi_trigger_err),
			 r->psi_triggers ? "watching the others" : "sampling the averages between chunks only");
	if (r->pressure_first >= 0)
		nsc_info(c, "%s: pressure first seen %.3f s after the start; %llu call%s handed out after it", what,
			 r->pressure_first, (unsigned long long)r->calls_after_pressure,
			 nsc_plural((long long)r->calls_after_pressure));
}

/* ---- the preflight ---- */

int nsc_check_run(struct nsc *c, const struct nsc_target *tg, const struct ns_mig_opts *o, struct nsc_check *chk)
{
	struct ns_proc_usage *u = NULL;
	char msg[512] = "", tostr[256], allowed[256], a[32], b[32], d[32], what[300];
	int rc;

	memset(chk, 0, sizeof(*chk));
	rc = nsc_psi_required(c, o->max_psi);
	if (rc != NS_EXIT_OK)
		return rc;
	chk->id = tg->id;
	chk->to = o->to;
	chk->from = o->from;
	chk->numa_mode = -1;
	nsc_vmid_text(&tg->id, what, sizeof(what));
	u = calloc(1, sizeof(*u));
	rc = u ? ns_proc_status_read(NULL, tg->id.pid, u) : -ENOMEM;
	if (rc < 0) {
		free(u);
		return nsc_fail_errno(c, rc, NULL, "%s", what);
	}
	snprintf(chk->comm, sizeof(chk->comm), "%s", u->comm);
	free(u);
	rc = ns_mig_preflight(tg->id.pid, o, &chk->plan);
	if (rc == -EINTR)
		return nsc_fail(c, NS_EXIT_REFUSED, NSC_R_SIGNAL, "%s: interrupted during the preflight: nothing moved",
				what);
	if (rc < 0)
		return nsc_fail_errno(c, rc, NULL, "%s", what);
	chk->complete = true;
	if (tg->id.domain) {
		rc = ns_domain_numatune_get(c->connect, tg->id.name, &chk->numa_mode, chk->nodeset,
					    sizeof(chk->nodeset), msg, sizeof(msg));
		if (rc < 0)
			return nsc_fail_libvirt(c, rc, what, msg);
		chk->domain = true;
		/* the move widens a restrictive nodeset to old + new for the move itself */
		chk->widen = !chk->plan.mems_ok && chk->numa_mode == NS_NUMA_RESTRICTIVE;
	}
	ns_set_format(&o->to, tostr, sizeof(tostr));
	ns_set_format(&chk->plan.mems_allowed, allowed, sizeof(allowed));
	if (!chk->plan.mems_ok && !chk->widen) {
		chk->verdict = NSC_NOT_ALLOWED;
		if (chk->domain)
			return nsc_fail(
				c, NS_EXIT_FAIL, NSC_R_NOT_ALLOWED,
				"%s: node %s is outside its numatune nodeset (%s, mode %s), which libvirt cannot "
				"change while the domain runs: set <numatune><memory mode='restrictive'/> in its "
				"definition (virsh edit) and restart it, or give the new nodeset with "
				"'virsh numatune %s --nodeset %s --config' and restart",
				what, tostr, allowed, ns_numa_mode_name(chk->numa_mode), tg->id.name, tostr);
		return nsc_fail(c, NS_EXIT_FAIL, NSC_R_NOT_ALLOWED,
				"%s: node %s is not in its allowed memory nodes (%s): its cpuset forbids it; add the "
				"node "
				"to the cpuset's cpuset.mems first",
				what, tostr, allowed);
	}
	if (!chk->plan.fits) {
		chk->verdict = NSC_UNSAFE;
		return nsc_fail(c, NS_EXIT_REFUSED, NSC_R_HEADROOM,
				"%s: refused: %s to move, node %s has %s of headroom: short by %s%s", what,
				nsc_size(chk->plan.move_total, a), tostr, nsc_size(chk->plan.headroom, b),
				nsc_size(chk->plan.shortfall, d), chk->plan.huge_short ? " (hugetlb pool)" : "");
	}
	chk->verdict = NSC_SAFE;
	return NS_EXIT_OK;
}

/* headroom - bytes, signed for people ("-1.5G" when short) */
static const char *after_text(uint64_t headroom, uint64_t bytes, char *buf)
{
	char tmp[32];

	if (headroom >= bytes)
		return nsc_size(headroom - bytes, buf);
	snprintf(buf, 32, "-%s", nsc_size(bytes - headroom, tmp));
	return buf;
}

void nsc_check_text(const struct nsc *c, const struct nsc_check *k)
{
	const struct ns_mig_plan *p = &k->plan;
	char a[32], b[32], cc[32], d[32], e[32], tostr[256], allowed[256], who[300];

	if (!nsc_text(c) || !k->complete)
		return;
	nodes_text(&k->to, tostr, sizeof(tostr));
	nodes_text(&p->mems_allowed, allowed, sizeof(allowed));
	printf("%s: move to node %s\n", nsc_vmid_text(&k->id, who, sizeof(who)), tostr);
	printf("  to move:    anon %s, thp %s, file %s, shmem %s, hugetlb %s\n", nsc_size(p->move[NS_KIND_ANON], a),
	       nsc_size(p->move[NS_KIND_THP], b), nsc_size(p->move[NS_KIND_FILE], cc),
	       nsc_size(p->move[NS_KIND_SHMEM], d), nsc_size(p->move[NS_KIND_HUGETLB], e));
	printf("  on target:  %s; on other nodes (not moved): %s; swapped out (not moved): %s\n",
	       nsc_size(kinds_sum(p->on_target), a), nsc_size(p->elsewhere, b), nsc_size(p->swapped, cc));
	for (int i = 0; i < p->nr_targets; i++) {
		const struct ns_fit *f = &p->target_fit[i];

		printf("  node %d:     headroom %s (free %s, high watermark + reserve %s)\n", f->node,
		       nsc_size(f->headroom, a), nsc_size(f->free, b), nsc_size(f->floor, cc));
	}
	printf("  headroom:   %s before, %s after the move\n", nsc_size(p->headroom, a),
	       after_text(p->headroom, p->move_total, b));
	for (unsigned i = 0; i < p->nr_pools; i++)
		printf("  hugetlb %s: %s to move, %s free in the targets' pools, %s after\n",
		       nsc_size(p->pool_size[i], a), nsc_size(p->huge_move[i], b), nsc_size(p->huge_free[i], cc),
		       after_text(p->huge_free[i], p->huge_move[i], d));
	printf("  memory:     allowed on node%s %s%s\n", nsc_plural(ns_set_count(&p->mems_allowed)), allowed,
	       p->mems_ok ? ""
	       : k->widen ? " (restrictive numatune: widened to include the target for the move)"
			  : " (the target is not among them)");
	if (k->verdict == NSC_NOT_ALLOWED)
		printf("  verdict:    not allowed: node %s is outside the allowed memory nodes\n", tostr);
	else if (k->verdict == NSC_SAFE && p->move_total == 0 && kinds_sum(p->move) == 0)
		printf("  verdict:    safe: nothing to move\n");
	else if (k->verdict == NSC_SAFE)
		printf("  verdict:    safe: %s of %s headroom\n", nsc_size(p->move_total, a), nsc_size(p->headroom, b));
	else
		printf("  verdict:    unsafe: short by %s%s\n", nsc_size(p->shortfall, a),
		       p->huge_short ? " (hugetlb pool)" : "");
}

static struct json_object *kinds_json(const uint64_t *v)
{
	struct json_object *o = json_object_new_object();

	for (int k = 0; k < NS_KIND_COUNT; k++)
		json_object_object_add(o, ns_kind_name(k), nsc_json_u64(v[k]));
	return o;
}

static const char *verdict_name(enum nsc_verdict v)
{
	return v == NSC_SAFE ? "safe" : v == NSC_UNSAFE ? "unsafe" : "not_allowed";
}

struct json_object *nsc_check_json(const struct nsc_check *k)
{
	const struct ns_mig_plan *p = &k->plan;
	struct json_object *o = nsc_doc(NSC_KIND_CHECK), *tg = json_object_new_array(), *hp = json_object_new_array();

	json_object_object_add(o, "vm", nsc_vmid_json(&k->id));
	json_object_object_add(o, "comm", json_object_new_string(k->comm));
	json_object_object_add(o, "to", nsc_json_set(&k->to));
	json_object_object_add(o, "from", ns_set_empty(&k->from) ? NULL : nsc_json_set(&k->from));
	json_object_object_add(o, "move", kinds_json(p->move));
	json_object_object_add(o, "move_total", nsc_json_u64(p->move_total));
	json_object_object_add(o, "on_target", kinds_json(p->on_target));
	json_object_object_add(o, "elsewhere", nsc_json_u64(p->elsewhere));
	json_object_object_add(o, "swapped", nsc_json_u64(p->swapped));
	for (int i = 0; i < p->nr_targets; i++) {
		const struct ns_fit *f = &p->target_fit[i];
		struct json_object *n = json_object_new_object();

		json_object_object_add(n, "node", json_object_new_int(f->node));
		json_object_object_add(n, "headroom", nsc_json_u64(f->headroom));
		json_object_object_add(n, "free", nsc_json_u64(f->free));
		json_object_object_add(n, "floor", nsc_json_u64(f->floor));
		json_object_object_add(n, "reserve", nsc_json_u64(f->reserve));
		json_object_array_add(tg, n);
	}
	json_object_object_add(o, "targets", tg);
	json_object_object_add(o, "headroom_before", nsc_json_u64(p->headroom));
	/* what is left once the move is made: negative when it does not fit */
	json_object_object_add(o, "headroom_after",
			       json_object_new_int64(p->headroom >= p->move_total
							     ? (int64_t)(p->headroom - p->move_total)
							     : -(int64_t)(p->move_total - p->headroom)));
	for (unsigned i = 0; i < p->nr_pools; i++) {
		struct json_object *h = json_object_new_object();

		json_object_object_add(h, "page_size", nsc_json_u64(p->pool_size[i]));
		json_object_object_add(h, "move", nsc_json_u64(p->huge_move[i]));
		json_object_object_add(h, "free_before", nsc_json_u64(p->huge_free[i]));
		json_object_object_add(h, "free_after",
				       json_object_new_int64(p->huge_free[i] >= p->huge_move[i]
								     ? (int64_t)(p->huge_free[i] - p->huge_move[i])
								     : -(int64_t)(p->huge_move[i] - p->huge_free[i])));
		json_object_array_add(hp, h);
	}
	json_object_object_add(o, "hugetlb", hp);
	json_object_object_add(o, "mems_allowed", nsc_json_set(&p->mems_allowed));
	json_object_object_add(o, "mems_ok", json_object_new_boolean(p->mems_ok || k->widen));
	if (k->domain) {
		struct json_object *n = json_object_new_object();

		json_object_object_add(n, "mode", json_object_new_string(ns_numa_mode_name(k->numa_mode)));
		json_object_object_add(n, "nodeset", json_object_new_string(k->nodeset));
		json_object_object_add(n, "widen", json_object_new_boolean(k->widen));
		json_object_object_add(o, "numatune", n);
	} else
		json_object_object_add(o, "numatune", NULL);
	json_object_object_add(o, "verdict", json_object_new_string(verdict_name(k->verdict)));
	json_object_object_add(o, "shortfall", nsc_json_u64(p->shortfall));
	return o;
}

/* ---- the move ---- */

/* The engine's progress: the meter or JSON lines, and the audit record of a rollback's start
 * (the engine turns back on its own, under pressure or on a signal). */
struct watch {
	struct nsc *c;
	struct nsc_progress prog;
	const struct nsc_vmid *id;
	bool rollback_logged;
};

static void on_progress(void *arg, const struct ns_mig_progress *mp)
{
	struct watch *w = arg;

	/* a reader gone (`| head -1`): one stop request, so the move rolls back whole */
	nsc_output_watch();
	if (mp->rolling_back && !w->rollback_logged) {
		nsc_audit(w->c, LOG_WARNING, "rollback", "start", w->id, "moved=%llu",
			  (unsigned long long)mp->total_bytes);
		w->rollback_logged = true;
	}
	if (nsc_progress_on(&w->prog))
		nsc_progress_update(&w->prog, mp->rolling_back ? "rolling_back" : "moving", mp->moved_bytes,
				    mp->total_bytes, mp->elapsed, "headroom", mp->target_headroom);
}

/* After a finished move: the domain's memory policy points at the new nodes, so new
 * allocations do not return to the old ones. Only restrictive mode can change live. */
static int domain_policy(struct nsc *c, struct nsc_move *mv, const char *to)
{
	const struct nsc_check *k = &mv->check;
	char msg[512], what[300];

	nsc_vmid_text(&k->id, what, sizeof(what));
	if (k->numa_mode == NS_NUMA_RESTRICTIVE && strcmp(k->nodeset, to) != 0) {
		nsc_audit(c, LOG_NOTICE, "numatune", "start", &k->id, "nodeset_before=%s nodeset_after=%s",
			  k->nodeset[0] ? k->nodeset : "-", to);
		if (ns_domain_numatune_set(c->connect, k->id.name, to, msg, sizeof(msg)) < 0) {
			nsc_audit(c, LOG_ERR, "numatune", "end", &k->id, "outcome=failed");
			return nsc_fail(c, NS_EXIT_FAIL, NSC_R_LIBVIRT,
					"%s: the memory moved, but setting numatune nodeset %s failed: %s", what, to,
					msg);
		}
		nsc_audit(c, LOG_NOTICE, "numatune", "end", &k->id, "outcome=done");
		mv->numatune_set = true;
		snprintf(mv->nodeset_after, sizeof(mv->nodeset_after), "%s", to);
		/* after the move's own lines, which are printed as soon as it ends */
		if (nsc_text(c))
			printf("%s: numatune nodeset %s -> %s (restrictive, live)\n", what,
			       k->nodeset[0] ? k->nodeset : "(none)", to);
	} else if (k->numa_mode != NS_NUMA_RESTRICTIVE && k->nodeset[0] && strcmp(k->nodeset, to) != 0)
		nsc_warn(c,
			 "%s: numatune is %s with nodeset %s, which libvirt cannot change live: new allocations may "
			 "go back there; run 'virsh numatune %s --nodeset %s --config' and restart it, or switch its "
			 "mode to restrictive",
			 what, ns_numa_mode_name(k->numa_mode), k->nodeset, k->id.name, to);
	return NS_EXIT_OK;
}

static int widen_nodeset(struct nsc *c, struct nsc_move *mv, const struct ns_set *to, char *widestr, size_t len)
{
	struct nsc_check *k = &mv->check;
	struct ns_set wide = k->plan.mems_allowed;
	char msg[512], what[300];

	nsc_vmid_text(&k->id, what, sizeof(what));
	ns_set_or(&wide, to);
	ns_set_format(&wide, widestr, len);
	nsc_audit(c, LOG_NOTICE, "numatune", "start", &k->id, "nodeset_before=%s nodeset_after=%s widen=yes",
		  k->nodeset[0] ? k->nodeset : "-", widestr);
	if (ns_domain_numatune_set(c->connect, k->id.name, widestr, msg, sizeof(msg)) < 0) {
		nsc_audit(c, LOG_ERR, "numatune", "end", &k->id, "outcome=failed");
		return nsc_fail(c, NS_EXIT_FAIL, NSC_R_LIBVIRT, "%s: widening numatune nodeset to %s: %s", what,
				widestr, msg);
	}
	nsc_audit(c, LOG_NOTICE, "numatune", "end", &k->id, "outcome=done");
	nsc_info(c, "%s: numatune nodeset %s -> %s (widened for the move, restrictive, live)", what, k->nodeset,
		 widestr);
	return NS_EXIT_OK;
}

/* How a run of the engine ends, as the contract's exit code. */
static int move_outcome(struct nsc *c, struct nsc_move *mv)
{
	const struct ns_mig_result *r = &mv->res;
	char what[300];
	const char *reason;
	bool back = r->rolled_back && r->rollback_complete;

	nsc_vmid_text(&mv->check.id, what, sizeof(what));
	switch (r->stop) {
	case NS_MIG_DONE:
		mv->outcome = "done";
		return NS_EXIT_OK;
	case NS_MIG_STOP_EXITED:
		mv->outcome = "failed";
		return nsc_fail(c, NS_EXIT_FAIL, NSC_R_EXITED, "%s: the process exited during the move", what);
	case NS_MIG_STOP_HEADROOM:
		reason = NSC_R_HEADROOM;
		break;
	case NS_MIG_STOP_ENOMEM:
		reason = NSC_R_MEMORY;
		break;
	case NS_MIG_STOP_PSI:
		reason = NSC_R_PRESSURE;
		break;
	case NS_MIG_STOP_SIGNAL:
	default:
		reason = NSC_R_SIGNAL;
		break;
	}
	if (back || r->moved_total == 0) {
		mv->outcome = "rolled_back";
		return nsc_fail(c, NS_EXIT_REFUSED, reason, "%s: stopped: %s; %s", what, ns_mig_stop_str(r->stop),
				r->moved_total ? "moved pages were put back" : "nothing had moved");
	}
	mv->outcome = "partial";
	if (r->rolled_back)
		return nsc_fail(c, NS_EXIT_PARTIAL, reason,
				"%s: stopped: %s; the rollback %s: %s not back (see the result); run the same command "
				"again to finish the move",
				what, ns_mig_stop_str(r->stop), r->rollback_stopped ? "was stopped" : "left some",
				nsc_size(r->rollback_failed_bytes, (char[32]){0}));
	return nsc_fail(c, NS_EXIT_PARTIAL, reason,
			"%s: stopped: %s; what moved stays moved; run the same command again to finish the move", what,
			ns_mig_stop_str(r->stop));
}

int nsc_move_run(struct nsc *c, const struct nsc_target *tg, struct ns_mig_opts *o, bool dry_run, struct nsc_move *mv)
{
	struct watch w;
	struct nsc_check *k = &mv->check;
	char tostr[256], fromstr[256], what[300], widestr[256] = "", msg[512];
	int rc, lock = -1, prio;
	bool widened = false;

	memset(mv, 0, sizeof(*mv));
	nsc_vmid_text(&tg->id, what, sizeof(what));
	/* the preflight's scans stop on a request as the move does (handlers: nsc_init) */
	o->stop = &nsc_stop_requests;
	ns_set_format(&o->to, tostr, sizeof(tostr));
	if (o->all_shared && ns_cap_have(CAP_SYS_NICE) != 1)
		return nsc_fail(c, NS_EXIT_FAIL, NSC_R_PERMISSION,
				"--all-shared needs %s (moving pages of other processes: MPOL_MF_MOVE_ALL)",
				ns_cap_name(CAP_SYS_NICE));
	/* one changer per VM; a dry run changes nothing, so it takes no lock and may be run by
	 * anyone who can read the process */
	if (!dry_run) {
		rc = nsc_vm_lock(c, &tg->id, &lock);
		if (rc != NS_EXIT_OK)
			return rc;
	}
	/* the preflight's walk heeds stop requests too: SIGTERM during it ends the command
	 * within a few ms, nothing moved (exit 4) */
	nsc_signals_catch();
	o->stop = &nsc_stop_requests;
	rc = nsc_check_run(c, tg, o, k);
	if (k->complete)
		nsc_info(c, "%s: preflight: %llu bytes to move, %llu of headroom on node %s: %s", what,
			 (unsigned long long)k->plan.move_total, (unsigned long long)k->plan.headroom, tostr,
			 k->verdict == NSC_SAFE ? "safe" : "not safe");
	nsc_check_text(c, k);
	/* a stop request during the walk or after it ends the command as one before it */
	if (rc == NS_EXIT_OK && (nsc_stopped() || nsc_output_watch()))
		rc = nsc_fail(c, NS_EXIT_REFUSED, NSC_R_SIGNAL, "%s: interrupted during the preflight: nothing moved",
			      what);
	if (rc != NS_EXIT_OK || dry_run)
		goto out;
	if (k->widen) {
		rc = widen_nodeset(c, mv, &o->to, widestr, sizeof(widestr));
		if (rc != NS_EXIT_OK)
			goto out;
		widened = true;
		rc = ns_mig_preflight(tg->id.pid, o, &k->plan);
		if (rc == -EINTR) {
			rc = nsc_fail(c, NS_EXIT_REFUSED, NSC_R_SIGNAL,
				      "%s: interrupted during the preflight: nothing moved", what);
			goto out;
		}
		if (rc < 0) {
			rc = nsc_fail_errno(c, rc, NULL, "%s", what);
			goto out;
		}
	}

	if (nsc_stopped() || nsc_output_watch()) {
		rc = nsc_fail(c, NS_EXIT_REFUSED, NSC_R_SIGNAL, "%s: interrupted before the move: nothing moved", what);
		goto out;
	}
	w = (struct watch){.c = c, .id = &k->id};
	nsc_progress_init(&w.prog, c);
	o->progress = on_progress;
	o->progress_arg = &w;
	o->plan = &k->plan; /* the run takes its totals from this preflight instead of walking again */
	nodes_text(&o->from, fromstr, sizeof(fromstr));
	nsc_info(c, "%s: moving: rate %s, chunk %s, jobs %s, max PSI %.1f%% for %.0f s, on pressure %s", what,
		 o->rate ? "limited" : "unlimited", o->chunk ? "fixed" : "adaptive", o->jobs ? "as given" : "default",
		 o->max_psi, o->psi_grace, o->rollback ? "rollback" : "stop");
	nsc_audit(c, LOG_NOTICE, "move", "start", &k->id, "from=%s to=%s bytes=%llu",
		  ns_set_empty(&o->from) ? "other" : fromstr, tostr, (unsigned long long)k->plan.move_total);
	rc = ns_mig_run(tg->id.pid, o, &mv->res);
	nsc_progress_end(&w.prog);
	o->progress = NULL;
	o->plan = NULL;
	if (rc == -EACCES) {
		mv->outcome = "failed";
		rc = nsc_fail(c, NS_EXIT_FAIL, NSC_R_NOT_ALLOWED,
			      "%s: the kernel refused node %s (not in the process's cpuset mems)", what, tostr);
	} else if (rc < 0) {
		mv->outcome = "failed";
		rc = nsc_fail_errno(c, rc, NULL, "%s", what);
	} else {
		mv->ran = true;
		pressure_info(c, o, &mv->res, what);
		nsc_move_text(c, mv);
		rc = move_outcome(c, mv);
	}
	if (mv->res.rolled_back)
		nsc_audit(c, LOG_WARNING, "rollback", "end", &k->id,
			  "outcome=%s rollback_bytes=%llu rollback_failed_bytes=%llu",
			  mv->res.rollback_complete  ? "done"
			  : mv->res.rollback_stopped ? "stopped"
						     : "partial",
			  (unsigned long long)mv->res.rollback_bytes,
			  (unsigned long long)mv->res.rollback_failed_bytes);
	prio = rc == NS_EXIT_OK ? LOG_NOTICE : rc == NS_EXIT_REFUSED || rc == NS_EXIT_PARTIAL ? LOG_WARNING : LOG_ERR;
	nsc_audit(c, prio, "move", "end", &k->id,
		  "to=%s outcome=%s code=%d moved=%llu duration_s=%.3f rolled_back=%s rollback_bytes=%llu "
		  "rollback_failed_bytes=%llu",
		  tostr, mv->outcome ? mv->outcome : "failed", rc, (unsigned long long)mv->res.moved_total,
		  mv->res.duration, mv->res.rolled_back ? "yes" : "no", (unsigned long long)mv->res.rollback_bytes,
		  (unsigned long long)mv->res.rollback_failed_bytes);
	if (rc == NS_EXIT_OK && k->domain)
		rc = domain_policy(c, mv, tostr);
out:
	/* a widened nodeset is put back when the move did not happen or did not finish */
	if (widened && rc != NS_EXIT_OK && k->nodeset[0]) {
		nsc_audit(c, LOG_NOTICE, "numatune", "start", &k->id, "nodeset_before=%s nodeset_after=%s restore=yes",
			  widestr, k->nodeset);
		if (ns_domain_numatune_set(c->connect, k->id.name, k->nodeset, msg, sizeof(msg)) < 0) {
			nsc_audit(c, LOG_ERR, "numatune", "end", &k->id, "outcome=failed");
			nsc_err(c, "%s: restoring numatune nodeset %s: %s", what, k->nodeset, msg);
		} else
			nsc_audit(c, LOG_NOTICE, "numatune", "end", &k->id, "outcome=done");
	}
	nsc_vm_unlock(lock);
	return rc;
}

void nsc_move_text(const struct nsc *c, const struct nsc_move *mv)
{
	const struct ns_mig_result *r = &mv->res;
	char a[32], b[32];

	if (!nsc_text(c) || !mv->ran)
		return;
	if (r->stop == NS_MIG_DONE && r->pages_moved == 0 && r->moved_total == 0)
		printf("done: nothing to move\n");
	else
		printf("%s: moved %s (%llu pages or huge pages) in %.1f s, %s/s; %llu call%s (%u at once), longest "
		       "%.1f ms, chunks %llu-%llu\n",
		       r->stop == NS_MIG_DONE ? "done" : "stopped", nsc_size(r->moved_total, a),
		       (unsigned long long)r->pages_moved, r->duration,
		       nsc_size(r->duration > 0 ? (uint64_t)((double)r->moved_total / r->duration) : 0, b),
		       (unsigned long long)r->calls, nsc_plural((long long)r->calls), r->jobs,
		       (double)r->longest_call_ns / 1e6, (unsigned long long)r->chunk_min,
		       (unsigned long long)r->chunk_max);
	printf("pages: moved %llu, busy %llu (retried %llu), shared with other processes %llu, not movable %llu, "
	       "not present %llu, no memory %llu, other %llu; swapped out %s\n",
	       (unsigned long long)r->pages_moved, (unsigned long long)r->pages_busy,
	       (unsigned long long)r->pages_retried, (unsigned long long)r->pages_acces,
	       (unsigned long long)r->pages_fault, (unsigned long long)r->pages_noent,
	       (unsigned long long)r->pages_nomem, (unsigned long long)r->pages_other, nsc_size(r->swapped, b));
	if (r->thp_seen)
		printf("THP: %llu moved, %llu still huge on arrival\n", (unsigned long long)r->thp_seen,
		       (unsigned long long)r->thp_arrived_huge);
	if (r->rolled_back) {
		printf("rollback: %s back on their original nodes (%llu pages), %s not back%s",
		       nsc_size(r->rollback_bytes, a), (unsigned long long)r->rollback_pages,
		       nsc_size(r->rollback_failed_bytes, b), r->rollback_stopped ? " (stopped on request)" : "");
		for (int i = 0; i < NS_MIG_UNBACK_COUNT; i++)
			if (r->rollback_unback[i])
				printf(", %s %s", ns_mig_unback_name(i), nsc_size(r->rollback_unback[i], a));
		printf("\n");
	}
}

static const char *stop_name(enum ns_mig_stop s)
{
	switch (s) {
	case NS_MIG_DONE:
		return "done";
	case NS_MIG_STOP_HEADROOM:
		return NSC_R_HEADROOM;
	case NS_MIG_STOP_PSI:
		return NSC_R_PRESSURE;
	case NS_MIG_STOP_ENOMEM:
		return NSC_R_MEMORY;
	case NS_MIG_STOP_SIGNAL:
		return NSC_R_SIGNAL;
	case NS_MIG_STOP_EXITED:
		return NSC_R_EXITED;
	}
	return NSC_R_FAILED;
}

bool nsc_move_changed(const struct nsc_move *mv)
{
	const struct ns_mig_result *r = &mv->res;

	if (!mv->ran)
		return false;
	/* what moved and stayed moved, or the numatune pointed at the target */
	return mv->numatune_set || (r->moved_total > 0 && !(r->rolled_back && r->rollback_complete));
}

struct json_object *nsc_move_json(const struct nsc_move *mv, bool dry_run)
{
	const struct ns_mig_result *r = &mv->res;
	struct json_object *o, *pg, *rb;

	/* a dry run, and a move refused before the engine ran, are their preflight */
	if (dry_run || !mv->ran)
		return nsc_check_json(&mv->check);
	o = nsc_doc(NSC_KIND_MOVE);
	json_object_object_add(o, "vm", nsc_vmid_json(&mv->check.id));
	json_object_object_add(o, "check", nsc_check_json(&mv->check));
	json_object_object_add(o, "changed", json_object_new_boolean(nsc_move_changed(mv)));
	json_object_object_add(o, "outcome", mv->outcome ? json_object_new_string(mv->outcome) : NULL);
	json_object_object_add(o, "stop", mv->ran ? json_object_new_string(stop_name(r->stop)) : NULL);
	json_object_object_add(o, "moved", kinds_json(r->moved));
	json_object_object_add(o, "moved_total", nsc_json_u64(r->moved_total));
	pg = json_object_new_object();
	json_object_object_add(pg, "moved", nsc_json_u64(r->pages_moved));
	json_object_object_add(pg, "busy", nsc_json_u64(r->pages_busy));
	json_object_object_add(pg, "retried", nsc_json_u64(r->pages_retried));
	json_object_object_add(pg, "shared", nsc_json_u64(r->pages_acces));
	json_object_object_add(pg, "fault", nsc_json_u64(r->pages_fault));
	json_object_object_add(pg, "not_present", nsc_json_u64(r->pages_noent));
	json_object_object_add(pg, "nomem", nsc_json_u64(r->pages_nomem));
	json_object_object_add(pg, "other", nsc_json_u64(r->pages_other));
	json_object_object_add(o, "pages", pg);
	json_object_object_add(o, "swapped", nsc_json_u64(r->swapped));
	json_object_object_add(o, "thp_moved", nsc_json_u64(r->thp_seen));
	json_object_object_add(o, "thp_still_huge", nsc_json_u64(r->thp_arrived_huge));
	json_object_object_add(o, "duration_s", nsc_json_seconds(r->duration));
	json_object_object_add(o, "calls", nsc_json_u64(r->calls));
	json_object_object_add(o, "jobs", nsc_json_u64(r->jobs));
	json_object_object_add(o, "move_s", nsc_json_seconds((double)r->move_ns / 1e9));
	json_object_object_add(o, "longest_call_s", nsc_json_seconds((double)r->longest_call_ns / 1e9));
	json_object_object_add(o, "longest_call_end_s", nsc_json_seconds(r->longest_call_end));
	json_object_object_add(o, "chunk_min", nsc_json_u64(r->chunk_min));
	json_object_object_add(o, "chunk_max", nsc_json_u64(r->chunk_max));
	json_object_object_add(o, "started_s", nsc_json_seconds(r->started));
	json_object_object_add(o, "last_call_end_s", nsc_json_seconds(r->last_call_end));
	{
		struct json_object *p = json_object_new_object();

		json_object_object_add(p, "triggers", nsc_json_u64(r->psi_triggers));
		json_object_object_add(p, "cgroup_trigger", json_object_new_boolean(r->psi_trigger_cgroup));
		json_object_object_add(p, "window_s", nsc_json_seconds(r->psi_window));
		json_object_object_add(p, "events", nsc_json_u64(r->psi_events));
		json_object_object_add(p, "stall_files", nsc_json_u64(r->psi_stall_files));
		json_object_object_add(p, "holds", nsc_json_u64(r->psi_holds));
		json_object_object_add(p, "held_s", nsc_json_seconds(r->psi_held));
		json_object_object_add(p, "first_hold_s", r->hold_first >= 0 ? nsc_json_seconds(r->hold_first) : NULL);
		json_object_object_add(p, "first_s", r->pressure_first >= 0 ? nsc_json_seconds(r->pressure_first) : NULL);
		json_object_object_add(p, "calls_after", nsc_json_u64(r->calls_after_pressure));
		json_object_object_add(o, "pressure", p);
	}
	rb = json_object_new_object();
	json_object_object_add(rb, "done", json_object_new_boolean(r->rolled_back));
	json_object_object_add(rb, "complete", json_object_new_boolean(r->rolled_back && r->rollback_complete));
	json_object_object_add(rb, "stopped", json_object_new_boolean(r->rollback_stopped));
	json_object_object_add(rb, "bytes", nsc_json_u64(r->rollback_bytes));
	json_object_object_add(rb, "pages", nsc_json_u64(r->rollback_pages));
	json_object_object_add(rb, "failed_bytes", nsc_json_u64(r->rollback_failed_bytes));
	json_object_object_add(rb, "failed_pages", nsc_json_u64(r->rollback_failed));
	{
		struct json_object *nb = json_object_new_object();

		for (int i = 0; i < NS_MIG_UNBACK_COUNT; i++)
			json_object_object_add(nb, ns_mig_unback_name(i), nsc_json_u64(r->rollback_unback[i]));
		json_object_object_add(rb, "not_back", nb);
	}
	json_object_object_add(o, "rollback", rb);
	if (mv->check.domain) {
		struct json_object *n = json_object_new_object();

		json_object_object_add(n, "mode", json_object_new_string(ns_numa_mode_name(mv->check.numa_mode)));
		json_object_object_add(n, "nodeset_before", json_object_new_string(mv->check.nodeset));
		json_object_object_add(n, "nodeset_after",
				       json_object_new_string(mv->numatune_set ? mv->nodeset_after
									       : mv->check.nodeset));
		json_object_object_add(o, "numatune", n);
	} else
		json_object_object_add(o, "numatune", NULL);
	return o;
}
