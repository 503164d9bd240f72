/* sampler.c - see sampler.h.
 *
 * The perf events use a fixed period (1e9 / freq_hz nanoseconds of CPU
 * clock) rather than a frequency, so a busy thread gets exactly freq_hz
 * samples per second and counts can be compared between runs.
 *
 * New-process notifications (one per process, rare next to samples) wake
 * sampler_poll() up at once, so a short-lived process is snapshotted while
 * its mappings still exist.
 */
#include "sampler.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "profile.skel.h"

struct sampler {
	struct profile_bpf *skel;
	struct bpf_link **links; /* one per CPU, NULL where offline */
	int *event_fds;
	int ncpus;
	struct ring_buffer *new_pids;  /* wakes sampler_poll() */
	struct ring_buffer *snapshots; /* no wake-ups: consumed after new_pids */
	const struct sampler_handlers *handlers; /* valid during sampler_poll() */
};

static int open_cpu_clock(int cpu, int freq_hz)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_period = 1000000000ULL / (unsigned)freq_hz,
	};
	long fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1,
			  PERF_FLAG_FD_CLOEXEC);

	return fd < 0 ? -errno : (int)fd;
}

static int attach_cpus(struct sampler *s, int freq_hz)
{
	int attached = 0;

	for (int cpu = 0; cpu < s->ncpus; cpu++) {
		int fd = open_cpu_clock(cpu, freq_hz);

		if (fd == -ENODEV) /* offline CPU */
			continue;
		if (fd < 0) {
			log_error("perf events unavailable (perf_event_open on CPU %d: %s): "
				  "need a kernel with CONFIG_PERF_EVENTS and root or CAP_PERFMON",
				  cpu, strerror(-fd));
			return fd;
		}
		s->event_fds[cpu] = fd;
		s->links[cpu] = bpf_program__attach_perf_event(s->skel->progs.do_sample, fd);
		if (!s->links[cpu]) {
			int err = -errno;

			log_error("attach BPF program to CPU %d: %s", cpu, strerror(-err));
			return err;
		}
		attached++;
	}
	if (!attached) {
		log_error("no online CPU to sample");
		return -ENODEV;
	}
	return 0;
}

static int on_process_event(void *ctx, void *data, size_t len)
{
	const struct sampler_handlers *h = ((struct sampler *)ctx)->handlers;
	struct process_event ev;

	if (len < sizeof(ev) || !h)
		return 0;
	memcpy(&ev, data, sizeof(ev));
	if (!ev.vma.ino && h->on_new_pid)
		h->on_new_pid((pid_t)ev.tgid, h->ctx);
	else if (ev.vma.ino && h->on_new_file)
		h->on_new_file((pid_t)ev.tgid, &ev.vma, h->ctx);
	return 0;
}

static int on_snapshot(void *ctx, void *data, size_t len)
{
	struct sampler *s = ctx;

	if (len >= offsetof(struct stack_event, stack) && s->handlers &&
	    s->handlers->on_snapshot)
		s->handlers->on_snapshot(data, len, s->handlers->ctx);
	return 0;
}

/* The snapshot ring holds what all CPUs send between two polls, four times
 * over (polls can be late): a power of two, from 1 MiB to 256 MiB. Unused
 * with frame pointers: one page. */
static __u32 snapshot_ring_bytes(enum bpfprof_unwind unwind, int ncpus, int freq_hz)
{
	uint64_t need = 4 * (uint64_t)ncpus * (uint64_t)freq_hz * SAMPLER_POLL_MS / 1000 *
			(sizeof(struct stack_event) + 8), size = 1 << 20;

	if (unwind == UNWIND_FP)
		return (__u32)getpagesize();
	while (size < need && size < (256u << 20))
		size <<= 1;
	return (__u32)size;
}

