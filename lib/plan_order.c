/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rebalance planner's step order: moves ordered by simulating each node's headroom, so
 * that every move's target has room when it runs; cycles broken by parking a VM on a third
 * node; steps no order allows left out with a reason. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_int.h"
#include "util.h"

/* Freeing candidates examined per starved node when ordering steps (see pick_step). */
#define ORDER_SCAN 64
#define ORDER_TOP 8
/* When the greedy order leaves steps out: randomised retries, and an exhaustive search over
 * subsets of steps (2^n states) when there are at most this many steps. */
#define ORDER_TRIES_SMALL 30
#define ORDER_TRIES_LARGE 3
#define ORDER_EXHAUSTIVE_MAX 18

/* ---- ordering the moves ---- */

/* Steps ordered by simulation: each node's free headroom goes down when a step moves memory
 * in and up when a step moves memory out. A step runs only when its target has room for all
 * of its bytes. Free memory after a set of steps depends only on which steps ran, not on their
 * order, which is what makes the exhaustive search below a search over subsets. */
struct ord {
	const struct ctx *c;
	int ns;
	int *vm, *to, *park, *done;
	int64_t *bytes; /* bytes of the final leg (the VM's total once it is parked) */
	int64_t free[NS_PLAN_MAX_NODES];
	int64_t inbound[NS_PLAN_MAX_NODES]; /* pending bytes into each node */
	/* per node: pending steps holding memory there, most first (doubly linked over s*nn+n) */
	int *fnext, *fprev, fhead[NS_PLAN_MAX_NODES];
	int *tnext, *tprev, thead[NS_PLAN_MAX_NODES]; /* per target: pending steps, smallest first */
	int *parked, nparked;
	const unsigned char *nopark; /* per VM: parking it led nowhere in an earlier try */
	uint64_t rng;			 /* 0: deterministic choices; else randomised ties */
};

static uint64_t ord_rnd(struct ord *o)
{
	o->rng ^= o->rng << 13;
	o->rng ^= o->rng >> 7;
	o->rng ^= o->rng << 17;
	return o->rng;
}

static inline int64_t cur_mem(const struct ord *o, int s, int m)
{
	if (o->park[s] >= 0)
		return m == o->park[s] ? o->c->total[o->vm[s]] : 0;
	return vmem(o->c, o->vm[s], m);
}

static void f_unlink(struct ord *o, int s)
{
	int nn = o->c->nn;

	for (int m = 0; m < nn; m++) {
		size_t i = (size_t)s * (size_t)nn + (size_t)m;

		if (o->fprev[i] == -2)
			continue;
		if (o->fprev[i] >= 0)
			o->fnext[(size_t)o->fprev[i] * (size_t)nn + (size_t)m] = o->fnext[i];
		else
			o->fhead[m] = o->fnext[i];
		if (o->fnext[i] >= 0)
			o->fprev[(size_t)o->fnext[i] * (size_t)nn + (size_t)m] = o->fprev[i];
		o->fprev[i] = -2;
	}
}

static void t_unlink(struct ord *o, int s)
{
	if (o->tprev[s] >= 0)
		o->tnext[o->tprev[s]] = o->tnext[s];
	else
		o->thead[o->to[s]] = o->tnext[s];
	if (o->tnext[s] >= 0)
		o->tprev[o->tnext[s]] = o->tprev[s];
}

static void t_insert(struct ord *o, int s)
{
	int t = o->to[s], prev = -1, at = o->thead[t];

	while (at >= 0 && o->bytes[at] <= o->bytes[s])
		prev = at, at = o->tnext[at];
	o->tprev[s] = prev;
	o->tnext[s] = at;
	if (prev >= 0)
		o->tnext[prev] = s;
	else
		o->thead[t] = s;
	if (at >= 0)
		o->tprev[at] = s;
}

static inline int64_t pressure(const struct ord *o, int n)
{
	return o->inbound[n] > o->free[n] ? o->inbound[n] - o->free[n] : 0;
}

/* How much running step s lowers the pressure (pending inbound beyond free) on nodes other
 * steps wait for. Running a step into t leaves t's own pressure unchanged. */
static int64_t relief(const struct ord *o, int s)
{
	int64_t r = 0;

	for (int m = 0; m < o->c->nn; m++) {
		int64_t p = pressure(o, m), x = cur_mem(o, s, m);

		if (m != o->to[s] && p > 0 && x > 0)
			r += x < p ? x : p;
	}
	return r;
}

