/* python_detect.h - does a process run CPython, which, and where.
 *
 * A process runs CPython when one of its file mappings is the interpreter:
 * an executable named python3.N (Debian's /usr/bin/python3.11 links it
 * all in) or a library named libpython3.N*.so* (pyenv's python3 needs its
 * libpython3.N.so.1.0), preferred when both are there: the executable is
 * then a stub without the symbols. The file is opened as the symbolizer
 * opens objects (never through a user's FUSE mount), checked against the
 * ELF caps, and its symbol tables read for _PyRuntime, PyCode_Type,
 * _PyEval_EvalFrameDefault (and its .cold part where .symtab names it) and
 * Py_Version; addresses are moved to the process's by the mapping's load
 * bias. The version is Py_Version's, read from the process (3.11+), and
 * must agree with the name's; from 3.13 on, the layout must also agree
 * with the interpreter's own _Py_DebugOffsets (python_layout_check). A
 * name with a flavour (3.13t free-threaded, d debug), a version without a
 * layout or one that does not agree is found but not supported (and why
 * is said).
 * The process's maps are read here, not taken from the symbolizer: a
 * Python process is found before its objects are parsed (which may take
 * a few hundred ms for a libpython with DWARF), so few of its first
 * samples go without their Python frames.
 */
#ifndef BPFPROF_PYTHON_DETECT_H
#define BPFPROF_PYTHON_DETECT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "python_layout.h"
#include "symbolizer.h"

struct python_found {
	unsigned major, minor;
	char flavour[4];        /* what follows the version in the name: "", "t", "d" */
	const struct python_layout *layout; /* NULL: this version is not supported */
	uint64_t runtime;       /* &_PyRuntime in the process */
	uint64_t code_type;     /* &PyCode_Type */
	uint64_t eval_start, eval_end; /* _PyEval_EvalFrameDefault */
	uint64_t cold_start, cold_end; /* its .cold part; 0, 0: not named */
	char path[256];         /* the interpreter's file, for messages */
	char why[128];          /* layout NULL: why it is not supported */
};

/* Whether the base name of path names a CPython interpreter file, and
 * which version: "python3.11", "libpython3.12.so.1.0", "python3.13t". */
bool python_file_name(const char *path, unsigned *major, unsigned *minor, char flavour[4],
		      bool *library);

/* Looks for the CPython of pid (its file opened through s). 0: found,
 * into *out (out->layout NULL when not supported); -ENOENT: no
 * interpreter mapped (yet: ld.so may not have mapped libpython); -ESRCH:
 * no such process; another negative errno when its file or memory cannot
 * be read. Does not log. */
int python_detect(struct symbolizer *s, pid_t pid, struct python_found *out);

#endif
