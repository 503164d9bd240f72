/* interval_batch.h - one interval's samples, read once and resolved once.
 *
 * At the end of an interval the sampler's buffer and the table of stacks
 * unwound in user space are drained into a batch (collector_drain): each
 * distinct sample (key, count, service) with its stack as indices into a
 * table of distinct locations, leaf first: kernel frames, then user frames,
 * then a "[truncated]" frame for a stack cut short by its snapshot.
 *
 * A location is resolved (through the resolver the batch is given: the
 * symbolizer, or a test's fake) once per process incarnation, address and
 * sampled file mapping, however many samples, services and upload parts
 * show it; given a resolver in two halves, the costly one (functions and
 * lines) runs once per object and address, however many processes map the
 * object (each process's own location has its own address and mapping),
 * and a frame the unwinder found in a mapping is located with it, not
 * looked up again. Return addresses are moved back by one byte, so they
 * name the call instruction; a frame's pc is taken as it is when it is
 * exact: the leaf, and the frame a signal interrupted (the unwinder says
 * which).
 *
 * When every sample is in, interval_batch_seal() puts each service's
 * samples in a bucket, and the profile builder (profile_build.h) reads one
 * bucket per profile: an interval costs O(samples) whatever the number of
 * services. Strings and mappings point into the resolver's caches: the
 * batch is valid until the symbolizer forgets exited processes.
 */
#ifndef BPFPROF_INTERVAL_BATCH_H
#define BPFPROF_INTERVAL_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "profile.h"
#include "stack_merge.h"
#include "symbolizer.h"

/* The most user frames of a sample: native ones and interpreter frames. */
#define BATCH_MAX_USER_FRAMES (BPFPROF_MAX_STACK_DEPTH + BPFPROF_PY_MAX_FRAMES)

#define BATCH_KERNEL_PID ((pid_t)-1) /* the resolver's pid for kernel frames */
#define BATCH_SERVICE_MAX 64         /* bytes of a service name, with the NUL */

/* Resolves addr of process pid (started at start_time; BATCH_KERNEL_PID:
 * the kernel) whose sample's user pc was in leaf (NULL: unknown or kernel)
 * into out. An error leaves the bare address. */
typedef int (*batch_resolve_fn)(void *ctx, pid_t pid, uint64_t start_time,
				const struct sym_vma *leaf, uint64_t addr,
				struct sym_location *out);

/* The first half of a resolver in two halves: batch_resolve_fn's, for a
 * user address the unwinder found in mapping (NULL: not known). */
typedef int (*batch_locate_fn)(void *ctx, pid_t pid, uint64_t start_time,
			       const struct sym_vma *leaf, const struct sym_mapping *mapping,
			       uint64_t addr, struct sym_location *out);

/* The second half of a resolver in two halves: the frames of
 * loc->object at loc->vaddr, as a locate half found them (see
 * symbolizer_locate() and symbolizer_resolve_object()). */
typedef void (*batch_resolve_object_fn)(void *ctx, struct sym_location *loc);

struct interval_batch_opts {
	size_t sz;                /* sizeof(struct interval_batch_opts) */
	batch_resolve_fn resolve;
	void *ctx;
	/* Optional, both or neither: user addresses resolved in two halves,
	 * locate giving the mapping and, in an object's code, the object and
	 * its address (then no frames); resolve keeps the kernel's. */
	batch_locate_fn locate;
	batch_resolve_object_fn resolve_object;
};

/* One user frame as the unwinder (or the BPF frame-pointer walk) found it,
 * or an interpreter frame merged in (interpreter/stack_merge.h). */
struct batch_frame {
	uint64_t pc;  /* an interpreter frame's: its line */
	bool exact; /* not a return address: the leaf, or after a signal frame */
	const struct sym_mapping *mapping; /* the unwinder's (symbolizer_unwind);
	                                      NULL: to be looked up */
	const struct interp_function *interp; /* NULL: a native frame */
};

/* A distinct location: a pprof Location. */
struct batch_location {
	uint32_t mapping;    /* index in mappings + 1; 0: in no mapping */
	uint64_t address;    /* as symbolized (a call site for return addresses) */
	uint32_t first_line; /* lines[first_line .. + nlines), innermost first */
	uint32_t nlines;     /* at most SYM_MAX_FRAMES (a sym_location's frames) */
};

struct batch_sample {
	struct sample_key key;
	uint64_t count;
	uint32_t service;  /* index in services */
	uint32_t first;    /* stack[first .. + depth): location indices, leaf first */
	uint32_t depth;
};

struct interval_batch {
	struct batch_sample *samples;
	size_t nsamples;
	uint32_t *stack;
	size_t nstack;
	struct batch_location *locations;
	size_t nlocations;
	struct sym_frame *lines;
	size_t nlines;
	const struct sym_mapping **mappings;
	size_t nmappings;
	char (*services)[BATCH_SERVICE_MAX];
	size_t nservices;
	/* After interval_batch_seal(): service i's samples are
	 * order[bucket[i] .. bucket[i + 1]). */
	uint32_t *order;
	uint32_t *bucket;
	/* Scratch of the profile builder, so that a build costs what its
	 * bucket holds, not the batch: the pprof id of each location and
	 * mapping, valid when its build stamp is the current build's. */
	uint64_t *location_ids, *mapping_ids;
	uint32_t *location_built, *mapping_built;
	uint32_t build;
	struct interval_batch_index *index; /* private */
	struct interval_batch_opts opts;
};

int interval_batch_new(const struct interval_batch_opts *opts, struct interval_batch **out);
void interval_batch_free(struct interval_batch *b);

/* Forgets every sample and location (before the symbolizer forgets the
 * processes they point into). */
void interval_batch_clear(struct interval_batch *b);

/* Adds one aggregated sample: kernel_ips as the kernel's stack walk gives
 * them (leaf first, then return addresses), user frames leaf first.
 * service is truncated to BATCH_SERVICE_MAX - 1 bytes. Returns 0 or
 * -ENOMEM (the sample is not added). */
int interval_batch_add(struct interval_batch *b, const struct sample_key *key, uint64_t count,
		       const char *service, const uint64_t *kernel_ips, size_t nkernel,
		       const struct batch_frame *user, size_t nuser, bool truncated);

/* Sorts the samples into buckets by service. 0 or -ENOMEM. */
int interval_batch_seal(struct interval_batch *b);

/* The mapping of the file at path with the lowest start (the first
 * segment, where a binary's ELF header is), NULL when no location has one. */
const struct sym_mapping *interval_batch_find_mapping(const struct interval_batch *b,
						      const char *path);

/* The index of service (as added), or -1 when no sample has it. */
int64_t interval_batch_find_service(const struct interval_batch *b, const char *service);

#endif
