/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-VM lock (numasafe/vmlock.h): ns_runlock's lock file, named by the process's pid and
 * start time, holding the holder's pid and command. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "file_int.h"
#include "numasafe/file.h"
#include "numasafe/vmlock.h"

int ns_vm_lock_in(const char *dir, pid_t pid, unsigned long long start_time, const char *command, int *fd,
		  struct ns_vm_holder *holder, char *errmsg, size_t len)
{
	char name[64];
	struct ns_vm_holder h = {0};
	int rc;

	*fd = -1;
	if (pid <= 0)
		return -EINVAL;
	/* the start time keeps a reused PID from meeting the old process's lock */
	snprintf(name, sizeof(name), "vm-%d-%llu", (int)pid, start_time);
	rc = ns_runlock_take_who_in(dir, name, command, fd, &h.pid, h.command, errmsg, len);
	if (holder)
		*holder = h;
	return rc;
}

int ns_vm_lock(pid_t pid, unsigned long long start_time, const char *command, int *fd, struct ns_vm_holder *holder,
	       char *errmsg, size_t len)
{
	return ns_vm_lock_in(NS_RUNDIR, pid, start_time, command, fd, holder, errmsg, len);
}

void ns_vm_unlock(int fd)
{
	ns_runlock_release(fd);
}
