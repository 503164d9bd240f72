/* python_layout_offsets.c - CPython's own offsets, from its headers.
 *
 * Built once per CPython installed (tests/unit/python_layout.cmake), with
 * Py_BUILD_CORE against that version's internal headers, it prints, as
 * "name value" lines, each field of struct python_layout (interpreter/
 * python_layout.h) as offsetof() gives it, and from 3.13 on where
 * _Py_DebugOffsets keeps each; test_python_layout compares them with the
 * table. Nothing is called: it links no libpython.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>

#include "internal/pycore_frame.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_runtime.h"

#define SHOW(name, value) printf("%s %zu\n", name, (size_t)(value))

int main(void)
{
	printf("version %d.%d\n", PY_MAJOR_VERSION, PY_MINOR_VERSION);
	SHOW("interp_head", offsetof(_PyRuntimeState, interpreters.head));
#if PY_MINOR_VERSION == 11
	SHOW("tss_key", offsetof(_PyRuntimeState, gilstate.autoTSSkey) + offsetof(Py_tss_t, _key));
	SHOW("threads_head", offsetof(PyInterpreterState, threads.head));
#else
	SHOW("tss_key", offsetof(_PyRuntimeState, autoTSSkey) + offsetof(Py_tss_t, _key));
	SHOW("threads_head", offsetof(PyInterpreterState, threads.head));
#endif
	SHOW("ts_next", offsetof(PyThreadState, next));
	SHOW("ts_thread_id", offsetof(PyThreadState, thread_id));
#if PY_MINOR_VERSION <= 12
	SHOW("ts_frame", offsetof(PyThreadState, cframe));
	SHOW("cframe_frame", offsetof(_PyCFrame, current_frame));
	SHOW("frame_code", offsetof(_PyInterpreterFrame, f_code));
	SHOW("frame_instr", offsetof(_PyInterpreterFrame, prev_instr));
#else
	SHOW("ts_frame", offsetof(PyThreadState, current_frame));
	SHOW("cframe_frame", 0xffff); /* BPFPROF_PY_NO_CFRAME */
	SHOW("frame_code", offsetof(_PyInterpreterFrame, f_executable));
	SHOW("frame_instr", offsetof(_PyInterpreterFrame, instr_ptr));
#endif
	SHOW("frame_previous", offsetof(_PyInterpreterFrame, previous));
#if PY_MINOR_VERSION == 11
	SHOW("frame_entry", offsetof(_PyInterpreterFrame, is_entry));
	SHOW("entry_kind", 1); /* PY_ENTRY_FLAG */
#else
	SHOW("frame_entry", offsetof(_PyInterpreterFrame, owner));
	SHOW("entry_kind", 2); /* PY_ENTRY_SHIM */
	SHOW("owner_shim", FRAME_OWNED_BY_CSTACK);
#endif
	SHOW("code_adaptive", offsetof(PyCodeObject, co_code_adaptive));
	SHOW("code_firstlineno", offsetof(PyCodeObject, co_firstlineno));
	SHOW("code_filename", offsetof(PyCodeObject, co_filename));
	SHOW("code_name", offsetof(PyCodeObject, co_name));
	SHOW("code_qualname", offsetof(PyCodeObject, co_qualname));
	SHOW("code_linetable", offsetof(PyCodeObject, co_linetable));
	SHOW("ascii_size", sizeof(PyASCIIObject));
	SHOW("compact_size", sizeof(PyCompactUnicodeObject));
	SHOW("ob_type", offsetof(PyObject, ob_type));
	SHOW("var_size", offsetof(PyVarObject, ob_size));
	SHOW("bytes_data", offsetof(PyBytesObject, ob_sval));
	SHOW("str_length", offsetof(PyASCIIObject, length));
	/* where _Py_DebugOffsets (3.13+) keeps them; 0: no such table */
#if PY_MINOR_VERSION >= 13
#define DEBUG(name, member) SHOW("debug." name, offsetof(_Py_DebugOffsets, member))
	SHOW("debug_sizeof", sizeof(_Py_DebugOffsets));
#else
#define DEBUG(name, member) SHOW("debug." name, 0)
	SHOW("debug_sizeof", 0);
#endif
	DEBUG("interp_head", runtime_state.interpreters_head);
	DEBUG("threads_head", interpreter_state.threads_head);
	DEBUG("ts_next", thread_state.next);
	DEBUG("ts_frame", thread_state.current_frame);
	DEBUG("ts_thread_id", thread_state.thread_id);
	DEBUG("frame_previous", interpreter_frame.previous);
	DEBUG("frame_code", interpreter_frame.executable);
	DEBUG("frame_instr", interpreter_frame.instr_ptr);
	DEBUG("frame_entry", interpreter_frame.owner);
	DEBUG("code_filename", code_object.filename);
	DEBUG("code_name", code_object.name);
	DEBUG("code_qualname", code_object.qualname);
	DEBUG("code_linetable", code_object.linetable);
	DEBUG("code_firstlineno", code_object.firstlineno);
	DEBUG("code_adaptive", code_object.co_code_adaptive);
	DEBUG("ascii_size", unicode_object.asciiobject_size);
	return 0;
}
