/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The run context, the error printer, the usage contract and the option parsers shared by
 * every command (see nsc.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nsc.h"

/* popt writes option values through these tables' pointers; they point into the one context
 * nsc_init was given (the tables are static, so the addresses are patched in there). */
static char *progress_arg;
struct nsc_shared_opts nsc_shared;

struct poptOption nsc_common_options[] = {
	{"help", 'h', POPT_ARG_NONE, NULL, NSC_OPT_HELP, "show this help and exit", NULL},
	{"version", 'V', POPT_ARG_NONE, NULL, NSC_OPT_VERSION, "show the version and exit", NULL},
	{"json", '\0', POPT_ARG_NONE, NULL, 0, "print machine-readable JSON (a numasafe-error document on failure)",
	 NULL},
	{"quiet", 'q', POPT_ARG_NONE, NULL, 0, "print only errors (no progress, no warnings)", NULL},
	{"verbose", 'v', POPT_ARG_NONE, NULL, 0, "say what is being done, step by step, on stderr", NULL},
	{"progress", '\0', POPT_ARG_STRING, &progress_arg, NSC_OPT_PROGRESS,
	 "progress on stderr: tty (a meter, the default on a terminal), json (a JSON line a second at most), none",
	 "tty|json|none"},
	{"no-log", '\0', POPT_ARG_NONE, NULL, 0, "do not write the audit records to the system log", NULL},
	POPT_TABLEEND,
};

struct poptOption nsc_target_options[] = {
	{"domain", 'd', POPT_ARG_STRING, NULL, 0, "the libvirt domain to act on (instead of PID)", "NAME"},
	{"connect", 'c', POPT_ARG_STRING, NULL, 0, "libvirt URI (default " NS_DEFAULT_URI ")", "URI"},
	POPT_TABLEEND,
};

struct poptOption nsc_vm_options[] = {
	{"vm-users", '\0', POPT_ARG_STRING, NULL, 0,
	 "who may own a VM: user names or uids (default: NUMASAFE_VM_USERS of " NS_CONFIG_FILE
	 ", else root and " NS_VM_USER_DEFAULT ")",
	 "LIST"},
	POPT_TABLEEND,
};

struct poptOption nsc_reserve_options[] = {
	{"reserve", '\0', POPT_ARG_STRING, &nsc_shared.reserve, 0,
	 "headroom kept on each node above its high watermark (default max(256M, 2%))", "SIZE|PCT"},
	POPT_TABLEEND,
};

struct poptOption nsc_throttle_options[] = {
	{"rate", 'r', POPT_ARG_STRING, &nsc_shared.rate, 0, "bytes per second at most (default 0: unlimited)", "SIZE"},
	{"max-psi", '\0', POPT_ARG_STRING, &nsc_shared.max_psi, 0,
	 "memory some avg10 (%) that pauses the work (default 10; 0: do not watch pressure)", "PCT"},
	{"psi-grace", '\0', POPT_ARG_STRING, &nsc_shared.psi_grace, 0,
	 "seconds of pressure tolerated before stopping (default 10)", "SECONDS"},
	POPT_TABLEEND,
};

/* Point a shared table's option at this run's field. */
static void bind(struct poptOption *t, const char *name, void *arg)
{
	for (; t->longName || t->shortName || t->argInfo; t++)
		if (t->longName && strcmp(t->longName, name) == 0) {
			t->arg = arg;
			return;
		}
	abort(); /* a table and its binding disagree: a programming error */
}

void nsc_init(struct nsc *c, const char *prog, int argc, char **argv)
{
	char path[64], buf[sizeof(c->parent)];
	struct timespec ts;
	ssize_t n;
	FILE *f;

	memset(c, 0, sizeof(*c));
	c->prog = prog;
	nsc_signals_catch();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	c->start = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	bind(nsc_common_options, "json", &c->json);
	bind(nsc_common_options, "quiet", &c->quiet);
	bind(nsc_common_options, "verbose", &c->verbose);
	bind(nsc_common_options, "no-log", &c->no_log);
	bind(nsc_target_options, "domain", &c->domain);
	bind(nsc_target_options, "connect", &c->connect);
	bind(nsc_vm_options, "vm-users", &c->vm_users);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--json") == 0)
			c->json_asked = true;
	}
	/* the parent's command line names who ran it (cron, an orchestrator, a shell) in the
	 * audit records; NULs between arguments become spaces, other control bytes '?' */
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)getppid());
	f = fopen(path, "re");
	if (f) {
		n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		for (ssize_t i = 0; i < n; i++)
			buf[i] = buf[i] == '\0' ? ' ' : (unsigned char)buf[i] < 0x20 || buf[i] == 0x7f ? '?' : buf[i];
		while (n > 0 && buf[n - 1] == ' ')
			n--;
		buf[n > 0 ? n : 0] = '\0';
		snprintf(c->parent, sizeof(c->parent), "%s", buf);
	}
}

