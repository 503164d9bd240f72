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
 * run), youngest first, fields taken at the offsets of the version. Reads
 * are what a walk costs, so there are few: the thread state is one read;
 * frames come from reads of PY_WINDOW bytes ending at a frame, since
 * CPython pushes them on the thread's data stack (the older just below
 * the younger), so one read holds several; a frame not in the last
 * window (a generator's, a shim on the C stack) starts a new one.
 *
 * Nothing here trusts the process: every read is a probe that may fail
 * (the walk stops, counted), every loop is bounded, and code pointers are
 * checked by user space (their type) before they are believed.
 */
#ifndef BPFPROF_PYTHON_WALK_BPF_H
#define BPFPROF_PYTHON_WALK_BPF_H

#define PY_FRAME_READ 80  /* bytes of a frame used: its fields are below 76 */
#define PY_WINDOW 1024     /* bytes of frames read at once */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFPROF_MAX_PIDS);
	__type(key, __u32);
	__type(value, struct bpfprof_python_proc);
} python_procs SEC(".maps");

/* What the walk has read, too big for the BPF stack. base and len say
 * which bytes of the process buf holds; in a map value, the verifier
 * sees them as unknown numbers whichever way a frame was read, so the
 * states of the frame loop's iterations stay few. */
struct py_scratch {
	__u64 base;
	__u64 len;
	__u8 buf[PY_WINDOW + PY_FRAME_READ]; /* the tail: for the verifier */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct py_scratch);
} python_scratch SEC(".maps");

static __always_inline __u64 read_user_u64(__u64 addr)
{
	__u64 v = 0;

	if (bpf_probe_read_user(&v, sizeof(v), (const void *)addr))
		return 0;
	return v;
}

/* The u64 at byte off of buf. Offsets come from a map, so they are masked
 * for the verifier, without a branch (a branch per field and frame is
 * more paths than it can follow); every one is a multiple of 8. */
static __always_inline __u64 buf_u64(const __u8 *buf, __u32 off)
{
	return *(const __u64 *)(buf + off);
}

/* The Python process tgid is, if it is the one started at start_time. */
static __always_inline const struct bpfprof_python_proc *python_proc(__u32 tgid,
								 __u64 start_time)
{
	const struct bpfprof_python_proc *pp = bpf_map_lookup_elem(&python_procs, &tgid);

	return pp && pp->start_time == start_time ? pp : NULL;
}

/* The sampled thread's current frame (0 when it has no thread state, or
 * its frame chain is empty); its thread state is read into sc. */
static __always_inline __u64 python_current_frame(const struct bpfprof_python_proc *pp,
						  struct task_struct *task, struct py_scratch *sc)
{
	const struct bpfprof_python_offsets *o = &pp->off;
	__u64 self = BPF_CORE_READ(task, thread.fsbase), ts = 0, frame;
	__s32 key = -1;

	if (!self)
		return 0;
	if (pp->tsd_base &&
	    !bpf_probe_read_user(&key, sizeof(key), (const void *)(pp->runtime + o->tss_key)) &&
	    key >= 0 && key < 32)
		ts = read_user_u64(self + pp->tsd_base + 16 * (__u64)key);
	/* one read gives the thread state's id and its frame */
	if (!ts || bpf_probe_read_user(sc->buf, BPFPROF_PY_TSTATE_READ, (const void *)ts) ||
	    buf_u64(sc->buf, o->ts_thread_id & 0xf8) != self) {
		__u64 t = read_user_u64(read_user_u64(pp->runtime + o->interp_head) +
					o->threads_head);

		ts = 0;
		for (int i = 0; i < BPFPROF_PY_MAX_THREADS && t && !ts; i++) {
			if (read_user_u64(t + o->ts_thread_id) == self)
				ts = t;
			t = read_user_u64(t + o->ts_next);
		}
		if (!ts || bpf_probe_read_user(sc->buf, BPFPROF_PY_TSTATE_READ, (const void *)ts)) {
			stat_inc(STAT_PY_NO_THREAD);
			return 0;
		}
	}
	frame = buf_u64(sc->buf, o->ts_frame & 0xf8);
	if (o->cframe_frame != BPFPROF_PY_NO_CFRAME && frame)
		frame = read_user_u64(frame + o->cframe_frame);
	return frame;
}

/* Makes sc hold frame's first PY_FRAME_READ bytes; returns where they are
 * in sc->buf, or PY_WINDOW when they cannot be read. Frames are pushed on the
 * thread's data stack, so the older ones are usually just below: the
 * window read ends at this frame, and the next frames come from it. */
static __always_inline __u64 frame_bytes(struct py_scratch *sc, __u64 frame)
{
	__u64 off = frame - sc->base;

	if (sc->len >= PY_FRAME_READ && off <= sc->len - PY_FRAME_READ)
		return off;
	/* Not below the frame's page: a fault (a page not there) fails the
	 * read, and costs microseconds. The window is then in that page; or
	 * it ends at the frame's end, in the next page only if the frame is:
	 * memory the frame is in is there. */
	sc->base = frame + PY_FRAME_READ - PY_WINDOW;
	if (sc->base > frame || sc->base < (frame & ~(__u64)(PAGE - 1)))
		sc->base = frame & ~(__u64)(PAGE - 1);
	sc->len = PY_WINDOW;
	if (bpf_probe_read_user(sc->buf, PY_WINDOW, (const void *)sc->base)) {
		sc->len = 0; /* the frame is not there */
		return PY_WINDOW;
	}
	return frame - sc->base;
}

/* Fills out with the thread's frames; returns out->depth. Each frame is
 * recorded as it is, shims included: user space (python_tracker.c) reads
 * the markers and checks the offsets, so the loop has no branch but its
 * end and the window's. */
static __always_inline __u32 python_walk(const struct bpfprof_python_proc *pp,
					 struct task_struct *task, struct bpfprof_py_stack *out)
{
	const struct bpfprof_python_offsets *o = &pp->off;
	__u32 zero = 0, i;
	struct py_scratch *sc = bpf_map_lookup_elem(&python_scratch, &zero);
	__u64 frame;

	out->depth = 0;
	out->truncated = 0;
	if (!sc)
		return 0;
	frame = python_current_frame(pp, task, sc);
	sc->len = 0; /* buf holds the thread state, no frame */
	for (i = 0; i < BPFPROF_PY_MAX_FRAMES && frame; i++) {
		__u64 at = frame_bytes(sc, frame), code;
		const __u8 *f;

		if (at > PY_WINDOW - PY_FRAME_READ) {
			stat_inc(STAT_PY_READ_FAILED);
			break;
		}
		/* the mask bounds f for the verifier, whatever the compiler
		 * makes of the test above */
		f = sc->buf + (at & (PY_WINDOW - 1));
		/* 3.14 tags f_executable's low bits; objects are aligned.
		 * Pointers are below 64 in every version, the marker byte
		 * (is_entry, owner) in 64..79. */
		code = buf_u64(f, o->frame_code & 0x38) & ~3ull;
		out->frames[i].code = code;
		out->frames[i].offset =
			(__s32)(buf_u64(f, o->frame_instr & 0x38) - code - o->code_adaptive);
		out->frames[i].marker = f[64 + (o->frame_entry & 0xf)];
		frame = buf_u64(f, o->frame_previous & 0x38);
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
