/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pinning VM threads and weighting VM CPU shares. Domains go through libvirt so its cgroups and
 * its idea of the pinning agree with the kernel's; bare processes get sched_setaffinity on each
 * thread. Each change is recorded before it is made so a failure can put everything back. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "numasafe/numasafe.h"
#include "numasafe/pin.h"
#include "numasafe/steal.h"
#include "util.h"
#include "virt.h"

/* set by the entry points (ns_virt) before any libvirt call */
static const struct ns_virt_api *V;

void ns_pin_result_free(struct ns_pin_result *r)
{
	if (!r)
		return;
	free(r->items);
	memset(r, 0, sizeof(*r));
}

static struct ns_pin_item *add_item(struct ns_pin_result *r)
{
	struct ns_pin_item *n = realloc(r->items, (size_t)(r->n + 1) * sizeof(*n));

	if (!n)
		return NULL;
	r->items = n;
	memset(&n[r->n], 0, sizeof(*n));
	n[r->n].index = -1;
	return &n[r->n++];
}

int ns_cpus_online(const char *root, struct ns_set *out)
{
	char path[4096], buf[4096];
	ssize_t n;
	int rc = ns_path(path, sizeof(path), root, "/sys/devices/system/cpu/online");

	if (rc < 0)
		return rc;
	n = ns_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return ns_set_parse(buf, NS_SET_MAX, out);
}

int ns_cpu_spread_order(const char *root, const struct ns_set *cpus, unsigned *order, int max)
{
	int rank[NS_SET_MAX], n = 0, maxrank = 0;

	/* rank of a CPU = its position among its core's siblings (0 for the first thread) */
	for (int c = ns_set_next(cpus, 0); c >= 0; c = ns_set_next(cpus, (unsigned)c + 1)) {
		char path[4096], buf[4096];
		struct ns_set sib;

		rank[c] = 0;
		if (ns_path(path, sizeof(path), root, "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list", c) == 0 &&
		    ns_read_file(path, buf, sizeof(buf)) >= 0 && ns_set_parse(buf, NS_SET_MAX, &sib) == 0)
			for (int s = ns_set_next(&sib, 0); s >= 0 && s < c; s = ns_set_next(&sib, (unsigned)s + 1))
				rank[c]++;
		if (rank[c] > maxrank)
			maxrank = rank[c];
	}
	for (int r = 0; r <= maxrank; r++)
		for (int c = ns_set_next(cpus, 0); c >= 0; c = ns_set_next(cpus, (unsigned)c + 1))
			if (rank[c] == r && n < max)
				order[n++] = (unsigned)c;
	return n;
}

static struct ns_set target_for(const struct ns_pin_req *req, enum ns_pin_what what, int vcpu)
{
	struct ns_set s;

	if (what == NS_PIN_VCPU && req->spread && req->norder > 0) {
		ns_set_clear(&s);
		ns_set_add(&s, req->order[vcpu % req->norder]);
		return s;
	}
	return req->cpus;
}

static int want_vcpu(const struct ns_pin_req *req, int vcpu)
{
	return ns_set_empty(&req->vcpus) || ns_set_has(&req->vcpus, (unsigned)vcpu);
}

/* ---- bare processes ---- */

static int affinity_get(pid_t tid, struct ns_set *out)
{
	cpu_set_t *cs = CPU_ALLOC(NS_SET_MAX);
	size_t sz = CPU_ALLOC_SIZE(NS_SET_MAX);
	int rc = 0;

	if (!cs)
		return -ENOMEM;
	ns_set_clear(out);
	if (sched_getaffinity(tid, sz, cs) < 0)
		rc = -errno;
	else
		for (unsigned c = 0; c < NS_SET_MAX; c++)
			if (CPU_ISSET_S(c, sz, cs))
				ns_set_add(out, c);
	CPU_FREE(cs);
	return rc;
}

static int affinity_set(pid_t tid, const struct ns_set *s)
{
	cpu_set_t *cs = CPU_ALLOC(NS_SET_MAX);
	size_t sz = CPU_ALLOC_SIZE(NS_SET_MAX);
	int rc = 0;

	if (!cs)
		return -ENOMEM;
	CPU_ZERO_S(sz, cs);
	for (int c = ns_set_next(s, 0); c >= 0; c = ns_set_next(s, (unsigned)c + 1))
		CPU_SET_S((unsigned)c, sz, cs);
	if (sched_setaffinity(tid, sz, cs) < 0)
		rc = -errno;
	CPU_FREE(cs);
	return rc;
}

