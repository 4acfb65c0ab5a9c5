/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VM discovery from /proc: QEMU processes and their vCPU, I/O and emulator threads, and which
 * of them are libvirt domains. Reading /proc (not libvirt) keeps it usable on fixture trees, on
 * hosts without libvirtd, and for bare QEMU processes alike. Thread names are anyone's to
 * choose, so a process is a VM only when its owner and executable are trusted (ns_vm_trust). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "numasafe/numasafe.h"
#include "numasafe/procmem.h"
#include "numasafe/file.h"
#include "numasafe/vm.h"
#include "util.h"

static int read_comm(const char *root, pid_t pid, pid_t tid, char *comm, size_t len)
{
	char path[4096];
	ssize_t n;
	int rc;

	if (tid)
		rc = ns_path(path, sizeof(path), root, "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	else
		rc = ns_path(path, sizeof(path), root, "/proc/%d/comm", (int)pid);
	if (rc < 0)
		return rc;
	n = ns_read_file(path, comm, len);
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	comm[strcspn(comm, "\n")] = '\0';
	return 0;
}

static int is_qemu_comm(const char *comm)
{
	return strncmp(comm, "qemu-system-", 12) == 0 || strcmp(comm, "qemu-kvm") == 0 ||
	       strcmp(comm, "kvm") == 0;
}

/* QEMU's -name value: "NAME[,opt=...]" or "guest=NAME[,opt=...]" (keys in any order); ",," is
 * an escaped comma. */
static void parse_name_opt(const char *val, char *name, size_t len)
{
	char opt[256];
	int first = 1;

	name[0] = '\0';
	for (const char *p = val; *p; first = 0) {
		size_t o = 0;

		/* one option, with ",," unescaped */
		while (*p && !(*p == ',' && p[1] != ',')) {
			if (*p == ',')
				p++;
			if (o + 1 < sizeof(opt))
				opt[o++] = *p;
			p++;
		}
		opt[o] = '\0';
		if (*p == ',')
			p++;
		if (strncmp(opt, "guest=", 6) == 0) {
			snprintf(name, len, "%s", opt + 6);
			return;
		}
		if (first && !strchr(opt, '='))
			snprintf(name, len, "%s", opt);
	}
}

/* The name operators know the VM by: -name from the command line, else "pid N". */
static void vm_name(const char *root, pid_t pid, char *name, size_t len)
{
	char path[4096], *buf = NULL;
	size_t cap = 1 << 16;
	ssize_t n = -1;

	snprintf(name, len, "pid %d", (int)pid);
	if (ns_path(path, sizeof(path), root, "/proc/%d/cmdline", (int)pid) < 0 || !(buf = malloc(cap)))
		goto out;
	n = ns_read_file(path, buf, cap);
	for (ssize_t i = 0; n > 0 && i < n;) {
		const char *arg = buf + i;
		size_t al = strlen(arg);

		if (strcmp(arg, "-name") == 0 && i + (ssize_t)al + 1 < n) {
			parse_name_opt(arg + al + 1, name, len);
			if (!name[0])
				snprintf(name, len, "pid %d", (int)pid);
			break;
		}
		i += (ssize_t)al + 1;
	}
out:
	free(buf);
}

static int thread_cmp(const void *a, const void *b)
{
	const struct ns_vm_thread *x = a, *y = b;

	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	if (x->kind == NS_THREAD_IO) {
		int c = strcmp(x->io_id, y->io_id);

		if (c)
			return c;
	}
	if (x->index != y->index)
		return x->index - y->index;
	return (int)x->tid - (int)y->tid;
}

/* A vCPU thread's name, "CPU n/KVM" (or TCG, HVF): 1 with *idx, else 0. The index is a label
 * (QEMU's cpu-index), never a count. */
static int vcpu_label(const char *comm, int *idx)
{
	unsigned long long v;
	const char *p = comm;

	if (strncmp(p, "CPU ", 4) != 0)
		return 0;
	p += 4;
	if (ns_uint_take(&p, INT_MAX, &v) < 0 || *p++ != '/')
		return 0;
	if (strcmp(p, "KVM") != 0 && strcmp(p, "TCG") != 0 && strcmp(p, "HVF") != 0)
		return 0;
	*idx = (int)v;
	return 1;
}

int ns_domain_pidfile(const char *root, const char *name, pid_t *pid)
{
	char path[4096], buf[32];
	unsigned long long v;
	struct stat st;
	ssize_t n;
	int fd, rc;

	if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	rc = ns_path(path, sizeof(path), root, "/run/libvirt/qemu/%s.pid", name);
	if (rc < 0)
		return rc;
	fd = ns_file_open_regular(AT_FDCWD, path, O_RDONLY, &st);
	if (fd < 0)
		return fd == -ELOOP ? -EPERM : fd;
	/* libvirtd (root) writes it; anyone else's file names no domain */
	if (ns_root_is_live(root) && (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))) {
		rc = -EPERM;
		goto out;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		rc = -errno;
		goto out;
	}
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	/* pid_t's range, not cut down: 2^32 + N is no pid, N is */
	rc = ns_uint_parse(buf, INT_MAX, &v);
	if (rc == 0 && v == 0)
		rc = -ERANGE;
	if (rc == 0)
		*pid = (pid_t)v;
out:
	close(fd);
	return rc;
}

