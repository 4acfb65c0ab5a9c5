/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who may run a VM: the rule that turns a process that looks like a VM (vmlist.c) into one
 * root may act on, and the VM users it trusts, from the command line or from the one setting
 * of /etc/default/numasafe the C commands read (NUMASAFE_VM_USERS). Thread names and command
 * lines are anyone's to write; the owner of a process and of its executable are not. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "numasafe/numasafe.h"
#include "numasafe/file.h"
#include "numasafe/vm.h"
#include "util.h"

/* The users a VM may run as, for this process: set by the command (ns_vm_users_set) from
 * /etc/default/numasafe or --vm-users; until then the default. */
static struct ns_vm_users vm_users;
static int vm_users_known;

int ns_vm_users_parse(const char *list, struct ns_vm_users *out)
{
	const char *p = list;

	memset(out, 0, sizeof(*out));
	for (;;) {
		char word[64];
		size_t n;
		uid_t uid;

		p += strspn(p, " \t,");
		if (!*p)
			break;
		n = strcspn(p, " \t,");
		if (n >= sizeof(word))
			return ns_detail(-EINVAL, "user name too long: %.*s...", 32, p);
		memcpy(word, p, n);
		word[n] = '\0';
		p += n;
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)word[i]) && !strchr("._-", word[i]))
				return ns_detail(-EINVAL, "not a user name: %s", word);
		if (isdigit((unsigned char)word[0])) {
			unsigned long long v;
			int rc = ns_uint_parse(word, (uid_t)-2, &v);

			if (rc < 0)
				return ns_detail(rc, "not a user id: %s", word);
			uid = (uid_t)v;
		} else {
			struct passwd *pw = getpwnam(word);

			if (!pw)
				return ns_detail(-ENOENT, "no such user: %s", word);
			uid = pw->pw_uid;
		}
		if (out->n == NS_VM_USERS_MAX)
			return ns_detail(-E2BIG, "more than %d VM users", NS_VM_USERS_MAX);
		out->uid[out->n++] = uid;
	}
	if (out->n == 0)
		return ns_detail(-EINVAL, "no VM user given (root at least)");
	return 0;
}

void ns_vm_users_default(struct ns_vm_users *out)
{
	struct passwd *pw = getpwnam(NS_VM_USER_DEFAULT);

	memset(out, 0, sizeof(*out));
	out->uid[out->n++] = 0;
	/* a host without libvirt has no such user: root alone then */
	if (pw && pw->pw_uid != 0)
		out->uid[out->n++] = pw->pw_uid;
}

void ns_vm_users_set(const struct ns_vm_users *u)
{
	if (u)
		vm_users = *u;
	else
		ns_vm_users_default(&vm_users);
	vm_users_known = 1;
}

const struct ns_vm_users *ns_vm_users_get(void)
{
	if (!vm_users_known)
		ns_vm_users_set(NULL);
	return &vm_users;
}

int ns_vm_trust_judge(const struct ns_vm_users *u, uid_t ruid, uid_t euid, const struct stat *exe)
{
	int r = 0, e = 0;

	for (int i = 0; i < u->n; i++) {
		r |= u->uid[i] == ruid;
		e |= u->uid[i] == euid;
	}
	if (!r || !e)
		return -EPERM;
	if (!S_ISREG(exe->st_mode) || exe->st_uid != 0 || (exe->st_mode & (S_IWGRP | S_IWOTH)))
		return -EACCES;
	return 0;
}

/* Real and effective uid from /proc/PID/status (not the owner of /proc/PID, which is root for
 * any process that made itself non-dumpable). */
static int read_uids(pid_t pid, uid_t *ruid, uid_t *euid)
{
	char path[64], buf[4096], *p;
	unsigned long long r, e;
	const char *q;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	n = ns_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	p = strstr(buf, "\nUid:\t");
	if (!p)
		return -EIO;
	q = p + 6;
	if (ns_uint_take(&q, UINT32_MAX, &r) < 0 || *q++ != '\t' || ns_uint_take(&q, UINT32_MAX, &e) < 0)
		return -EIO;
	*ruid = (uid_t)r;
	*euid = (uid_t)e;
	return 0;
}

int ns_vm_trust(const char *root, pid_t pid)
{
	struct stat st;
	char path[64];
	uid_t ruid, euid;
	int rc;

	/* a fixture tree is what root captured; only live processes can be forged */
	if (!ns_root_is_live(root))
		return 0;
	rc = read_uids(pid, &ruid, &euid);
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return -ESRCH;
		/* only root can see every executable; a caller that cannot is no root a
		 * look-alike could steer, and judges by the owner alone (it will be refused
		 * anything it may not do) */
		if ((errno == EACCES || errno == EPERM) && geteuid() != 0) {
			st.st_mode = S_IFREG | 0755;
			st.st_uid = 0;
		} else {
			memset(&st, 0, sizeof(st));
			st.st_uid = (uid_t)-1;
		}
	}
	/* the owner is checked before the executable, and said first */
	return ns_vm_trust_judge(ns_vm_users_get(), ruid, euid, &st);
}

