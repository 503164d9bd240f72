/* sampler.c - see sampler.h.
 *
 * The perf events use a fixed period (1e9 / freq_hz nanoseconds of CPU
 * clock) rather than a frequency, so a busy thread gets exactly freq_hz
 * samples per second and counts can be compared between runs.
 *
 * A reader thread empties the events ring as it fills, into a record
 * queue (record_queue.h): a process event (one per process or new file
 * mapping, rare next to samples) wakes it at once, snapshots (submitted
 * without wake-ups) are taken every READER_PERIOD_MS. Both kinds share
 * the ring, so they keep the order the samples made them in: a process's
 * announcement comes before the snapshots that need its maps. The thread
 * that calls sampler_poll() takes the records from the queue in that
 * order, so however long it spends on one (a new object's symbols and
 * CFI, an interval's profiles) no sample finds the ring full; a record
 * that finds the queue full (SAMPLER_QUEUE_BYTES) is counted with the
 * ring's losses. A flip or a stop asks the reader to empty the ring and
 * mark the place in the queue: sampler_poll() then delivers everything up
 * to the mark before it returns, so every snapshot of a finished buffer is
 * delivered before that buffer is drained.
 */
#include "sampler.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "opts.h"
#include "profile.skel.h"
#include "record_queue.h"

#define READER_PERIOD_MS 20
#define SAMPLER_QUEUE_BYTES ((size_t)64 << 20)
#define FLUSH_WAIT_MS 2000 /* the reader answers within a period */

enum record_type { RECORD_PROCESS, RECORD_SNAPSHOT, RECORD_PYTHON, RECORD_FLUSHED };

struct sampler {
	struct profile_bpf *skel;
	struct bpf_link **links; /* one per CPU, NULL where offline */
	int *event_fds;
	int ncpus;
	struct ring_buffer *events;    /* process events wake the reader */
	struct record_queue *queue;    /* reader -> sampler_poll() */
	pthread_t reader;
	bool reader_started;
	int wake_fd;                   /* eventfd: flush, or stop */
	bool stopping;                 /* under the eventfd's ordering */
	bool flush_pending;            /* sampler_poll() waits for the mark */
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

/* The ring's callback, on the reader thread: a copy into the queue. */
static int queue_event(void *ctx, void *data, size_t len)
{
	struct sampler *s = ctx;
	__u32 kind;

	if (len < sizeof(kind))
		return 0;
	memcpy(&kind, data, sizeof(kind));
	if (kind == EVENT_PROCESS && len >= sizeof(struct process_event))
		record_queue_push(s->queue, RECORD_PROCESS, data, sizeof(struct process_event));
	else if (kind == EVENT_SNAPSHOT && len >= offsetof(struct stack_event, stack))
		record_queue_push(s->queue, RECORD_SNAPSHOT, data, len);
	else if (kind == EVENT_PYTHON && len >= sizeof(struct python_event))
		record_queue_push(s->queue, RECORD_PYTHON, data, sizeof(struct python_event));
	return 0;
}

static void *reader_main(void *arg)
{
	struct sampler *s = arg;
	struct pollfd fds[2] = {
		{ .fd = ring_buffer__epoll_fd(s->events), .events = POLLIN },
		{ .fd = s->wake_fd, .events = POLLIN },
	};
	sigset_t all;

	sigfillset(&all); /* SIGINT/SIGTERM are the sampling loop's */
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		uint64_t wakes = 0;

		poll(fds, 2, READER_PERIOD_MS);
		ring_buffer__consume(s->events);
		record_queue_publish(s->queue); /* one wake-up per read */
		if (!(fds[1].revents & POLLIN))
			continue;
		if (read(s->wake_fd, &wakes, sizeof(wakes)) < 0)
			wakes = 0;
		if (__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE))
			return NULL;
		/* the mark: everything the ring held when asked is before it */
		while (record_queue_push(s->queue, RECORD_FLUSHED, NULL, 0) == -ENOMEM)
			poll(NULL, 0, 1);
		record_queue_publish(s->queue);
	}
}

/* Asks the reader to empty the ring; the next sampler_poll() delivers
 * all of it. */
static void request_flush(struct sampler *s)
{
	uint64_t one = 1;

	if (!s->reader_started || s->flush_pending)
		return;
	s->flush_pending = write(s->wake_fd, &one, sizeof(one)) == sizeof(one);
}

static int start_reader(struct sampler *s)
{
	int err;

	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0)
		return -errno;
	err = record_queue_new(SAMPLER_QUEUE_BYTES, &s->queue);
	if (!err)
		err = -pthread_create(&s->reader, NULL, reader_main, s);
	s->reader_started = !err;
	return err;
}

