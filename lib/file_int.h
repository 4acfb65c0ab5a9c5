/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lock-file logic of lib/file.c with its directory as a parameter, for the unit tests
 * (which prove the refusals on directories of their own). Production code calls
 * ns_runlock_take, whose directory is the constant NS_RUNDIR. */
#ifndef NS_LIB_FILE_INT_H
#define NS_LIB_FILE_INT_H

#include <stddef.h>
#include <sys/types.h>

int ns_runlock_take_in(const char *dir, const char *name, int *fd, pid_t *holder, char *errmsg, size_t len);

#endif