static int load_program(struct sampler *s, const struct sampler_opts *opts)
{
	int err;

	s->skel = profile_bpf__open();
	if (!s->skel) {
		err = -errno;
		log_error("open BPF object: %s", strerror(-err));
		return err;
	}
	s->skel->rodata->filter_pids = opts->pids != NULL;
	s->skel->rodata->follow_forks = opts->follow_forks;
	s->skel->rodata->include_idle = opts->include_idle;
	s->skel->rodata->unwind_mode = opts->unwind;
	s->skel->rodata->snapshot_bytes = opts->snapshot_bytes;
	bpf_map__set_max_entries(s->skel->maps.snapshots,
				 snapshot_ring_bytes(opts->unwind, s->ncpus, opts->freq_hz));
	if (opts->max_keys) {
		bpf_map__set_max_entries(s->skel->maps.counts, opts->max_keys);
		bpf_map__set_max_entries(s->skel->maps.counts_alt, opts->max_keys);
	}
	if (opts->max_stacks) {
		bpf_map__set_max_entries(s->skel->maps.stacks, opts->max_stacks);
		bpf_map__set_max_entries(s->skel->maps.stacks_alt, opts->max_stacks);
	}
	bpf_program__set_autoload(s->skel->progs.on_fork, opts->follow_forks);

	err = profile_bpf__load(s->skel);
	if (err) {
		log_error("load BPF program: %s%s", strerror(-err),
			  err == -EPERM ? " (need root or CAP_BPF+CAP_PERFMON)" :
			  " (run with -v for the verifier's log)");
		return err;
	}
	err = profile_bpf__attach(s->skel); /* the tracepoints; perf events below */
	if (err) {
		log_error("attach BPF tracepoints: %s", strerror(-err));
		return err;
	}
	s->new_pids = ring_buffer__new(bpf_map__fd(s->skel->maps.new_pids),
				       on_process_event, s, NULL);
	s->snapshots = ring_buffer__new(bpf_map__fd(s->skel->maps.snapshots),
					on_snapshot, s, NULL);
	if (!s->new_pids || !s->snapshots) {
		err = -errno;
		log_error("create ring buffer: %s", strerror(-err));
		return err;
	}
	return 0;
}

int sampler_open(const struct sampler_opts *opts, struct sampler **out)
{
	struct sampler *s;
	int err;

	if (!opts || opts->sz < sizeof(*opts) || opts->freq_hz <= 0 || !out ||
	    opts->snapshot_bytes > BPFPROF_SNAPSHOT_MAX || opts->snapshot_bytes % 4096)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ncpus = libbpf_num_possible_cpus();
	if (s->ncpus <= 0) {
		err = s->ncpus ? s->ncpus : -EINVAL;
		log_error("count possible CPUs: %s", strerror(-err));
		free(s);
		return err;
	}
	s->links = calloc(s->ncpus, sizeof(*s->links));
	s->event_fds = malloc(s->ncpus * sizeof(*s->event_fds));
	if (!s->links || !s->event_fds) {
		err = -ENOMEM;
		goto fail;
	}
	for (int cpu = 0; cpu < s->ncpus; cpu++)
		s->event_fds[cpu] = -1;

	err = load_program(s, opts);
	if (err)
		goto fail;
	for (size_t i = 0; opts->pids && i < opts->npids; i++) {
		err = sampler_add_pid(s, opts->pids[i]);
		if (err)
			goto fail;
	}
	err = attach_cpus(s, opts->freq_hz);
	if (err)
		goto fail;
	*out = s;
	return 0;
fail:
	sampler_close(s);
	return err;
}

void sampler_stop(struct sampler *s)
{
	for (int cpu = 0; cpu < s->ncpus; cpu++) {
		bpf_link__destroy(s->links[cpu]);
		s->links[cpu] = NULL;
		if (s->event_fds[cpu] >= 0)
			close(s->event_fds[cpu]);
		s->event_fds[cpu] = -1;
	}
}

void sampler_close(struct sampler *s)
{
	if (!s)
		return;
	if (s->links && s->event_fds)
		sampler_stop(s);
	ring_buffer__free(s->new_pids);
	ring_buffer__free(s->snapshots);
	profile_bpf__destroy(s->skel);
	free(s->links);
	free(s->event_fds);
	free(s);
}

int sampler_add_pid(struct sampler *s, pid_t pid)
{
	__u32 key = (__u32)pid;
	__u8 one = 1;
	int err;

	err = bpf_map__update_elem(s->skel->maps.pids, &key, sizeof(key), &one,
				   sizeof(one), BPF_ANY);
	if (err)
		log_error("add pid %d to the filter: %s", pid, strerror(-err));
	return err;
}

