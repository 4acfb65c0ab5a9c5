/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pinning one VM with undo (see pinops.h): through libvirt for domains so libvirt's view and
 * cgroups stay right, with sched_setaffinity for bare QEMU processes; then its CPU weight;
 * then its memory (cmd/move.c). Each change is an audit record pair. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "pinops.h"

const char *nsc_set_text(const struct ns_set *s, char *buf, size_t len)
{
	if (ns_set_format(s, buf, len) < 0 || !buf[0])
		snprintf(buf, len, "-");
	return buf;
}

const char *nsc_pin_what_name(enum ns_pin_what w)
{
	static const char *const n[] = {"vcpu", "emulator", "iothread", "thread"};

	return n[w];
}

static int do_pin(const struct nsc *c, const struct nsc_target *tg, const struct ns_pin_req *req,
		  struct ns_pin_result *res, char *msg, size_t len)
{
	if (tg->id.domain)
		return ns_pin_domain(c->connect, tg->id.name, req, res, msg, len);
	return ns_pin_pid(&tg->vm, req, res, msg, len);
}

/* The CPUs every changed item goes to, for the audit record. */
static void cpus_after(const struct ns_pin_result *res, char *buf, size_t len)
{
	struct ns_set all;

	ns_set_clear(&all);
	for (int i = 0; i < res->n; i++)
		if (res->items[i].changed)
			ns_set_or(&all, &res->items[i].after);
	nsc_set_text(&all, buf, len);
}

/* Put back what this run changed: the weight, then the pinning. */
static void undo(struct nsc *c, const struct nsc_target *tg, const struct nsc_pin_job *job, struct nsc_pin *p)
{
	char msg[512] = "", path[4096], what[300];
	uint64_t b, a;
	int rc;

	nsc_vmid_text(&tg->id, what, sizeof(what));
	if (p->weighted && p->weight_before != p->weight_after) {
		nsc_audit(c, LOG_NOTICE, "weight", "start", &p->id, "before=%llu after=%llu restore=yes",
			  (unsigned long long)p->weight_after, (unsigned long long)p->weight_before);
		if (tg->id.domain)
			rc = ns_weight_domain(c->connect, tg->id.name, p->weight_vcpus, p->weight_before, 0, &b, &a,
					      msg, sizeof(msg));
		else
			rc = ns_weight_pid(NULL, tg->id.pid, p->weight_vcpus, p->weight_before, 0, &b, &a, path,
					   sizeof(path));
		nsc_audit(c, rc < 0 ? LOG_ERR : LOG_NOTICE, "weight", "end", &p->id, "outcome=%s",
			  rc < 0 ? "failed" : "done");
		if (rc < 0)
			nsc_err(c, "%s: restoring the CPU weight %llu failed: %s", what,
				(unsigned long long)p->weight_before, msg[0] ? msg : strerror(-rc));
	}
	if (p->pinned && p->res.nchanged) {
		nsc_audit(c, LOG_NOTICE, "unpin", "start", &p->id, "threads=%d", p->res.nchanged);
		rc = tg->id.domain ? ns_pin_revert_domain(c->connect, tg->id.name, &p->res, job->req.config)
				   : ns_pin_revert_pid(&p->res);
		nsc_audit(c, rc < 0 ? LOG_ERR : LOG_NOTICE, "unpin", "end", &p->id, "outcome=%s",
			  rc < 0 ? "failed" : "done");
		if (rc < 0)
			nsc_err(c, "%s: restoring the previous pinning failed: %s", what, strerror(-rc));
		else if (!c->quiet)
			nsc_err(c, "%s: the previous pinning was restored", what);
	}
	p->undone = true;
}

static int pin_fail(struct nsc *c, const char *what, int rc, const char *msg, const struct ns_pin_result *res)
{
	if (rc == -EINVAL && strncmp(msg, "--vcpus", 7) == 0)
		nsc_usage(c, "%s", msg);
	if (rc == -ELIBACC || rc == -ENOENT || rc == -ESRCH)
		return nsc_fail_libvirt(c, rc, what, msg);
	if (res->undone)
		return nsc_fail(c, NS_EXIT_FAIL, rc == -EPERM ? NSC_R_PERMISSION : NSC_R_FAILED,
				"%s: %s; the previous pinning was restored", what, msg);
	return nsc_fail(c, NS_EXIT_FAIL, rc == -EPERM ? NSC_R_PERMISSION : NSC_R_FAILED, "%s: %s", what,
			msg[0] ? msg : strerror(-rc));
}

