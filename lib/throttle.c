/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Token bucket and PSI watch (see throttle.h). The watch fails closed: PSI that cannot be
 * read stops a run that asked for it, at the start or in the middle. Kernel triggers only
 * warn early; a trigger that cannot be armed leaves the sampled watch as it was. The stall
 * watch reads the live stall totals before each chunk and holds at the first growth. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
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
	for (unsigned i = 0; i < NS_PSI_TRIGGERS_MAX; i++) {
		t->stall_fd[i] = -1;
		t->stall_name[i] = NULL;
	}
	t->nstall = 0;
	t->stall_at = 0;
	t->hist = NULL;
	t->holds = 0;
	t->hold_first = 0;
	t->held = 0;
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

/* Read the watched totals into cur: 1 when one grew since the last calm reading, 0 when none
 * did, -errno when one could not be read (a cgroup removed since, -ENODEV, is dropped
 * instead: its process is gone, the move finds out itself). */
static int stall_read(struct ns_throttle *t, uint64_t *cur)
{
	bool grew = false;

	for (unsigned i = 0; i < t->nstall; i++) {
		struct ns_psi p;
		int rc = ns_psi_read_fd(t->stall_fd[i], t->stall_name[i], &p);

		if (rc == -ENODEV) {
			close(t->stall_fd[i]);
			free(t->stall_name[i]);
			t->nstall--;
			memmove(&t->stall_fd[i], &t->stall_fd[i + 1], (t->nstall - i) * sizeof(t->stall_fd[0]));
			memmove(&t->stall_name[i], &t->stall_name[i + 1], (t->nstall - i) * sizeof(t->stall_name[0]));
			memmove(&t->stall_last[i], &t->stall_last[i + 1], (t->nstall - i) * sizeof(t->stall_last[0]));
			t->hist->n = t->hist->head = 0; /* its columns moved */
			i--;
			continue;
		}
		if (rc < 0)
			return rc;
		cur[i] = p.some.total;
		if (cur[i] != t->stall_last[i])
			grew = true;
	}
	ns_stall_hist_push(t->hist, t->nstall, ns_now(), cur);
	return grew;
}

void ns_stall_hist_push(struct ns_stall_hist *h, unsigned n, double t, const uint64_t *tot)
{
	unsigned last = (h->head + NS_STALL_HISTORY - 1) % NS_STALL_HISTORY;

	if (h->n && t - h->s[last].t < NS_STALL_SPACING)
		return;
	h->s[h->head].t = t;
	memcpy(h->s[h->head].tot, tot, sizeof(tot[0]) * n);
	h->head = (h->head + 1) % NS_STALL_HISTORY;
	if (h->n < NS_STALL_HISTORY)
		h->n++;
}

bool ns_stall_window_over(const struct ns_stall_hist *h, unsigned n, const uint64_t *cur, double now, double window,
			  double max_psi)
{
	int old = -1, in = -1;
	double scale = 1;
	unsigned j = 0;

	/* the newest sample a window old or older; else the oldest inside the window */
	for (unsigned k = 0; k < h->n; k++) {
		unsigned i = (h->head + NS_STALL_HISTORY - h->n + k) % NS_STALL_HISTORY;

		if (h->s[i].t <= now - window)
			old = (int)i;
		else {
			in = (int)i;
			break;
		}
	}
	if (old >= 0) {
		/* over more than a window (looks were apart: a long call), the stall is taken
		 * as spread evenly over it, as the kernel's trigger interpolates */
		j = (unsigned)old;
		scale = window / (now - h->s[j].t);
	} else if (in >= 0)
		j = (unsigned)in;
	else
		return false;
	for (unsigned i = 0; i < n; i++)
		if (cur[i] < h->s[j].tot[i] ||
		    (double)(cur[i] - h->s[j].tot[i]) / 1e6 * scale >= window * max_psi / 100.0)
			return true;
	return false;
}

/* The watched totals become the calm base. */
static int stall_rebase(struct ns_throttle *t)
{
	uint64_t cur[NS_PSI_TRIGGERS_MAX];
	int rc = stall_read(t, cur);

	if (rc < 0)
		return rc;
	memcpy(t->stall_last, cur, sizeof(cur[0]) * t->nstall);
	t->stall_at = ns_now();
	return 0;
}

