/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvirt domains resolved to QEMU PIDs. libvirt has no PID API: the driver writes the PID to
 * its run directory, and for other drivers (test:///) there is none to find. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#include "numasafe/numasafe.h"
#include "numasafe/vm.h"
#include "util.h"
#include "virt.h"

/* set by the entry points (ns_virt) before any libvirt call */
static const struct ns_virt_api *V;

/* Is pid a QEMU started with "-uuid UUID"? libvirt passes the domain's UUID on every QEMU
 * command line, for every connection (system and session): a pid file is checked against it,
 * and without one (qemu:///session keeps its run directory in the user's home or runtime
 * directory) the process is found by it. Either way the process must pass ns_vm_trust: a
 * look-alike run by a user with the domain's -uuid is never taken for it. */
static int qemu_has_uuid(pid_t pid, const char *uuid)
{
	char path[64], buf[65536];
	ssize_t n;
	const char *p, *end, *prev = NULL;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	n = ns_read_file(path, buf, sizeof(buf));
	if (n <= 0)
		return 0;
	end = buf + n;
	for (p = buf; p < end; p += strlen(p) + 1) {
		if (prev && strcmp(prev, "-uuid") == 0 && strcasecmp(p, uuid) == 0)
			return 1;
		prev = p;
	}
	return 0;
}

static int pid_by_uuid(const char *uuid, pid_t *pid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int rc = -ESRCH;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		unsigned long long v;

		if (ns_uint_parse(e->d_name, INT32_MAX, &v) < 0)
			continue;
		/* a command line is anyone's to write: the same rule as for any VM */
		if (qemu_has_uuid((pid_t)v, uuid) && ns_vm_trust(NULL, (pid_t)v) == 0) {
			*pid = (pid_t)v;
			rc = 0;
			break;
		}
	}
	closedir(d);
	return rc;
}

int ns_domain_pid(const char *uri, const char *name, pid_t *pid, char *errmsg, size_t len)
{
	virConnectPtr conn = NULL;
	virDomainPtr dom = NULL;
	char uuid[VIR_UUID_STRING_BUFLEN];
	int rc, state = 0, reason = 0;

	if (errmsg && len)
		errmsg[0] = '\0';
	V = ns_virt(errmsg, len);
	if (!V)
		return -ELIBACC;
	conn = V->ConnectOpen(uri ? uri : NS_DEFAULT_URI);
	if (!conn) {
		ns_virt_err(errmsg, len);
		return -ECONNREFUSED;
	}
	dom = V->DomainLookupByName(conn, name);
	if (!dom) {
		ns_virt_err(errmsg, len);
		rc = -ENOENT;
		goto out;
	}
	if (V->DomainGetState(dom, &state, &reason, 0) < 0 || state != VIR_DOMAIN_RUNNING) {
		rc = -ESRCH;
		goto out;
	}
	if (V->DomainGetUUIDString(dom, uuid) < 0) {
		ns_virt_err(errmsg, len);
		rc = -EIO;
		goto out;
	}
	rc = ns_domain_pidfile(NULL, name, pid);
	if (rc == 0 && qemu_has_uuid(*pid, uuid) && ns_vm_trust(NULL, *pid) == 0)
		goto out;
	rc = pid_by_uuid(uuid, pid);
	if (rc < 0) {
		if (errmsg && len)
			snprintf(errmsg, len, "no QEMU process with -uuid %s on this host (not a local QEMU domain?)",
				 uuid);
		rc = -EOPNOTSUPP;
	}
out:
	if (dom)
		V->DomainFree(dom);
	if (conn)
		V->ConnectClose(conn);
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
	V = ns_virt(errmsg, len);
	if (!V)
		return -ELIBACC;
	*dom = NULL;
	*conn = V->ConnectOpen(uri ? uri : NS_DEFAULT_URI);
	if (!*conn) {
		ns_virt_err(errmsg, len);
		return -ECONNREFUSED;
	}
	*dom = V->DomainLookupByName(*conn, name);
	if (!*dom) {
		ns_virt_err(errmsg, len);
		V->ConnectClose(*conn);
		*conn = NULL;
		return -ENOENT;
	}
	return 0;
}

static void close_domain(virConnectPtr conn, virDomainPtr dom)
{
	if (dom)
		V->DomainFree(dom);
	if (conn)
		V->ConnectClose(conn);
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
	if (V->DomainGetNumaParameters(dom, NULL, &n, VIR_DOMAIN_AFFECT_LIVE) < 0 || n <= 0 ||
	    !(params = calloc((size_t)n, sizeof(*params))) ||
	    V->DomainGetNumaParameters(dom, params, &n, VIR_DOMAIN_AFFECT_LIVE) < 0) {
		ns_virt_err(errmsg, errlen);
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
		V->TypedParamsFree(params, n);
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
	if (V->TypedParamsAddString(&params, &n, &max, VIR_DOMAIN_NUMA_NODESET, nodeset) < 0 ||
	    V->DomainSetNumaParameters(dom, params, n, VIR_DOMAIN_AFFECT_LIVE) < 0) {
		ns_virt_err(errmsg, errlen);
		rc = -EPERM;
	}
	V->TypedParamsFree(params, n);
	close_domain(conn, dom);
	return rc;
}
