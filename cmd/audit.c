/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit trail: every change to a VM or a swap area is written to the system log through
 * syslog(3) (the journal picks it up from /dev/log), one record when it starts and one when it
 * ends, as key=value pairs a log pipeline can parse: who ran it (uid, parent command line), the
 * VM (name, pid), what (from, to, bytes, duration) and how it ended. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "nsc.h"

/* A value in double quotes with '"' and '\' escaped: a VM name or a command line may hold
 * anything, and a record must stay one parseable line. */
static void quote(char *out, size_t len, const char *in)
{
	size_t o = 0;

	if (len < 3)
		return;
	out[o++] = '"';
	for (; *in && o + 3 < len; in++) {
		if (*in == '"' || *in == '\\')
			out[o++] = '\\';
		out[o++] = (unsigned char)*in < 0x20 ? '?' : *in;
	}
	out[o++] = '"';
	out[o] = '\0';
}

void nsc_audit(const struct nsc *c, int priority, const char *action, const char *event, const struct nsc_vmid *vm,
	       const char *fmt, ...)
{
	static bool opened;
	char fields[1024] = "", who[700] = "", name[600], parent[600];
	va_list ap;

	if (c->no_log)
		return;
	if (!opened) {
		/* the tag is the command (numa-migrate, vm-pin, ...), as logger(1) would write it */
		openlog(c->prog, LOG_PID, LOG_DAEMON);
		opened = true;
	}
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(fields, sizeof(fields), fmt, ap);
		va_end(ap);
	}
	if (vm) {
		quote(name, sizeof(name), vm->name);
		snprintf(who, sizeof(who), " vm=%s domain=%s pid=%d", name, vm->domain ? "yes" : "no", (int)vm->pid);
	}
	quote(parent, sizeof(parent), c->parent);
	syslog(priority, "%s %s%s%s%s uid=%u ppid=%d parent=%s", action, event, who, fields[0] ? " " : "", fields,
	       (unsigned)getuid(), (int)getppid(), parent);
}
