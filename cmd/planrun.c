/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Executing a rebalance plan step by step (see planrun.h). Each step is checked against the
 * live process before it runs (a reused pid or a renamed VM makes the plan stale), then it is
 * an ordinary pin-with-memory run (cmd/pinops.c), with its own audit records. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "pinops.h"
#include "planrun.h"
#include "target.h"
#include "numasafe/plan.h"

static const char *outcome_name(int rc)
{
	switch (rc) {
	case NS_EXIT_OK:
		return "done";
	case NS_EXIT_REFUSED:
		return "refused";
	case NS_EXIT_PARTIAL:
		return "partial";
	default:
		return "failed";
	}
}

/* The step's VM as it is now: the plan's pid must still be that VM (same start time, same
 * name; for a domain, the pid libvirt's pid file names), or the plan is stale. */
static int step_target(struct nsc *c, const char *file, const struct ns_plan_exec_step *s, struct nsc_target *tg)
{
	char msg[512] = "";
	int rc;

	memset(tg, 0, sizeof(*tg));
	tg->vm_rc = -ENOEXEC;
	rc = nsc_vm_setup(c);
	if (rc != NS_EXIT_OK)
		return rc;
	rc = ns_plan_step_verify(NULL, s, msg, sizeof(msg));
	if (rc == -ESTALE || rc == -EINVAL)
		return nsc_fail(c, NS_EXIT_FAIL, NSC_R_STALE, "%s: step %d: %s: the plan is stale", file, s->index,
				msg);
	if (rc < 0)
		return nsc_fail_errno(c, rc, NSC_R_STALE, "%s: step %d: %s", file, s->index, msg[0] ? msg : s->vm);
	tg->vm_rc = ns_vm_from_pid(NULL, s->pid, &tg->vm);
	if (tg->vm_rc == -EPERM || tg->vm_rc == -EACCES)
		return nsc_fail(c, NS_EXIT_FAIL, NSC_R_STALE, "%s: step %d: %s (pid %d) is no VM: %s: the plan is stale",
				file, s->index, s->vm, (int)s->pid,
				tg->vm_rc == -EPERM ? "its owner is not root or a VM user"
						    : "its executable is not root's alone");
	if (tg->vm_rc < 0 && tg->vm_rc != -ENODATA)
		return nsc_fail_errno(c, tg->vm_rc, NSC_R_STALE, "%s: step %d: %s (pid %d)", file, s->index, s->vm,
				      (int)s->pid);
	if (s->is_domain) {
		/* libvirt acts on a domain by its name */
		snprintf(tg->vm.name, sizeof(tg->vm.name), "%s", s->vm);
		tg->vm.is_domain = 1;
	}
	nsc_vmid_from_vm(&tg->id, &tg->vm);
	return NS_EXIT_OK;
}

static struct json_object *step_json(const struct ns_plan_exec_step *s, const struct nsc_vmid *id, int rc,
				     const char *reason, struct json_object *pin)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "step", json_object_new_int(s->index));
	json_object_object_add(o, "vm", nsc_vmid_json(id));
	json_object_object_add(o, "to", json_object_new_int(s->to_node));
	json_object_object_add(o, "bytes", nsc_json_u64(s->bytes));
	json_object_object_add(o, "temporary", json_object_new_boolean(s->temporary));
	json_object_object_add(o, "outcome", json_object_new_string(outcome_name(rc)));
	json_object_object_add(o, "code", json_object_new_int(rc));
	json_object_object_add(o, "reason",
			       rc == NS_EXIT_OK ? NULL : json_object_new_string(reason ? reason : NSC_R_FAILED));
	json_object_object_add(o, "pin", pin);
	return o;
}

