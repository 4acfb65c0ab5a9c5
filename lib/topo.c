/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host's nodes, CPUs, distances, per-node meminfo, watermarks and hugetlb pools.
 * Read from sysfs rather than through libnuma so the same code runs on fixture trees. These
 * are the inputs of every headroom check, so the readers fail closed: a file missing, a line
 * that does not parse, a required line absent or a number that does not fit is an error
 * naming the file and line (ns_error_detail), never a value of 0 that would grow headroom. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "numasafe/topo.h"
#include "util.h"

struct ns_topo {
	int nr;
	struct ns_set online;
	struct ns_node *nodes;
	int *dist; /* nr * nr, by index */
	struct ns_hostmem host;
	int numa_balancing;
};

static uint64_t page_bytes(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (uint64_t)ps : 4096;
}

static const char *skip_blanks(const char *p)
{
	return p + strspn(p, " \t");
}

/* The first line of a file read whole, for a message. */
static const char *first_line(char *buf)
{
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* "Key:   1234 kB" or "Key:   1234" (the HugePages_ counts): the key (no blanks) and the
 * value in bytes for a kB value, or as is. -EINVAL (with the detail) for any other shape. */
static int meminfo_kv(const struct ns_lines *l, const char *line, char *key, size_t keylen, uint64_t *v)
{
	const char *p = line, *colon = strchr(line, ':');
	unsigned long long n;
	size_t klen;
	int rc;

	klen = colon ? (size_t)(colon - line) : 0;
	if (klen == 0 || klen >= keylen || strcspn(line, " \t") < klen)
		return ns_lines_fail(l, -EINVAL, "not a \"Key: value\" line");
	memcpy(key, line, klen);
	key[klen] = '\0';
	p = skip_blanks(colon + 1);
	rc = ns_uint_take(&p, UINT64_MAX, &n);
	if (rc == -ERANGE)
		return ns_lines_fail(l, rc, "%s: value out of range", key);
	if (rc < 0)
		return ns_lines_fail(l, rc, "%s: the value is not a decimal number", key);
	if (strcmp(p, " kB") == 0) {
		if (ns_bytes_of(n, 1024, v) < 0)
			return ns_lines_fail(l, -ERANGE, "%s: %llu kB is out of range", key, n);
	} else if (*p == '\0')
		*v = n;
	else
		return ns_lines_fail(l, -EINVAL, "%s: unexpected text after the value", key);
	return 0;
}

/* A meminfo key and where its value goes in the struct being filled. */
struct mem_key {
	const char *key;
	size_t off;
};

/* Store v when key is one of keys[n] (in the struct at base, noting it in *found and its line
 * in at[i]); a key seen twice is a damaged file. */
static int mem_key_take(const struct ns_lines *l, const struct mem_key *keys, size_t n, const char *key,
			uint64_t v, void *base, unsigned *found, unsigned *at)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, keys[i].key) == 0) {
			if (*found & (1u << i))
				return ns_lines_fail(l, -EINVAL, "%s a second time", key);
			*(uint64_t *)((char *)base + keys[i].off) = v;
			*found |= 1u << i;
			at[i] = l->lineno;
		}
	return 0;
}

static uint64_t mem_key_val(const struct mem_key *keys, const void *base, size_t i)
{
	return *(const uint64_t *)((const char *)base + keys[i].off);
}

/* A part of a whole the file reports (MemFree of MemTotal, SwapFree of SwapTotal, the free
 * hugetlb pages of the pool's): when both lines are there, the part cannot be larger. A file
 * saying so is not the kernel's (or is damaged), and taking it would grow the headroom out of
 * nothing, so it is refused naming the part's line. unit: 1024 for kB values (shown in kB),
 * 1 for counts. */
static int mem_not_above(const struct ns_lines *l, const struct mem_key *keys, const void *base, unsigned found,
			 const unsigned *at, size_t part, size_t whole, uint64_t unit)
{
	uint64_t p, w;

	if (!(found & (1u << part)) || !(found & (1u << whole)))
		return 0;
	p = mem_key_val(keys, base, part);
	w = mem_key_val(keys, base, whole);
	if (p <= w)
		return 0;
	return ns_detail(-EINVAL, "%s:%u: %s %llu%s is more than %s %llu%s (line %u): not a true reading", l->path,
			 at[part], keys[part].key, (unsigned long long)(p / unit), unit == 1024 ? " kB" : "",
			 keys[whole].key, (unsigned long long)(w / unit), unit == 1024 ? " kB" : "", at[whole]);
}