static void thread_label(const struct ns_vm_thread *t, char *buf, size_t len)
{
	if (t->kind == NS_THREAD_VCPU)
		snprintf(buf, len, "vcpu %d", t->index);
	else if (t->kind == NS_THREAD_IO)
		snprintf(buf, len, "iothread %.28s", t->io_id);
	else
		snprintf(buf, len, "thread %d (%.15s)", (int)t->tid, t->comm);
}

static int pid_items(const struct ns_vm *vm, const struct ns_pin_req *req, struct ns_pin_result *res)
{
	for (int i = 0; i < vm->nthreads; i++) {
		const struct ns_vm_thread *t = &vm->threads[i];
		struct ns_pin_item *it;
		int rc;

		if (req) {
			if (t->kind == NS_THREAD_VCPU && !want_vcpu(req, t->index))
				continue;
			if (t->kind == NS_THREAD_EMULATOR && !req->emulator)
				continue;
			if (t->kind == NS_THREAD_IO && !req->iothreads)
				continue;
		}
		it = add_item(res);
		if (!it)
			return -ENOMEM;
		it->what = t->kind == NS_THREAD_VCPU ? NS_PIN_VCPU : t->kind == NS_THREAD_IO ? NS_PIN_IOTHREAD : NS_PIN_THREAD;
		it->index = t->kind == NS_THREAD_VCPU ? t->index : -1;
		it->tid = t->tid;
		thread_label(t, it->label, sizeof(it->label));
		rc = affinity_get(t->tid, &it->before);
		if (rc == -ESRCH && t->kind == NS_THREAD_EMULATOR) {
			res->n--; /* a pool worker that ended: new ones inherit the main thread's CPUs */
			continue;
		}
		if (rc < 0)
			return rc;
		it->after = req ? target_for(req, it->what, t->index) : it->before;
		it->changed = !ns_set_equal(&it->before, &it->after);
	}
	return 0;
}

int ns_pin_get_pid(const struct ns_vm *vm, struct ns_pin_result *res, char *errmsg, size_t len)
{
	int rc;

	memset(res, 0, sizeof(*res));
	rc = pid_items(vm, NULL, res);
	if (rc < 0 && errmsg && len)
		snprintf(errmsg, len, "pid %d: cannot read thread affinity", (int)vm->pid);
	return rc;
}

int ns_pin_pid(const struct ns_vm *vm, const struct ns_pin_req *req, struct ns_pin_result *res, char *errmsg,
	       size_t len)
{
	int rc, i;

	memset(res, 0, sizeof(*res));
	if (errmsg && len)
		errmsg[0] = '\0';
	/* a vCPU that does not exist is a mistake, not "nothing to change" */
	for (int v = ns_set_next(&req->vcpus, 0); v >= 0; v = ns_set_next(&req->vcpus, (unsigned)v + 1)) {
		int found = 0, last = -1;

		/* vCPU numbers are the threads' labels, not 0..count-1 */
		for (i = 0; i < vm->nthreads; i++)
			if (vm->threads[i].kind == NS_THREAD_VCPU) {
				found |= vm->threads[i].index == v;
				last = vm->threads[i].index;
			}
		if (!found) {
			if (errmsg && len)
				snprintf(errmsg, len, "--vcpus: the VM has vCPUs 0-%d, not %d", last, v);
			return -EINVAL;
		}
	}
	rc = pid_items(vm, req, res);
	if (rc < 0) {
		if (errmsg && len)
			snprintf(errmsg, len, "pid %d: cannot read thread affinity", (int)vm->pid);
		return rc;
	}
	for (i = 0; i < res->n; i++)
		res->nchanged += res->items[i].changed;
	if (req->dry_run)
		return 0;
	for (i = 0; i < res->n; i++) {
		struct ns_pin_item *it = &res->items[i];

		if (!it->changed)
			continue;
		rc = affinity_set(it->tid, &it->after);
		if (rc == -ESRCH && it->what == NS_PIN_THREAD) {
			it->changed = 0;
			res->nchanged--;
			continue;
		}
		if (rc < 0) {
			if (errmsg && len)
				snprintf(errmsg, len, "%s: %s", it->label, strerror(-rc));
			break;
		}
	}
	if (rc < 0 && rc != -ESRCH) {
		/* undo in reverse; a thread that ended needs nothing */
		while (--i >= 0)
			if (res->items[i].changed)
				affinity_set(res->items[i].tid, &res->items[i].before);
		res->undone = 1;
		return rc;
	}
	return 0;
}

