/* SPDX-License-Identifier: GPL-2.0-or-later */
/* numa-migrate: move a process's or domain's memory to a node in throttled chunks, with a
 * headroom preflight, pressure watch and rollback; or execute a numa-plan rebalance plan. The
 * engine is lib/migrate.c and the shared move is cmd/move.c; this file parses options. */
#include <stdio.h>
#include <string.h>

#include "move.h"
#include "planrun.h"

static struct {
	char *to, *from, *chunk, *jobs, *on_pressure, *plan;
	int all_shared, dry_run;
} opt;

static struct poptOption options[] = {
	{"to", 't', POPT_ARG_STRING, &opt.to, 0, "target node(s): a list like 1, 0-1, all, !0", "NODES"},
	{"from", 'f', POPT_ARG_STRING, &opt.from, 0, "move only pages now on these nodes (default: all others)",
	 "NODES"},
	{"chunk", '\0', POPT_ARG_STRING, &opt.chunk, 0,
	 "pages per move_pages call, 1-16384 (default adaptive: ~20 ms a call, ~10 with 2+ jobs)", "PAGES"},
	{"jobs", 'j', POPT_ARG_STRING, &opt.jobs, 0,
	 "move_pages calls in flight at once, 1-16 (default 2, 1 on a 1-CPU host)", "N"},
	{"on-pressure", '\0', POPT_ARG_STRING, &opt.on_pressure, 0,
	 "rollback (default: exit 4, nothing moved) or stop (exit 5, what moved stays)", "rollback|stop"},
	{"all-shared", '\0', POPT_ARG_NONE, &opt.all_shared, 0,
	 "also move pages shared with other processes (needs CAP_SYS_NICE)", NULL},
	{"plan", '\0', POPT_ARG_STRING, &opt.plan, 0, "execute a numa-plan rebalance plan (pin, then move)", "FILE"},
	{"dry-run", 'n', POPT_ARG_NONE, &opt.dry_run, 0, "the preflight and its verdict only, change nothing", NULL},
	NSC_RESERVE_TABLE,
	NSC_THROTTLE_TABLE,
	NSC_TARGET_TABLE,
	NSC_VM_TABLE,
	NSC_COMMON_TABLE,
	POPT_TABLEEND,
};

int main(int argc, char **argv)
{
	struct nsc cli, *c = &cli;
	struct ns_mig_opts o;
	struct ns_amount reserve;
	struct ns_topo *topo = NULL;
	struct json_object *doc = NULL;
	struct nsc_target tg;
	struct nsc_move mv;
	const char **args;
	int nargs, rc;
	poptContext ctx;

	nsc_init(c, "numa-migrate", argc, argv);
	ns_numa_init();
	ns_mig_opts_init(&o);
	memset(&tg, 0, sizeof(tg));
	ctx = poptGetContext("numa-migrate", argc, (const char **)(void *)argv, options, 0);
	poptSetOtherOptionHelp(ctx, "[OPTIONS] --to NODES (PID | --domain NAME)\n"
				    "       numa-migrate [OPTIONS] --plan FILE");
	while (nsc_next(c, ctx) >= 0)
		;
	args = nsc_args(ctx, &nargs);
	c->record = !opt.dry_run;
	if (opt.plan &&
	    (opt.to || opt.from || nargs || c->domain || opt.chunk || opt.jobs || opt.on_pressure || opt.all_shared))
		nsc_usage(c, "--plan takes the targets and nodes from the plan file (only --reserve, --dry-run and "
			     "the common options go with it)");
	if (!opt.plan && !opt.to)
		nsc_usage(c, "--to is required");
	if (nargs > 1)
		nsc_usage(c, "too many arguments ('%s')", args[1]);
	rc = nsc_topo(c, NULL, &topo);
	if (rc != NS_EXIT_OK)
		goto out;
	o.reserve = nsc_reserve(c, topo, &reserve);
	if (opt.plan) {
		struct nsc_plan_run run = {.file = opt.plan,
					   .topo = topo,
					   .reserve = o.reserve,
					   .dry_run = opt.dry_run};

		ns_set_clear(&run.exclude);
		rc = nsc_plan_run(c, &run, &doc);
		goto out;
	}
	nsc_opt_to_from(c, opt.to, opt.from, topo, &o);
	nsc_throttle(c, &o.rate, &o.max_psi, &o.psi_grace);
	if (opt.chunk)
		o.chunk = (unsigned)nsc_opt_uint(c, "--chunk", opt.chunk, 1, NSC_CHUNK_MAX);
	if (opt.jobs)
		o.jobs = (unsigned)nsc_opt_uint(c, "--jobs", opt.jobs, 1, NSC_JOBS_MAX);
	if (opt.on_pressure) {
		if (strcmp(opt.on_pressure, "rollback") == 0)
			o.rollback = true;
		else if (strcmp(opt.on_pressure, "stop") == 0)
			o.rollback = false;
		else
			nsc_usage(c, "--on-pressure: '%s' is neither rollback nor stop", opt.on_pressure);
	}
	o.all_shared = opt.all_shared;
	rc = nsc_target(c, nargs ? args[0] : NULL, NSC_TG_ANY_PROCESS | NSC_TG_LOCAL, &tg);
	if (rc != NS_EXIT_OK)
		goto out;
	rc = nsc_move_run(c, &tg, &o, opt.dry_run, &mv);
	if (mv.check.complete)
		doc = nsc_move_json(&mv, opt.dry_run);
out:
	nsc_target_release(&tg);
	ns_topo_free(topo);
	poptFreeContext(ctx);
	return nsc_finish(c, rc, doc);
}
