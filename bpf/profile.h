/* profile.h - the contract between bpf/profile.bpf.c and user space.
 *
 * Included by both sides: map keys and values, stat counters and limits.
 * With frame pointers the BPF side counts samples per (process, thread,
 * kernel stack, user stack, file mapping of the user pc) in a hash map;
 * user space reads the aggregates once per interval and resolves the stack
 * ids through the stack-trace map. What crosses as events: a process_event
 * when a process is first sampled or first runs code in a file mapping,
 * and in DWARF mode every sample of a process with user memory, as a
 * stack_event (registers, names, kernel stack id, the top of the user
 * stack), unwound and counted in user space; those samples are not in the
 * hash map. x86-64 only.
 */
#ifndef BPFPROF_PROFILE_H
#define BPFPROF_PROFILE_H

#ifndef __VMLINUX_H__
#include <linux/types.h> /* the BPF side gets these types from vmlinux.h */
#endif

#define BPFPROF_COMM_LEN 16
/* Frames kept per stack (the kernel's sysctl perf_event_max_stack is 127). */
#define BPFPROF_MAX_STACK_DEPTH 127

#define BPFPROF_MAX_COUNTS 65536   /* distinct sample keys per profile */
#define BPFPROF_MAX_STACKS 32768   /* distinct stacks in the stack map */
#define BPFPROF_MAX_PIDS 16384     /* processes in the pid filter */
#define BPFPROF_EVENTS_RB_FP (64 * 1024) /* the events ring with frame pointers:
                                             process_events only */
#define BPFPROF_MAX_FILES 65536    /* (process, file mapping) pairs announced */

/* The file mapping that held the sampled user pc, as the kernel had it at
 * the sample. User space symbolizes that pc, and every frame inside
 * [start, end), with a mapping it read from /proc/PID/maps only if it is
 * this one: a library mapped at the same address since (dlclose, dlopen of
 * another) is not allowed to name the frame. ino 0: unknown (anonymous or
 * JIT code, no user pc, or the process's mmap lock was taken). */
struct bpfprof_vma {
	__u64 start, end;  /* the vma */
	__u64 base;        /* start minus the file offset of start */
	__u64 ino;         /* of the mapped file's inode */
	__u32 dev;         /* its superblock's dev_t: major << 20 | minor */
	__u32 pad;
};

/* The events ring carries both kinds of event, each starting with its
 * kind, in the order the samples made them: a process's announcement is
 * before the snapshots that need the maps it makes user space read. */
enum bpfprof_event_kind {
	EVENT_PROCESS = 1,  /* struct process_event */
	EVENT_SNAPSHOT = 2, /* struct stack_event */
	EVENT_PYTHON = 3,   /* struct python_event */
};

/* A process sampled for the first time (vma.ino 0), or running code in a
 * file mapping it was not seen in before (vma: that mapping), so that user
 * space reads its maps again while the mapping is there. */
struct process_event {
	__u32 kind; /* EVENT_PROCESS */
	__u32 tgid;
	__u64 start_time; /* as in sample_key */
	struct bpfprof_vma vma;
};

/* Aggregation key: one entry per distinct identity of a sample.
 * Stack ids are >= 0, or a negative errno when there is no stack:
 * -EFAULT for the kernel stack of a sample taken in user mode, -ENOENT for
 * the user stack of a kernel thread, others when the stack was lost. */
struct sample_key {
	__u32 tgid;
	__u32 tid;
	__s32 kernel_stack_id;
	__s32 user_stack_id;
	__u64 start_time;   /* of the process, ns since boot: with tgid, which
	                       process it was, should the pid be reused */
	char comm[BPFPROF_COMM_LEN];        /* the process: group leader */
	char thread_name[BPFPROF_COMM_LEN]; /* the sampled thread */
	struct bpfprof_vma leaf;            /* of the user pc */
};

/* How user stacks are taken. */
enum bpfprof_unwind {
	UNWIND_FP = 0,    /* frame pointers, in the kernel; counted in `counts` */
	UNWIND_DWARF = 1, /* registers + stack snapshot to user space */
	UNWIND_AUTO = 2,  /* DWARF; frame pointers when no snapshot can be sent */
};

/* Interpreter frames: CPython 3.11+. User space finds a process's
 * interpreter (interpreter/python_detect.c) and puts what the walk needs
 * in `python_procs`: where _PyRuntime is and the offsets of its version
 * (interpreter/python_layout.c), data rather than constants compiled in.
 * The walk (bpf/python_walk.bpf.h) records, youngest first, each frame's
 * code object and the byte offset of its instruction; user space reads
 * the code objects and merges the frames into the native stack. */
#define BPFPROF_PY_MAX_FRAMES 64
#define BPFPROF_PY_MAX_THREADS 64 /* thread states searched for the sampled one */
#define BPFPROF_PY_TSTATE_READ 256 /* bytes of a thread state read: its fields
                                     used are multiples of 8 below 248 */

/* How the eval loop's entry is marked in a frame. */
enum bpfprof_py_entry {
	PY_ENTRY_FLAG = 1,  /* 3.11: a bool, set on the oldest frame of a run */
	PY_ENTRY_SHIM = 2,  /* 3.12+: owner byte BPFPROF_PY_OWNER_SHIM on a shim
	                       frame older than the run */
};

