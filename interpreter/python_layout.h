/* python_layout.h - where CPython keeps what a stack walk reads, per version.
 *
 * CPython's thread states, frames and code objects are private structs
 * whose layout changes with every minor version (and differs in debug and
 * free-threaded builds, which are not supported). The walk needs a few
 * offsets of each: the BPF side's go to it as data (struct
 * bpfprof_python_offsets in bpf/profile.h), the code object's and the
 * string's stay here, for the user-space reader (python_code.h). Sources:
 * offsetof() over each version's internal headers with Py_BUILD_CORE for
 * 3.11 to 3.13 (tests/unit/test_python_layout.c checks them against the
 * headers a machine has), py-spy's bindings for 3.14.
 */
#ifndef BPFPROF_PYTHON_LAYOUT_H
#define BPFPROF_PYTHON_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/* Where _Py_DebugOffsets, CPython's own table of its offsets for tools
 * (3.13+: the first member of _PyRuntime, a static initializer), keeps
 * the ones of a layout: byte positions in it, 0 for one not checked. Its
 * header (cookie "xdebugpy", version, free_threaded) is the same in every
 * version; what follows is not. */
struct python_debug_offsets {
	uint16_t size; /* bytes read from _PyRuntime; 0: the version has none */
	uint16_t interp_head, threads_head, ts_next, ts_thread_id, ts_frame;
	uint16_t frame_code, frame_previous, frame_instr, frame_entry, code_adaptive;
	uint16_t code_firstlineno, code_filename, code_name, code_qualname, code_linetable;
	uint16_t ascii_size;
};

#define PYTHON_DEBUG_HEADER 24 /* cookie[8], version, free_threaded */
#define PYTHON_DEBUG_MAX 1024  /* no debug.size is larger */

struct python_layout {
	unsigned major, minor;
	bool checked;  /* against a real interpreter here (3.14: not yet) */
	struct bpfprof_python_offsets bpf;
	/* PyCodeObject */
	uint16_t code_firstlineno; /* int */
	uint16_t code_filename, code_name, code_qualname, code_linetable; /* PyObject * */
	/* str: characters after sizeof(PyASCIIObject) when compact ASCII,
	 * else after sizeof(PyCompactUnicodeObject) */
	uint16_t ascii_size, compact_size;
	struct python_debug_offsets debug; /* 3.13: every field; 3.14: its
	                                      header (the rest not known here) */
};

/* The layout of CPython major.minor, NULL when not supported. */
const struct python_layout *python_layout_find(unsigned major, unsigned minor);

/* Checks l against the _Py_DebugOffsets at the start of buf (len bytes
 * read from a process's _PyRuntime; l->debug.size are enough): 0 when
 * they agree, or l has none to check; -EPROTO when they do not (another
 * version, a free-threaded build, an offset that differs, no cookie),
 * with why (why_size bytes) saying how; -EINVAL when len is short. */
int python_layout_check(const struct python_layout *l, const uint8_t *buf, size_t len, char *why,
			size_t why_size);

/* Fixed in every supported version (CPython's object headers). */
#define PYTHON_OB_TYPE 8          /* PyObject.ob_type */
#define PYTHON_VAR_SIZE 16        /* PyVarObject.ob_size (bytes: its length) */
#define PYTHON_BYTES_DATA 32      /* PyBytesObject.ob_sval */
#define PYTHON_STR_LENGTH 16      /* PyASCIIObject.length: code points */
#define PYTHON_STR_STATE 32       /* PyASCIIObject.state: kind bits 2-4,
	                             compact bit 5, ascii bit 6 */

#endif