static inline int runnable(const struct ord *o, int s)
{
	return o->free[o->to[s]] >= o->bytes[s];
}

/* The next step to run, or -1 when none can: first the one relieving starved nodes most, then
 * one into a node with room for all its inbound (harmless whenever it runs), then the
 * smallest one that fits. A randomised try sometimes takes another of the candidates. */
static int pick_step(struct ord *o)
{
	const struct ctx *c = o->c;
	int cand[ORDER_TOP * 4], nc = 0, best = -1;
	int64_t br = 0;

	for (int m = 0; m < c->nn; m++) {
		int seen = 0, top = 0;

		if (pressure(o, m) == 0)
			continue;
		for (int s = o->fhead[m]; s >= 0 && seen < ORDER_SCAN && top < ORDER_TOP;
		     s = o->fnext[(size_t)s * (size_t)c->nn + (size_t)m], seen++) {
			int64_t r;

			if (!runnable(o, s))
				continue;
			top++;
			r = relief(o, s);
			if (nc < (int)NS_ARRAY_SIZE(cand))
				cand[nc++] = s;
			if (r > br || (r == br && best >= 0 && r > 0 && o->bytes[s] < o->bytes[best]))
				best = s, br = r;
		}
	}
	for (int i = 0; i < o->nparked; i++) {
		int s = o->parked[i];
		int64_t r;

		if (o->done[s] || !runnable(o, s))
			continue;
		r = relief(o, s);
		if (nc < (int)NS_ARRAY_SIZE(cand))
			cand[nc++] = s;
		if (r > br || (r == br && best >= 0 && r > 0 && o->bytes[s] < o->bytes[best]))
			best = s, br = r;
	}
	for (int t = 0; t < c->nn; t++)
		if (o->thead[t] >= 0 && pressure(o, t) == 0) {
			if (best < 0)
				best = o->thead[t];
			if (nc < (int)NS_ARRAY_SIZE(cand))
				cand[nc++] = o->thead[t];
		}
	for (int t = 0; t < c->nn; t++) {
		int s = o->thead[t];

		if (s < 0 || !runnable(o, s) || pressure(o, t) == 0)
			continue;
		if (nc < (int)NS_ARRAY_SIZE(cand))
			cand[nc++] = s;
		if (best < 0 || (br == 0 && pressure(o, o->to[best]) > 0 && o->bytes[s] < o->bytes[best]))
			best = s;
	}
	if (o->rng && nc > 1 && ord_rnd(o) % 4 == 0)
		best = cand[ord_rnd(o) % (uint64_t)nc];
	return best;
}

static void run_step(struct ord *o, int s)
{
	const struct ctx *c = o->c;

	for (int m = 0; m < c->nn; m++)
		if (m != o->to[s])
			o->free[m] += cur_mem(o, s, m);
	o->free[o->to[s]] -= o->bytes[s];
	o->inbound[o->to[s]] -= o->bytes[s];
	o->done[s] = 1;
	f_unlink(o, s);
	t_unlink(o, s);
}

/* After parking s on k, could anything run? Without this check a leg that frees the wrong
 * node would move a VM away and strand it there. */
static int park_unblocks(const struct ord *o, int s, int k, int64_t legbytes)
{
	int64_t fr[NS_PLAN_MAX_NODES];

	for (int m = 0; m < o->c->nn; m++)
		fr[m] = o->free[m] + (m == k ? -legbytes : cur_mem(o, s, m));
	if (fr[o->to[s]] >= o->c->total[o->vm[s]])
		return 1;
	for (int t = 0; t < o->c->nn; t++) {
		int x = o->thead[t];

		if (x == s)
			x = o->tnext[x];
		if (x >= 0 && fr[t] >= o->bytes[x])
			return 1;
	}
	return 0;
}

/* Stuck: park one VM wholly on a node with room, freeing what it holds elsewhere, when that
 * lets some step run. Returns the parking node, or -1 when no parking helps. */
