/* unwind_libunwind.h - the same stack snapshots unwound by libunwind.
 *
 * libunwind is the independent oracle of unwind.c (tests and a fuzz target
 * compare the pcs both find) and the symbolizer's fallback where unwind.c
 * meets a CFI rule it does not follow (symbolizer_unwind).
 *
 * libunwind's remote API does the walk: one address space (struct ulw)
 * with accessors over the snapshot, no process and no ptrace:
 *  - registers: rip, rsp and rbp of the sample; any other register is
 *    unknown (-UNW_EBADREG) until a frame's CFI says where it was saved;
 *  - memory: 8 bytes wholly inside the snapshot, as unwind.c reads it, or
 *    the bytes of an object's .eh_frame_hdr and .eh_frame at their process
 *    addresses (what libunwind parses the CFI from); nothing else;
 *  - find_proc_info: the object of the pc (the caller's callback) and a
 *    binary search of its .eh_frame_hdr table by libunwind's own
 *    dwarf_search_unwind_table (exported by libunwind-x86_64 for its ptrace
 *    and coredump libraries; not in its public headers, so declared in the
 *    .c), on a UNW_INFO_FORMAT_REMOTE_TABLE descriptor: the way
 *    libunwind-ptrace and libunwind-coredump find it.
 * Caching is off (UNW_CACHE_NONE): one address space serves snapshots of
 * every process, where one pc may be two different objects.
 *
 * An object's part (struct ulw_object) is a copy of its .eh_frame_hdr and
 * .eh_frame, read with pread (never mmap: a file a user truncates must not
 * SIGBUS us) after elf_limits_check(), both under a cap the caller gives
 * (and ELF_MAX_CFI_BYTES). A cache of them, by file identity
 * and under a byte cap (least recently used out), serves the symbolizer,
 * which keeps no file open: a missing object is read when a fallback first
 * needs it.
 *
 * When is a walk complete? libunwind's unw_step() also returns 0 ("end")
 * where its heuristics give up (no CFI and rbp 0 or out of range), so END
 * is only reported when the last step had CFI for its frame (the return
 * address is undefined: _start, clone3) or read a 0 return address, the
 * same two ends unwind.c knows.
 */
#ifndef BPFPROF_SYM_UNWIND_LIBUNWIND_H
#define BPFPROF_SYM_UNWIND_LIBUNWIND_H

#include <stddef.h>
#include <stdint.h>

#include "unwind.h"

/* The symbolizer's cache: libc's sections take 180 KiB, python3's 480 KiB,
 * so this holds the few objects whose stacks need the fallback. */
#define ULW_DEFAULT_CACHE_BYTES ((size_t)32 << 20)

struct ulw_object;

/* Reads .eh_frame_hdr (PT_GNU_EH_FRAME) and the .eh_frame it indexes from
 * the x86-64 ELF file open on fd (stays the caller's). Returns 0, -ENODATA
 * without them (or a table libunwind cannot search), -ENOTSUP when not
 * x86-64 ELF64, -EINVAL when not a regular ELF file or malformed, -E2BIG
 * when both sections take more than max_bytes or the file is over a cap
 * of elf_limits.h, -ENOMEM. Does not log. */
int ulw_object_build(int fd, size_t max_bytes, struct ulw_object **out);
void ulw_object_free(struct ulw_object *o);
size_t ulw_object_memory(const struct ulw_object *o);

/* The object mapped at process address pc, or NULL, and the load bias
 * (process address = ELF vaddr + *bias). */
typedef const struct ulw_object *(*ulw_find_fn)(void *ctx, uint64_t pc,
					       uint64_t *bias);

struct ulw;

/* cache_bytes caps the objects ulw_object_get() keeps (0: none kept). */
int ulw_new(size_t cache_bytes, struct ulw **out);
void ulw_free(struct ulw *u);

/* Unwinds like unwind_snapshot() (same inputs, pcs, exact and statuses: END,
 * TRUNCATED when a read went past the snapshot's end, NO_CFI, UNSUPPORTED
 * when libunwind needed a register the sample lacks, BAD_FRAME otherwise,
 * MAX_FRAMES) and returns the number of pcs, or -EINVAL. */
int ulw_unwind(struct ulw *u, const struct unwind_regs *regs,
	       const struct unwind_stack *stack, ulw_find_fn find, void *ctx,
	       uint64_t *pcs, bool *exact, int max, enum unwind_status *status);

/* What identifies one version of a file's contents (fstat). */
struct ulw_file_id {
	uint64_t dev, ino;
	int64_t size, mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
};

/* The cached object of the file id names, else open_fd(ctx) is called for
 * a descriptor of it (closed here), which must still be that file, and the
 * object is built and cached. NULL: no object; a file without usable
 * sections is remembered as such, a failed open is not. */
const struct ulw_object *ulw_object_get(struct ulw *u, const struct ulw_file_id *id,
					int (*open_fd)(void *ctx), void *ctx);

/* Bytes the cache holds. */
size_t ulw_cache_memory(const struct ulw *u);

#endif
