/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A process's memory as /proc shows it: VMAs, per-node page counts, pagemap entries.
 * Every reader streams: memory use stays bounded whatever the size of the process. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "numasafe/procmem.h"
#include "util.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

const char *ns_kind_name(enum ns_kind k)
{
	static const char *const names[NS_KIND_COUNT] = {"anon", "thp", "file", "shmem", "hugetlb"};

	return (unsigned)k < NS_KIND_COUNT ? names[k] : "?";
}

/* ---- /proc/PID/maps ---- */

/* Both /proc/PID/maps and numa_maps are read a line at a time through this. */
struct line_reader {
	FILE *f;
	char *line;
	size_t cap;
};

static int lines_open(struct line_reader *l, const char *root, pid_t pid, const char *name)
{
	char path[4096];
	int rc = ns_path(path, sizeof(path), root, "/proc/%d/%s", (int)pid, name);

	if (rc < 0)
		return rc;
	l->line = NULL;
	l->cap = 0;
	l->f = fopen(path, "re");
	if (!l->f)
		return -errno;
	/* a small process's smaps is ~30 KiB: read it in one or two reads of 64 KiB, not
	 * stdio's 4 KiB pieces (each a seq_file restart in the kernel) */
	setvbuf(l->f, NULL, _IOFBF, 64 << 10);
	return 0;
}

/* The next line, NULL at the end or on error (*err then says which). */
static const char *lines_next(struct line_reader *l, int *err)
{
	*err = 0;
	errno = 0;
	if (getline(&l->line, &l->cap, l->f) < 0) {
		*err = errno ? -errno : 0;
		return NULL;
	}
	return l->line;
}

static void lines_close(struct line_reader *l)
{
	if (l->f)
		fclose(l->f);
	free(l->line);
}

struct ns_maps {
	struct line_reader lr;
	bool smaps;
	char *pending; /* smaps: the header line of the next VMA, read while finishing this one */
	size_t pcap;
};

int ns_maps_parse_line(const char *line, struct ns_vma *v)
{
	unsigned long long start, end, off, ino;
	unsigned maj, min;
	char perms[8];
	int pos = 0;

	memset(v, 0, sizeof(*v));
	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &off, &maj, &min, &ino,
		   &pos) < 7)
		return -EINVAL;
	if (end < start || strlen(perms) != 4)
		return -EINVAL;
	v->start = start;
	v->end = end;
	memcpy(v->perms, perms, 5);
	v->offset = off;
	v->dev_major = maj;
	v->dev_minor = min;
	v->inode = ino;
	if (pos > 0) {
		const char *p = line + pos;
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, "\n");
		if (n >= sizeof(v->path))
			n = sizeof(v->path) - 1;
		memcpy(v->path, p, n);
		v->path[n] = '\0';
	}
	return 0;
}

static int maps_open(const char *root, pid_t pid, bool smaps, struct ns_maps **out)
{
	struct ns_maps *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	rc = lines_open(&m->lr, root, pid, smaps ? "smaps" : "maps");
	if (rc < 0) {
		free(m);
		return rc;
	}
	m->smaps = smaps;
	*out = m;
	return 0;
}

int ns_maps_open(const char *root, pid_t pid, struct ns_maps **out)
{
	return maps_open(root, pid, false, out);
}

int ns_maps_open_smaps(const char *root, pid_t pid, struct ns_maps **out)
{
	return maps_open(root, pid, true, out);
}

/* smaps: VMA headers start with the hex start address, fields with a capitalised name. */
static bool smaps_header(const char *line)
{
	return (*line >= '0' && *line <= '9') || (*line >= 'a' && *line <= 'f');
}

