/* test_python_layout.c - interpreter/python_layout.c against CPython.
 *
 * Reads the "name value" lines python_layout_offsets prints for one
 * CPython (offsetof() over its internal headers, first line "version
 * M.N") and checks every field of that version's row of the table, the
 * header offsets every version shares, and from 3.13 on the positions of
 * each in _Py_DebugOffsets (python_layout_check reads them there). A field missing from the
 * input, or an input with no version, fails: the check cannot pass by
 * reading nothing.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "python_layout.h"

struct field {
	const char *name;
	unsigned long want; /* the table's */
	int seen;
};

int main(void)
{
	unsigned major = 0, minor = 0;
	char name[64];
	unsigned long value;

	if (scanf("version %u.%u", &major, &minor) != 2) {
		fprintf(stderr, "no 'version M.N' line\n");
		return 1;
	}
	const struct python_layout *l = python_layout_find(major, minor);

	if (!l) {
		fprintf(stderr, "no layout for %u.%u\n", major, minor);
		return 1;
	}
	const struct bpfprof_python_offsets *o = &l->bpf;
	const struct python_debug_offsets *d = &l->debug;
	struct field fields[] = {
		{ "interp_head", o->interp_head, 0 },
		{ "tss_key", o->tss_key, 0 },
		{ "threads_head", o->threads_head, 0 },
		{ "ts_next", o->ts_next, 0 },
		{ "ts_thread_id", o->ts_thread_id, 0 },
		{ "ts_frame", o->ts_frame, 0 },
		{ "cframe_frame", o->cframe_frame, 0 },
		{ "frame_code", o->frame_code, 0 },
		{ "frame_previous", o->frame_previous, 0 },
		{ "frame_instr", o->frame_instr, 0 },
		{ "frame_entry", o->frame_entry, 0 },
		{ "entry_kind", o->entry_kind, 0 },
		{ "code_adaptive", o->code_adaptive, 0 },
		{ "code_firstlineno", l->code_firstlineno, 0 },
		{ "code_filename", l->code_filename, 0 },
		{ "code_name", l->code_name, 0 },
		{ "code_qualname", l->code_qualname, 0 },
		{ "code_linetable", l->code_linetable, 0 },
		{ "ascii_size", l->ascii_size, 0 },
		{ "compact_size", l->compact_size, 0 },
		{ "ob_type", PYTHON_OB_TYPE, 0 },
		{ "var_size", PYTHON_VAR_SIZE, 0 },
		{ "bytes_data", PYTHON_BYTES_DATA, 0 },
		{ "str_length", PYTHON_STR_LENGTH, 0 },
		{ "debug.interp_head", d->interp_head, 0 },
		{ "debug.threads_head", d->threads_head, 0 },
		{ "debug.ts_next", d->ts_next, 0 },
		{ "debug.ts_frame", d->ts_frame, 0 },
		{ "debug.ts_thread_id", d->ts_thread_id, 0 },
		{ "debug.frame_previous", d->frame_previous, 0 },
		{ "debug.frame_code", d->frame_code, 0 },
		{ "debug.frame_instr", d->frame_instr, 0 },
		{ "debug.frame_entry", d->frame_entry, 0 },
		{ "debug.code_filename", d->code_filename, 0 },
		{ "debug.code_name", d->code_name, 0 },
		{ "debug.code_qualname", d->code_qualname, 0 },
		{ "debug.code_linetable", d->code_linetable, 0 },
		{ "debug.code_firstlineno", d->code_firstlineno, 0 },
		{ "debug.code_adaptive", d->code_adaptive, 0 },
		{ "debug.ascii_size", d->ascii_size, 0 },
	};
	unsigned long debug_last = 0; /* the end of the last position read */
	size_t nfields = sizeof(fields) / sizeof(fields[0]);

	while (scanf("%63s %lu", name, &value) == 2) {
		int known = 0;

		if (!strcmp(name, "debug_sizeof")) { /* 3.13+: bytes of _Py_DebugOffsets */
			CHECK(!value == !d->size && d->size <= value && d->size <= PYTHON_DEBUG_MAX,
			      "%u.%u: _Py_DebugOffsets has %lu bytes, the table reads %u", major,
			      minor, value, d->size);
			continue;
		}
		if (!strncmp(name, "debug.", 6) && value + 8 > debug_last)
			debug_last = value + 8;
		if (!strcmp(name, "owner_shim")) { /* 3.12+: the shim's owner */
			CHECK(value == BPFPROF_PY_OWNER_SHIM, "%u.%u: owner_shim is %lu, ours %d",
			      major, minor, value, BPFPROF_PY_OWNER_SHIM);
			continue;
		}
		for (size_t i = 0; i < nfields; i++) {
			if (strcmp(name, fields[i].name))
				continue;
			known = fields[i].seen = 1;
			CHECK(value == fields[i].want, "%u.%u: %s is %lu in CPython's headers, %lu in the table",
			      major, minor, name, value, fields[i].want);
		}
		CHECK(known, "%u.%u: unknown field %s", major, minor, name);
	}
	for (size_t i = 0; i < nfields; i++)
		CHECK(fields[i].seen, "%u.%u: %s not in the input", major, minor, fields[i].name);
	CHECK(!d->size || (d->size >= PYTHON_DEBUG_HEADER && d->size >= debug_last),
	      "%u.%u: the table reads %u bytes of _Py_DebugOffsets, its positions need %lu", major,
	      minor, d->size, debug_last);
	/* what the BPF walk's masks assume (python_walk.bpf.h) */
	CHECK(o->frame_code % 8 == 0 && o->frame_code < 64 && o->frame_previous % 8 == 0 &&
		      o->frame_previous < 64 && o->frame_instr % 8 == 0 && o->frame_instr < 64,
	      "%u.%u: a frame pointer field is not a multiple of 8 below 64", major, minor);
	CHECK(o->frame_entry >= 64 && o->frame_entry < 80, "%u.%u: the marker is not in 64..79",
	      major, minor);
	CHECK(o->ts_thread_id % 8 == 0 && o->ts_frame % 8 == 0 &&
		      o->ts_thread_id + 8 <= BPFPROF_PY_TSTATE_READ &&
		      o->ts_frame + 8 <= BPFPROF_PY_TSTATE_READ,
	      "%u.%u: a thread state field is not a multiple of 8 in the bytes read", major,
	      minor);
	return check_summary();
}
