/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The last run of each command that changes things (numa-migrate, fast-swapoff, vm-pin): when
 * it ended, its exit code and reason, kept as one small JSON document per command in a
 * directory only root may write, so that monitoring (numa-plan metrics) can tell when a timer
 * or a cron job last moved memory and how that ended, without reading the system log. */
#ifndef NUMASAFE_STATE_H
#define NUMASAFE_STATE_H

/* A compile-time constant: no environment variable or option redirects what root writes. */
#define NS_STATEDIR "/var/lib/numasafe"
#define NS_LAST_RUN_KIND "numasafe-last-run"
#define NS_LAST_RUN_VERSION 1

struct ns_last_run {
	char command[32]; /* "numa-migrate": [a-z-], the document's file name */
	int code;	  /* exit code, 0 to 5 (numasafe(7)) */
	char reason[32];  /* numasafe(7)'s reason keyword; "" when code is 0 */
	double time;	  /* when the run ended: seconds since the Unix epoch */
	double duration;  /* seconds the run took */
};

/* Open dir as a directory only root may change: created (owner root, mode 0755) when create is
 * set and it is missing; refused with -EPERM when it is a symbolic link or not a directory,
 * not owned by root, or writable by its group or others (ns_error_detail says which). -ENOENT
 * when it is missing and create is not set; -errno from mkdir or open. Returns an O_DIRECTORY
 * descriptor. Only the last component is checked: its parents are the system's own. */
int ns_rootdir_open(const char *dir, int create);

/* Record r as NS_STATEDIR/COMMAND.json (kind numasafe-last-run), replacing the previous record
 * atomically (ns_file_replace): a reader sees one whole record or the other. The directory is
 * opened with ns_rootdir_open(create). -EINVAL when a field is out of range (a command or
 * reason that is not [a-z-], a code above 5, a negative time); ns_rootdir_open's errors;
 * -errno from writing. */
int ns_last_run_write(const struct ns_last_run *r);

/* Read command's record from root + NS_STATEDIR (root NULL: the live system). The directory
 * must pass ns_rootdir_open's checks (not created); the file is opened without following a
 * link or blocking, must be a regular file of at most 4 KiB, and every field is checked.
 * -ENOENT: nothing recorded (no directory or no file); -EPERM: the directory is unsafe, or the
 * file is not a regular one; -EFBIG; -EBADMSG: not a valid record (ns_error_detail names the
 * file and the field). */
int ns_last_run_read(const char *root, const char *command, struct ns_last_run *r);

#endif
