/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A command's target (PID or --domain) resolved to a VM's identity and its local process. */
#ifndef NSC_TARGET_H
#define NSC_TARGET_H

#include "nsc.h"

/* What a command accepts as its target (flags). */
enum {
	NSC_TG_OPTIONAL = 1, /* no target at all is fine (nsc_target returns -1) */
	NSC_TG_ANY_PROCESS = 2, /* a PID need not be a VM (its name is then its comm) */
	NSC_TG_LOCAL = 4, /* a domain must have its QEMU process on this host */
};

struct nsc_target {
	struct nsc_vmid id;
	struct ns_vm vm; /* the VM when the process is one (vm_rc 0, or -ENODATA: no thread names) */
	int vm_rc; /* ns_vm_from_pid's answer; -ENOEXEC: not a VM, or no local process */
};

/* Resolve the PID argument or --domain. Returns NS_EXIT_OK, -1 when no target was given and
 * NSC_TG_OPTIONAL allows that, or the exit code of a reported failure. Usage errors exit. */
int nsc_target(struct nsc *c, const char *pidarg, int flags, struct nsc_target *tg);
void nsc_target_release(struct nsc_target *tg);
/* Report a libvirt failure for what ("domain web1"): missing libvirt (exit 3), no such
 * domain, not running, or libvirt's own message. Returns the exit code. */
int nsc_fail_libvirt(struct nsc *c, int err, const char *what, const char *msg);

#endif
