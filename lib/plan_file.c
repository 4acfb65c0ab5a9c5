/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rebalance plan file: written from a solved plan and read back for execution, in one
 * place so the writer and the reader cannot drift apart (schema: README "Rebalance plan"),
 * and each step checked against the live process before it runs. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numasafe/file.h"
#include "numasafe/plan.h"
#include "numasafe/procmem.h"
#include "numasafe/text.h"
#include "numasafe/vm.h"
#include "json_strict.h"
#include "plan_int.h"
#include "util.h"

/* ---- JSON ---- */

static int node_now(const struct ns_plan_in *in, int v)
{
	int best = -1;

	for (int n = 0; n < in->nr_nodes; n++)
		if (in->vms[v].mem[n] > 0 && (best < 0 || in->vms[v].mem[n] > in->vms[v].mem[best]))
			best = n;
	return best;
}

static int add(struct json_object *o, const char *key, struct json_object *val)
{
	if (!val)
		return -ENOMEM;
	if (json_object_object_add(o, key, val)) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

static int push(struct json_object *a, struct json_object *val)
{
	if (!val)
		return -ENOMEM;
	if (json_object_array_add(a, val)) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

/* A kernel node id, or JSON null for "none" (json-c writes a NULL member as null). */
static int add_node(struct json_object *o, const char *key, const struct ns_plan_in *in, int n)
{
	if (n < 0)
		return json_object_object_add(o, key, NULL) ? -ENOMEM : 0;
	return add(o, key, json_object_new_int(in->nodes[n].id));
}

/* CPUs measured: a number, or null when the plan was made without measuring demand. */
static int add_cpus(struct json_object *o, const char *key, const struct ns_plan_in *in, double cpus)
{
	if (!in->have_demand)
		return json_object_object_add(o, key, NULL) ? -ENOMEM : 0;
	return add(o, key, ns_plan_json_cpus(cpus));
}

/* The top level's demand fields: the excess before and after, the sampling window, and the
 * byte limit with what it cost. */
static int add_demand(struct json_object *root, const struct ns_plan_in *in, const struct ns_plan_out *out)
{
	struct json_object *mm;
	int bound = out->max_move_bound;

	if (add_cpus(root, "excess_before", in, out->excess_before) ||
	    add_cpus(root, "excess_after", in, out->excess_after))
		return -ENOMEM;
	if (in->have_demand ? add(root, "sample_s", json_object_new_double(in->sample_s))
			    : json_object_object_add(root, "sample_s", NULL))
		return -ENOMEM;
	if (!(in->flags & NS_PLAN_MAX_MOVE))
		return json_object_object_add(root, "max_move", NULL) ? -ENOMEM : 0;
	mm = json_object_new_object();
	if (add(root, "max_move", mm) || add(mm, "limit", json_object_new_uint64(in->max_move)) ||
	    add(mm, "bound", json_object_new_boolean(bound)) ||
	    add(mm, "vms_left", json_object_new_int(out->nr_limited)))
		return -ENOMEM;
	if (!bound)
		return json_object_object_add(mm, "excess_uncapped", NULL) ||
			       json_object_object_add(mm, "bytes_uncapped", NULL) ||
			       json_object_object_add(mm, "unplaced_uncapped", NULL)
		       ? -ENOMEM
		       : 0;
	if (add_cpus(mm, "excess_uncapped", in, out->excess_uncapped) ||
	    add(mm, "bytes_uncapped", json_object_new_uint64(out->bytes_uncapped)) ||
	    add(mm, "unplaced_uncapped", json_object_new_int(out->unplaced_uncapped)))
		return -ENOMEM;
	return 0;
}

struct json_object *ns_plan_to_json(const struct ns_plan_in *in, const struct ns_plan_out *out)
{
	struct json_object *root = NULL, *nodes = NULL, *vms = NULL, *steps = NULL;
	uint64_t *bytes_after = NULL;
	int *vcpus_after = NULL, *stepped = NULL, rc = -ENOMEM;

	if (!in || !out || in->nr_nodes < 1 || in->nr_nodes > NS_PLAN_MAX_NODES)
		return NULL;
	bytes_after = calloc((size_t)in->nr_nodes, sizeof(uint64_t));
	vcpus_after = calloc((size_t)in->nr_nodes, sizeof(int));
	stepped = calloc((size_t)(in->nr_vms ? in->nr_vms : 1), sizeof(int));
	root = json_object_new_object();
	if (!bytes_after || !vcpus_after || !stepped || !root)
		goto out;
	/* "after" is what running the emitted steps leaves: a VM whose step was left out
	 * (unordered) or that stays unplaced keeps its memory where it is */
	for (int i = 0; i < out->nr_steps; i++)
		if (!out->steps[i].via_temp)
			stepped[out->steps[i].vm] = 1;
	for (int v = 0; v < in->nr_vms; v++) {
		int p = out->placement[v];
		uint64_t tot = 0;

		for (int n = 0; n < in->nr_nodes; n++)
			tot += in->vms[v].mem[n];
		if (p >= 0)
			vcpus_after[p] += in->vms[v].vcpus;
		if (p >= 0 && (stepped[v] || tot == in->vms[v].mem[p]))
			bytes_after[p] += tot;
		else
			for (int n = 0; n < in->nr_nodes; n++)
				bytes_after[n] += in->vms[v].mem[n];
	}
	if (add(root, "version", json_object_new_int(NS_PLAN_VERSION)) ||
	    add(root, "kind", json_object_new_string("numasafe-rebalance")) ||
	    add(root, "exact", json_object_new_boolean(out->exact)) ||
	    add(root, "bytes_moved", json_object_new_uint64(out->bytes_moved)))
		goto out;
	{
		char list[4096];

		if (ns_set_format(&in->exclude, list, sizeof(list)) < 0 ||
		    add(root, "exclude_cpus", json_object_new_string(list)))
			goto out;
	}
	if (add_demand(root, in, out))
		goto out;
	nodes = json_object_new_array();
	if (add(root, "nodes", nodes))
		goto out;
	for (int n = 0; n < in->nr_nodes; n++) {
		struct json_object *o = json_object_new_object();

		if (push(nodes, o) || add(o, "node", json_object_new_int(in->nodes[n].id)) ||
		    add(o, "headroom", json_object_new_uint64(in->nodes[n].headroom)) ||
		    add(o, "cpus", json_object_new_int(in->nodes[n].cpus)) ||
		    add(o, "vcpus_after", json_object_new_int(vcpus_after[n])) ||
		    add(o, "bytes_after", json_object_new_uint64(bytes_after[n])) ||
		    add(o, "capacity", ns_plan_json_cpus(in->nodes[n].capacity)) ||
		    add_cpus(o, "demand_before", in, out->demand_before[n]) ||
		    add_cpus(o, "demand_after", in, out->demand_after[n]))
			goto out;
	}
	vms = json_object_new_array();
	if (add(root, "vms", vms))
		goto out;
	for (int v = 0; v < in->nr_vms; v++) {
		const struct ns_plan_vm *vm = &in->vms[v];
		struct json_object *o = json_object_new_object();
		int p = out->placement[v], now = node_now(in, v);
		uint64_t move = 0;

		if (p >= 0)
			for (int n = 0; n < in->nr_nodes; n++)
				move += n == p ? 0 : vm->mem[n];
		if (push(vms, o) || add(o, "name", json_object_new_string(vm->name)) ||
		    add(o, "domain", json_object_new_boolean(vm->is_domain)) ||
		    add(o, "pid", json_object_new_int64(vm->pid)) ||
		    add(o, "start_time", json_object_new_uint64(vm->start_time)) ||
		    add(o, "vcpus", json_object_new_int(vm->vcpus)))
			goto out;
		if (add_node(o, "node_now", in, now) || add_node(o, "node", in, p) ||
		    add(o, "bytes_to_move", json_object_new_uint64(move)))
			goto out;
		if (out->why[v][0] && add(o, "reason", json_object_new_string(out->why[v])))
			goto out;
		if (add_cpus(o, "demand", in, vm->demand) ||
		    (out->note && out->note[v][0] && add(o, "note", json_object_new_string(out->note[v]))))
			goto out;
	}
	steps = json_object_new_array();
	if (add(root, "steps", steps))
		goto out;
	for (int i = 0; i < out->nr_steps; i++) {
		const struct ns_plan_step *st = &out->steps[i];
		const struct ns_plan_vm *vm = &in->vms[st->vm];
		struct json_object *o = json_object_new_object();

		if (push(steps, o) || add(o, "step", json_object_new_int(i + 1)) ||
		    add(o, "vm", json_object_new_string(vm->name)) ||
		    add(o, "domain", json_object_new_boolean(vm->is_domain)) ||
		    add(o, "pid", json_object_new_int64(vm->pid)) ||
		    add(o, "start_time", json_object_new_uint64(vm->start_time)) ||
		    add(o, "to", json_object_new_int(in->nodes[st->to].id)) ||
		    add(o, "bytes", json_object_new_uint64(st->bytes)) ||
		    add(o, "temporary", json_object_new_boolean(st->via_temp)))
			goto out;
	}
	if (add(root, "unordered", json_object_new_int(out->nr_unordered)))
		goto out;
	rc = 0;
out:
	free(bytes_after);
	free(vcpus_after);
	free(stepped);
	if (rc) {
		json_object_put(root);
		root = NULL;
	}
	return root;
}

/* The member key of o as a non-negative integer no larger than max; names the problem. json-c
 * clamps integers it cannot hold to INT64_MIN or UINT64_MAX without saying so, so UINT64_MAX
 * itself is refused: no field of a plan can be that large, and it may stand for any larger
 * number. */
static const char *get_uint(struct json_object *o, const char *key, uint64_t max, uint64_t *val)
{
	struct json_object *x;
	int64_t i;

	if (!json_object_object_get_ex(o, key, &x))
		return "is missing";
	if (!json_object_is_type(x, json_type_int))
		return "is not an integer";
	/* json-c keeps integers beyond INT64_MAX as unsigned; get_int64 would clamp them */
	i = json_object_get_int64(x);
	if (i < 0)
		return "is negative";
	*val = i == INT64_MAX ? json_object_get_uint64(x) : (uint64_t)i;
	if (*val > max || *val == UINT64_MAX)
		return "is out of range";
	return NULL;
}

static const char *get_bool(struct json_object *o, const char *key, int *val)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, key, &x))
		return "is missing";
	if (!json_object_is_type(x, json_type_boolean))
		return "is not true or false";
	*val = json_object_get_boolean(x);
	return NULL;
}

