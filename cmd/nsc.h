/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The commands layer (prefix nsc_): what every numasafe command shares. One context per run
 * (struct nsc) carries the common options and the outcome; one error printer; the usage
 * contract; option parsers that name the option; the machine contract (exit codes, reasons,
 * the JSON documents and the numasafe-error document on failure); progress for people and for
 * programs; the audit trail in the system log. The library (ns_) computes and never prints;
 * this layer decides what to tell the operator. */
#ifndef NSC_H
#define NSC_H

#include <popt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "numasafe/numasafe.h"
#include "numasafe/text.h"

/* ---- limits, in one place ---- */
#define NSC_CHUNK_MAX 16384 /* --chunk: base pages per move_pages call */
#define NSC_JOBS_MAX NS_MIG_JOBS_MAX /* --jobs */
#define NSC_PSI_MAX 100.0 /* --max-psi: a percentage */
#define NSC_GRACE_MAX 86400.0 /* --psi-grace: a day */
#define NSC_INTERVAL_MAX 3600.0 /* steal --interval, --sample */
#define NSC_INTERVAL_MIN 0.01
#define NSC_OVERCOMMIT_MAX 1000.0
#define NSC_PIDS_MAX 64 /* fast-swapoff --pid */

/* ---- stable reasons: the "reason" of a numasafe-error document ---- */
#define NSC_R_USAGE "usage" /* 2: bad option or argument */
#define NSC_R_UNSUPPORTED "unsupported" /* 3: the host lacks a feature */
#define NSC_R_HEADROOM "headroom" /* 4: a target node lacks headroom */
#define NSC_R_MEMORY "memory" /* 4: too little memory available (swap) */
#define NSC_R_CGROUP "cgroup" /* 4: a memory cgroup lacks room */
#define NSC_R_PRESSURE "pressure" /* 4/5: memory pressure (PSI) */
#define NSC_R_BUSY "busy" /* 4: another run holds the lock */
#define NSC_R_SIGNAL "signal" /* 4/5: stopped on request (SIGINT/SIGTERM) */
#define NSC_R_PLAN_UNPLACED "unplaced" /* 4: rebalance: some VM fits nowhere */
#define NSC_R_NO_FIT "no-fit" /* 4: place: no node fits the new VM */
#define NSC_R_NOT_ALLOWED "not-allowed" /* 1: cpuset or numatune forbids the node */
#define NSC_R_NO_PROCESS "no-such-process" /* 1 */
#define NSC_R_NO_DOMAIN "no-such-domain" /* 1 */
#define NSC_R_NOT_RUNNING "not-running" /* 1: the domain is not running */
#define NSC_R_NOT_A_VM "not-a-vm" /* 1 */
#define NSC_R_EXITED "exited" /* 1: the process exited during the change */
#define NSC_R_PERMISSION "permission" /* 1: a privilege or capability is missing */
#define NSC_R_BAD_INPUT "bad-input" /* 1: a host fact or file could not be read or parsed */
#define NSC_R_STALE "stale-plan" /* 1: a plan step no longer matches the host */
#define NSC_R_LIBVIRT "libvirt" /* 1: libvirt failed or is missing */
#define NSC_R_NOT_SWAP "not-swap" /* 1: not an active swap area */
#define NSC_R_FAILED "failed" /* 1: anything else */

/* ---- document kinds and their versions (one JSON Schema each under schema/) ---- */
#define NSC_KIND_SHOW "numasafe-show", 2
#define NSC_KIND_STEAL "numasafe-steal", 2
#define NSC_KIND_CHECK "numasafe-check", 2
#define NSC_KIND_MOVE "numasafe-move", 2
#define NSC_KIND_SWAPOFF "numasafe-swapoff", 2
#define NSC_KIND_PIN "numasafe-pin", 2
#define NSC_KIND_PIN_SHOW "numasafe-pin-show", 2
#define NSC_KIND_PLAN_RUN "numasafe-plan-run", 1
#define NSC_KIND_ERROR "numasafe-error", 1
#define NSC_KIND_PROGRESS "numasafe-progress", 1

enum nsc_progress_mode { NSC_PROGRESS_AUTO = 0, NSC_PROGRESS_NONE, NSC_PROGRESS_TTY, NSC_PROGRESS_JSON };

/* One run of a command. Common options are parsed into it; the outcome is recorded in it by
 * nsc_fail and rendered by nsc_finish. Passed explicitly to everything in the layer. */
