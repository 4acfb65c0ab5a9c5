/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Token bucket and PSI watch (see throttle.h). The watch fails closed: PSI that cannot be
 * read stops a run that asked for it, at the start or in the middle. Kernel triggers only
 * warn early; a trigger that cannot be armed leaves the sampled watch as it was. */
#include <errno.h>
#include <time.h>
#include <unistd.h>

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
	for (unsigned i = 0; i < NS_PSI_TRIGGERS_MAX; i++)
		t->trig_fd[i] = -1;
	t->ntrig = 0;
	t->trig_window = 0;
	t->trig_at = 0;
	t->trig_new = false;
	t->trig_events = 0;
	t->psi_first = 0;
	return max_psi > 0 ? ns_psi_read(root, &psi) : 0;
}

int ns_throttle_trigger(struct ns_throttle *t, const char *file, uint64_t window_us)
{
	double stall;
	uint64_t stall_us;
	int rc;

	if (t->max_psi <= 0)
		return -EINVAL;
	if (t->ntrig == NS_PSI_TRIGGERS_MAX)
		return -ENOSPC;
	/* max_psi percent of the window, at least 1 us, at most all of it */
	stall = (double)window_us * t->max_psi / 100.0;
	stall_us = stall < 1 ? 1 : stall >= (double)window_us ? window_us : (uint64_t)stall;
	rc = ns_psi_trigger_open(t->root, file, stall_us, window_us, &t->trig_fd[t->ntrig]);
	if (rc < 0)
		return rc;
	t->ntrig++;
	/* pressure is held for two of the longest window armed */
	if ((double)window_us / 1e6 > t->trig_window)
		t->trig_window = (double)window_us / 1e6;
	return 0;
}

void ns_throttle_fini(struct ns_throttle *t)
{
	for (unsigned i = 0; i < t->ntrig; i++)
		close(t->trig_fd[i]);
	t->ntrig = 0;
}

/* Wait up to ms (0: look) for a trigger event; true when one came (recorded). A trigger that
 * reports an error is dropped, and so are all if poll itself fails: the sampled watch goes on. */
static bool trig_wait(struct ns_throttle *t, int ms)
{
	unsigned fired, broken, k = 0;
	int rc;

	if (t->ntrig == 0)
		return false;
	rc = ns_psi_trigger_wait(t->trig_fd, t->ntrig, ms, &fired, &broken);
	if (rc < 0) {
		ns_throttle_fini(t);
		return false;
	}
	if (broken) {
		for (unsigned i = 0; i < t->ntrig; i++)
			if (broken & (1U << i))
				close(t->trig_fd[i]);
			else
				t->trig_fd[k++] = t->trig_fd[i];
		t->ntrig = k;
	}
	if (!fired)
		return false;
	t->trig_at = ns_now();
	t->trig_new = true;
	t->trig_events++;
	return true;
}

bool ns_throttle_stopped(const struct ns_throttle *t)
{
	return t->stop && *t->stop >= t->stop_at;
}

void ns_throttle_nap(struct ns_throttle *t, double seconds)
{
	double end = ns_now() + seconds;

	while (!ns_throttle_stopped(t)) {
		double left = end - ns_now(), slice;
		struct timespec ts;

		if (left <= 0)
			break;
		slice = left > 0.05 ? 0.05 : left;
		if (t->ntrig) {
			/* whole milliseconds, rounded up: poll(0) would spin */
			if (trig_wait(t, (int)(slice * 1000) + 1))
				break;
			continue;
		}
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(slice * 1e9);
		nanosleep(&ts, NULL);
	}
}

bool ns_throttle_pace_watch(struct ns_throttle *t, uint64_t bytes)
{
	double rate = (double)t->rate, now = ns_now(), burst;

	if (t->rate == 0)
		return true;
	/* a bucket that holds a tenth of a second (or one chunk): smooth, yet no long bursts */
	burst = rate / 10 > (double)bytes ? rate / 10 : (double)bytes;
	t->tokens += (now - t->t_tokens) * rate;
	if (t->tokens > burst)
		t->tokens = burst;
	t->t_tokens = now;
	if (t->tokens < (double)bytes) {
		uint64_t events = t->trig_events;

		ns_throttle_nap(t, ((double)bytes - t->tokens) / rate);
		now = ns_now();
		t->tokens += (now - t->t_tokens) * rate;
		t->t_tokens = now;
		if (t->trig_events != events)
			return false; /* pressure while waiting: not sent, nothing taken */
	}
	t->tokens -= (double)bytes;
	return true;
}

void ns_throttle_pace(struct ns_throttle *t, uint64_t bytes)
{
	while (!ns_throttle_pace_watch(t, bytes) && !ns_throttle_stopped(t))
		;
}

bool ns_throttle_psi_ok(struct ns_throttle *t)
{
	struct ns_psi psi;

	if (t->max_psi <= 0)
		return true;
	trig_wait(t, 0);
	if (!t->trig_new && t->psi_ok_at > 0 && ns_now() - t->psi_ok_at < 0.1)
		return true;
	for (;;) {
		double now;
		bool event;

		t->trig_new = false;
		t->psi_err = ns_psi_read(t->root, &psi);
		if (t->psi_err < 0)
			return false; /* fail closed: an unreadable PSI is no sign of calm */
		now = ns_now();
		/* while the stall lasts the kernel repeats the event once a window: two windows
		 * without one is calm again */
		event = t->trig_at > 0 && now - t->trig_at < 2 * t->trig_window;
		if (psi.some.avg10 <= t->max_psi && !event) {
			t->psi_since = 0;
			t->psi_ok_at = now;
			return true;
		}
		t->psi_ok_at = 0;
		if (t->psi_first == 0)
			t->psi_first = now;
		if (t->psi_since == 0)
			t->psi_since = now;
		if (now - t->psi_since >= t->grace)
			return false;
		if (ns_throttle_stopped(t))
			return true; /* the caller sees the stop request next */
		ns_throttle_nap(t, 0.5);
	}
}
