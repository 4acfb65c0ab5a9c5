/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fuzz targets' shared helpers (fuzz.h): input copies and the private root tree. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static char root[PATH_MAX];

static void die(const char *what, const char *path)
{
	fprintf(stderr, "fuzz: %s %s: %s\n", what, path, strerror(errno));
	abort();
}

char *fz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		die("malloc", "");
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_root(void)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fz_root(void)
{
	const char *tmp = getenv("TMPDIR");

	if (root[0])
		return root;
	snprintf(root, sizeof(root), "%s/ns-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root))
		die("mkdtemp", root);
	atexit(rm_root);
	return root;
}

void fz_write(const char *rel, const void *data, size_t size)
{
	char path[PATH_MAX];
	const char *p = data;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", fz_root(), rel);
	for (char *s = strchr(path + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			die("mkdir", path);
		*s = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		die("open", path);
	while (size > 0) {
		ssize_t n = write(fd, p, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write", path);
		p += n;
		size -= (size_t)n;
	}
	if (close(fd) < 0)
		die("close", path);
}

void fz_remove(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", fz_root(), rel);
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