int ns_pin_revert_pid(const struct ns_pin_result *res)
{
	int rc = 0;

	for (int i = res->n - 1; i >= 0; i--)
		if (res->items[i].changed) {
			int r = affinity_set(res->items[i].tid, &res->items[i].before);

			if (r < 0 && r != -ESRCH && rc == 0)
				rc = r;
		}
	return rc;
}

/* ---- libvirt domains ---- */

struct dom {
	virConnectPtr conn;
	virDomainPtr dom;
	int ncpus;
	int maplen;
};

static int dom_open(const char *uri, const char *name, struct dom *d, char *errmsg, size_t len)
{
	int state = 0, reason = 0;

	memset(d, 0, sizeof(*d));
	V = ns_virt(errmsg, len);
	if (!V)
		return -ELIBACC;
	d->conn = V->ConnectOpen(uri ? uri : NS_DEFAULT_URI);
	if (!d->conn) {
		ns_virt_err(errmsg, len);
		return -ECONNREFUSED;
	}
	d->dom = V->DomainLookupByName(d->conn, name);
	if (!d->dom) {
		ns_virt_err(errmsg, len);
		return -ENOENT;
	}
	if (V->DomainGetState(d->dom, &state, &reason, 0) < 0 || state != VIR_DOMAIN_RUNNING) {
		if (errmsg && len)
			snprintf(errmsg, len, "domain '%s' is not running", name);
		return -ESRCH;
	}
	d->ncpus = V->NodeGetCPUMap(d->conn, NULL, NULL, 0);
	if (d->ncpus <= 0) {
		virNodeInfo ni;

		if (V->NodeGetInfo(d->conn, &ni) < 0) {
			ns_virt_err(errmsg, len);
			return -EIO;
		}
		d->ncpus = (int)VIR_NODEINFO_MAXCPUS(ni);
	}
	if (d->ncpus > NS_SET_MAX)
		d->ncpus = NS_SET_MAX;
	d->maplen = VIR_CPU_MAPLEN(d->ncpus);
	return 0;
}

static void dom_close(struct dom *d)
{
	if (d->dom)
		V->DomainFree(d->dom);
	if (d->conn)
		V->ConnectClose(d->conn);
}

static void map_to_set(const unsigned char *map, int maplen, int ncpus, struct ns_set *s)
{
	ns_set_clear(s);
	for (int c = 0; c < ncpus && c / 8 < maplen; c++)
		if (map[c / 8] & (1u << (c % 8)))
			ns_set_add(s, (unsigned)c);
}

static void set_to_map(const struct ns_set *s, unsigned char *map, int maplen)
{
	memset(map, 0, (size_t)maplen);
	for (int c = ns_set_next(s, 0); c >= 0 && c / 8 < maplen; c = ns_set_next(s, (unsigned)c + 1))
		map[c / 8] |= (unsigned char)(1u << (c % 8));
}

