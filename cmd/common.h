/* What every numasafe command shares: the error printer, the usage contract, common options
 * (help, version, json, quiet, target), parse-and-validate helpers that name the option, and
 * the check of stdout on exit. */
#ifndef NS_CMD_COMMON_H
#define NS_CMD_COMMON_H

#include <popt.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "numasafe/numasafe.h"

enum {
	NS_OPT_HELP = 'h',
	NS_OPT_VERSION = 0x1000,
	NS_OPT_FIRST_CMD = 0x1100, /* command-specific option values start here */
};

struct ns_cli {
	const char *prog;
	int json;
	int quiet;
	char *domain;  /* -d/--domain */
	char *connect; /* -c/--connect */
};
extern struct ns_cli ns_cli;
extern struct poptOption ns_common_options[];
extern struct poptOption ns_target_options[];

#define NS_COMMON_TABLE {NULL, '\0', POPT_ARG_INCLUDE_TABLE, ns_common_options, 0, "Common options:", NULL}
#define NS_TARGET_TABLE {NULL, '\0', POPT_ARG_INCLUDE_TABLE, ns_target_options, 0, "Target:", NULL}

void ns_cli_init(const char *prog, int argc, char **argv);

/* "prog: message" on stderr. */
void ns_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: message: strerror(-err)". */
void ns_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* After a library reader failed: "prog: DETAIL" when the library said what it refused
 * (ns_error_detail: the file, the line and what is wrong), else as ns_errno. */
void ns_errno_detail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ns_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The usage error: "prog: message" and "Try 'prog --help' for more information.", exit 2. */
__attribute__((noreturn, format(printf, 1, 2))) void ns_usage(const char *fmt, ...);

/* Run popt: handles --help/--version itself and usage errors; returns the next option value
 * for the command to handle, or -1 at the end. */
int ns_cli_next(poptContext ctx);
/* Remaining arguments after options. */
const char **ns_cli_args(poptContext ctx, int *n);

/* Parse helpers: on bad input they call ns_usage naming the option. */
void ns_opt_nodes(const char *opt, const char *arg, struct ns_set *out, const struct ns_set *online);
void ns_opt_cpus(const char *opt, const char *arg, const struct ns_set *online, struct ns_set *out);
uint64_t ns_opt_size(const char *opt, const char *arg, bool allow_zero);
void ns_opt_amount(const char *opt, const char *arg, struct ns_amount *out);
double ns_opt_double(const char *opt, const char *arg, double max);
pid_t ns_opt_pid(const char *what, const char *arg);

/* Resolve the target: a PID argument or --domain. Exactly one must be given (if required).
 * Returns 0 with *pid set, 1 when no target and !required, or exits with the right code. */
int ns_cli_target(const char *pidarg, bool required, pid_t *pid);

/* Print the JSON object to stdout (pretty when stdout is a TTY). */
void ns_json_print(struct json_object *o);
struct json_object *ns_json_u64(uint64_t v);
struct json_object *ns_json_set(const struct ns_set *s);

/* Flush and check stdout; turns a write error into exit 1. Use as: return ns_cli_exit(rc). */
int ns_cli_exit(int rc);

/* Progress is for humans watching: only on a TTY and not with --quiet. */
bool ns_progress_enabled(void);

#endif
