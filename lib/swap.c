/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Swap areas and their pagemap swap types.
 *
 * /proc/swaps prints areas in swap-type order but skips unused types, so after an earlier
 * area was swapped off, line index != type, and the kernel exposes the type nowhere else.
 * We establish it from evidence: the types that processes' pagemaps show, fitted to the
 * lines by order and size (ns_swap_assign), and, where that leaves a choice, by comparing a
 * swapped page's bytes on each candidate device with the page itself (ns_swap_probe_content). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "numasafe/numasafe.h"
#include "numasafe/procmem.h"
#include "numasafe/swap.h"
#include "swap_int.h"
#include "util.h"

/* One field of a /proc/swaps line: *p moves past it and the blanks after it. */
static size_t swaps_field(const char **p, char *out, size_t len)
{
	size_t n = strcspn(*p, " \t");

	if (n == 0 || n >= len)
		return 0;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	*p += strspn(*p, " \t");
	return n;
}

int ns_swaps_read(const char *root, struct ns_swaps *s)
{
	struct ns_swaps *got = NULL;
	struct ns_lines l;
	char *line;
	int rc;

	ns_detail_clear();
	memset(s, 0, sizeof(*s));
	rc = ns_lines_open(&l, root, "/proc/swaps");
	if (rc < 0)
		return rc;
	got = calloc(1, sizeof(*got));
	if (!got) {
		rc = -ENOMEM;
		goto out;
	}
	/* the header is always there, swap or not: without it the file is not /proc/swaps */
	rc = ns_lines_next(&l, &line);
	if (rc == 0 || (rc > 0 && strncmp(line, "Filename", 8) != 0)) {
		rc = rc == 0 ? ns_detail(-EINVAL, "%s: empty, no header line", l.path)
			     : ns_lines_fail(&l, -EINVAL, "not the \"Filename Type Size Used Priority\" header");
		goto out;
	}
	while ((rc = ns_lines_next(&l, &line)) > 0) {
		struct ns_swap_area *a = &got->area[got->nr];
		char path[4096], kind[16], num[3][32];
		unsigned long long v[2], prio;
		const char *p = line;
		int neg;

		if (got->nr == NS_MAX_SWAPFILES) {
			rc = ns_lines_fail(&l, -ERANGE, "more than %d swap areas", NS_MAX_SWAPFILES);
			goto out;
		}
		if (!swaps_field(&p, path, sizeof(path)) || !swaps_field(&p, kind, sizeof(kind)) ||
		    !swaps_field(&p, num[0], sizeof(num[0])) || !swaps_field(&p, num[1], sizeof(num[1])) ||
		    !swaps_field(&p, num[2], sizeof(num[2])) || *p != '\0') {
			rc = ns_lines_fail(&l, -EINVAL, "not \"Filename Type Size Used Priority\"");
			goto out;
		}
		for (int k = 0; k < 2; k++) {
			rc = ns_uint_parse(num[k], UINT64_MAX, &v[k]);
			if (rc == 0 && ns_bytes_of(v[k], 1024, k ? &a->used : &a->size) < 0)
				rc = -ERANGE;
			if (rc < 0) {
				rc = ns_lines_fail(&l, rc, "%s: '%s' kB is %s", k ? "Used" : "Size", num[k],
						   rc == -ERANGE ? "out of range" : "not a number");
				goto out;
			}
		}
		if (a->used > a->size) {
			rc = ns_lines_fail(&l, -EINVAL, "Used is more than Size");
			goto out;
		}
		/* priorities are short ints, negative for the kernel's own choice */
		neg = num[2][0] == '-';
		rc = ns_uint_parse(num[2] + neg, neg ? 32768 : 32767, &prio);
		if (rc < 0) {
			rc = ns_lines_fail(&l, rc, "Priority: '%s' is not a number from -32768 to 32767", num[2]);
			goto out;
		}
		ns_unescape_octal(path); /* blanks come as \040 */
		snprintf(a->path, sizeof(a->path), "%s", path);
		snprintf(a->kind, sizeof(a->kind), "%s", kind);
		a->priority = neg ? -(int)prio : (int)prio;
		a->type = -1;
		got->nr++;
	}
	if (rc < 0)
		goto out;
	*s = *got;
	rc = 0;
out:
	free(got);
	ns_lines_close(&l);
	return rc;
}

