/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Token bucket and PSI watch (see throttle.h). The watch fails closed: PSI that cannot be
 * read stops a run that asked for it, at the start or in the middle. */
#include <time.h>

#include "numasafe/psi.h"
#include "throttle.h"

double ns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int ns_throttle_init(struct ns_throttle *t, const char *root, uint64_t rate, double max_psi, double grace,
		     volatile sig_atomic_t *stop)
{
	struct ns_psi psi;

	t->root = root;
	t->rate = rate;
	t->max_psi = max_psi;
	t->grace = grace;
	t->stop = stop;
	t->stop_at = 1;
	t->tokens = 0;
	t->t_tokens = ns_now();
	t->psi_since = 0;
	t->psi_ok_at = 0;
	t->psi_err = 0;
	return max_psi > 0 ? ns_psi_read(root, &psi) : 0;
}

bool ns_throttle_stopped(const struct ns_throttle *t)
{
	return t->stop && *t->stop >= t->stop_at;
}

void ns_throttle_nap(const struct ns_throttle *t, double seconds)
{
	double end = ns_now() + seconds;

	while (!ns_throttle_stopped(t)) {
		double left = end - ns_now();
		struct timespec ts;

		if (left <= 0)
			break;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)((left > 0.05 ? 0.05 : left) * 1e9);
		nanosleep(&ts, NULL);
	}
}

void ns_throttle_pace(struct ns_throttle *t, uint64_t bytes)
{
	double rate = (double)t->rate, now = ns_now(), burst;

	if (t->rate == 0)
		return;
	/* a bucket that holds a tenth of a second (or one chunk): smooth, yet no long bursts */
	burst = rate / 10 > (double)bytes ? rate / 10 : (double)bytes;
	t->tokens += (now - t->t_tokens) * rate;
	if (t->tokens > burst)
		t->tokens = burst;
	t->t_tokens = now;
	if (t->tokens < (double)bytes) {
		ns_throttle_nap(t, ((double)bytes - t->tokens) / rate);
		now = ns_now();
		t->tokens += (now - t->t_tokens) * rate;
		t->t_tokens = now;
	}
	t->tokens -= (double)bytes;
}

bool ns_throttle_psi_ok(struct ns_throttle *t)
{
	struct ns_psi psi;

	if (t->max_psi <= 0)
		return true;
	if (t->psi_ok_at > 0 && ns_now() - t->psi_ok_at < 0.1)
		return true;
	for (;;) {
		t->psi_err = ns_psi_read(t->root, &psi);
		if (t->psi_err < 0)
			return false; /* fail closed: an unreadable PSI is no sign of calm */
		if (psi.some.avg10 <= t->max_psi) {
			t->psi_since = 0;
			t->psi_ok_at = ns_now();
			return true;
		}
		if (t->psi_since == 0)
			t->psi_since = ns_now();
		if (ns_now() - t->psi_since >= t->grace)
			return false;
		if (ns_throttle_stopped(t))
			return true; /* the caller sees the stop request next */
		ns_throttle_nap(t, 0.5);
	}
}