static int park_one(const struct ord *o, int *which)
{
	const struct ctx *c = o->c;
	int bs = -1, bk = -1;
	int64_t bscore = 0, bbytes = 0;

	for (int s = 0; s < o->ns; s++) {
		if (o->done[s] || o->park[s] >= 0 || o->nopark[o->vm[s]])
			continue;
		for (int k = 0; k < c->nn; k++) {
			int64_t legbytes, r = 0, after, score;

			/* a parking leg pins the VM to k's CPUs too: never a memory-only node */
			if (k == o->to[s] || c->in->nodes[k].memory_only)
				continue;
			legbytes = c->total[o->vm[s]] - cur_mem(o, s, k);
			if (o->free[k] < legbytes)
				continue;
			for (int m = 0; m < c->nn; m++) {
				int64_t x = cur_mem(o, s, m), p = pressure(o, m);

				if (m != k && p > 0 && x > 0)
					r += x < p ? x : p;
			}
			if (r == 0 || !park_unblocks(o, s, k, legbytes))
				continue;
			/* what it costs: pressure it adds on k, and what it held on its target, which
			 * now has to come back too */
			after = o->inbound[k] - (o->free[k] - legbytes);
			score = r - ((after > 0 ? after : 0) - pressure(o, k)) - cur_mem(o, s, o->to[s]);
			if (bs < 0 || score > bscore || (score == bscore && legbytes < bbytes))
				bs = s, bk = k, bscore = score, bbytes = legbytes;
		}
	}
	if (bs < 0)
		return -1;
	*which = bs;
	return bk;
}

static void ord_free(struct ord *o)
{
	free(o->vm);
	free(o->to);
	free(o->park);
	free(o->done);
	free(o->bytes);
	free(o->fnext);
	free(o->fprev);
	free(o->tnext);
	free(o->tprev);
	free(o->parked);
}

/* The steps of placement at, pending, none run yet. */
static int ord_init(struct ord *o, const struct ctx *c, const int *at)
{
	size_t nv = (size_t)(c->nv ? c->nv : 1), nn = (size_t)c->nn;

	memset(o, 0, sizeof(*o));
	o->c = c;
	o->vm = calloc(nv, sizeof(int));
	o->to = calloc(nv, sizeof(int));
	o->park = calloc(nv, sizeof(int));
	o->done = calloc(nv, sizeof(int));
	o->bytes = calloc(nv, sizeof(int64_t));
	o->fnext = calloc(nv * nn, sizeof(int));
	o->fprev = calloc(nv * nn, sizeof(int));
	o->tnext = calloc(nv, sizeof(int));
	o->tprev = calloc(nv, sizeof(int));
	o->parked = calloc(nv, sizeof(int));
	if (!o->vm || !o->to || !o->park || !o->done || !o->bytes || !o->fnext || !o->fprev ||
	    !o->tnext || !o->tprev || !o->parked)
		return -ENOMEM;
	for (int n = 0; n < c->nn; n++) {
		o->free[n] = (int64_t)c->in->nodes[n].headroom;
		o->fhead[n] = o->thead[n] = -1;
	}
	/* a VM already wholly on its node needs nothing, not even pinning */
	for (int v = 0; v < c->nv; v++) {
		if (at[v] < 0 || cost(c, v, at[v]) == 0)
			continue;
		o->vm[o->ns] = v;
		o->to[o->ns] = at[v];
		o->park[o->ns] = -1;
		o->bytes[o->ns] = cost(c, v, at[v]);
		o->inbound[at[v]] += o->bytes[o->ns];
		t_insert(o, o->ns);
		o->ns++;
	}
	for (size_t i = 0; i < (size_t)o->ns * nn; i++)
		o->fprev[i] = -2;
	/* freeing lists, most first */
	for (int m = 0; m < c->nn; m++) {
		struct keyed *k = calloc((size_t)(o->ns ? o->ns : 1), sizeof(*k));
		int cnt = 0, prev = -1;

		if (!k)
			return -ENOMEM;
		for (int s = 0; s < o->ns; s++)
			if (m != o->to[s] && vmem(c, o->vm[s], m) > 0) {
				k[cnt].key = (double)vmem(c, o->vm[s], m);
				k[cnt++].v = s;
			}
		qsort(k, (size_t)cnt, sizeof(*k), ns_plan_keyed_desc);
		for (int i = 0; i < cnt; i++) {
			size_t si = (size_t)k[i].v * nn + (size_t)m;

			o->fprev[si] = prev;
			o->fnext[si] = -1;
			if (prev >= 0)
				o->fnext[(size_t)prev * nn + (size_t)m] = k[i].v;
			else
				o->fhead[m] = k[i].v;
			prev = k[i].v;
		}
		free(k);
	}
	return 0;
}

