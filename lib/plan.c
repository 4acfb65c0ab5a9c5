/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rebalance planner's placement: which node each VM should live on so memory and vCPUs
 * fit, then so the CPU demand each node gets exceeds its capacity the least, then so the
 * fewest bytes move, optionally within a byte limit (exact search on small hosts, greedy
 * placement, local search and iterated local search beyond), and the entry point
 * ns_plan_solve. The order of the moves is lib/plan_order.c; the plan file lib/plan_file.c.
 * Pure arithmetic over the caller's numbers. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_int.h"
#include "util.h"

/* Exact search when the caller leaves the choice to us and at most this many VMs can move:
 * with the bounds below, 14 VMs on 8 nodes take milliseconds; the budget (search nodes) keeps
 * a pathological instance from stalling the command, which then keeps the heuristic's plan. */
#define AUTO_EXACT_MAX_VMS 14
#define AUTO_EXACT_BUDGET 5000000L
/* Local search stops after this many passes or when a pass improves nothing. */
#define LS_MAX_PASSES 40
/* Inner iterations of the two-VM moves over the whole heuristic: keeps 10,000 VMs well under
 * a second; small hosts never get near it. */
#define LS_SHIFT_BUDGET 30000000L
/* Iterated local search rounds (see perturb) up to 64 VMs, up to 1,000, none beyond. */
#define ILS_ITERS_SMALL 1000
#define ILS_ITERS_MEDIUM 40
/* Capacity and demand beyond this many CPUs are refused as nonsense. */
#define MAX_CPUS 1e6

static uint64_t rnd(struct ctx *c)
{
	/* xorshift64: deterministic, so the same input always gives the same plan */
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

int ns_plan_keyed_desc(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? 1 : -1;
	return x->v - y->v;
}

void ns_plan_say(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, WHY_LEN, fmt, ap);
	va_end(ap);
}

int ns_plan_vm_node(const struct ns_plan_in *in, int v)
{
	const struct ns_plan_vm *vm = &in->vms[v];
	int best = -1, roomiest = -1;

	for (int n = 0; n < in->nr_nodes; n++) {
		if (in->nodes[n].memory_only)
			continue;
		if (vm->threads_node >= 0 && in->nodes[n].id == vm->threads_node)
			return n;
		if (vm->mem[n] > 0 && (best < 0 || vm->mem[n] > vm->mem[best]))
			best = n;
		if (roomiest < 0 || in->nodes[n].capacity > in->nodes[roomiest].capacity)
			roomiest = n;
	}
	return best >= 0 ? best : roomiest;
}

/* ---- demand bookkeeping ---- */

/* Changes of demand on a few nodes at once, for the change of excess they make. */
struct dmove {
	int k;
	int n[8];
	int64_t d[8];
};

static void dm_push(struct dmove *m, int n, int64_t d)
{
	if (n < 0 || d == 0)
		return;
	for (int i = 0; i < m->k; i++)
		if (m->n[i] == n) {
			m->d[i] += d;
			return;
		}
	m->n[m->k] = n;
	m->d[m->k++] = d;
}

/* VM v's demand goes from where placement a puts it to where b does (-1: unplaced, so on its
 * home node). */
static void dm_vm(const struct ctx *c, struct dmove *m, int v, int a, int b)
{
	int na = a >= 0 ? a : c->home[v], nb = b >= 0 ? b : c->home[v];

	if (!c->demand || na == nb || c->dm[v] == 0)
		return;
	dm_push(m, na, -c->dm[v]);
	dm_push(m, nb, c->dm[v]);
}

/* ---- a placement being built: what each node has left ---- */

struct sol {
	int *at; /* node, -1 unplaced (its memory stays where it is), -2 not decided yet */
	int64_t rem[NS_PLAN_MAX_NODES]; /* cap - placed VMs - what unplaced VMs keep there */
	int remcpu[NS_PLAN_MAX_NODES];
	int64_t dem[NS_PLAN_MAX_NODES]; /* demand: placed VMs, and unplaced ones on their home */
	int64_t exc;			/* sum over nodes of demand beyond capacity */
	int unplaced; /* not counting fixed VMs, which no method can place */
	int64_t bytes;
	int *members; /* nn rows of nv: the VMs placed on each node, for the local search */
	int cnt[NS_PLAN_MAX_NODES];
	int *pos;
};

static int64_t dm_delta(const struct ctx *c, const struct sol *s, const struct dmove *m)
{
	int64_t r = 0;

	for (int i = 0; i < m->k; i++)
		r += over(c, m->n[i], s->dem[m->n[i]] + m->d[i]) - over(c, m->n[i], s->dem[m->n[i]]);
	return r;
}

/* The change of excess when VM v (not counted anywhere yet) lands on node n. */
static int64_t dm_add_delta(const struct ctx *c, const struct sol *s, int v, int n)
{
	if (!c->demand)
		return 0;
	return over(c, n, s->dem[n] + c->dm[v]) - over(c, n, s->dem[n]);
}

static void dem_add(const struct ctx *c, struct sol *s, int n, int64_t d)
{
	if (n < 0 || d == 0)
		return;
	s->exc += over(c, n, s->dem[n] + d) - over(c, n, s->dem[n]);
	s->dem[n] += d;
}

static int sol_alloc(const struct ctx *c, struct sol *s)
{
	size_t nv = (size_t)(c->nv ? c->nv : 1);

	memset(s, 0, sizeof(*s));
	s->at = calloc(nv, sizeof(int));
	s->pos = calloc(nv, sizeof(int));
	s->members = calloc(nv * (size_t)c->nn, sizeof(int));
	return s->at && s->pos && s->members ? 0 : -ENOMEM;
}

static void sol_free(struct sol *s)
{
	free(s->at);
	free(s->pos);
	free(s->members);
}

static void sol_reset(const struct ctx *c, struct sol *s)
{
	s->exc = 0;
	for (int n = 0; n < c->nn; n++) {
		s->rem[n] = c->cap[n];
		s->remcpu[n] = c->in->nodes[n].cpus;
		s->cnt[n] = 0;
		s->dem[n] = c->base[n];
		s->exc += over(c, n, c->base[n]);
	}
	for (int v = 0; v < c->nv; v++)
		s->at[v] = c->fixed[v] ? -1 : -2;
	s->unplaced = 0;
	s->bytes = 0;
}

static void s_place(const struct ctx *c, struct sol *s, int v, int n)
{
	s->at[v] = n;
	s->rem[n] -= c->total[v];
	s->remcpu[n] -= vcpus(c, v);
	s->bytes += cost(c, v, n);
	dem_add(c, s, n, c->dm[v]);
	s->pos[v] = s->cnt[n];
	s->members[(size_t)n * (size_t)c->nv + (size_t)s->cnt[n]++] = v;
}

static void s_leave(const struct ctx *c, struct sol *s, int v)
{
	s->at[v] = -1;
	for (int m = 0; m < c->nn; m++)
		s->rem[m] -= vmem(c, v, m);
	dem_add(c, s, c->home[v], c->dm[v]);
	s->unplaced++;
}

