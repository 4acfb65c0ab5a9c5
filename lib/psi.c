/* /proc/pressure/memory: the kernel's own measure of time lost to memory shortage. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "numasafe/psi.h"
#include "util.h"

static int parse_line(const char *p, struct ns_psi_line *l)
{
	unsigned long long total;

	if (sscanf(p, " avg10=%lf avg60=%lf avg300=%lf total=%llu", &l->avg10, &l->avg60, &l->avg300,
		   &total) != 4)
		return -EINVAL;
	l->total = total;
	return 0;
}

int ns_psi_parse(const char *text, struct ns_psi *out)
{
	const char *p = text;
	int have_some = 0, rc;

	memset(out, 0, sizeof(*out));
	while (p && *p) {
		if (strncmp(p, "some", 4) == 0) {
			rc = parse_line(p + 4, &out->some);
			if (rc < 0)
				return rc;
			have_some = 1;
		} else if (strncmp(p, "full", 4) == 0) {
			rc = parse_line(p + 4, &out->full);
			if (rc < 0)
				return rc;
			out->has_full = 1;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return have_some ? 0 : -EINVAL;
}

int ns_psi_read(const char *root, struct ns_psi *out)
{
	char path[4096], buf[512];
	ssize_t n;
	int rc = ns_path(path, sizeof(path), root, "/proc/pressure/memory");

	if (rc < 0)
		return rc;
	n = ns_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n; /* -ENOENT: no PSI; -EOPNOTSUPP: built in, disabled with psi=0 */
	return ns_psi_parse(buf, out);
}