/* Read the domain's current pinning into res (after = before). */
static int dom_items(struct dom *d, const struct ns_pin_req *req, struct ns_pin_result *res, char *errmsg,
		     size_t len)
{
	virDomainIOThreadInfoPtr *io = NULL;
	unsigned char *maps = NULL;
	virDomainInfo info;
	int nvcpus, nio = 0, rc = 0;

	if (V->DomainGetInfo(d->dom, &info) < 0) {
		ns_virt_err(errmsg, len);
		return -EIO;
	}
	nvcpus = (int)info.nrVirtCpu;
	maps = calloc((size_t)nvcpus + 1, (size_t)d->maplen);
	if (!maps)
		return -ENOMEM;
	if (req && !ns_set_empty(&req->vcpus)) {
		int last = -1;

		for (int v = ns_set_next(&req->vcpus, 0); v >= 0; v = ns_set_next(&req->vcpus, (unsigned)v + 1))
			last = v;
		if (last >= nvcpus) {
			if (errmsg && len)
				snprintf(errmsg, len, "--vcpus: the domain has vCPUs 0-%d, not %d", nvcpus - 1, last);
			rc = -EINVAL;
			goto out;
		}
	}
	if (V->DomainGetVcpuPinInfo(d->dom, nvcpus, maps, d->maplen, 0) < 0) {
		ns_virt_err(errmsg, len);
		rc = -EIO;
		goto out;
	}
	for (int v = 0; v < nvcpus; v++) {
		struct ns_pin_item *it;

		if (req && !want_vcpu(req, v))
			continue;
		if (!(it = add_item(res))) {
			rc = -ENOMEM;
			goto out;
		}
		it->what = NS_PIN_VCPU;
		it->index = v;
		snprintf(it->label, sizeof(it->label), "vcpu %d", v);
		map_to_set(maps + (size_t)v * (size_t)d->maplen, d->maplen, d->ncpus, &it->before);
	}
	if (!req || req->emulator) {
		struct ns_pin_item *it;

		/* drivers without emulator pinning (test:///) simply have no such item */
		if (V->DomainGetEmulatorPinInfo(d->dom, maps, d->maplen, 0) >= 0) {
			if (!(it = add_item(res))) {
				rc = -ENOMEM;
				goto out;
			}
			it->what = NS_PIN_EMULATOR;
			snprintf(it->label, sizeof(it->label), "emulator");
			map_to_set(maps, d->maplen, d->ncpus, &it->before);
		}
	}
	if (!req || req->iothreads) {
		nio = V->DomainGetIOThreadInfo(d->dom, &io, 0);
		for (int i = 0; i < nio; i++) {
			struct ns_pin_item *it = add_item(res);

			if (!it) {
				rc = -ENOMEM;
				goto out;
			}
			it->what = NS_PIN_IOTHREAD;
			it->index = (int)io[i]->iothread_id;
			snprintf(it->label, sizeof(it->label), "iothread %u", io[i]->iothread_id);
			map_to_set(io[i]->cpumap, io[i]->cpumaplen, d->ncpus, &it->before);
		}
	}
	for (int i = 0; i < res->n; i++) {
		struct ns_pin_item *it = &res->items[i];

		it->after = req ? target_for(req, it->what, it->index) : it->before;
		it->changed = !ns_set_equal(&it->before, &it->after);
		res->nchanged += it->changed;
	}
out:
	for (int i = 0; i < nio; i++)
		V->DomainIOThreadInfoFree(io[i]);
	free(io);
	free(maps);
	return rc;
}

static int dom_apply(struct dom *d, const struct ns_pin_item *it, const struct ns_set *s, unsigned flags)
{
	unsigned char *map = calloc(1, (size_t)d->maplen);
	int r;

	if (!map)
		return -ENOMEM;
	set_to_map(s, map, d->maplen);
	if (it->what == NS_PIN_VCPU)
		r = V->DomainPinVcpuFlags(d->dom, (unsigned)it->index, map, d->maplen, flags);
	else if (it->what == NS_PIN_EMULATOR)
		r = V->DomainPinEmulator(d->dom, map, d->maplen, flags);
	else
		r = V->DomainPinIOThread(d->dom, (unsigned)it->index, map, d->maplen, flags);
	free(map);
	return r < 0 ? -EPERM : 0;
}

int ns_pin_get_domain(const char *uri, const char *name, struct ns_pin_result *res, char *errmsg, size_t len)
{
	struct dom d;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = dom_open(uri, name, &d, errmsg, len);
	if (rc == 0)
		rc = dom_items(&d, NULL, res, errmsg, len);
	dom_close(&d);
	return rc;
}

int ns_pin_domain(const char *uri, const char *name, const struct ns_pin_req *req, struct ns_pin_result *res,
		  char *errmsg, size_t len)
{
	/* 0 is "current" (live for a running domain): the test driver takes no other value */
	unsigned flags = req->config ? VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG : 0;
	struct dom d;
	int rc, i;

	memset(res, 0, sizeof(*res));
	if (errmsg && len)
		errmsg[0] = '\0';
	rc = dom_open(uri, name, &d, errmsg, len);
	if (rc < 0)
		goto out;
	for (int c = ns_set_next(&req->cpus, 0); c >= 0; c = ns_set_next(&req->cpus, (unsigned)c + 1))
		if (c >= d.ncpus) {
			if (errmsg && len)
				snprintf(errmsg, len, "CPU %d is not on the host (CPUs 0-%d)", c, d.ncpus - 1);
			rc = -ERANGE;
			goto out;
		}
	rc = dom_items(&d, req, res, errmsg, len);
	if (rc < 0 || req->dry_run)
		goto out;
	/* --config also persists items that are already right live */
	for (i = 0; i < res->n; i++) {
		struct ns_pin_item *it = &res->items[i];

		if (!it->changed && !req->config)
			continue;
		rc = dom_apply(&d, it, &it->after, flags);
		if (rc < 0) {
			char m[256];

			ns_virt_err(m, sizeof(m));
			if (errmsg && len)
				snprintf(errmsg, len, "%s: %s", it->label, m);
			break;
		}
	}
	if (rc < 0) {
		while (--i >= 0)
			if (res->items[i].changed)
				dom_apply(&d, &res->items[i], &res->items[i].before, flags);
		res->undone = 1;
	}
out:
	dom_close(&d);
	return rc;
}

