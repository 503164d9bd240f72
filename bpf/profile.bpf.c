// SPDX-License-Identifier: GPL-2.0
/* profile.bpf.c - the sampling program: thin, counts in the kernel.
 *
 * do_sample runs on every tick of a PERF_COUNT_SW_CPU_CLOCK event on each
 * CPU. With frame pointers it takes the kernel and user stacks into the
 * stack-trace map and increments a counter keyed by (process, thread,
 * stacks, names): user space reads the aggregates once per interval, and
 * nothing crosses per sample but a notification for a newly seen process
 * (checked only when a sample creates a new key), so that user space can
 * snapshot its mappings while it is alive. In DWARF mode (below) every
 * sample of a process with user memory crosses instead, as a stack_event
 * in the events ring, after its process's announcement if it makes one;
 * only its kernel stack goes to the stack map.
 *
 * Mappings: each sample also records the file mapping its user pc is in
 * (bpf_find_vma), part of the key, so that user space names a frame only
 * with that very mapping, and announces the process again the first time
 * it runs code in a file mapping not seen in it before (a dlopen): user
 * space re-reads its maps while the library is still mapped. Both are
 * bounded by the sampling rate: at most one lookup and one notification
 * per sample.
 *
 * Filters: when filter_pids is set only the processes in `pids` are sampled;
 * with follow_forks, children of those processes join the filter as they are
 * forked (so a command's whole process tree is followed).
 *
 * User stacks: with unwind_mode UNWIND_FP the kernel walks frame pointers
 * into the stack map. With UNWIND_DWARF (code without frame pointers) the
 * program sends the user registers and a snapshot of the top of the user
 * stack through the `events` ring buffer, without waking user space,
 * which unwinds it with CFI. UNWIND_AUTO does the same, but when the ring
 * is full it falls back to frame pointers rather than dropping the sample.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "profile.h"

#define EFAULT 14
#define ENOENT 2
#define EEXIST 17

const volatile bool filter_pids = false;
const volatile bool follow_forks = false;
const volatile bool include_idle = false;
const volatile __u32 unwind_mode = UNWIND_FP;
const volatile __u32 snapshot_bytes = BPFPROF_SNAPSHOT_MAX; /* multiple of 4096 */

/* Double buffering: samples go to buffer active_buffer (counts + stacks,
 * or counts_alt + stacks_alt); user space flips it at the end of an
 * interval and drains the other one, so no sample is lost at the boundary. */
volatile __u32 active_buffer;

#define COUNTS_MAP                                                             \
	{                                                                      \
		__uint(type, BPF_MAP_TYPE_HASH);                               \
		__uint(max_entries, BPFPROF_MAX_COUNTS);                       \
		__type(key, struct sample_key);                                \
		__type(value, __u64);                                          \
	}
#define STACKS_MAP                                                             \
	{                                                                      \
		__uint(type, BPF_MAP_TYPE_STACK_TRACE);                        \
		__uint(max_entries, BPFPROF_MAX_STACKS);                       \
		__uint(key_size, sizeof(__u32));                               \
		__uint(value_size, BPFPROF_MAX_STACK_DEPTH * sizeof(__u64));   \
	}
struct COUNTS_MAP counts SEC(".maps");
struct COUNTS_MAP counts_alt SEC(".maps");
struct STACKS_MAP stacks SEC(".maps");
struct STACKS_MAP stacks_alt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Processes to sample when filter_pids is set. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFPROF_MAX_PIDS);
	__type(key, __u32);
	__type(value, __u8);
} pids SEC(".maps");

/* Processes user space has been told about; exec removes the entry so the
 * new image is announced again. LRU: an evicted process is re-announced,
 * which only costs a refresh. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BPFPROF_MAX_PIDS);
	__type(key, __u32);
	__type(value, __u8);
} seen_pids SEC(".maps");

/* File mappings of a process it ran code in, announced once each: a file
 * (device, inode) mapped at one base, by one open of it (its struct file,
 * as a number: a library dlclosed and dlopened again is usually a new one,
 * though the slab may hand out the same address). LRU: an evicted one is
 * announced again, which only costs a refresh. */
struct file_seen {
	__u32 tgid;
	__u32 dev;
	__u64 start_time;
	__u64 file;
	__u64 ino;
	__u64 base;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BPFPROF_MAX_FILES);
	__type(key, struct file_seen);
	__type(value, __u8);
} seen_files SEC(".maps");

/* One ring for process events and snapshots: one order (profile.h). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BPFPROF_EVENTS_RB);
} events SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		(*v)++;
}

#define PAGE 4096 /* user pages: the stack snapshot's, the Python walk's */

#include "python_walk.bpf.h"