/* Every one of keys[n] was seen, or the file is refused, naming the first missing one. */
static int mem_keys_all(const struct ns_lines *l, const struct mem_key *keys, size_t n, unsigned found)
{
	for (size_t i = 0; i < n; i++)
		if (!(found & (1u << i)))
			return ns_detail(-EINVAL, "%s: no %s line", l->path, keys[i].key);
	return 0;
}

/* A node's meminfo as read: the node, and the default pool's hugetlb counts, which are only
 * checked against each other. */
struct node_mem {
	struct ns_node n;
	uint64_t hp_total, hp_free, hp_surp;
};

/* The first NODE_KEYS_REQUIRED are required; the HugePages_ lines are not (kernels without
 * hugetlb have none). */
#define NODE_KEYS_REQUIRED 9
enum { NK_MEMTOTAL, NK_MEMFREE, NK_HPTOTAL = NODE_KEYS_REQUIRED, NK_HPFREE, NK_HPSURP };
static const struct mem_key node_keys[] = {
	{"MemTotal", offsetof(struct node_mem, n.mem_total)},
	{"MemFree", offsetof(struct node_mem, n.mem_free)},
	{"MemUsed", offsetof(struct node_mem, n.mem_used)},
	{"FilePages", offsetof(struct node_mem, n.file_pages)},
	{"Active(file)", offsetof(struct node_mem, n.active_file)},
	{"Inactive(file)", offsetof(struct node_mem, n.inactive_file)},
	{"AnonPages", offsetof(struct node_mem, n.anon_pages)},
	{"Shmem", offsetof(struct node_mem, n.shmem)},
	{"SReclaimable", offsetof(struct node_mem, n.sreclaimable)},
	{"HugePages_Total", offsetof(struct node_mem, hp_total)},
	{"HugePages_Free", offsetof(struct node_mem, hp_free)},
	{"HugePages_Surp", offsetof(struct node_mem, hp_surp)},
};

int ns_node_read_meminfo(const char *root, int node, struct ns_node *n)
{
	struct node_mem got = {.n = *n};
	unsigned found = 0, at[NS_ARRAY_SIZE(node_keys)] = {0};
	struct ns_lines l;
	char *line;
	int rc;

	ns_detail_clear();
	rc = ns_lines_open(&l, root, "/sys/devices/system/node/node%d/meminfo", node);
	if (rc < 0)
		return rc;
	while ((rc = ns_lines_next(&l, &line)) > 0) {
		const char *p = line;
		unsigned long long id;
		char key[64];
		uint64_t v;

		/* "Node 0 MemFree:        4472380 kB" */
		if (strncmp(p, "Node ", 5) != 0 || (p += 5, ns_uint_take(&p, INT32_MAX, &id)) < 0 || *p != ' ') {
			rc = ns_lines_fail(&l, -EINVAL, "not a \"Node N Key: value\" line");
			goto out;
		}
		if (id != (unsigned long long)node) {
			rc = ns_lines_fail(&l, -EINVAL, "a line of node %llu in node %d's file", id, node);
			goto out;
		}
		rc = meminfo_kv(&l, skip_blanks(p), key, sizeof(key), &v);
		if (rc == 0)
			rc = mem_key_take(&l, node_keys, NS_ARRAY_SIZE(node_keys), key, v, &got, &found, at);
		if (rc < 0)
			goto out;
	}
	if (rc < 0)
		goto out;
	/* every kernel since 2.6 writes them all; one missing means a damaged file */
	rc = mem_keys_all(&l, node_keys, NODE_KEYS_REQUIRED, found);
	if (rc == 0)
		rc = mem_not_above(&l, node_keys, &got, found, at, NK_MEMFREE, NK_MEMTOTAL, 1024);
	if (rc == 0)
		rc = mem_not_above(&l, node_keys, &got, found, at, NK_HPFREE, NK_HPTOTAL, 1);
	if (rc == 0)
		rc = mem_not_above(&l, node_keys, &got, found, at, NK_HPSURP, NK_HPTOTAL, 1);
	if (rc < 0)
		goto out;
	*n = got.n;
	rc = 0;
out:
	ns_lines_close(&l);
	return rc;
}