/* A VM name as the executor uses it: a whole string (json-c's C string stops at an escaped
 * NUL), printable, non-empty, fitting. */
static const char *get_name(struct json_object *o, const char *key, char *out, size_t len)
{
	struct json_object *x;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(o, key, &x))
		return "is missing";
	if (!json_object_is_type(x, json_type_string))
		return "is not a VM name";
	s = json_object_get_string(x);
	n = (size_t)json_object_get_string_len(x);
	if (n == 0)
		return "is empty";
	if (n >= len)
		return "is too long for a VM name";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "contains a NUL or control character";
	memcpy(out, s, n + 1);
	return NULL;
}

/* Parse text (len bytes, NUL-terminated) as exactly one JSON value with nothing but white
 * space after it, strictly (RFC 8259, json_strict.h): what json-c would take leniently (single
 * quotes, NaN, comments, a key given twice, invalid UTF-8) is refused before it parses, so
 * numa-migrate reads a plan as jq and the policy script do. NULL with errmsg naming the line
 * and column, or NULL with errmsg empty when out of memory. */
static struct json_object *parse_json(const char *path, const char *text, size_t len, char *errmsg,
				      size_t errlen)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL;
	enum json_tokener_error e;
	unsigned line, col;
	char why[160];
	size_t at = 0;
	int rc;

	if (len >= INT32_MAX)
		goto out;
	rc = ns_json_strict_check(text, len, &at, why, sizeof(why));
	if (rc == -ENOMEM)
		goto out;
	if (rc < 0) {
		ns_json_position(text, len, at, &line, &col);
		snprintf(errmsg, errlen, "%s: not valid JSON: %s at line %u, column %u", path, why, line, col);
		goto out;
	}
	tok = json_tokener_new_ex(NS_JSON_MAX_DEPTH + 1);
	if (!tok)
		goto out;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	/* the terminating NUL included: without it json-c waits for more after a bare "1" */
	obj = json_tokener_parse_ex(tok, text, (int)len + 1);
	e = json_tokener_get_error(tok);
	if (obj && e == json_tokener_success)
		goto out;
	/* the check above accepted it: only a json-c limit can be left */
	json_object_put(obj);
	obj = NULL;
	ns_json_position(text, len, json_tokener_get_parse_end(tok), &line, &col);
	snprintf(errmsg, errlen, "%s: not valid JSON: %s at line %u, column %u", path,
		 e == json_tokener_continue ? "the text ends inside the plan" : json_tokener_error_desc(e), line, col);
