/* The rebalance planner's placement: which node each VM should live on so memory and vCPUs
 * fit while the fewest bytes move (exact search on small hosts, greedy placement and local
 * search beyond), and the entry point ns_plan_solve. The order of the moves is
 * lib/plan_order.c; the plan file lib/plan_file.c. Pure arithmetic over the caller's numbers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_int.h"
#include "util.h"

/* Exact search when the caller leaves the choice to us and at most this many VMs can move:
 * with the bound below, 14 VMs on 8 nodes take milliseconds; the budget (search nodes) keeps
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

static uint64_t rnd(struct ctx *c)
{
	/* xorshift64: deterministic, so the same input always gives the same plan */
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}
/* A reason into a why[] field; a long list of VM names is cut at the field's end. */
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

/* ---- a placement being built: what each node has left ---- */

struct sol {
	int *at; /* node, -1 unplaced (its memory stays where it is), -2 not decided yet */
	int64_t rem[NS_PLAN_MAX_NODES]; /* cap - placed VMs - what unplaced VMs keep there */
	int remcpu[NS_PLAN_MAX_NODES];
	int unplaced; /* not counting fixed VMs, which no method can place */
	int64_t bytes;
	int *members; /* nn rows of nv: the VMs placed on each node, for the local search */
	int cnt[NS_PLAN_MAX_NODES];
	int *pos;
};

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
	for (int n = 0; n < c->nn; n++) {
		s->rem[n] = c->cap[n];
		s->remcpu[n] = c->in->nodes[n].cpus;
		s->cnt[n] = 0;
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
	s->pos[v] = s->cnt[n];
	s->members[(size_t)n * (size_t)c->nv + (size_t)s->cnt[n]++] = v;
}

static void s_leave(const struct ctx *c, struct sol *s, int v)
{
	s->at[v] = -1;
	for (int m = 0; m < c->nn; m++)
		s->rem[m] -= vmem(c, v, m);
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
	} else if (n == -1) {
		for (int m = 0; m < c->nn; m++)
			s->rem[m] += vmem(c, v, m);
		s->unplaced--;
	}
	s->at[v] = -2;
}

static inline int fits(const struct ctx *c, const struct sol *s, int v, int n)
{
	return allowed(c, v, n) && s->rem[n] >= c->total[v] && s->remcpu[n] >= vcpus(c, v);
}

/* A VM left unplaced keeps its memory where it is; when earlier choices already promised that
 * room to others, move or unplace VMs that brought memory into the short node. Ends at worst
 * with everything unplaced, which always fits. */
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

/* pack: 0 sends each VM to the node holding most of it that has room; 1 to the node it fills
 * best (least memory left after it), which places more VMs on a tight host, leaving the bytes
 * to the local search. */
static void greedy_local(const struct ctx *c, struct sol *s, const int *order, int pack)
{
	for (int k = 0; k < c->nv; k++) {
		int v = order[k], best = -1;

		if (c->fixed[v])
			continue;
		for (int n = 0; n < c->nn; n++) {
			if (!fits(c, s, v, n))
				continue;
			if (best < 0 || (pack && s->rem[n] < s->rem[best]) ||
			    (!pack && cost(c, v, n) < cost(c, v, best)) ||
			    (!pack && cost(c, v, n) == cost(c, v, best) && s->rem[n] > s->rem[best]))
				best = n;
		}
		if (best >= 0)
			s_place(c, s, v, best);
		else
			s_leave(c, s, v);
	}
	repair(c, s);
}

/* numad's way, the baseline: input order, the node with the most free memory, no look-ahead. */
static void greedy_numad(const struct ctx *c, struct sol *s)
{
	for (int v = 0; v < c->nv; v++) {
		int best = -1;

		if (c->fixed[v])
			continue;
		for (int n = 0; n < c->nn; n++)
			if (fits(c, s, v, n) && (best < 0 || s->rem[n] > s->rem[best]))
				best = n;
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
	int64_t delta; /* bytes moved, change */
};

static void chain_offer(struct chain *ch, int64_t delta, int n, int w, int d, int x, int e)
{
	if (delta < ch->delta)
		*ch = (struct chain){ .n = n, .w = w, .d = d, .x = x, .e = e, .delta = delta };
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
				chain_offer(ch, base, n, -1, -1, -1, -1);
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
					chain_offer(ch, dw, n, w, d, -1, -1);
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
							chain_offer(ch, dw + cost(c, x, e) - cost(c, x, d), n, w, d,
								    x, e);
					}
				}
			}
		}
	}
}

