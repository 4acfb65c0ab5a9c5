/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Safe handling of files a user could create or redirect (see numasafe/file.h): regular files
 * opened without following links or blocking, atomic replacement for root's writes, and the
 * run-time lock files. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file_int.h"
#include "util.h"
#include "numasafe/file.h"

static void say(char *errmsg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *errmsg, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!errmsg || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(errmsg, len, fmt, ap);
	va_end(ap);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Open the O_PATH descriptor's file for reading. Through /proc/self/fd it is the inode that
 * was checked, whatever happened to the name since; without /proc the name is opened again
 * (O_NOFOLLOW|O_NONBLOCK: no link followed, no FIFO waited on) and must be that inode. */
static int reopen(int pfd, int dirfd, const char *name, int flags, const struct stat *want)
{
	char self[64];
	struct stat st;
	int fd;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = open(self, flags);
	if (fd < 0 && errno == EPERM && (flags & O_NOATIME))
		fd = open(self, flags & ~O_NOATIME);
	if (fd < 0 && errno == ENOENT) {
		fd = openat(dirfd, name, flags | O_NOFOLLOW);
		if (fd < 0 && errno == EPERM && (flags & O_NOATIME))
			fd = openat(dirfd, name, (flags & ~O_NOATIME) | O_NOFOLLOW);
	}
	if (fd < 0)
		fd = -errno;
	else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !same_file(&st, want)) {
		close(fd);
		fd = -EAGAIN; /* renamed or replaced under us: the caller may look again */
	}
	return fd;
}

int ns_file_open_regular(int dirfd, const char *name, int flags, struct stat *out)
{
	struct stat st;
	int pfd, fd;

	pfd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (fstat(pfd, &st) < 0) {
		fd = -errno;
		goto out;
	}
	if (S_ISLNK(st.st_mode))
		fd = -ELOOP;
	else if (S_ISDIR(st.st_mode))
		fd = -EISDIR;
	else if (!S_ISREG(st.st_mode))
		fd = -EINVAL;
	else
		fd = reopen(pfd, dirfd, name, (flags & ~(O_CREAT | O_TRUNC | O_PATH)) | O_CLOEXEC | O_NONBLOCK, &st);
	if (fd >= 0 && out)
		*out = st;
out:
	close(pfd);
	return fd;
}

int ns_file_read_all(const char *path, size_t max, char **buf, size_t *len)
{
	struct stat st;
	size_t cap, off = 0;
	char *b = NULL;
	int fd, rc;

	*buf = NULL;
	*len = 0;
	fd = ns_file_open_regular(AT_FDCWD, path, O_RDONLY, &st);
	if (fd < 0)
		return fd;
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		rc = -EFBIG;
		goto out;
	}
	/* read one byte past the limit: a file that grows while it is read is caught too */
	cap = (size_t)st.st_size + 1;
	b = malloc(cap + 1);
	if (!b) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (off == cap) {
			size_t nc = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *nb;

			if (nc <= cap) {
				rc = -EFBIG;
				goto out;
			}
			nb = realloc(b, nc + 1);
			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			b = nb;
			cap = nc;
		}
		n = read(fd, b + off, cap - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (off > max) {
		rc = -EFBIG;
		goto out;
	}
	b[off] = '\0';
	*buf = b;
	*len = off;
	b = NULL;
	rc = 0;
out:
	free(b);
	close(fd);
	return rc;
}

/* The directory part of path ("." for a bare name) and the last component. */
static int split_path(const char *path, char *dir, size_t dlen, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		snprintf(dir, dlen, ".");
		*base = path;
	} else if (slash == path) {
		snprintf(dir, dlen, "/");
		*base = slash + 1;
	} else {
		if ((size_t)(slash - path) >= dlen)
			return -ENAMETOOLONG;
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		*base = slash + 1;
	}
	if (!**base)
		return -EISDIR; /* "dir/" names no file */
	if (strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0)
		return -EISDIR;
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* lstat of the component comp that starts at offset at of dir, for a message only. */
static bool lstat_at(const char *dir, int at, const char *comp, struct stat *st)
{
	char p[4096];

	if (snprintf(p, sizeof(p), "%.*s%s", at, dir, comp) >= (int)sizeof(p))
		return false;
	return lstat(p, st) == 0;
}

/* dir, opened one component at a time from / (or the working directory) with O_NOFOLLOW:
 * no symbolic link anywhere in it is followed, whoever owns it (a root-owned link in a
 * directory a user may write can be moved there by that user, so no link is trusted). The
 * last directory must belong to root or to us and be writable by nobody else: then nobody
 * else can put a file, a link or another directory under the name we write. Directories
 * above it may be anyone's: whatever they swap in is either a link (refused) or a directory
 * that fails the owner check. The detail says which component failed. */
