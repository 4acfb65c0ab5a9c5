/* The host's nodes, CPUs, distances, per-node meminfo, watermarks and hugetlb pools.
 * Read from sysfs rather than through libnuma so the same code runs on fixture trees. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static const struct {
	const char *key;
	size_t off;
} node_keys[] = {
	{"MemTotal", offsetof(struct ns_node, mem_total)},
	{"MemFree", offsetof(struct ns_node, mem_free)},
	{"MemUsed", offsetof(struct ns_node, mem_used)},
	{"FilePages", offsetof(struct ns_node, file_pages)},
	{"Active(file)", offsetof(struct ns_node, active_file)},
	{"Inactive(file)", offsetof(struct ns_node, inactive_file)},
	{"AnonPages", offsetof(struct ns_node, anon_pages)},
	{"Shmem", offsetof(struct ns_node, shmem)},
	{"SReclaimable", offsetof(struct ns_node, sreclaimable)},
};

int ns_node_read_meminfo(const char *root, int node, struct ns_node *n)
{
	char path[4096], line[256];
	int rc, found = 0;
	FILE *f;

	rc = ns_path(path, sizeof(path), root, "/sys/devices/system/node/node%d/meminfo", node);
	if (rc < 0)
		return rc;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char key[64];
		unsigned long long v;
		int id;

		/* "Node 0 MemFree:  4472380 kB" */
		if (sscanf(line, "Node %d %63[^:]: %llu", &id, key, &v) != 3 || id != node)
			continue;
		for (size_t i = 0; i < NS_ARRAY_SIZE(node_keys); i++)
			if (strcmp(key, node_keys[i].key) == 0) {
				*(uint64_t *)((char *)n + node_keys[i].off) = (uint64_t)v * 1024;
				found++;
			}
	}
	fclose(f);
	/* MemTotal and MemFree are the two we cannot do without */
	return (n->mem_total || found >= 2) ? 0 : -EINVAL;
}

static int read_hpools(const char *root, struct ns_node *n)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int rc;

	rc = ns_path(path, sizeof(path), root, "/sys/devices/system/node/node%d/hugepages", n->id);
	if (rc < 0)
		return rc;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno; /* kernels without hugetlb have no directory */
	n->nr_hpools = 0;
	while ((de = readdir(d)) && n->nr_hpools < NS_MAX_HPOOLS) {
		struct ns_hpool *h = &n->hpools[n->nr_hpools];
		unsigned long long kb;
		char p2[4096 + 512];

		if (sscanf(de->d_name, "hugepages-%llukB", &kb) != 1)
			continue;
		memset(h, 0, sizeof(*h));
		h->page_size = (uint64_t)kb * 1024;
		snprintf(p2, sizeof(p2), "%s/%s/nr_hugepages", path, de->d_name);
		ns_read_u64(p2, &h->total);
		snprintf(p2, sizeof(p2), "%s/%s/free_hugepages", path, de->d_name);
		ns_read_u64(p2, &h->free);
		snprintf(p2, sizeof(p2), "%s/%s/surplus_hugepages", path, de->d_name);
		ns_read_u64(p2, &h->surplus);
		n->nr_hpools++;
	}
	closedir(d);
	/* readdir order is arbitrary: sort by page size so output is stable */
	for (unsigned i = 1; i < n->nr_hpools; i++)
		for (unsigned j = i; j > 0 && n->hpools[j - 1].page_size > n->hpools[j].page_size; j--) {
			struct ns_hpool tmp = n->hpools[j];

			n->hpools[j] = n->hpools[j - 1];
			n->hpools[j - 1] = tmp;
		}
	return 0;
}