int ns_maps_next(struct ns_maps *m, struct ns_vma *vma)
{
	int err;
	const char *line;

	if (!m->smaps) {
		line = lines_next(&m->lr, &err);
		if (!line)
			return err;
		return ns_maps_parse_line(line, vma) < 0 ? -EINVAL : 1;
	}
	if (m->pending && m->pending[0]) {
		if (ns_maps_parse_line(m->pending, vma) < 0)
			return -EINVAL;
	} else {
		line = lines_next(&m->lr, &err);
		if (!line)
			return err;
		if (ns_maps_parse_line(line, vma) < 0)
			return -EINVAL;
	}
	vma->swap_known = true;
	vma->swap_kb = 0;
	vma->rss_kb = 0;
	vma->thp_kb = 0;
	if (m->pending)
		m->pending[0] = '\0';
	while ((line = lines_next(&m->lr, &err))) {
		unsigned long long kb;

		if (smaps_header(line)) {
			size_t n = strlen(line) + 1;

			if (n > m->pcap) {
				char *p = realloc(m->pending, n);

				if (!p)
					return -ENOMEM;
				m->pending = p;
				m->pcap = n;
			}
			memcpy(m->pending, line, n);
			break;
		}
		if (line[0] == 'S' && strncmp(line, "Swap:", 5) == 0 && sscanf(line, "Swap: %llu kB", &kb) == 1)
			vma->swap_kb = kb;
		else if (line[0] == 'R' && strncmp(line, "Rss:", 4) == 0 && sscanf(line, "Rss: %llu kB", &kb) == 1)
			vma->rss_kb = kb;
		else if (line[0] == 'A' && strncmp(line, "AnonHugePages:", 14) == 0 &&
			 sscanf(line, "AnonHugePages: %llu kB", &kb) == 1)
			vma->thp_kb = kb;
	}
	return err < 0 ? err : 1;
}

void ns_maps_close(struct ns_maps *m)
{
	if (!m)
		return;
	lines_close(&m->lr);
	free(m->pending);
	free(m);
}

/* ---- /proc/PID/numa_maps ---- */

struct ns_numa_maps {
	struct line_reader lr;
	char root[4096];
};