/* Back to "not decided": undo s_place or s_leave. */
static void s_take(const struct ctx *c, struct sol *s, int v)
{
	int n = s->at[v];

	if (n >= 0) {
		int *row = s->members + (size_t)n * (size_t)c->nv;
		int last = row[--s->cnt[n]];

		row[s->pos[v]] = last;
		s->pos[last] = s->pos[v];
		s->rem[n] += c->total[v];
		s->remcpu[n] += vcpus(c, v);
		s->bytes -= cost(c, v, n);
		dem_add(c, s, n, -c->dm[v]);
	} else if (n == -1) {
		for (int m = 0; m < c->nn; m++)
			s->rem[m] += vmem(c, v, m);
		dem_add(c, s, c->home[v], -c->dm[v]);
		s->unplaced--;
	}
	s->at[v] = -2;
}

static inline int fits(const struct ctx *c, const struct sol *s, int v, int n)
{
	return allowed(c, v, n) && s->rem[n] >= c->total[v] && s->remcpu[n] >= vcpus(c, v);
}

/* Moving db more bytes stays within the byte limit. */
static inline int afford(const struct ctx *c, const struct sol *s, int64_t db)
{
	return s->bytes + db <= c->budget;
}

/* (e1, b1) is a smaller change of (excess, bytes) than (e2, b2). */
static inline int lt(int64_t e1, int64_t b1, int64_t e2, int64_t b2)
{
	return e1 < e2 || (e1 == e2 && b1 < b2);
}

/* A VM left unplaced keeps its memory where it is; when earlier choices already promised that
 * room to others, move or unplace VMs that brought memory into the short node. Ends at worst
 * with everything unplaced, which always fits (and moves nothing, so the byte limit holds). */
static void repair(const struct ctx *c, struct sol *s)
{
	for (;;) {
		int n = -1, w = -1, d = -1;
		int64_t deficit, bw = 0, bd = INT64_MAX;

		for (int m = 0; m < c->nn && n < 0; m++)
			if (s->rem[m] < 0)
				n = m;
		if (n < 0)
			break;
		deficit = -s->rem[n];
		for (int i = 0; i < s->cnt[n]; i++) {
			int x = s->members[(size_t)n * (size_t)c->nv + (size_t)i];

			for (int m = 0; m < c->nn; m++) {
				int64_t delta;

				if (m == n || !fits(c, s, x, m))
					continue;
				delta = cost(c, x, m) - cost(c, x, n);
				if (!afford(c, s, delta))
					continue;
				/* prefer a VM big enough to clear the deficit, then the cheapest */
				if (w < 0 || (c->total[x] >= deficit && bw < deficit) ||
				    ((c->total[x] >= deficit) == (bw >= deficit) && delta < bd)) {
					w = x, d = m, bw = c->total[x], bd = delta;
				}
			}
		}
		if (w >= 0) {
			s_take(c, s, w);
			s_place(c, s, w, d);
			continue;
		}
		for (int i = 0; i < s->cnt[n]; i++) {
			int x = s->members[(size_t)n * (size_t)c->nv + (size_t)i];
			int64_t brought = cost(c, x, n);

			if (brought == 0)
				continue;
			if (w < 0 || (brought >= deficit && (bw < deficit || brought < bw)) ||
			    (bw < deficit && brought > bw))
				w = x, bw = brought;
		}
		/* always found: a node counts the memory every VM holds there, so only VMs that
		 * brought memory in can overfill it */
		if (w < 0)
			break;
		s_take(c, s, w);
		s_leave(c, s, w);
	}
}

/* ---- heuristic: greedy placement, then local search ---- */

/* pack: 0 sends each VM to the node where it adds the least excess demand, then that holds
 * most of it, then has most room; 1 to the node it fills best (least memory left after it),
 * which places more VMs on a tight host, leaving demand and bytes to the local search. */
static void greedy_local(const struct ctx *c, struct sol *s, const int *order, int pack)
{
	for (int k = 0; k < c->nv; k++) {
		int v = order[k], best = -1;
		int64_t be = 0;

		if (c->fixed[v])
			continue;
		for (int n = 0; n < c->nn; n++) {
			int64_t e;

			if (!fits(c, s, v, n) || !afford(c, s, cost(c, v, n)))
				continue;
			e = pack ? 0 : dm_add_delta(c, s, v, n);
			if (best < 0 || (pack && s->rem[n] < s->rem[best]) || (!pack && e < be) ||
			    (!pack && e == be && cost(c, v, n) < cost(c, v, best)) ||
			    (!pack && e == be && cost(c, v, n) == cost(c, v, best) && s->rem[n] > s->rem[best]))
				best = n, be = e;
		}
		if (best >= 0)
			s_place(c, s, v, best);
		else
			s_leave(c, s, v);
	}
	repair(c, s);
}

/* numad's way, the baseline: input order, no look-ahead, the node with the most free memory,
 * weighted by its idle CPU when demand is known (numad ranks nodes by free memory times idle
 * CPU). */
static void greedy_numad(const struct ctx *c, struct sol *s)
{
	for (int v = 0; v < c->nv; v++) {
		int best = -1;
		double bk = 0;

		if (c->fixed[v])
			continue;
		for (int n = 0; n < c->nn; n++) {
			double k;

			if (!fits(c, s, v, n) || !afford(c, s, cost(c, v, n)))
				continue;
			if (!c->demand) {
				if (best < 0 || s->rem[n] > s->rem[best])
					best = n;
				continue;
			}
			k = (double)s->rem[n] * (double)((s->dem[n] < c->capm[n] ? c->capm[n] - s->dem[n] : 0) + 1);
			if (best < 0 || k > bk)
				best = n, bk = k;
		}
		if (best >= 0)
			s_place(c, s, v, best);
		else
			s_leave(c, s, v);
	}
	repair(c, s);
}

/* Placing unplaced VM u on node n, after moving w to d and then x (from d) to e; -1: unused. */
struct chain {
	int n, w, d, x, e;
	int64_t de, db; /* change of excess demand, then of bytes moved */
};

static void chain_offer(const struct ctx *c, const struct sol *s, struct chain *ch, int u, int64_t db,
			int n, int w, int d, int x, int e)
{
	int64_t de = 0;

	if (!afford(c, s, db))
		return;
	if (c->demand) {
		struct dmove m = { 0 };

		dm_vm(c, &m, u, -1, n);
		if (w >= 0)
			dm_vm(c, &m, w, n, d);
		if (x >= 0)
			dm_vm(c, &m, x, d, e);
		de = dm_delta(c, s, &m);
	}
	if (lt(de, db, ch->de, ch->db))
		*ch = (struct chain){ .n = n, .w = w, .d = d, .x = x, .e = e, .de = de, .db = db };
}

