/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Virtual machines: libvirt domains resolved to their QEMU process. */
#ifndef NUMASAFE_VM_H
#define NUMASAFE_VM_H

#include <sys/types.h>

#define NS_DEFAULT_URI "qemu:///system"

/* The QEMU process of a running libvirt domain. errmsg gets libvirt's own message (which
 * libvirt would otherwise print itself). -ENOENT: no such domain; -ESRCH: not running;
 * -ECONNREFUSED: cannot connect; -ELIBACC: libvirt cannot be loaded (every function that talks
 * to libvirt returns it then); -EOPNOTSUPP: no QEMU process of the domain on this host (a
 * test:/// domain). The process is the pid file's when it carries the domain's -uuid, else the
 * QEMU started with it (qemu:///session keeps no pid file under /run). */
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

/* VM discovery. A VM is a process with vCPU threads named "CPU n/KVM" or "CPU n/TCG" (QEMU
 * names its threads only with -name ...,debug-threads=on, which libvirt passes), or a QEMU
 * process (qemu-system-*, qemu-kvm) without such names, which is reported, never guessed at.
 * It is a libvirt domain when /run/libvirt/qemu/NAME.pid holds its PID. Everything is read
 * under root, so fixture trees work; no libvirt connection is needed. */
enum ns_thread_kind {
	NS_THREAD_VCPU = 0,
	NS_THREAD_IO,	    /* QEMU IOThread objects: "IO <id>" */
	NS_THREAD_EMULATOR, /* everything else: main loop, RCU, workers, ... */
};

struct ns_vm_thread {
	pid_t tid;
	enum ns_thread_kind kind;
	int index;     /* vCPU number, or I/O thread position (0-based); -1 for emulator threads */
	char comm[32];
	char io_id[32]; /* the IOThread's id ("iothread1") */
};

struct ns_vm {
	char name[256];
	int is_domain;			/* listed by libvirt's QEMU driver */
	pid_t pid;
	unsigned long long start_time;	/* /proc/PID/stat starttime */
	int named;			/* 0: a QEMU without thread names; vCPUs unknown */
	int nvcpus;			/* highest vCPU number + 1 */
	int nthreads;
	struct ns_vm_thread *threads;	/* sorted: vCPUs by number, I/O threads, emulator */
};

/* The VM behind PID. -ESRCH: no such process; -ENOEXEC: not a VM (no vCPU threads, not
 * QEMU); -ENODATA: a QEMU without thread names (vm->name and pid still filled, named = 0). */
int ns_vm_from_pid(const char *root, pid_t pid, struct ns_vm *vm);
void ns_vm_release(struct ns_vm *vm);

struct ns_vm_list {
	int n;
	struct ns_vm *v; /* sorted by name */
};
/* Every VM on the host, including unnamed QEMUs (named = 0). */
int ns_vm_list_read(const char *root, struct ns_vm_list *out);
void ns_vm_list_free(struct ns_vm_list *l);
/* The QEMU PID libvirt's QEMU driver wrote for a domain (/run/libvirt/qemu/NAME.pid under
 * root); -errno when there is none. No libvirt connection: it does not say the domain runs. */
int ns_domain_pidfile(const char *root, const char *name, pid_t *pid);
/* The VM of a libvirt domain by name, by its pid file under root. -ENOENT: no pid file. */
int ns_vm_from_domain(const char *root, const char *name, struct ns_vm *vm);

#endif
