/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the planner's two halves share: lib/plan.c places VMs on nodes, lib/plan_order.c
 * orders the moves of a placement. The solver's context and its small helpers; private to
 * lib/. */
#ifndef NS_PLAN_INT_H
#define NS_PLAN_INT_H

#include <stdint.h>

#include "numasafe/parse.h"
#include "numasafe/plan.h"

#define WHY_LEN 160

struct ctx {
	const struct ns_plan_in *in;
	int nn, nv;
	int64_t *total;			 /* bytes per VM */
	int64_t cap0[NS_PLAN_MAX_NODES]; /* headroom + every VM's bytes there: what VMs may use */
	int64_t cap[NS_PLAN_MAX_NODES];	 /* cap0 less what VMs that fit nowhere keep there */
	unsigned char *fixed;		 /* fits on no node even alone: stays where it is */
	int nfixed;
	long shift_budget;
	uint64_t rng;
	int64_t budget; /* bytes one run may move (INT64_MAX: no --max-move) */
	/* CPU demand in thousandths of a CPU, so sums and ties are exact */
	int demand;			 /* in->have_demand: objective (2) counts */
	int64_t *dm;			 /* per VM (0 when !demand) */
	int *home;			 /* per VM: ns_plan_vm_node, where it stays when unplaced */
	int64_t capm[NS_PLAN_MAX_NODES]; /* capacity per node */
	int64_t base[NS_PLAN_MAX_NODES]; /* demand of the fixed VMs (on their home) */
};

/* Thousandths of a CPU, rounded (x >= 0). */
static inline int64_t plan_milli(double x)
{
	return (int64_t)(x * 1000.0 + 0.5);
}

static inline int64_t vmem(const struct ctx *c, int v, int n)
{
	return (int64_t)c->in->vms[v].mem[n];
}

static inline int64_t cost(const struct ctx *c, int v, int n)
{
	return c->total[v] - vmem(c, v, n);
}

static inline int vcpus(const struct ctx *c, int v)
{
	return c->in->vms[v].vcpus;
}

/* A VM may live on node n: not a memory-only node, and the node it is pinned to if any. */
static inline int allowed(const struct ctx *c, int v, int n)
{
	int p = c->in->vms[v].pinned_node;

	return !c->in->nodes[n].memory_only && (p < 0 || p == n);
}

/* Demand beyond node n's capacity when it carries d. */
static inline int64_t over(const struct ctx *c, int n, int64_t d)
{
	return d > c->capm[n] ? d - c->capm[n] : 0;
}

/* The objective: fewer unplaced VMs, then less excess demand, then fewer bytes. */
static inline int better(int u1, int64_t e1, int64_t b1, int u2, int64_t e2, int64_t b2)
{
	return u1 < u2 || (u1 == u2 && (e1 < e2 || (e1 == e2 && b1 < b2)));
}

/* VMs sorted by a key, largest first (qsort with ns_plan_keyed_desc; ties by index). */
struct keyed {
	double key;
	int v;
};
int ns_plan_keyed_desc(const void *a, const void *b);

/* A size in a reason, by the one size formatter; buf holds 32. */
static inline const char *plan_size(char *buf, int64_t b)
{
	return ns_size_format(b < 0 ? 0 : (uint64_t)b, buf, 32);
}

/* A reason into a why[] field; a long list of VM names is cut at the field's end. */
void ns_plan_say(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A number of CPUs for the plan files: rounded to thousandths, written with at most three
 * decimals (1.25, not 1.2500000000000002). NULL when out of memory. */
struct json_object *ns_plan_json_cpus(double cpus);

/* Order the placement at[] (node index per VM, -1 unplaced) into out->steps, out->why and
 * out->nr_unordered (see ns_plan_solve). 0 or -ENOMEM. */
int ns_plan_order(const struct ctx *c, const int *at, struct ns_plan_out *out);

#endif
