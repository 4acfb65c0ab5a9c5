/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/pressure/memory: the kernel's own measure of time lost to memory shortage. A safety
 * input: what does not parse is an error naming the file and line, never a reading of 0.
 * Also the kernel's PSI triggers (a pressure file opened for writing, armed with "some STALL
 * WINDOW", polled for POLLPRI): an event as soon as the stall in a window passes the
 * threshold, where the averages take seconds to move. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "numasafe/numasafe.h"
#include "numasafe/psi.h"
#include "util.h"

/* " avg10=1.50 avg60=0.75 avg300=0.10 total=123456", after "some" or "full". */
static int parse_line(const char *p, struct ns_psi_line *l, const char **why)
{
	static const char *const keys[4] = {"avg10=", "avg60=", "avg300=", "total="};
	struct ns_psi_line got = {0};
	double *avg[3] = {&got.avg10, &got.avg60, &got.avg300};
	int rc;

	for (int k = 0; k < 4; k++) {
		char val[32];
		size_t n;

		if (*p != ' ' || strncmp(p + 1, keys[k], strlen(keys[k])) != 0) {
			*why = keys[k];
			return -EINVAL;
		}
		p += 1 + strlen(keys[k]);
		n = strcspn(p, " ");
		if (n == 0 || n >= sizeof(val)) {
			*why = keys[k];
			return n ? -ERANGE : -EINVAL;
		}
		memcpy(val, p, n);
		val[n] = '\0';
		p += n;
		if (k < 3) {
			rc = ns_double_parse(val, avg[k]);
			/* a share of time: at most 100% */
			if (rc == 0 && *avg[k] > 100.0)
				rc = -ERANGE;
		} else {
			unsigned long long total;

			rc = ns_uint_parse(val, UINT64_MAX, &total);
			got.total = total;
		}
		if (rc < 0) {
			*why = keys[k];
			return rc;
		}
	}
	if (*p != '\0') {
		*why = "the end of the line";
		return -EINVAL;
	}
	*l = got;
	return 0;
}

static int psi_parse(const char *text, const char *path, struct ns_psi *out)
{
	struct ns_psi got;
	const char *p = text;
	unsigned lineno = 0;
	int have_some = 0, rc;

	memset(&got, 0, sizeof(got));
	while (*p) {
		size_t len = strcspn(p, "\n");
		char line[256];
		const char *why = "";
		struct ns_psi_line *l;

		lineno++;
		if (len >= sizeof(line))
			return ns_detail(-EINVAL, "%s:%u: line too long", path, lineno);
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (p[len] == '\n');
		if (strncmp(line, "some", 4) == 0 && !have_some)
			l = &got.some;
		else if (strncmp(line, "full", 4) == 0 && !got.has_full)
			l = &got.full;
		else
			return ns_detail(-EINVAL, "%s:%u: not a \"some\" or \"full\" line, or one twice", path, lineno);
		rc = parse_line(line + 4, l, &why);
		if (rc == -ERANGE)
			return ns_detail(rc, "%s:%u: %s out of range", path, lineno, why);
		if (rc < 0)
			return ns_detail(rc, "%s:%u: %s expected", path, lineno, why);
		if (l == &got.some)
			have_some = 1;
		else
			got.has_full = 1;
	}
	if (!have_some)
		return ns_detail(-EINVAL, "%s: no \"some\" line", path);
	*out = got;
	return 0;
}

int ns_psi_parse(const char *text, struct ns_psi *out)
{
	ns_detail_clear();
	return psi_parse(text, "pressure", out);
}