static void vmsg(const struct nsc *c, const char *prefix, const char *fmt, va_list ap)
{
	char msg[2048], safe[2048];

	/* a name in a message reaches root's terminal: no escape sequence, no second line */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "%s: %s%s\n", c->prog, prefix, nsc_safe(msg, safe, sizeof(safe)));
}

void nsc_err(const struct nsc *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(c, "", fmt, ap);
	va_end(ap);
}

void nsc_warn(const struct nsc *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet)
		return;
	va_start(ap, fmt);
	vmsg(c, "warning: ", fmt, ap);
	va_end(ap);
}

void nsc_info(const struct nsc *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->verbose)
		return;
	va_start(ap, fmt);
	vmsg(c, "", fmt, ap);
	va_end(ap);
}

static int vfail(struct nsc *c, int code, const char *reason, const char *fmt, va_list ap)
{
	char msg[sizeof(c->message)];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* one line, whatever a library or libvirt message held */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	{
		char safe[sizeof(msg)];

		/* the terminal gets '?' for control characters; the JSON keeps the name (escaped) */
		fprintf(stderr, "%s: %s\n", c->prog, nsc_safe(msg, safe, sizeof(safe)));
	}
	if (!c->code) {
		c->code = code;
		c->reason = reason;
		snprintf(c->message, sizeof(c->message), "%s", msg);
	}
	return code;
}

int nsc_fail(struct nsc *c, int code, const char *reason, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(c, code, reason, fmt, ap);
	va_end(ap);
	return rc;
}

static const char *errno_reason(int err)
{
	switch (err < 0 ? -err : err) {
	case ESRCH:
		return NSC_R_NO_PROCESS;
	case EPERM:
	case EACCES:
		return NSC_R_PERMISSION;
	case EINVAL:
	case ERANGE:
	case ENODATA:
	case EBADMSG:
	case EFBIG:
		return NSC_R_BAD_INPUT;
	case EBUSY:
		return NSC_R_BUSY;
	case ESTALE:
		return NSC_R_STALE;
	default:
		return NSC_R_FAILED;
	}
}

int nsc_fail_errno(struct nsc *c, int err, const char *reason, const char *fmt, ...)
{
	const char *detail = ns_error_detail();
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* a read or wait the stop request interrupted: that is the stop, not a failure */
	if ((err == -EINTR || err == EINTR) && nsc_stop_requests)
		return nsc_fail(c, NS_EXIT_REFUSED, NSC_R_SIGNAL, "%s: interrupted", what);
	if (!reason)
		reason = errno_reason(err);
	/* the library's detail names the file and line of a bad input: it says more than errno */
	if (detail && detail[0])
		return nsc_fail(c, NS_EXIT_FAIL, reason, "%s: %s", what, detail);
	return nsc_fail(c, NS_EXIT_FAIL, reason, "%s: %s", what, strerror(err < 0 ? -err : err));
}