int sampler_poll(struct sampler *s, int timeout_ms, const struct sampler_handlers *h)
{
	int n, m;

	s->handlers = h;
	n = ring_buffer__poll(s->new_pids, timeout_ms); /* a signal cuts it short */
	if (n >= 0 || n == -EINTR)
		n = ring_buffer__consume(s->new_pids);
	m = ring_buffer__consume(s->snapshots);
	s->handlers = NULL;
	if (n < 0)
		return n;
	return m < 0 ? m : 0;
}

int sampler_read_stats(struct sampler *s, uint64_t stats[STAT_MAX])
{
	uint64_t *percpu = calloc(s->ncpus, sizeof(*percpu));
	int err = 0;

	if (!percpu)
		return -ENOMEM;
	for (__u32 i = 0; i < STAT_MAX; i++) {
		stats[i] = 0;
		err = bpf_map__lookup_elem(s->skel->maps.stats, &i, sizeof(i), percpu,
					   s->ncpus * sizeof(*percpu), 0);
		if (err) {
			log_error("read stats: %s", strerror(-err));
			break;
		}
		for (int cpu = 0; cpu < s->ncpus; cpu++)
			stats[i] += percpu[cpu];
	}
	free(percpu);
	return err;
}

static struct bpf_map *counts_map(struct sampler *s, unsigned buffer)
{
	return buffer ? s->skel->maps.counts_alt : s->skel->maps.counts;
}

static struct bpf_map *stacks_map(struct sampler *s, unsigned buffer)
{
	return buffer ? s->skel->maps.stacks_alt : s->skel->maps.stacks;
}

/* A program that read the old buffer index before the flip finishes within
 * microseconds; this leaves it ample time. */
#define FLIP_GRACE_MS 20

unsigned sampler_flip(struct sampler *s)
{
	unsigned old = s->skel->bss->active_buffer & 1;

	__atomic_store_n(&s->skel->bss->active_buffer, !old, __ATOMIC_SEQ_CST);
	poll(NULL, 0, FLIP_GRACE_MS);
	return old;
}

/* Deletes every key of map; keys are taken one at a time from the start,
 * so deleting as we go is safe. */
static void clear_map(struct bpf_map *map, void *key, size_t key_size)
{
	while (!bpf_map__get_next_key(map, NULL, key, key_size))
		if (bpf_map__delete_elem(map, key, key_size, 0))
			break;
}

void sampler_clear(struct sampler *s, unsigned buffer)
{
	struct sample_key key;
	__u32 id;

	clear_map(counts_map(s, buffer), &key, sizeof(key));
	clear_map(stacks_map(s, buffer), &id, sizeof(id));
}

size_t sampler_read_stack(struct sampler *s, unsigned buffer, int32_t id, uint64_t *ips)
{
	size_t depth = 0;

	if (id < 0)
		return 0;
	if (bpf_map__lookup_elem(stacks_map(s, buffer), &id, sizeof(id), ips,
				 BPFPROF_MAX_STACK_DEPTH * sizeof(*ips), 0))
		return 0;
	while (depth < BPFPROF_MAX_STACK_DEPTH && ips[depth])
		depth++;
	return depth;
}

int sampler_for_each_sample(struct sampler *s, unsigned buffer, sampler_sample_cb cb,
			    void *ctx)
{
	uint64_t kernel_ips[BPFPROF_MAX_STACK_DEPTH], user_ips[BPFPROF_MAX_STACK_DEPTH];
	struct bpf_map *counts = counts_map(s, buffer);
	struct sample_key key, next;
	struct sample_key *prev = NULL;
	int err;

	while (!bpf_map__get_next_key(counts, prev, &next, sizeof(next))) {
		struct sampler_sample sample = { .key = &next };

		key = next;
		prev = &key;
		if (bpf_map__lookup_elem(counts, &next, sizeof(next), &sample.count,
					 sizeof(sample.count), 0))
			continue;
		sample.kernel_depth = sampler_read_stack(s, buffer, next.kernel_stack_id, kernel_ips);
		sample.kernel_ips = kernel_ips;
		sample.user_depth = sampler_read_stack(s, buffer, next.user_stack_id, user_ips);
		sample.user_ips = user_ips;
		err = cb(&sample, ctx);
		if (err)
			return err;
	}
	return 0;
}
