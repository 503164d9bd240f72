/* preflight.c - see preflight.h. */
#include "preflight.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define KERNEL_BTF "/sys/kernel/btf/vmlinux"

static bool has_effective_cap(const struct __user_cap_data_struct data[2], int cap)
{
	return data[cap / 32].effective & (UINT32_C(1) << (cap % 32));
}

static bool privileged(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (geteuid() == 0)
		return true;
	if (syscall(SYS_capget, &hdr, data))
		return false;
	return has_effective_cap(data, CAP_SYS_ADMIN) ||
	       (has_effective_cap(data, CAP_BPF) && has_effective_cap(data, CAP_PERFMON));
}

int preflight_check(void)
{
	if (!privileged()) {
		log_error("not permitted: bpfprof needs root or CAP_BPF+CAP_PERFMON "
			  "(run it with sudo)");
		return -EPERM;
	}
	if (access(KERNEL_BTF, R_OK)) {
		log_error("kernel BTF not found (%s): bpfprof needs a kernel built with "
			  "CONFIG_DEBUG_INFO_BTF=y (kernel 5.8 or later)", KERNEL_BTF);
		return -ENOENT;
	}
	return 0;
}