out:
	if (tok)
		json_tokener_free(tok);
	return obj;
}

int ns_plan_read(const char *path, struct ns_plan_exec_step **steps, int *nr, char *errmsg,
		 size_t len)
{
	struct json_object *root = NULL, *x, *arr;
	struct ns_plan_exec_step *st = NULL;
	const char *bad = NULL, *key = NULL;
	struct ns_set exclude;
	char *text = NULL, scratch[8];
	size_t tlen = 0;
	int rc = -EINVAL, step = 0, n = 0;
	uint64_t u;

	if (!path || !steps || !nr || (len && !errmsg))
		return -EINVAL;
	if (!len) {
		errmsg = scratch;
		len = sizeof(scratch);
	}
	*steps = NULL;
	*nr = 0;
	errmsg[0] = '\0';
	/* a regular file only: /dev/zero would be read for ever, a FIFO waited on for ever */
	rc = ns_file_read_all(path, NS_PLAN_MAX_BYTES, &text, &tlen);
	if (rc == -ELOOP)
		snprintf(errmsg, len, "%s: is a symbolic link; give the plan file itself", path);
	else if (rc == -EISDIR)
		snprintf(errmsg, len, "%s: is a directory", path);
	else if (rc == -EINVAL)
		snprintf(errmsg, len, "%s: not a regular file", path);
	else if (rc == -EFBIG)
		snprintf(errmsg, len, "%s: larger than %d MiB, the limit for a plan file", path,
			 NS_PLAN_MAX_BYTES >> 20);
	else if (rc < 0)
		snprintf(errmsg, len, "%s: %s", path, strerror(-rc));
	if (rc < 0)
		goto out;
	rc = -EINVAL;
	root = parse_json(path, text, tlen, errmsg, len);
	if (!root) {
		if (!errmsg[0])
			rc = -ENOMEM;
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		bad = "the plan is not a JSON object";
		goto bad;
	}
	if ((bad = get_uint(root, key = "version", UINT64_MAX, &u)))
		goto bad;
	if (u != NS_PLAN_VERSION) {
		snprintf(errmsg, len, "%s: plan version %" PRIu64 " is not supported (only %d)", path, u,
			 NS_PLAN_VERSION);
		goto out;
	}
	key = NULL;
	if (!json_object_object_get_ex(root, "kind", &x) || !json_object_is_type(x, json_type_string) ||
	    strcmp(json_object_get_string(x), "numasafe-rebalance") != 0 ||
	    (size_t)json_object_get_string_len(x) != strlen("numasafe-rebalance")) {
		bad = "\"kind\" is not \"numasafe-rebalance\"";
		goto bad;
	}
	ns_set_clear(&exclude);
	if (json_object_object_get_ex(root, "exclude_cpus", &x)) {
		key = "exclude_cpus";
		if (!json_object_is_type(x, json_type_string) ||
		    (size_t)json_object_get_string_len(x) != strlen(json_object_get_string(x)) ||
		    ns_set_parse(json_object_get_string(x), NS_SET_MAX, &exclude) < 0) {
			bad = "is not a CPU list";
			goto bad;
		}
		key = NULL;
	}
	if (!json_object_object_get_ex(root, "steps", &arr) || !json_object_is_type(arr, json_type_array)) {
		bad = "\"steps\" is missing or not an array";
		goto bad;
	}
	n = (int)json_object_array_length(arr);
	st = calloc((size_t)(n ? n : 1), sizeof(*st));
	if (!st) {
		rc = -ENOMEM;
		goto out;
	}
	for (step = 1; step <= n; step++) {
		struct json_object *o = json_object_array_get_idx(arr, (size_t)step - 1);
		struct ns_plan_exec_step *e = &st[step - 1];

		key = NULL;
		if (!json_object_is_type(o, json_type_object)) {
			bad = "is not an object";
			goto bad;
		}
		e->index = step;
		e->exclude = exclude;
		if ((bad = get_uint(o, key = "step", INT32_MAX, &u)))
			goto bad;
		if (u != (uint64_t)step) {
			bad = "is out of sequence";
			goto bad;
		}
		if ((bad = get_name(o, key = "vm", e->vm, sizeof(e->vm))))
			goto bad;
		if ((bad = get_bool(o, key = "domain", &e->is_domain)))
			goto bad;
		if ((bad = get_uint(o, key = "pid", INT32_MAX, &u)))
			goto bad;
		if (u == 0) {
			bad = "is not a process id";
			goto bad;
		}
		e->pid = (pid_t)u;
		/* without it a reused pid would pass for the VM */
		if ((bad = get_uint(o, key = "start_time", UINT64_MAX, &u)))
			goto bad;
		if (u == 0) {
			bad = "is not a process start time (must be positive)";
			goto bad;
		}
		e->start_time = u;
		key = "to";
		if (get_uint(o, key, 4095, &u)) {
			bad = "is not a node id";
			goto bad;
		}
		e->to_node = (int)u;
		if ((bad = get_uint(o, key = "bytes", UINT64_MAX, &u)))
			goto bad;
		e->bytes = u;
		if ((bad = get_bool(o, key = "temporary", &e->temporary)))
			goto bad;
	}
	*steps = st;
	*nr = n;
	st = NULL;
	rc = 0;
	goto out;
bad:
	if (step && key)
		snprintf(errmsg, len, "%s: step %d: \"%s\" %s", path, step, key, bad);
	else if (step)
		snprintf(errmsg, len, "%s: step %d %s", path, step, bad);
	else if (key)
		snprintf(errmsg, len, "%s: \"%s\" %s", path, key, bad);
	else
		snprintf(errmsg, len, "%s: %s", path, bad);
	rc = -EINVAL;
out:
	free(st);
	free(text);
	json_object_put(root);
	return rc;
}

