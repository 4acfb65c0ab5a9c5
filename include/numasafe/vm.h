/* Virtual machines: libvirt domains resolved to their QEMU process. */
#ifndef NUMASAFE_VM_H
#define NUMASAFE_VM_H

#include <sys/types.h>

#define NS_DEFAULT_URI "qemu:///system"

/* The QEMU process of a running libvirt domain. errmsg gets libvirt's own message (which
 * libvirt would otherwise print itself). -ENOENT: no such domain; -ESRCH: not running;
 * -ECONNREFUSED: cannot connect. */
int ns_domain_pid(const char *uri, const char *name, pid_t *pid, char *errmsg, size_t len);

/* libvirt's numatune memory modes (virDomainNumatuneMemMode). */
enum ns_numa_mode {
	NS_NUMA_STRICT = 0,
	NS_NUMA_PREFERRED = 1,
	NS_NUMA_INTERLEAVE = 2,
	NS_NUMA_RESTRICTIVE = 3,
};
const char *ns_numa_mode_name(int mode);

/* The running domain's numatune: mode and nodeset ("" when none is set). */
int ns_domain_numatune_get(const char *uri, const char *name, int *mode, char *nodeset, size_t len,
			   char *errmsg, size_t errlen);
/* Change the running domain's nodeset live (only restrictive mode allows it since libvirt 8). */
int ns_domain_numatune_set(const char *uri, const char *name, const char *nodeset, char *errmsg,
			   size_t errlen);

#endif
