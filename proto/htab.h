/* htab.h - the hash index behind the pprof builder's deduplication (internal).
 *
 * The builder keeps each table (strings, mappings, functions, locations) in a
 * plain array, so the array index is the string index / id - 1. A pp_htab
 * maps a key to the array index of the entry equal to it without storing keys
 * itself: the caller passes the key's hash and an equality callback that
 * compares the key with table entry `idx`.
 *
 * Open addressing with linear probing; every slot keeps the full 32-bit hash,
 * so probing skips most mismatches without calling eq and growing never needs
 * the keys. The table doubles when it is half full. At most UINT32_MAX - 1
 * entries.
 */
#ifndef BPFPROF_PROTO_HTAB_H
#define BPFPROF_PROTO_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pp_htab_slot {
	uint32_t hash;
	uint32_t idx1; /* array index + 1; 0 = empty slot */
};

struct pp_htab {
	struct pp_htab_slot *slots;
	size_t cap; /* 0 or a power of two */
	size_t len;
};

/* Is table entry idx equal to key? ctx is the caller's table. */
typedef bool (*pp_htab_eq_fn)(const void *ctx, uint32_t idx, const void *key);

/* The index of the entry equal to key, or -1 when there is none. */
int64_t pp_htab_find(const struct pp_htab *t, uint32_t hash, pp_htab_eq_fn eq,
		     const void *ctx, const void *key);

/* Record that entry idx has this hash; the caller made sure it is new.
 * 0, -ENOMEM or -E2BIG. */
int pp_htab_insert(struct pp_htab *t, uint32_t hash, uint32_t idx);

void pp_htab_free(struct pp_htab *t);

/* FNV-1a, 64-bit: start with PP_FNV_INIT, feed bytes, fold with pp_hash32. */
#define PP_FNV_INIT 0xcbf29ce484222325ULL

static inline uint64_t pp_fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static inline uint64_t pp_fnv1a_u64(uint64_t h, uint64_t v)
{
	return pp_fnv1a(h, &v, sizeof(v));
}

static inline uint32_t pp_hash32(uint64_t h)
{
	return (uint32_t)(h ^ (h >> 32));
}

#endif
