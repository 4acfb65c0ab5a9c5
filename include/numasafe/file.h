/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Files a user could create, rename or redirect, handled so that none of them can hang a root
 * command or make it write where it should not: regular files opened without following a
 * symlink or blocking on a FIFO, files written as root replaced atomically through a temporary
 * file in the target's directory, and the lock files that keep two runs apart. */
#ifndef NUMASAFE_FILE_H
#define NUMASAFE_FILE_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Where the lock files live: a compile-time constant, never taken from the environment or an
 * option, so nothing redirects what a root command writes. */
#define NS_RUNDIR "/run/numasafe"

/* Open name (relative to dirfd, or AT_FDCWD) for reading if, and only if, it is a regular
 * file. The name is first opened with O_PATH|O_NOFOLLOW, which neither blocks on a FIFO nor runs
 * a device's open, and checked with fstat; only a regular file is then opened for reading
 * (through /proc/self/fd, so it is the very inode that was checked). flags: extra open flags,
 * O_NOATIME is dropped where the caller may not use it; O_CLOEXEC and O_NONBLOCK are always
 * added. st (may be NULL) receives the file's stat. Returns the descriptor, or -ELOOP (the last
 * component is a symlink), -EISDIR, -EINVAL (not a regular file: FIFO, socket, device), or
 * another -errno from open. */
int ns_file_open_regular(int dirfd, const char *name, int flags, struct stat *st);

/* Read a regular file (ns_file_open_regular) of at most max bytes whole: *buf is malloc()ed
 * and NUL-terminated, *len its length (the file may hold NULs). -EFBIG when the file is (or
 * grows, while being read, to) more than max bytes; the errors of ns_file_open_regular. */
int ns_file_read_all(const char *path, size_t max, char **buf, size_t *len);

/* Replace path with data atomically, as root may, only in a directory nobody else controls
 * (every -o FILE, the last-run records). The directory part of path is opened one component
 * at a time with O_NOFOLLOW from / (or the working directory): any symbolic link in it, whoever
 * owns it, is refused; the directory itself must be owned by root (or by the caller's
 * effective uid) and writable by neither its group nor others (a sticky /tmp is refused too).
 * Then a file with a random name is created in that directory (O_CREAT|O_EXCL|O_NOFOLLOW, so
 * nothing planted is followed or reused), written, given mode (the umask plays no part; set-id
 * and sticky bits are dropped), fsync()ed and renamed over the last component relative to the
 * opened directory, which is fsync()ed too. A reader sees the old file or the new one. What was
 * at path lends nothing: a symlink there is replaced, not followed; an existing file's mode and
 * owner are not kept. Returns 0; -EPERM with the error detail (ns_error_detail) naming the
 * component refused; -EISDIR when path is a directory (or ends in "/", "." or ".."), -EINVAL
 * when it is another non-regular file; -errno from the file system (the detail names the
 * directory component that failed to open). */
int ns_file_replace(const char *path, const void *data, size_t len, mode_t mode);

/* An exclusive lock NS_RUNDIR/NAME.lock (name: [A-Za-z0-9._:-], at most 64 characters),
 * held until ns_runlock_release or the process ends; the file holds the holder's pid. The
 * directory is created (root-owned, 0755) when missing, and refused when it is a symlink, not
 * a directory, not owned by root or writable by group or others; the lock file is opened with
 * O_NOFOLLOW|O_NONBLOCK, must be a regular file of ours with one link, and is truncated only
 * once the lock is held. Returns 0 with *fd set; -EBUSY with *holder set (0 if it could not be
 * read) when another process holds it; -EPERM (unsafe directory or lock file, errmsg says
 * why), -EINVAL (bad name) or -errno (errmsg says which file). errmsg may be NULL. */
int ns_runlock_take(const char *name, int *fd, pid_t *holder, char *errmsg, size_t len);
/* Drop the lock (the file stays, as lock files in /run do). fd < 0: nothing. */
void ns_runlock_release(int fd);

#endif