/* The node's hugetlb pools. The counts are safety inputs (a hugetlb move checks the target's
 * free pages), so a pool directory whose files do not read is an error. */
static int read_hpools(const char *root, struct ns_node *n)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	rc = ns_path(path, sizeof(path), root, "/sys/devices/system/node/node%d/hugepages", n->id);
	if (rc < 0)
		return rc;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : ns_detail(-errno, "%s: %s", path, strerror(errno)); /* kernels without hugetlb have no directory */
	n->nr_hpools = 0;
	while ((de = readdir(d)) && n->nr_hpools < NS_MAX_HPOOLS) {
		struct ns_hpool *h = &n->hpools[n->nr_hpools];
		const char *p = de->d_name;
		unsigned long long kb;
		uint64_t fb;
		char p2[4096 + 512];

		if (strncmp(p, "hugepages-", 10) != 0)
			continue;
		p += 10;
		if (ns_uint_take(&p, UINT64_MAX, &kb) < 0 || strcmp(p, "kB") != 0) {
			rc = ns_detail(-EINVAL, "%s/%s: not a hugetlb pool name", path, de->d_name);
			break;
		}
		memset(h, 0, sizeof(*h));
		if (ns_bytes_of(kb, 1024, &h->page_size) < 0 || kb == 0) {
			rc = ns_detail(-ERANGE, "%s/%s: page size out of range", path, de->d_name);
			break;
		}
		snprintf(p2, sizeof(p2), "%s/%s/nr_hugepages", path, de->d_name);
		rc = ns_read_u64(p2, &h->total);
		if (rc == 0) {
			snprintf(p2, sizeof(p2), "%s/%s/free_hugepages", path, de->d_name);
			rc = ns_read_u64(p2, &h->free);
		}
		if (rc == 0) {
			snprintf(p2, sizeof(p2), "%s/%s/surplus_hugepages", path, de->d_name);
			rc = ns_read_u64(p2, &h->surplus);
		}
		/* free and surplus pages are part of the pool's nr_hugepages */
		if (rc == 0 && (h->free > h->total || h->surplus > h->total))
			rc = ns_detail(-EINVAL, "%s/%s: %s_hugepages %llu is more than nr_hugepages %llu: not a true reading",
				       path, de->d_name, h->free > h->total ? "free" : "surplus",
				       (unsigned long long)(h->free > h->total ? h->free : h->surplus),
				       (unsigned long long)h->total);
		if (rc == 0 && ns_bytes_of(h->free, h->page_size, &fb) < 0)
			rc = ns_detail(-ERANGE, "%s: %llu pages of %llu kB are out of range", p2,
				       (unsigned long long)h->free, kb);
		if (rc < 0)
			break;
		n->nr_hpools++;
	}
	closedir(d);
	if (rc < 0)
		return rc;
	/* readdir order is arbitrary: sort by page size so output is stable */
	for (unsigned i = 1; i < n->nr_hpools; i++)
		for (unsigned j = i; j > 0 && n->hpools[j - 1].page_size > n->hpools[j].page_size; j--) {
			struct ns_hpool tmp = n->hpools[j];

			n->hpools[j] = n->hpools[j - 1];
			n->hpools[j - 1] = tmp;
		}
	return 0;
}

/* One zone's watermarks while reading zoneinfo. */
struct zone_acc {
	int node; /* index into nodes, -1 for a node we do not read */
	unsigned have; /* bits: min, low, high */
	unsigned line; /* of its "Node N, zone NAME" header */
	char name[32];
	unsigned long long pages[3];
};

static const char *const wmark_keys[3] = {"min", "low", "high"};

/* A zone of a node, as zoneinfo listed it. */
#define NS_ZONES_MAX 8 /* more than the kernel's MAX_NR_ZONES (at most 6) */
struct zone_seen {
	unsigned line; /* 0: not seen */
	char name[32];
};