struct nsc {
	const char *prog; /* "numa-migrate", "numa-plan check": error prefix and audit tag */
	int json, quiet, verbose, no_log;
	enum nsc_progress_mode progress;
	char *domain, *connect; /* -d/--domain, -c/--connect */
	char *vm_users;		/* --vm-users LIST */
	bool vm_users_set;	/* nsc_vm_setup has run */
	bool json_asked; /* --json anywhere in argv: usage errors get a JSON document too */
	/* the failure reported, for the numasafe-error document */
	int code;
	const char *reason;
	char message[1024];
	/* who ran it, for the audit trail */
	char parent[256];
	/* a run that changes things (not a dry run, not --show): nsc_finish records its outcome
	 * for monitoring (nsc_last_run_record); set by the command once its options are read */
	bool record;
	double start; /* CLOCK_MONOTONIC seconds at nsc_init: the run's duration */
};

/* Is text for people wanted on stdout (neither --json nor --quiet)? */
static inline bool nsc_text(const struct nsc *c)
{
	return !c->json && !c->quiet;
}

/* Start a run: prog is the name errors are prefixed with. Scans argv for --json. */
void nsc_init(struct nsc *c, const char *prog, int argc, char **argv);

/* ---- messages: one line each on stderr, "prog: ..." ---- */
void nsc_err(const struct nsc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void nsc_warn(const struct nsc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* With -v only: "prog: ..." on stderr. */
void nsc_info(const struct nsc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report the outcome: the stderr line, recorded for the error document. Returns code. The
 * first failure reported wins the document; later ones are printed only. */
int nsc_fail(struct nsc *c, int code, const char *reason, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same for a library error: "what: strerror", or the library's detail (file and line of
 * a bad input) when it gave one. The reason follows the errno unless given (NULL). */
int nsc_fail_errno(struct nsc *c, int err, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The usage error: two lines on stderr (and the error document with --json), exit 2. */
__attribute__((noreturn, format(printf, 2, 3))) void nsc_usage(struct nsc *c, const char *fmt, ...);

/* ---- options ---- */
/* Tables shared by the commands. Each points into the one struct nsc of the run (set by
 * nsc_init); the command reads them through that struct, never through a global. */
extern struct poptOption nsc_common_options[];
extern struct poptOption nsc_target_options[];
#define NSC_COMMON_TABLE                                                                                               \
	{                                                                                                              \
		NULL, '\0', POPT_ARG_INCLUDE_TABLE, nsc_common_options, 0, "Common options:", NULL                     \
	}
#define NSC_TARGET_TABLE                                                                                               \
	{                                                                                                              \
		NULL, '\0', POPT_ARG_INCLUDE_TABLE, nsc_target_options, 0, "Target:", NULL                             \
	}
/* --vm-users LIST: who may own a VM; every command that lists or resolves VMs has it. */
extern struct poptOption nsc_vm_options[];
#define NSC_VM_TABLE                                                                                                   \
	{                                                                                                              \
		NULL, '\0', POPT_ARG_INCLUDE_TABLE, nsc_vm_options, 0, NULL, NULL                                      \
	}
/* The VM users for this run, once, before anything discovers a VM: --vm-users, else
 * NUMASAFE_VM_USERS of /etc/default/numasafe (a file that cannot be trusted or parsed is
 * exit 1 naming it and the line), else root and libvirt-qemu. NS_EXIT_OK or the exit code. */
int nsc_vm_setup(struct nsc *c);
/* Tell what a listing left out: each process that failed, on stderr (named, the others are
 * listed); each look-alike with -v. */
void nsc_vm_list_report(const struct nsc *c, const struct ns_vm_list *l);
/* {"owner": N, "executable": M}: the look-alikes a listing ignored, and why. */
struct json_object *nsc_vm_ignored_json(int owner, int exe);
/* [{"pid": N, "name": "...", "error": "..."}]: the entries a listing could not read. */
struct json_object *nsc_vm_failed_json(const struct ns_vm_list *l);

/* --reserve, and the throttle options (--rate, --max-psi, --psi-grace), shared by the moving
 * commands; parsed by nsc_reserve / nsc_throttle. */
struct nsc_shared_opts {
	char *reserve, *rate, *max_psi, *psi_grace;
};
extern struct nsc_shared_opts nsc_shared;
extern struct poptOption nsc_reserve_options[];
extern struct poptOption nsc_throttle_options[];
#define NSC_RESERVE_TABLE                                                                                              \
	{                                                                                                              \
		NULL, '\0', POPT_ARG_INCLUDE_TABLE, nsc_reserve_options, 0, NULL, NULL                                 \
	}
#define NSC_THROTTLE_TABLE                                                                                             \
	{                                                                                                              \
		NULL, '\0', POPT_ARG_INCLUDE_TABLE, nsc_throttle_options, 0, "Throttle:", NULL                         \
	}
enum {
	NSC_OPT_HELP = 'h',
	NSC_OPT_VERSION = 'V',
	NSC_OPT_PROGRESS = 0x1000,
	NSC_OPT_FIRST_CMD = 0x1100, /* command-specific option values start here */
};

/* Run popt: --help/--version handled here, usage errors reported; returns the next option
 * value for the command, or -1 at the end. */
int nsc_next(struct nsc *c, poptContext ctx);
const char **nsc_args(poptContext ctx, int *n);

/* Parsers for option values: on bad input they call nsc_usage naming the option and the
 * accepted range. Every number goes through the library's one decimal parser. */
unsigned long long nsc_opt_uint(struct nsc *c, const char *opt, const char *arg, unsigned long long lo,
				unsigned long long hi);
double nsc_opt_double(struct nsc *c, const char *opt, const char *arg, double lo, double hi);
/* A size; larger than the host's memory is refused (mem_total, 0: not checked). */
uint64_t nsc_opt_size(struct nsc *c, const char *opt, const char *arg, bool allow_zero, uint64_t mem_total);
/* A rate: a size per second, or 0 / "unlimited" for no limit. */
uint64_t nsc_opt_rate(struct nsc *c, const char *opt, const char *arg);
void nsc_opt_amount(struct nsc *c, const char *opt, const char *arg, uint64_t mem_total, struct ns_amount *out);
/* numactl's node list forms (all, !N, ranges), against the nodes that exist. */
void nsc_opt_nodes(struct nsc *c, const char *opt, const char *arg, const struct ns_set *online, struct ns_set *out);
void nsc_opt_cpus(struct nsc *c, const char *opt, const char *arg, const struct ns_set *online, struct ns_set *out);
pid_t nsc_opt_pid(struct nsc *c, const char *what, const char *arg);
/* --to and --from of a move into the engine's options: numactl's forms against the nodes
 * that exist; a node in both is a usage error. from may be NULL. */
void nsc_opt_to_from(struct nsc *c, const char *to, const char *from, const struct ns_topo *t, struct ns_mig_opts *o);
/* The CPUs of the host's nodes into online, and --exclude-cpus (arg, NULL when not given)
 * parsed against them into exclude. */
void nsc_opt_exclude(struct nsc *c, const char *arg, const struct ns_topo *t, struct ns_set *online,
		     struct ns_set *exclude);
/* --reserve (NULL when not given) and the throttle options into the engine's fields. */
const struct ns_amount *nsc_reserve(struct nsc *c, const struct ns_topo *t, struct ns_amount *buf);
void nsc_throttle(struct nsc *c, uint64_t *rate, double *max_psi, double *psi_grace);

/* ---- the host ---- */
/* The topology, or a reported failure (returns the exit code, *t NULL). */
int nsc_topo(struct nsc *c, const char *root, struct ns_topo **t);

/* Memory pressure is a safety input: when it is to be watched (max_psi > 0) and the host
 * cannot give it, the command stops before changing anything (exit 3, or 1 for a damaged
 * file). Returns NS_EXIT_OK when PSI is readable or not watched. */
int nsc_psi_required(struct nsc *c, double max_psi);

/* ---- output ---- */
/* Sizes for people: "1.5G". */
const char *nsc_size(uint64_t bytes, char buf[32]);
/* "s" when n != 1. */
const char *nsc_plural(long long n);
/* A JSON document of a kind: {"version": V, "kind": K}. Use as nsc_doc(NSC_KIND_MOVE). */
struct json_object *nsc_doc(const char *kind, int version);
struct json_object *nsc_json_u64(uint64_t v);
struct json_object *nsc_json_set(const struct ns_set *s);
/* Seconds rounded to the millisecond; a percentage or ratio rounded to the given decimals. */
struct json_object *nsc_json_seconds(double s);
struct json_object *nsc_json_round(double v, int decimals);
/* A document as text, always valid UTF-8: a byte outside a valid UTF-8 sequence in any
 * string (a VM's -name, a comm, a path) is written as \ufffd (numasafe(7), JSON). malloc()ed;
 * NULL when out of memory. len (may be NULL) receives its length. Every document printed or
 * written goes through it. */
char *nsc_json_text(struct json_object *o, int flags, size_t *len);
/* Print a document on stdout (pretty on a terminal), through nsc_json_text. */
void nsc_json_print(const struct nsc *c, struct json_object *o);
/* s for a table or a message on a terminal: control characters and bytes outside valid UTF-8
 * each shown as '?', as ps(1) does (ns_text_safe). Returns buf. */
const char *nsc_safe(const char *s, char *buf, size_t len);
/* The end of every command: prints doc (--json) or, when rc is not 0, the numasafe-error
 * document with doc inside as "result"; flushes and checks stdout (a write error is exit 1).
 * Takes doc's reference. Returns the exit code. */
int nsc_finish(struct nsc *c, int rc, struct json_object *doc);
/* Record the run's exit code and reason as the command's last run in /var/lib/numasafe
 * (numasafe/state.h), for numa-plan metrics. Called by nsc_finish when c->record is set; runs
 * as root only; a record that cannot be written is said on stderr and leaves the exit code as
 * it is. */
void nsc_last_run_record(struct nsc *c, int rc);

/* ---- a VM's identity, the same in every document ---- */
struct nsc_vmid {
	char name[256];
	bool domain;
	pid_t pid; /* 0: none on this host (a test:/// domain) */
	unsigned long long start_time;
};
void nsc_vmid_from_vm(struct nsc_vmid *id, const struct ns_vm *vm);
/* {"name", "domain", "pid", "start_time"} */
struct json_object *nsc_vmid_json(const struct nsc_vmid *id);
/* For text: "domain web1", "web1 (pid 4242)", or "pid 4242" for a QEMU without -name. */
const char *nsc_vmid_text(const struct nsc_vmid *id, char *buf, size_t len);
/* Memory per node as [{"node": N, "bytes": B}] over the nodes that exist. */
struct json_object *nsc_json_memory(const struct ns_topo *t, const uint64_t *per_node);

/* ---- progress: a meter on a terminal, JSON lines on request ---- */
struct nsc_progress {
	const struct nsc *c;
	enum nsc_progress_mode mode; /* resolved: NONE, TTY or JSON */
	double last; /* when the last JSON line was written (monotonic s) */
	bool drawn; /* a meter line is on the terminal */
};
void nsc_progress_init(struct nsc_progress *p, const struct nsc *c);
bool nsc_progress_on(const struct nsc_progress *p);
/* phase: "moving", "rolling_back", "paging_in"; extra: a labelled byte count the phase watches
 * ("headroom" of the target, "mem_available"), or NULL. */
void nsc_progress_update(struct nsc_progress *p, const char *phase, uint64_t done, uint64_t total, double elapsed,
			 const char *extra, uint64_t extra_val);
/* Ends the meter line on a terminal. */
void nsc_progress_end(struct nsc_progress *p);

/* ---- signals ---- */
/* SIGINT, SIGTERM and SIGHUP counted into nsc_stop_requests from nsc_init on (before the first
 * scan): the first asks the engine to stop (a move rolls back), the second stops a rollback
 * where it is. SIGHUP already ignored when the command starts (nohup) stays ignored. SIGPIPE
 * is ignored: a closed pipe on stdout or stderr is found by nsc_output_watch and is one stop
 * request, whatever number of writes fail. */
extern volatile sig_atomic_t nsc_stop_requests;
/* Called by nsc_init; again is a no-op. */
void nsc_signals_catch(void);
/* One stop request, unless one is already there (never the second, rollback-stopping one). */
void nsc_stop_request(void);
/* Has the reader of stdout or stderr gone (a pipe with no reader left)? The first time it is
 * found, that is a stop request (nsc_stop_request). Cheap: a poll with no wait. Called between
 * the chunks of a change. */
bool nsc_output_watch(void);
/* A stop request came before the change began: exit 4, reason signal, nothing changed. */
static inline bool nsc_stopped(void)
{
	return nsc_stop_requests > 0;
}

/* ---- one changer per VM ---- */
/* Take the VM's lock (numasafe/vmlock.h) for this run before changing it: NS_EXIT_OK with
 * *token set (-1 for a domain with no process on this host: nothing to lock), or the reported
 * failure: exit 4, reason busy, naming the holder's command and pid; 1 for an unsafe lock
 * directory or file. Taken again for the same VM in the same run, it only counts. */
int nsc_vm_lock(struct nsc *c, const struct nsc_vmid *id, int *token);
void nsc_vm_unlock(int token);

/* ---- the audit trail: every change to a VM or a swap area, in the system log ---- */
/* One record at the start and one at the end of a change. action: "move", "rollback", "pin",
 * "unpin", "weight", "numatune", "swapoff", "plan-step". fields: "key=value ..." already
 * formatted, every free-text value through nsc_audit_quote. Nothing with --no-log. */
/* in as one audit value: in double quotes, '"' and '\\' escaped with a backslash, newline,
 * tab and carriage return as \\n \\t \\r, any other control character and any byte outside
 * valid UTF-8 as \\xHH, so a record stays one line a parser splits the same way whatever a
 * name or path holds; cut (still quoted) to fit len. Returns out. */
const char *nsc_audit_quote(const char *in, char *out, size_t len);
void nsc_audit(const struct nsc *c, int priority, const char *action, const char *event, const struct nsc_vmid *vm,
	       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
