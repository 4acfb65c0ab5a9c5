/* The rebalance planner: which node each VM should live on so memory and vCPUs fit while the
 * fewest bytes move, and an order of moves in which every target has room when its move runs.
 * Pure arithmetic over the caller's numbers (plan.h); the JSON plan file is written and read
 * back here too, so the writer and the reader cannot drift apart. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numasafe/plan.h"
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
/* Freeing candidates examined per starved node when ordering steps (see pick_step). */
#define ORDER_SCAN 64
#define ORDER_TOP 8
/* When the greedy order leaves steps out: randomised retries, and an exhaustive search over
 * subsets of steps (2^n states) when there are at most this many steps. */
#define ORDER_TRIES_SMALL 30
#define ORDER_TRIES_LARGE 3
#define ORDER_EXHAUSTIVE_MAX 18
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
};

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

static inline int allowed(const struct ctx *c, int v, int n)
{
	int p = c->in->vms[v].pinned_node;

	return p < 0 || p == n;
}

static inline int better(int u1, int64_t b1, int u2, int64_t b2)
{
	return u1 < u2 || (u1 == u2 && b1 < b2);
}

static uint64_t rnd(struct ctx *c)
{
	/* xorshift64: deterministic, so the same input always gives the same plan */
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

static void fmt_bytes(char *buf, size_t len, int64_t b)
{
	if (b >= (1LL << 30))
		snprintf(buf, len, "%.1f GiB", (double)b / (double)(1LL << 30));
	else if (b >= (1LL << 20))
		snprintf(buf, len, "%.0f MiB", (double)b / (double)(1LL << 20));
	else
		snprintf(buf, len, "%" PRId64 " bytes", b);
}

/* A reason into a why[] field; a long list of VM names is cut at the field's end. */
static void say(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(char *why, const char *fmt, ...)
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

struct keyed {
	double key;
	int v;
};

static int keyed_desc(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? 1 : -1;
	return x->v - y->v;
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
		qsort(k, (size_t)c->nv, sizeof(*k), keyed_desc);
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
	qsort(k, (size_t)b.m, sizeof(*k), keyed_desc);
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

	fmt_bytes(need, sizeof(need), c->total[v]);
	if (vm->pinned_node >= 0) {
		int n = vm->pinned_node;

		fmt_bytes(have, sizeof(have), c->cap0[n]);
		if (c->cap0[n] < c->total[v])
			say(why, "pinned to node %d, which can hold %s of VMs; needs %s",
				 c->in->nodes[n].id, have, need);
		else
			say(why, "pinned to node %d, which has %d CPUs; needs %d vCPUs",
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
	fmt_bytes(have, sizeof(have), maxcap);
	if (!memok)
		say(why, "needs %s, largest node capacity %s", need, have);
	else if (!cpuok)
		say(why, "%d vCPUs, no node has %d free CPUs (most: %d)", vm->vcpus,
			 vm->vcpus, maxcpu);
	else
		say(why, "needs %s and %d vCPUs, no node has both", need, vm->vcpus);
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
	fmt_bytes(need, sizeof(need), c->total[v]);
	fmt_bytes(room, sizeof(room), bestroom < 0 ? 0 : bestroom);
	if (pin >= 0)
		say(why,
		    "needs %s and %d vCPUs on node %d (pinned); with the other VMs placed, it has %s "
		    "and %d free CPUs",
		    need, vcpus(c, v), c->in->nodes[pin].id, room, bestcpu);
	else
		say(why,
		    "needs %s and %d vCPUs; with the other VMs placed, most left is %s on node %d and "
		    "%d free CPUs on node %d",
		    need, vcpus(c, v), room, c->in->nodes[roomnode].id, bestcpu, c->in->nodes[cpunode].id);
}

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

			if (k == o->to[s])
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
		qsort(k, (size_t)cnt, sizeof(*k), keyed_desc);
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
		fmt_bytes(need, sizeof(need), o->bytes[s]);
		fmt_bytes(fr, sizeof(fr), o->free[t] > 0 ? o->free[t] : 0);
		say(why[o->vm[s]],
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
static int order_steps(const struct ctx *c, const int *at, struct ns_plan_out *out)
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
		if (rc || !better(t.nr_unordered, temps[1], out->nr_unordered, temps[0]))
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
	rc = order_steps(&c, out->placement, out);
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
		if (len)
			snprintf(errmsg, len, "%s: not valid JSON: %s", path, json_util_get_last_err());
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