/* Say why each step left pending cannot run. */
static void why_unordered(const struct ord *o, char (*why)[WHY_LEN])
{
	const struct ctx *c = o->c;

	for (int s = 0; s < o->ns; s++) {
		char need[32], fr[32], names[96] = "";
		size_t used = 0;
		int t = o->to[s], more = 0;

		if (o->done[s])
			continue;
		for (int x = 0; x < o->ns; x++) {
			const char *nm = c->in->vms[o->vm[x]].name;

			if (x == s || o->done[x] || cur_mem(o, x, t) == 0)
				continue;
			if (!more && used + strlen(nm) + 2 < sizeof(names) - 16)
				used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
							 used ? ", " : "", nm);
			else
				more++;
		}
		if (more)
			snprintf(names + used, sizeof(names) - used, " and %d more", more);
		plan_size(need, o->bytes[s]);
		plan_size(fr, o->free[t] > 0 ? o->free[t] : 0);
		ns_plan_say(why[o->vm[s]],
		    "no safe order: needs %s on node %d (%s free), which frees only after %s move", need,
		    c->in->nodes[t].id, fr, used ? names : "other VMs");
	}
}

/* One ordering: the greedy choice (randomised when rng != 0), parking VMs to break cycles.
 * Fills out's steps, nr_steps, nr_unordered and the why[] of unordered VMs. Returns 1 when a
 * parked VM ended up unordered (marked in nopark: the caller tries again without parking it). */
static int order_once(const struct ctx *c, const int *at, unsigned char *nopark, uint64_t rng,
		      struct ns_plan_out *out, int *err)
{
	struct ord o;
	int left, stranded = 0;

	*err = ord_init(&o, c, at);
	if (*err)
		goto out;
	o.nopark = nopark;
	o.rng = rng;
	out->nr_steps = 0;
	out->nr_unordered = 0;
	for (int v = 0; v < c->nv; v++)
		if (at[v] >= 0)
			out->why[v][0] = '\0';
	for (left = o.ns; left > 0;) {
		int s = pick_step(&o), k;
		struct ns_plan_step *st;

		if (s >= 0) {
			st = &out->steps[out->nr_steps++];
			*st = (struct ns_plan_step){ .vm = o.vm[s], .to = o.to[s],
						     .bytes = (uint64_t)o.bytes[s] };
			run_step(&o, s);
			left--;
			continue;
		}
		k = park_one(&o, &s);
		if (k < 0)
			break;
		st = &out->steps[out->nr_steps++];
		*st = (struct ns_plan_step){ .vm = o.vm[s], .to = k, .via_temp = 1,
					     .bytes = (uint64_t)(c->total[o.vm[s]] - cur_mem(&o, s, k)) };
		for (int m = 0; m < c->nn; m++)
			if (m != k)
				o.free[m] += cur_mem(&o, s, m);
		o.free[k] -= (int64_t)st->bytes;
		f_unlink(&o, s);
		t_unlink(&o, s);
		o.park[s] = k;
		o.inbound[o.to[s]] += c->total[o.vm[s]] - o.bytes[s];
		o.bytes[s] = c->total[o.vm[s]];
		t_insert(&o, s);
		o.parked[o.nparked++] = s;
	}
	out->nr_unordered = left;
	for (int s = 0; s < o.ns; s++)
		if (!o.done[s] && o.park[s] >= 0) {
			nopark[o.vm[s]] = 1;
			stranded = 1;
		}
	if (left)
		why_unordered(&o, out->why);
out:
	ord_free(&o);
	return stranded;
}

/* Small step sets: every order without parking, as a search over which steps have run (free
 * memory depends on nothing else). Writes the order running the most steps into out (steps,
 * nr_steps, nr_unordered, why[] of the VMs left out); returns 1 when it searched. */
