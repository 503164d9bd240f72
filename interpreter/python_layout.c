/* python_layout.c - see python_layout.h. Numbers: ../shared/reference/
 * python.md §1 (offsetof with Py_BUILD_CORE on Debian's 3.11.2 and pyenv's
 * 3.11.7, 3.12.1, 3.13.0; 3.14 from py-spy v0.4.2's v3_14_0.rs). */
#include "python_layout.h"

#include <stddef.h>

static const struct python_layout layouts[] = {
	{
		.major = 3, .minor = 11, .checked = true,
		.bpf = {
			.interp_head = 40, .tss_key = 592 + 4, .threads_head = 16,
			.ts_next = 8, .ts_thread_id = 152,
			.ts_frame = 56, .cframe_frame = 8, /* ts->cframe->current_frame */
			.frame_code = 32, .frame_previous = 48, .frame_instr = 56,
			.frame_entry = 68, .entry_kind = PY_ENTRY_FLAG,
			.code_adaptive = 184,
		},
		.code_firstlineno = 72, .code_filename = 112, .code_name = 120,
		.code_qualname = 128, .code_linetable = 136,
		.ascii_size = 48, .compact_size = 72,
	},
	{
		.major = 3, .minor = 12, .checked = true,
		.bpf = {
			.interp_head = 40, .tss_key = 1544 + 4, .threads_head = 72,
			.ts_next = 8, .ts_thread_id = 136,
			.ts_frame = 56, .cframe_frame = 0,
			.frame_code = 0, .frame_previous = 8, .frame_instr = 56,
			.frame_entry = 70, .entry_kind = PY_ENTRY_SHIM,
			.code_adaptive = 192,
		},
		.code_firstlineno = 68, .code_filename = 112, .code_name = 120,
		.code_qualname = 128, .code_linetable = 136,
		.ascii_size = 40, .compact_size = 56,
	},
	{
		.major = 3, .minor = 13, .checked = true,
		.bpf = {
			.interp_head = 632, .tss_key = 2160 + 4, .threads_head = 7344,
			.ts_next = 8, .ts_thread_id = 152,
			.ts_frame = 72, .cframe_frame = BPFPROF_PY_NO_CFRAME,
			.frame_code = 0, .frame_previous = 8, .frame_instr = 56,
			.frame_entry = 70, .entry_kind = PY_ENTRY_SHIM,
			.code_adaptive = 200,
		},
		.code_firstlineno = 68, .code_filename = 112, .code_name = 120,
		.code_qualname = 128, .code_linetable = 136,
		.ascii_size = 40, .compact_size = 56,
	},
	{
		.major = 3, .minor = 14, .checked = false,
		.bpf = {
			.interp_head = 808, .tss_key = 2336 + 4, .threads_head = 7344,
			.ts_next = 8, .ts_thread_id = 152,
			.ts_frame = 72, .cframe_frame = BPFPROF_PY_NO_CFRAME,
			.frame_code = 0, .frame_previous = 8, .frame_instr = 56,
			.frame_entry = 74, .entry_kind = PY_ENTRY_SHIM,
			.code_adaptive = 208,
		},
		.code_firstlineno = 68, .code_filename = 112, .code_name = 120,
		.code_qualname = 128, .code_linetable = 136,
		.ascii_size = 40, .compact_size = 56,
	},
};

const struct python_layout *python_layout_find(unsigned major, unsigned minor)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].major == major && layouts[i].minor == minor)
			return &layouts[i];
	return NULL;
}