int ns_throttle_stall_watch(struct ns_throttle *t, const char *file)
{
	struct ns_psi p;
	char *name;
	int fd, rc;

	if (t->max_psi <= 0)
		return -EINVAL;
	if (t->nstall == NS_PSI_TRIGGERS_MAX)
		return -ENOSPC;
	rc = ns_psi_open(t->root, file, &fd);
	if (rc < 0)
		return rc;
	name = strdup(file);
	if (!name) {
		close(fd);
		return -ENOMEM;
	}
	rc = ns_psi_read_fd(fd, name, &p);
	if (rc == 0 && !t->hist) {
		t->hist = calloc(1, sizeof(*t->hist));
		if (!t->hist)
			rc = -ENOMEM;
	}
	if (rc < 0) {
		free(name);
		close(fd);
		return rc;
	}
	t->stall_fd[t->nstall] = fd;
	t->stall_name[t->nstall] = name;
	t->stall_last[t->nstall] = p.some.total;
	t->nstall++;
	t->stall_at = ns_now();
	t->hist->n = t->hist->head = 0; /* a new column: the history starts again */
	return 0;
}

bool ns_stall_calm(const uint64_t *base, const uint64_t *cur, unsigned n, double elapsed, double max_psi)
{
	if (!(elapsed > 0))
		return false;
	for (unsigned i = 0; i < n; i++) {
		if (cur[i] < base[i])
			return false;
		/* totals are microseconds */
		if ((double)(cur[i] - base[i]) / 1e6 >= elapsed * max_psi / 100.0)
			return false;
	}
	return true;
}

static void triggers_close(struct ns_throttle *t)
{
	for (unsigned i = 0; i < t->ntrig; i++)
		close(t->trig_fd[i]);
	t->ntrig = 0;
}