/* No room for u anywhere: trade it for a placed VM w when that moves fewer bytes (same count). */
static int insert_trade(struct ctx *c, struct sol *s, int u)
{
	int bn = -1, bw = -1;
	int64_t best = 0;

	for (int n = 0; n < c->nn; n++) {
		if (!allowed(c, u, n))
			continue;
		for (int w = 0; w < c->nv && c->shift_budget > 0; w++) {
			int q = s->at[w], ok = 1;
			int64_t delta;

			if (q < 0)
				continue;
			c->shift_budget--;
			delta = cost(c, u, n) - cost(c, w, q);
			if (delta >= best || s->remcpu[n] - vcpus(c, u) + (q == n ? vcpus(c, w) : 0) < 0)
				continue;
			for (int m = 0; m < c->nn && ok; m++)
				ok = s->rem[m] + vmem(c, u, m) - vmem(c, w, m) + (m == q ? c->total[w] : 0) -
					     (m == n ? c->total[u] : 0) >=
				     0;
			if (ok)
				best = delta, bn = n, bw = w;
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
 * placed VM whose move costs more. */
static int ls_insert(struct ctx *c, struct sol *s)
{
	int improved = 0;

	for (int u = 0; u < c->nv; u++) {
		struct chain ch = { .n = -1, .delta = INT64_MAX };

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

/* Fewer bytes: move a VM to a node holding more of it, directly or by shifting one VM off that
 * node to a third one (or back to where the first came from: a swap). */
static int ls_improve(struct ctx *c, struct sol *s)
{
	int improved = 0;

	for (int v = 0; v < c->nv; v++) {
		int a = s->at[v], bn = -1, bw = -1, bd = -1;
		int64_t ca, best = 0;

		if (a < 0 || c->in->vms[v].pinned_node >= 0)
			continue;
		ca = cost(c, v, a);
		for (int n = 0; n < c->nn && ca > 0; n++) {
			int64_t gain = ca - cost(c, v, n), need;
			int needcpu;

			if (n == a || gain <= 0)
				continue;
			if (s->rem[n] >= c->total[v] && s->remcpu[n] >= vcpus(c, v)) {
				if (-gain < best)
					best = -gain, bn = n, bw = -1;
				continue;
			}
			need = c->total[v] - s->rem[n];
			needcpu = vcpus(c, v) - s->remcpu[n];
			for (int i = 0; i < s->cnt[n] && c->shift_budget > 0; i++) {
				int w = s->members[(size_t)n * (size_t)c->nv + (size_t)i];

				c->shift_budget--;
				if (c->total[w] < need || vcpus(c, w) < needcpu ||
				    c->in->vms[w].pinned_node >= 0)
					continue;
				for (int d = 0; d < c->nn; d++) {
					int64_t room, delta;
					int cpu;

					if (d == n)
						continue;
					delta = -gain + cost(c, w, d) - cost(c, w, n);
					if (delta >= best)
						continue;
					room = s->rem[d] + (d == a ? c->total[v] : 0) - c->total[w];
					cpu = s->remcpu[d] + (d == a ? vcpus(c, v) : 0) - vcpus(c, w);
					if (room < 0 || cpu < 0)
						continue;
					best = delta, bn = n, bw = w, bd = d;
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

/* Iterated local search on small and medium hosts: take a few VMs out of the best placement,
 * put them back in random order on the cheapest, a random or the fullest node that fits,
 * search locally again, keep the result when it is better. Escapes the local optima where one
 * VM blocks another. */
static void perturb(struct ctx *c, struct sol *s, int *movable, int *taken, int *best_at, int *bu,
		    int64_t *bb)
{
	int iters = c->nv <= 64 ? ILS_ITERS_SMALL : c->nv <= 1000 ? ILS_ITERS_MEDIUM : 0, nm = 0;

	for (int v = 0; v < c->nv; v++)
		if (!c->fixed[v])
			movable[nm++] = v;
	if (nm < 2)
		return;
	for (int it = 0; it < iters; it++) {
		int k = 2 + (int)(rnd(c) % 4), nt = 0;

		sol_load(c, s, best_at);
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
			int v = taken[i], cheap = -1, any = -1, tight = -1, seen = 0;
			int how = (int)(rnd(c) % 3);

			for (int n = 0; n < c->nn; n++) {
				if (!fits(c, s, v, n))
					continue;
				if (cheap < 0 || cost(c, v, n) < cost(c, v, cheap))
					cheap = n;
				if (tight < 0 || s->rem[n] < s->rem[tight])
					tight = n;
				if (rnd(c) % (uint64_t)++seen == 0)
					any = n;
			}
			if (cheap < 0)
				s_leave(c, s, v);
			else
				s_place(c, s, v, how == 0 ? cheap : how == 1 ? any : tight);
		}
		repair(c, s);
		local_search(c, s);
		if (better(s->unplaced, s->bytes, *bu, *bb)) {
			*bu = s->unplaced;
			*bb = s->bytes;
			memcpy(best_at, s->at, (size_t)c->nv * sizeof(int));
		}
	}
}

/* Several greedy starts, each followed by local search, then iterated local search; keep the
 * best. Pinned VMs go first (they have no choice), then: by size to the node holding most of
 * each VM; by regret (how much a VM loses when its best node is taken); by size, packing
 * tightly (places the most VMs on a tight host); by size with noise, on smaller hosts. */
static int heuristic(struct ctx *c, int *best_at, int *bu, int64_t *bb)
{
	struct keyed *k = NULL;
	int *order = NULL, *taken = NULL, rc, starts;
	struct sol s;

	rc = sol_alloc(c, &s);
	k = calloc((size_t)(c->nv ? c->nv : 1), sizeof(*k));
	order = calloc((size_t)(c->nv ? c->nv : 1), sizeof(int));
	taken = calloc((size_t)(c->nv ? c->nv : 1), sizeof(int));
	if (rc || !k || !order || !taken) {
		rc = -ENOMEM;
		goto out;
	}
	starts = c->nv <= 64 ? 32 : c->nv <= 1000 ? 6 : 3;
	*bu = -1;
	for (int st = 0; st < starts; st++) {
		for (int v = 0; v < c->nv; v++) {
			double key = (double)c->total[v];

			if (st == 1) {
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
		if (*bu < 0 || better(s.unplaced, s.bytes, *bu, *bb)) {
			*bu = s.unplaced;
			*bb = s.bytes;
			memcpy(best_at, s.at, (size_t)c->nv * sizeof(int));
		}
	}
	perturb(c, &s, order, taken, best_at, bu, bb);
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
	int *ord;	 /* the VMs that can move, biggest first */
	int *nodeord;	 /* per VM: allowed nodes, cheapest first (nn per VM) */
	int *nodecnt;
	int *cur;	 /* node per VM, -1 unplaced */
	int64_t rem[NS_PLAN_MAX_NODES];
	int remcpu[NS_PLAN_MAX_NODES];
	int cu;
	int64_t cb;
	int *best;
	int bu;
	int64_t bbytes;
	long visited, budget; /* budget < 0: none */
	int aborted;
};

static void bb_rec(struct bb *b, int i)
{
	struct ctx *c = b->c;
	int lu = b->cu, v, ok = 1;
	int64_t lb = b->cb;

	if (b->aborted)
		return;
	if (b->budget >= 0 && ++b->visited > b->budget) {
		b->aborted = 1;
		return;
	}
	if (i == b->m) {
		if (better(b->cu, b->cb, b->bu, b->bbytes)) {
			b->bu = b->cu;
			b->bbytes = b->cb;
			for (int j = 0; j < b->m; j++)
				b->best[b->ord[j]] = b->cur[b->ord[j]];
		}
		return;
	}
	/* Bound: every VM still to place at its cheapest node that has room now, or unplaced
	 * when none has; room only shrinks further down, so this never overestimates. */
	for (int j = i; j < b->m && better(lu, lb, b->bu, b->bbytes); j++) {
		int w = b->ord[j], *no = b->nodeord + (size_t)w * (size_t)c->nn, found = 0;

		for (int q = 0; q < b->nodecnt[w]; q++)
			if (b->rem[no[q]] >= c->total[w] && b->remcpu[no[q]] >= vcpus(c, w)) {
				lb += cost(c, w, no[q]);
				found = 1;
				break;
			}
		if (!found)
			lu++;
	}
	if (!better(lu, lb, b->bu, b->bbytes))
		return;
	v = b->ord[i];
	for (int q = 0; q < b->nodecnt[v]; q++) {
		int n = b->nodeord[(size_t)v * (size_t)c->nn + (size_t)q];

		if (b->rem[n] < c->total[v] || b->remcpu[n] < vcpus(c, v))
			continue;
		b->rem[n] -= c->total[v];
		b->remcpu[n] -= vcpus(c, v);
		b->cb += cost(c, v, n);
		b->cur[v] = n;
		bb_rec(b, i + 1);
		b->rem[n] += c->total[v];
		b->remcpu[n] += vcpus(c, v);
		b->cb -= cost(c, v, n);
	}
	/* unplaced: only when what it keeps in place still fits beside what is placed */
	for (int n = 0; n < c->nn; n++)
		if (b->rem[n] < vmem(c, v, n))
			ok = 0;
	if (ok && b->cu + 1 <= b->bu) {
		for (int n = 0; n < c->nn; n++)
			b->rem[n] -= vmem(c, v, n);
		b->cu++;
		b->cur[v] = -1;
		bb_rec(b, i + 1);
		b->cu--;
		for (int n = 0; n < c->nn; n++)
			b->rem[n] += vmem(c, v, n);
	}
}

/* Improves *best_at in place when it finds better; returns 1 when the search completed. */
static int exact(struct ctx *c, int *best_at, int *bu, int64_t *bbytes, long budget, int *done)
{
	struct keyed *k = calloc((size_t)(c->nv ? c->nv : 1), sizeof(*k));
	struct bb b = { .c = c, .budget = budget };
	size_t nv = (size_t)(c->nv ? c->nv : 1);
	int rc = 0;

	b.ord = calloc(nv, sizeof(int));
	b.nodeord = calloc(nv * (size_t)c->nn, sizeof(int));
	b.nodecnt = calloc(nv, sizeof(int));
	b.cur = calloc(nv, sizeof(int));
	b.best = calloc(nv, sizeof(int));
	if (!k || !b.ord || !b.nodeord || !b.nodecnt || !b.cur || !b.best) {
		rc = -ENOMEM;
		goto out;
	}
	for (int v = 0; v < c->nv; v++) {
		int *no = b.nodeord + (size_t)v * (size_t)c->nn;

		if (!c->fixed[v]) {
			k[b.m].key = (double)c->total[v];
			k[b.m++].v = v;
		}
		for (int n = 0; n < c->nn; n++) {
			int q;

			if (!allowed(c, v, n))
				continue;
			for (q = b.nodecnt[v]; q > 0 && cost(c, v, no[q - 1]) > cost(c, v, n); q--)
				no[q] = no[q - 1];
			no[q] = n;
			b.nodecnt[v]++;
		}
	}
	qsort(k, (size_t)b.m, sizeof(*k), ns_plan_keyed_desc);
	for (int j = 0; j < b.m; j++)
		b.ord[j] = k[j].v;
	for (int n = 0; n < c->nn; n++) {
		b.rem[n] = c->cap[n];
		b.remcpu[n] = c->in->nodes[n].cpus;
	}
	memcpy(b.best, best_at, (size_t)c->nv * sizeof(int));
	b.bu = *bu;
	b.bbytes = *bbytes;
	bb_rec(&b, 0);
	memcpy(best_at, b.best, (size_t)c->nv * sizeof(int));
	*bu = b.bu;
	*bbytes = b.bbytes;
	*done = !b.aborted;
out:
	free(k);
	free(b.ord);
	free(b.nodeord);
	free(b.nodecnt);
	free(b.cur);
	free(b.best);
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
		if (c->cap0[n] < c->total[v])
			ns_plan_say(why, "pinned to node %d, which can hold %s of VMs; needs %s",
				 c->in->nodes[n].id, have, need);
		else
			ns_plan_say(why, "pinned to node %d, which has %d CPUs; needs %d vCPUs",
				 c->in->nodes[n].id, c->in->nodes[n].cpus, vm->vcpus);
		return;
	}
	for (int n = 0; n < c->nn; n++) {
		if (c->cap0[n] > maxcap)
			maxcap = c->cap0[n];
		if (c->in->nodes[n].cpus > maxcpu)
			maxcpu = c->in->nodes[n].cpus;
		memok |= c->cap0[n] >= c->total[v];
		cpuok |= c->in->nodes[n].cpus >= vm->vcpus;
	}
	plan_size(have, maxcap);
	if (!memok)
		ns_plan_say(why, "needs %s, largest node capacity %s", need, have);
	else if (!cpuok)
		ns_plan_say(why, "%d vCPUs, no node has %d free CPUs (most: %d)", vm->vcpus,
			 vm->vcpus, maxcpu);
	else
		ns_plan_say(why, "needs %s and %d vCPUs, no node has both", need, vm->vcpus);
}

static void why_crowded(const struct ctx *c, const struct sol *s, int v, char *why)
{
	char need[32], room[32];
	int64_t bestroom = -1;
	int roomnode = -1, bestcpu = -1, cpunode = -1, pin = c->in->vms[v].pinned_node;

	for (int n = 0; n < c->nn; n++) {
		/* what placing it there would have: its own memory there stops counting as kept */
		int64_t r = s->rem[n] + vmem(c, v, n);

		if (!allowed(c, v, n))
			continue;
		if (r > bestroom)
			bestroom = r, roomnode = n;
		if (s->remcpu[n] > bestcpu)
			bestcpu = s->remcpu[n], cpunode = n;
	}
	plan_size(need, c->total[v]);
	plan_size(room, bestroom < 0 ? 0 : bestroom);
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
}
/* ---- the entry point ---- */

static int check_input(const struct ns_plan_in *in, const struct ns_plan_out *out)
{
	/* every sum the planner forms stays far below INT64_MAX */
	const uint64_t lim = 1ULL << 61;
	uint64_t all = 0;
	unsigned f;

	if (!in || !out || in->nr_nodes < 1 || in->nr_nodes > NS_PLAN_MAX_NODES || in->nr_vms < 0 ||
	    (in->nr_vms > 0 && !in->vms))
		return -EINVAL;
	f = in->flags;
	if ((f & ~(NS_PLAN_EXACT | NS_PLAN_GREEDY | NS_PLAN_HEURISTIC)) || (f & (f - 1)))
		return -EINVAL;
	for (int n = 0; n < in->nr_nodes; n++) {
		if (in->nodes[n].cpus < 0 || in->nodes[n].headroom > lim)
			return -EINVAL;
		all += in->nodes[n].headroom;
	}
	for (int v = 0; v < in->nr_vms; v++) {
		const struct ns_plan_vm *vm = &in->vms[v];

		if (vm->vcpus < 0 || vm->pinned_node < -1 || vm->pinned_node >= in->nr_nodes)
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

int ns_plan_solve(const struct ns_plan_in *in, struct ns_plan_out *out)
{
	struct ctx c = { .in = in, .rng = 0x9e3779b97f4a7c15ULL, .shift_budget = LS_SHIFT_BUDGET };
	int *best = NULL, bu = 0, rc;
	int64_t bb = 0;
	struct sol s = { 0 };
	size_t nv;

	if (out) /* ns_plan_out_free is safe on it whatever happens below */
		memset(out, 0, sizeof(*out));
	rc = check_input(in, out);
	if (rc)
		return rc;
	c.nn = in->nr_nodes;
	c.nv = in->nr_vms;
	nv = (size_t)(c.nv ? c.nv : 1);
	c.total = calloc(nv, sizeof(int64_t));
	c.fixed = calloc(nv, 1);
	best = calloc(nv, sizeof(int));
	out->placement = calloc(nv, sizeof(int));
	out->why = calloc(nv, sizeof(*out->why));
	if (!c.total || !c.fixed || !best || !out->placement || !out->why) {
		rc = -ENOMEM;
		goto out;
	}
	rc = sol_alloc(&c, &s);
	if (rc)
		goto out;
	for (int n = 0; n < c.nn; n++)
		c.cap0[n] = (int64_t)in->nodes[n].headroom;
	for (int v = 0; v < c.nv; v++)
		for (int n = 0; n < c.nn; n++) {
			c.total[v] += vmem(&c, v, n);
			c.cap0[n] += vmem(&c, v, n);
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
	}

	if (in->flags & (NS_PLAN_GREEDY | NS_PLAN_EXACT)) {
		/* the baseline; also the exact search's first incumbent when that search is asked
		 * for by name: weak on purpose, so that tests and bench/plan see the search itself
		 * find the optimum rather than confirm the heuristic's */
		sol_reset(&c, &s);
		greedy_numad(&c, &s);
		memcpy(best, s.at, nv * sizeof(int));
		bu = s.unplaced;
		bb = s.bytes;
	} else {
		rc = heuristic(&c, best, &bu, &bb);
		if (rc)
			goto out;
	}
	if ((in->flags & NS_PLAN_EXACT) ||
	    (!(in->flags & (NS_PLAN_HEURISTIC | NS_PLAN_GREEDY)) && c.nv - c.nfixed <= AUTO_EXACT_MAX_VMS)) {
		rc = exact(&c, best, &bu, &bb, (in->flags & NS_PLAN_EXACT) ? -1 : AUTO_EXACT_BUDGET,
			   &out->exact);
		if (rc)
			goto out;
	}
	if (!out->exact) {
		/* proven anyway when it meets the bound: each VM at its cheapest node, or unplaced
		 * when no node could hold it alone */
		int lu = 0;
		int64_t lb = 0;

		for (int v = 0; v < c.nv; v++) {
			int64_t m = -1;

			for (int n = 0; n < c.nn && !c.fixed[v]; n++)
				if (allowed(&c, v, n) && c.cap[n] >= c.total[v] &&
				    in->nodes[n].cpus >= vcpus(&c, v) && (m < 0 || cost(&c, v, n) < m))
					m = cost(&c, v, n);
			if (c.fixed[v])
				continue;
			if (m < 0)
				lu++;
			else
				lb += m;
		}
		out->exact = bu == lu && bb == lb;
	}

	/* rebuild what the nodes have left, for the reasons */
	sol_reset(&c, &s);
	for (int v = 0; v < c.nv; v++) {
		if (c.fixed[v])
			continue;
		if (best[v] >= 0)
			s_place(&c, &s, v, best[v]);
		else
			s_leave(&c, &s, v);
	}
	for (int v = 0; v < c.nv; v++) {
		out->placement[v] = c.fixed[v] ? -1 : best[v];
		if (!c.fixed[v] && best[v] < 0)
			why_crowded(&c, &s, v, out->why[v]);
	}
	out->bytes_moved = (uint64_t)s.bytes;
	rc = ns_plan_order(&c, out->placement, out);
out:
	sol_free(&s);
	free(c.total);
	free(c.fixed);
	free(best);
	if (rc)
		ns_plan_out_free(out);
	return rc;
}

void ns_plan_out_free(struct ns_plan_out *out)
{
	if (!out)
		return;
	free(out->placement);
	free(out->why);
	free(out->steps);
	memset(out, 0, sizeof(*out));
}
