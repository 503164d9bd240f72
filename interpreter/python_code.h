/* python_code.h - what a CPython code object says of its frames.
 *
 * The BPF walk records a frame as its code object's address; this reads
 * the object, once, through a mem_read_fn (a live process, or a buffer in
 * a fuzz target): it must be a code object (its ob_type is the process's
 * PyCode_Type), then its co_qualname and co_filename (str objects: compact
 * ASCII, or compact UCS-1/2/4 turned into UTF-8) and its co_linetable
 * (bytes), which python_line_at() reads a line from; and what identifies
 * it, to tell when another code object has taken its address. Everything
 * read is hostile: lengths are checked against caps before anything is
 * copied, a string that is not a compact str reads as "?", and every
 * failure is an error code, never a read past what was asked for.
 */
#ifndef BPFPROF_PYTHON_CODE_H
#define BPFPROF_PYTHON_CODE_H

#include <stddef.h>
#include <stdint.h>

#include "process_mem.h"
#include "python_layout.h"

#define PYTHON_NAME_MAX 512         /* bytes of a name or file kept (UTF-8) */
#define PYTHON_LINETABLE_MAX (64 << 10) /* the stdlib's largest is 4.8 KiB */

struct python_code {
	uint64_t identity;  /* python_code_identity()'s */
	char qualname[PYTHON_NAME_MAX];
	char filename[PYTHON_NAME_MAX];
	int32_t firstlineno;
	uint8_t *linetable; /* malloc'ed, linetable_len bytes; NULL when empty */
	size_t linetable_len;
};

/* Reads the code object at addr. 0; -ENOENT: not a code object (ob_type is
 * not code_type); -EINVAL: a field out of its caps; -ENOMEM; or the
 * reader's error. On success the caller frees out->linetable. */
int python_code_read(const struct python_layout *l, mem_read_fn read, void *ctx, uint64_t addr,
		     uint64_t code_type, struct python_code *out);

/* What tells the code object at addr from another one allocated there
 * later (CPython's allocator hands a freed code object's block to the
 * next of its size at once): a hash of its firstlineno and of where its
 * qualname, file name and location table are. One read of its header.
 * 0 and *out; -ENOENT: not a code object; or the reader's error. */
int python_code_identity(const struct python_layout *l, mem_read_fn read, void *ctx,
			 uint64_t addr, uint64_t code_type, uint64_t *out);

#endif