void ns_throttle_fini(struct ns_throttle *t)
{
	triggers_close(t);
	for (unsigned i = 0; i < t->nstall; i++) {
		close(t->stall_fd[i]);
		free(t->stall_name[i]);
	}
	t->nstall = 0;
	free(t->hist);
	t->hist = NULL;
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
		triggers_close(t); /* the stall watch goes on */
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

/* The nap; with stall, the stall watch is read every 10 ms too, and the nap ends when a
 * watched total grew (or could not be read: the pressure check then finds out): true. */
static bool nap(struct ns_throttle *t, double seconds, bool stall)
{
	double end = ns_now() + seconds, most = stall && t->nstall ? 0.01 : 0.05;

	while (!ns_throttle_stopped(t)) {
		double left = end - ns_now(), slice;
		struct timespec ts;

		if (left <= 0)
			break;
		slice = left > most ? most : left;
		if (t->ntrig) {
			/* whole milliseconds, rounded up: poll(0) would spin */
			if (trig_wait(t, (int)(slice * 1000) + 1))
				break;
		} else {
			ts.tv_sec = 0;
			ts.tv_nsec = (long)(slice * 1e9);
			nanosleep(&ts, NULL);
		}
		if (stall && t->nstall) {
			uint64_t cur[NS_PSI_TRIGGERS_MAX];

			if (stall_read(t, cur) != 0)
				return true;
		}
	}
	return false;
}

void ns_throttle_nap(struct ns_throttle *t, double seconds)
{
	nap(t, seconds, false);
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

		bool grew = nap(t, ((double)bytes - t->tokens) / rate, true);

		now = ns_now();
		t->tokens += (now - t->t_tokens) * rate;
		t->t_tokens = now;
		if (t->trig_events != events || grew)
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

/* The stall watch's hold (see ns_throttle_stall_watch): 0 calm (at once, or after a hold),
 * 1 pressure (a trigger event came, or the stall in the last window reached max_psi%),
 * -errno when a watched file could not be read. */
#define HOLD_SLICE 0.005   /* between looks during a hold */
#define HOLD_QUIET 0.0099  /* no growth for this long (two looks): the stall has stopped */
#define HOLD_MEASURE 0.05 /* a rate measured over this long is trusted while the stall runs on */

/* The window the stall watch judges over: the triggers', or the kernel's least. */
static double hold_window(const struct ns_throttle *t)
{
	return t->trig_window > 0 ? t->trig_window : (double)NS_PSI_WINDOW_MIN_US / 1e6;
}

static int stall_hold(struct ns_throttle *t)
{
	uint64_t cur[NS_PSI_TRIGGERS_MAX], prev[NS_PSI_TRIGGERS_MAX], at_start[NS_PSI_TRIGGERS_MAX];
	double start, last_growth, since, window = hold_window(t);
	int rc;

	if (t->nstall == 0)
		return 0;
	rc = stall_read(t, cur);
	if (rc <= 0) {
		if (rc == 0)
			t->stall_at = ns_now();
		return rc;
	}
	start = last_growth = ns_now();
	memcpy(prev, cur, sizeof(cur[0]) * t->nstall);
	memcpy(at_start, cur, sizeof(cur[0]) * t->nstall);
	t->holds++;
	if (t->hold_first == 0)
		t->hold_first = start;
	for (;;) {
		double now = ns_now();

		if (memcmp(prev, cur, sizeof(cur[0]) * t->nstall) != 0) {
			last_growth = now;
			memcpy(prev, cur, sizeof(cur[0]) * t->nstall);
		}

		/* at the trigger's own threshold in the last window: pressure, now */
		if (ns_stall_window_over(t->hist, t->nstall, cur, now, window, t->max_psi)) {
			t->held += now - start;
			return 1;
		}
		/* calm: the stall has stopped (two looks without growth: a stall under way grows
		 * between looks) and is below the limit since the last calm look (over a window
		 * at most: a long call before this look must not dilute it); or the hold itself
		 * measured it below the limit over HOLD_MEASURE (a steady stall under the limit
		 * grows at every look); or a window held without reaching the limit in it, which
		 * is what the trigger calls calm */
		since = now - t->stall_at < window ? now - t->stall_at : window;
		if ((now - last_growth >= HOLD_QUIET &&
		     ns_stall_calm(t->stall_last, cur, t->nstall, since, t->max_psi)) ||
		    (now - start >= HOLD_MEASURE && ns_stall_calm(at_start, cur, t->nstall, now - start, t->max_psi)) ||
		    now - start >= window) {
			memcpy(t->stall_last, cur, sizeof(cur[0]) * t->nstall);
			t->stall_at = now;
			t->held += now - start;
			return 0;
		}
		if (t->trig_new || ns_throttle_stopped(t)) {
			t->held += now - start;
			return 1;
		}
		/* a blip of 1 ms at --max-psi 10 is calm again 10 ms after it began */
		nap(t, HOLD_SLICE, false);
		rc = stall_read(t, cur);
		if (rc < 0) {
			t->held += ns_now() - start;
			return rc;
		}
	}
}

bool ns_throttle_psi_ok(struct ns_throttle *t)
{
	struct ns_psi psi;
	int held;

	if (t->max_psi <= 0)
		return true;
	trig_wait(t, 0);
	held = stall_hold(t);
	if (held < 0) {
		t->psi_err = held;
		return false; /* fail closed, as for the averages */
	}
	if (held && !t->trig_new && !ns_throttle_stopped(t)) {
		/* held a whole window at max_psi% or more with no event (no trigger armed, or
		 * one the kernel has not fired yet): what an event would have said */
		t->trig_at = ns_now();
		t->trig_new = true;
	}
	if (!t->trig_new && t->psi_ok_at > 0 && ns_now() - t->psi_ok_at < 0.1)
		return true;
	for (bool paused = false;; paused = true) {
		double now;
		bool event;

		t->trig_new = false;
		t->psi_err = ns_psi_read(t->root, &psi);
		if (t->psi_err < 0)
			return false; /* fail closed: an unreadable PSI is no sign of calm */
		now = ns_now();
		if (t->nstall) {
			/* the stall watch renews the pressure as an event would, so the grace
			 * runs out on it with no trigger armed too */
			uint64_t cur[NS_PSI_TRIGGERS_MAX];

			t->psi_err = stall_read(t, cur);
			if (t->psi_err < 0)
				return false;
			t->psi_err = 0;
			if (ns_stall_window_over(t->hist, t->nstall, cur, now, hold_window(t), t->max_psi))
				t->trig_at = now;
		}
		/* while the stall lasts the kernel repeats the event once a window: two windows
		 * without one is calm again */
		event = t->trig_at > 0 && now - t->trig_at < 2 * hold_window(t);
		if (psi.some.avg10 <= t->max_psi && !event) {
			t->psi_since = 0;
			t->psi_ok_at = now;
			if (paused && t->nstall) {
				/* after a pause, the stall watch starts again from here */
				t->psi_err = stall_rebase(t);
				if (t->psi_err < 0)
					return false;
			}
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
		/* with the stall watch, in 10 ms slices that keep its history for the window */
		nap(t, 0.5, t->nstall > 0);
	}
}
