/* Acting on VMs, shared by vm-pin and numa-migrate: resolving a target, pinning it (and
 * weighting it, and moving its memory) with undo on failure, and executing a rebalance plan
 * step by step. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "move.h"
#include "numasafe/plan.h"
#include "vmops.h"

const char *ns_setstr(const struct ns_set *s, char *buf, size_t len)
{
	if (ns_set_format(s, buf, len) < 0 || !buf[0])
		snprintf(buf, len, "-");
	return buf;
}

const char *ns_pin_what_name(enum ns_pin_what w)
{
	static const char *const n[] = {"vcpu", "emulator", "iothread", "thread"};

	return n[w];
}

/* ---- pinning ---- */


/* Resolve PID or --domain; exits with the right code on errors. */
void ns_target_resolve(const char *pidarg, struct ns_target *tg)
{
	memset(tg, 0, sizeof(*tg));
	if (ns_cli.domain) {
		snprintf(tg->name, sizeof(tg->name), "%s", ns_cli.domain);
		tg->is_domain = 1;
		if (ns_vm_from_domain(NULL, ns_cli.domain, &tg->vm) == 0)
			tg->pid = tg->vm.pid;
		return;
	}
	{
		pid_t pid = ns_opt_pid("pid", pidarg);
		int rc = ns_vm_from_pid(NULL, pid, &tg->vm);

		if (rc == -ENODATA) {
			ns_err("pid %d: QEMU without thread names: its vCPU threads cannot be told apart; start it "
			       "with -name NAME,debug-threads=on (libvirt does)",
			       (int)pid);
			exit(ns_cli_exit(NS_EXIT_FAIL));
		}
		if (rc == -ENOEXEC) {
			ns_err("pid %d is not a QEMU VM (no \"CPU n/KVM\" or \"CPU n/TCG\" threads)", (int)pid);
			exit(ns_cli_exit(NS_EXIT_FAIL));
		}
		if (rc < 0) {
			ns_errno(rc, "pid %d", (int)pid);
			exit(ns_cli_exit(NS_EXIT_FAIL));
		}
		tg->pid = pid;
		snprintf(tg->name, sizeof(tg->name), "%s", tg->vm.name);
		/* a domain's threads are pinned through libvirt, so its view stays true */
		tg->is_domain = tg->vm.is_domain;
	}
}

static int do_pin(const struct ns_target *tg, const struct ns_pin_req *req, struct ns_pin_result *res, char *msg,
		  size_t len)
{
	if (tg->is_domain)
		return ns_pin_domain(ns_cli.connect, tg->name, req, res, msg, len);
	return ns_pin_pid(&tg->vm, req, res, msg, len);
}

static void undo_pin(const struct ns_target *tg, const struct ns_pin_result *res, int config)
{
	int rc;

	if (!res->nchanged)
		return;
	rc = tg->is_domain ? ns_pin_revert_domain(ns_cli.connect, tg->name, res, config) : ns_pin_revert_pid(res);
	if (rc < 0)
		ns_err("%s: restoring the previous pinning failed: %s", tg->name, strerror(-rc));
}

static const char *tgt_desc(const struct ns_target *tg, char *buf, size_t len)
{
	if (tg->is_domain)
		snprintf(buf, len, "domain %s", tg->name);
	else
		/* a VM without -name is already called "pid N" */
		snprintf(buf, len, strncmp(tg->name, "pid ", 4) == 0 ? "%s" : "%s (pid %d)", tg->name, (int)tg->pid);
	return buf;
}

static struct json_object *pins_json(const struct ns_pin_result *res)
{
	struct json_object *arr = json_object_new_array();

	for (int i = 0; i < res->n; i++) {
		const struct ns_pin_item *it = &res->items[i];
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "kind", json_object_new_string(ns_pin_what_name(it->what)));
		json_object_object_add(x, "index", it->index >= 0 ? json_object_new_int(it->index) : NULL);
		json_object_object_add(x, "tid", it->tid > 0 ? json_object_new_int(it->tid) : NULL);
		json_object_object_add(x, "label", json_object_new_string(it->label));
		json_object_object_add(x, "before", ns_json_set(&it->before));
		json_object_object_add(x, "after", ns_json_set(&it->after));
		json_object_object_add(x, "changed", json_object_new_boolean(it->changed));
		json_object_array_add(arr, x);
	}
	return arr;
}


/* Pin one VM (and weight it, and move its memory). Returns an exit code; on any failure the
 * pinning it changed is put back. */
