/* Acting on VMs: pin one (with weight and memory), or run a rebalance plan. */
#ifndef NS_CMD_VMOPS_H
#define NS_CMD_VMOPS_H

#include <stdbool.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "numasafe/numasafe.h"
#include "numasafe/pin.h"

struct ns_target {
	char name[256];
	int is_domain;
	pid_t pid; /* 0 for a domain without a local process (test:///) */
	struct ns_vm vm;
	int nvcpus;
};

struct ns_pin_job {
	struct ns_pin_req req;
	struct ns_set mem_nodes; /* --mem target */
	const struct ns_amount *reserve;
	int mem, weight;
};

/* "0-3,8", or "-" for the empty set. */
const char *ns_setstr(const struct ns_set *s, char *buf, size_t len);
const char *ns_pin_what_name(enum ns_pin_what w);
/* PID argument or --domain; exits with the right code and message on errors. */
void ns_target_resolve(const char *pidarg, struct ns_target *tg);
/* Pin (then weight, then move memory): an exit code; on failure the pinning is put back. */
int ns_pin_one(const struct ns_target *tg, const struct ns_pin_job *job, struct json_object *js);
/* Execute a numa-plan rebalance plan: per step pin to the node's CPUs (minus exclude), then
 * move the memory. Stops at the first step that fails or is refused, naming it. */
int ns_plan_run(const char *file, const struct ns_topo *t, const struct ns_set *exclude,
		const struct ns_amount *reserve, bool dry_run, struct json_object *js);

#endif
