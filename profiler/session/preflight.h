/* preflight.h - checks that explain, before any BPF is loaded, why
 * profiling cannot work here: capabilities and kernel BTF. Each failure
 * logs one line naming the cause and the fix: the missing capability
 * (CAP_BPF, CAP_PERFMON), or the missing BTF. Capabilities that only
 * symbolization needs (CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH,
 * CAP_CHECKPOINT_RESTORE, CAP_SYSLOG) are not fatal: their absence is
 * one warning line naming each and the frames it costs. */
#ifndef BPFPROF_PREFLIGHT_H
#define BPFPROF_PREFLIGHT_H

/* Returns 0, -EPERM (CAP_BPF or CAP_PERFMON missing) or -ENOENT (no
 * kernel BTF). */
int preflight_check(void);

#endif
