/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lock-file logic of lib/file.c with its directory as a parameter, for the unit tests
 * (which prove the refusals on directories of their own). Production code calls
 * ns_runlock_take, whose directory is the constant NS_RUNDIR. */
#ifndef NS_LIB_FILE_INT_H
#define NS_LIB_FILE_INT_H

#include <stddef.h>
#include <sys/types.h>

/* Open dir as a directory only root may change: created (owner root, mode 0755) when create is
 * set and it is missing; -EPERM when it is a symbolic link or not a directory, not owned by
 * root, or writable by its group or others, errmsg then saying which and ending with refusal
 * ("refusing it"). -errno from mkdir, open or fstat (errmsg "DIR: strerror"). Returns an
 * O_DIRECTORY descriptor. The lock directory (here) and the state directory (lib/state.c). */
int ns_dir_open_root(const char *dir, int create, const char *refusal, char *errmsg, size_t len);
int ns_runlock_take_in(const char *dir, const char *name, int *fd, pid_t *holder, char *errmsg, size_t len);
/* The same, the holder's command who ([a-z-], 1 to 31 characters; NULL: none) written after
 * its pid ("PID WHO\n"); on -EBUSY holder_who (NS_LOCK_WHO_MAX bytes, may be NULL) receives
 * the holder's command, "" when its file names none (an older holder) or cannot be read.
 * -EINVAL for a who that is not a command name. */
#define NS_LOCK_WHO_MAX 32
int ns_runlock_take_who_in(const char *dir, const char *name, const char *who, int *fd, pid_t *holder,
			   char *holder_who, char *errmsg, size_t len);

/* ns_vm_lock (lib/vmlock.c) with its directory as a parameter. */
struct ns_vm_holder;
int ns_vm_lock_in(const char *dir, pid_t pid, unsigned long long start_time, const char *command, int *fd,
		  struct ns_vm_holder *holder, char *errmsg, size_t len);

#endif
