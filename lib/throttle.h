/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pacing and pressure watching shared by the engines that move memory (migrate, swapoff):
 * a token bucket for --rate, and a PSI watch that tolerates pressure for a grace period,
 * optionally warned early by kernel PSI triggers. */
#ifndef NS_LIB_THROTTLE_H
#define NS_LIB_THROTTLE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "numasafe/psi.h"

/* The stall watch's history: the watched totals, a sample every 4 ms or more, for the stall
 * over the last trigger window (512 samples: 2 s, the longest window armed). */
#define NS_STALL_HISTORY 512
#define NS_STALL_SPACING 0.004
struct ns_stall_hist {
	unsigned n, head; /* samples kept; where the next goes */
	struct {
		double t;
		uint64_t tot[NS_PSI_TRIGGERS_MAX];
	} s[NS_STALL_HISTORY];
};

struct ns_throttle {
	const char *root;
	uint64_t rate; /* bytes per second, 0 = unlimited */
	double max_psi, grace;
	volatile sig_atomic_t *stop; /* counts stop requests (a signal handler increments it) */
	sig_atomic_t stop_at;	     /* stopped once *stop reaches this: 1 (init); the migration
				      * engine's rollback sets 2, so only a second request ends it */
	double tokens, t_tokens, psi_since;
	double psi_ok_at; /* when PSI was last read and found fine */
	int psi_err;	  /* why the last reading failed (-errno), 0 when it did not */
	/* kernel PSI triggers (ns_throttle_trigger): an event pauses at once; pressure counts as
	 * present until two windows pass without one */
	int trig_fd[NS_PSI_TRIGGERS_MAX];
	unsigned ntrig;
	double trig_window; /* seconds */
	double trig_at;	    /* when the last event was seen; 0: none yet */
	bool trig_new;	    /* an event the pressure check has not looked at yet */
	uint64_t trig_events;
	double psi_first; /* when pressure (event or average) was first seen; 0: never */
	/* the stall watch (ns_throttle_stall_watch): the "some" totals of pressure files, read
	 * before every chunk; growth since the last calm reading holds the caller */
	int stall_fd[NS_PSI_TRIGGERS_MAX];
	char *stall_name[NS_PSI_TRIGGERS_MAX];
	unsigned nstall;
	uint64_t stall_last[NS_PSI_TRIGGERS_MAX]; /* the totals at the last calm reading */
	double stall_at;			   /* its time */
	struct ns_stall_hist *hist;		   /* allocated with the first file */
	uint64_t holds;				   /* holds begun */
	double hold_first;			   /* when the first began; 0: never */
	double held;				   /* seconds held, all holds */
};

double ns_now(void);
/* 0; or, when PSI is watched (max_psi > 0), the error of a first reading of it (ns_psi_read:
 * -ENOENT no PSI in the kernel, -EOPNOTSUPP disabled, -EINVAL/-ERANGE damaged, with the
 * detail): a run must not start with a pressure check that cannot work. */
int ns_throttle_init(struct ns_throttle *t, const char *root, uint64_t rate, double max_psi, double grace,
		     volatile sig_atomic_t *stop);
/* Arm a kernel PSI trigger on the pressure file root+file, "some" stall of max_psi% of a
 * window of window_us (NS_PSI_WINDOW_MIN_US..MAX), as an early warning for the PSI watch.
 * 0, or the error of ns_psi_trigger_open (the watch then goes on sampling alone). Only with
 * max_psi > 0; at most NS_PSI_TRIGGERS_MAX (-ENOSPC). */
int ns_throttle_trigger(struct ns_throttle *t, const char *file, uint64_t window_us);
/* Watch the "some" total of the pressure file root+file between chunks (max_psi > 0 only; at
 * most NS_PSI_TRIGGERS_MAX files, -ENOSPC). Any stall since the last check holds the caller
 * in ns_throttle_psi_ok: no chunk goes until the stall since the last calm reading is below
 * max_psi% of the time since, and the stall has stopped (10 ms without growth; a blip of 1 ms
 * is a hold of about 10 ms) or that time is 50 ms at least (a steady stall under the limit).
 * The stall in the last trigger window (0.5 s) reaching max_psi% of it is pressure, as a
 * trigger event would be; a hold that lasts a window without that ends calm. So a stall is
 * seen at the next chunk, where a kernel trigger speaks only at its next poll (the kernel's
 * first poll comes 50 ms after a stall begins). 0, or the error of ns_psi_open /
 * ns_psi_read_fd, or -ENOMEM. */
int ns_throttle_stall_watch(struct ns_throttle *t, const char *file);
/* The hold's arithmetic (exposed for unit tests): true when, for each of n files, the stall
 * grown from base[i] to cur[i] over elapsed seconds is below max_psi% of elapsed. A total
 * that went back, or no time elapsed, is not calm. */
bool ns_stall_calm(const uint64_t *base, const uint64_t *cur, unsigned n, double elapsed, double max_psi);
/* Keep the totals of n files read at t (skipped within NS_STALL_SPACING of the last kept). */
void ns_stall_hist_push(struct ns_stall_hist *h, unsigned n, double t, const uint64_t *tot);
/* True when, for one of n files, the stall in the last window up to cur reaches max_psi% of
 * it (what a trigger of that window would fire on), or its total went back. The stall is
 * taken from the newest sample a window old or older, scaled to the window when that sample
 * is older still (spread evenly, as the kernel interpolates); with no such sample, from the
 * oldest one. False with no sample. */
bool ns_stall_window_over(const struct ns_stall_hist *h, unsigned n, const uint64_t *cur, double now, double window,
			  double max_psi);
/* Close the triggers and the stall watch. */
void ns_throttle_fini(struct ns_throttle *t);
bool ns_throttle_stopped(const struct ns_throttle *t);
/* Sleep in short slices so a stop request is seen within ~50 ms; with triggers armed, the
 * sleep is a wait on them and ends at the first event. */
void ns_throttle_nap(struct ns_throttle *t, double seconds);
/* Wait until bytes may go (token bucket holding a tenth of a second, or one chunk). */
void ns_throttle_pace(struct ns_throttle *t, uint64_t bytes);
/* The same, but a trigger event during the wait ends it: false, and nothing is taken from
 * the bucket (the caller checks the pressure, then paces again). */
bool ns_throttle_pace_watch(struct ns_throttle *t, uint64_t bytes);
/* Wait out memory "some" avg10 above max_psi for up to the grace period. false: pressure
 * persists past it, or PSI could not be read (then psi_err holds the error and
 * ns_error_detail() says why): without a reading the run cannot know it is safe, so it stops
 * as under pressure. With max_psi <= 0 (PSI not watched) always true. A fine reading is
 * trusted for 0.1 s (the kernel updates avg10 only every 2 s), unless a trigger event came
 * since. Pressure is avg10 above max_psi, or a trigger event in the last two windows: an
 * event pauses the caller at once, and the grace runs from there. With the stall watch, any
 * stall since the last call holds first (see ns_throttle_stall_watch); a watched file that
 * cannot be read stops the run as PSI that cannot be read does. */
bool ns_throttle_psi_ok(struct ns_throttle *t);

#endif
