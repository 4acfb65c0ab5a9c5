/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The per-VM lock as the commands take it (numasafe/vmlock.h): taken by every change to a VM
 * before its preflight, refused as busy (exit 4) naming the holder, and re-entrant within one
 * run, because one change calls another (vm-pin --mem and each plan step pin, then move). */
#include <errno.h>
#include <string.h>

#include "nsc.h"

static struct {
	pid_t pid;
	unsigned long long start_time;
	int fd, refs;
} held[4];

int nsc_vm_lock(struct nsc *c, const struct nsc_vmid *id, int *token)
{
	struct ns_vm_holder h;
	char what[300], msg[512];
	int i, free_slot = -1, fd = -1, rc;

	*token = -1;
	/* a domain with no process on this host (test:///, a remote libvirt): nothing here to lock,
	 * and libvirt applies its changes one at a time itself */
	if (id->pid <= 0)
		return NS_EXIT_OK;
	for (i = 0; i < (int)(sizeof(held) / sizeof(held[0])); i++) {
		if (held[i].refs && held[i].pid == id->pid && held[i].start_time == id->start_time) {
			held[i].refs++;
			*token = i;
			return NS_EXIT_OK;
		}
		if (!held[i].refs && free_slot < 0)
			free_slot = i;
	}
	nsc_vmid_text(id, what, sizeof(what));
	if (free_slot < 0)
		return nsc_fail_errno(c, -ENOLCK, NULL, "lock for pid %d", (int)id->pid);
	rc = ns_vm_lock(id->pid, id->start_time, c->prog, &fd, &h, msg, sizeof(msg));
	if (rc == -EBUSY && h.pid > 0)
		return nsc_fail(c, NS_EXIT_REFUSED, NSC_R_BUSY, "%s: %s (pid %d) is changing it; try again when it is done",
				what, h.command[0] ? h.command : "another numasafe command", (int)h.pid);
	if (rc == -EBUSY)
		return nsc_fail(c, NS_EXIT_REFUSED, NSC_R_BUSY,
				"%s: another numasafe command is changing it; try again when it is done", what);
	if (rc < 0 && msg[0])
		return nsc_fail(c, NS_EXIT_FAIL, rc == -EPERM ? NSC_R_PERMISSION : NSC_R_FAILED, "lock for pid %d: %s",
				(int)id->pid, msg);
	if (rc < 0)
		return nsc_fail_errno(c, rc, NULL, "lock for pid %d", (int)id->pid);
	held[free_slot].pid = id->pid;
	held[free_slot].start_time = id->start_time;
	held[free_slot].fd = fd;
	held[free_slot].refs = 1;
	*token = free_slot;
	nsc_info(c, "%s: locked for this run", what);
	return NS_EXIT_OK;
}

void nsc_vm_unlock(int token)
{
	if (token < 0 || token >= (int)(sizeof(held) / sizeof(held[0])) || !held[token].refs)
		return;
	if (--held[token].refs == 0) {
		ns_vm_unlock(held[token].fd);
		held[token].fd = -1;
	}
}