int ns_swaps_find(const struct ns_swaps *s, const char *path)
{
	char real[4096];
	const char *want = path;

	/* /dev/disk/by-uuid/… and friends name the same area; /proc/swaps has the canonical name */
	if (realpath(path, real))
		want = real;
	for (int i = 0; i < s->nr; i++)
		if (strcmp(s->area[i].path, want) == 0 || strcmp(s->area[i].path, path) == 0)
			return i;
	return -ENOENT;
}

/* ---- gathering evidence from pagemaps ---- */

struct gather_ctx {
	struct ns_swap_evidence *ev;
	pid_t pid;
	/* when asked: the swapped span of each VMA (cur is the one being scanned) */
	struct ns_swap_range *r, cur;
	size_t nr, cap;
	bool want_ranges;
	int err;
};

static void gather_vma_end(struct gather_ctx *g, bool want);

/* A range ends where this much address space holds no swapped page: a VMA's few swapped
 * pages terabytes apart make a few small ranges, so the pagein neither walks nor cuts into
 * pieces the address space between them. */
#define RANGE_GAP (64ULL << 20)

static int gather_cb(void *arg, uint64_t addr, const uint64_t *e, size_t n)
{
	struct gather_ctx *g = arg;

	for (size_t i = 0; i < n; i++) {
		struct ns_swap_seen *seen;
		uint64_t off;

		if (!ns_pme_swapped(e[i]))
			continue;
		off = ns_pme_swap_offset(e[i]);
		/* migration/hwpoison/marker entries also set bit 62; real swap slots start at 1 */
		if (off == 0)
			continue;
		seen = &g->ev->type[ns_pme_swap_type(e[i])];
		seen->pages++;
		if (g->cur.start && addr + i * g->ev->page_size - g->cur.end >= RANGE_GAP)
			gather_vma_end(g, g->want_ranges);
		if (g->cur.start == 0)
			g->cur.start = addr + i * g->ev->page_size;
		g->cur.end = addr + (i + 1) * g->ev->page_size;
		if (off > seen->max_offset)
			seen->max_offset = off;
		if (seen->nsamples < NS_ARRAY_SIZE(seen->sample)) {
			seen->sample[seen->nsamples].pid = g->pid;
			seen->sample[seen->nsamples].addr = addr + i * g->ev->page_size;
			seen->sample[seen->nsamples].offset = off;
			seen->nsamples++;
		}
	}
	return 0;
}

/* End the VMA just scanned (or a range in it): remember its swapped span, if asked for and
 * there is one. */
static void gather_vma_end(struct gather_ctx *g, bool want)
{
	if (want && g->cur.start && g->err == 0) {
		if (g->nr == g->cap) {
			size_t nc = g->cap ? g->cap * 2 : 16;
			struct ns_swap_range *n = realloc(g->r, nc * sizeof(*n));

			if (!n)
				g->err = -ENOMEM;
			else {
				g->r = n;
				g->cap = nc;
			}
		}
		if (g->err == 0)
			g->r[g->nr++] = g->cur;
	}
	g->cur = (struct ns_swap_range){0, 0};
}

/* Below this much mapped, a process's whole pagemap (at most 128 KiB) is read rather than its
 * smaps: smaps prints ~20 lines per VMA and cost 2-5 times maps plus every VMA's pagemap for a
 * small process on this host, and the many small processes were the per-process cost. */
#define SMAPS_MIN_VMSIZE (64ULL << 20)

static int gather_pid(const char *root, pid_t pid, struct gather_ctx *g, bool want_ranges, bool use_smaps,
		      volatile sig_atomic_t *stop)
{
	struct ns_swap_evidence *ev = g->ev;
	struct ns_pagemap *pm = NULL;
	struct ns_maps *maps = NULL;
	struct ns_vma vma;
	int rc;

	if (ev->page_size == 0)
		ev->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	g->want_ranges = want_ranges;
	/* smaps says which VMAs hold swap; a fixture tree may only have maps */
	rc = use_smaps ? ns_maps_open_smaps(root, pid, &maps) : -ENOENT;
	if (rc == -ENOENT)
		rc = ns_maps_open(root, pid, &maps);
	if (rc < 0)
		goto out;
	rc = ns_pagemap_open(root, pid, &pm);
	if (rc < 0)
		goto out;
	while ((rc = ns_maps_next(maps, &vma)) > 0) {
		if (strcmp(vma.path, "[vsyscall]") == 0 || (vma.swap_known && vma.swap_kb == 0))
			continue;
		/* within a VMA with swap, only its populated parts: one swapped page in 16 TB
		 * of reserved address space costs a few page-table walks, not 32 GB of pagemap */
		rc = ns_pagemap_scan_populated(pm, vma.start, vma.end, stop, gather_cb, g);
		gather_vma_end(g, want_ranges);
		if (rc < 0)
			goto out;
	}
	if (rc == 0)
		rc = g->err;
out:
	ns_pagemap_close(pm);
	ns_maps_close(maps);
	return rc < 0 ? (rc == -ENOENT ? -ESRCH : rc) : 0;
}