/* Close a zone: all three watermarks must have been there; add them to the node's sums. */
static int zone_end(const struct ns_lines *l, const struct zone_acc *z, uint64_t ps, uint64_t (*sum)[3],
		    const struct ns_node *nodes)
{
	for (int k = 0; k < 3; k++) {
		uint64_t b;

		if (z->node < 0)
			continue;
		if (!(z->have & (1u << k)))
			return ns_detail(-EINVAL, "%s:%u: node %d zone %s: no %s watermark before line %u", l->path,
					 z->line, nodes[z->node].id, z->name, wmark_keys[k], l->lineno + 1);
		if (ns_bytes_of(z->pages[k], ps, &b) < 0)
			return ns_detail(-ERANGE, "%s:%u: node %d zone %s: %s watermark %llu pages is out of range",
					 l->path, z->line, nodes[z->node].id, z->name, wmark_keys[k], z->pages[k]);
		if (__builtin_add_overflow(sum[z->node][k], b, &sum[z->node][k]))
			return ns_detail(-ERANGE, "%s:%u: node %d zone %s: the node's %s watermarks add up past 2^64 bytes",
					 l->path, z->line, nodes[z->node].id, z->name, wmark_keys[k]);
	}
	return 0;
}

int ns_zoneinfo_read_wmarks(const char *root, struct ns_node *nodes, int nr)
{
	uint64_t ps = page_bytes(), (*sum)[3] = NULL;
	struct zone_acc z = {.node = -1};
	bool in_zone = false, *seen = NULL;
	/* the zones read of each node: a zone listed twice is refused */
	struct zone_seen (*zs)[NS_ZONES_MAX] = NULL;
	struct ns_lines l;
	char *line;
	int rc;

	ns_detail_clear();
	sum = calloc((size_t)(nr > 0 ? nr : 1), sizeof(*sum));
	seen = calloc((size_t)(nr > 0 ? nr : 1), sizeof(*seen));
	zs = calloc((size_t)(nr > 0 ? nr : 1), sizeof(*zs));
	if (!sum || !seen || !zs) {
		free(sum);
		free(seen);
		free(zs);
		return -ENOMEM;
	}
	rc = ns_lines_open(&l, root, "/proc/zoneinfo");
	if (rc < 0)
		goto out;
	while ((rc = ns_lines_next(&l, &line)) > 0) {
		unsigned long long v;
		const char *p, *val;
		int k;

		if (strncmp(line, "Node ", 5) == 0) {
			/* "Node 0, zone   Normal" */
			if (in_zone && (rc = zone_end(&l, &z, ps, sum, nodes)) < 0)
				goto out;
			p = line + 5;
			if (ns_uint_take(&p, INT32_MAX, &v) < 0 || strncmp(p, ", zone ", 7) != 0 ||
			    *skip_blanks(p + 7) == '\0' || strlen(skip_blanks(p + 7)) >= sizeof(z.name) ||
			    strcspn(skip_blanks(p + 7), " \t") != strlen(skip_blanks(p + 7))) {
				rc = ns_lines_fail(&l, -EINVAL, "not a \"Node N, zone NAME\" line");
				goto out;
			}
			memset(&z, 0, sizeof(z));
			z.node = -1;
			z.line = l.lineno;
			snprintf(z.name, sizeof(z.name), "%s", skip_blanks(p + 7));
			for (int i = 0; i < nr; i++)
				if (nodes[i].id >= 0 && (unsigned long long)nodes[i].id == v)
					z.node = i;
			if (z.node >= 0) {
				int zi = 0;

				seen[z.node] = true;
				/* the kernel lists each zone of a node once (at most MAX_NR_ZONES, 6):
				 * one listed twice would count its watermarks twice */
				for (; zi < NS_ZONES_MAX && zs[z.node][zi].line; zi++)
					if (strcmp(zs[z.node][zi].name, z.name) == 0)
						break;
				if (zi == NS_ZONES_MAX) {
					rc = ns_lines_fail(&l, -EINVAL, "node %d has more than %d zones", nodes[z.node].id,
							   NS_ZONES_MAX);
					goto out;
				}
				if (zs[z.node][zi].line) {
					rc = ns_lines_fail(&l, -EINVAL, "node %d zone %s a second time (first at line %u)",
							   nodes[z.node].id, z.name, zs[z.node][zi].line);
					goto out;
				}
				zs[z.node][zi].line = l.lineno;
				memcpy(zs[z.node][zi].name, z.name, sizeof(z.name));
			}
			in_zone = true;
			continue;
		}
		if (!in_zone) {
			rc = ns_lines_fail(&l, -EINVAL, "text before the first \"Node N, zone NAME\" line");
			goto out;
		}
		/* watermark lines are "        min      48": exactly key and number; the pagesets'
		 * "high:  0" carry a colon and are not watermarks */
		p = skip_blanks(line);
		for (k = 0; k < 3; k++)
			if (strncmp(p, wmark_keys[k], strlen(wmark_keys[k])) == 0 &&
			    (p[strlen(wmark_keys[k])] == ' ' || p[strlen(wmark_keys[k])] == '\t'))
				break;
		if (k == 3)
			continue;
		p = skip_blanks(p + strlen(wmark_keys[k]));
		val = p;
		rc = ns_uint_take(&p, UINT64_MAX, &v);
		if (rc == 0 && *p != '\0')
			rc = -EINVAL;
		if (rc == -ERANGE) {
			rc = ns_lines_fail(&l, rc, "watermark %s: %.40s is out of range", wmark_keys[k], val);
			goto out;
		}
		if (rc < 0) {
			rc = ns_lines_fail(&l, rc, "watermark %s: '%.40s' is not a number of pages", wmark_keys[k], val);
			goto out;
		}
		if (z.have & (1u << k)) {
			rc = ns_lines_fail(&l, -EINVAL, "watermark %s a second time in the zone", wmark_keys[k]);
			goto out;
		}
		z.have |= 1u << k;
		z.pages[k] = v;
	}
	if (rc < 0)
		goto out;
	if (in_zone && (rc = zone_end(&l, &z, ps, sum, nodes)) < 0)
		goto out;
	/* the kernel prints every zone of every online node, populated or not */
	for (int i = 0; i < nr; i++)
		if (!seen[i]) {
			rc = ns_detail(-EINVAL, "%s: no zones of node %d", l.path, nodes[i].id);
			goto out;
		}
	for (int i = 0; i < nr; i++) {
		nodes[i].wmark_min = sum[i][0];
		nodes[i].wmark_low = sum[i][1];
		nodes[i].wmark_high = sum[i][2];
	}
	rc = 0;
out:
	ns_lines_close(&l);
	free(sum);
	free(seen);
	free(zs);
	return rc;
}