int ns_pin_one(const struct ns_target *tg, const struct ns_pin_job *job, struct json_object *js)
{
	struct ns_pin_result res;
	char msg[512], d[300], a[256], b[256];
	uint64_t wb = 0, wa = 0;
	int rc, vcpus = 0;

	tgt_desc(tg, d, sizeof(d));
	if (job->mem && tg->pid <= 0) {
		ns_err("%s: --mem needs the domain's QEMU process on this host (no /run/libvirt/qemu/%s.pid)", d,
		       tg->name);
		return NS_EXIT_FAIL;
	}
	rc = do_pin(tg, &job->req, &res, msg, sizeof(msg));
	if (rc < 0) {
		if (rc == -ENOENT)
			ns_err("domain %s: no such domain", tg->name);
		else if (res.undone)
			ns_err("%s: %s; the previous pinning was restored", d, msg);
		else
			ns_err("%s: %s", d, msg[0] ? msg : strerror(-rc));
		ns_pin_result_free(&res);
		return NS_EXIT_FAIL;
	}
	for (int i = 0; i < res.n; i++)
		vcpus += res.items[i].what == NS_PIN_VCPU;
	if (js) {
		json_object_object_add(js, "vm", json_object_new_string(tg->name));
		json_object_object_add(js, "domain", json_object_new_boolean(tg->is_domain));
		json_object_object_add(js, "pid", tg->pid > 0 ? json_object_new_int(tg->pid) : NULL);
		json_object_object_add(js, "dry_run", json_object_new_boolean(job->req.dry_run));
		json_object_object_add(js, "pinning", pins_json(&res));
		json_object_object_add(js, "changed", json_object_new_int(res.nchanged));
	} else if (!ns_cli.quiet) {
		for (int i = 0; i < res.n; i++) {
			const struct ns_pin_item *it = &res.items[i];

			if (it->changed)
				printf("%s: %s: CPUs %s -> %s%s\n", d, it->label, ns_setstr(&it->before, a, sizeof(a)),
				       ns_setstr(&it->after, b, sizeof(b)), job->req.dry_run ? " (dry run)" : "");
		}
		if (!res.nchanged)
			printf("%s: already pinned as asked (%d threads): nothing changed\n", d, res.n);
		else if (!job->req.dry_run)
			printf("%s: %d of %d pinned\n", d, res.nchanged, res.n);
	}
	rc = NS_EXIT_OK;
	if (job->weight) {
		int nv = tg->is_domain ? vcpus : tg->vm.nvcpus;
		char path[4096] = "";
		int r;

		if (!ns_set_empty(&job->req.vcpus) && tg->is_domain) {
			struct ns_pin_result all;

			/* --vcpus narrowed the items: count every vCPU for the weight */
			if (ns_pin_get_domain(ns_cli.connect, tg->name, &all, msg, sizeof(msg)) == 0) {
				nv = 0;
				for (int i = 0; i < all.n; i++)
					nv += all.items[i].what == NS_PIN_VCPU;
			}
			ns_pin_result_free(&all);
		}
		if (tg->is_domain)
			r = ns_weight_domain(ns_cli.connect, tg->name, nv, job->req.dry_run, &wb, &wa, msg, sizeof(msg));
		else
			r = ns_weight_pid(NULL, tg->pid, nv, job->req.dry_run, &wb, &wa, path, sizeof(path));
		if (r < 0) {
			if (r == -EPERM && !tg->is_domain)
				ns_err("%s: --weight: the process is in the root cgroup; weights need a cgroup per VM", d);
			else if (tg->is_domain)
				ns_err("%s: --weight: %s", d, msg[0] ? msg : strerror(-r));
			else
				ns_errno(r, "%s: --weight %s", d, path);
			rc = NS_EXIT_FAIL;
			goto out;
		}
		if (js) {
			struct json_object *w = json_object_new_object();

			json_object_object_add(w, "vcpus", json_object_new_int(nv));
			json_object_object_add(w, "before", ns_json_u64(wb));
			json_object_object_add(w, "after", ns_json_u64(wa));
			json_object_object_add(w, "changed", json_object_new_boolean(wb != wa));
			json_object_object_add(js, "weight", w);
		} else if (!ns_cli.quiet) {
			if (wb == wa)
				printf("%s: CPU weight %llu for %d vCPUs already: nothing changed\n", d,
				       (unsigned long long)wa, nv);
			else
				printf("%s: CPU weight %llu -> %llu (%d vCPUs)%s\n", d, (unsigned long long)wb,
				       (unsigned long long)wa, nv, job->req.dry_run ? " (dry run)" : "");
		}
	}
	if (job->mem) {
		struct ns_mig_opts o;
		struct json_object *mj = js ? json_object_new_object() : NULL;
		struct ns_move_req mr;

		ns_mig_opts_init(&o);
		o.to = job->mem_nodes;
		o.reserve = job->reserve;
		mr = (struct ns_move_req){.pid = tg->pid, .domain = tg->is_domain ? tg->name : NULL, .o = &o,
					  .dry_run = job->req.dry_run, .js = mj};
		rc = ns_move_vm(&mr);
		if (mj)
			json_object_object_add(js, "memory", mj);
	}
out:
	if (rc != NS_EXIT_OK && !job->req.dry_run) {
		undo_pin(tg, &res, job->req.config);
		if (res.nchanged)
			ns_err("%s: the previous pinning was restored", d);
	}
	ns_pin_result_free(&res);
	return rc;
}