/* Returns whether key's process was announced now. */
static __always_inline bool announce_pid(const struct sample_key *key)
{
	struct process_event ev = {
		.kind = EVENT_PROCESS, .tgid = key->tgid, .start_time = key->start_time,
	};
	__u32 tgid = key->tgid;
	__u8 one = 1;

	if (bpf_map_lookup_elem(&seen_pids, &tgid))
		return false;
	bpf_map_update_elem(&seen_pids, &tgid, &one, BPF_ANY);
	/* Wakes user space even behind unread snapshots (sent without): a
	 * process that lives 50 ms must be snapshotted before it exits. */
	if (bpf_ringbuf_output(&events, &ev, sizeof(ev), BPF_RB_FORCE_WAKEUP)) {
		/* Let the next sample try again. */
		bpf_map_delete_elem(&seen_pids, &tgid);
		stat_inc(STAT_NEW_PID_LOST);
		return false;
	}
	return true;
}

/* Announces tgid again when it runs code in a file mapping it was not seen
 * in, unless announce_pid just did. */
static __always_inline void announce_file(const struct sample_key *key, __u64 file,
					  bool announced)
{
	struct file_seen f = {
		.tgid = key->tgid,
		.start_time = key->start_time,
		.file = file,
		.dev = key->leaf.dev,
		.ino = key->leaf.ino,
		.base = key->leaf.base,
	};
	struct process_event ev = {
		.kind = EVENT_PROCESS, .tgid = key->tgid, .start_time = key->start_time,
	};
	__u8 one = 1;

	if (!f.ino || bpf_map_lookup_elem(&seen_files, &f))
		return;
	bpf_map_update_elem(&seen_files, &f, &one, BPF_ANY);
	ev.vma = key->leaf;
	if (!announced && bpf_ringbuf_output(&events, &ev, sizeof(ev), BPF_RB_FORCE_WAKEUP)) {
		bpf_map_delete_elem(&seen_files, &f);
		stat_inc(STAT_NEW_PID_LOST);
	}
}

struct leaf_vma {
	struct bpfprof_vma vma;
	__u64 file; /* the struct file mapped, as a number: which mmap it is */
};

static long vma_of_pc(struct task_struct *task, struct vm_area_struct *vma, void *ctx)
{
	struct leaf_vma *leaf = ctx;
	struct bpfprof_vma *v = &leaf->vma;
	struct file *file = vma->vm_file;

	leaf->file = (__u64)file;
	v->start = vma->vm_start;
	v->end = vma->vm_end;
	if (!file)
		return 0;
	v->base = vma->vm_start - (vma->vm_pgoff << 12);
	v->ino = BPF_CORE_READ(file, f_inode, i_ino);
	v->dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	return 0;
}

/* The vma of a pc, per process and 2 MiB of address space (a 64-bit
 * region number: a pc's top bits alone), valid while the process's
 * mm_lock_seq, which every mmap write lock bumps (kernels with per-VMA
 * locks), is the one it was found under, for the same mm and process. */
struct vma_cache_key {
	__u32 tgid;
	__u32 pad;
	__u64 region;
};

struct vma_cache_entry {
	__u64 mm;
	__u64 start_time;
	__u32 seq;
	__u32 pad;
	struct leaf_vma leaf;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BPFPROF_MAX_FILES);
	__type(key, struct vma_cache_key);
	__type(value, struct vma_cache_entry);
} vma_cache SEC(".maps");

/* Fills key->leaf with the file mapping of ip; returns its struct file (0:
 * none). bpf_find_vma takes the mmap lock and, from a perf event
 * (interrupts off), releases it through an irq_work: a self-IPI, about
 * 10 us in a VM. So its answers are cached (vma_cache); a lookup there
 * costs a tenth of that. */
static __always_inline __u64 find_leaf_vma(struct task_struct *task, struct sample_key *key,
					   __u64 ip)
{
	struct mm_struct *mm = task->mm;
	struct vma_cache_key k = { .tgid = key->tgid, .region = ip >> 21 };
	struct vma_cache_entry e = { .mm = (__u64)mm, .start_time = key->start_time };
	struct vma_cache_entry *hit;
	bool cached = bpf_core_field_exists(mm->mm_lock_seq);

	if (cached) {
		/* an int before 6.12, a seqcount_t (its first field) since */
		bpf_core_read(&e.seq, sizeof(e.seq), &mm->mm_lock_seq);
		hit = bpf_map_lookup_elem(&vma_cache, &k);
		if (hit && hit->mm == e.mm && hit->seq == e.seq &&
		    hit->start_time == e.start_time && ip >= hit->leaf.vma.start &&
		    ip < hit->leaf.vma.end) {
			e.leaf = hit->leaf;
			goto found;
		}
	}
	/* Fails (the mmap lock taken) with e.leaf left empty: not cached. */
	if (bpf_find_vma(task, ip, vma_of_pc, &e.leaf, 0) || !e.leaf.vma.end)
		return 0;
	if (cached)
		bpf_map_update_elem(&vma_cache, &k, &e, BPF_ANY);
found:
	if (!e.leaf.vma.ino) /* anonymous memory: nothing to check, one key */
		return 0;
	key->leaf = e.leaf.vma;
	return e.leaf.file;
}