int ns_hostmem_read(const char *root, struct ns_hostmem *m)
{
	/* the first five are required; the rest optional (SwapCached is a hint, the HugePages_
	 * counts are only checked against each other) */
	struct host_mem {
		struct ns_hostmem m;
		uint64_t hp_total, hp_free, hp_surp;
	};
	enum { K_MEMTOTAL, K_MEMFREE, K_MEMAVAIL, K_SWAPTOTAL, K_SWAPFREE, K_REQUIRED, K_HPTOTAL = K_REQUIRED + 1,
	       K_HPFREE, K_HPSURP };
	static const struct mem_key keys[] = {
		{"MemTotal", offsetof(struct host_mem, m.mem_total)},
		{"MemFree", offsetof(struct host_mem, m.mem_free)},
		{"MemAvailable", offsetof(struct host_mem, m.mem_available)},
		{"SwapTotal", offsetof(struct host_mem, m.swap_total)},
		{"SwapFree", offsetof(struct host_mem, m.swap_free)},
		{"SwapCached", offsetof(struct host_mem, m.swap_cached)},
		{"HugePages_Total", offsetof(struct host_mem, hp_total)},
		{"HugePages_Free", offsetof(struct host_mem, hp_free)},
		{"HugePages_Surp", offsetof(struct host_mem, hp_surp)},
	};
	unsigned found = 0, at[NS_ARRAY_SIZE(keys)] = {0};
	struct host_mem got;
	struct ns_lines l;
	char *line;
	int rc;

	ns_detail_clear();
	memset(&got, 0, sizeof(got));
	rc = ns_lines_open(&l, root, "/proc/meminfo");
	if (rc < 0)
		return rc;
	while ((rc = ns_lines_next(&l, &line)) > 0) {
		char key[64];
		uint64_t v;

		rc = meminfo_kv(&l, line, key, sizeof(key), &v);
		if (rc == 0)
			rc = mem_key_take(&l, keys, NS_ARRAY_SIZE(keys), key, v, &got, &found, at);
		if (rc < 0)
			goto out;
	}
	if (rc < 0)
		goto out;
	/* MemAvailable since 3.14; the others always */
	rc = mem_keys_all(&l, keys, K_REQUIRED, found);
	/* MemAvailable is free memory plus what reclaim could free, all of it in MemTotal */
	if (rc == 0)
		rc = mem_not_above(&l, keys, &got, found, at, K_MEMFREE, K_MEMTOTAL, 1024);
	if (rc == 0)
		rc = mem_not_above(&l, keys, &got, found, at, K_MEMAVAIL, K_MEMTOTAL, 1024);
	if (rc == 0)
		rc = mem_not_above(&l, keys, &got, found, at, K_SWAPFREE, K_SWAPTOTAL, 1024);
	if (rc == 0)
		rc = mem_not_above(&l, keys, &got, found, at, K_HPFREE, K_HPTOTAL, 1);
	if (rc == 0)
		rc = mem_not_above(&l, keys, &got, found, at, K_HPSURP, K_HPTOTAL, 1);
	if (rc < 0)
		goto out;
	*m = got.m;
	rc = 0;
out:
	ns_lines_close(&l);
	return rc;
}

