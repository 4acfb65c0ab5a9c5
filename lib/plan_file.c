/* The rebalance plan file: written from a solved plan and read back for execution, in one
 * place so the writer and the reader cannot drift apart (schema: README "Rebalance plan"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numasafe/plan.h"
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
	nodes = json_object_new_array();
	if (add(root, "nodes", nodes))
		goto out;
	for (int n = 0; n < in->nr_nodes; n++) {
		struct json_object *o = json_object_new_object();

		if (push(nodes, o) || add(o, "node", json_object_new_int(in->nodes[n].id)) ||
		    add(o, "headroom", json_object_new_uint64(in->nodes[n].headroom)) ||
		    add(o, "cpus", json_object_new_int(in->nodes[n].cpus)) ||
		    add(o, "vcpus_after", json_object_new_int(vcpus_after[n])) ||
		    add(o, "bytes_after", json_object_new_uint64(bytes_after[n])))
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

/* The member key of o as a non-negative integer no larger than max; names the problem. */
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
	if (*val > max)
		return "is too large";
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

int ns_plan_read(const char *path, struct ns_plan_exec_step **steps, int *nr, char *errmsg,
		 size_t len)
{
	struct json_object *root = NULL, *x, *arr;
	struct ns_plan_exec_step *st = NULL;
	const char *bad = NULL, *key = NULL;
	int rc = -EINVAL, step = 0, n = 0;
	uint64_t u;
	FILE *f;

	if (!path || !steps || !nr || (len && !errmsg))
		return -EINVAL;
	*steps = NULL;
	*nr = 0;
	if (len)
		errmsg[0] = '\0';
	/* open it ourselves first: json-c reports a missing file only as text, not as errno */
	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		if (len)
			snprintf(errmsg, len, "%s: %s", path, strerror(errno));
		goto out;
	}
	fclose(f);
	root = json_object_from_file(path);
	if (!root) {
		/* json-c ends its message with a newline: the error stays one line */
		const char *why = json_util_get_last_err();

		if (!why)
			why = "unknown error";
		if (len)
			snprintf(errmsg, len, "%s: not valid JSON: %.*s", path, (int)strcspn(why, "\n"), why);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		bad = "the plan is not a JSON object";
		goto bad;
	}
	if ((bad = get_uint(root, key = "version", UINT64_MAX, &u)))
		goto bad;
	if (u != NS_PLAN_VERSION) {
		if (len)
			snprintf(errmsg, len, "%s: plan version %" PRIu64 " is not supported (only %d)", path,
				 u, NS_PLAN_VERSION);
		goto out;
	}
	key = NULL;
	if (!json_object_object_get_ex(root, "kind", &x) || !json_object_is_type(x, json_type_string) ||
	    strcmp(json_object_get_string(x), "numasafe-rebalance")) {
		bad = "\"kind\" is not \"numasafe-rebalance\"";
		goto bad;
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
		const char *name;

		key = NULL;
		if (!json_object_is_type(o, json_type_object)) {
			bad = "is not an object";
			goto bad;
		}
		e->index = step;
		if ((bad = get_uint(o, key = "step", INT32_MAX, &u)))
			goto bad;
		if (u != (uint64_t)step) {
			bad = "is out of sequence";
			goto bad;
		}
		key = "vm";
		if (!json_object_object_get_ex(o, key, &x)) {
			bad = "is missing";
			goto bad;
		}
		name = json_object_is_type(x, json_type_string) ? json_object_get_string(x) : NULL;
		if (!name || !*name || strlen(name) >= sizeof(e->vm)) {
			bad = "is not a VM name";
			goto bad;
		}
		strcpy(e->vm, name);
		if ((bad = get_bool(o, key = "domain", &e->is_domain)))
			goto bad;
		if ((bad = get_uint(o, key = "pid", INT32_MAX, &u)))
			goto bad;
		if (u == 0) {
			bad = "is not a process id";
			goto bad;
		}
		e->pid = (pid_t)u;
		if ((bad = get_uint(o, key = "start_time", UINT64_MAX, &u)))
			goto bad;
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
	if (len && step && key)
		snprintf(errmsg, len, "%s: step %d: \"%s\" %s", path, step, key, bad);
	else if (len && step)
		snprintf(errmsg, len, "%s: step %d %s", path, step, bad);
	else if (len && key)
		snprintf(errmsg, len, "%s: \"%s\" %s", path, key, bad);
	else if (len)
		snprintf(errmsg, len, "%s: %s", path, bad);
	rc = -EINVAL;
out:
	free(st);
	json_object_put(root);
	return rc;
}
