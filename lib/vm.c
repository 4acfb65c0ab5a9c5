/* libvirt domains resolved to QEMU PIDs. libvirt has no PID API: the driver writes the PID to
 * its run directory, and for other drivers (test:///) there is none to find. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "numasafe/numasafe.h"
#include "numasafe/vm.h"
#include "util.h"

/* libvirt prints every error to stderr unless a handler is installed. */
static void quiet_handler(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

static void copy_err(char *errmsg, size_t len)
{
	virErrorPtr e = virGetLastError();

	if (errmsg && len)
		snprintf(errmsg, len, "%s", e && e->message ? e->message : "");
}

int ns_domain_pid(const char *uri, const char *name, pid_t *pid, char *errmsg, size_t len)
{
	virConnectPtr conn = NULL;
	virDomainPtr dom = NULL;
	char path[4096];
	uint64_t v;
	int rc, state = 0, reason = 0;

	if (errmsg && len)
		errmsg[0] = '\0';
	virSetErrorFunc(NULL, quiet_handler);
	conn = virConnectOpen(uri ? uri : NS_DEFAULT_URI);
	if (!conn) {
		copy_err(errmsg, len);
		return -ECONNREFUSED;
	}
	dom = virDomainLookupByName(conn, name);
	if (!dom) {
		copy_err(errmsg, len);
		rc = -ENOENT;
		goto out;
	}
	if (virDomainGetState(dom, &state, &reason, 0) < 0 || state != VIR_DOMAIN_RUNNING) {
		rc = -ESRCH;
		goto out;
	}
	rc = ns_path(path, sizeof(path), NULL, "/run/libvirt/qemu/%s.pid", name);
	if (rc < 0)
		goto out;
	rc = ns_read_u64(path, &v);
	if (rc < 0) {
		if (errmsg && len)
			snprintf(errmsg, len, "no QEMU pid file %s (not a local QEMU domain?)", path);
		rc = -EOPNOTSUPP;
		goto out;
	}
	*pid = (pid_t)v;
	rc = 0;
out:
	if (dom)
		virDomainFree(dom);
	if (conn)
		virConnectClose(conn);
	return rc;
}