static int read_distances(const char *root, struct ns_topo *t)
{
	char path[4096], buf[4096];

	t->dist = calloc((size_t)t->nr * (size_t)t->nr, sizeof(int));
	if (!t->dist)
		return -ENOMEM;
	for (int i = 0; i < t->nr; i++) {
		const char *p = buf;
		ssize_t n;
		int rc;

		for (int j = 0; j < t->nr; j++)
			t->dist[i * t->nr + j] = -1;
		rc = ns_path(path, sizeof(path), root, "/sys/devices/system/node/node%d/distance",
			     t->nodes[i].id);
		if (rc < 0)
			return rc;
		n = ns_read_file(path, buf, sizeof(buf));
		if (n < 0)
			continue; /* distances are informative; their absence is not fatal */
		/* the file has one column per *online* node id, in id order */
		for (int j = 0; j < t->nr; j++) {
			unsigned long long v;

			p = skip_blanks(p);
			if (*p == '\n' || *p == '\0')
				break;
			rc = ns_uint_take(&p, 255, &v); /* SLIT distances are one byte */
			if (rc < 0 || (*p != ' ' && *p != '\n' && *p != '\0'))
				return ns_detail(rc < 0 ? rc : -EINVAL, "%s: '%.40s' is not a list of distances", path,
						 first_line(buf));
			t->dist[i * t->nr + j] = (int)v;
		}
	}
	return 0;
}

/* The online nodes, each of which must have its directory: an online list naming nodes that
 * do not exist is a damaged view of the host, not 4096 empty nodes. Without the online file
 * (a kernel without CONFIG_NUMA) the host is node 0; *numa says which. */
static int read_online(const char *root, struct ns_set *online, bool *numa)
{
	char path[4096], dir[4096], buf[8192];
	struct stat st;
	ssize_t n;
	int rc;

	ns_set_clear(online);
	*numa = true;
	rc = ns_path(path, sizeof(path), root, "/sys/devices/system/node/online");
	if (rc < 0)
		return rc;
	n = ns_read_file(path, buf, sizeof(buf));
	if (n == -ENOENT) {
		*numa = false;
		return ns_set_add(online, 0);
	}
	if (n < 0)
		return ns_detail((int)n, "%s: %s", path, strerror((int)-n));
	if (n >= (ssize_t)sizeof(buf) - 1)
		return ns_detail(-EINVAL, "%s: longer than any node list", path);
	rc = ns_set_parse(buf, NS_SET_MAX, online);
	if (rc < 0 || ns_set_empty(online))
		return ns_detail(rc < 0 ? rc : -EINVAL, "%s: '%.40s' is not a node list", path, first_line(buf));
	for (int id = ns_set_next(online, 0); id >= 0; id = ns_set_next(online, (unsigned)id + 1)) {
		rc = ns_path(dir, sizeof(dir), root, "/sys/devices/system/node/node%d", id);
		if (rc < 0)
			return rc;
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
			return ns_detail(-EINVAL, "%s: node %d is online but %s does not exist", path, id, dir);
	}
	return 0;
}