/* Offsets in bytes (see interpreter/python_layout.c for their sources). */
struct bpfprof_python_offsets {
	__u16 interp_head;    /* _PyRuntime.interpreters.head */
	__u16 tss_key;        /* _PyRuntime: the int key of the thread-state TSS */
	__u16 threads_head;   /* PyInterpreterState.threads.head */
	__u16 ts_next;        /* PyThreadState.next */
	__u16 ts_thread_id;   /* PyThreadState.thread_id: pthread_self() */
	__u16 ts_frame;       /* PyThreadState.cframe (3.11, 3.12) / current_frame */
	__u16 cframe_frame;   /* _PyCFrame.current_frame; 0xffff: no cframe (3.13+) */
	/* the frame's pointers are below 64, its marker in 64..79 (the walk
	 * masks them so: python_walk.bpf.h) */
	__u16 frame_code;     /* _PyInterpreterFrame.f_code / f_executable */
	__u16 frame_previous;
	__u16 frame_instr;    /* prev_instr (3.11, 3.12) / instr_ptr */
	__u16 frame_entry;    /* is_entry (3.11) / owner */
	__u16 entry_kind;     /* enum bpfprof_py_entry */
	__u16 code_adaptive;  /* PyCodeObject.co_code_adaptive: the bytecode */
	__u16 pad[3];
};

#define BPFPROF_PY_NO_CFRAME 0xffff

/* One Python process: the value of python_procs, keyed by its tgid. */
struct bpfprof_python_proc {
	__u64 start_time;     /* of the process, as in sample_key: which one */
	__u64 runtime;        /* address of _PyRuntime */
	__u64 tsd_base;       /* glibc: offset of specific_1stblock[0].data from the
	                         thread pointer; 0: search the thread list only */
	struct bpfprof_python_offsets off;
};

#define BPFPROF_PY_OWNER_SHIM 3 /* owner of a shim frame (3.12+) */

struct bpfprof_py_frame {
	__u64 code;           /* the code object (f_code / f_executable) */
	__s32 offset;         /* of the instruction in the bytecode, bytes (< 0:
	                         not started; unchecked) */
	__u32 marker;         /* the byte at frame_entry: is_entry / owner */
};

/* A thread's Python frames at the sample, youngest first. */
struct bpfprof_py_stack {
	__u32 depth;
	__u32 truncated;      /* the chain went on past BPFPROF_PY_MAX_FRAMES */
	struct bpfprof_py_frame frames[BPFPROF_PY_MAX_FRAMES];
};

#define BPFPROF_SNAPSHOT_MAX (16 * 1024) /* largest stack snapshot */
#define BPFPROF_RED_ZONE 128             /* x86-64: live data below sp */
#define BPFPROF_EVENTS_RB (8 * 1024 * 1024) /* default; user space sizes it */

/* One sample for DWARF unwinding: user registers and the top of the user
 * stack, copied from stack_base = sp - BPFPROF_RED_ZONE upward, page by page
 * until the first page that faults or stack_len reaches the configured
 * snapshot size (from sp's page when the red zone's page below it faults). */
struct stack_event {
	__u32 kind;            /* EVENT_SNAPSHOT */
	__u32 tgid;
	__u32 tid;
	__s32 kernel_stack_id;
	__u32 stack_len;
	__u32 buffer;          /* active_buffer when taken */
	__u64 ip, sp, bp;
	__u64 stack_base;
	__u64 start_time;      /* as in sample_key */
	char comm[BPFPROF_COMM_LEN];
	char thread_name[BPFPROF_COMM_LEN];
	struct bpfprof_vma leaf; /* as in sample_key */
	struct bpfprof_py_stack python; /* depth 0: none */
	__u8 stack[BPFPROF_SNAPSHOT_MAX];
};

/* With frame pointers, a sample of a Python thread with Python frames:
 * its stacks are in the stack map (key.kernel_stack_id, user_stack_id of
 * `buffer`), counted in user space with the Python frames merged in. */
struct python_event {
	__u32 kind;            /* EVENT_PYTHON */
	__u32 buffer;          /* active_buffer when taken */
	struct sample_key key;
	struct bpfprof_py_stack python;
};

/* Counters in the per-CPU stats array; user space sums them over CPUs. */
enum bpfprof_stat {
	STAT_SAMPLES,            /* samples counted in the counts map */
	STAT_KERNEL_STACK_LOST,  /* kernel stack not taken (collision, no memory) */
	STAT_USER_STACK_LOST,    /* user stack not taken */
	STAT_COUNTS_FULL,        /* samples dropped: counts map full */
	STAT_NEW_PID_LOST,       /* process events dropped: ring full */
	STAT_SNAPSHOTS,          /* samples sent with a stack snapshot */
	STAT_SNAPSHOT_LOST,      /* events ring full: sample dropped (dwarf)
	                            or taken with frame pointers (auto) */
	STAT_PY_SAMPLES,         /* samples with Python frames */
	STAT_PY_TRUNCATED,       /* ... whose frame chain went on past the cap */
	STAT_PY_NO_THREAD,       /* Python process, no thread state found */
	STAT_PY_READ_FAILED,     /* a frame could not be read: walk cut short */
	STAT_PY_LOST,            /* events ring full: counted without them */
	STAT_PY_EVENTS,          /* samples sent as python_events (frame pointers) */
	STAT_MAX,
};

#endif
