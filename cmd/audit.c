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

const char *nsc_audit_quote(const char *in, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, n = strlen(in);

	if (len < 3) {
		if (len)
			out[0] = '\0';
		return out;
	}
	out[o++] = '"';
	for (size_t i = 0; i < n;) {
		const unsigned char *u = (const unsigned char *)in + i;
		size_t k = ns_utf8_seq(in + i, n - i);
		char esc[8];
		const char *put = in + i;
		size_t plen = k;

		if (k == 0 || (k == 1 && (u[0] < 0x20 || u[0] == 0x7f)) || (k == 2 && u[0] == 0xc2 && u[1] <= 0x9f)) {
			/* a control character or a byte outside valid UTF-8, one at a time */
			k = 1;
			if (u[0] == '\n' || u[0] == '\t' || u[0] == '\r') {
				esc[0] = '\\';
				esc[1] = u[0] == '\n' ? 'n' : u[0] == '\t' ? 't' : 'r';
				plen = 2;
			} else {
				esc[0] = '\\', esc[1] = 'x', esc[2] = hex[u[0] >> 4], esc[3] = hex[u[0] & 15];
				plen = 4;
			}
			put = esc;
		} else if (u[0] == '"' || u[0] == '\\') {
			esc[0] = '\\', esc[1] = (char)u[0];
			put = esc;
			plen = 2;
		}
		/* room for the closing quote and the NUL: a cut value stays a quoted value */
		if (o + plen + 2 > len)
			break;
		memcpy(out + o, put, plen);
		o += plen;
		i += k;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

void nsc_audit(const struct nsc *c, int priority, const char *action, const char *event, const struct nsc_vmid *vm,
	       const char *fmt, ...)
{
	static bool opened;
	char fields[2048] = "", who[1200] = "", name[1100], parent[1100];
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
		nsc_audit_quote(vm->name, name, sizeof(name));
		snprintf(who, sizeof(who), " vm=%s domain=%s pid=%d", name, vm->domain ? "yes" : "no", (int)vm->pid);
	}
	nsc_audit_quote(c->parent, parent, sizeof(parent));
	syslog(priority, "%s %s%s%s%s uid=%u ppid=%d parent=%s", action, event, who, fields[0] ? " " : "", fields,
	       (unsigned)getuid(), (int)getppid(), parent);
}
