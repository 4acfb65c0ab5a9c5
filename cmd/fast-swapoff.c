/* fast-swapoff: page a swap device back in from userspace, throttled and headroom-checked,
 * then swapoff(2). The engine is not written yet (issue "fast-swapoff"); the interface is. */
#include "common.h"

static char *opt_rate, *opt_reserve, *opt_max_psi, *opt_grace, *opt_pid;
static int opt_all, opt_dry_run, opt_no_swapoff;

static struct poptOption options[] = {
	{"all", 'a', POPT_ARG_NONE, &opt_all, 0, "every active swap area, lowest priority first", NULL},
	{"rate", 'r', POPT_ARG_STRING, &opt_rate, 0, "bytes per second read back (default unlimited)", "SIZE"},
	{"reserve", '\0', POPT_ARG_STRING, &opt_reserve, 0, "memory that must stay available", "SIZE|PCT"},
	{"max-psi", '\0', POPT_ARG_STRING, &opt_max_psi, 0, "memory some avg10 that pauses paging in", "PCT"},
	{"psi-grace", '\0', POPT_ARG_STRING, &opt_grace, 0, "seconds of pressure tolerated", "SECONDS"},
	{"no-swapoff", '\0', POPT_ARG_NONE, &opt_no_swapoff, 0, "page in only, leave the device on", NULL},
	{"pid", 'p', POPT_ARG_STRING, &opt_pid, 0, "page in only this process (repeatable)", "PID"},
	{"dry-run", 'n', POPT_ARG_NONE, &opt_dry_run, 0, "print what would happen, change nothing", NULL},
	NS_COMMON_TABLE,
	POPT_TABLEEND,
};

int main(int argc, char **argv)
{
	poptContext ctx;

	ns_cli_init("fast-swapoff", argc, argv);
	ctx = poptGetContext("fast-swapoff", argc, (const char **)(void *)argv, options, 0);
	poptSetOtherOptionHelp(ctx, "[OPTIONS] (DEVICE... | --all)");
	while (ns_cli_next(ctx) >= 0)
		;
	poptFreeContext(ctx);
	ns_not_implemented();
}