void nsc_usage(struct nsc *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(c, NS_EXIT_USAGE, NSC_R_USAGE, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", c->prog);
	if (c->json_asked)
		c->json = 1;
	exit(nsc_finish(c, NS_EXIT_USAGE, NULL));
}

int nsc_next(struct nsc *c, poptContext ctx)
{
	int opt = poptGetNextOpt(ctx);

	switch (opt) {
	case NSC_OPT_HELP:
		c->json = 0;
		poptPrintHelp(ctx, stdout, 0);
		exit(nsc_finish(c, NS_EXIT_OK, NULL));
	case NSC_OPT_VERSION:
		c->json = 0;
		printf("%s (numasafe) %s\n", c->prog, NS_VERSION);
		exit(nsc_finish(c, NS_EXIT_OK, NULL));
	case NSC_OPT_PROGRESS:
		if (strcmp(progress_arg, "tty") == 0)
			c->progress = NSC_PROGRESS_TTY;
		else if (strcmp(progress_arg, "json") == 0)
			c->progress = NSC_PROGRESS_JSON;
		else if (strcmp(progress_arg, "none") == 0)
			c->progress = NSC_PROGRESS_NONE;
		else
			nsc_usage(c, "--progress: '%s' is none of tty, json, none", progress_arg);
		return nsc_next(c, ctx);
	default:
		break;
	}
	if (opt < -1)
		nsc_usage(c, "%s: %s", poptBadOption(ctx, POPT_BADOPTION_NOALIAS), poptStrerror(opt));
	return opt;
}

const char **nsc_args(poptContext ctx, int *n)
{
	const char **args = poptGetArgs(ctx);
	int k = 0;

	while (args && args[k])
		k++;
	*n = k;
	return args;
}

unsigned long long nsc_opt_uint(struct nsc *c, const char *opt, const char *arg, unsigned long long lo,
				unsigned long long hi)
{
	unsigned long long v;

	if (ns_uint_parse(arg, hi, &v) < 0 || v < lo)
		nsc_usage(c, "%s: '%s' is not a whole number from %llu to %llu", opt, arg, lo, hi);
	return v;
}

double nsc_opt_double(struct nsc *c, const char *opt, const char *arg, double lo, double hi)
{
	double v;

	if (ns_double_parse(arg, &v) < 0 || v < lo || v > hi)
		nsc_usage(c, "%s: '%s' is not a number from %g to %g", opt, arg, lo, hi);
	return v;
}

uint64_t nsc_opt_size(struct nsc *c, const char *opt, const char *arg, bool allow_zero, uint64_t mem_total)
{
	char a[32];
	uint64_t v;
	int rc = ns_size_parse(arg, &v);

	if (rc == -ERANGE)
		nsc_usage(c, "%s: '%s' is too large", opt, arg);
	if (rc < 0)
		nsc_usage(c, "%s: '%s' is not a size (like 512M, 2G or 1.5GiB; KB/MB/GB are powers of 1000)", opt, arg);
	if (v == 0 && !allow_zero)
		nsc_usage(c, "%s: must be greater than 0", opt);
	if (mem_total && v > mem_total)
		nsc_usage(c, "%s: '%s' is more than the host's memory (%s)", opt, arg, nsc_size(mem_total, a));
	return v;
}

uint64_t nsc_opt_rate(struct nsc *c, const char *opt, const char *arg)
{
	if (strcmp(arg, "unlimited") == 0)
		return 0;
	return nsc_opt_size(c, opt, arg, true, 0);
}

void nsc_opt_amount(struct nsc *c, const char *opt, const char *arg, uint64_t mem_total, struct ns_amount *out)
{
	char a[32];
	int rc = ns_amount_parse(arg, out);

	if (rc == -ERANGE)
		nsc_usage(c, "%s: '%s' is too large (a size, or a percentage up to 100%%)", opt, arg);
	if (rc < 0)
		nsc_usage(c, "%s: '%s' is not a size or percentage (like 256M or 2%%)", opt, arg);
	if (!out->is_pct && mem_total && out->bytes > mem_total)
		nsc_usage(c, "%s: '%s' is more than the host's memory (%s)", opt, arg, nsc_size(mem_total, a));
}

void nsc_opt_nodes(struct nsc *c, const char *opt, const char *arg, const struct ns_set *online, struct ns_set *out)
{
	char have[256];
	int rc = ns_set_parse_in(arg, online, out);

	if (rc == -ERANGE) {
		ns_set_format(online, have, sizeof(have));
		nsc_usage(c, "%s: '%s' names a node that does not exist (nodes %s)", opt, arg, have);
	}
	if (rc < 0 || ns_set_empty(out))
		nsc_usage(c, "%s: '%s' is not a node list (like 0, 0-1,3, all or !0)", opt, arg);
}

void nsc_opt_cpus(struct nsc *c, const char *opt, const char *arg, const struct ns_set *online, struct ns_set *out)
{
	char have[256];
	int rc = ns_set_parse_in(arg, online, out);

	if (rc == -ERANGE) {
		ns_set_format(online, have, sizeof(have));
		nsc_usage(c, "%s: '%s' names a CPU that is not on this host (CPUs %s)", opt, arg, have);
	}
	if (rc < 0 || ns_set_empty(out))
		nsc_usage(c, "%s: '%s' is not a CPU list (like 1, 0-3,8, all or !0)", opt, arg);
}

void nsc_opt_to_from(struct nsc *c, const char *to, const char *from, const struct ns_topo *t, struct ns_mig_opts *o)
{
	struct ns_set both;

	nsc_opt_nodes(c, "--to", to, ns_topo_nodes(t), &o->to);
	if (!from)
		return;
	nsc_opt_nodes(c, "--from", from, ns_topo_nodes(t), &o->from);
	both = o->from;
	ns_set_andnot(&both, &o->to);
	if (!ns_set_equal(&both, &o->from))
		nsc_usage(c, "--from and --to name the same node: memory on a target node stays where it is");
}

void nsc_opt_exclude(struct nsc *c, const char *arg, const struct ns_topo *t, struct ns_set *online,
		     struct ns_set *exclude)
{
	ns_set_clear(online);
	for (int i = 0; i < ns_topo_nr_nodes(t); i++)
		ns_set_or(online, &ns_topo_node(t, i)->cpus);
	ns_set_clear(exclude);
	if (arg)
		nsc_opt_cpus(c, "--exclude-cpus", arg, online, exclude);
}

pid_t nsc_opt_pid(struct nsc *c, const char *what, const char *arg)
{
	unsigned long long v;

	/* PID_MAX_LIMIT is 2^22 on 64-bit kernels */
	if (ns_uint_parse(arg, 4194304, &v) < 0 || v == 0)
		nsc_usage(c, "%s: '%s' is not a process id", what, arg);
	return (pid_t)v;
}

const struct ns_amount *nsc_reserve(struct nsc *c, const struct ns_topo *t, struct ns_amount *buf)
{
	if (!nsc_shared.reserve)
		return NULL;
	nsc_opt_amount(c, "--reserve", nsc_shared.reserve, ns_topo_hostmem(t)->mem_total, buf);
	return buf;
}

void nsc_throttle(struct nsc *c, uint64_t *rate, double *max_psi, double *psi_grace)
{
	if (nsc_shared.rate)
		*rate = nsc_opt_rate(c, "--rate", nsc_shared.rate);
	if (nsc_shared.max_psi)
		*max_psi = nsc_opt_double(c, "--max-psi", nsc_shared.max_psi, 0, NSC_PSI_MAX);
	if (nsc_shared.psi_grace)
		*psi_grace = nsc_opt_double(c, "--psi-grace", nsc_shared.psi_grace, 0, NSC_GRACE_MAX);
}

int nsc_topo(struct nsc *c, const char *root, struct ns_topo **t)
{
	int rc = ns_topo_read(root, t);

	if (rc == -ENOSYS)
		return nsc_fail(c, NS_EXIT_UNSUPPORTED, NSC_R_UNSUPPORTED, "this kernel has no NUMA support");
	if (rc < 0) {
		*t = NULL;
		return nsc_fail_errno(c, rc, NULL, "reading the host's NUMA topology");
	}
	return NS_EXIT_OK;
}

int nsc_psi_required(struct nsc *c, double max_psi)
{
	struct ns_psi psi;
	int rc;

	if (max_psi <= 0)
		return NS_EXIT_OK;
	rc = ns_psi_read(NULL, &psi);
	if (rc == -ENOENT || rc == -EOPNOTSUPP)
		return nsc_fail(c, NS_EXIT_UNSUPPORTED, NSC_R_UNSUPPORTED,
				"memory pressure (PSI) is not available on this host%s: give --max-psi 0 to go on "
				"without "
				"watching it",
				rc == -EOPNOTSUPP ? " (psi=0)" : "");
	if (rc < 0)
		return nsc_fail_errno(c, rc, NULL, "reading memory pressure");
	return NS_EXIT_OK;
}

volatile sig_atomic_t nsc_stop_requests;
static volatile sig_atomic_t output_gone;

static void on_signal(int sig)
{
	(void)sig;
	if (nsc_stop_requests < 100)
		nsc_stop_requests++;
}

/* The stop signals: SIGINT, SIGTERM and SIGHUP (a closed terminal, a session's end) each count
 * one stop request. SIGPIPE is ignored instead of counted: it comes again with every write to
 * the closed pipe, so counting it would make the next progress line of a rollback its second
 * request and stop the rollback halfway (exit 5, the VM split). A reader that went away is one
 * stop request, once (nsc_output_watch): writes fail with EPIPE and change nothing. Installed
 * by nsc_init, before anything is read, so no command ends on a signal without its rollback,
 * its error document and its records. */
void nsc_signals_catch(void)
{
	static bool done;
	struct sigaction sa, old;
	sigset_t set;

	if (done)
		return;
	done = true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* one handler at a time, so the count is never torn; no SA_RESTART: a wait (a PSI
	 * trigger's poll, a sleep between chunks, swapoff(2)) ends at once on a stop request */
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaddset(&sa.sa_mask, SIGHUP);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* nohup(1) asks, by ignoring SIGHUP, that a closed terminal not end the run: kept */
	if (sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
		sigaction(SIGHUP, &sa, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* a stop signal blocked by whoever started us would never reach the handler */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

void nsc_stop_request(void)
{
	sigset_t set, old;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (nsc_stop_requests == 0)
		nsc_stop_requests = 1;
	sigprocmask(SIG_SETMASK, &old, NULL);
}

bool nsc_output_watch(void)
{
	struct pollfd p[2] = {{.fd = STDOUT_FILENO}, {.fd = STDERR_FILENO}};

	if (output_gone)
		return true;
	/* POLLERR on a pipe's write end: its last reader is gone (`| head -1` has exited); a
	 * regular file or a terminal never says so. No byte is written to find out. */
	if (poll(p, 2, 0) > 0 && ((p[0].revents | p[1].revents) & POLLERR)) {
		output_gone = 1;
		/* one request, however often the pipe is found closed: a rollback it started
		 * is stopped only by a signal */
		nsc_stop_request();
	}
	return output_gone;
}

int nsc_vm_setup(struct nsc *c)
{
	struct ns_vm_users u;
	int rc, found = 0;

	if (c->vm_users_set)
		return NS_EXIT_OK;
	if (c->vm_users) {
		rc = ns_vm_users_parse(c->vm_users, &u);
		if (rc < 0)
			nsc_usage(c, "--vm-users: %s", ns_error_detail());
	} else {
		rc = ns_config_vm_users(NULL, &u, &found);
		if (rc < 0)
			return nsc_fail_errno(c, rc, NSC_R_BAD_INPUT, "%s", NS_CONFIG_FILE);
	}
	ns_vm_users_set(&u);
	c->vm_users_set = true;
	if (c->verbose) {
		char list[NS_VM_USERS_MAX * 12] = "";
		size_t off = 0;

		for (int i = 0; i < u.n && off < sizeof(list); i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%u", i ? " " : "", (unsigned)u.uid[i]);
		nsc_info(c, "VM users (uids): %s (%s)", list,
			 c->vm_users ? "--vm-users" : found ? NS_CONFIG_FILE : "the default");
	}
	return NS_EXIT_OK;
}

void nsc_vm_list_report(const struct nsc *c, const struct ns_vm_list *l)
{
	for (int i = 0; i < l->nskip; i++) {
		const struct ns_vm_skip *k = &l->skip[i];

		if (k->err == -EPERM)
			nsc_info(c, "pid %d (%s): ignored, not a VM: its owner is not root or a VM user", (int)k->pid,
				 k->name);
		else if (k->err == -EACCES)
			nsc_info(c, "pid %d (%s): ignored, not a VM: its executable is not root's or is writable by others",
				 (int)k->pid, k->name);
		else
			nsc_warn(c, "pid %d (%s): cannot be read (%s): left out of the list", (int)k->pid, k->name,
				 strerror(-k->err));
	}
	if (l->ignored_owner + l->ignored_exe)
		nsc_info(c, "ignored %d look-alike%s (owner: %d, executable: %d)", l->ignored_owner + l->ignored_exe,
			 l->ignored_owner + l->ignored_exe == 1 ? "" : "s", l->ignored_owner, l->ignored_exe);
}

struct json_object *nsc_vm_ignored_json(int owner, int exe)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "owner", json_object_new_int(owner));
	json_object_object_add(o, "executable", json_object_new_int(exe));
	return o;
}

struct json_object *nsc_vm_failed_json(const struct ns_vm_list *l)
{
	struct json_object *a = json_object_new_array();

	for (int i = 0; i < l->nskip; i++) {
		const struct ns_vm_skip *k = &l->skip[i];
		struct json_object *o;

		if (k->err == -EPERM || k->err == -EACCES)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "pid", json_object_new_int(k->pid));
		json_object_object_add(o, "name", json_object_new_string(k->name));
		json_object_object_add(o, "error", json_object_new_string(strerror(-k->err)));
		json_object_array_add(a, o);
	}
	return a;
}