/* ---- --plan ---- */

int ns_plan_run(const char *file, const struct ns_topo *t, const struct ns_set *exclude,
		const struct ns_amount *reserve, bool dry_run, struct json_object *js)
{
	struct ns_plan_exec_step *steps = NULL;
	struct json_object *arr = js ? json_object_new_array() : NULL;
	char msg[512];
	int n = 0, rc;

	rc = ns_plan_read(file, &steps, &n, msg, sizeof(msg));
	if (rc < 0) {
		ns_err("%s", msg[0] ? msg : strerror(-rc));
		if (arr)
			json_object_put(arr);
		return NS_EXIT_FAIL;
	}
	rc = NS_EXIT_OK;
	if (n == 0 && !js && !ns_cli.quiet)
		printf("%s: no steps: every VM is already where the plan puts it\n", file);
	for (int i = 0; i < n && rc == NS_EXIT_OK; i++) {
		const struct ns_plan_exec_step *s = &steps[i];
		const struct ns_node *node = ns_topo_find(t, s->to_node);
		struct json_object *sj = js ? json_object_new_object() : NULL;
		struct ns_pin_job job;
		struct ns_target tg;
		int vr;

		memset(&job, 0, sizeof(job));
		memset(&tg, 0, sizeof(tg));
		if (!node) {
			ns_err("%s: step %d: node %d does not exist", file, s->index, s->to_node);
			json_object_put(sj);
			rc = NS_EXIT_FAIL;
			break;
		}
		job.req.cpus = node->cpus;
		ns_set_andnot(&job.req.cpus, exclude);
		if (ns_set_empty(&job.req.cpus)) {
			ns_err("%s: step %d: node %d has no usable CPUs", file, s->index, s->to_node);
			json_object_put(sj);
			rc = NS_EXIT_FAIL;
			break;
		}
		job.req.emulator = 1;
		job.req.dry_run = dry_run;
		job.mem = 1;
		job.reserve = reserve;
		ns_set_clear(&job.mem_nodes);
		ns_set_add(&job.mem_nodes, (unsigned)s->to_node);
		snprintf(tg.name, sizeof(tg.name), "%s", s->vm);
		tg.is_domain = s->is_domain;
		/* the process must still be the VM the plan was made for (pid, start time, name) */
		msg[0] = '\0';
		vr = ns_plan_step_verify(NULL, s, msg, sizeof(msg));
		if (vr == 0) {
			vr = ns_vm_from_pid(NULL, s->pid, &tg.vm);
			if (vr == -ENODATA) /* a QEMU without thread names: pinning says so */
				vr = 0;
		}
		if (vr < 0) {
			ns_err("%s: step %d: %s: plan is stale", file, s->index,
			       msg[0] ? msg : "the process is no VM now");
			json_object_put(sj);
			ns_vm_release(&tg.vm);
			rc = NS_EXIT_FAIL;
			break;
		}
		tg.pid = s->pid;
		if (!js && !ns_cli.quiet)
			printf("step %d: %s to node %d%s\n", s->index, s->vm, s->to_node,
			       s->temporary ? " (parked there until its own step)" : "");
		rc = ns_pin_one(&tg, &job, sj);
		ns_vm_release(&tg.vm);
		if (sj) {
			json_object_object_add(sj, "step", json_object_new_int(s->index));
			json_object_object_add(sj, "exit", json_object_new_int(rc));
			json_object_array_add(arr, sj);
		}
		if (rc != NS_EXIT_OK)
			ns_err("%s: stopped at step %d (%s to node %d); steps before it stay done", file, s->index,
			       s->vm, s->to_node);
	}
	if (js)
		json_object_object_add(js, "steps", arr);
	free(steps);
	return rc;
}

