/* preflight.c - see preflight.h.
 *
 * Capabilities are read from the effective set (capget), never inferred
 * from euid 0: a root service or container can run with a bounding set
 * that lacks CAP_BPF, and its BPF load would otherwise fail later with a
 * bare EPERM. CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON (the
 * kernel's bpf_capable() and perfmon_capable()) and for
 * CAP_CHECKPOINT_RESTORE; CAP_DAC_OVERRIDE for CAP_DAC_READ_SEARCH. The set
 * and what each capability is for: docs/deploy/README.md. */
#include "preflight.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

#define KERNEL_BTF "/sys/kernel/btf/vmlinux"
#define DEPLOY_DOC "docs/deploy/README.md"

/* A capability bpfprof uses, another that grants the same, and what is
 * lost without either (for the optional ones). */
struct wanted_cap {
	int cap, alt;
	const char *name, *without;
};

/* Without these nothing can be sampled. */
static const struct wanted_cap required[] = {
	{ CAP_BPF, CAP_SYS_ADMIN, "CAP_BPF", NULL },
	{ CAP_PERFMON, CAP_SYS_ADMIN, "CAP_PERFMON", NULL },
};

/* Without these, some frames stay unsymbolized (address + mapping). */
static const struct wanted_cap optional[] = {
	{ CAP_SYS_PTRACE, -1, "CAP_SYS_PTRACE", "other users' processes" },
	{ CAP_DAC_READ_SEARCH, CAP_DAC_OVERRIDE, "CAP_DAC_READ_SEARCH", "other users' processes" },
	{ CAP_CHECKPOINT_RESTORE, CAP_SYS_ADMIN, "CAP_CHECKPOINT_RESTORE",
	  "deleted and replaced binaries" },
	{ CAP_SYSLOG, -1, "CAP_SYSLOG", "kernel frames" },
};

static bool has_cap(const struct __user_cap_data_struct data[2], int cap)
{
	return cap >= 0 && (data[cap / 32].effective & (UINT32_C(1) << (cap % 32)));
}

/* Writes to buf (of size n) the names of the caps of list that data
 * lacks, joined by sep, each followed by " (what is lost)" when
 * with_effect; returns how many are missing. */
static int missing_caps(const struct __user_cap_data_struct data[2],
			const struct wanted_cap *list, size_t count, const char *sep,
			bool with_effect, char *buf, size_t n)
{
	size_t len = 0;
	int missing = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		int w;

		if (has_cap(data, list[i].cap) || has_cap(data, list[i].alt))
			continue;
		w = snprintf(buf + len, n - len, "%s%s%s%s%s", missing++ ? sep : "",
			     list[i].name, with_effect ? " (" : "",
			     with_effect ? list[i].without : "", with_effect ? ")" : "");
		if (w > 0 && (size_t)w < n - len) /* the fixed names fit: n is ample */
			len += (size_t)w;
	}
	return missing;
}

int preflight_check(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };
	char names[256];

	if (syscall(SYS_capget, &hdr, data)) /* cannot fail; if it did: no caps */
		data[0].effective = data[1].effective = 0;
	if (missing_caps(data, required, sizeof(required) / sizeof(required[0]), " and ",
			 false, names, sizeof(names))) {
		log_error("not permitted: missing %s; bpfprof needs root or CAP_BPF and "
			  "CAP_PERFMON (run it with sudo; a service's capabilities: %s)",
			  names, DEPLOY_DOC);
		return -EPERM;
	}
	if (missing_caps(data, optional, sizeof(optional) / sizeof(optional[0]), ", ",
			 true, names, sizeof(names)))
		log_warn("without %s: their frames stay unsymbolized (see %s)", names, DEPLOY_DOC);
	if (access(KERNEL_BTF, R_OK)) {
		log_error("kernel BTF not found (%s): bpfprof needs a kernel built with "
			  "CONFIG_DEBUG_INFO_BTF=y (kernel 5.8 or later)", KERNEL_BTF);
		return -ENOENT;
	}
	return 0;
}
