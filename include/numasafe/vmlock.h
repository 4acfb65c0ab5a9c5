/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One changer per VM: the lock every command that changes a VM takes first (numa-migrate,
 * vm-pin in every changing form, the plan executors, fast-swapoff for each process it pages
 * in), so that two of them never act on the same VM at once (memory moved to node 1 while its
 * threads are pinned to node 0's CPUs). */
#ifndef NUMASAFE_VMLOCK_H
#define NUMASAFE_VMLOCK_H

#include <stddef.h>
#include <sys/types.h>

/* The holder of a VM's lock, as its lock file names it. */
struct ns_vm_holder {
	pid_t pid;	  /* 0: could not be read */
	char command[32]; /* "numa-migrate", "vm-pin", "fast-swapoff"; "" unknown */
};

/* Take the lock of the process pid started at start_time (/proc/PID/stat field 22, which
 * tells a reused PID apart): NS_RUNDIR/vm-PID-START.lock, with ns_runlock_take's checks (a
 * root-owned directory not writable by group or others; the file opened O_NOFOLLOW|O_CLOEXEC,
 * a regular file of ours with one link; flock, never waiting). command ([a-z-], 1 to 31
 * characters) is written after our pid for the next taker. Returns 0 with *fd set; -EBUSY
 * with *holder filled when another process (or another lock of this process) holds it;
 * -EINVAL for pid <= 0 or a bad command; -EPERM (unsafe directory or lock file) or -errno,
 * errmsg (may be NULL) saying which file. */
int ns_vm_lock(pid_t pid, unsigned long long start_time, const char *command, int *fd, struct ns_vm_holder *holder,
	       char *errmsg, size_t len);
/* Drop it (the file stays, as lock files in /run do). fd < 0: nothing. */
void ns_vm_unlock(int fd);

#endif
