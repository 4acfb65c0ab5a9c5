/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Memory pressure stall information (/proc/pressure/memory). */
#ifndef NUMASAFE_PSI_H
#define NUMASAFE_PSI_H

#include <stdint.h>

struct ns_psi_line {
	double avg10, avg60, avg300; /* percent */
	uint64_t total;		     /* microseconds stalled since boot */
};

struct ns_psi {
	struct ns_psi_line some;
	struct ns_psi_line full;
	int has_full; /* kernels before 5.13 have no "full" line for the system... and CPU PSI never */
};

/* 0, or -ENOENT when the kernel has no PSI (no file: CONFIG_PSI off, or psi=0 on kernels
 * that then hide /proc/pressure), -EOPNOTSUPP when it is built in but disabled (psi=0 on
 * kernels that keep the file), -EINVAL when the file does not parse (a line other than one
 * "some" and at most one "full" of the kernel's exact shape), -ERANGE for a value out of
 * range (an average above 100%, a total above 2^64). Never fills a default; the failure is
 * described by ns_error_detail(), which names the file and line. */
int ns_psi_read(const char *root, struct ns_psi *out);
/* Parse the text of a pressure file (exposed for unit tests); the same errors, the detail
 * naming the text "pressure". */
int ns_psi_parse(const char *text, struct ns_psi *out);

/* Open the pressure file root+file for reading (O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_NOFOLLOW, a
 * regular file), to be read again and again with ns_psi_read_fd. *fd is -1 on failure. 0, or
 * -errno with the detail: -ENOENT (no such file), -EINVAL (not a regular file), -EACCES. */
int ns_psi_open(const char *root, const char *file, int *fd);
/* Read and parse the pressure file open on fd from its start (pread: the live totals, the
 * stall still under way included); name is for the detail. The errors of ns_psi_read, and
 * -ENODEV for a cgroup removed since it was opened. */
int ns_psi_read_fd(int fd, const char *name, struct ns_psi *out);

/* Kernel PSI triggers. The kernel's bounds for the window; an unprivileged opener needs a
 * multiple of 2 s (6.5+) or is refused (before). */
#define NS_PSI_WINDOW_MIN_US 500000ULL
#define NS_PSI_WINDOW_MAX_US 10000000ULL
#define NS_PSI_TRIGGERS_MAX 4
/* Open the pressure file root+file ("/proc/pressure/memory", "/sys/fs/cgroup/X/memory.pressure")
 * read-write, non-blocking, close-on-exec, and arm it with "some stall_us window_us". *fd is the
 * armed descriptor (close it to disarm), -1 on failure. 0, or -errno with the detail: -ENOENT
 * (no such file: no PSI, no such cgroup), -EOPNOTSUPP (PSI disabled), -EPERM/-EACCES (no
 * privilege for a trigger), -EINVAL (bounds out of the kernel's, or refused), -EBUSY. */
int ns_psi_trigger_open(const char *root, const char *file, uint64_t stall_us, uint64_t window_us, int *fd);
/* Wait up to timeout_ms (0: just look) for an event on any of fds[0..n). 1 when at least one
 * fired (bits of *fired), 0 when none did (a signal ends the wait as 0), -errno if poll fails.
 * *broken gets the bits of descriptors that report an error instead (a removed cgroup): their
 * caller stops watching them. n <= NS_PSI_TRIGGERS_MAX. */
int ns_psi_trigger_wait(const int *fds, unsigned n, int timeout_ms, unsigned *fired, unsigned *broken);

#endif
