/* Path building and small-file reading under a root prefix. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

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

FILE *ns_fopen_root(const char *root, const char *rel, int *err)
{
	char path[4096];
	FILE *f;
	int fd, rc = ns_path(path, sizeof(path), root, "%s", rel);

	if (rc < 0) {
		*err = rc;
		return NULL;
	}
	/* as ns_read_file: a FIFO under a given root must not hang the reader */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	f = fd < 0 ? NULL : fdopen(fd, "r");
	*err = f ? 0 : -errno;
	if (!f && fd >= 0)
		close(fd);
	return f;
}

ssize_t ns_read_file(const char *path, char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;
	int fd, rc;

	if (len == 0)
		return -EINVAL;
	/* O_NONBLOCK: under a root given on the command line (a copied tree) a FIFO in place of
	 * a /proc or /sys file must fail, not hang; kernel files ignore the flag */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	for (;;) {
		n = read(fd, buf + off, len - 1 - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			close(fd);
			return rc;
		}
		if (n == 0 || off + (size_t)n >= len - 1) {
			off += (size_t)n;
			break;
		}
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	return (ssize_t)off;
}

int ns_read_u64(const char *path, uint64_t *out)
{
	char buf[64], *end;
	unsigned long long v;
	ssize_t n = ns_read_file(path, buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return -EINVAL;
	*out = v;
	return 0;
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