int ns_swap_gather_pid(const char *root, pid_t pid, struct ns_swap_evidence *ev)
{
	struct gather_ctx g = {.ev = ev, .pid = pid};

	return gather_pid(root, pid, &g, false, true, NULL);
}

/* Add what one process showed to the whole host's evidence. */
static void merge(struct ns_swap_evidence *ev, const struct ns_swap_evidence *one)
{
	for (int t = 0; t < NS_MAX_SWAPFILES; t++) {
		struct ns_swap_seen *a = &ev->type[t];
		const struct ns_swap_seen *b = &one->type[t];

		a->pages += b->pages;
		if (b->max_offset > a->max_offset)
			a->max_offset = b->max_offset;
		for (unsigned k = 0; k < b->nsamples && a->nsamples < NS_ARRAY_SIZE(a->sample); k++)
			a->sample[a->nsamples++] = b->sample[k];
	}
}

int ns_swap_gather_each_ranges(const char *root, struct ns_swap_evidence *ev, ns_swap_proc_ranges_fn fn, void *arg,
			       volatile sig_atomic_t *stop)
{
	struct gather_ctx g = {0};
	struct ns_swap_evidence *one = NULL;
	struct ns_proc_usage *u = NULL;
	char path[4096];
	struct dirent *de;
	int rc = 0, any_swapped = 0, any_seen = 0;
	DIR *d;

	memset(ev, 0, sizeof(*ev));
	ev->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	rc = ns_path(path, sizeof(path), root, "/proc");
	if (rc < 0)
		return rc;
	d = opendir(path);
	if (!d)
		return -errno;
	u = calloc(1, sizeof(*u));
	one = calloc(1, sizeof(*one));
	if (!u || !one) {
		rc = -ENOMEM;
		goto out;
	}
	while ((de = readdir(d))) {
		unsigned long long pid;
		int r;

		if (ns_uint_parse(de->d_name, 0x7fffffff, &pid) < 0)
			continue;
		if (stop && *stop > 0) {
			rc = -EINTR;
			goto out;
		}
		u->swap_bytes = 0;
		u->vm_size = 0;
		if (ns_proc_status_read(root, (pid_t)pid, u) < 0 || u->swap_bytes == 0)
			continue;
		any_swapped = 1;
		memset(one, 0, sizeof(*one));
		one->page_size = ev->page_size;
		g.ev = one;
		g.pid = (pid_t)pid;
		g.nr = 0;
		g.err = 0;
		r = gather_pid(root, (pid_t)pid, &g, fn != NULL, u->vm_size == 0 || u->vm_size > SMAPS_MIN_VMSIZE, stop);
		if (r == -ESRCH)
			continue; /* exited meanwhile */
		if (r < 0) {
			rc = r;
			goto out;
		}
		merge(ev, one);
		if (fn) {
			rc = fn(arg, (pid_t)pid, u, one, g.r, g.nr);
			if (rc < 0)
				goto out;
		}
	}
	for (int t = 0; t < NS_MAX_SWAPFILES; t++)
		if (ev->type[t].pages)
			any_seen = 1;
	/* Swapped pages are counted but none carried a type: without CAP_SYS_ADMIN the kernel
	 * zeroes them. With it, the types are shown and seeing none means no page table holds a
	 * swap entry: VmSwap lags (6.1 counts a process's own faults per thread and folds them
	 * in every 64 events), and pages read back stay in the swap cache, counted in
	 * /proc/swaps, until swapoff(2) frees them. Root is never told it lacks a capability. */
	if (any_swapped && !any_seen && ns_root_is_live(root) && ns_cap_have(CAP_SYS_ADMIN) != 1)
		rc = -EPERM;
out:
	free(g.r);
	free(u);
	free(one);
	closedir(d);
	return rc;
}

