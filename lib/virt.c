/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvirt loaded with dlopen on first use; see virt.h for why. */
#include <dlfcn.h>
#include <stdio.h>

#include "virt.h"

static struct ns_virt_api api;
static int state; /* 0 not tried, 1 loaded, -1 failed */
static char why[256];

/* libvirt prints every error to stderr unless a handler is installed; ours says nothing,
 * the caller reports the message itself. */
static void quiet_handler(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

#define LOAD(field, sym)                                                                                 \
	do {                                                                                             \
		*(void **)(&api.field) = dlsym(h, sym);                                                  \
		if (!api.field) {                                                                        \
			snprintf(why, sizeof(why), "libvirt.so.0 has no %s", sym);                       \
			return -1;                                                                       \
		}                                                                                        \
	} while (0)

static int load(void)
{
	void *h = dlopen("libvirt.so.0", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(why, sizeof(why), "cannot load libvirt: %s", dlerror());
		return -1;
	}
	LOAD(ConnectOpen, "virConnectOpen");
	LOAD(ConnectClose, "virConnectClose");
	LOAD(DomainLookupByName, "virDomainLookupByName");
	LOAD(DomainFree, "virDomainFree");
	LOAD(DomainGetState, "virDomainGetState");
	LOAD(DomainGetInfo, "virDomainGetInfo");
	LOAD(DomainGetUUIDString, "virDomainGetUUIDString");
	LOAD(SetErrorFunc, "virSetErrorFunc");
	LOAD(GetLastError, "virGetLastError");
	LOAD(DomainGetNumaParameters, "virDomainGetNumaParameters");
	LOAD(DomainSetNumaParameters, "virDomainSetNumaParameters");
	LOAD(TypedParamsAddString, "virTypedParamsAddString");
	LOAD(TypedParamsFree, "virTypedParamsFree");
	LOAD(TypedParamsClear, "virTypedParamsClear");
	LOAD(NodeGetInfo, "virNodeGetInfo");
	LOAD(NodeGetCPUMap, "virNodeGetCPUMap");
	LOAD(DomainGetVcpuPinInfo, "virDomainGetVcpuPinInfo");
	LOAD(DomainGetEmulatorPinInfo, "virDomainGetEmulatorPinInfo");
	LOAD(DomainGetIOThreadInfo, "virDomainGetIOThreadInfo");
	LOAD(DomainIOThreadInfoFree, "virDomainIOThreadInfoFree");
	LOAD(DomainPinVcpuFlags, "virDomainPinVcpuFlags");
	LOAD(DomainPinEmulator, "virDomainPinEmulator");
	LOAD(DomainPinIOThread, "virDomainPinIOThread");
	LOAD(DomainGetSchedulerType, "virDomainGetSchedulerType");
	LOAD(DomainGetSchedulerParametersFlags, "virDomainGetSchedulerParametersFlags");
	LOAD(DomainSetSchedulerParametersFlags, "virDomainSetSchedulerParametersFlags");
	api.SetErrorFunc(NULL, quiet_handler);
	return 0;
}

const struct ns_virt_api *ns_virt(char *errmsg, size_t len)
{
	if (state == 0)
		state = load() == 0 ? 1 : -1;
	if (state < 0) {
		if (errmsg && len)
			snprintf(errmsg, len, "%s", why);
		return NULL;
	}
	return &api;
}

void ns_virt_err(char *errmsg, size_t len)
{
	virErrorPtr e = state > 0 ? api.GetLastError() : NULL;

	if (errmsg && len)
		snprintf(errmsg, len, "%s", e && e->message ? e->message : "libvirt failed");
}
