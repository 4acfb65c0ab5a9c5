/* Resolving a command's target: a PID argument or a libvirt domain's QEMU process. Apart from
 * common.c so that commands without --domain do not load libvirt. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "numasafe/vm.h"

int ns_cli_target(const char *pidarg, bool required, pid_t *pid)
{
	char msg[512];
	int rc;

	if (pidarg && ns_cli.domain)
		ns_usage("give either a PID or --domain, not both");
	if (ns_cli.connect && !ns_cli.domain)
		ns_usage("--connect: only meaningful with --domain");
	if (pidarg) {
		*pid = ns_opt_pid("pid", pidarg);
		return 0;
	}
	if (!ns_cli.domain) {
		if (required)
			ns_usage("no target: give a PID or --domain NAME");
		return 1;
	}
	rc = ns_domain_pid(ns_cli.connect, ns_cli.domain, pid, msg, sizeof(msg));
	if (rc == 0)
		return 0;
	if (rc == -ENOENT)
		ns_err("domain %s: no such domain", ns_cli.domain);
	else if (rc == -ESRCH)
		ns_err("domain %s: not running", ns_cli.domain);
	else if (msg[0])
		ns_err("domain %s: %s", ns_cli.domain, msg);
	else
		ns_errno(rc, "domain %s", ns_cli.domain);
	exit(ns_cli_exit(NS_EXIT_FAIL));
}