int ns_topo_read(const char *root, struct ns_topo **out)
{
	char path[4096], buf[8192];
	struct ns_topo *t;
	bool numa;
	ssize_t n;
	int rc, i, id;

	ns_detail_clear();
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	rc = read_online(root, &t->online, &numa);
	if (rc < 0)
		goto fail;
	t->nr = (int)ns_set_count(&t->online);
	t->nodes = calloc((size_t)t->nr, sizeof(*t->nodes));
	if (!t->nodes) {
		rc = -ENOMEM;
		goto fail;
	}
	for (i = 0, id = ns_set_next(&t->online, 0); id >= 0; id = ns_set_next(&t->online, (unsigned)id + 1), i++) {
		struct ns_node *nd = &t->nodes[i];

		nd->id = id;
		rc = ns_path(path, sizeof(path), root, "/sys/devices/system/node/node%d/cpulist", id);
		if (rc < 0)
			goto fail;
		n = ns_read_file(path, buf, sizeof(buf));
		if (n >= 0) {
			rc = ns_set_parse(buf, NS_SET_MAX, &nd->cpus);
			if (rc < 0) {
				rc = ns_detail(rc, "%s: '%.40s' is not a CPU list", path, first_line(buf));
				goto fail;
			}
		}
		rc = ns_node_read_meminfo(root, id, nd);
		/* without CONFIG_NUMA there is no per-node meminfo: node 0 then reads as a node
		 * without memory, which nothing is moved to */
		if (rc == -ENOENT && !numa) {
			ns_detail_clear();
			rc = 0;
		}
		if (rc < 0)
			goto fail;
		rc = read_hpools(root, nd);
		if (rc < 0)
			goto fail;
	}
	rc = ns_zoneinfo_read_wmarks(root, t->nodes, t->nr);
	if (rc < 0)
		goto fail;
	rc = read_distances(root, t);
	if (rc < 0)
		goto fail;
	rc = ns_hostmem_read(root, &t->host);
	if (rc < 0)
		goto fail;
	rc = ns_path(path, sizeof(path), root, "/proc/sys/kernel/numa_balancing");
	if (rc < 0)
		goto fail;
	{
		uint64_t v;

		rc = ns_read_u64(path, &v);
		t->numa_balancing = rc < 0 ? rc : v > INT32_MAX ? -ERANGE : (int)v;
		ns_detail_clear(); /* informative: its absence or damage is shown, not fatal */
	}
	*out = t;
	return 0;
fail:
	ns_topo_free(t);
	return rc;
}

void ns_topo_free(struct ns_topo *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->dist);
	free(t);
}

int ns_topo_nr_nodes(const struct ns_topo *t)
{
	return t->nr;
}

const struct ns_node *ns_topo_node(const struct ns_topo *t, int idx)
{
	return (idx >= 0 && idx < t->nr) ? &t->nodes[idx] : NULL;
}

static int node_index(const struct ns_topo *t, int id)
{
	for (int i = 0; i < t->nr; i++)
		if (t->nodes[i].id == id)
			return i;
	return -1;
}

const struct ns_node *ns_topo_find(const struct ns_topo *t, int node_id)
{
	int i = node_index(t, node_id);

	return i < 0 ? NULL : &t->nodes[i];
}

const struct ns_set *ns_topo_nodes(const struct ns_topo *t)
{
	return &t->online;
}

int ns_topo_distance(const struct ns_topo *t, int from, int to)
{
	int a = node_index(t, from), b = node_index(t, to);

	if (a < 0 || b < 0 || !t->dist)
		return -1;
	return t->dist[a * t->nr + b];
}

const struct ns_hostmem *ns_topo_hostmem(const struct ns_topo *t)
{
	return &t->host;
}

int ns_topo_numa_balancing(const struct ns_topo *t)
{
	return t->numa_balancing;
}

int ns_topo_cpu_node(const struct ns_topo *t, unsigned cpu)
{
	for (int i = 0; i < t->nr; i++)
		if (ns_set_has(&t->nodes[i].cpus, cpu))
			return t->nodes[i].id;
	return -1;
}

int ns_topo_cpus_nodes(const struct ns_topo *t, const struct ns_set *cpus, struct ns_set *nodes)
{
	int orphans = 0;

	ns_set_clear(nodes);
	for (int c = ns_set_next(cpus, 0); c >= 0; c = ns_set_next(cpus, (unsigned)c + 1)) {
		int node = ns_topo_cpu_node(t, (unsigned)c);

		if (node >= 0)
			ns_set_add(nodes, (unsigned)node);
		else
			orphans++;
	}
	return orphans;
}
