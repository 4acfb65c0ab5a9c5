/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A command's target: a PID argument or a libvirt domain (--domain, any URI), resolved to the
 * VM's identity and, when it runs on this host, its QEMU process. Apart from cli.c so that
 * commands without --domain do not link libvirt's loader. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

/* libvirt missing is said the same way everywhere: --domain needs it, install it */
int nsc_fail_libvirt(struct nsc *c, int err, const char *what, const char *msg)
{
	if (err == -ELIBACC)
		return nsc_fail(c, NS_EXIT_UNSUPPORTED, NSC_R_LIBVIRT,
				"%s: --domain needs libvirt, which cannot be loaded (%s): install libvirt0", what, msg);
	if (err == -ENOENT)
		return nsc_fail(c, NS_EXIT_FAIL, NSC_R_NO_DOMAIN, "%s: no such domain", what);
	if (err == -ESRCH)
		return nsc_fail(c, NS_EXIT_FAIL, NSC_R_NOT_RUNNING, "%s: not running", what);
	if (msg && msg[0])
		return nsc_fail(c, NS_EXIT_FAIL, NSC_R_LIBVIRT, "%s: %s", what, msg);
	return nsc_fail_errno(c, err, NSC_R_LIBVIRT, "%s", what);
}

/* The process behind pid: a VM (named or not) or, when any process will do, any process. */
static int resolve_pid(struct nsc *c, pid_t pid, bool need_vm, struct nsc_target *tg)
{
	struct ns_proc_stat st;
	struct ns_proc_usage *u;
	int rc;

	rc = nsc_vm_setup(c);
	if (rc != NS_EXIT_OK)
		return rc;
	rc = ns_proc_check_user(NULL, pid);
	if (rc == -EINVAL)
		return nsc_fail(c, NS_EXIT_FAIL, NSC_R_NOT_A_VM, "pid %d: a kernel thread has no memory", (int)pid);
	if (rc < 0)
		return nsc_fail_errno(c, rc, NULL, "pid %d", (int)pid);
	tg->vm_rc = ns_vm_from_pid(NULL, pid, &tg->vm);
	if (tg->vm_rc == 0 || tg->vm_rc == -ENODATA) {
		nsc_vmid_from_vm(&tg->id, &tg->vm);
		return NS_EXIT_OK;
	}
	if (tg->vm_rc == -ENOEXEC && need_vm)
		return nsc_fail(c, NS_EXIT_FAIL, NSC_R_NOT_A_VM,
				"pid %d is not a QEMU VM (no \"CPU n/KVM\" or \"CPU n/TCG\" threads)", (int)pid);
	if ((tg->vm_rc == -EPERM || tg->vm_rc == -EACCES) && need_vm)
		return nsc_fail(c, NS_EXIT_FAIL, NSC_R_NOT_A_VM, "pid %d is not a VM: %s", (int)pid,
				tg->vm_rc == -EPERM ? "its owner is not root or a VM user (--vm-users)"
						    : "its executable is not owned by root or is writable by others");
	if (tg->vm_rc == -EPERM || tg->vm_rc == -EACCES)
		nsc_info(c, "pid %d looks like a VM but is not one (%s): taken as a process", (int)pid,
			 tg->vm_rc == -EPERM ? "owner" : "executable");
	else if (tg->vm_rc != -ENOEXEC)
		return nsc_fail_errno(c, tg->vm_rc, NULL, "pid %d", (int)pid);
	/* any process: named by its comm */
	rc = ns_proc_stat_read(NULL, pid, &st);
	u = rc == 0 ? calloc(1, sizeof(*u)) : NULL;
	if (rc == 0 && !u)
		rc = -ENOMEM;
	if (rc == 0)
		rc = ns_proc_status_read(NULL, pid, u);
	if (rc < 0) {
		free(u);
		return nsc_fail_errno(c, rc, NULL, "pid %d", (int)pid);
	}
	snprintf(tg->id.name, sizeof(tg->id.name), "%s", u->comm);
	tg->id.pid = pid;
	tg->id.start_time = st.start_time;
	free(u);
	return NS_EXIT_OK;
}

int nsc_target(struct nsc *c, const char *pidarg, int flags, struct nsc_target *tg)
{
	char msg[512] = "", what[300];
	pid_t pid = 0;
	int rc;

	memset(tg, 0, sizeof(*tg));
	tg->vm_rc = -ENOEXEC;
	if (pidarg && c->domain)
		nsc_usage(c, "give either a PID or --domain, not both");
	if (c->connect && !c->domain)
		nsc_usage(c, "--connect: only meaningful with --domain");
	/* one rule for every command: a name is kept whole or refused, never cut */
	if (c->domain && strlen(c->domain) >= sizeof(tg->id.name))
		nsc_usage(c, "--domain: a name of %zu bytes (at most %zu)", strlen(c->domain), sizeof(tg->id.name) - 1);
	if (pidarg)
		return resolve_pid(c, nsc_opt_pid(c, "pid", pidarg), !(flags & NSC_TG_ANY_PROCESS), tg);
	if (!c->domain) {
		/* a listing follows: the VM users first */
		rc = nsc_vm_setup(c);
		if (rc != NS_EXIT_OK)
			return rc;
		if (!(flags & NSC_TG_OPTIONAL))
			nsc_usage(c, "no target: give a PID or --domain NAME");
		return -1;
	}
	snprintf(what, sizeof(what), "domain %s", c->domain);
	rc = nsc_vm_setup(c);
	if (rc != NS_EXIT_OK)
		return rc;
	rc = ns_domain_pid(c->connect, c->domain, &pid, msg, sizeof(msg));
	if (rc == -EOPNOTSUPP && !(flags & NSC_TG_LOCAL)) {
		/* a domain without a local QEMU (the test:/// driver): libvirt acts on it alone */
		snprintf(tg->id.name, sizeof(tg->id.name), "%s", c->domain);
		tg->id.domain = true;
		return NS_EXIT_OK;
	}
	if (rc == -EOPNOTSUPP)
		return nsc_fail(c, NS_EXIT_FAIL, NSC_R_LIBVIRT, "%s: %s", what, msg);
	if (rc < 0)
		return nsc_fail_libvirt(c, rc, what, msg);
	nsc_info(c, "%s: its QEMU is pid %d", what, (int)pid);
	rc = resolve_pid(c, pid, true, tg);
	if (rc != NS_EXIT_OK)
		return rc;
	/* libvirt is the authority on which domain this is */
	snprintf(tg->id.name, sizeof(tg->id.name), "%s", c->domain);
	tg->id.domain = true;
	snprintf(tg->vm.name, sizeof(tg->vm.name), "%s", c->domain);
	tg->vm.is_domain = 1;
	return NS_EXIT_OK;
}

void nsc_target_release(struct nsc_target *tg)
{
	ns_vm_release(&tg->vm);
	memset(&tg->vm, 0, sizeof(tg->vm));
}