static bool path_is_shmem(const char *root, const char *file)
{
	static const char *const prefixes[] = {"/dev/zero", "/SYSV", "/memfd:", "/dev/shm/"};
	struct statfs sfs;
	char path[4096];

	for (size_t i = 0; i < NS_ARRAY_SIZE(prefixes); i++)
		if (strncmp(file, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	/* any other tmpfs file: ask the filesystem (only meaningful on the live system) */
	if (!root || !ns_root_is_live(root))
		return false;
	if (ns_path(path, sizeof(path), root, "%s", file) < 0)
		return false;
	return statfs(path, &sfs) == 0 && (unsigned long)sfs.f_type == TMPFS_MAGIC;
}

int ns_vma_classify(const char *root, pid_t pid, const struct ns_vma *vma, uint64_t *huge_size)
{
	struct statfs sfs;
	char path[4096];

	*huge_size = 0;
	if (vma->path[0] == '\0' || strcmp(vma->path, "[heap]") == 0 || strcmp(vma->path, "[stack]") == 0 ||
	    strncmp(vma->path, "[anon:", 6) == 0)
		return NS_KIND_ANON;
	if (vma->path[0] == '[')
		return -1; /* [vdso], [vvar], [vsyscall], [uprobes]: nothing to move */
	/* the mapped file itself, even deleted or SysV: map_files links to it (needs root) */
	if (ns_path(path, sizeof(path), root, "/proc/%d/map_files/%llx-%llx", (int)pid,
		    (unsigned long long)vma->start, (unsigned long long)vma->end) == 0 &&
	    statfs(path, &sfs) == 0) {
		if ((unsigned long)sfs.f_type == HUGETLBFS_MAGIC) {
			*huge_size = (uint64_t)sfs.f_bsize;
			return NS_KIND_HUGETLB;
		}
		return (unsigned long)sfs.f_type == TMPFS_MAGIC ? NS_KIND_SHMEM : NS_KIND_FILE;
	}
	return path_is_shmem(root, vma->path) ? NS_KIND_SHMEM : NS_KIND_FILE;
}

int ns_numa_maps_parse_line(const char *root, const char *line, struct ns_numa_vma *v)
{
	char *copy, *tok, *save = NULL;
	unsigned long long addr;
	int n = 0, rc = 0;

	memset(v, 0, offsetof(struct ns_numa_vma, pages));
	if (sscanf(line, "%llx %63s %n", &addr, v->policy, &n) < 2 || n == 0)
		return -EINVAL;
	v->start = addr;
	v->page_size = 4096;
	copy = strdup(line + n);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		char *eq = strchr(tok, '=');
		unsigned long long val;

		if (!eq) {
			if (strcmp(tok, "heap") == 0)
				v->is_heap = true;
			else if (strcmp(tok, "stack") == 0)
				v->is_stack = true;
			else if (strcmp(tok, "huge") == 0)
				v->is_huge = true;
			continue;
		}
		*eq = '\0';
		if (strcmp(tok, "file") == 0) {
			snprintf(v->file, sizeof(v->file), "%s", eq + 1);
			ns_unescape_octal(v->file);
			continue;
		}
		if (strcmp(tok, "kernelpagesize_kB") == 0) {
			v->page_size = strtoull(eq + 1, NULL, 10) * 1024;
			continue;
		}
		val = strtoull(eq + 1, NULL, 10);
		if (tok[0] == 'N' && isdigit((unsigned char)tok[1])) {
			unsigned long node = strtoul(tok + 1, NULL, 10);

			if (node >= NS_MAX_NODES) {
				rc = -ERANGE;
				break;
			}
			/* clear lazily: only the slots this line may have left from an earlier one */
			for (unsigned i = v->max_node; i <= node; i++)
				v->pages[i] = 0;
			v->pages[node] = val;
			if (node + 1 > v->max_node)
				v->max_node = (unsigned)node + 1;
		} else if (strcmp(tok, "anon") == 0)
			v->anon = val;
		else if (strcmp(tok, "dirty") == 0)
			v->dirty = val;
		else if (strcmp(tok, "mapped") == 0)
			v->mapped = val;
		else if (strcmp(tok, "swapcache") == 0)
			v->swapcache = val;
		else if (strcmp(tok, "active") == 0)
			v->active = val;
		else if (strcmp(tok, "writeback") == 0)
			v->writeback = val;
		else if (strcmp(tok, "mapmax") == 0)
			v->mapmax = val;
	}
	free(copy);
	if (v->is_huge)
		v->kind = NS_KIND_HUGETLB;
	else if (v->file[0])
		v->kind = path_is_shmem(root, v->file) ? NS_KIND_SHMEM : NS_KIND_FILE;
	else
		v->kind = NS_KIND_ANON;
	return rc;
}

int ns_numa_maps_open(const char *root, pid_t pid, struct ns_numa_maps **out)
{
	struct ns_numa_maps *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	snprintf(m->root, sizeof(m->root), "%s", root ? root : "/");
	rc = lines_open(&m->lr, root, pid, "numa_maps");
	if (rc < 0) {
		free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int ns_numa_maps_next(struct ns_numa_maps *m, struct ns_numa_vma *v)
{
	int err, rc;
	const char *line = lines_next(&m->lr, &err);

	if (!line)
		return err;
	rc = ns_numa_maps_parse_line(m->root, line, v);
	return rc < 0 ? rc : 1;
}

void ns_numa_maps_close(struct ns_numa_maps *m)
{
	if (!m)
		return;
	lines_close(&m->lr);
	free(m);
}

/* ---- numa_maps and smaps together: what is resident, by kind and node ---- */

void ns_thp_split(const uint64_t *bytes, unsigned n, uint64_t thp, uint64_t *thp_out)
{
	unsigned __int128 total = 0;
	uint64_t left;
	unsigned last = n;

	for (unsigned i = 0; i < n; i++) {
		total += bytes[i];
		thp_out[i] = 0;
		if (bytes[i])
			last = i;
	}
	if (total == 0 || thp == 0)
		return;
	if ((unsigned __int128)thp > total)
		thp = total > UINT64_MAX ? UINT64_MAX : (uint64_t)total;
	left = thp;
	for (unsigned i = 0; i < n && left; i++) {
		uint64_t share = i == last ? left : (uint64_t)((unsigned __int128)bytes[i] * thp / total);

		if (share > bytes[i])
			share = bytes[i];
		if (share > left)
			share = left;
		thp_out[i] = share;
		left -= share;
	}
}

int ns_resident_scan(const char *root, pid_t pid, volatile sig_atomic_t *stop, ns_resident_fn fn, void *arg,
		     uint64_t *swapped)
{
	struct ns_numa_maps *nm = NULL;
	struct ns_maps *sm = NULL;
	struct ns_numa_vma *v = malloc(sizeof(*v));
	uint64_t *bytes = calloc(2 * NS_MAX_NODES, sizeof(*bytes)), *thp = bytes ? bytes + NS_MAX_NODES : NULL;
	struct ns_vma sv;
	bool have_sv = false;
	int rc;

	*swapped = 0;
	if (!v || !bytes) {
		rc = -ENOMEM;
		goto out;
	}
	rc = ns_numa_maps_open(root, pid, &nm);
	if (rc == 0)
		rc = ns_maps_open_smaps(root, pid, &sm);
	if (rc < 0) {
		rc = rc == -ENOENT ? -ESRCH : rc;
		goto out;
	}
	while ((rc = ns_numa_maps_next(nm, v)) > 0) {
		uint64_t huge = 0;
		int kind;

		if (stop && *stop > 0) {
			rc = -EINTR;
			goto out;
		}
		/* the smaps VMA that starts where this one does; one smaps has and numa_maps
		 * had not was mapped between the reads: passed over */
		while (!have_sv || sv.start < v->start) {
			rc = ns_maps_next(sm, &sv);
			if (rc < 0)
				goto out;
			if (rc == 0) {
				rc = -EAGAIN;
				goto out;
			}
			have_sv = true;
		}
		if (sv.start != v->start) {
			rc = -EAGAIN;
			goto out;
		}
		*swapped = ns_sat_add(*swapped, ns_sat_mul(sv.swap_kb, 1024));
		kind = ns_vma_classify(root, pid, &sv, &huge);
		if (v->is_huge) { /* numa_maps knows a hugetlb VMA whatever its path */
			kind = NS_KIND_HUGETLB;
			huge = v->page_size;
		}
		if (kind < 0 || v->max_node == 0)
			continue;
		for (unsigned n = 0; n < v->max_node; n++)
			bytes[n] = ns_sat_mul(v->pages[n], v->page_size);
		if (kind == NS_KIND_ANON && sv.thp_kb) {
			ns_thp_split(bytes, v->max_node, ns_sat_mul(sv.thp_kb, 1024), thp);
			for (unsigned n = 0; n < v->max_node; n++)
				bytes[n] -= thp[n];
			rc = fn(arg, NS_KIND_THP, v->page_size, thp, v->max_node);
			if (rc)
				goto out;
		}
		rc = fn(arg, (enum ns_kind)kind, kind == NS_KIND_HUGETLB ? huge : v->page_size, bytes, v->max_node);
		if (rc)
			goto out;
	}
out:
	ns_numa_maps_close(nm);
	ns_maps_close(sm);
	free(v);
	free(bytes);
	return rc;
}

/* ---- /proc/PID/status, stat, smaps_rollup ---- */

int ns_proc_status_read(const char *root, pid_t pid, struct ns_proc_usage *u)
{
	char path[4096], line[8192];
	int rc = ns_path(path, sizeof(path), root, "/proc/%d/status", (int)pid);
	FILE *f;

	if (rc < 0)
		return rc;
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	rc = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long kb;

		if (strncmp(line, "Name:", 5) == 0) {
			char *p = line + 5;

			while (*p == ' ' || *p == '\t')
				p++;
			p[strcspn(p, "\n")] = '\0';
			snprintf(u->comm, sizeof(u->comm), "%.63s", p);
		} else if (strncmp(line, "Mems_allowed_list:", 18) == 0)
			rc = ns_set_parse(line + 18 + strspn(line + 18, " \t"), NS_SET_MAX, &u->mems_allowed);
		else if (strncmp(line, "Cpus_allowed_list:", 18) == 0)
			rc = ns_set_parse(line + 18 + strspn(line + 18, " \t"), NS_SET_MAX, &u->cpus_allowed);
		else if (strncmp(line, "VmSwap:", 7) == 0 && sscanf(line, "VmSwap: %llu kB", &kb) == 1)
			u->swap_bytes = (uint64_t)kb * 1024;
		else if (strncmp(line, "VmSize:", 7) == 0 && sscanf(line, "VmSize: %llu kB", &kb) == 1)
			u->vm_size = ns_sat_mul((uint64_t)kb, 1024);
		if (rc < 0)
			break;
	}
	fclose(f);
	return rc;
}

#define PF_KTHREAD 0x00200000

int ns_proc_stat_read(const char *root, pid_t pid, struct ns_proc_stat *st)
{
	char path[4096], buf[1024], *p;
	ssize_t n;
	int rc;

	if (pid <= 0)
		return -ESRCH;
	rc = ns_path(path, sizeof(path), root, "/proc/%d/stat", (int)pid);
	if (rc < 0)
		return rc;
	n = ns_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	/* comm may hold spaces and parentheses: fields resume after the last ')'; starttime
	 * (field 22) is the 20th after it. It is absent from hand-made fixtures: then 0. */
	p = strrchr(buf, ')');
	memset(st, 0, sizeof(*st));
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			 &st->state, &st->flags, &st->start_time) < 2)
		return -EINVAL;
	return 0;
}

