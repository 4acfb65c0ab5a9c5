/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Path building, small-file and line reading under a root prefix, and the per-thread error
 * detail that names the file and line a reader refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "numasafe/numasafe.h"
#include "util.h"

/* One per thread, like dlerror(3): the movers of numa-migrate read meminfo too. */
static __thread char detail[640];

const char *ns_error_detail(void)
{
	return detail[0] ? detail : NULL;
}

void ns_detail_clear(void)
{
	detail[0] = '\0';
}

int ns_detail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return err;
}

int ns_root_is_live(const char *root)
{
	return root == NULL || root[0] == '\0' || strcmp(root, "/") == 0;
}

int ns_path(char *buf, size_t len, const char *root, const char *fmt, ...)
{
	va_list ap;
	size_t off = 0;
	int n;

	if (!ns_root_is_live(root)) {
		n = snprintf(buf, len, "%s", root);
		if (n < 0 || (size_t)n >= len)
			return -ENAMETOOLONG;
		off = (size_t)n;
		/* fmt always starts with '/', so drop the root's trailing one */
		if (off > 0 && buf[off - 1] == '/')
			off--;
	}
	va_start(ap, fmt);
	n = vsnprintf(buf + off, len - off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - off)
		return -ENAMETOOLONG;
	return 0;
}

int ns_open_ro(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW), rc;

	if (fd < 0)
		return errno == ELOOP ? -EINVAL : -errno;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = -EINVAL;
	else
		return fd;
	close(fd);
	return rc;
}

ssize_t ns_read_file(const char *path, char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n, rc;
	int fd;

	if (len == 0)
		return -EINVAL;
	fd = ns_open_ro(path);
	if (fd < 0)
		return fd;
	for (;;) {
		n = read(fd, buf + off, len - 1 - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		off += (size_t)n;
		if (n == 0 || off >= len - 1)
			break;
	}
	buf[off] = '\0';
	rc = (ssize_t)off;
out:
	close(fd);
	return rc;
}

int ns_uint_take(const char **p, unsigned long long max, unsigned long long *v)
{
	char num[64];
	size_t n = strspn(*p, "0123456789");

	if (n == 0)
		return -EINVAL;
	*p += n;
	if (n >= sizeof(num))
		return -ERANGE; /* 64 digits are far past 2^64 */
	memcpy(num, *p - n, n);
	num[n] = '\0';
	return ns_uint_parse(num, max, v);
}

int ns_read_u64(const char *path, uint64_t *out)
{
	char buf[64];
	unsigned long long v;
	ssize_t n = ns_read_file(path, buf, sizeof(buf));
	int rc;

	if (n < 0)
		return ns_detail((int)n, "%s: %s", path, strerror((int)-n));
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	rc = ns_uint_parse(buf, UINT64_MAX, &v);
	if (rc == -ERANGE)
		return ns_detail(rc, "%s: %s is out of range", path, buf);
	if (rc < 0)
		return ns_detail(rc, "%s: '%.32s' is not a decimal number", path, buf);
	*out = v;
	return 0;
}

int ns_lines_open(struct ns_lines *l, const char *root, const char *fmt, ...)
{
	char rel[4096];
	va_list ap;
	int n, fd;

	l->f = NULL;
	l->lineno = 0;
	l->path[0] = '\0';
	va_start(ap, fmt);
	n = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rel) || ns_path(l->path, sizeof(l->path), root, "%s", rel) < 0)
		return ns_detail(-ENAMETOOLONG, "%s: %s", rel, strerror(ENAMETOOLONG));
	fd = ns_open_ro(l->path);
	if (fd < 0)
		return ns_detail(fd, "%s: %s", l->path, fd == -EINVAL ? "not a regular file" : strerror(-fd));
	l->f = fdopen(fd, "r");
	if (!l->f) {
		n = -errno;
		close(fd);
		return ns_detail(n, "%s: %s", l->path, strerror(-n));
	}
	return 0;
}

int ns_lines_next(struct ns_lines *l, char **line)
{
	size_t n = 0;
	bool nul = false;
	int c;

	/* byte by byte, with a bound: a planted file without newlines must not grow memory, and
	 * a NUL inside a line would hide the rest of it from every parser */
	while ((c = getc_unlocked(l->f)) != EOF && c != '\n') {
		if (n == NS_LINE_MAX)
			return ns_lines_fail(l, -EINVAL, "line %u longer than %d bytes", l->lineno + 1, NS_LINE_MAX);
		nul |= c == '\0';
		l->buf[n++] = (char)c;
	}
	if (c == EOF && ferror(l->f))
		return ns_lines_fail(l, -EIO, "%s", strerror(EIO));
	if (c == EOF && n == 0)
		return 0;
	l->buf[n] = '\0';
	l->lineno++;
	if (nul)
		return ns_lines_fail(l, -EINVAL, "NUL byte in the line");
	*line = l->buf;
	return 1;
}

int ns_lines_fail(const struct ns_lines *l, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->lineno)
		return ns_detail(err, "%s:%u: %s", l->path, l->lineno, msg);
	return ns_detail(err, "%s: %s", l->path, msg);
}

void ns_lines_close(struct ns_lines *l)
{
	if (l->f)
		fclose(l->f);
	l->f = NULL;
}

void ns_unescape_octal(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
		    r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 4;
		} else
			*w++ = *r++;
	}
	*w = '\0';
}
