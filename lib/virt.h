/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvirt, loaded on first use. Commands that never talk to libvirt (most runs of
 * numa-migrate, every fast-swapoff) then do not pay for loading it and its ~50 dependencies:
 * under emulation that was ~0.3 s per run, a tenth of a 1 GiB move. */
#ifndef NS_LIB_VIRT_H
#define NS_LIB_VIRT_H

#include <stddef.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

struct ns_virt_api {
	virConnectPtr (*ConnectOpen)(const char *name);
	int (*ConnectClose)(virConnectPtr conn);
	virDomainPtr (*DomainLookupByName)(virConnectPtr conn, const char *name);
	int (*DomainFree)(virDomainPtr dom);
	int (*DomainGetState)(virDomainPtr dom, int *state, int *reason, unsigned int flags);
	int (*DomainGetInfo)(virDomainPtr dom, virDomainInfoPtr info);
	int (*DomainGetUUIDString)(virDomainPtr dom, char *buf);
	void (*SetErrorFunc)(void *userData, virErrorFunc handler);
	virErrorPtr (*GetLastError)(void);
	int (*DomainGetNumaParameters)(virDomainPtr dom, virTypedParameterPtr params, int *nparams,
				       unsigned int flags);
	int (*DomainSetNumaParameters)(virDomainPtr dom, virTypedParameterPtr params, int nparams,
				       unsigned int flags);
	int (*TypedParamsAddString)(virTypedParameterPtr *params, int *nparams, int *maxparams,
				    const char *name, const char *value);
	void (*TypedParamsFree)(virTypedParameterPtr params, int nparams);
	void (*TypedParamsClear)(virTypedParameterPtr params, int nparams);
	int (*NodeGetInfo)(virConnectPtr conn, virNodeInfoPtr info);
	int (*NodeGetCPUMap)(virConnectPtr conn, unsigned char **cpumap, unsigned int *online,
			     unsigned int flags);
	int (*DomainGetVcpuPinInfo)(virDomainPtr domain, int ncpumaps, unsigned char *cpumaps, int maplen,
				    unsigned int flags);
	int (*DomainGetEmulatorPinInfo)(virDomainPtr domain, unsigned char *cpumaps, int maplen,
					unsigned int flags);
	int (*DomainGetIOThreadInfo)(virDomainPtr domain, virDomainIOThreadInfoPtr **info, unsigned int flags);
	void (*DomainIOThreadInfoFree)(virDomainIOThreadInfoPtr info);
	int (*DomainPinVcpuFlags)(virDomainPtr domain, unsigned int vcpu, unsigned char *cpumap, int maplen,
				  unsigned int flags);
	int (*DomainPinEmulator)(virDomainPtr domain, unsigned char *cpumap, int maplen, unsigned int flags);
	int (*DomainPinIOThread)(virDomainPtr domain, unsigned int iothread_id, unsigned char *cpumap,
				 int maplen, unsigned int flags);
	char *(*DomainGetSchedulerType)(virDomainPtr domain, int *nparams);
	int (*DomainGetSchedulerParametersFlags)(virDomainPtr domain, virTypedParameterPtr params, int *nparams,
						 unsigned int flags);
	int (*DomainSetSchedulerParametersFlags)(virDomainPtr domain, virTypedParameterPtr params, int nparams,
						 unsigned int flags);
};

/* The API, loading libvirt.so.0 and silencing its default error printer on first call; NULL
 * (errmsg says why) when libvirt cannot be loaded. */
const struct ns_virt_api *ns_virt(char *errmsg, size_t len);
/* libvirt's last error message into errmsg ("libvirt failed" when it has none). */
void ns_virt_err(char *errmsg, size_t len);

#endif