static int pin_step(struct nsc *c, const struct nsc_target *tg, const struct nsc_pin_job *job, struct nsc_pin *p)
{
	struct ns_pin_req dry = job->req;
	char msg[512] = "", what[300], a[256], b[256];
	int rc;

	nsc_vmid_text(&tg->id, what, sizeof(what));
	/* what would change comes first: it is the audit's start record, and a dry run's answer */
	dry.dry_run = 1;
	rc = do_pin(c, tg, &dry, &p->res, msg, sizeof(msg));
	if (rc < 0) {
		rc = pin_fail(c, what, rc, msg, &p->res);
		ns_pin_result_free(&p->res);
		return rc;
	}
	if (!job->req.dry_run && p->res.nchanged) {
		cpus_after(&p->res, a, sizeof(a));
		nsc_audit(c, LOG_NOTICE, "pin", "start", &p->id, "threads=%d cpus=%s", p->res.nchanged, a);
		ns_pin_result_free(&p->res);
		rc = do_pin(c, tg, &job->req, &p->res, msg, sizeof(msg));
		nsc_audit(c, rc < 0 ? LOG_ERR : LOG_NOTICE, "pin", "end", &p->id, "outcome=%s",
			  rc < 0 ? (p->res.undone ? "undone" : "failed") : "done");
		if (rc < 0) {
			rc = pin_fail(c, what, rc, msg, &p->res);
			ns_pin_result_free(&p->res);
			return rc;
		}
	}
	p->pinned = true;
	if (!nsc_text(c))
		return NS_EXIT_OK;
	for (int i = 0; i < p->res.n; i++) {
		const struct ns_pin_item *it = &p->res.items[i];

		char label[sizeof(it->label)];

		if (it->changed)
			printf("%s: %s: CPUs %s -> %s%s\n", what, nsc_safe(it->label, label, sizeof(label)),
			       nsc_set_text(&it->before, a, sizeof(a)),
			       nsc_set_text(&it->after, b, sizeof(b)), job->req.dry_run ? " (dry run)" : "");
	}
	if (!p->res.nchanged)
		printf("%s: already pinned as asked (%d thread%s): nothing changed\n", what, p->res.n,
		       nsc_plural(p->res.n));
	else if (!job->req.dry_run)
		printf("%s: %d of %d thread%s pinned\n", what, p->res.nchanged, p->res.n, nsc_plural(p->res.n));
	return NS_EXIT_OK;
}

static int weight_step(struct nsc *c, const struct nsc_target *tg, const struct nsc_pin_job *job, struct nsc_pin *p)
{
	char msg[512] = "", path[4096] = "", what[300];
	int nv = 0, rc;

	nsc_vmid_text(&tg->id, what, sizeof(what));
	for (int i = 0; i < p->res.n; i++)
		nv += p->res.items[i].what == NS_PIN_VCPU;
	if (!tg->id.domain)
		nv = tg->vm.nvcpus;
	else if (!ns_set_empty(&job->req.vcpus)) {
		struct ns_pin_result all;

		/* --vcpus narrowed the items: count every vCPU for the weight */
		if (ns_pin_get_domain(c->connect, tg->id.name, &all, msg, sizeof(msg)) == 0) {
			nv = 0;
			for (int i = 0; i < all.n; i++)
				nv += all.items[i].what == NS_PIN_VCPU;
		}
		ns_pin_result_free(&all);
	}
	p->weight_vcpus = nv;
	if (tg->id.domain)
		rc = ns_weight_domain(c->connect, tg->id.name, nv, 0, 1, &p->weight_before, &p->weight_after, msg,
				      sizeof(msg));
	else
		rc = ns_weight_pid(NULL, tg->id.pid, nv, 0, 1, &p->weight_before, &p->weight_after, path, sizeof(path));
	if (rc == 0 && !job->req.dry_run && p->weight_before != p->weight_after) {
		nsc_audit(c, LOG_NOTICE, "weight", "start", &p->id, "before=%llu after=%llu vcpus=%d",
			  (unsigned long long)p->weight_before, (unsigned long long)p->weight_after, nv);
		if (tg->id.domain)
			rc = ns_weight_domain(c->connect, tg->id.name, nv, 0, 0, &p->weight_before, &p->weight_after,
					      msg, sizeof(msg));
		else
			rc = ns_weight_pid(NULL, tg->id.pid, nv, 0, 0, &p->weight_before, &p->weight_after, path,
					   sizeof(path));
		nsc_audit(c, rc < 0 ? LOG_ERR : LOG_NOTICE, "weight", "end", &p->id, "outcome=%s",
			  rc < 0 ? "failed" : "done");
	}
	if (rc < 0) {
		if (rc == -EPERM && !tg->id.domain)
			return nsc_fail(c, NS_EXIT_FAIL, NSC_R_FAILED,
					"%s: --weight: the process is in the root cgroup; weights need a cgroup per VM",
					what);
		if (tg->id.domain)
			return nsc_fail(c, NS_EXIT_FAIL, NSC_R_LIBVIRT, "%s: --weight: %s", what,
					msg[0] ? msg : strerror(-rc));
		return nsc_fail_errno(c, rc, NULL, "%s: --weight %s", what, path);
	}
	p->weighted = true;
	if (!nsc_text(c))
		return NS_EXIT_OK;
	if (p->weight_before == p->weight_after)
		printf("%s: CPU weight %llu for %d vCPU%s already: nothing changed\n", what,
		       (unsigned long long)p->weight_after, nv, nsc_plural(nv));
	else
		printf("%s: CPU weight %llu -> %llu (%d vCPU%s)%s\n", what, (unsigned long long)p->weight_before,
		       (unsigned long long)p->weight_after, nv, nsc_plural(nv), job->req.dry_run ? " (dry run)" : "");
	return NS_EXIT_OK;
}