static int outdir_open(const char *dir)
{
	char buf[4096], *comp, *next;
	struct stat st;
	int fd, nfd;

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	/* O_PATH on the way: a directory we may only search (mode 0711) is no obstacle */
	fd = open(buf[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ns_detail(-errno, "%s: %s", buf[0] == '/' ? "/" : ".", strerror(errno));
	for (comp = buf; comp; comp = next) {
		next = strchr(comp, '/');
		if (next)
			*next++ = '\0';
		if (!*comp || strcmp(comp, ".") == 0)
			continue;
		nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			int err = errno;
			struct stat lst;
			int at = (int)(comp - buf); /* the prefix of dir up to this component */

			close(fd);
			if ((err == ELOOP || err == ENOTDIR) && lstat_at(dir, at, comp, &lst) && S_ISLNK(lst.st_mode))
				return ns_detail(-EPERM,
						 "refusing it: %.*s%s is a symbolic link (owned by uid %u); an output "
						 "path may hold none", at, dir, comp, (unsigned)lst.st_uid);
			return ns_detail(-err, "%.*s%s: %s", at, dir, comp, strerror(err));
		}
		close(fd);
		fd = nfd;
	}
	/* the directory itself, readable (fsync wants it): "." is no link, it is this inode */
	nfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(fd);
	if (nfd < 0)
		return ns_detail(-errno, "%s: %s", dir, strerror(errno));
	fd = nfd;
	if (fstat(fd, &st) < 0) {
		int err = errno;

		close(fd);
		return ns_detail(-err, "%s: %s", dir, strerror(err));
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		close(fd);
		return ns_detail(-EPERM, "refusing it: directory %s is owned by uid %u, not root", dir,
				 (unsigned)st.st_uid);
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		close(fd);
		return ns_detail(-EPERM, "refusing it: directory %s is writable by %s (mode %04o)", dir,
				 st.st_mode & S_IWOTH ? "others" : "its group", (unsigned)(st.st_mode & 07777));
	}
	return fd;
}

/* A new file with a name nobody can have guessed, created (O_EXCL|O_NOFOLLOW) in dfd. */
static int tmp_create(int dfd, const char *base, char *name, size_t len)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

	for (int tries = 0; tries < 100; tries++) {
		unsigned char r[12];
		char rnd[13];
		int fd;

		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return -errno ? -errno : -EIO;
		for (size_t i = 0; i < sizeof(r); i++)
			rnd[i] = set[r[i] % (sizeof(set) - 1)];
		rnd[sizeof(r)] = '\0';
		if (snprintf(name, len, ".%.64s.%s", base, rnd) >= (int)len)
			return -ENAMETOOLONG;
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

int ns_file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	char dir[4096], tmp[128];
	const char *base;
	struct stat st;
	int fd = -1, dfd = -1, rc;

	ns_detail_clear();
	rc = split_path(path, dir, sizeof(dir), &base);
	if (rc < 0)
		return rc;
	dfd = outdir_open(dir);
	if (dfd < 0)
		return dfd;
	/* what is there now, without following a link: a regular file or a link is replaced, never
	 * followed, and lends nothing (not its mode, not its owner) */
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode)) {
			rc = -EISDIR;
			goto out;
		}
		if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
			rc = -EINVAL;
			goto out;
		}
	} else if (errno != ENOENT) {
		rc = -errno;
		goto out;
	}
	fd = tmp_create(dfd, base, tmp, sizeof(tmp));
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	rc = write_all(fd, data, len);
	/* the mode is ours to set (the umask and any set-id bits play no part) */
	if (rc == 0 && fchmod(fd, mode & 0777) < 0)
		rc = -errno;
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	fd = -1;
	/* relative to the directory checked: the file lands in it, whatever its name means now */
	if (rc == 0 && renameat(dfd, tmp, dfd, base) < 0)
		rc = -errno;
	if (rc < 0) {
		unlinkat(dfd, tmp, 0);
		goto out;
	}
	/* the rename itself is durable once the directory is */
	if (fsync(dfd) < 0 && errno != EINVAL)
		rc = -errno;
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	return rc;
}

/* ---- lock files ---- */

static bool lock_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64 || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

/* dir as a directory only root may change (lib/file_int.h); the refusals end with refusal. */
int ns_dir_open_root(const char *dir, int create, const char *refusal, char *errmsg, size_t len)
{
	struct stat st, lst;
	bool made = false;
	int dfd = -1, rc;

	if (create) {
		if (mkdir(dir, 0755) == 0)
			made = true;
		else if (errno != EEXIST) {
			rc = -errno;
			say(errmsg, len, "%s: %s", dir, strerror(-rc));
			goto out;
		}
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
		say(errmsg, len, "%s: %s; %s", dir,
		    lstat(dir, &lst) == 0 && S_ISLNK(lst.st_mode) ? "is a symbolic link" : "is not a directory",
		    refusal);
		rc = -EPERM;
		goto out;
	}
	if (dfd < 0 || fstat(dfd, &st) < 0) {
		rc = -errno;
		say(errmsg, len, "%s: %s", dir, strerror(-rc));
		goto out;
	}
	/* mkdir's mode went through the umask */
	if (made && (st.st_mode & 07777) != 0755 && fchmod(dfd, 0755) == 0)
		st.st_mode = (st.st_mode & ~07777u) | 0755;
	if (st.st_uid != 0) {
		say(errmsg, len, "%s: owned by uid %u, not root; %s", dir, (unsigned)st.st_uid, refusal);
		rc = -EPERM;
		goto out;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		say(errmsg, len, "%s: writable by %s (mode %04o); %s", dir,
		    st.st_mode & S_IWOTH ? "others" : "its group", (unsigned)(st.st_mode & 07777), refusal);
		rc = -EPERM;
		goto out;
	}
	rc = dfd;
	dfd = -1;
out:
	if (dfd >= 0)
		close(dfd);
	return rc;
}