int ns_cgroup_path(const char *text, const char *controller, char *path, size_t len, int *version)
{
	const char *line = text;
	int found = 0;

	while (line && *line) {
		const char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		const char *end = strchr(line, '\n');
		size_t plen;

		if (!end)
			end = line + strlen(line);
		if (c1 && c2 && c2 < end) {
			char ctrls[256];
			size_t cl = (size_t)(c2 - c1 - 1);
			int is_ctl = 0;

			snprintf(ctrls, sizeof(ctrls), "%.*s", (int)(cl < sizeof(ctrls) ? cl : sizeof(ctrls) - 1), c1 + 1);
			for (char *save = NULL, *tok = strtok_r(ctrls, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				if (strcmp(tok, controller) == 0)
					is_ctl = 1;
			plen = (size_t)(end - c2 - 1);
			if (is_ctl || (cl == 0 && !found)) {
				if (plen >= len)
					return -ENAMETOOLONG;
				memcpy(path, c2 + 1, plen);
				path[plen] = '\0';
				*version = is_ctl ? 1 : 2;
				found = 1;
				if (is_ctl)
					return 0; /* the v1 hierarchy of the controller is where its files are */
			}
		}
		line = *end ? end + 1 : NULL;
	}
	return found ? 0 : -ENOENT;
}

int ns_proc_check_user(const char *root, pid_t pid)
{
	struct ns_proc_stat st;
	int rc = ns_proc_stat_read(root, pid, &st);

	if (rc < 0)
		return rc;
	/* a zombie has no memory and no future: as good as gone */
	if (st.state == 'Z' || st.state == 'X')
		return -ESRCH;
	return (st.flags & PF_KTHREAD) ? -EINVAL : 0;
}

static void read_thp(const char *root, pid_t pid, struct ns_proc_usage *u)
{
	char path[4096], line[256];
	FILE *f;

	if (ns_path(path, sizeof(path), root, "/proc/%d/smaps_rollup", (int)pid) < 0)
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long kb;

		if (sscanf(line, "AnonHugePages: %llu kB", &kb) == 1)
			u->thp_bytes = (uint64_t)kb * 1024;
	}
	fclose(f);
}

int ns_proc_usage_read(const char *root, pid_t pid, struct ns_proc_usage **out)
{
	struct ns_proc_usage *u = NULL;
	struct ns_numa_maps *nm = NULL;
	struct ns_numa_vma *v = NULL;
	int rc;

	rc = ns_proc_check_user(root, pid);
	if (rc < 0)
		return rc;
	u = calloc(1, sizeof(*u));
	v = malloc(sizeof(*v));
	if (!u || !v) {
		rc = -ENOMEM;
		goto out;
	}
	u->pid = pid;
	rc = ns_proc_status_read(root, pid, u);
	if (rc < 0)
		goto out;
	rc = ns_numa_maps_open(root, pid, &nm);
	if (rc < 0) {
		if (rc == -ENOENT)
			rc = -ESRCH;
		goto out;
	}
	while ((rc = ns_numa_maps_next(nm, v)) > 0) {
		for (unsigned n = 0; n < v->max_node; n++) {
			uint64_t b = v->pages[n] * v->page_size;

			u->bytes[v->kind][n] += b;
			u->total[v->kind] += b;
			u->node_total[n] += b;
		}
		if (v->max_node > u->max_node)
			u->max_node = v->max_node;
	}
	if (rc < 0)
		goto out;
	read_thp(root, pid, u);
	*out = u;
	u = NULL;
	rc = 0;
out:
	ns_numa_maps_close(nm);
	free(v);
	free(u);
	return rc;
}

/* ---- /proc/PID/pagemap ---- */

struct ns_pagemap {
	int fd;
	uint64_t page_size;
	uint64_t buf[NS_PAGEMAP_BATCH];
};

int ns_pagemap_open(const char *root, pid_t pid, struct ns_pagemap **out)
{
	char path[4096];
	struct ns_pagemap *pm;
	int rc = ns_path(path, sizeof(path), root, "/proc/%d/pagemap", (int)pid);

	if (rc < 0)
		return rc;
	pm = malloc(sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	pm->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pm->fd < 0) {
		rc = errno == ENOENT ? -ESRCH : -errno;
		free(pm);
		return rc;
	}
	pm->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	*out = pm;
	return 0;
}

void ns_pagemap_close(struct ns_pagemap *pm)
{
	if (!pm)
		return;
	close(pm->fd);
	free(pm);
}

int ns_pagemap_scan(struct ns_pagemap *pm, uint64_t start, uint64_t end, ns_pagemap_fn fn, void *arg)
{
	uint64_t addr = start & ~(pm->page_size - 1);

	while (addr < end) {
		uint64_t want = (end - addr + pm->page_size - 1) / pm->page_size;
		size_t n;
		ssize_t got;
		int rc;

		if (want > NS_PAGEMAP_BATCH)
			want = NS_PAGEMAP_BATCH;
		got = pread(pm->fd, pm->buf, want * sizeof(uint64_t), (off_t)(addr / pm->page_size * sizeof(uint64_t)));
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return errno == ESRCH ? -ESRCH : -errno;
		}
		n = (size_t)got / sizeof(uint64_t);
		if (n == 0)
			return -ESRCH; /* the process exited: pagemap reads return nothing */
		rc = fn(arg, addr, pm->buf, n);
		if (rc)
			return rc;
		addr += n * pm->page_size;
	}
	return 0;
}

