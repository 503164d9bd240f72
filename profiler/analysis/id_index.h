/* id_index.h - a hash index of ids into a table the caller owns.
 *
 * The analysis interns millions of things (strings, frames, stacks, call
 * tree nodes) in arrays of its own; this is the one open-addressing index
 * they all use to find an existing entry: it stores 32-bit ids and their
 * hashes (8 bytes a slot, no per-entry allocation), and asks the caller
 * whether the entry an id names equals what is being looked up. Linear
 * probing, grown at 1/2 load, never shrunk; ids are < UINT32_MAX.
 */
#ifndef BPFPROF_ID_INDEX_H
#define BPFPROF_ID_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ID_NONE UINT32_MAX

struct id_index {
	uint32_t *ids; /* ID_NONE: empty */
	uint32_t *hashes;
	size_t cap, n; /* cap: 0 or a power of two */
};

/* Is the entry `id` equal to the key being looked up? */
typedef bool (*id_equal_fn)(const void *ctx, uint32_t id);

/* The id of the entry equal to the key (hash h), or ID_NONE. */
uint32_t id_index_find(const struct id_index *x, uint32_t h, id_equal_fn eq, const void *ctx);

/* Adds id under hash h (the caller has checked it is not there): 0 or
 * -ENOMEM. */
int id_index_add(struct id_index *x, uint32_t h, uint32_t id);

void id_index_free(struct id_index *x);

/* FNV-1a over n bytes, continued from h (start with ID_HASH_SEED). */
#define ID_HASH_SEED 2166136261u
uint32_t id_hash(uint32_t h, const void *p, size_t n);

#endif