/* Ways to make room for u: depth 0 places it directly, 1 moves one VM off its node, 2 also
 * moves one VM off that VM's new node (ejection chain). */
static void insert_find(struct ctx *c, const struct sol *s, int u, int depth, struct chain *ch)
{
	for (int n = 0; n < c->nn; n++) {
		int64_t base = cost(c, u, n), rn0 = s->rem[n] - base;
		int cn0 = s->remcpu[n] - vcpus(c, u);

		if (!allowed(c, u, n))
			continue;
		if (depth == 0) {
			if (rn0 >= 0 && cn0 >= 0)
				chain_offer(c, s, ch, u, base, n, -1, -1, -1, -1);
			continue;
		}
		for (int i = 0; i < s->cnt[n] && c->shift_budget > 0; i++) {
			int w = s->members[(size_t)n * (size_t)c->nv + (size_t)i];
			int64_t rn = rn0 + c->total[w];
			int cn = cn0 + vcpus(c, w);

			c->shift_budget--;
			if (rn < 0 || cn < 0)
				continue;
			for (int d = 0; d < c->nn; d++) {
				int64_t rd, dw;
				int cd;

				if (d == n || !allowed(c, w, d))
					continue;
				rd = s->rem[d] + vmem(c, u, d) - c->total[w];
				cd = s->remcpu[d] - vcpus(c, w);
				dw = base + cost(c, w, d) - cost(c, w, n);
				if (rd >= 0 && cd >= 0) {
					chain_offer(c, s, ch, u, dw, n, w, d, -1, -1);
					continue;
				}
				for (int j = 0; depth >= 2 && j < s->cnt[d] && c->shift_budget > 0; j++) {
					int x = s->members[(size_t)d * (size_t)c->nv + (size_t)j];

					c->shift_budget--;
					if (rd + c->total[x] < 0 || cd + vcpus(c, x) < 0)
						continue;
					for (int e = 0; e < c->nn; e++) {
						int64_t re;
						int ce;

						if (e == d || !allowed(c, x, e))
							continue;
						re = (e == n ? rn : s->rem[e] + vmem(c, u, e)) - c->total[x];
						ce = (e == n ? cn : s->remcpu[e]) - vcpus(c, x);
						if (re >= 0 && ce >= 0)
							chain_offer(c, s, ch, u, dw + cost(c, x, e) - cost(c, x, d), n, w,
								    d, x, e);
					}
				}
			}
		}
	}
}

/* No room for u anywhere: trade it for a placed VM w when that lowers the excess demand or,
 * at equal excess, moves fewer bytes (same count placed). */
static int insert_trade(struct ctx *c, struct sol *s, int u)
{
	int bn = -1, bw = -1;
	int64_t be = 0, bb = 0;

	for (int n = 0; n < c->nn; n++) {
		if (!allowed(c, u, n))
			continue;
		for (int w = 0; w < c->nv && c->shift_budget > 0; w++) {
			int q = s->at[w], ok = 1;
			int64_t db, de = 0;

			if (q < 0)
				continue;
			c->shift_budget--;
			db = cost(c, u, n) - cost(c, w, q);
			if ((!c->demand && db >= bb) ||
			    s->remcpu[n] - vcpus(c, u) + (q == n ? vcpus(c, w) : 0) < 0)
				continue;
			for (int m = 0; m < c->nn && ok; m++)
				ok = s->rem[m] + vmem(c, u, m) - vmem(c, w, m) + (m == q ? c->total[w] : 0) -
					     (m == n ? c->total[u] : 0) >=
				     0;
			if (!ok || !afford(c, s, db))
				continue;
			if (c->demand) {
				struct dmove mv = { 0 };

				dm_vm(c, &mv, u, -1, n);
				dm_vm(c, &mv, w, q, -1);
				de = dm_delta(c, s, &mv);
			}
			if (lt(de, db, be, bb))
				be = de, bb = db, bn = n, bw = w;
		}
	}
	if (bn < 0)
		return 0;
	s_take(c, s, bw);
	s_take(c, s, u);
	s_place(c, s, u, bn);
	s_leave(c, s, bw);
	return 1;
}

/* Place unplaced VMs, directly or through a short ejection chain; else trade them for a
 * placed VM when that is better. */
static int ls_insert(struct ctx *c, struct sol *s)
{
	int improved = 0;

	for (int u = 0; u < c->nv; u++) {
		struct chain ch = { .n = -1, .de = INT64_MAX, .db = INT64_MAX };

		if (s->at[u] != -1 || c->fixed[u])
			continue;
		for (int depth = 0; depth <= 2 && ch.n < 0; depth++)
			insert_find(c, s, u, depth, &ch);
		if (ch.n < 0) {
			improved |= insert_trade(c, s, u);
			continue;
		}
		if (ch.x >= 0)
			s_take(c, s, ch.x);
		if (ch.w >= 0)
			s_take(c, s, ch.w);
		s_take(c, s, u);
		s_place(c, s, u, ch.n);
		if (ch.w >= 0)
			s_place(c, s, ch.w, ch.d);
		if (ch.x >= 0)
			s_place(c, s, ch.x, ch.e);
		improved = 1;
	}
	return improved;
}

/* Less excess demand or fewer bytes: move a VM to another node, directly or by shifting one VM
 * off that node to a third one (or back to where the first came from: a swap). Only moves
 * that lower the excess, or keep it and lower the bytes, are taken. */
static int ls_improve(struct ctx *c, struct sol *s)
{
	int improved = 0;

	for (int v = 0; v < c->nv; v++) {
		int a = s->at[v], bn = -1, bw = -1, bd = -1;
		int64_t ca, be = 0, bb = 0;

		if (a < 0 || c->in->vms[v].pinned_node >= 0)
			continue;
		ca = cost(c, v, a);
		for (int n = 0; n < c->nn && (ca > 0 || c->demand); n++) {
			int64_t gain = ca - cost(c, v, n), need, dev = 0, eg;
			int needcpu;

			if (n == a || !allowed(c, v, n))
				continue;
			if (c->demand) {
				struct dmove m = { 0 };

				dm_vm(c, &m, v, a, n);
				dev = dm_delta(c, s, &m);
			}
			if (gain <= 0 && dev >= 0)
				continue;
			if (s->rem[n] >= c->total[v] && s->remcpu[n] >= vcpus(c, v)) {
				if (lt(dev, -gain, be, bb) && afford(c, s, -gain))
					be = dev, bb = -gain, bn = n, bw = -1;
				continue;
			}
			need = c->total[v] - s->rem[n];
			needcpu = vcpus(c, v) - s->remcpu[n];
			/* only a and n lose demand in a shift: it removes at most their excess */
			eg = c->demand ? over(c, a, s->dem[a]) + over(c, n, s->dem[n]) : 0;
			for (int i = 0; i < s->cnt[n] && c->shift_budget > 0; i++) {
				int w = s->members[(size_t)n * (size_t)c->nv + (size_t)i];

				c->shift_budget--;
				if (c->total[w] < need || vcpus(c, w) < needcpu ||
				    c->in->vms[w].pinned_node >= 0)
					continue;
				for (int d = 0; d < c->nn; d++) {
					int64_t room, db, de = 0;
					int cpu;

					if (d == n || !allowed(c, w, d))
						continue;
					db = -gain + cost(c, w, d) - cost(c, w, n);
					if (-eg > be || (-eg == be && db >= bb))
						continue;
					room = s->rem[d] + (d == a ? c->total[v] : 0) - c->total[w];
					cpu = s->remcpu[d] + (d == a ? vcpus(c, v) : 0) - vcpus(c, w);
					if (room < 0 || cpu < 0 || !afford(c, s, db))
						continue;
					if (c->demand) {
						struct dmove m = { 0 };

						dm_vm(c, &m, v, a, n);
						dm_vm(c, &m, w, n, d);
						de = dm_delta(c, s, &m);
					}
					if (lt(de, db, be, bb))
						be = de, bb = db, bn = n, bw = w, bd = d;
				}
			}
		}
		if (bn < 0)
			continue;
		s_take(c, s, v);
		if (bw >= 0) {
			s_take(c, s, bw);
			s_place(c, s, bw, bd);
		}
		s_place(c, s, v, bn);
		improved = 1;
	}
	return improved;
}