int nsc_pin_run(struct nsc *c, const struct nsc_target *tg, const struct nsc_pin_job *job, struct nsc_pin *p)
{
	char what[300];
	int rc, lock = -1;

	memset(p, 0, sizeof(*p));
	p->id = tg->id;
	p->dry_run = job->req.dry_run;
	nsc_vmid_text(&tg->id, what, sizeof(what));
	if (job->mem && tg->id.pid <= 0)
		return nsc_fail(c, NS_EXIT_FAIL, NSC_R_LIBVIRT,
				"%s: --mem needs the domain's QEMU process on this host", what);
	/* one changer per VM, held through the move and any undo (nsc_move_run's own take of it
	 * only counts) */
	if (!p->dry_run) {
		rc = nsc_vm_lock(c, &tg->id, &lock);
		if (rc != NS_EXIT_OK)
			return rc;
	}
	/* a stop request before anything changed (the handlers are in from nsc_init) */
	if (nsc_stopped()) {
		rc = nsc_fail(c, NS_EXIT_REFUSED, NSC_R_SIGNAL, "%s: interrupted: nothing changed", what);
		goto out;
	}
	rc = pin_step(c, tg, job, p);
	if (rc == NS_EXIT_OK && job->weight)
		rc = weight_step(c, tg, job, p);
	if (rc == NS_EXIT_OK && nsc_stop_requests)
		rc = nsc_fail(c, NS_EXIT_REFUSED, NSC_R_SIGNAL, "%s: interrupted", what);
	if (rc == NS_EXIT_OK && job->mem) {
		struct ns_mig_opts o;

		ns_mig_opts_init(&o);
		o.to = job->mem_nodes;
		o.reserve = job->reserve;
		rc = nsc_move_run(c, tg, &o, job->req.dry_run, &p->mv);
		p->moved = p->mv.check.complete;
	}
	/* a move stopped partway leaves a consistent state with the new pinning: keep it, and a
	 * second run completes the move */
	if (rc != NS_EXIT_OK && rc != NS_EXIT_PARTIAL && !p->dry_run)
		undo(c, tg, job, p);
out:
	nsc_vm_unlock(lock);
	return rc;
}

bool nsc_pin_changed(const struct nsc_pin *p)
{
	if (p->dry_run || p->undone)
		return (p->moved && nsc_move_changed(&p->mv));
	return (p->pinned && p->res.nchanged) || (p->weighted && p->weight_before != p->weight_after) ||
	       (p->moved && nsc_move_changed(&p->mv));
}

struct json_object *nsc_pin_json(const struct nsc_pin *p)
{
	struct json_object *o = nsc_doc(NSC_KIND_PIN), *arr = json_object_new_array();

	json_object_object_add(o, "vm", nsc_vmid_json(&p->id));
	json_object_object_add(o, "dry_run", json_object_new_boolean(p->dry_run));
	for (int i = 0; p->pinned && i < p->res.n; i++) {
		const struct ns_pin_item *it = &p->res.items[i];
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "kind", json_object_new_string(nsc_pin_what_name(it->what)));
		json_object_object_add(x, "index", it->index >= 0 ? json_object_new_int(it->index) : NULL);
		json_object_object_add(x, "tid", it->tid > 0 ? json_object_new_int(it->tid) : NULL);
		json_object_object_add(x, "label", json_object_new_string(it->label));
		json_object_object_add(x, "cpus_before", nsc_json_set(&it->before));
		json_object_object_add(x, "cpus_after", nsc_json_set(&it->after));
		json_object_object_add(x, "changed", json_object_new_boolean(it->changed));
		json_object_array_add(arr, x);
	}
	json_object_object_add(o, "threads", arr);
	json_object_object_add(o, "changed", json_object_new_boolean(nsc_pin_changed(p)));
	json_object_object_add(o, "threads_changed", json_object_new_int(p->pinned ? p->res.nchanged : 0));
	if (p->weighted) {
		struct json_object *w = json_object_new_object();

		json_object_object_add(w, "vcpus", json_object_new_int(p->weight_vcpus));
		json_object_object_add(w, "before", nsc_json_u64(p->weight_before));
		json_object_object_add(w, "after", nsc_json_u64(p->weight_after));
		json_object_object_add(w, "changed", json_object_new_boolean(p->weight_before != p->weight_after));
		json_object_object_add(o, "weight", w);
	} else
		json_object_object_add(o, "weight", NULL);
	json_object_object_add(o, "memory", p->moved ? nsc_move_json(&p->mv, p->dry_run) : NULL);
	json_object_object_add(o, "undone", json_object_new_boolean(p->undone));
	return o;
}

void nsc_pin_release(struct nsc_pin *p)
{
	ns_pin_result_free(&p->res);
}
