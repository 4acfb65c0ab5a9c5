/* Path building and small-file reading under a root prefix. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "numasafe/numasafe.h"
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
	int rc = ns_path(path, sizeof(path), root, "%s", rel);

	if (rc < 0) {
		*err = rc;
		return NULL;
	}
	f = fopen(path, "re");
	*err = f ? 0 : -errno;
	return f;
}

ssize_t ns_read_file(const char *path, char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;
	int fd, rc;

	if (len == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
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

/* The detail of the last failure, per thread (see ns_error_detail in numasafe.h). */
static __thread char last_detail[1024];

const char *ns_error_detail(void)
{
	return last_detail;
}

void ns_detail_clear(void)
{
	last_detail[0] = '\0';
}

void ns_detail_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_detail, sizeof(last_detail), fmt, ap);
	va_end(ap);
}

int ns_file_replace(const char *path, const void *data, size_t len, mode_t mode_if_new)
{
	char tmp[4096], dir[4096];
	const char *base, *slash = strrchr(path, '/');
	const char *p = data;
	struct stat st;
	mode_t mode = mode_if_new;
	int fd, rc = 0;

	if (!path[0])
		return -EINVAL;
	if (slash) {
		if ((size_t)(slash - path) + 1 >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, (size_t)(slash - path) + 1);
		dir[slash - path + 1] = '\0';
		base = slash + 1;
	} else {
		dir[0] = '\0';
		base = path;
	}
	if (!base[0])
		return -EISDIR;
	/* an existing regular file keeps its mode; a symlink there is replaced, never followed */
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
		mode = st.st_mode & 07777;
	if (snprintf(tmp, sizeof(tmp), "%s.%s.XXXXXX", dir, base) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/* mkstemp creates with O_EXCL: a planted name or symlink makes it pick another, never
	 * write through it */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0)
		rc = -errno;
	while (rc == 0 && len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}