static void local_search(struct ctx *c, struct sol *s)
{
	for (int pass = 0; pass < LS_MAX_PASSES; pass++) {
		int changed = ls_insert(c, s);

		changed |= ls_improve(c, s);
		if (!changed)
			break;
	}
}

/* Load a placement (at[] as heuristic() keeps it) into s. */
static void sol_load(const struct ctx *c, struct sol *s, const int *at)
{
	sol_reset(c, s);
	for (int v = 0; v < c->nv; v++) {
		if (c->fixed[v])
			continue;
		if (at[v] >= 0)
			s_place(c, s, v, at[v]);
		else
			s_leave(c, s, v);
	}
}

/* The best placement found so far and its objective. */
struct incumbent {
	int *at;
	int u;
	int64_t e, b;
};

static void keep_if_better(const struct ctx *c, const struct sol *s, struct incumbent *best)
{
	if (best->u >= 0 && !better(s->unplaced, s->exc, s->bytes, best->u, best->e, best->b))
		return;
	best->u = s->unplaced;
	best->e = s->exc;
	best->b = s->bytes;
	memcpy(best->at, s->at, (size_t)c->nv * sizeof(int));
}

/* Iterated local search on small and medium hosts: take a few VMs out of the best placement,
 * put them back in random order on the cheapest, a random, the fullest or (demand known) the
 * least loaded node that fits, search locally again, keep the result when it is better.
 * Escapes the local optima where one VM blocks another. */
static void perturb(struct ctx *c, struct sol *s, int *movable, int *taken, struct incumbent *best)
{
	int iters = c->nv <= 64 ? ILS_ITERS_SMALL : c->nv <= 1000 ? ILS_ITERS_MEDIUM : 0, nm = 0;

	for (int v = 0; v < c->nv; v++)
		if (!c->fixed[v])
			movable[nm++] = v;
	if (nm < 2)
		return;
	for (int it = 0; it < iters; it++) {
		int k = 2 + (int)(rnd(c) % 4), nt = 0;

		sol_load(c, s, best->at);
		/* one round in four rebuilds everything in random order (on small hosts that is a
		 * cheap random restart); one in four empties one node as well: a VM that needs a node
		 * to itself (all its CPUs, say) only gets there when everything else leaves at once */
		if (it % 4 == 3)
			k = nm * 2;
		else if (it % 4 == 1) {
			int n = (int)(rnd(c) % (uint64_t)c->nn);

			while (s->cnt[n] > 0) {
				int v = s->members[(size_t)n * (size_t)c->nv];

				s_take(c, s, v);
				taken[nt++] = v;
			}
		}
		for (int i = 0; i < k; i++) {
			int v = movable[rnd(c) % (uint64_t)nm];

			if (s->at[v] == -2)
				continue;
			s_take(c, s, v);
			taken[nt++] = v;
		}
		for (int i = nt - 1; i > 0; i--) {
			int j = (int)(rnd(c) % (uint64_t)(i + 1)), x = taken[i];

			taken[i] = taken[j], taken[j] = x;
		}
		for (int i = 0; i < nt; i++) {
			int v = taken[i], cheap = -1, any = -1, tight = -1, cool = -1, seen = 0;
			int how = (int)(rnd(c) % (c->demand ? 4 : 3));
			int64_t ce = 0;

			for (int n = 0; n < c->nn; n++) {
				int64_t e;

				if (!fits(c, s, v, n) || !afford(c, s, cost(c, v, n)))
					continue;
				if (cheap < 0 || cost(c, v, n) < cost(c, v, cheap))
					cheap = n;
				if (tight < 0 || s->rem[n] < s->rem[tight])
					tight = n;
				if (rnd(c) % (uint64_t)++seen == 0)
					any = n;
				e = dm_add_delta(c, s, v, n);
				if (cool < 0 || e < ce || (e == ce && cost(c, v, n) < cost(c, v, cool)))
					cool = n, ce = e;
			}
			if (cheap < 0)
				s_leave(c, s, v);
			else
				s_place(c, s, v, how == 0 ? cheap : how == 1 ? any : how == 2 ? tight : cool);
		}
		repair(c, s);
		local_search(c, s);
		keep_if_better(c, s, best);
	}
}

/* Several greedy starts, each followed by local search, then iterated local search; keep the
 * best. Pinned VMs go first (they have no choice), then: by size to the node holding most of
 * each VM; by regret (how much a VM loses when its best node is taken); by size, packing
 * tightly (places the most VMs on a tight host); by size with noise, on smaller hosts; and,
 * demand known, up to 1,000 VMs, the busiest first (spreads demand like longest-job-first
 * scheduling). */