/* address space per PAGEMAP_SCAN call in ns_pagemap_scan_populated: bounds each call's walk
 * (and the time between stop checks) whatever the mapping's size */
#define POP_SPAN (64ULL << 30)

int ns_pagemap_scan_populated(struct ns_pagemap *pm, uint64_t start, uint64_t end, volatile sig_atomic_t *stop,
			      ns_pagemap_fn fn, void *arg)
{
	uint64_t addr = start & ~(pm->page_size - 1), win = NS_PAGEMAP_BATCH * pm->page_size;
	bool scan = true;

	while (addr < end) {
		uint64_t lim, found, walk_end;
		int rc;

		if (stop && *stop > 0)
			return -EINTR;
		if (scan) {
			lim = end - addr > POP_SPAN ? addr + POP_SPAN : end;
			rc = ns_pagemap_next_populated(pm->fd, addr, lim, &found, &walk_end);
			if (rc == -EOPNOTSUPP) {
				scan = false; /* read pagemap itself from here on, window by window */
				continue;
			}
			if (rc < 0)
				return rc;
			if (rc == 0) {
				addr = walk_end > addr ? walk_end : lim;
				continue;
			}
			addr = found & ~(pm->page_size - 1);
		}
		/* one window of entries from the first populated page: a dense mapping costs one
		 * ioctl per window more than a plain read */
		lim = end - addr > win ? addr + win : end;
		rc = ns_pagemap_scan(pm, addr, lim, fn, arg);
		if (rc)
			return rc;
		addr = lim;
	}
	return 0;
}