struct each_plain {
	ns_swap_proc_fn fn;
	void *arg;
};

static int each_plain_cb(void *arg, pid_t pid, const struct ns_proc_usage *status, const struct ns_swap_evidence *one,
			 const struct ns_swap_range *r, size_t nr)
{
	struct each_plain *p = arg;

	(void)r;
	(void)nr;
	return p->fn(p->arg, pid, status, one);
}

int ns_swap_gather_each(const char *root, struct ns_swap_evidence *ev, ns_swap_proc_fn fn, void *arg)
{
	struct each_plain p = {fn, arg};

	return ns_swap_gather_each_ranges(root, ev, fn ? each_plain_cb : NULL, &p, NULL);
}

int ns_swap_gather(const char *root, struct ns_swap_evidence *ev)
{
	return ns_swap_gather_each(root, ev, NULL, NULL);
}

/* ---- fitting types to lines ---- */

/* Can line i be type t, judged by that line alone? */
static bool local_ok(const struct ns_swaps *s, const struct ns_swap_evidence *ev, const int *fixed, int i,
		     int t)
{
	const struct ns_swap_seen *seen = &ev->type[t];
	uint64_t ps = ev->page_size ? ev->page_size : 4096;

	if (fixed[i] >= 0 && fixed[i] != t)
		return false;
	for (int j = 0; j < s->nr; j++)
		if (j != i && fixed[j] == t)
			return false;
	if (seen->pages == 0)
		return true;
	return s->area[i].used > 0 && seen->max_offset < s->area[i].size / ps + 1;
}

static bool observed_between(const struct ns_swap_evidence *ev, int lo, int hi)
{
	for (int t = lo + 1; t < hi; t++)
		if (ev->type[t].pages)
			return true;
	return false;
}

/* feasible[i][t]: some assignment that explains every observed type gives line i type t. */
static void feasible_types(const struct ns_swaps *s, const struct ns_swap_evidence *ev, const int *fixed,
			   bool feasible[][NS_MAX_SWAPFILES])
{
	bool pre[NS_MAX_SWAPFILES][NS_MAX_SWAPFILES], suf[NS_MAX_SWAPFILES][NS_MAX_SWAPFILES];
	int n = s->nr, T = NS_MAX_SWAPFILES;

	for (int i = 0; i < n; i++)
		for (int t = 0; t < T; t++) {
			bool ok = local_ok(s, ev, fixed, i, t);

			if (ok && i == 0)
				ok = !observed_between(ev, -1, t);
			else if (ok) {
				bool any = false;

				for (int u = 0; u < t && !any; u++)
					any = pre[i - 1][u] && !observed_between(ev, u, t);
				ok = any;
			}
			pre[i][t] = ok;
		}
	for (int i = n - 1; i >= 0; i--)
		for (int t = T - 1; t >= 0; t--) {
			bool ok = local_ok(s, ev, fixed, i, t);

			if (ok && i == n - 1)
				ok = !observed_between(ev, t, T);
			else if (ok) {
				bool any = false;

				for (int u = t + 1; u < T && !any; u++)
					any = suf[i + 1][u] && !observed_between(ev, t, u);
				ok = any;
			}
			suf[i][t] = ok;
		}
	for (int i = 0; i < n; i++)
		for (int t = 0; t < T; t++)
			feasible[i][t] = pre[i][t] && suf[i][t];
}

static int settle(struct ns_swaps *s, const struct ns_swap_evidence *ev, const int *fixed, const char *how)
{
	bool feasible[NS_MAX_SWAPFILES][NS_MAX_SWAPFILES];
	int any = 0;

	feasible_types(s, ev, fixed, feasible);
	for (int i = 0; i < s->nr; i++) {
		int only = -1, count = 0;

		for (int t = 0; t < NS_MAX_SWAPFILES; t++)
			if (feasible[i][t]) {
				only = t;
				count++;
			}
		if (count == 0)
			return -EAGAIN; /* evidence contradicts the lines: /proc/swaps changed meanwhile */
		if (count == 1 && s->area[i].type < 0) {
			s->area[i].type = only;
			s->area[i].type_how = fixed[i] >= 0 ? "content" : how;
			any = 1;
		}
	}
	return any;
}

