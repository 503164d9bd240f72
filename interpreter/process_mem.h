/* process_mem.h - reading another process's memory, all or nothing.
 *
 * The interpreter readers (python_code.h) take their reads through a
 * function, so that the same parser reads a live process
 * (process_mem_read, with process_vm_readv: no ptrace stop, no /proc/PID/mem
 * descriptor kept) or, in a fuzz target or a unit test, a buffer that
 * stands for one. A read gives every byte asked for or fails.
 */
#ifndef BPFPROF_PROCESS_MEM_H
#define BPFPROF_PROCESS_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads len bytes at addr into buf: 0, or -EFAULT (not all mapped),
 * -ESRCH (no such process) or another negative errno. */
typedef int (*mem_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* mem_read_fn over process *(pid_t *)ctx. */
int process_mem_read(void *ctx, uint64_t addr, void *buf, size_t len);

#endif
