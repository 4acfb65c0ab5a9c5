/* numa-migrate: move a process's or domain's memory to a node in throttled chunks.
 * Its engine is not written yet (issue "numa-migrate"); the interface is, so --help tells
 * the truth about what is coming, and any real use says "not implemented yet", exit 3. */
#include "common.h"

static char *opt_to, *opt_from, *opt_rate, *opt_reserve, *opt_max_psi, *opt_grace, *opt_on_pressure, *opt_plan;
static int opt_chunk, opt_all_shared, opt_dry_run;

static struct poptOption options[] = {
	{"to", 't', POPT_ARG_STRING, &opt_to, 0, "target node(s)", "NODES"},
	{"from", 'f', POPT_ARG_STRING, &opt_from, 0, "move only pages now on these nodes", "NODES"},
	{"rate", 'r', POPT_ARG_STRING, &opt_rate, 0, "bytes per second (default unlimited)", "SIZE"},
	{"chunk", '\0', POPT_ARG_INT, &opt_chunk, 0, "pages per move_pages call (default adaptive)", "PAGES"},
	{"reserve", '\0', POPT_ARG_STRING, &opt_reserve, 0, "headroom kept on each target", "SIZE|PCT"},
	{"max-psi", '\0', POPT_ARG_STRING, &opt_max_psi, 0, "memory some avg10 that pauses the move", "PCT"},
	{"psi-grace", '\0', POPT_ARG_STRING, &opt_grace, 0, "seconds of pressure tolerated", "SECONDS"},
	{"on-pressure", '\0', POPT_ARG_STRING, &opt_on_pressure, 0, "rollback or stop", "rollback|stop"},
	{"all-shared", '\0', POPT_ARG_NONE, &opt_all_shared, 0, "also move pages shared with other processes", NULL},
	{"plan", '\0', POPT_ARG_STRING, &opt_plan, 0, "execute a numa-plan rebalance plan", "FILE"},
	{"dry-run", 'n', POPT_ARG_NONE, &opt_dry_run, 0, "print the plan and verdict, change nothing", NULL},
	NS_TARGET_TABLE,
	NS_COMMON_TABLE,
	POPT_TABLEEND,
};

int main(int argc, char **argv)
{
	poptContext ctx;

	ns_cli_init("numa-migrate", argc, argv);
	ctx = poptGetContext("numa-migrate", argc, (const char **)(void *)argv, options, 0);
	poptSetOtherOptionHelp(ctx, "[OPTIONS] --to NODES (PID | --domain NAME)");
	while (ns_cli_next(ctx) >= 0)
		;
	poptFreeContext(ctx);
	ns_not_implemented();
}
