/* libvirt domains resolved to QEMU PIDs. libvirt has no PID API: the driver writes the PID to
 * its run directory, and for other drivers (test:///) there is none to find. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

const char *ns_numa_mode_name(int mode)
{
	static const char *const names[] = {"strict", "preferred", "interleave", "restrictive"};

	return mode >= 0 && mode < 4 ? names[mode] : "unknown";
}

/* Open the domain; on failure fill errmsg and return -errno. */
static int open_domain(const char *uri, const char *name, virConnectPtr *conn, virDomainPtr *dom, char *errmsg,
		       size_t len)
{
	virSetErrorFunc(NULL, quiet_handler);
	*dom = NULL;
	*conn = virConnectOpen(uri ? uri : NS_DEFAULT_URI);
	if (!*conn) {
		copy_err(errmsg, len);
		return -ECONNREFUSED;
	}
	*dom = virDomainLookupByName(*conn, name);
	if (!*dom) {
		copy_err(errmsg, len);
		virConnectClose(*conn);
		*conn = NULL;
		return -ENOENT;
	}
	return 0;
}

static void close_domain(virConnectPtr conn, virDomainPtr dom)
{
	if (dom)
		virDomainFree(dom);
	if (conn)
		virConnectClose(conn);
}

int ns_domain_numatune_get(const char *uri, const char *name, int *mode, char *nodeset, size_t len,
			   char *errmsg, size_t errlen)
{
	virTypedParameterPtr params = NULL;
	virConnectPtr conn;
	virDomainPtr dom;
	int n = 0, rc;

	rc = open_domain(uri, name, &conn, &dom, errmsg, errlen);
	if (rc < 0)
		return rc;
	*mode = NS_NUMA_STRICT;
	nodeset[0] = '\0';
	/* first call asks how many parameters there are */
	if (virDomainGetNumaParameters(dom, NULL, &n, VIR_DOMAIN_AFFECT_LIVE) < 0 || n <= 0 ||
	    !(params = calloc((size_t)n, sizeof(*params))) ||
	    virDomainGetNumaParameters(dom, params, &n, VIR_DOMAIN_AFFECT_LIVE) < 0) {
		copy_err(errmsg, errlen);
		rc = -EIO;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (strcmp(params[i].field, VIR_DOMAIN_NUMA_MODE) == 0 && params[i].type == VIR_TYPED_PARAM_INT)
			*mode = params[i].value.i;
		else if (strcmp(params[i].field, VIR_DOMAIN_NUMA_NODESET) == 0 &&
			 params[i].type == VIR_TYPED_PARAM_STRING && params[i].value.s)
			snprintf(nodeset, len, "%s", params[i].value.s);
	}
	rc = 0;
out:
	if (params)
		virTypedParamsFree(params, n);
	close_domain(conn, dom);
	return rc;
}

int ns_domain_numatune_set(const char *uri, const char *name, const char *nodeset, char *errmsg, size_t errlen)
{
	virTypedParameterPtr params = NULL;
	virConnectPtr conn;
	virDomainPtr dom;
	int n = 0, max = 0, rc;

	rc = open_domain(uri, name, &conn, &dom, errmsg, errlen);
	if (rc < 0)
		return rc;
	if (virTypedParamsAddString(&params, &n, &max, VIR_DOMAIN_NUMA_NODESET, nodeset) < 0 ||
	    virDomainSetNumaParameters(dom, params, n, VIR_DOMAIN_AFFECT_LIVE) < 0) {
		copy_err(errmsg, errlen);
		rc = -EPERM;
	}
	virTypedParamsFree(params, n);
	close_domain(conn, dom);
	return rc;
}
