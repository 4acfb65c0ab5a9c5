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

#endif
