/* python_layout.c - see python_layout.h. Numbers: ../shared/reference/
 * python.md §1 and §4 (offsetof with Py_BUILD_CORE on Debian's 3.11.2 and
 * pyenv's 3.11.7, 3.12.1, 3.13.0; 3.14 from py-spy v0.4.2's v3_14_0.rs). */
#include "python_layout.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
		.debug = {
			.size = 568, /* of 584: up to unicode_object.asciiobject_size */
			.interp_head = 40, .threads_head = 72,
			.ts_next = 168, .ts_frame = 184, .ts_thread_id = 192,
			.frame_previous = 232, .frame_code = 240, .frame_instr = 248,
			.frame_entry = 264, /* owner */
			.code_filename = 280, .code_name = 288, .code_qualname = 296,
			.code_linetable = 304, .code_firstlineno = 312, .code_adaptive = 344,
			.ascii_size = 560,
		},
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
		.debug = { .size = PYTHON_DEBUG_HEADER },
	},
};

const struct python_layout *python_layout_find(unsigned major, unsigned minor)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].major == major && layouts[i].minor == minor)
			return &layouts[i];
	return NULL;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int python_layout_check(const struct python_layout *l, const uint8_t *buf, size_t len, char *why,
			size_t why_size)
{
	const struct python_debug_offsets *d = &l->debug;
	const struct {
		const char *name;
		uint16_t at;
		uint16_t ours;
	} fields[] = {
		{ "interpreters.head", d->interp_head, l->bpf.interp_head },
		{ "threads.head", d->threads_head, l->bpf.threads_head },
		{ "PyThreadState.next", d->ts_next, l->bpf.ts_next },
		{ "PyThreadState.current_frame", d->ts_frame, l->bpf.ts_frame },
		{ "PyThreadState.thread_id", d->ts_thread_id, l->bpf.ts_thread_id },
		{ "frame.previous", d->frame_previous, l->bpf.frame_previous },
		{ "frame.f_executable", d->frame_code, l->bpf.frame_code },
		{ "frame.instr_ptr", d->frame_instr, l->bpf.frame_instr },
		{ "frame.owner", d->frame_entry, l->bpf.frame_entry },
		{ "co_filename", d->code_filename, l->code_filename },
		{ "co_name", d->code_name, l->code_name },
		{ "co_qualname", d->code_qualname, l->code_qualname },
		{ "co_linetable", d->code_linetable, l->code_linetable },
		{ "co_firstlineno", d->code_firstlineno, l->code_firstlineno },
		{ "co_code_adaptive", d->code_adaptive, l->bpf.code_adaptive },
		{ "sizeof(PyASCIIObject)", d->ascii_size, l->ascii_size },
	};
	uint64_t version;

	if (!d->size)
		return 0;
	if (len < d->size || len < PYTHON_DEBUG_HEADER)
		return -EINVAL;
	if (memcmp(buf, "xdebugpy", 8)) {
		snprintf(why, why_size, "no _Py_DebugOffsets at _PyRuntime");
		return -EPROTO;
	}
	version = get_u64(buf + 8); /* PY_VERSION_HEX */
	if (version >> 24 != l->major || (version >> 16 & 0xff) != l->minor) {
		snprintf(why, why_size, "_Py_DebugOffsets of version %u.%u", (unsigned)(version >> 24),
			 (unsigned)(version >> 16 & 0xff));
		return -EPROTO;
	}
	if (get_u64(buf + 16)) {
		snprintf(why, why_size, "a free-threaded build");
		return -EPROTO;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint64_t theirs;

		if (!fields[i].at)
			continue;
		if ((size_t)fields[i].at + 8 > len)
			return -EINVAL;
		theirs = get_u64(buf + fields[i].at);
		if (theirs != fields[i].ours) {
			snprintf(why, why_size, "_Py_DebugOffsets has %s at %llu, not %u",
				 fields[i].name, (unsigned long long)theirs, fields[i].ours);
			return -EPROTO;
		}
	}
	return 0;
}
