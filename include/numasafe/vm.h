/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Virtual machines: libvirt domains resolved to their QEMU process. */
#ifndef NUMASAFE_VM_H
#define NUMASAFE_VM_H

#include <sys/stat.h>
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

/* VM discovery. A process looks like a VM when it has vCPU threads named "CPU n/KVM" or
 * "CPU n/TCG" (QEMU names its threads only with -name ...,debug-threads=on, which libvirt
 * passes), or is a QEMU process (qemu-system-*, qemu-kvm) without such names, which is
 * reported, never guessed at. Anyone can name threads so, so it IS a VM only when it is
 * trusted (ns_vm_trust): its real and effective uid are both root or a VM user
 * (ns_vm_users_set), and its executable is a regular file owned by root and not writable by
 * group or others. Every other process is not a VM, whatever its thread names.
 * It is a libvirt domain when /run/libvirt/qemu/NAME.pid (root's) holds its PID. Everything
 * is read under root, so fixture trees work (a fixture tree is trusted as captured); no
 * libvirt connection is needed. */

/* Who may own a VM: root and the distribution's libvirt QEMU user by default. */
#define NS_VM_USER_DEFAULT "libvirt-qemu"
#define NS_VM_USERS_MAX 16
struct ns_vm_users {
	int n;
	uid_t uid[NS_VM_USERS_MAX];
};
/* "root libvirt-qemu": user names or numeric uids, separated by blanks or commas. -EINVAL (an
 * empty list, a word that is no user name), -ENOENT (no such user), -E2BIG (more than
 * NS_VM_USERS_MAX); the error detail names the word. */
int ns_vm_users_parse(const char *list, struct ns_vm_users *out);
/* root, and NS_VM_USER_DEFAULT when the host has that user. */
void ns_vm_users_default(struct ns_vm_users *out);
/* The VM users for this process (NULL: the default); read by every discovery below. */
void ns_vm_users_set(const struct ns_vm_users *u);
const struct ns_vm_users *ns_vm_users_get(void);
/* The rule, pure: 0 when a process of ruid/euid running exe is trusted as a VM; -EPERM when
 * either uid is not a VM user; -EACCES when exe is not a regular file owned by root, or is
 * writable by group or others. */
int ns_vm_trust_judge(const struct ns_vm_users *u, uid_t ruid, uid_t euid, const struct stat *exe);
/* The settings file of the C commands (as of the rebalance policy script): compiled in, never
 * taken from the environment. */
#ifndef NS_SYSCONFDIR
#define NS_SYSCONFDIR "/etc"
#endif
#define NS_CONFIG_FILE NS_SYSCONFDIR "/default/numasafe"
#define NS_CONFIG_MAX 65536
/* NUMASAFE_VM_USERS from NS_CONFIG_FILE under root into out (*found 1), or the default when the
 * file or the setting is missing (*found 0). The file is opened without following a symlink
 * and must be a regular file owned by root (under a fixture root: by the caller) and not
 * writable by group or others (-EPERM); its lines are blank, "#..." or KEY=VALUE (VALUE
 * optionally double-quoted, no $, `, \ or quote inside); REBALANCE_* keys are the policy
 * script's and skipped, any other unknown key, a malformed line or the setting twice is
 * -EINVAL; a bad user list -EINVAL/-ENOENT/-E2BIG. The error detail names file and line. */
int ns_config_vm_users(const char *root, struct ns_vm_users *out, int *found);
/* The rule applied to a live process (/proc/PID/status, stat of /proc/PID/exe; a caller other
 * than root that may not stat it judges by the owner alone): 0, -EPERM,
 * -EACCES as ns_vm_trust_judge, -ESRCH when it is gone. Under a fixture root: 0. */
int ns_vm_trust(const char *root, pid_t pid);

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
	int nvcpus;			/* vCPU threads there are (their numbers are labels) */
	int nthreads;
	struct ns_vm_thread *threads;	/* sorted: vCPUs by number, I/O threads, emulator */
};

/* The VM behind PID. -ESRCH: no such process; -ENOEXEC: not a VM (no vCPU threads, not
 * QEMU); -EPERM, -EACCES: it looks like one but is not trusted (ns_vm_trust; vm->pid and
 * vm->name filled); -ENODATA: a QEMU without thread names (vm->name and pid still filled,
 * named = 0). */
int ns_vm_from_pid(const char *root, pid_t pid, struct ns_vm *vm);
void ns_vm_release(struct ns_vm *vm);

/* A process a listing left out: a look-alike (err -EPERM: its owner, -EACCES: its
 * executable) or one that could not be read (any other -errno). */
struct ns_vm_skip {
	pid_t pid;
	int err;
	char name[256]; /* its -name, or "pid N" */
};
struct ns_vm_list {
	int n;
	struct ns_vm *v; /* sorted by name */
	int ignored_owner; /* look-alikes whose owner is not a VM user */
	int ignored_exe;   /* look-alikes whose executable is not root's alone */
	int nfailed;	   /* processes that could not be read (a process gone is not one) */
	int nskip;
	struct ns_vm_skip *skip; /* all of the above, in /proc order */
};
/* Every VM on the host, including unnamed QEMUs (named = 0). One process that cannot be read
 * never fails the listing: it is in skip. -errno only when /proc cannot be listed, -ENOMEM. */
int ns_vm_list_read(const char *root, struct ns_vm_list *out);
void ns_vm_list_free(struct ns_vm_list *l);
/* The QEMU PID libvirt's QEMU driver wrote for a domain (/run/libvirt/qemu/NAME.pid under
 * root); -errno when there is none. No libvirt connection: it does not say the domain runs.
 * The file is opened without following a symlink (-EPERM) and must be a regular file owned by
 * root and not writable by group or others (-EPERM; on the live system); its value must be a
 * pid (1..INT_MAX, -ERANGE otherwise: never cut down) or -EINVAL. -EINVAL for a name holding
 * '/' or that is "", "." or "..". */
int ns_domain_pidfile(const char *root, const char *name, pid_t *pid);
/* The VM of a libvirt domain by name, by its pid file under root. -ENOENT: no pid file. */
int ns_vm_from_domain(const char *root, const char *name, struct ns_vm *vm);

#endif
