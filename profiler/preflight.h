/* preflight.h - checks that explain, before any BPF is loaded, why
 * profiling cannot work here: privileges and kernel BTF. Each failure logs
 * one line naming the cause and the fix. */
#ifndef BPFPROF_PREFLIGHT_H
#define BPFPROF_PREFLIGHT_H

/* Returns 0, -EPERM (no privileges) or -ENOENT (no kernel BTF). */
int preflight_check(void);

#endif
