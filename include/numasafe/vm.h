/* Virtual machines: libvirt domains resolved to their QEMU process. */
#ifndef NUMASAFE_VM_H
#define NUMASAFE_VM_H

#include <sys/types.h>

#define NS_DEFAULT_URI "qemu:///system"

/* The QEMU process of a running libvirt domain. errmsg gets libvirt's own message (which
 * libvirt would otherwise print itself). -ENOENT: no such domain; -ESRCH: not running;
 * -ECONNREFUSED: cannot connect. */
int ns_domain_pid(const char *uri, const char *name, pid_t *pid, char *errmsg, size_t len);

#endif
