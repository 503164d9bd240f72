/* sampler.h - a sampling session: the BPF program on every CPU.
 *
 * Owns the loaded skeleton, one PERF_COUNT_SW_CPU_CLOCK event per online
 * CPU and a thread that empties the ring buffers as they fill. While it
 * runs, sampler_poll() reports processes seen for the first time (or after
 * exec) so the caller can snapshot their mappings while they are alive,
 * and, in DWARF mode, each sample's stack snapshot. At the end (of the
 * recording, or of an interval), sampler_take_samples() takes the
 * aggregated counts, with their stacks resolved to instruction pointers.
 */
#ifndef BPFPROF_SAMPLER_H
#define BPFPROF_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "profile.h"

struct sampler;

struct sampler_opts {
	size_t sz;          /* sizeof(struct sampler_opts) */
	int freq_hz;        /* samples per second per CPU */
	const pid_t *pids;  /* only these processes (NULL: all) */
	size_t npids;
	bool follow_forks;  /* children of filtered processes join the filter */
	bool include_idle;  /* also sample the idle task (pid 0) */
	enum bpfprof_unwind unwind; /* DWARF, AUTO: snapshots to on_snapshot */
	uint32_t snapshot_bytes;    /* stack copied per sample, multiple of 4096 */
	uint32_t max_keys;   /* entries of each counts map; 0: BPFPROF_MAX_COUNTS */
	uint32_t max_stacks; /* of each stack map; 0: BPFPROF_MAX_STACKS */
};

/* One aggregated sample with its stacks, innermost frame first. */
struct sampler_sample {
	const struct sample_key *key;
	uint64_t count;
	const uint64_t *kernel_ips;
	size_t kernel_depth;
	const uint64_t *user_ips;
	size_t user_depth;
	bool truncated; /* the user stack goes on past what was captured */
};

/* start_time: of the process, ns since boot, as in struct sample_key. */
typedef void (*sampler_pid_cb)(pid_t pid, uint64_t start_time, void *ctx);
typedef void (*sampler_file_cb)(pid_t pid, uint64_t start_time, const struct bpfprof_vma *vma,
				void *ctx);
typedef void (*sampler_snapshot_cb)(const struct stack_event *e, size_t len, void *ctx);
typedef void (*sampler_python_cb)(const struct python_event *e, void *ctx);
typedef int (*sampler_sample_cb)(const struct sampler_sample *s, void *ctx);

/* Loads and attaches the program. Returns 0 or a negative errno after
 * logging a line that names the cause and the fix. */
int sampler_open(const struct sampler_opts *opts, struct sampler **out);
void sampler_close(struct sampler *s);

/* Tells the BPF side where process pid's Python interpreter is, so its
 * samples carry Python frames (NULL: no longer). 0 or a negative errno. */
int sampler_set_python(struct sampler *s, pid_t pid, const struct bpfprof_python_proc *proc);

/* Adds a process to the filter (only with opts->pids set). */
int sampler_add_pid(struct sampler *s, pid_t pid);

/* The longest a caller waits in one sampler_poll(), to notice signals
 * and deadlines; the events ring holds four times that of samples. */
#define SAMPLER_POLL_MS 100

/* Handlers for what sampler_poll() delivers. */
struct sampler_handlers {
	sampler_pid_cb on_new_pid;           /* a process seen for the first time */
	sampler_file_cb on_new_file;         /* a process running code in a file
	                                        mapping for the first time */
	sampler_snapshot_cb on_snapshot;     /* DWARF mode: a sample to unwind */
	sampler_python_cb on_python;         /* frame pointers: a sample with
	                                        Python frames, to count */
	void *ctx;
};

/* Waits up to timeout_ms for what the ring sent (returning as soon as
 * something came) and delivers it in the ring's order: a process's
 * announcement comes before the snapshots of the sample that made it, so
 * its mappings are known before they are unwound. After sampler_flip() or
 * sampler_stop(), it first delivers everything sent before that call,
 * however long it waits (-ETIMEDOUT, logged, if the reader thread does not
 * answer within 2 s). */
int sampler_poll(struct sampler *s, int timeout_ms, const struct sampler_handlers *h);

/* Reads stack `id` of buffer's stack map into ips (BPFPROF_MAX_STACK_DEPTH
 * entries); returns its depth, 0 when there is none (id < 0). */
size_t sampler_read_stack(struct sampler *s, unsigned buffer, int32_t id, uint64_t *ips);

/* Double buffering (see profile.bpf.c). Samples go to one of two buffers
 * (0 at the start). sampler_flip() sends new samples to the other buffer
 * and returns the one that was active, once no sample can still be going
 * into it; sampler_clear() empties a drained buffer (its stacks: its counts
 * were taken, or are deleted now if not). */
unsigned sampler_flip(struct sampler *s);
void sampler_clear(struct sampler *s, unsigned buffer);

/* Stops sampling: detaches the perf events, the maps stay readable. */
void sampler_stop(struct sampler *s);

/* Sums the per-CPU counters of enum bpfprof_stat. */
int sampler_read_stats(struct sampler *s, uint64_t stats[STAT_MAX]);

/* Takes every sample counted in buffer out of its counts map (read and
 * deleted in one pass of batches) and calls cb for each; stops at the
 * first nonzero return (the samples not yet given are gone too). */
int sampler_take_samples(struct sampler *s, unsigned buffer, sampler_sample_cb cb, void *ctx);

#endif