int ns_swap_assign(struct ns_swaps *s, const struct ns_swap_evidence *ev)
{
	int fixed[NS_MAX_SWAPFILES];
	int rc;

	for (int i = 0; i < NS_MAX_SWAPFILES; i++)
		fixed[i] = -1;
	for (int i = 0; i < s->nr; i++)
		s->area[i].type = -1;
	rc = settle(s, ev, fixed, "pagemap");
	return rc < 0 ? rc : 0;
}

/* Read one page of a swap area at a slot, bypassing the page cache (swap I/O does too). The
 * path is /proc/swaps' name for the area; whatever is found there now must be a block device
 * or a regular file, opened without following a link or waiting on a FIFO. */
static int read_slot(const char *path, uint64_t offset, uint64_t ps, void *buf)
{
	struct stat st;
	ssize_t got;
	int rc, fd = open(path, O_RDONLY | O_DIRECT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !(S_ISBLK(st.st_mode) || S_ISREG(st.st_mode))) {
		rc = -EINVAL;
		goto out;
	}
	/* O_NONBLOCK was for the open only: a read of the area must wait for the device */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	got = pread(fd, buf, ps, (off_t)(offset * ps));
	rc = got < 0 ? -errno : (uint64_t)got == ps ? 0 : -EIO;
out:
	close(fd);
	return rc;
}

static int read_proc_page(const char *root, pid_t pid, uint64_t addr, uint64_t ps, void *buf)
{
	char path[4096];
	ssize_t got;
	int fd, rc = ns_path(path, sizeof(path), root, "/proc/%d/mem", (int)pid);

	if (rc < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	got = pread(fd, buf, ps, (off_t)addr);
	close(fd);
	if (got < 0)
		return -errno;
	return (uint64_t)got == ps ? 0 : -EIO;
}

int ns_swap_probe_content(const char *root, struct ns_swaps *s, const struct ns_swap_evidence *ev)
{
	bool feasible[NS_MAX_SWAPFILES][NS_MAX_SWAPFILES];
	int fixed[NS_MAX_SWAPFILES];
	uint64_t ps = ev->page_size ? ev->page_size : 4096;
	void *dev = NULL, *mem = NULL;
	int rc = 0;

	if (!ns_root_is_live(root))
		return -EOPNOTSUPP;
	for (int i = 0; i < NS_MAX_SWAPFILES; i++)
		fixed[i] = -1;
	for (int i = 0; i < s->nr; i++)
		if (s->area[i].type >= 0)
			fixed[i] = s->area[i].type;
	if (posix_memalign(&dev, 4096, ps * NS_MAX_SWAPFILES) || posix_memalign(&mem, 4096, ps)) {
		rc = -ENOMEM;
		goto out;
	}
	for (int t = 0; t < NS_MAX_SWAPFILES; t++) {
		const struct ns_swap_seen *seen = &ev->type[t];
		bool done = false;

		if (seen->pages == 0)
			continue;
		for (int i = 0; i < s->nr; i++)
			if (fixed[i] == t)
				done = true;
		feasible_types(s, ev, fixed, feasible);
		for (unsigned k = 0; k < seen->nsamples && !done; k++) {
			int match = -1, matches = 0;
			bool have[NS_MAX_SWAPFILES] = {false};

			/* device first: once the page is read back the slot may be freed (tmpfs) */
			for (int i = 0; i < s->nr; i++)
				if (feasible[i][t])
					have[i] = read_slot(s->area[i].path, seen->sample[k].offset, ps,
							    (char *)dev + (size_t)i * ps) == 0;
			if (read_proc_page(root, seen->sample[k].pid, seen->sample[k].addr, ps, mem) < 0)
				continue;
			for (int i = 0; i < s->nr; i++)
				if (have[i] && memcmp((char *)dev + (size_t)i * ps, mem, ps) == 0) {
					match = i;
					matches++;
				}
			/* a page that is the same everywhere (zeros) proves nothing: try the next one */
			if (matches == 1) {
				fixed[match] = t;
				done = true;
			}
		}
	}
	rc = settle(s, ev, fixed, "pagemap");
	if (rc > 0)
		rc = 0;
out:
	free(dev);
	free(mem);
	return rc;
}