struct user_regs {
	__u64 ip, sp, bp;
};

/* The user registers of the sample: its own when it hit user mode, else
 * the ones the task saved on entering the kernel. */
static __always_inline void read_user_regs(struct bpf_perf_event_data *ctx,
					   struct task_struct *task, struct user_regs *r)
{
	if ((long)PT_REGS_IP(&ctx->regs) < 0) {
		struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);

		r->ip = BPF_CORE_READ(regs, ip);
		r->sp = BPF_CORE_READ(regs, sp);
		r->bp = BPF_CORE_READ(regs, bp);
	} else {
		r->ip = PT_REGS_IP(&ctx->regs);
		r->sp = PT_REGS_SP(&ctx->regs);
		r->bp = PT_REGS_FP(&ctx->regs);
	}
}

/* Counts one sample under key. Returns true when key is new: the first
 * sample of a new identity, the only time worth checking for a new process. */
static __always_inline bool count_sample(void *counts_map, struct sample_key *key)
{
	__u64 one = 1, *count;
	long err;

	count = bpf_map_lookup_elem(counts_map, key);
	if (count) {
		__sync_fetch_and_add(count, 1);
		stat_inc(STAT_SAMPLES);
		return false;
	}
	err = bpf_map_update_elem(counts_map, key, &one, BPF_NOEXIST);
	if (err == -EEXIST) { /* another CPU inserted it first */
		count = bpf_map_lookup_elem(counts_map, key);
		if (count)
			__sync_fetch_and_add(count, 1);
		err = count ? 0 : -EEXIST;
	}
	stat_inc(err ? STAT_COUNTS_FULL : STAT_SAMPLES);
	return err == 0;
}


/* Copies the user stack from e->stack_base upward, a page at a time: a
 * read is all or nothing, so the first chunk ends at a page boundary and a
 * chunk that faults ends the copy (the stack's top, or a page not present). */
static __always_inline void copy_stack(struct stack_event *e)
{
	__u32 off = 0;

	for (int i = 0; i < BPFPROF_SNAPSHOT_MAX / PAGE + 1; i++) {
		__u64 at = e->stack_base + off;
		__u32 len = PAGE - (at & (PAGE - 1));

		if (off >= snapshot_bytes || off > BPFPROF_SNAPSHOT_MAX - PAGE)
			break;
		len &= PAGE - 1;
		if (!len)
			len = PAGE;
		if (bpf_probe_read_user(e->stack + off, len, (const void *)at))
			break;
		off += len;
	}
	e->stack_len = off;
}

/* Where the snapshot of a stack at sp starts: the red zone below sp, but
 * from sp's page when the red zone reaches into the page below and that
 * page was never touched (sp near its page's start: a sampler cannot fault
 * a page in, and copy_stack() would then lose the whole stack to it). */
static __always_inline __u64 stack_base(__u64 sp)
{
	__u64 base = sp - BPFPROF_RED_ZONE, page = sp & ~(__u64)(PAGE - 1);
	char byte;

	if (base < page && bpf_probe_read_user(&byte, 1, (const void *)base))
		return page;
	return base;
}

/* Sends the sample with its user registers and stack snapshot, and its
 * Python frames when py is its process's interpreter. */
static __always_inline bool send_snapshot(const struct user_regs *regs,
					  const struct sample_key *key, __u32 buffer,
					  const struct bpfprof_python_proc *py,
					  struct task_struct *task)
{
	struct stack_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(STAT_SNAPSHOT_LOST);
		return false;
	}
	e->kind = EVENT_SNAPSHOT;
	e->ip = regs->ip;
	e->sp = regs->sp;
	e->bp = regs->bp;
	e->leaf = key->leaf;
	e->tgid = key->tgid;
	e->tid = key->tid;
	e->start_time = key->start_time;
	e->kernel_stack_id = key->kernel_stack_id;
	e->buffer = buffer;
	__builtin_memcpy(e->comm, key->comm, sizeof(e->comm));
	__builtin_memcpy(e->thread_name, key->thread_name, sizeof(e->thread_name));
	if (py)
		python_walk(py, task, &e->python);
	else
		e->python.depth = 0;
	e->stack_base = stack_base(e->sp);
	copy_stack(e);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	stat_inc(STAT_SNAPSHOTS);
	return true;
}