int ns_pin_revert_domain(const char *uri, const char *name, const struct ns_pin_result *res, int config)
{
	unsigned flags = config ? VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG : 0;
	struct dom d;
	int rc = dom_open(uri, name, &d, NULL, 0);

	for (int i = res->n - 1; rc == 0 && i >= 0; i--)
		if (res->items[i].changed)
			rc = dom_apply(&d, &res->items[i], &res->items[i].before, flags);
	dom_close(&d);
	return rc;
}

/* ---- CPU weight ---- */

static int cgroup_v2(const char *root)
{
	char path[4096];

	return ns_path(path, sizeof(path), root, "/sys/fs/cgroup/cgroup.controllers") == 0 && access(path, F_OK) == 0;
}

int ns_weight_domain(const char *uri, const char *name, int vcpus, uint64_t restore, int dry_run, uint64_t *before,
		     uint64_t *after, char *errmsg, size_t len)
{
	virTypedParameterPtr params = NULL;
	struct dom d;
	int n = 0, rc, found = -1;
	char *type;

	rc = dom_open(uri, name, &d, errmsg, len);
	if (rc < 0)
		goto out;
	type = V->DomainGetSchedulerType(d.dom, &n);
	free(type);
	if (n <= 0 || !(params = calloc((size_t)n, sizeof(*params))) ||
	    V->DomainGetSchedulerParametersFlags(d.dom, params, &n, 0) < 0) {
		ns_virt_err(errmsg, len);
		rc = -EOPNOTSUPP;
		goto out;
	}
	for (int i = 0; i < n; i++)
		if (strcmp(params[i].field, VIR_DOMAIN_SCHEDULER_CPU_SHARES) == 0 ||
		    strcmp(params[i].field, VIR_DOMAIN_SCHEDULER_WEIGHT) == 0)
			found = i;
	if (found < 0) {
		if (errmsg && len)
			snprintf(errmsg, len, "the driver has no CPU weight parameter");
		rc = -EOPNOTSUPP;
		goto out;
	}
	if (params[found].type == VIR_TYPED_PARAM_ULLONG) {
		uint64_t unit = cgroup_v2(NULL) ? 100 : 1024;

		*before = params[found].value.ul;
		*after = restore ? restore : unit * (uint64_t)vcpus;
		params[found].value.ul = *after;
	} else {
		*before = params[found].value.ui;
		*after = restore ? restore : 100 * (uint64_t)vcpus;
		if (*after > UINT32_MAX)
			*after = UINT32_MAX;
		params[found].value.ui = (unsigned)*after;
	}
	if (dry_run || *before == *after)
		goto out;
	if (V->DomainSetSchedulerParametersFlags(d.dom, &params[found], 1, 0) < 0) {
		ns_virt_err(errmsg, len);
		rc = -EPERM;
	}
out:
	if (params)
		V->TypedParamsClear(params, n);
	free(params);
	dom_close(&d);
	return rc;
}

int ns_weight_pid(const char *root, pid_t pid, int vcpus, uint64_t restore, int dry_run, uint64_t *before,
		  uint64_t *after, char *path, size_t pathlen)
{
	struct ns_cgroup_weight w;
	uint64_t unit;
	char val[32];
	FILE *f;
	int rc;

	/* the same reading numa-plan steal compares weights with */
	rc = ns_cgroup_cpu_weight(root, pid, 0, &w);
	if (strcmp(w.path, "/") == 0)
		return -EPERM;
	if (rc < 0)
		return rc == -ENOENT ? -EOPNOTSUPP : rc;
	snprintf(path, pathlen, "%s", w.file);
	unit = w.version == 2 ? 100 : 1024;
	*before = w.weight;
	*after = restore ? restore : unit * (uint64_t)vcpus;
	if (unit == 100 && *after > 10000)
		*after = 10000; /* cpu.weight's ceiling */
	if (dry_run || *before == *after)
		return 0;
	f = fopen(path, "we");
	if (!f)
		return -errno;
	snprintf(val, sizeof(val), "%llu\n", (unsigned long long)*after);
	rc = fputs(val, f) < 0 ? -EIO : 0;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}
