/* vm-pin: pin a VM's vCPU, emulator and I/O threads (and memory policy) to a node.
 * Not written yet (issue "vm-pin"); the interface is, so --help tells what is coming. */
#include "common.h"

static char *opt_node, *opt_cpus, *opt_vcpus, *opt_exclude, *opt_plan;
static int opt_show, opt_no_emulator, opt_iothreads, opt_spread, opt_mem, opt_weight, opt_config, opt_dry_run;

static struct poptOption options[] = {
	{"node", '\0', POPT_ARG_STRING, &opt_node, 0, "pin to these nodes' CPUs", "NODES"},
	{"cpus", '\0', POPT_ARG_STRING, &opt_cpus, 0, "pin to these CPUs", "LIST"},
	{"show", '\0', POPT_ARG_NONE, &opt_show, 0, "show the pinning of one VM or every VM", NULL},
	{"vcpus", '\0', POPT_ARG_STRING, &opt_vcpus, 0, "which vCPUs (default all)", "LIST"},
	{"no-emulator", '\0', POPT_ARG_NONE, &opt_no_emulator, 0, "leave emulator threads alone", NULL},
	{"iothreads", '\0', POPT_ARG_NONE, &opt_iothreads, 0, "pin I/O threads too", NULL},
	{"exclude-cpus", '\0', POPT_ARG_STRING, &opt_exclude, 0, "CPUs reserved for the host", "LIST"},
	{"spread", '\0', POPT_ARG_NONE, &opt_spread, 0, "one vCPU per CPU, cores before siblings", NULL},
	{"mem", '\0', POPT_ARG_NONE, &opt_mem, 0, "also move the memory and set the policy", NULL},
	{"weight", '\0', POPT_ARG_NONE, &opt_weight, 0, "CPU weight proportional to vCPUs", NULL},
	{"config", '\0', POPT_ARG_NONE, &opt_config, 0, "also persist in the domain definition", NULL},
	{"plan", '\0', POPT_ARG_STRING, &opt_plan, 0, "execute a numa-plan rebalance plan", "FILE"},
	{"dry-run", 'n', POPT_ARG_NONE, &opt_dry_run, 0, "print what would change, change nothing", NULL},
	NS_TARGET_TABLE,
	NS_COMMON_TABLE,
	POPT_TABLEEND,
};

int main(int argc, char **argv)
{
	poptContext ctx;

	ns_cli_init("vm-pin", argc, argv);
	ctx = poptGetContext("vm-pin", argc, (const char **)(void *)argv, options, 0);
	poptSetOtherOptionHelp(ctx, "[OPTIONS] (PID | --domain NAME) (--node NODES | --cpus LIST)");
	while (ns_cli_next(ctx) >= 0)
		;
	poptFreeContext(ctx);
	ns_not_implemented();
}