/* With frame pointers: sends a sample with Python frames to be counted in
 * user space (its stacks are in the stack map). False when the thread has
 * none (or the ring is full): the sample is counted here. */
static __always_inline bool send_python(const struct sample_key *key, __u32 buffer,
					const struct bpfprof_python_proc *py,
					struct task_struct *task)
{
	struct python_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		stat_inc(STAT_PY_LOST);
		return false;
	}
	if (!python_walk(py, task, &e->python)) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return false;
	}
	e->kind = EVENT_PYTHON;
	e->buffer = buffer;
	e->key = *key;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	stat_inc(STAT_PY_EVENTS);
	return true;
}

SEC("perf_event")
int do_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct task_struct *task;
	struct user_regs regs;
	struct sample_key key = {};
	const struct bpfprof_python_proc *py;
	__u64 file = 0;
	__u32 buffer = active_buffer & 1;
	void *stack_map = buffer ? (void *)&stacks_alt : (void *)&stacks;

	if (tid == 0 && !include_idle)
		return 0;
	if (filter_pids && !bpf_map_lookup_elem(&pids, &tgid))
		return 0;

	task = bpf_get_current_task_btf();
	key.tgid = tgid;
	key.tid = tid;
	key.start_time = BPF_CORE_READ(task, group_leader, start_boottime);
	bpf_get_current_comm(key.thread_name, sizeof(key.thread_name));
	if (tid == tgid)
		__builtin_memcpy(key.comm, key.thread_name, sizeof(key.comm));
	else
		BPF_CORE_READ_STR_INTO(&key.comm, task, group_leader, comm);

	/* Kernel addresses have the top bit set (x86-64): a sample
	 * taken in user mode has no kernel stack to walk. */
	if ((long)PT_REGS_IP(&ctx->regs) < 0) {
		key.kernel_stack_id = bpf_get_stackid(ctx, stack_map, 0);
		if (key.kernel_stack_id < 0)
			stat_inc(STAT_KERNEL_STACK_LOST);
	} else {
		key.kernel_stack_id = -EFAULT;
	}

	if (!task->mm) {
		key.user_stack_id = -ENOENT;
		goto count;
	}
	read_user_regs(ctx, task, &regs);
	file = find_leaf_vma(task, &key, regs.ip);
	py = python_proc(tgid, key.start_time);
	if (unwind_mode != UNWIND_FP) {
		/* before the snapshot: the ring keeps the order */
		announce_file(&key, file, announce_pid(&key));
		if (send_snapshot(&regs, &key, buffer, py, task) || unwind_mode == UNWIND_DWARF)
			return 0;
	}
	key.user_stack_id = bpf_get_stackid(ctx, stack_map, BPF_F_USER_STACK);
	if (key.user_stack_id < 0)
		stat_inc(STAT_USER_STACK_LOST);
	if (py) {
		announce_file(&key, file, announce_pid(&key));
		if (send_python(&key, buffer, py, task))
			return 0;
	}

count:
	/* A process or a file mapping is new only if its sample is a new key;
	 * the common case (a key seen before) pays no lookup in seen_pids. */
	if (count_sample(buffer ? (void *)&counts_alt : (void *)&counts, &key) &&
	    key.user_stack_id != -ENOENT)
		announce_file(&key, file, announce_pid(&key));
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 parent_tgid = parent->tgid, child_tgid = child->tgid;
	__u8 one = 1;

	if (!follow_forks || parent_tgid == child_tgid)
		return 0;
	if (bpf_map_lookup_elem(&pids, &parent_tgid))
		bpf_map_update_elem(&pids, &child_tgid, &one, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p)
{
	__u32 tgid = p->tgid;

	bpf_map_delete_elem(&seen_pids, &tgid);
	bpf_map_delete_elem(&python_procs, &tgid); /* a new image */
	return 0;
}

/* A process whose last thread exits leaves the pid filter and the set of
 * announced processes: its pid may be reused by an unrelated process,
 * which must be announced anew (user space then sees the new start time)
 * and, unless a filtered process forked it, not sampled. signal->live
 * counts the group's threads still running; the tracepoint fires after
 * the exiting thread took itself off. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;

	if (BPF_CORE_READ(p, signal, live.counter) > 0)
		return 0;
	bpf_map_delete_elem(&seen_pids, &tgid);
	bpf_map_delete_elem(&pids, &tgid);
	bpf_map_delete_elem(&python_procs, &tgid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