int ns_zoneinfo_read_wmarks(const char *root, struct ns_node *nodes, int nr)
{
	uint64_t ps = page_bytes();
	struct ns_node *cur = NULL;
	char line[512];
	int err;
	FILE *f = ns_fopen_root(root, "/proc/zoneinfo", &err);

	if (!f)
		return err;
	for (int i = 0; i < nr; i++)
		nodes[i].wmark_min = nodes[i].wmark_low = nodes[i].wmark_high = 0;
	while (fgets(line, sizeof(line), f)) {
		char key[32];
		unsigned long long v;
		int id;

		if (sscanf(line, "Node %d, zone", &id) == 1) {
			cur = NULL;
			for (int i = 0; i < nr; i++)
				if (nodes[i].id == id)
					cur = &nodes[i];
			continue;
		}
		/* watermark lines are "        min      48": exactly key and number */
		if (!cur || sscanf(line, " %31s %llu", key, &v) != 2)
			continue;
		if (strcmp(key, "min") == 0)
			cur->wmark_min += v * ps;
		else if (strcmp(key, "low") == 0)
			cur->wmark_low += v * ps;
		else if (strcmp(key, "high") == 0)
			cur->wmark_high += v * ps;
	}
	fclose(f);
	return 0;
}

int ns_hostmem_read(const char *root, struct ns_hostmem *m)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{"MemTotal:", offsetof(struct ns_hostmem, mem_total)},
		{"MemFree:", offsetof(struct ns_hostmem, mem_free)},
		{"MemAvailable:", offsetof(struct ns_hostmem, mem_available)},
		{"SwapTotal:", offsetof(struct ns_hostmem, swap_total)},
		{"SwapFree:", offsetof(struct ns_hostmem, swap_free)},
	};
	char line[256];
	int err, found = 0;
	FILE *f = ns_fopen_root(root, "/proc/meminfo", &err);

	if (!f)
		return err;
	memset(m, 0, sizeof(*m));
	while (fgets(line, sizeof(line), f)) {
		char key[64];
		unsigned long long v;

		if (sscanf(line, "%63s %llu", key, &v) != 2)
			continue;
		for (size_t i = 0; i < NS_ARRAY_SIZE(keys); i++)
			if (strcmp(key, keys[i].key) == 0) {
				*(uint64_t *)((char *)m + keys[i].off) = (uint64_t)v * 1024;
				found++;
			}
	}
	fclose(f);
	return found ? 0 : -EINVAL;
}

static int read_distances(const char *root, struct ns_topo *t)
{
	char path[4096], buf[4096];

	t->dist = calloc((size_t)t->nr * (size_t)t->nr, sizeof(int));
	if (!t->dist)
		return -ENOMEM;
	for (int i = 0; i < t->nr; i++) {
		char *p = buf, *end;
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
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			t->dist[i * t->nr + j] = (int)v;
			p = end;
		}
	}
	return 0;
}

int ns_topo_read(const char *root, struct ns_topo **out)
{
	char path[4096], buf[8192];
	struct ns_topo *t;
	ssize_t n;
	int rc, i, id;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	rc = ns_path(path, sizeof(path), root, "/sys/devices/system/node/online");
	if (rc < 0)
		goto fail;
	n = ns_read_file(path, buf, sizeof(buf));
	if (n == -ENOENT) {
		/* a kernel without CONFIG_NUMA still is one node with all CPUs and memory */
		ns_set_clear(&t->online);
		ns_set_add(&t->online, 0);
	} else if (n < 0) {
		rc = (int)n;
		goto fail;
	} else {
		rc = ns_set_parse(buf, NS_SET_MAX, &t->online);
		if (rc < 0)
			goto fail;
	}
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
			if (rc < 0)
				goto fail;
		}
		rc = ns_node_read_meminfo(root, id, nd);
		if (rc < 0 && rc != -ENOENT)
			goto fail;
		rc = read_hpools(root, nd);
		if (rc < 0)
			goto fail;
	}
	rc = ns_zoneinfo_read_wmarks(root, t->nodes, t->nr);
	if (rc < 0 && rc != -ENOENT)
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
		t->numa_balancing = rc < 0 ? rc : (int)v;
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
