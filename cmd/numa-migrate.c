/* numa-migrate: move a process's or domain's memory to a node in throttled chunks, with a
 * headroom preflight, pressure watch and rollback. The engine is lib/migrate.c; this file
 * parses, prints and maps the outcome to exit codes. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "move.h"
#include "vmops.h"

static char *opt_to, *opt_from, *opt_rate, *opt_reserve, *opt_max_psi, *opt_grace, *opt_on_pressure, *opt_plan;
static int opt_chunk = -1, opt_jobs = -1, opt_all_shared, opt_dry_run;

static struct poptOption options[] = {
	{"to", 't', POPT_ARG_STRING, &opt_to, 0, "target node(s)", "NODES"},
	{"from", 'f', POPT_ARG_STRING, &opt_from, 0, "move only pages now on these nodes (default: all others)",
	 "NODES"},
	{"rate", 'r', POPT_ARG_STRING, &opt_rate, 0, "bytes per second (default unlimited)", "SIZE"},
	{"chunk", '\0', POPT_ARG_INT, &opt_chunk, 0,
	 "pages per move_pages call (default adaptive: ~20 ms a call, ~10 with 2+ jobs)", "PAGES"},
	{"jobs", 'j', POPT_ARG_INT, &opt_jobs, 0, "move_pages calls in flight at once (default 2, 1 on a 1-CPU host)",
	 "N"},
	{"reserve", '\0', POPT_ARG_STRING, &opt_reserve, 0,
	 "headroom kept on each target above its high watermark (default max(256M, 2%))", "SIZE|PCT"},
	{"max-psi", '\0', POPT_ARG_STRING, &opt_max_psi, 0, "memory some avg10 that pauses the move (default 10)",
	 "PCT"},
	{"psi-grace", '\0', POPT_ARG_STRING, &opt_grace, 0, "seconds of pressure tolerated before stopping (default 10)",
	 "SECONDS"},
	{"on-pressure", '\0', POPT_ARG_STRING, &opt_on_pressure, 0, "rollback (default) or stop", "rollback|stop"},
	{"all-shared", '\0', POPT_ARG_NONE, &opt_all_shared, 0,
	 "also move pages shared with other processes (needs CAP_SYS_NICE)", NULL},
	{"plan", '\0', POPT_ARG_STRING, &opt_plan, 0, "execute a numa-plan rebalance plan (pin, then move)",
	 "FILE"},
	{"dry-run", 'n', POPT_ARG_NONE, &opt_dry_run, 0, "print the plan and verdict, change nothing", NULL},
	NS_TARGET_TABLE,
	NS_COMMON_TABLE,
	POPT_TABLEEND,
};

int main(int argc, char **argv)
{
	struct ns_mig_opts o;
	struct ns_amount reserve;
	struct ns_topo *topo = NULL;
	struct json_object *js = NULL;
	const char **args;
	int nargs, rc;
	pid_t pid;
	poptContext ctx;

	ns_cli_init("numa-migrate", argc, argv);
	ns_numa_init();
	ns_mig_opts_init(&o);
	ctx = poptGetContext("numa-migrate", argc, (const char **)(void *)argv, options, 0);
	poptSetOtherOptionHelp(ctx, "[OPTIONS] --to NODES (PID | --domain NAME)");
	while (ns_cli_next(ctx) >= 0)
		;
	args = ns_cli_args(ctx, &nargs);
	if (opt_plan) {
		if (opt_to || opt_from || nargs || ns_cli.domain)
			ns_usage("--plan takes the targets and nodes from the plan file");
		rc = ns_topo_read(NULL, &topo);
		if (rc < 0) {
			ns_errno_detail(rc, "reading the host's NUMA topology");
			return ns_cli_exit(NS_EXIT_FAIL);
		}
		if (ns_cli.json) {
			js = json_object_new_object();
			json_object_object_add(js, "version", json_object_new_int(1));
		}
		{
			struct ns_set none;

			ns_set_clear(&none);
			if (opt_reserve)
				ns_opt_amount("--reserve", opt_reserve, &reserve);
			rc = ns_plan_run(opt_plan, topo, &none, opt_reserve ? &reserve : NULL, opt_dry_run, js);
		}
		goto out;
	}
	if (!opt_to)
		ns_usage("--to is required");
	if (nargs > 1)
		ns_usage("too many arguments ('%s')", args[1]);
	rc = ns_topo_read(NULL, &topo);
	if (rc < 0) {
		ns_errno_detail(rc, "reading the host's NUMA topology");
		return ns_cli_exit(NS_EXIT_FAIL);
	}
	ns_opt_nodes("--to", opt_to, &o.to, ns_topo_nodes(topo));
	if (opt_from)
		ns_opt_nodes("--from", opt_from, &o.from, ns_topo_nodes(topo));
	if (opt_rate)
		o.rate = ns_opt_size("--rate", opt_rate, false);
	if (opt_chunk != -1 && (opt_chunk < 1 || opt_chunk > 16384))
		ns_usage("--chunk: must be between 1 and 16384 pages");
	o.chunk = opt_chunk > 0 ? (unsigned)opt_chunk : 0;
	if (opt_jobs != -1 && (opt_jobs < 1 || opt_jobs > 16))
		ns_usage("--jobs: must be between 1 and 16");
	o.jobs = opt_jobs > 0 ? (unsigned)opt_jobs : 0;
	if (opt_reserve) {
		ns_opt_amount("--reserve", opt_reserve, &reserve);
		o.reserve = &reserve;
	}
	if (opt_max_psi)
		o.max_psi = ns_opt_double("--max-psi", opt_max_psi, 100);
	if (opt_grace)
		o.psi_grace = ns_opt_double("--psi-grace", opt_grace, 86400);
	if (opt_on_pressure) {
		if (strcmp(opt_on_pressure, "rollback") == 0)
			o.rollback = true;
		else if (strcmp(opt_on_pressure, "stop") == 0)
			o.rollback = false;
		else
			ns_usage("--on-pressure: '%s' is neither rollback nor stop", opt_on_pressure);
	}
	o.all_shared = opt_all_shared;
	ns_cli_target(nargs ? args[0] : NULL, true, &pid);

	if (ns_cli.json) {
		js = json_object_new_object();
		json_object_object_add(js, "version", json_object_new_int(1));
	}
	{
		struct ns_move_req req = {.pid = pid, .domain = ns_cli.domain, .o = &o, .dry_run = opt_dry_run, .js = js};

		rc = ns_move_vm(&req);
	}
out:
	if (js) {
		ns_json_print(js);
		json_object_put(js);
	}
	ns_topo_free(topo);
	poptFreeContext(ctx);
	return ns_cli_exit(rc);
}
