/* SPDX-License-Identifier: GPL-2.0-or-later */
/* numa-plan's subcommands, dispatched from a table (cmd/numa-plan.c): each has its options,
 * its usage line and a run function that fills one document. */
#ifndef NSC_PLAN_H
#define NSC_PLAN_H

#include "nsc.h"
#include "numasafe/locality.h"

struct nsc_subcmd {
	const char *name;
	const char *summary; /* one line for the list of subcommands */
	const char *usage; /* what follows "numa-plan NAME" in the usage line */
	struct poptOption *options;
	/* Parse the remaining options from ctx, do the work, print text (unless --json or
	 * --quiet), fill *doc; returns the exit code. */
	int (*run)(struct nsc *c, poptContext ctx, struct json_object **doc);
};

extern const struct nsc_subcmd nsc_plan_show, nsc_plan_steal, nsc_plan_check, nsc_plan_rebalance, nsc_plan_place;
extern const struct nsc_subcmd nsc_plan_metrics;

/* --root DIR: read /proc and /sys under DIR (fixture trees for tests; reads only). */
extern char *nsc_plan_root;
#define NSC_ROOT_OPTION                                                                                                \
	{                                                                                                              \
		"root", '\0', POPT_ARG_STRING | POPT_ARGFLAG_DOC_HIDDEN, &nsc_plan_root, 0,                            \
			"read /proc and /sys under DIR (fixture trees, for tests)", "DIR"                              \
	}

/* What show and steal know about a VM beyond discovery: where its vCPU threads may run, its
 * memory, its locality (one definition: numasafe/locality.h). */
struct nsc_vm_view {
	struct ns_vm *vm;
	struct nsc_vmid id;
	struct ns_set cpu_nodes;
	struct ns_proc_usage *u; /* NULL when its memory could not be read */
	int u_rc;
	struct ns_locality loc;
};
/* Name on stderr each view whose memory could not be read (it is listed without). */
void nsc_vm_views_report(const struct nsc *c, const struct nsc_vm_view *v, int n);
int nsc_vm_views_read(const struct ns_topo *t, struct ns_vm *vms, int n, struct nsc_vm_view **out);
void nsc_vm_views_free(struct nsc_vm_view *v, int n);

/* --cpu-overcommit and --sample of rebalance and place, each when given (NULL: *overcommit and
 * *sample keep their defaults); a bad value is a usage error naming the option. */
void nsc_opt_demand(struct nsc *c, const char *overcommit_arg, const char *sample_arg, double *overcommit,
		    double *sample);
/* Gather the planner's input (rebalance, place): nodes, VMs, demand over sample seconds (0:
 * none), the vCPU cap times overcommit. Returns the exit code of a reported failure. */
struct ns_plan_in;
int nsc_gather(struct nsc *c, const struct ns_amount *reserve, const struct ns_set *exclude, double sample,
	       double overcommit, struct ns_plan_in *in, int *skipped);

#define NSC_NO_THREAD_NAMES "no thread names: start QEMU with -name NAME,debug-threads=on"

#endif