/* ---- a step against the live host ---- */

/* Whether a live name is the one a plan names: the same bytes, or the same once invalid UTF-8
 * is replaced as the plan's JSON replaced it. Pid and start time are the identity; the name
 * only guards against a plan made for another VM. */
static bool name_is(const char *live, const char *planned)
{
	char fixed[1024];

	return strcmp(live, planned) == 0 || strcmp(ns_utf8_fix(live, fixed, sizeof(fixed)), planned) == 0;
}

int ns_plan_step_verify(const char *root, const struct ns_plan_exec_step *s, char *errmsg, size_t len)
{
	struct ns_proc_stat pst;
	struct ns_vm vm;
	char path[4096], comm[64] = "", scratch[8];
	pid_t dpid = 0;
	int rc, r;

	memset(&vm, 0, sizeof(vm));
	if (!len) {
		errmsg = scratch;
		len = sizeof(scratch);
	}
	errmsg[0] = '\0';
	if (!s || s->pid <= 0 || s->start_time == 0) {
		snprintf(errmsg, len, "the step names no process start time");
		rc = -EINVAL;
		goto out;
	}
	rc = -ESTALE;
	if (s->is_domain) {
		/* the pid file is libvirt's word on which process the domain is now */
		r = ns_domain_pidfile(root, s->vm, &dpid);
		if (r < 0) {
			snprintf(errmsg, len, "domain %s has no QEMU process here (no /run/libvirt/qemu/%s.pid)", s->vm,
				 s->vm);
			goto out;
		}
		if (dpid != s->pid) {
			snprintf(errmsg, len, "domain %s runs as pid %d now, not %d", s->vm, (int)dpid, (int)s->pid);
			goto out;
		}
	}
	r = ns_proc_stat_read(root, s->pid, &pst);
	if (r < 0 || pst.state == 'Z' || pst.state == 'X') {
		snprintf(errmsg, len, "%s (pid %d) is gone", s->vm, (int)s->pid);
		goto out;
	}
	if (pst.start_time != s->start_time) {
		snprintf(errmsg, len, "pid %d started at %llu, not %llu: another process has the pid now", (int)s->pid,
			 pst.start_time, s->start_time);
		goto out;
	}
	if (ns_path(path, sizeof(path), root, "/proc/%d/comm", (int)s->pid) == 0 &&
	    ns_read_file(path, comm, sizeof(comm)) > 0)
		comm[strcspn(comm, "\n")] = '\0';
	r = ns_vm_from_pid(root, s->pid, &vm);
	if (r == -ESRCH) {
		snprintf(errmsg, len, "%s (pid %d) is gone", s->vm, (int)s->pid);
		goto out;
	}
	if (r < 0 && r != -ENODATA) {
		snprintf(errmsg, len, "pid %d (%s) is not a VM now", (int)s->pid, comm[0] ? comm : "?");
		goto out;
	}
	/* a domain is known by its pid file (checked above); a bare QEMU by its -name, or its comm,
	 * as the plan wrote them: JSON carries each invalid UTF-8 byte as U+FFFD (ns_utf8_fix) */
	if (!s->is_domain && !name_is(vm.name, s->vm) && !name_is(comm, s->vm)) {
		snprintf(errmsg, len, "pid %d is \"%s\" (%s) now, not \"%s\"", (int)s->pid, vm.name, comm[0] ? comm : "?",
			 s->vm);
		goto out;
	}
	rc = 0;
out:
	ns_vm_release(&vm);
	return rc;
}