static int heuristic(struct ctx *c, struct incumbent *best)
{
	struct keyed *k = NULL;
	int *order = NULL, *taken = NULL, rc, starts;
	int64_t maxtotal = 1;
	struct sol s;

	rc = sol_alloc(c, &s);
	k = calloc((size_t)(c->nv ? c->nv : 1), sizeof(*k));
	order = calloc((size_t)(c->nv ? c->nv : 1), sizeof(int));
	taken = calloc((size_t)(c->nv ? c->nv : 1), sizeof(int));
	if (rc || !k || !order || !taken) {
		rc = -ENOMEM;
		goto out;
	}
	for (int v = 0; v < c->nv; v++)
		if (c->total[v] > maxtotal)
			maxtotal = c->total[v];
	starts = c->nv <= 64 ? 32 : c->nv <= 1000 ? 6 : 3;
	best->u = -1;
	/* the busiest-first start pays on small and medium hosts; on large ones the local search
	 * has spread the demand from the other starts already, and this start's bytes take it
	 * long to repair */
	for (int st = 0; st < starts + (c->demand && c->nv <= 1000 ? 1 : 0); st++) {
		for (int v = 0; v < c->nv; v++) {
			double key = (double)c->total[v];

			if (st == starts) {
				key = (double)c->dm[v] + (double)c->total[v] / ((double)maxtotal + 1);
			} else if (st == 1) {
				int64_t b1 = INT64_MAX, b2 = INT64_MAX;

				for (int n = 0; n < c->nn; n++) {
					int64_t x = cost(c, v, n);

					if (!allowed(c, v, n) || c->cap[n] < c->total[v])
						continue;
					if (x < b1)
						b2 = b1, b1 = x;
					else if (x < b2)
						b2 = x;
				}
				key = b2 == INT64_MAX ? 1e30 : (double)(b2 - b1) + (double)c->total[v] * 1e-3;
			} else if (st >= 3) {
				key *= 0.6 + 0.8 * (double)(rnd(c) >> 11) / 9007199254740992.0;
			}
			if (c->in->vms[v].pinned_node >= 0)
				key += 1e40;
			k[v].key = key;
			k[v].v = v;
		}
		qsort(k, (size_t)c->nv, sizeof(*k), ns_plan_keyed_desc);
		for (int v = 0; v < c->nv; v++)
			order[v] = k[v].v;
		sol_reset(c, &s);
		greedy_local(c, &s, order, st == 2);
		local_search(c, &s);
		keep_if_better(c, &s, best);
	}
	perturb(c, &s, order, taken, best);
out:
	sol_free(&s);
	free(k);
	free(order);
	free(taken);
	return rc;
}

/* ---- exact: branch and bound ---- */