/* A holder's name in a lock file: a command name, [a-z-], 1 to 31 characters. */
static bool who_ok(const char *s, size_t n)
{
	if (n == 0 || n >= NS_LOCK_WHO_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
			return false;
	return true;
}

/* The pid (and, after a space, the command) in a lock file held by someone else. The holder
 * writes them right after taking the lock, so an empty file is read again for a moment. pid 0
 * and who "" when they cannot be read. */
static pid_t lock_holder(int fd, char *who)
{
	char buf[64];

	if (who)
		who[0] = '\0';
	for (int i = 0; i < 20; i++) {
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		long v;
		char *end, *nl;

		if (n > 0) {
			buf[n] = '\0';
			v = strtol(buf, &end, 10);
			if (end == buf || v <= 0 || v > 0x3fffffff)
				return 0;
			if (*end == ' ' && (nl = strchr(end + 1, '\n')) && who_ok(end + 1, (size_t)(nl - end - 1))) {
				if (who)
					snprintf(who, NS_LOCK_WHO_MAX, "%.*s", (int)(nl - end - 1), end + 1);
			} else if (*end != '\n' && *end != '\0')
				return 0;
			return (pid_t)v;
		}
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	return 0;
}

int ns_runlock_take_in(const char *dir, const char *name, int *fd, pid_t *holder, char *errmsg, size_t len)
{
	return ns_runlock_take_who_in(dir, name, NULL, fd, holder, NULL, errmsg, len);
}

int ns_runlock_take_who_in(const char *dir, const char *name, const char *who, int *fd, pid_t *holder,
			   char *holder_who, char *errmsg, size_t len)
{
	char file[96], buf[32 + NS_LOCK_WHO_MAX];
	struct stat st;
	int dfd, f = -1, rc, n;

	*fd = -1;
	if (holder)
		*holder = 0;
	if (holder_who)
		holder_who[0] = '\0';
	if (errmsg && len)
		errmsg[0] = '\0';
	if (!lock_name_ok(name)) {
		say(errmsg, len, "'%s' is not a lock name", name);
		return -EINVAL;
	}
	if (who && !who_ok(who, strlen(who))) {
		say(errmsg, len, "'%s' is not a command name", who);
		return -EINVAL;
	}
	snprintf(file, sizeof(file), "%s.lock", name);
	/* created root-owned 0755 when missing */
	dfd = ns_dir_open_root(dir, 1, "refusing to keep lock files there", errmsg, len);
	if (dfd < 0)
		return dfd;
	f = openat(dfd, file, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	if (f < 0) {
		rc = -errno;
		say(errmsg, len, "%s/%s: %s", dir, file, rc == -ELOOP ? "is a symbolic link; refusing it" : strerror(-rc));
		goto out;
	}
	if (fstat(f, &st) < 0) {
		rc = -errno;
		say(errmsg, len, "%s/%s: %s", dir, file, strerror(-rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1) {
		say(errmsg, len, "%s/%s: not a plain lock file of ours (type, owner or links); refusing it", dir, file);
		rc = -EPERM;
		goto out;
	}
	if (flock(f, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		if (rc == -EWOULDBLOCK) {
			pid_t h = lock_holder(f, holder_who);

			if (holder)
				*holder = h;
			rc = -EBUSY;
		} else
			say(errmsg, len, "%s/%s: %s", dir, file, strerror(-rc));
		goto out;
	}
	/* ours now: only now is the old holder's pid replaced */
	n = who ? snprintf(buf, sizeof(buf), "%d %s\n", (int)getpid(), who)
		: snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(f, 0) < 0 || pwrite(f, buf, (size_t)n, 0) != n) {
		rc = errno ? -errno : -EIO;
		say(errmsg, len, "%s/%s: %s", dir, file, strerror(-rc));
		goto out;
	}
	*fd = f;
	f = -1;
	rc = 0;
out:
	if (f >= 0)
		close(f);
	close(dfd);
	return rc;
}

int ns_runlock_take(const char *name, int *fd, pid_t *holder, char *errmsg, size_t len)
{
	return ns_runlock_take_in(NS_RUNDIR, name, fd, holder, errmsg, len);
}

void ns_runlock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
