/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A VM's locality (see locality.h): pure arithmetic over what the readers found. */
#include <string.h>

#include "numasafe/locality.h"
#include "util.h"

uint64_t ns_own_bytes(const struct ns_proc_usage *u, unsigned node)
{
	uint64_t s = 0;

	if (node >= NS_MAX_NODES)
		return 0;
	s = ns_sat_add(s, u->bytes[NS_KIND_ANON][node]);
	s = ns_sat_add(s, u->bytes[NS_KIND_SHMEM][node]);
	return ns_sat_add(s, u->bytes[NS_KIND_HUGETLB][node]);
}

void ns_locality_compute(const struct ns_topo *t, const struct ns_set *thread_nodes, const struct ns_proc_usage *u,
			 struct ns_locality *out)
{
	uint64_t best = 0;

	memset(out, 0, sizeof(*out));
	out->home_node = out->threads_node = out->memory_node = -1;
	if (thread_nodes && ns_set_count(thread_nodes) == 1)
		out->threads_node = ns_set_next(thread_nodes, 0);
	for (int i = 0; u && i < ns_topo_nr_nodes(t); i++) {
		int id = ns_topo_node(t, i)->id;
		uint64_t b;

		if (id < 0 || id >= NS_MAX_NODES)
			continue;
		b = ns_own_bytes(u, (unsigned)id);
		out->own[id] = b;
		out->own_bytes = ns_sat_add(out->own_bytes, b);
		if (b > best) {
			best = b;
			out->memory_node = id;
		}
	}
	out->home_node = out->threads_node >= 0 ? out->threads_node : out->memory_node;
	if (out->home_node >= 0 && out->home_node < NS_MAX_NODES)
		out->home_bytes = out->own[out->home_node];
	if (!u)
		out->ratio = 0;
	else if (out->own_bytes == 0)
		out->ratio = 1;
	else
		out->ratio = (double)out->home_bytes / (double)out->own_bytes;
	out->local = u && out->threads_node >= 0 && out->ratio >= NS_LOCAL_RATIO;
}