int ns_psi_read(const char *root, struct ns_psi *out)
{
	char path[4096], buf[512];
	ssize_t n;
	int rc;

	ns_detail_clear();
	rc = ns_path(path, sizeof(path), root, "/proc/pressure/memory");
	if (rc < 0)
		return rc;
	n = ns_read_file(path, buf, sizeof(buf));
	if (n == -ENOENT || n == -EOPNOTSUPP)
		return ns_detail((int)n, "%s: %s: PSI is not available (a kernel without CONFIG_PSI, or booted with psi=0)",
				 path, strerror((int)-n));
	if (n < 0)
		return ns_detail((int)n, "%s: %s", path, strerror((int)-n));
	if ((size_t)n >= sizeof(buf) - 1)
		return ns_detail(-EINVAL, "%s: longer than a pressure file", path);
	return psi_parse(buf, path, out);
}

int ns_psi_open(const char *root, const char *file, int *fdp)
{
	char path[4096];
	struct stat st;
	int fd, rc;

	ns_detail_clear();
	*fdp = -1;
	rc = ns_path(path, sizeof(path), root, "%s", file);
	if (rc < 0)
		return rc;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = -errno;
		return ns_detail(rc, "%s: %s", path, strerror(-rc));
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return ns_detail(rc, "%s: %s", path, strerror(-rc));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return ns_detail(-EINVAL, "%s: not a pressure file", path);
	}
	*fdp = fd;
	return 0;
}

int ns_psi_read_fd(int fd, const char *name, struct ns_psi *out)
{
	char buf[512];
	ssize_t n;

	ns_detail_clear();
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0) {
		int rc = -errno;

		return ns_detail(rc, "%s: %s", name, strerror(-rc));
	}
	if ((size_t)n >= sizeof(buf) - 1)
		return ns_detail(-EINVAL, "%s: longer than a pressure file", name);
	buf[n] = '\0';
	return psi_parse(buf, name, out);
}

int ns_psi_trigger_open(const char *root, const char *file, uint64_t stall_us, uint64_t window_us, int *fdp)
{
	char path[4096], text[64];
	struct stat st;
	int fd = -1, rc, len;

	ns_detail_clear();
	*fdp = -1;
	rc = ns_path(path, sizeof(path), root, "%s", file);
	if (rc < 0)
		return rc;
	/* the kernel's own bounds: a window of 500 ms to 10 s, a stall within it */
	if (window_us < NS_PSI_WINDOW_MIN_US || window_us > NS_PSI_WINDOW_MAX_US || stall_us == 0 ||
	    stall_us > window_us)
		return ns_detail(-EINVAL, "%s: no trigger of %llu us in %llu us", path, (unsigned long long)stall_us,
				 (unsigned long long)window_us);
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = -errno;
		return ns_detail(rc, "%s: %s", path, strerror(-rc));
	}
	if (fstat(fd, &st) < 0) {
		rc = ns_detail(-errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = ns_detail(-EINVAL, "%s: not a pressure file", path);
		goto out;
	}
	len = snprintf(text, sizeof(text), "some %llu %llu", (unsigned long long)stall_us,
		       (unsigned long long)window_us);
	/* the kernel takes the trigger whole, NUL included, or refuses it */
	if (write(fd, text, (size_t)len + 1) < 0) {
		rc = -errno;
		ns_detail(rc, "%s: trigger \"%s\": %s", path, text, strerror(-rc));
		goto out;
	}
	*fdp = fd;
	fd = -1;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int ns_psi_trigger_wait(const int *fds, unsigned n, int timeout_ms, unsigned *fired, unsigned *broken)
{
	struct pollfd p[NS_PSI_TRIGGERS_MAX];
	int rc;

	*fired = *broken = 0;
	if (n == 0 || n > NS_PSI_TRIGGERS_MAX)
		return n ? -EINVAL : 0;
	for (unsigned i = 0; i < n; i++)
		p[i] = (struct pollfd){.fd = fds[i], .events = POLLPRI};
	rc = poll(p, n, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	for (unsigned i = 0; i < n; i++) {
		/* a cgroup removed under us (the VM went away) reports an error for ever: not pressure */
		if (p[i].revents & (POLLERR | POLLNVAL | POLLHUP))
			*broken |= 1U << i;
		else if (p[i].revents & POLLPRI)
			*fired |= 1U << i;
	}
	return *fired != 0;
}
