/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Executing a numa-plan rebalance plan (numa-migrate --plan, vm-pin --plan): per step, pin the
 * VM to the node's CPUs, then move its memory there; stop at the first step that is not done. */
#ifndef NSC_PLANRUN_H
#define NSC_PLANRUN_H

#include "nsc.h"

struct nsc_plan_run {
	const char *file;
	const struct ns_topo *topo;
	struct ns_set exclude; /* CPUs not to pin to */
	const struct ns_amount *reserve;
	bool dry_run;
};

/* Returns the exit code: 0 every step done; the failing step's own code (1 or 4) when it was
 * the first to change anything; 5 when earlier steps were done (the plan stopped partway:
 * running it again completes it). *doc gets the numasafe-plan-run document. */
int nsc_plan_run(struct nsc *c, const struct nsc_plan_run *run, struct json_object **doc);

#endif