void ns_vm_release(struct ns_vm *vm)
{
	if (!vm)
		return;
	free(vm->threads);
	vm->threads = NULL;
	vm->nthreads = 0;
}

int ns_vm_from_pid(const char *root, pid_t pid, struct ns_vm *vm)
{
	struct ns_proc_stat st;
	char path[4096], comm[64];
	struct dirent *de;
	DIR *d = NULL;
	int rc, cap = 0;
	pid_t dpid;

	memset(vm, 0, sizeof(*vm));
	rc = ns_proc_stat_read(root, pid, &st);
	if (rc < 0)
		return rc;
	if (st.state == 'Z' || st.state == 'X')
		return -ESRCH; /* a daemonizing QEMU's parent, not yet reaped */
	vm->pid = pid;
	vm->start_time = st.start_time;
	rc = read_comm(root, pid, 0, comm, sizeof(comm));
	if (rc < 0)
		return rc;
	rc = ns_path(path, sizeof(path), root, "/proc/%d/task", (int)pid);
	if (rc < 0)
		return rc;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d))) {
		struct ns_vm_thread t = {.index = -1, .kind = NS_THREAD_EMULATOR};
		unsigned long long tid;
		int idx;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;

		if (ns_uint_parse(de->d_name, INT_MAX, &tid) < 0)
			continue;
		t.tid = (pid_t)tid;
		if (read_comm(root, pid, t.tid, t.comm, sizeof(t.comm)) < 0)
			continue; /* the thread ended while we looked */
		if (vcpu_label(t.comm, &idx)) {
			/* counted, not taken from the label: "CPU 9999999/KVM" is one vCPU */
			t.kind = NS_THREAD_VCPU;
			t.index = idx;
			vm->nvcpus++;
		} else if (strncmp(t.comm, "IO ", 3) == 0 && t.comm[3] &&
			   strcmp(t.comm + 3, "mon_iothread") != 0) {
			/* mon_iothread serves the monitor: an emulator thread, as libvirt counts */
			t.kind = NS_THREAD_IO;
			snprintf(t.io_id, sizeof(t.io_id), "%.28s", t.comm + 3);
		}
		if (vm->nthreads == cap) {
			struct ns_vm_thread *n;

			cap = cap ? cap * 2 : 16;
			n = realloc(vm->threads, (size_t)cap * sizeof(*n));
			if (!n) {
				rc = -ENOMEM;
				goto out;
			}
			vm->threads = n;
		}
		vm->threads[vm->nthreads++] = t;
	}
	if (vm->nthreads > 1)
		qsort(vm->threads, (size_t)vm->nthreads, sizeof(*vm->threads), thread_cmp);
	for (int i = 0, io = 0; i < vm->nthreads; i++)
		if (vm->threads[i].kind == NS_THREAD_IO)
			vm->threads[i].index = io++;
	vm_name(root, pid, vm->name, sizeof(vm->name));
	vm->is_domain = ns_domain_pidfile(root, vm->name, &dpid) == 0 && dpid == pid;
	vm->named = vm->nvcpus > 0;
	if (!vm->named && !is_qemu_comm(comm)) {
		rc = -ENOEXEC;
		goto out;
	}
	/* it looks like a VM: is it one? */
	rc = ns_vm_trust(root, pid);
	if (rc == 0)
		rc = vm->named ? 0 : -ENODATA;