/* One KEY=VALUE line of the file: blanks around neither, VALUE optionally in double quotes
 * with no quote inside. 0, or -EINVAL with the detail "PATH:LINE: why". */
static int config_line(const char *path, unsigned lineno, char *line, char **key, char **val)
{
	char *eq = strchr(line, '='), *v;
	size_t n;

	if (!eq || eq == line)
		return ns_detail(-EINVAL, "%s:%u: not KEY=VALUE", path, lineno);
	*eq = '\0';
	for (char *k = line; *k; k++)
		if (!(isupper((unsigned char)*k) || isdigit((unsigned char)*k) || *k == '_'))
			return ns_detail(-EINVAL, "%s:%u: not a setting name: %s", path, lineno, line);
	v = eq + 1;
	n = strlen(v);
	if (n && v[0] == '"') {
		if (n < 2 || v[n - 1] != '"')
			return ns_detail(-EINVAL, "%s:%u: %s: unterminated quote", path, lineno, line);
		v[n - 1] = '\0';
		v++;
	}
	for (char *c = v; *c; c++)
		if (*c == '"' || iscntrl((unsigned char)*c) || *c == '\\' || *c == '$' || *c == '`')
			return ns_detail(-EINVAL, "%s:%u: %s: a character a value may not hold", path, lineno, line);
	*key = line;
	*val = v;
	return 0;
}

int ns_config_vm_users(const char *root, struct ns_vm_users *out, int *found)
{
	char path[4096], *buf = NULL, *line;
	unsigned lineno = 0;
	struct stat st;
	size_t len;
	int fd, rc, seen = 0;
	uid_t owner = ns_root_is_live(root) ? 0 : geteuid();

	*found = 0;
	ns_vm_users_default(out);
	rc = ns_path(path, sizeof(path), root, "%s", NS_CONFIG_FILE);
	if (rc < 0)
		return rc;
	fd = ns_file_open_regular(AT_FDCWD, path, O_RDONLY, &st);
	if (fd == -ENOENT)
		return 0; /* no file: the defaults */
	if (fd < 0)
		return ns_detail(fd == -ELOOP ? -EPERM : fd, "%s: %s", path,
				 fd == -ELOOP ? "a symbolic link, refused" : strerror(-fd));
	/* a file anyone but root could have written says nothing root acts on */
	if (st.st_uid != owner || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return ns_detail(-EPERM, "%s: owned by uid %u, mode %04o: must be root's and not writable by group or others",
				 path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
	}
	close(fd);
	rc = ns_file_read_all(path, NS_CONFIG_MAX, &buf, &len);
	if (rc < 0)
		return ns_detail(rc, "%s: %s", path, strerror(-rc));
	if (strlen(buf) != len) {
		rc = ns_detail(-EINVAL, "%s: holds a NUL byte", path);
		goto out;
	}
	for (char *p = buf; p; lineno++) {
		char *key = NULL, *val = NULL, *nl = strchr(p, '\n');

		line = p;
		p = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		if (!nl && !*line)
			break;
		if (!*line || line[0] == '#')
			continue;
		rc = config_line(path, lineno + 1, line, &key, &val);
		if (rc < 0)
			goto out;
		if (strcmp(key, "NUMASAFE_VM_USERS") != 0) {
			/* the rebalance policy's settings are its script's to judge */
			if (strncmp(key, "REBALANCE_", 10) == 0)
				continue;
			rc = ns_detail(-EINVAL, "%s:%u: unknown setting %s", path, lineno + 1, key);
			goto out;
		}
		if (seen++) {
			rc = ns_detail(-EINVAL, "%s:%u: NUMASAFE_VM_USERS set twice", path, lineno + 1);
			goto out;
		}
		rc = ns_vm_users_parse(val, out);
		if (rc < 0) {
			char why[256];

			snprintf(why, sizeof(why), "%s", ns_error_detail());
			rc = ns_detail(rc, "%s:%u: NUMASAFE_VM_USERS: %s", path, lineno + 1, why);
			goto out;
		}
		*found = 1;
	}
	rc = 0;
out:
	free(buf);
	if (rc < 0)
		ns_vm_users_default(out);
	return rc;
}
