/* The shared command-line layer: one error printer, one usage contract, common options. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

struct ns_cli ns_cli;

struct poptOption ns_common_options[] = {
	{"help", 'h', POPT_ARG_NONE, NULL, NS_OPT_HELP, "show this help and exit", NULL},
	{"version", '\0', POPT_ARG_NONE, NULL, NS_OPT_VERSION, "show the version and exit", NULL},
	{"json", '\0', POPT_ARG_NONE, &ns_cli.json, 0, "print machine-readable JSON", NULL},
	{"quiet", 'q', POPT_ARG_NONE, &ns_cli.quiet, 0, "print only errors (no progress, no warnings)", NULL},
	POPT_TABLEEND,
};

struct poptOption ns_target_options[] = {
	{"domain", 'd', POPT_ARG_STRING, &ns_cli.domain, 0, "the libvirt domain to act on (instead of PID)",
	 "NAME"},
	{"connect", 'c', POPT_ARG_STRING, &ns_cli.connect, 0, "libvirt URI (default " NS_DEFAULT_URI ")",
	 "URI"},
	POPT_TABLEEND,
};

void ns_cli_init(const char *prog, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	ns_cli.prog = prog;
}

static void vmsg(const char *prefix, int err, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s", ns_cli.prog, prefix);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err < 0 ? -err : err));
	fputc('\n', stderr);
}

void ns_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", 0, fmt, ap);
	va_end(ap);
}

void ns_errno(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", err, fmt, ap);
	va_end(ap);
}

void ns_errno_detail(int err, const char *fmt, ...)
{
	const char *detail = ns_error_detail();
	va_list ap;

	if (detail) {
		ns_err("%s", detail);
		return;
	}
	va_start(ap, fmt);
	vmsg("", err, fmt, ap);
	va_end(ap);
}

void ns_warn(const char *fmt, ...)
{
	va_list ap;

	if (ns_cli.quiet)
		return;
	va_start(ap, fmt);
	vmsg("warning: ", 0, fmt, ap);
	va_end(ap);
}

void ns_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", 0, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", ns_cli.prog);
	exit(NS_EXIT_USAGE);
}

int ns_cli_next(poptContext ctx)
{
	int c = poptGetNextOpt(ctx);

	switch (c) {
	case NS_OPT_HELP:
		poptPrintHelp(ctx, stdout, 0);
		exit(ns_cli_exit(NS_EXIT_OK));
	case NS_OPT_VERSION:
		printf("%s (numasafe) %s\n", ns_cli.prog, NS_VERSION);
		exit(ns_cli_exit(NS_EXIT_OK));
	default:
		break;
	}
	if (c < -1)
		ns_usage("%s: %s", poptBadOption(ctx, POPT_BADOPTION_NOALIAS), poptStrerror(c));
	return c;
}

const char **ns_cli_args(poptContext ctx, int *n)
{
	const char **args = poptGetArgs(ctx);
	int k = 0;

	while (args && args[k])
		k++;
	*n = k;
	return args;
}

void ns_opt_nodes(const char *opt, const char *arg, struct ns_set *out, const struct ns_set *online)
{
	char have[256];
	int rc = ns_set_parse(arg, NS_SET_MAX, out);

	if (rc < 0 || ns_set_empty(out))
		ns_usage("%s: '%s' is not a node list (like 0 or 0-1,3)", opt, arg);
	if (online && !ns_set_subset(out, online)) {
		struct ns_set bad = *out;

		ns_set_andnot(&bad, online);
		ns_set_format(online, have, sizeof(have));
		ns_usage("%s: node %d does not exist (nodes %s)", opt, ns_set_next(&bad, 0), have);
	}
}

void ns_opt_cpus(const char *opt, const char *arg, const struct ns_set *online, struct ns_set *out)
{
	char have[256];

	if (ns_set_parse(arg, NS_SET_MAX, out) < 0 || ns_set_empty(out))
		ns_usage("%s: '%s' is not a CPU list (like 1 or 0-3,8)", opt, arg);
	if (!ns_set_subset(out, online)) {
		struct ns_set bad = *out;

		ns_set_andnot(&bad, online);
		ns_set_format(online, have, sizeof(have));
		ns_usage("%s: CPU %d is not on this host (CPUs %s)", opt, ns_set_next(&bad, 0), have);
	}
}

uint64_t ns_opt_size(const char *opt, const char *arg, bool allow_zero)
{
	uint64_t v;

	if (ns_size_parse(arg, &v) < 0)
		ns_usage("%s: '%s' is not a size (like 512M or 2G)", opt, arg);
	if (v == 0 && !allow_zero)
		ns_usage("%s: must be greater than 0", opt);
	return v;
}

void ns_opt_amount(const char *opt, const char *arg, struct ns_amount *out)
{
	if (ns_amount_parse(arg, out) < 0)
		ns_usage("%s: '%s' is not a size or percentage (like 256M or 2%%)", opt, arg);
}

double ns_opt_double(const char *opt, const char *arg, double max)
{
	double v;

	if (ns_double_parse(arg, &v) < 0 || v > max)
		ns_usage("%s: '%s' is not a number between 0 and %g", opt, arg, max);
	return v;
}

pid_t ns_opt_pid(const char *what, const char *arg)
{
	unsigned long long v;

	if (ns_uint_parse(arg, 0x3fffffff, &v) < 0 || v == 0)
		ns_usage("%s: '%s' is not a process id", what, arg);
	return (pid_t)v;
}

void ns_json_print(struct json_object *o)
{
	int flags = isatty(STDOUT_FILENO) ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN;

	fputs(json_object_to_json_string_ext(o, flags | JSON_C_TO_STRING_NOSLASHESCAPE), stdout);
	fputc('\n', stdout);
}

struct json_object *ns_json_u64(uint64_t v)
{
	/* json-c's int64 covers every byte count a host can have */
	return json_object_new_int64((int64_t)v);
}

struct json_object *ns_json_set(const struct ns_set *s)
{
	struct json_object *a = json_object_new_array();

	for (int i = ns_set_next(s, 0); i >= 0; i = ns_set_next(s, (unsigned)i + 1))
		json_object_array_add(a, json_object_new_int(i));
	return a;
}

int ns_cli_exit(int rc)
{
	/* a full disk or a closed pipe must not look like success */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			ns_errno(errno ? errno : EIO, "write error");
		return rc ? rc : NS_EXIT_FAIL;
	}
	return rc;
}

bool ns_progress_enabled(void)
{
	return !ns_cli.quiet && !ns_cli.json && isatty(STDERR_FILENO);
}
