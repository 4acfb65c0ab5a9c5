/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The outcome of a run that changed things, kept as the command's last run for monitoring
 * (numa-plan metrics reads it back): called once, from nsc_finish, the one exit path. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nsc.h"
#include "numasafe/state.h"

void nsc_last_run_record(struct nsc *c, int rc)
{
	struct ns_last_run r;
	struct timespec now, mono;
	int err;

	/* the record is root's (the timers, cron): another user could not write it, and the
	 * commands that change things need root anyway */
	if (geteuid() != 0)
		return;
	memset(&r, 0, sizeof(r));
	/* "numa-migrate"; numa-plan records nothing, so a subcommand's name never gets here */
	snprintf(r.command, sizeof(r.command), "%s", c->prog);
	r.code = rc;
	if (rc != NS_EXIT_OK)
		snprintf(r.reason, sizeof(r.reason), "%s", c->reason ? c->reason : NSC_R_FAILED);
	clock_gettime(CLOCK_REALTIME, &now);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	r.time = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	r.duration = (double)mono.tv_sec + (double)mono.tv_nsec / 1e9 - c->start;
	if (r.duration < 0)
		r.duration = 0;
	err = ns_last_run_write(&r);
	/* the change is done or not whatever happens here: the exit code stays the change's */
	if (err < 0)
		nsc_err(c, "warning: the outcome was not recorded for monitoring: %s",
			ns_error_detail()[0] ? ns_error_detail() : strerror(-err));
}