out:
	closedir(d);
	if (rc < 0 && rc != -ENODATA)
		ns_vm_release(vm);
	return rc;
}

int ns_vm_from_domain(const char *root, const char *name, struct ns_vm *vm)
{
	pid_t pid;
	int rc = ns_domain_pidfile(root, name, &pid);

	if (rc < 0)
		return rc == -EINVAL ? -ENOENT : rc;
	rc = ns_vm_from_pid(root, pid, vm);
	if (rc == 0 || rc == -ENODATA) {
		/* the pid file is the authority on which domain this is */
		snprintf(vm->name, sizeof(vm->name), "%s", name);
		vm->is_domain = 1;
	}
	return rc;
}

static int vm_cmp(const void *a, const void *b)
{
	const struct ns_vm *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (int)x->pid - (int)y->pid;
}

void ns_vm_list_free(struct ns_vm_list *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->n; i++)
		ns_vm_release(&l->v[i]);
	free(l->v);
	free(l->skip);
	memset(l, 0, sizeof(*l));
}

/* Remember a process left out: a look-alike (-EPERM, -EACCES) or one that failed. */
static int list_skip(struct ns_vm_list *l, const struct ns_vm *vm, pid_t pid, int err, int *cap)
{
	struct ns_vm_skip *k;

	if (l->nskip == *cap) {
		int nc = *cap ? *cap * 2 : 8;

		k = realloc(l->skip, (size_t)nc * sizeof(*k));
		if (!k)
			return -ENOMEM;
		l->skip = k;
		*cap = nc;
	}
	k = &l->skip[l->nskip++];
	memset(k, 0, sizeof(*k));
	k->pid = pid;
	k->err = err;
	if (vm->pid == pid)
		snprintf(k->name, sizeof(k->name), "%s", vm->name);
	else
		snprintf(k->name, sizeof(k->name), "pid %d", (int)pid);
	if (err == -EPERM)
		l->ignored_owner++;
	else if (err == -EACCES)
		l->ignored_exe++;
	else
		l->nfailed++;
	return 0;
}

int ns_vm_list_read(const char *root, struct ns_vm_list *out)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int rc = 0, cap = 0, kcap = 0;

	memset(out, 0, sizeof(*out));
	rc = ns_path(path, sizeof(path), root, "/proc");
	if (rc < 0)
		return rc;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		unsigned long long pid;
		struct ns_vm vm;
		int r;

		if (ns_uint_parse(de->d_name, INT_MAX, &pid) < 0 || pid == 0)
			continue;
		memset(&vm, 0, sizeof(vm));
		r = ns_vm_from_pid(root, (pid_t)pid, &vm);
		if (r == -ENOEXEC || r == -ESRCH || r == -ENOENT)
			continue; /* not a VM, a kernel thread, or gone */
		if (r < 0 && r != -ENODATA) {
			/* a look-alike, or a process that could not be read: said, not listed */
			rc = list_skip(out, &vm, (pid_t)pid, r, &kcap);
			ns_vm_release(&vm);
			if (rc < 0)
				break;
			continue;
		}
		if (out->n == cap) {
			struct ns_vm *n;

			cap = cap ? cap * 2 : 8;
			n = realloc(out->v, (size_t)cap * sizeof(*n));
			if (!n) {
				ns_vm_release(&vm);
				rc = -ENOMEM;
				break;
			}
			out->v = n;
		}
		out->v[out->n++] = vm;
	}
	closedir(d);
	if (rc < 0) {
		ns_vm_list_free(out);
		return rc;
	}
	if (out->n > 1)
		qsort(out->v, (size_t)out->n, sizeof(*out->v), vm_cmp);
	return 0;
}
