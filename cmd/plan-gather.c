/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What rebalance and place both read from the host before they plan: every node and VM, with
 * each VM's CPU demand measured over a window (ns_plan_gather), the vCPU cap scaled by
 * --cpu-overcommit; a signal ends the window early and the command with it. */
#include <errno.h>

#include "numasafe/plan.h"
#include "plan.h"

void nsc_opt_demand(struct nsc *c, const char *overcommit_arg, const char *sample_arg, double *overcommit,
		    double *sample)
{
	if (overcommit_arg)
		*overcommit = nsc_opt_double(c, "--cpu-overcommit", overcommit_arg, 1, NSC_OVERCOMMIT_MAX);
	if (sample_arg)
		*sample = nsc_opt_double(c, "--sample", sample_arg, 0, NSC_INTERVAL_MAX);
	if (*sample > 0 && *sample < NSC_INTERVAL_MIN)
		nsc_usage(c, "--sample: at least %g seconds (or 0: by vCPU counts alone)", NSC_INTERVAL_MIN);
}

int nsc_gather(struct nsc *c, const struct ns_amount *reserve, const struct ns_set *exclude, double sample,
	       double overcommit, struct ns_plan_in *in, int *skipped)
{
	int rc;

	nsc_signals_catch();
	rc = nsc_vm_setup(c);
	if (rc != NS_EXIT_OK)
		return rc;
	rc = ns_plan_gather(nsc_plan_root, reserve, exclude, sample, &nsc_stop_requests, in, skipped);
	if (rc == -EINTR)
		return nsc_fail(c, NS_EXIT_REFUSED, NSC_R_SIGNAL,
				"interrupted while measuring CPU demand: nothing planned");
	if (rc == -EOPNOTSUPP)
		return nsc_fail(c, NS_EXIT_UNSUPPORTED, NSC_R_UNSUPPORTED,
				"this kernel has no /proc/PID/task/TID/schedstat to measure CPU demand with: give "
				"--sample 0 "
				"to plan by vCPU counts alone");
	if (rc < 0)
		return nsc_fail_errno(c, rc, NULL, "gathering the VMs");
	if (in->ignored_owner + in->ignored_exe)
		nsc_info(c, "ignored %d look-alike%s (owner: %d, executable: %d)", in->ignored_owner + in->ignored_exe,
			 in->ignored_owner + in->ignored_exe == 1 ? "" : "s", in->ignored_owner, in->ignored_exe);
	for (int i = 0; i < in->nr_nodes; i++)
		in->nodes[i].cpus = (int)((double)in->nodes[i].cpus * overcommit);
	return NS_EXIT_OK;
}
