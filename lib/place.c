/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Placement advice for a new VM (numa-plan place): the node where a VM of N vCPUs and a given
 * memory size would do best now, every node's numbers and reason, and the advice as JSON. Pure
 * arithmetic over what ns_plan_gather read; the rebalance planner itself is lib/plan.c. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_int.h"

/* A number of CPUs as text with at most three decimals: "1.25", "2", "0.05". */
static const char *cpus_text(char *buf, size_t len, int64_t milli)
{
	int n = snprintf(buf, len, "%s%lld.%03lld", milli < 0 ? "-" : "",
			 (long long)((milli < 0 ? -milli : milli) / 1000),
			 (long long)((milli < 0 ? -milli : milli) % 1000));

	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	return buf;
}

struct json_object *ns_plan_json_cpus(double cpus)
{
	char buf[48];

	return json_object_new_double_s((double)plan_milli(cpus) / 1000.0,
					cpus_text(buf, sizeof(buf), plan_milli(cpus)));
}

static int check(const struct ns_plan_in *in, int vcpus, uint64_t bytes)
{
	if (!in || in->nr_nodes < 1 || in->nr_nodes > NS_PLAN_MAX_NODES || in->nr_vms < 0 ||
	    (in->nr_vms > 0 && !in->vms) || vcpus < 1 || bytes == 0)
		return -EINVAL;
	for (int n = 0; n < in->nr_nodes; n++)
		if (in->nodes[n].cpus < 0 || !(in->nodes[n].capacity >= 0 && in->nodes[n].capacity <= 1e6))
			return -EINVAL;
	for (int v = 0; v < in->nr_vms; v++)
		if (in->vms[v].vcpus < 0 || (in->have_demand && !(in->vms[v].demand >= 0 && in->vms[v].demand <= 1e6)))
			return -EINVAL;
	return 0;
}

