/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One VM's memory moved, as numa-migrate, vm-pin --mem and the plan executors do it; and its
 * preflight, which is what numa-plan check and every dry run report (one code path, one
 * document: numasafe-check). */
#ifndef NSC_MOVE_H
#define NSC_MOVE_H

#include "nsc.h"
#include "target.h"

enum nsc_verdict { NSC_SAFE = 0, NSC_UNSAFE, NSC_NOT_ALLOWED };

/* The preflight of a move, filled once by nsc_check_run. */
struct nsc_check {
	struct nsc_vmid id;
	char comm[64];
	struct ns_set to, from;
	struct ns_mig_plan plan;
	bool domain; /* numatune was read */
	int numa_mode; /* libvirt's numatune mode */
	char nodeset[256]; /* its nodeset ("" none) */
	bool widen; /* restrictive numatune: the move widens it to old + new */
	enum nsc_verdict verdict;
	bool complete; /* the preflight ran to its verdict: there is a report to show */
};

/* The move, filled once by nsc_move_run. */
struct nsc_move {
	struct nsc_check check;
	bool ran; /* the engine ran: res is filled */
	struct ns_mig_result res;
	const char *outcome; /* "done", "rolled_back", "partial", "failed"; NULL: refused */
	bool numatune_set; /* the nodeset now points at the target */
	char nodeset_after[256];
};

/* The preflight, reported (stderr) when it cannot run or says no. Returns NS_EXIT_OK (safe),
 * NS_EXIT_REFUSED (unsafe: headroom), or NS_EXIT_FAIL (not allowed, or an error). */
int nsc_check_run(struct nsc *c, const struct nsc_target *tg, const struct ns_mig_opts *o, struct nsc_check *chk);
void nsc_check_text(const struct nsc *c, const struct nsc_check *chk);
/* The numasafe-check document. */
struct json_object *nsc_check_json(const struct nsc_check *chk);

/* Lock, preflight, (numatune widening for restrictive domains), the throttled move with its
 * progress, rollback on pressure or signal, numatune pointed at the target, the audit
 * records. o->stop and o->progress are set here. Prints the preflight before moving and the
 * result after (text mode). Returns the exit code: 0 done, 1 failed, 4 refused or rolled
 * back, 5 stopped partway. */
int nsc_move_run(struct nsc *c, const struct nsc_target *tg, struct ns_mig_opts *o, bool dry_run, struct nsc_move *mv);
void nsc_move_text(const struct nsc *c, const struct nsc_move *mv);
/* The numasafe-move document; numasafe-check for a dry run or when the engine did not run. */
struct json_object *nsc_move_json(const struct nsc_move *mv, bool dry_run);

#endif
