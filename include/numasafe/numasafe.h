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
	NS_EXIT_REFUSED = 4,
	NS_EXIT_STOPPED = 5, /* stopped partway on request or by --on-pressure stop; state reported */
};

#include "caps.h"
#include "headroom.h"
#include "migrate.h"
#include "parse.h"
#include "procmem.h"
#include "psi.h"
#include "swap.h"
#include "topo.h"
#include "vm.h"

/* Hush libnuma (it prints to stderr from numa_error/numa_warn otherwise) and report whether
 * the kernel has NUMA syscalls: 0, or -ENOSYS. */
int ns_numa_init(void);
/* The last error libnuma reported through its hooks (0 when none); clears it. */
int ns_numa_last_error(void);

#endif