struct bb {
	struct ctx *c;
	int m;
	int *ord;     /* the VMs that can move: busiest and biggest first */
	int *nodeord; /* per VM: allowed nodes, cheapest first (nn per VM) */
	int *nodecnt;
	int *cur;     /* node per VM, -1 unplaced */
	int64_t *mc;  /* scratch for the bound: cheapest cost per remaining VM */
	int64_t rem[NS_PLAN_MAX_NODES];
	int remcpu[NS_PLAN_MAX_NODES];
	int64_t dem[NS_PLAN_MAX_NODES];
	int cu;
	int64_t ce, cb;
	struct incumbent best;
	long visited, budget; /* budget < 0: none */
	int aborted;
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* A lower bound on (unplaced, excess, bytes) of every completion of the VMs ord[i..]:
 * - unplaced: VMs no node has room for now (room only shrinks further down), and, with a byte
 *   limit, those the limit cannot pay for even at their cheapest node, cheapest first;
 * - bytes: the others at their cheapest node with room;
 * - excess: a VM's demand lands somewhere (a node it may use, or its home when unplaced): the
 *   excess grows by at least the remaining demand beyond all spare capacity, and by at least
 *   each VM's demand beyond the largest spare capacity it can reach.
 * Each bound holds alone, so the triple bounds the objective in its order. */
static void bb_bound(struct bb *b, int i, int *lu, int64_t *le, int64_t *lb)
{
	const struct ctx *c = b->c;
	int64_t spare[NS_PLAN_MAX_NODES], S = 0, R = 0, B2 = 0, bytes = b->cb;
	int u = b->cu, k = 0;

	for (int n = 0; c->demand && n < c->nn; n++) {
		spare[n] = b->dem[n] < c->capm[n] ? c->capm[n] - b->dem[n] : 0;
		S += spare[n];
	}
	for (int j = i; j < b->m; j++) {
		int w = b->ord[j], *no = b->nodeord + (size_t)w * (size_t)c->nn, found = 0;

		for (int q = 0; q < b->nodecnt[w] && !found; q++)
			if (b->rem[no[q]] >= c->total[w] && b->remcpu[no[q]] >= vcpus(c, w)) {
				b->mc[k++] = cost(c, w, no[q]);
				found = 1;
			}
		u += !found;
		if (c->demand && c->dm[w] > 0) {
			int h = c->home[w];
			int64_t x = h >= 0 ? (c->dm[w] > spare[h] ? c->dm[w] - spare[h] : 0) : 0;

			for (int q = 0; q < b->nodecnt[w] && x > 0; q++) {
				int64_t y = c->dm[w] > spare[no[q]] ? c->dm[w] - spare[no[q]] : 0;

				if (y < x)
					x = y;
			}
			R += c->dm[w];
			B2 += x;
		}
	}
	if (c->budget < INT64_MAX && k > 0) {
		int64_t left = c->budget - b->cb;
		int t = 0;

		qsort(b->mc, (size_t)k, sizeof(int64_t), cmp_i64);
		while (t < k && b->mc[t] <= left)
			left -= b->mc[t], bytes += b->mc[t++];
		u += k - t;
	} else {
		for (int t = 0; t < k; t++)
			bytes += b->mc[t];
	}
	*lu = u;
	*lb = bytes;
	*le = b->ce + (R - S > B2 ? R - S : B2);
}

static void bb_dem(struct bb *b, int n, int64_t d)
{
	if (n < 0 || d == 0)
		return;
	b->ce += over(b->c, n, b->dem[n] + d) - over(b->c, n, b->dem[n]);
	b->dem[n] += d;
}

static void bb_rec(struct bb *b, int i)
{
	struct ctx *c = b->c;
	int lu, v, ok = 1, cand[NS_PLAN_MAX_NODES], nc;
	int64_t le, lb, ek[NS_PLAN_MAX_NODES];

	if (b->aborted)
		return;
	if (b->budget >= 0 && ++b->visited > b->budget) {
		b->aborted = 1;
		return;
	}
	if (i == b->m) {
		if (better(b->cu, b->ce, b->cb, b->best.u, b->best.e, b->best.b)) {
			b->best.u = b->cu;
			b->best.e = b->ce;
			b->best.b = b->cb;
			for (int j = 0; j < b->m; j++)
				b->best.at[b->ord[j]] = b->cur[b->ord[j]];
		}
		return;
	}
	bb_bound(b, i, &lu, &le, &lb);
	if (!better(lu, le, lb, b->best.u, b->best.e, b->best.b))
		return;
	v = b->ord[i];
	/* nodes cheapest first; demand known, those adding the least excess first */
	nc = b->nodecnt[v];
	for (int q = 0; q < nc; q++) {
		int n = b->nodeord[(size_t)v * (size_t)c->nn + (size_t)q], p = q;
		int64_t e = c->demand ? over(c, n, b->dem[n] + c->dm[v]) - over(c, n, b->dem[n]) : 0;

		while (p > 0 && ek[p - 1] > e) {
			cand[p] = cand[p - 1], ek[p] = ek[p - 1];
			p--;
		}
		cand[p] = n, ek[p] = e;
	}
	for (int q = 0; q < nc; q++) {
		int n = cand[q];

		if (b->rem[n] < c->total[v] || b->remcpu[n] < vcpus(c, v) || b->cb + cost(c, v, n) > c->budget)
			continue;
		b->rem[n] -= c->total[v];
		b->remcpu[n] -= vcpus(c, v);
		b->cb += cost(c, v, n);
		bb_dem(b, n, c->dm[v]);
		b->cur[v] = n;
		bb_rec(b, i + 1);
		bb_dem(b, n, -c->dm[v]);
		b->rem[n] += c->total[v];
		b->remcpu[n] += vcpus(c, v);
		b->cb -= cost(c, v, n);
	}
	/* unplaced: only when what it keeps in place still fits beside what is placed */
	for (int n = 0; n < c->nn; n++)
		if (b->rem[n] < vmem(c, v, n))
			ok = 0;
	if (ok && b->cu + 1 <= b->best.u) {
		for (int n = 0; n < c->nn; n++)
			b->rem[n] -= vmem(c, v, n);
		b->cu++;
		bb_dem(b, c->home[v], c->dm[v]);
		b->cur[v] = -1;
		bb_rec(b, i + 1);
		bb_dem(b, c->home[v], -c->dm[v]);
		b->cu--;
		for (int n = 0; n < c->nn; n++)
			b->rem[n] += vmem(c, v, n);
	}
}

static void bb_free(struct bb *b)
{
	free(b->ord);
	free(b->nodeord);
	free(b->nodecnt);
	free(b->cur);
	free(b->mc);
	free(b->best.at);
}

/* The search's state with nothing decided: 0 or -ENOMEM (then bb_free). */
static int bb_init(struct ctx *c, struct bb *b)
{
	size_t nv = (size_t)(c->nv ? c->nv : 1);
	struct keyed *k = calloc(nv, sizeof(*k));
	int64_t sumd = 1, sumt = 1;
	int rc = 0;

	memset(b, 0, sizeof(*b));
	b->c = c;
	b->ord = calloc(nv, sizeof(int));
	b->nodeord = calloc(nv * (size_t)c->nn, sizeof(int));
	b->nodecnt = calloc(nv, sizeof(int));
	b->cur = calloc(nv, sizeof(int));
	b->mc = calloc(nv, sizeof(int64_t));
	b->best.at = calloc(nv, sizeof(int));
	if (!k || !b->ord || !b->nodeord || !b->nodecnt || !b->cur || !b->mc || !b->best.at) {
		rc = -ENOMEM;
		goto out;
	}
	for (int v = 0; v < c->nv; v++)
		if (!c->fixed[v])
			sumd += c->dm[v], sumt += c->total[v];
	for (int v = 0; v < c->nv; v++) {
		int *no = b->nodeord + (size_t)v * (size_t)c->nn;

		if (!c->fixed[v]) {
			/* big and busy VMs first: they decide the bounds (memory weighted 3 to 1: on
			 * bench/plan's 14-VM hosts that visits 30% fewer search nodes than 1 to 1) */
			k[b->m].key = 3 * (double)c->total[v] / (double)sumt + (double)c->dm[v] / (double)sumd;
			k[b->m++].v = v;
		}
		for (int n = 0; n < c->nn; n++) {
			int q;

			if (!allowed(c, v, n))
				continue;
			for (q = b->nodecnt[v]; q > 0 && cost(c, v, no[q - 1]) > cost(c, v, n); q--)
				no[q] = no[q - 1];
			no[q] = n;
			b->nodecnt[v]++;
		}
	}
	qsort(k, (size_t)b->m, sizeof(*k), ns_plan_keyed_desc);
	for (int j = 0; j < b->m; j++)
		b->ord[j] = k[j].v;
	for (int n = 0; n < c->nn; n++) {
		b->rem[n] = c->cap[n];
		b->remcpu[n] = c->in->nodes[n].cpus;
		b->dem[n] = c->base[n];
		b->ce += over(c, n, c->base[n]);
	}
out:
	free(k);
	return rc;
}

/* Improves *best in place when it finds better; *done = 1 when the search completed. */
static int exact(struct ctx *c, struct incumbent *best, long budget, int *done)
{
	struct bb b;
	int rc = bb_init(c, &b);

	if (rc)
		goto out;
	b.budget = budget;
	memcpy(b.best.at, best->at, (size_t)c->nv * sizeof(int));
	b.best.u = best->u;
	b.best.e = best->e;
	b.best.b = best->b;
	bb_rec(&b, 0);
	memcpy(best->at, b.best.at, (size_t)c->nv * sizeof(int));
	best->u = b.best.u;
	best->e = b.best.e;
	best->b = b.best.b;
	*done = !b.aborted;
out:
	bb_free(&b);
	return rc;
}

/* The bound with nothing placed: a plan that meets it is optimal. */
static int root_bound(struct ctx *c, int *lu, int64_t *le, int64_t *lb)
{
	struct bb b;
	int rc = bb_init(c, &b);

	if (!rc)
		bb_bound(&b, 0, lu, le, lb);
	bb_free(&b);
	return rc;
}

/* ---- reasons ---- */

static void why_fixed(const struct ctx *c, int v, char *why)
{
	const struct ns_plan_vm *vm = &c->in->vms[v];
	char need[32], have[32];
	int64_t maxcap = -1;
	int maxcpu = -1, memok = 0, cpuok = 0;

	plan_size(need, c->total[v]);
	if (vm->pinned_node >= 0) {
		int n = vm->pinned_node;

		plan_size(have, c->cap0[n]);
		if (c->in->nodes[n].memory_only)
			ns_plan_say(why, "pinned to node %d, which has no CPUs", c->in->nodes[n].id);
		else if (c->cap0[n] < c->total[v])
			ns_plan_say(why, "pinned to node %d, which can hold %s of VMs; needs %s",
				 c->in->nodes[n].id, have, need);
		else
			ns_plan_say(why, "pinned to node %d, which has %d CPUs; needs %d vCPUs",
				 c->in->nodes[n].id, c->in->nodes[n].cpus, vm->vcpus);
		return;
	}
	for (int n = 0; n < c->nn; n++) {
		if (c->in->nodes[n].memory_only)
			continue;
		if (c->cap0[n] > maxcap)
			maxcap = c->cap0[n];
		if (c->in->nodes[n].cpus > maxcpu)
			maxcpu = c->in->nodes[n].cpus;
		memok |= c->cap0[n] >= c->total[v];
		cpuok |= c->in->nodes[n].cpus >= vm->vcpus;
	}
	plan_size(have, maxcap);
	if (maxcap < 0)
		ns_plan_say(why, "no node with CPUs to run it");
	else if (!memok)
		ns_plan_say(why, "needs %s, largest node capacity %s", need, have);
	else if (!cpuok)
		ns_plan_say(why, "%d vCPUs, no node has %d free CPUs (most: %d)", vm->vcpus,
			 vm->vcpus, maxcpu);
	else
		ns_plan_say(why, "needs %s and %d vCPUs, no node has both", need, vm->vcpus);
}

/* 1 when the byte limit, not room, keeps the VM where it is. */
static int why_crowded(const struct ctx *c, const struct sol *s, int v, char *why)
{
	char need[32], room[32], left[32], lim[32];
	int64_t bestroom = -1, cheapest = -1;
	int roomnode = -1, bestcpu = -1, cpunode = -1, cheapnode = -1, pin = c->in->vms[v].pinned_node;

	for (int n = 0; n < c->nn; n++) {
		/* what placing it there would have: its own memory there stops counting as kept */
		int64_t r = s->rem[n] + vmem(c, v, n);

		if (!allowed(c, v, n))
			continue;
		if (r > bestroom)
			bestroom = r, roomnode = n;
		if (s->remcpu[n] > bestcpu)
			bestcpu = s->remcpu[n], cpunode = n;
		if (r >= c->total[v] && s->remcpu[n] >= vcpus(c, v) && (cheapest < 0 || cost(c, v, n) < cheapest))
			cheapest = cost(c, v, n), cheapnode = n;
	}
	plan_size(need, c->total[v]);
	plan_size(room, bestroom < 0 ? 0 : bestroom);
	if (cheapnode >= 0 && !afford(c, s, cheapest)) {
		/* room there is, but the byte limit cannot pay for the move */
		plan_size(need, cheapest);
		plan_size(left, c->budget - s->bytes);
		plan_size(lim, c->budget);
		ns_plan_say(why, "left where it is: moving it to node %d takes %s, the --max-move limit %s has %s left",
			 c->in->nodes[cheapnode].id, need, lim, left);
		return 1;
	}
	if (pin >= 0)
		ns_plan_say(why,
		    "needs %s and %d vCPUs on node %d (pinned); with the other VMs placed, it has %s "
		    "and %d free CPUs",
		    need, vcpus(c, v), c->in->nodes[pin].id, room, bestcpu);
	else
		ns_plan_say(why,
		    "needs %s and %d vCPUs; with the other VMs placed, most left is %s on node %d and "
		    "%d free CPUs on node %d",
		    need, vcpus(c, v), room, c->in->nodes[roomnode].id, bestcpu, c->in->nodes[cpunode].id);
	return 0;
}

/* Memory on nodes without CPUs: never the VM's home, so it is memory to move. */
static void note_memory_only(const struct ctx *c, int v, char *note)
{
	char list[96] = "", size[32];
	int64_t bytes = 0;
	int k = 0, len = 0;

	for (int n = 0; n < c->nn; n++) {
		if (!c->in->nodes[n].memory_only || vmem(c, v, n) == 0)
			continue;
		bytes += vmem(c, v, n);
		if (len < (int)sizeof(list) - 16)
			len += snprintf(list + len, sizeof(list) - (size_t)len, "%s%d", k ? "," : "",
					c->in->nodes[n].id);
		k++;
	}
	if (k)
		ns_plan_say(note, "memory on CPU-less node%s %s (%s)", k > 1 ? "s" : "", list,
			    plan_size(size, bytes));
}

/* ---- the entry point ---- */

static int check_input(const struct ns_plan_in *in, const struct ns_plan_out *out)
{
	/* every sum the planner forms stays far below INT64_MAX */
	const uint64_t lim = 1ULL << 61;
	uint64_t all = 0;
	int64_t vsum = 0; /* every VM's vCPUs: bounds every vCPU sum of the search */
	unsigned f, m;

	if (!in || !out || in->nr_nodes < 1 || in->nr_nodes > NS_PLAN_MAX_NODES || in->nr_vms < 0 ||
	    (in->nr_vms > 0 && !in->vms))
		return -EINVAL;
	f = in->flags;
	m = f & (NS_PLAN_EXACT | NS_PLAN_GREEDY | NS_PLAN_HEURISTIC);
	if ((f & ~(m | NS_PLAN_MAX_MOVE)) || (m & (m - 1)))
		return -EINVAL;
	for (int n = 0; n < in->nr_nodes; n++) {
		const struct ns_plan_node *node = &in->nodes[n];

		/* vCPU arithmetic below is int: caps and sums are bounded here, so it cannot wrap */
		if (node->cpus < 0 || node->cpus > INT_MAX / 4 || node->headroom > lim ||
		    !(node->capacity >= 0 && node->capacity <= MAX_CPUS))
			return -EINVAL;
		all += node->headroom;
	}
	for (int v = 0; v < in->nr_vms; v++) {
		const struct ns_plan_vm *vm = &in->vms[v];

		if (vm->vcpus < 0 || vm->pinned_node < -1 || vm->pinned_node >= in->nr_nodes)
			return -EINVAL;
		vsum += vm->vcpus;
		if (vsum > INT_MAX / 4)
			return -EINVAL;
		if (in->have_demand && !(vm->demand >= 0 && vm->demand <= MAX_CPUS))
			return -EINVAL;
		for (int n = 0; n < in->nr_nodes; n++) {
			if (vm->mem[n] > lim)
				return -EINVAL;
			all += vm->mem[n];
			if (all > lim)
				return -EINVAL;
		}
	}
	return all > lim ? -EINVAL : 0;
}

/* Pin-only steps (bytes 0) for placed VMs whose memory is home already but whose threads are
 * not confined to the node: pinning moves nothing, so they fit anywhere and go first. */
static int pin_steps(const struct ns_plan_in *in, struct ns_plan_out *out)
{
	struct ns_plan_step *steps = NULL;
	unsigned char *has = calloc((size_t)in->nr_vms + 1, 1);
	int extra = 0, k = 0, rc = 0;

	if (!has)
		return -ENOMEM;
	for (int i = 0; i < out->nr_steps; i++)
		has[out->steps[i].vm] = 1;
	for (int v = 0; v < in->nr_vms; v++)
		extra += out->placement[v] >= 0 && !has[v] && !out->why[v][0] &&
			 in->vms[v].threads_node != in->nodes[out->placement[v]].id;
	if (!extra)
		goto out;
	steps = calloc((size_t)(out->nr_steps + extra), sizeof(*steps));
	if (!steps) {
		rc = -ENOMEM;
		goto out;
	}
	for (int v = 0; v < in->nr_vms; v++)
		if (out->placement[v] >= 0 && !has[v] && !out->why[v][0] &&
		    in->vms[v].threads_node != in->nodes[out->placement[v]].id)
			steps[k++] = (struct ns_plan_step){ .vm = v, .to = out->placement[v] };
	memcpy(steps + k, out->steps, (size_t)out->nr_steps * sizeof(*steps));
	free(out->steps);
	out->steps = steps;
	out->nr_steps += extra;
out:
	free(has);
	return rc;
}

/* Demand per node before the plan and after its emitted steps, and the excess of each. */
static void demand_report(const struct ctx *c, struct ns_plan_out *out)
{
	int64_t before[NS_PLAN_MAX_NODES] = { 0 }, after[NS_PLAN_MAX_NODES] = { 0 }, eb = 0, ea = 0;

	if (!c->demand)
		return;
	for (int v = 0; v < c->nv; v++) {
		int p = out->placement[v], h = c->home[v];
		int a = p >= 0 && !out->why[v][0] ? p : h;

		if (h >= 0)
			before[h] += c->dm[v];
		if (a >= 0)
			after[a] += c->dm[v];
	}
	for (int n = 0; n < c->nn; n++) {
		out->demand_before[n] = (double)before[n] / 1000.0;
		out->demand_after[n] = (double)after[n] / 1000.0;
		eb += over(c, n, before[n]);
		ea += over(c, n, after[n]);
	}
	out->excess_before = (double)eb / 1000.0;
	out->excess_after = (double)ea / 1000.0;
}

/* One plan with the given byte limit (INT64_MAX: none). */
static int solve_one(const struct ns_plan_in *in, int64_t budget, struct ns_plan_out *out)
{
	struct ctx c = { .in = in, .rng = 0x9e3779b97f4a7c15ULL, .shift_budget = LS_SHIFT_BUDGET,
			 .budget = budget, .demand = !!in->have_demand };
	struct incumbent best = { 0 };
	int rc;
	struct sol s = { 0 };
	size_t nv;

	memset(out, 0, sizeof(*out));
	c.nn = in->nr_nodes;
	c.nv = in->nr_vms;
	nv = (size_t)(c.nv ? c.nv : 1);
	c.total = calloc(nv, sizeof(int64_t));
	c.fixed = calloc(nv, 1);
	c.dm = calloc(nv, sizeof(int64_t));
	c.home = calloc(nv, sizeof(int));
	best.at = calloc(nv, sizeof(int));
	out->placement = calloc(nv, sizeof(int));
	out->why = calloc(nv, sizeof(*out->why));
	out->note = calloc(nv, sizeof(*out->note));
	if (!c.total || !c.fixed || !c.dm || !c.home || !best.at || !out->placement || !out->why || !out->note) {
		rc = -ENOMEM;
		goto out;
	}
	rc = sol_alloc(&c, &s);
	if (rc)
		goto out;
	for (int n = 0; n < c.nn; n++) {
		c.cap0[n] = (int64_t)in->nodes[n].headroom;
		c.capm[n] = plan_milli(in->nodes[n].capacity);
	}
	for (int v = 0; v < c.nv; v++) {
		for (int n = 0; n < c.nn; n++) {
			c.total[v] += vmem(&c, v, n);
			c.cap0[n] += vmem(&c, v, n);
		}
		c.dm[v] = c.demand ? plan_milli(in->vms[v].demand) : 0;
		c.home[v] = ns_plan_vm_node(in, v);
		note_memory_only(&c, v, out->note[v]);
	}
	memcpy(c.cap, c.cap0, sizeof(c.cap));
	/* a VM no node could hold even empty stays where it is, and keeps that memory */
	for (int v = 0; v < c.nv; v++) {
		int ok = 0;

		for (int n = 0; n < c.nn; n++)
			ok |= allowed(&c, v, n) && c.cap0[n] >= c.total[v] &&
			      in->nodes[n].cpus >= vcpus(&c, v);
		if (ok)
			continue;
		c.fixed[v] = 1;
		c.nfixed++;
		why_fixed(&c, v, out->why[v]);
		for (int n = 0; n < c.nn; n++)
			c.cap[n] -= vmem(&c, v, n);
		if (c.home[v] >= 0)
			c.base[c.home[v]] += c.dm[v];
	}

	if (in->flags & (NS_PLAN_GREEDY | NS_PLAN_EXACT)) {
		/* the baseline; also the exact search's first incumbent when that search is asked
		 * for by name: weak on purpose, so that tests and bench/plan see the search itself
		 * find the optimum rather than confirm the heuristic's */
		sol_reset(&c, &s);
		greedy_numad(&c, &s);
		best.u = -1;
		keep_if_better(&c, &s, &best);
	} else {
		rc = heuristic(&c, &best);
		if (rc)
			goto out;
	}
	if ((in->flags & NS_PLAN_EXACT) ||
	    (!(in->flags & (NS_PLAN_HEURISTIC | NS_PLAN_GREEDY)) && c.nv - c.nfixed <= AUTO_EXACT_MAX_VMS)) {
		rc = exact(&c, &best, (in->flags & NS_PLAN_EXACT) ? -1 : AUTO_EXACT_BUDGET, &out->exact);
		if (rc)
			goto out;
	}
	if (!out->exact) {
		/* proven anyway when it meets the bound with nothing placed */
		int lu;
		int64_t le, lb;

		rc = root_bound(&c, &lu, &le, &lb);
		if (rc)
			goto out;
		out->exact = best.u == lu && best.e == le && best.b == lb;
	}

	/* rebuild what the nodes have left, for the reasons */
	sol_load(&c, &s, best.at);
	for (int v = 0; v < c.nv; v++) {
		out->placement[v] = c.fixed[v] ? -1 : best.at[v];
		if (!c.fixed[v] && best.at[v] < 0)
			out->nr_limited += why_crowded(&c, &s, v, out->why[v]);
	}
	out->bytes_moved = (uint64_t)s.bytes;
	rc = ns_plan_order(&c, out->placement, out);
	if (!rc)
		rc = pin_steps(in, out);
	if (!rc)
		demand_report(&c, out);
out:
	sol_free(&s);
	free(c.total);
	free(c.fixed);
	free(c.dm);
	free(c.home);
	free(best.at);
	if (rc)
		ns_plan_out_free(out);
	return rc;
}

int ns_plan_solve(const struct ns_plan_in *in, struct ns_plan_out *out)
{
	struct ns_plan_out free_ = { 0 };
	int rc;

	if (out) /* ns_plan_out_free is safe on it whatever happens below */
		memset(out, 0, sizeof(*out));
	rc = check_input(in, out);
	if (rc)
		return rc;
	if (!(in->flags & NS_PLAN_MAX_MOVE))
		return solve_one(in, INT64_MAX, out);
	/* the best plan without the limit first: when it stays within, it is the answer, and
	 * otherwise it is what the limit is measured against */
	rc = solve_one(in, INT64_MAX, &free_);
	if (rc)
		return rc;
	if (free_.bytes_moved <= in->max_move) {
		*out = free_;
		return 0;
	}
	rc = solve_one(in, in->max_move > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)in->max_move, out);
	if (!rc) {
		out->max_move_bound = 1;
		out->excess_uncapped = free_.excess_after;
		out->bytes_uncapped = free_.bytes_moved;
		for (int v = 0; v < in->nr_vms; v++)
			out->unplaced_uncapped += free_.placement[v] < 0;
	}
	ns_plan_out_free(&free_);
	return rc;
}

void ns_plan_out_free(struct ns_plan_out *out)
{
	if (!out)
		return;
	free(out->placement);
	free(out->why);
	free(out->note);
	free(out->steps);
	memset(out, 0, sizeof(*out));
}