int nsc_plan_run(struct nsc *c, const struct nsc_plan_run *run, struct json_object **doc)
{
	struct ns_plan_exec_step *steps = NULL;
	struct json_object *arr = json_object_new_array();
	char msg[512] = "";
	int n = 0, rc, done = 0, changed = 0;
	uint64_t moved = 0;

	*doc = NULL;
	rc = ns_plan_read(run->file, &steps, &n, msg, sizeof(msg));
	if (rc < 0) {
		json_object_put(arr);
		return nsc_fail(c, NS_EXIT_FAIL, NSC_R_BAD_INPUT, "%s", msg[0] ? msg : strerror(-rc));
	}
	rc = NS_EXIT_OK;
	if (n == 0 && nsc_text(c))
		printf("%s: no steps: every VM is already where the plan puts it\n", run->file);
	for (int i = 0; i < n && rc == NS_EXIT_OK; i++) {
		const struct ns_plan_exec_step *s = &steps[i];
		const struct ns_node *node = ns_topo_find(run->topo, s->to_node);
		struct nsc_pin_job job;
		struct nsc_target tg;
		struct nsc_pin p;
		struct nsc_vmid id;
		char what[300], qfile[1100];

		memset(&job, 0, sizeof(job));
		memset(&id, 0, sizeof(id));
		snprintf(id.name, sizeof(id.name), "%s", s->vm);
		id.domain = s->is_domain;
		id.pid = s->pid;
		id.start_time = s->start_time;
		if (!node) {
			rc = nsc_fail(c, NS_EXIT_FAIL, NSC_R_STALE, "%s: step %d: node %d does not exist", run->file,
				      s->index, s->to_node);
			json_object_array_add(arr, step_json(s, &id, rc, c->reason, NULL));
			break;
		}
		/* the CPUs the plan kept for the host, and any more named now */
		job.req.cpus = node->cpus;
		ns_set_andnot(&job.req.cpus, &s->exclude);
		ns_set_andnot(&job.req.cpus, &run->exclude);
		if (ns_set_empty(&job.req.cpus)) {
			rc = nsc_fail(c, NS_EXIT_FAIL, NSC_R_STALE, "%s: step %d: node %d has no usable CPUs",
				      run->file, s->index, s->to_node);
			json_object_array_add(arr, step_json(s, &id, rc, c->reason, NULL));
			break;
		}
		job.req.emulator = 1;
		job.req.dry_run = run->dry_run;
		job.mem = true;
		job.reserve = run->reserve;
		ns_set_clear(&job.mem_nodes);
		ns_set_add(&job.mem_nodes, (unsigned)s->to_node);
		rc = step_target(c, run->file, s, &tg);
		if (rc != NS_EXIT_OK) {
			json_object_array_add(arr, step_json(s, &id, rc, c->reason, NULL));
			break;
		}
		if (nsc_text(c))
			printf("step %d: %s to node %d%s\n", s->index, nsc_vmid_text(&tg.id, what, sizeof(what)),
			       s->to_node, s->temporary ? " (parked there until its own step)" : "");
		if (!run->dry_run)
			nsc_audit(c, LOG_NOTICE, "plan-step", "start", &tg.id, "plan=%s step=%d to=%d bytes=%llu",
				  nsc_audit_quote(run->file, qfile, sizeof(qfile)), s->index, s->to_node,
				  (unsigned long long)s->bytes);
		rc = nsc_pin_run(c, &tg, &job, &p);
		if (!run->dry_run)
			nsc_audit(c, rc == NS_EXIT_OK ? LOG_NOTICE : LOG_WARNING, "plan-step", "end", &tg.id,
				  "plan=%s step=%d outcome=%s code=%d", nsc_audit_quote(run->file, qfile, sizeof(qfile)),
				  s->index, outcome_name(rc), rc);
		json_object_array_add(arr, step_json(s, &tg.id, rc, c->reason, nsc_pin_json(&p)));
		changed += nsc_pin_changed(&p);
		if (p.moved && nsc_move_changed(&p.mv))
			moved += p.mv.res.moved_total;
		done += rc == NS_EXIT_OK;
		nsc_pin_release(&p);
		nsc_target_release(&tg);
		if (rc != NS_EXIT_OK)
			nsc_err(c, "%s: stopped at step %d (%s to node %d)%s", run->file, s->index, s->vm, s->to_node,
				done ? "; the steps before it stay done: run the plan again to go on" : "");
	}
	/* steps already done make a later stop a partial run */
	if (rc != NS_EXIT_OK && rc != NS_EXIT_PARTIAL && changed)
		rc = NS_EXIT_PARTIAL;
	*doc = nsc_doc(NSC_KIND_PLAN_RUN);
	json_object_object_add(*doc, "plan", json_object_new_string(run->file));
	json_object_object_add(*doc, "dry_run", json_object_new_boolean(run->dry_run));
	json_object_object_add(*doc, "steps_total", json_object_new_int(n));
	json_object_object_add(*doc, "steps_done", json_object_new_int(done));
	json_object_object_add(*doc, "changed", json_object_new_boolean(changed > 0));
	json_object_object_add(*doc, "bytes_moved", nsc_json_u64(moved));
	json_object_object_add(*doc, "steps", arr);
	free(steps);
	return rc;
}
