/* strtab.h - interned strings in one arena, addressed by 32-bit offsets.
 *
 * While an index is being built, strtab_intern() stores each distinct
 * string once (a uthash table, the project's one hash table, finds
 * duplicates: a node per string holding a copy of it, since the arena
 * moves as it grows); strtab_seal() then drops the table and trims the
 * arena to its size, so a
 * built index pays only for the bytes of its distinct strings. Offsets stay
 * valid across growth (the arena is addressed by offset, never by pointer
 * while building); after sealing, strtab_get() pointers are stable.
 */
#ifndef BPFPROF_SYM_STRTAB_H
#define BPFPROF_SYM_STRTAB_H

#include <stddef.h>
#include <stdint.h>

#define STRTAB_NONE UINT32_MAX /* "no string" */

struct strtab_node;

struct strtab {
	char *arena;
	size_t len, cap;
	struct strtab_node *index; /* NULL once sealed */
	size_t index_bytes;        /* held by the index's nodes */
};

/* Stores s (once) and sets *off to its offset. Returns 0 or -ENOMEM. */
int strtab_intern(struct strtab *t, const char *s, uint32_t *off);

/* Ends interning: frees the hash, trims the arena. */
void strtab_seal(struct strtab *t);

void strtab_free(struct strtab *t);

/* Bytes held (arena and index). */
size_t strtab_memory(const struct strtab *t);

static inline const char *strtab_get(const struct strtab *t, uint32_t off)
{
	return off == STRTAB_NONE ? NULL : t->arena + off;
}

#endif