static void stop_reader(struct sampler *s)
{
	uint64_t one = 1;

	if (s->reader_started) {
		__atomic_store_n(&s->stopping, true, __ATOMIC_RELEASE);
		while (write(s->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
		pthread_join(s->reader, NULL);
		s->reader_started = false;
	}
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	s->wake_fd = -1;
}

/* The events ring holds what all CPUs send between two polls, four times
 * over (polls can be late): a power of two, from 1 MiB to 256 MiB. With
 * frame pointers only process events: BPFPROF_EVENTS_RB_FP. */
static __u32 events_ring_bytes(enum bpfprof_unwind unwind, int ncpus, int freq_hz)
{
	uint64_t need = 4 * (uint64_t)ncpus * (uint64_t)freq_hz * SAMPLER_POLL_MS / 1000 *
			(sizeof(struct stack_event) + 8), size = 1 << 20;

	if (unwind == UNWIND_FP)
		return BPFPROF_EVENTS_RB_FP;
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
	bpf_map__set_max_entries(s->skel->maps.events,
				 events_ring_bytes(opts->unwind, s->ncpus, opts->freq_hz));
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
	s->events = ring_buffer__new(bpf_map__fd(s->skel->maps.events), queue_event, s, NULL);
	if (!s->events) {
		err = -errno;
		log_error("create ring buffer: %s", strerror(-err));
		return err;
	}
	return 0;
}

int sampler_open(const struct sampler_opts *user_opts, struct sampler **out)
{
	/* the caller's options, each field through OPT() (opts.h) */
	const struct sampler_opts opts_copy = {
		.sz = sizeof(opts_copy),
		.freq_hz = OPT(user_opts, freq_hz, 0),
		.pids = OPT(user_opts, pids, NULL),
		.npids = OPT(user_opts, npids, 0),
		.follow_forks = OPT(user_opts, follow_forks, false),
		.include_idle = OPT(user_opts, include_idle, false),
		.unwind = OPT(user_opts, unwind, 0),
		.snapshot_bytes = OPT(user_opts, snapshot_bytes, 0),
		.max_keys = OPT(user_opts, max_keys, 0),
		.max_stacks = OPT(user_opts, max_stacks, 0),
	}, *opts = &opts_copy;
	struct sampler *s;
	int err;

	if (!user_opts || !OPTS_VALID(user_opts) || opts->freq_hz <= 0 || !out ||
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
	s->wake_fd = -1;

	err = load_program(s, opts);
	if (!err && (err = start_reader(s)))
		log_error("start the ring reader: %s", strerror(-err));
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
	request_flush(s); /* what the last samples sent */
}

void sampler_close(struct sampler *s)
{
	if (!s)
		return;
	if (s->links && s->event_fds)
		sampler_stop(s);
	stop_reader(s);
	record_queue_free(s->queue);
	ring_buffer__free(s->events);
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

int sampler_set_python(struct sampler *s, pid_t pid, const struct bpfprof_python_proc *proc)
{
	__u32 key = (__u32)pid;
	int err;

	if (proc)
		err = bpf_map__update_elem(s->skel->maps.python_procs, &key, sizeof(key), proc,
					   sizeof(*proc), BPF_ANY);
	else
		err = bpf_map__delete_elem(s->skel->maps.python_procs, &key, sizeof(key), 0);
	return err == -ENOENT && !proc ? 0 : err;
}

/* Hands one record to its handler; returns whether it was the mark. */
static bool deliver(const struct queued_record *r, const struct sampler_handlers *h)
{
	struct process_event ev;

	switch (r->type) {
	case RECORD_PROCESS:
		memcpy(&ev, r->data, sizeof(ev));
		if (!ev.vma.ino && h->on_new_pid)
			h->on_new_pid((pid_t)ev.tgid, ev.start_time, h->ctx);
		else if (ev.vma.ino && h->on_new_file)
			h->on_new_file((pid_t)ev.tgid, ev.start_time, &ev.vma, h->ctx);
		return false;
	case RECORD_SNAPSHOT:
		if (h->on_snapshot)
			h->on_snapshot((const struct stack_event *)r->data, r->len, h->ctx);
		return false;
	case RECORD_PYTHON:
		if (h->on_python)
			h->on_python((const struct python_event *)r->data, h->ctx);
		return false;
	default:
		return true;
	}
}

int sampler_poll(struct sampler *s, int timeout_ms, const struct sampler_handlers *h)
{
	int waited = 0;

	for (;;) {
		/* waiting for the mark: as long as the reader takes to answer */
		int wait = s->flush_pending ? READER_PERIOD_MS : timeout_ms;
		struct queued_record *list = record_queue_take(s->queue, wait);
		bool marked = false;

		for (struct queued_record *r = list; r; r = r->next)
			marked |= deliver(r, h);
		record_queue_release(s->queue, list);
		if (marked)
			s->flush_pending = false;
		if (!s->flush_pending)
			return 0;
		if ((waited += wait) >= FLUSH_WAIT_MS) {
			log_warn("the ring reader did not answer in %d ms", FLUSH_WAIT_MS);
			s->flush_pending = false;
			return -ETIMEDOUT;
		}
	}
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
	/* lost as surely as those the ring refused */
	stats[STAT_SNAPSHOT_LOST] += record_queue_dropped(s->queue, RECORD_SNAPSHOT);
	stats[STAT_NEW_PID_LOST] += record_queue_dropped(s->queue, RECORD_PROCESS);
	stats[STAT_PY_LOST] += record_queue_dropped(s->queue, RECORD_PYTHON);
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
	request_flush(s); /* the old buffer's last snapshots */
	return old;
}

/* Lists up to max keys of map into keys, each found from the one before
 * (from NULL each time, get_next_key walks from the first bucket: a loop
 * of those is quadratic in the map's size). Returns how many. */
static size_t list_keys(struct bpf_map *map, uint8_t *keys, size_t key_size, size_t max)
{
	const void *prev = NULL;
	size_t n = 0;

	while (n < max && !bpf_map__get_next_key(map, prev, keys + n * key_size, key_size))
		prev = keys + n++ * key_size;
	return n;
}

/* Deletes every key of map: listed, then deleted in one batch where the
 * map type allows it (hash maps), one at a time where not (stack maps). */
static void clear_map(struct bpf_map *map, size_t key_size)
{
	size_t max = bpf_map__max_entries(map);
	uint8_t *keys = calloc(max, key_size); /* zeroed: as for the batch lookup */
	size_t n;
	__u32 done;

	if (!keys) { /* slow, but needs no memory */
		uint8_t key[sizeof(struct sample_key)];

		while (key_size <= sizeof(key) && !bpf_map__get_next_key(map, NULL, key, key_size))
			if (bpf_map__delete_elem(map, key, key_size, 0))
				break;
		return;
	}
	n = list_keys(map, keys, key_size, max);
	done = (__u32)n;
	if (n && bpf_map_delete_batch(bpf_map__fd(map), keys, &done, NULL))
		for (size_t i = done; i < n; i++)
			bpf_map__delete_elem(map, keys + i * key_size, key_size, 0);
	free(keys);
}

/* Whether map has no key: one syscall, where clearing an empty map
 * would allocate its key list. */
static bool map_empty(struct bpf_map *map, size_t key_size)
{
	uint8_t key[sizeof(struct sample_key)];

	return key_size > sizeof(key) || bpf_map__get_next_key(map, NULL, key, key_size);
}

void sampler_clear(struct sampler *s, unsigned buffer)
{
	if (!map_empty(counts_map(s, buffer), sizeof(struct sample_key)))
		clear_map(counts_map(s, buffer), sizeof(struct sample_key));
	clear_map(stacks_map(s, buffer), sizeof(__u32));
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

/* Takes (reads and deletes) up to max keys and counts of map, in batches
 * of whole buckets; returns how many, or a negative errno. */
static long take_counts(struct bpf_map *map, struct sample_key *keys, uint64_t *counts,
			size_t max)
{
	__u32 token, n;
	size_t total = 0;
	void *in = NULL;
	int err;

	for (;;) {
		n = (__u32)(max - total);
		err = bpf_map_lookup_and_delete_batch(bpf_map__fd(map), in, &token,
						      keys + total, counts + total, &n, NULL);
		if (err && err != -ENOENT)
			return err;
		total += n;
		if (err || total == max) /* -ENOENT: no more buckets */
			return (long)total;
		in = &token;
	}
}

int sampler_take_samples(struct sampler *s, unsigned buffer, sampler_sample_cb cb, void *ctx)
{
	uint64_t kernel_ips[BPFPROF_MAX_STACK_DEPTH], user_ips[BPFPROF_MAX_STACK_DEPTH];
	struct bpf_map *counts_of = counts_map(s, buffer);
	size_t max = bpf_map__max_entries(counts_of);
	/* zeroed: valgrind cannot tell that the batch lookup writes them */
	struct sample_key *keys = calloc(max, sizeof(*keys));
	uint64_t *counts = calloc(max, sizeof(*counts));
	long n = keys && counts ? take_counts(counts_of, keys, counts, max) : -ENOMEM;
	int err = n < 0 ? (int)n : 0;

	for (long i = 0; i < n && !err; i++) {
		struct sampler_sample sample = {
			.key = &keys[i],
			.count = counts[i],
			.kernel_ips = kernel_ips,
			.kernel_depth = sampler_read_stack(s, buffer, keys[i].kernel_stack_id,
							   kernel_ips),
			.user_ips = user_ips,
			.user_depth = sampler_read_stack(s, buffer, keys[i].user_stack_id, user_ips),
		};

		err = cb(&sample, ctx);
	}
	free(keys);
	free(counts);
	return err;
}