static int order_exhaustive(const struct ctx *c, const int *at, struct ns_plan_out *out, int *err)
{
	struct ord o;
	unsigned char *seen = NULL;
	uint32_t *stack = NULL, *from = NULL, bestset = 0, full;
	int sp = 0, searched = 0, nbest;

	*err = ord_init(&o, c, at);
	if (*err || o.ns > ORDER_EXHAUSTIVE_MAX)
		goto out;
	full = (1u << o.ns) - 1;
	seen = calloc((size_t)full + 1, 1);
	stack = calloc((size_t)full + 1, sizeof(uint32_t));
	from = calloc((size_t)full + 1, sizeof(uint32_t));
	if (!seen || !stack || !from) {
		*err = -ENOMEM;
		goto out;
	}
	stack[sp++] = 0;
	seen[0] = 1;
	while (sp > 0 && bestset != full) {
		uint32_t set = stack[--sp];
		int64_t fr[NS_PLAN_MAX_NODES];

		if (__builtin_popcount(set) > __builtin_popcount(bestset))
			bestset = set;
		memcpy(fr, o.free, sizeof(fr));
		for (int st = 0; st < o.ns; st++)
			if (set & (1u << st))
				for (int m = 0; m < c->nn; m++)
					fr[m] += m == o.to[st] ? -o.bytes[st] : vmem(c, o.vm[st], m);
		for (int st = 0; st < o.ns; st++) {
			uint32_t next = set | (1u << st);

			if ((set & (1u << st)) || seen[next] || fr[o.to[st]] < o.bytes[st])
				continue;
			seen[next] = 1;
			from[next] = set;
			stack[sp++] = next;
		}
	}
	/* walk back through the predecessors, then replay forwards for the reasons */
	nbest = __builtin_popcount(bestset);
	for (int i = nbest - 1; i >= 0; i--) {
		stack[i] = (uint32_t)__builtin_ctz(bestset ^ from[bestset]);
		bestset = from[bestset];
	}
	for (int v = 0; v < c->nv; v++)
		if (at[v] >= 0)
			out->why[v][0] = '\0';
	for (int i = 0; i < nbest; i++) {
		int st = (int)stack[i];

		out->steps[i] = (struct ns_plan_step){ .vm = o.vm[st], .to = o.to[st],
						       .bytes = (uint64_t)o.bytes[st] };
		run_step(&o, st);
	}
	out->nr_steps = nbest;
	out->nr_unordered = o.ns - nbest;
	if (out->nr_unordered)
		why_unordered(&o, out->why);
	searched = 1;
out:
	free(seen);
	free(stack);
	free(from);
	ord_free(&o);
	return searched;
}

/* Order the steps of placement at into out (steps, nr_steps, nr_unordered, why of unordered
 * VMs): the greedy order first; when it leaves steps out, randomised tries and, for few steps,
 * the exhaustive search; keep the order leaving the fewest out, then with fewest parking legs. */
int ns_plan_order(const struct ctx *c, const int *at, struct ns_plan_out *out)
{
	size_t nv = (size_t)(c->nv ? c->nv : 1);
	unsigned char *nopark = calloc(nv, 1);
	struct ns_plan_out t = { 0 };
	int rc = 0, tries;

	out->steps = calloc(2 * nv, sizeof(*out->steps));
	t.steps = calloc(2 * nv, sizeof(*t.steps));
	t.why = malloc(nv * sizeof(*t.why));
	if (!nopark || !out->steps || !t.steps || !t.why) {
		rc = -ENOMEM;
		goto out;
	}
	/* unplaced VMs' reasons stay; the tries only write the why[] of VMs they leave out */
	memcpy(t.why, out->why, nv * sizeof(*t.why));
	while (order_once(c, at, nopark, 0, out, &rc) && !rc)
		;
	tries = c->nv <= 200 ? ORDER_TRIES_SMALL : ORDER_TRIES_LARGE;
	for (int i = 0; i < tries && !rc && out->nr_unordered > 0; i++) {
		struct ns_plan_step *sw;
		char(*ww)[WHY_LEN];
		int temps[2] = { 0, 0 };

		while (order_once(c, at, nopark, 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1), &t, &rc) && !rc)
			;
		for (int j = 0; j < out->nr_steps; j++)
			temps[0] += out->steps[j].via_temp;
		for (int j = 0; j < t.nr_steps; j++)
			temps[1] += t.steps[j].via_temp;
		if (rc || !better(t.nr_unordered, temps[1], 0, out->nr_unordered, temps[0], 0))
			continue;
		sw = out->steps, out->steps = t.steps, t.steps = sw;
		ww = out->why, out->why = t.why, t.why = ww;
		out->nr_steps = t.nr_steps;
		out->nr_unordered = t.nr_unordered;
	}
	if (!rc && out->nr_unordered > 0 && order_exhaustive(c, at, &t, &rc) && !rc &&
	    t.nr_unordered < out->nr_unordered) {
		struct ns_plan_step *sw = out->steps;
		char(*ww)[WHY_LEN] = out->why;

		out->steps = t.steps, t.steps = sw;
		out->why = t.why, t.why = ww;
		out->nr_steps = t.nr_steps;
		out->nr_unordered = t.nr_unordered;
	}
out:
	free(nopark);
	free(t.steps);
	free(t.why);
	return rc;
}