int ns_pagemap_get(struct ns_pagemap *pm, uint64_t addr, uint64_t *entry)
{
	ssize_t got = pread(pm->fd, entry, sizeof(*entry), (off_t)(addr / pm->page_size * sizeof(uint64_t)));

	if (got < 0)
		return -errno;
	return got == sizeof(*entry) ? 0 : -ESRCH;
}

/* PAGEMAP_SCAN, as in the kernel's uapi linux/fs.h since 6.7 (the build's headers may predate it). */
struct ns_page_region {
	uint64_t start, end, categories;
};
struct ns_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define NS_PAGEMAP_SCAN _IOWR('f', 16, struct ns_pm_scan_arg)
#define NS_PAGE_IS_PRESENT (1ULL << 3)
#define NS_PAGE_IS_SWAPPED (1ULL << 4)

int ns_pagemap_next_populated(int fd, uint64_t start, uint64_t end, uint64_t *found, uint64_t *walk_end)
{
	struct ns_page_region r = {0, 0, 0};
	struct ns_pm_scan_arg a;
	int n;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.start = start;
	a.end = end;
	a.vec = (uint64_t)(uintptr_t)&r;
	a.vec_len = 1; /* the first range is all we want: the kernel stops at the second */
	a.category_anyof_mask = NS_PAGE_IS_PRESENT | NS_PAGE_IS_SWAPPED;
	a.return_mask = NS_PAGE_IS_PRESENT | NS_PAGE_IS_SWAPPED;
	do
		n = ioctl(fd, NS_PAGEMAP_SCAN, &a);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == ENOTTY || errno == EINVAL || errno == EOPNOTSUPP)
			return -EOPNOTSUPP;
		return errno == ESRCH ? -ESRCH : -errno;
	}
	*walk_end = a.walk_end > start && a.walk_end <= end ? a.walk_end : end;
	if (n == 0 || r.end <= r.start)
		return 0;
	*found = r.start < start ? start : r.start;
	return 1;
}
