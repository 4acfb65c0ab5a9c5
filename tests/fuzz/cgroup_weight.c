/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_cgroup_cpu_weight: /proc/PID/cgroup and /proc/PID/task/TID/cgroup in a private tree,
 * with cpu.weight (v2) and cpu.shares (v1, under cpu,cpuacct) holding 150 in every directory
 * of the path the text names, so the lookup (libvirt's per-thread levels stripped) finds a
 * file. Contract: 0 with that weight and the file it came from, or -errno. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "numasafe/procmem.h"
#include "numasafe/steal.h"
#include "fuzz.h"

/* Only names the harness may create under its tree: no "..", nothing odd. */
static int creatable(const char *p)
{
	if (strlen(p) > 300 || strstr(p, ".."))
		return 0;
	for (; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/._-:@\\", *p))
			return 0;
	return 1;
}

static void weights_along(const char *base, const char *file, const char *cg)
{
	char rel[1024];
	size_t off = (size_t)snprintf(rel, sizeof(rel), "%s", base);

	for (const char *p = cg;; p++) {
		if (*p == '/' || *p == '\0') {
			snprintf(rel + off, sizeof(rel) - off, "%.*s/%s", (int)(p - cg), cg, file);
			fz_write(rel, "150\n", 4);
		}
		if (*p == '\0')
			break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ns_cgroup_weight w;
	char *s = fz_str(data, size), cg[512];
	int version;

	fz_write("proc/1/cgroup", data, size);
	fz_write("proc/1/task/2/cgroup", data, size);
	if (ns_cgroup_path(s, "cpu", cg, sizeof(cg), &version) == 0 && creatable(cg)) {
		weights_along("sys/fs/cgroup", "cpu.weight", cg);
		weights_along("sys/fs/cgroup/cpu,cpuacct", "cpu.shares", cg);
	}
	for (int tid = 0; tid <= 2; tid += 2) {
		int rc = ns_cgroup_cpu_weight(fz_root(), 1, tid, &w);

		FZ_CHECK(rc <= 0);
		if (rc == 0) {
			FZ_CHECK(w.version == 1 || w.version == 2);
			FZ_CHECK(memchr(w.path, '\0', sizeof(w.path)) && memchr(w.file, '\0', sizeof(w.file)));
			FZ_CHECK(w.weight == 150 || (w.weight == 100 && w.file[0] == '\0'));
		}
	}
	fz_remove("sys");
	free(s);
	return 0;
}