int ns_place_solve(const struct ns_plan_in *in, int vcpus, uint64_t bytes, struct ns_place_out *out)
{
	int64_t dem[NS_PLAN_MAX_NODES] = { 0 }, capm[NS_PLAN_MAX_NODES], exc[NS_PLAN_MAX_NODES];
	int64_t vc[NS_PLAN_MAX_NODES] = { 0 };
	int rc;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->node = -1;
	rc = check(in, vcpus, bytes);
	if (rc)
		return rc;
	out->vcpus = vcpus;
	out->bytes = bytes;
	out->have_demand = !!in->have_demand;
	out->nr_nodes = in->nr_nodes;
	for (int v = 0; v < in->nr_vms; v++) {
		int h = ns_plan_vm_node(in, v);

		if (h < 0)
			continue;
		/* unmeasured, a VM is taken to use all of its vCPUs, as the new one is */
		dem[h] += in->have_demand ? plan_milli(in->vms[v].demand) : (int64_t)in->vms[v].vcpus * 1000;
		vc[h] += in->vms[v].vcpus;
	}
	for (int n = 0; n < in->nr_nodes; n++) {
		const struct ns_plan_node *node = &in->nodes[n];
		struct ns_place_node *p = &out->nodes[n];
		char need[32], room[32], d[32], c[32], x[32];
		int memok = node->headroom >= bytes, cpuok = vc[n] + vcpus <= (int64_t)node->cpus;
		int64_t after;

		capm[n] = plan_milli(node->capacity);
		after = dem[n] + (int64_t)vcpus * 1000;
		exc[n] = after > capm[n] ? after - capm[n] : 0;
		p->id = node->id;
		p->demand = (double)dem[n] / 1000.0;
		p->capacity = (double)capm[n] / 1000.0;
		p->headroom = node->headroom;
		p->vcpus = vc[n] > INT_MAX ? INT_MAX : (int)vc[n]; /* saturates: it is only shown */
		p->vcpu_cap = node->cpus;
		p->excess = (double)exc[n] / 1000.0;
		p->fits = !node->memory_only && memok && cpuok;
		ns_size_format(bytes, need, sizeof(need));
		ns_size_format(node->headroom, room, sizeof(room));
		cpus_text(d, sizeof(d), dem[n]);
		cpus_text(c, sizeof(c), capm[n]);
		if (node->memory_only)
			ns_plan_say(p->reason, "no CPUs (memory-only node)");
		else if (!memok && !cpuok)
			ns_plan_say(p->reason, "needs %s, headroom %s; %lld vCPUs there + %d exceed its vCPU cap of %d",
				    need, room, (long long)vc[n], vcpus, node->cpus);
		else if (!memok)
			ns_plan_say(p->reason, "needs %s, headroom %s", need, room);
		else if (!cpuok)
			ns_plan_say(p->reason, "%lld vCPUs there + %d exceed its vCPU cap of %d", (long long)vc[n], vcpus,
				    node->cpus);
		else if (exc[n] > 0)
			ns_plan_say(p->reason, "fits: demand %s + %d of %s CPUs, %s CPUs short; headroom %s", d, vcpus, c,
				    cpus_text(x, sizeof(x), exc[n]), room);
		else
			ns_plan_say(p->reason, "fits: demand %s + %d of %s CPUs, %s spare; headroom %s", d, vcpus, c,
				    cpus_text(x, sizeof(x), capm[n] - after), room);
	}
	for (int n = 0; n < in->nr_nodes; n++) {
		int b = out->node;

		if (!out->nodes[n].fits)
			continue;
		/* least excess, then most spare CPU, then most headroom, then the first */
		if (b < 0 || exc[n] < exc[b] || (exc[n] == exc[b] && capm[n] - dem[n] > capm[b] - dem[b]) ||
		    (exc[n] == exc[b] && capm[n] - dem[n] == capm[b] - dem[b] &&
		     in->nodes[n].headroom > in->nodes[b].headroom))
			out->node = n;
	}
	return 0;
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

struct json_object *ns_place_to_json(const struct ns_place_out *out)
{
	struct json_object *root = json_object_new_object(), *nodes = NULL;
	int rc = -ENOMEM;

	if (!root || !out)
		goto out;
	if (add(root, "version", json_object_new_int(1)) ||
	    add(root, "kind", json_object_new_string("numasafe-place")))
		goto out;
	if (out->node >= 0 ? add(root, "node", json_object_new_int(out->nodes[out->node].id))
			   : json_object_object_add(root, "node", NULL))
		goto out;
	if (add(root, "vcpus", json_object_new_int(out->vcpus)) ||
	    add(root, "memory", json_object_new_uint64(out->bytes)) ||
	    add(root, "demand_measured", json_object_new_boolean(out->have_demand)))
		goto out;
	nodes = json_object_new_array();
	if (add(root, "nodes", nodes))
		goto out;
	for (int n = 0; n < out->nr_nodes; n++) {
		const struct ns_place_node *p = &out->nodes[n];
		struct json_object *o = json_object_new_object();

		if (!o || json_object_array_add(nodes, o)) {
			json_object_put(o);
			goto out;
		}
		if (add(o, "node", json_object_new_int(p->id)) || add(o, "demand", ns_plan_json_cpus(p->demand)) ||
		    add(o, "capacity", ns_plan_json_cpus(p->capacity)) ||
		    add(o, "headroom", json_object_new_uint64(p->headroom)) ||
		    add(o, "vcpus", json_object_new_int(p->vcpus)) ||
		    add(o, "vcpu_cap", json_object_new_int(p->vcpu_cap)) ||
		    add(o, "excess", ns_plan_json_cpus(p->excess)) ||
		    add(o, "fits", json_object_new_boolean(p->fits)) ||
		    add(o, "reason", json_object_new_string(p->reason)))
			goto out;
	}
	rc = 0;
out:
	if (rc) {
		json_object_put(root);
		root = NULL;
	}
	return root;
}
