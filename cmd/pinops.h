/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pinning one VM (then weighting it, then moving its memory) with undo, as vm-pin and the plan
 * executors do it. */
#ifndef NSC_PINOPS_H
#define NSC_PINOPS_H

#include "move.h"
#include "numasafe/pin.h"

struct nsc_pin_job {
	struct ns_pin_req req;
	struct ns_set mem_nodes; /* --mem target */
	const struct ns_amount *reserve;
	bool mem, weight;
};

/* What one pin run did, filled once by nsc_pin_run. */
struct nsc_pin {
	struct nsc_vmid id;
	bool dry_run;
	bool pinned; /* res is filled */
	struct ns_pin_result res;
	bool weighted;
	int weight_vcpus;
	uint64_t weight_before, weight_after;
	bool moved; /* the memory step ran: mv is filled */
	struct nsc_move mv;
	bool undone; /* a later step failed: the pinning and weight were put back */
};

/* Pin, then weight, then move the memory. Any failure or refusal after a change puts the
 * pinning (and weight) back, unless the move stopped partway (exit 5), where the state stays
 * consistent with the new pinning. Text output as it goes. Returns the exit code. */
int nsc_pin_run(struct nsc *c, const struct nsc_target *tg, const struct nsc_pin_job *job, struct nsc_pin *p);
/* Did the run change the host (threads, weight, memory; not in a dry run or once undone)? */
bool nsc_pin_changed(const struct nsc_pin *p);
/* The numasafe-pin document. */
struct json_object *nsc_pin_json(const struct nsc_pin *p);
void nsc_pin_release(struct nsc_pin *p);

/* Shared by the pin documents and vm-pin --show. */
const char *nsc_pin_what_name(enum ns_pin_what w);
/* "0-3,8", or "-" for the empty set. */
const char *nsc_set_text(const struct ns_set *s, char *buf, size_t len);

#endif
