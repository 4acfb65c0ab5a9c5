/* SPDX-License-Identifier: GPL-2.0-or-later */
/* numa-plan: the operator's view of the host's NUMA memory and VMs (show), the steal its VMs
 * see (steal), the verdict on a move (check), whole-host plans (rebalance), and the same facts
 * for Prometheus (metrics). A table of subcommands; each lives in its own file (cmd/plan-*.c). */
#include <stdio.h>
#include <string.h>

#include "plan.h"

char *nsc_plan_root;

static const struct nsc_subcmd *const subcmds[] = {
	&nsc_plan_show, &nsc_plan_steal, &nsc_plan_check, &nsc_plan_rebalance, &nsc_plan_place, &nsc_plan_metrics,
};
#define NR_SUBCMDS (sizeof(subcmds) / sizeof(subcmds[0]))

int main(int argc, char **argv)
{
	static char name[64];
	const struct nsc_subcmd *sub = subcmds[0];
	struct nsc cli, *c = &cli;
	struct json_object *doc = NULL;
	char usage[2048];
	size_t off = 0;
	poptContext ctx;
	int rc, first = 1;

	nsc_init(c, "numa-plan", argc, argv);
	ns_numa_init();
	/* "numa-plan" alone means "numa-plan show"; a subcommand is the first word, and a first
	 * word that is a number is show's PID ("numa-plan 4242") */
	if (argc > 1 && argv[1][0] != '-' && !(argv[1][0] >= '0' && argv[1][0] <= '9')) {
		sub = NULL;
		for (size_t i = 0; i < NR_SUBCMDS; i++)
			if (strcmp(argv[1], subcmds[i]->name) == 0)
				sub = subcmds[i];
		if (!sub) {
			char list[256] = "";

			for (size_t i = 0; i < NR_SUBCMDS; i++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
					 subcmds[i]->name);
			nsc_usage(c, "unknown command '%s' (%s)", argv[1], list);
		}
		first = 2;
	}
	/* popt's "Usage:" line names argv[0]: the subcommand's own name there */
	if (first == 2) {
		snprintf(name, sizeof(name), "numa-plan %s", sub->name);
		argv[1] = name;
	}
	ctx = poptGetContext(argv[first - 1], argc - first + 1, (const char **)(void *)argv + first - 1, sub->options,
			     0);
	if (sub == subcmds[0]) {
		/* show, the default, lists the other subcommands in its usage */
		off += (size_t)snprintf(usage + off, sizeof(usage) - off,
					"%s%s\n       numa-plan COMMAND [OPTIONS], COMMAND one of:",
					first == 1 ? "[show] " : "", sub->usage);
		for (size_t i = 0; i < NR_SUBCMDS && off < sizeof(usage); i++)
			off += (size_t)snprintf(usage + off, sizeof(usage) - off, "\n         %-10s %s",
						subcmds[i]->name, subcmds[i]->summary);
		if (off < sizeof(usage))
			snprintf(usage + off, sizeof(usage) - off,
				 "\n       'numa-plan COMMAND --help' shows its options");
		poptSetOtherOptionHelp(ctx, usage);
	} else
		poptSetOtherOptionHelp(ctx, sub->usage);
	rc = sub->run(c, ctx, &doc);
	poptFreeContext(ctx);
	return nsc_finish(c, rc, doc);
}
