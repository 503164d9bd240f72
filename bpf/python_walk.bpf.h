/* python_walk.bpf.h - a CPython thread's frames, read at the sample.
 *
 * Included by profile.bpf.c. For a process in python_procs (user space
 * found its interpreter and put its offsets there), the sampled thread's
 * own PyThreadState is found, not the GIL holder's: a thread in C code
 * with the GIL released still has its Python stack. Two ways, the first
 * O(1): glibc keeps pthread_getspecific's first 32 keys in the thread
 * descriptor, so the thread state CPython stores under its TSS key is at
 * thread pointer + tsd_base + 16 * key; it is taken if its thread_id is
 * this thread's pthread_self() (= the fs base). Otherwise (another libc,
 * a key >= 32) the interpreter's thread list is searched for that id.
 * Then the frame chain is followed from the current frame through
 * `previous`, recording per frame its code object, the byte offset of its
 * instruction and its marker byte (3.11: is_entry, set on the oldest frame
 * of an eval-loop run; 3.12+: owner, 3 on the shim frame older than a
 * run), youngest first. Each frame is one read of its first 80 bytes,
 * fields taken at the offsets of the version.
 *
 * Nothing here trusts the process: every read is a probe that may fail
 * (the walk stops, counted), every loop is bounded, and code pointers are
 * checked by user space (their type) before they are believed.
 */
#ifndef BPFPROF_PYTHON_WALK_BPF_H
#define BPFPROF_PYTHON_WALK_BPF_H

#define PY_FRAME_READ 80 /* bytes of a frame read: its fields are below 76 */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFPROF_MAX_PIDS);
	__type(key, __u32);
	__type(value, struct bpfprof_python_proc);
} python_procs SEC(".maps");

static __always_inline __u64 read_user_u64(__u64 addr)
{
	__u64 v = 0;

	if (bpf_probe_read_user(&v, sizeof(v), (const void *)addr))
		return 0;
	return v;
}

/* The Python process tgid is, if it is the one started at start_time. */
static __always_inline const struct bpfprof_python_proc *python_proc(__u32 tgid,
								 __u64 start_time)
{
	const struct bpfprof_python_proc *pp = bpf_map_lookup_elem(&python_procs, &tgid);

	return pp && pp->start_time == start_time ? pp : NULL;
}

/* The sampled thread's PyThreadState, 0 when it has none. */
static __always_inline __u64 python_thread_state(const struct bpfprof_python_proc *pp,
						 struct task_struct *task)
{
	const struct bpfprof_python_offsets *o = &pp->off;
	__u64 self = BPF_CORE_READ(task, thread.fsbase), ts;
	__s32 key = -1;

	if (!self)
		return 0;
	if (pp->tsd_base &&
	    !bpf_probe_read_user(&key, sizeof(key), (const void *)(pp->runtime + o->tss_key)) &&
	    key >= 0 && key < 32) {
		ts = read_user_u64(self + pp->tsd_base + 16 * (__u64)key);
		if (ts && read_user_u64(ts + o->ts_thread_id) == self)
			return ts;
	}
	ts = read_user_u64(read_user_u64(pp->runtime + o->interp_head) + o->threads_head);
	for (int i = 0; i < BPFPROF_PY_MAX_THREADS && ts; i++) {
		if (read_user_u64(ts + o->ts_thread_id) == self)
			return ts;
		ts = read_user_u64(ts + o->ts_next);
	}
	return 0;
}

/* A pointer field of a frame read into buf. Offsets come from a map, so
 * they are masked for the verifier, without a branch (a branch per field
 * and frame is more paths than it can follow): pointers are at multiples
 * of 8 below 64 in every version. */
static __always_inline __u64 frame_u64(const __u64 *buf, __u32 off)
{
	return buf[(off & 0x38) / 8];
}

/* The frame's marker byte (is_entry, owner): between 64 and 79 in every
 * version, masked into that range. */
static __always_inline __u8 frame_marker(const __u64 *buf, __u32 off)
{
	return ((const __u8 *)buf)[64 + (off & 0xf)];
}

/* Fills out with the thread's frames; returns out->depth. Each frame is
 * recorded as it is, shims included: user space (python_tracker.c) reads
 * the markers and checks the offsets, so the loop has no branch but its
 * end. */
static __always_inline __u32 python_walk(const struct bpfprof_python_proc *pp,
					 struct task_struct *task, struct bpfprof_py_stack *out)
{
	const struct bpfprof_python_offsets *o = &pp->off;
	__u64 buf[PY_FRAME_READ / 8];
	__u64 ts = python_thread_state(pp, task), frame;
	__u32 i;

	out->depth = 0;
	out->truncated = 0;
	if (!ts) {
		stat_inc(STAT_PY_NO_THREAD);
		return 0;
	}
	frame = read_user_u64(ts + o->ts_frame);
	if (o->cframe_frame != BPFPROF_PY_NO_CFRAME && frame)
		frame = read_user_u64(frame + o->cframe_frame);
	for (i = 0; i < BPFPROF_PY_MAX_FRAMES && frame; i++) {
		__u64 code;

		if (bpf_probe_read_user(buf, sizeof(buf), (const void *)frame)) {
			stat_inc(STAT_PY_READ_FAILED);
			break;
		}
		/* 3.14 tags f_executable's low bits; objects are aligned */
		code = frame_u64(buf, o->frame_code) & ~3ull;
		out->frames[i].code = code;
		out->frames[i].offset =
			(__s32)(frame_u64(buf, o->frame_instr) - code - o->code_adaptive);
		out->frames[i].marker = frame_marker(buf, o->frame_entry);
		frame = frame_u64(buf, o->frame_previous);
	}
	if (frame && i == BPFPROF_PY_MAX_FRAMES) {
		out->truncated = 1;
		stat_inc(STAT_PY_TRUNCATED);
	}
	out->depth = i;
	if (i)
		stat_inc(STAT_PY_SAMPLES);
	return i;
}

#endif
