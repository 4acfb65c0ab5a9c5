/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libnumasafe: everything the numasafe commands know about NUMA memory, in one header.
 * Every function returns 0 (or a count) on success and -errno on failure; nothing prints. */
#ifndef NUMASAFE_H
#define NUMASAFE_H

#define NS_VERSION "0.1.0"

/* Exit codes shared by every command (documented in each man page). */
enum ns_exit {
	NS_EXIT_OK = 0,
	NS_EXIT_FAIL = 1,
	NS_EXIT_USAGE = 2,
	NS_EXIT_UNSUPPORTED = 3,
	NS_EXIT_REFUSED = 4,  /* refused or rolled back: nothing changed; retrying later may succeed */
	NS_EXIT_PARTIAL = 5,  /* stopped partway: part of the change is made, consistent and reported;
			       * running the same command again completes it */
};

#include <stddef.h>
#include <sys/types.h>

#include "caps.h"
#include "file.h"
#include "headroom.h"
#include "locality.h"
#include "migrate.h"
#include "parse.h"
#include "procmem.h"
#include "psi.h"
#include "swap.h"
#include "topo.h"
#include "vm.h"
#include "vmlock.h"

/* Hush libnuma (it prints to stderr from numa_error/numa_warn otherwise) and report whether
 * the kernel has NUMA syscalls: 0, or -ENOSYS. */
int ns_numa_init(void);
/* The last error libnuma reported through its hooks (0 when none); clears it. */
int ns_numa_last_error(void);

/* What was wrong with the input behind the last failure of a host reader, like dlerror(3):
 * one line naming the file as opened (root prefix included) and, for a bad line, its number:
 *   "/proc/zoneinfo:57: high: 99999999999999999999999 is out of range"
 *   "/sys/devices/system/node/node1/meminfo: No such file or directory"
 * The readers that fill it: ns_topo_read, ns_node_read_meminfo, ns_zoneinfo_read_wmarks,
 * ns_hostmem_read, ns_psi_read, ns_psi_parse, ns_swaps_read, ns_plan_gather, ns_so_preflight,
 * ns_so_pagein, ns_mig_preflight and ns_mig_run; each clears it when it starts, so after one
 * of them failed it describes that failure, or is NULL when the failure had no input to name
 * (-ENOMEM, a process that went away). A stop of ns_so_pagein or ns_mig_run for pressure or
 * memory because PSI or meminfo could no longer be read leaves it set too. Per thread; the
 * string stays valid until the thread's next reader call. */
const char *ns_error_detail(void);

#endif
