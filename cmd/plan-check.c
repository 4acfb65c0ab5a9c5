/* SPDX-License-Identifier: GPL-2.0-or-later */
/* numa-plan check: the verdict numa-migrate would reach on a move, without moving. The same
 * preflight, report, messages and exit codes as numa-migrate --dry-run (cmd/move.c). */
#include <string.h>

#include "move.h"
#include "plan.h"

static struct {
	char *to, *from;
} opt;

static struct poptOption options[] = {
	{"to", 't', POPT_ARG_STRING, &opt.to, 0, "target node(s): a list like 1, 0-1, all, !0", "NODES"},
	{"from", 'f', POPT_ARG_STRING, &opt.from, 0, "only pages now on these nodes (default: all others)", "NODES"},
	NSC_RESERVE_TABLE,
	NSC_TARGET_TABLE,
	NSC_VM_TABLE,
	NSC_COMMON_TABLE,
	POPT_TABLEEND,
};

static int run(struct nsc *c, poptContext ctx, struct json_object **doc)
{
	struct ns_mig_opts o;
	struct ns_amount reserve;
	struct ns_topo *t = NULL;
	struct nsc_target tg;
	struct nsc_check chk;
	const char **args;
	int nargs, rc;

	ns_mig_opts_init(&o);
	memset(&tg, 0, sizeof(tg));
	while (nsc_next(c, ctx) >= 0)
		;
	args = nsc_args(ctx, &nargs);
	if (!opt.to)
		nsc_usage(c, "check: --to is required");
	if (nargs > 1)
		nsc_usage(c, "check: too many arguments ('%s')", args[1]);
	rc = nsc_topo(c, NULL, &t);
	if (rc != NS_EXIT_OK)
		return rc;
	nsc_opt_to_from(c, opt.to, opt.from, t, &o);
	o.reserve = nsc_reserve(c, t, &reserve);
	/* the preflight's scans stop on a request (handlers: nsc_init) */
	o.stop = &nsc_stop_requests;
	rc = nsc_target(c, nargs ? args[0] : NULL, NSC_TG_ANY_PROCESS | NSC_TG_LOCAL, &tg);
	if (rc != NS_EXIT_OK)
		goto out;
	rc = nsc_check_run(c, &tg, &o, &chk);
	nsc_check_text(c, &chk);
	if (chk.complete)
		*doc = nsc_check_json(&chk);
out:
	nsc_target_release(&tg);
	ns_topo_free(t);
	return rc;
}

const struct nsc_subcmd nsc_plan_check = {
	.name = "check",
	.summary = "the verdict numa-migrate would reach on a move (exit 0 safe, 4 unsafe)",
	.usage = "--to NODES [OPTIONS] (PID | --domain NAME)",
	.options = options,
	.run = run,
};
