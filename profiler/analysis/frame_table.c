/* frame_table.c - see frame_table.h. */
#include "frame_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

#define BLOCK_BYTES (1u << 20)

const char *const frame_kind_names[FRAME_KINDS] = {
	[FRAME_NATIVE] = "native",
	[FRAME_KERNEL] = "kernel",
	[FRAME_JIT] = "jit",
	[FRAME_INTERPRETER] = "interpreter",
	[FRAME_UNSYMBOLIZED] = "unsymbolized",
};

struct lookup {
	const struct frame_table *t;
	const struct frame *f;
};

static bool frame_equal(const void *ctx, uint32_t id)
{
	const struct lookup *l = ctx;
	const struct frame *a = &l->t->frames[id];

	if (l->t->by_line && (a->line != l->f->line || strcmp(a->file, l->f->file)))
		return false;
	return !strcmp(a->name, l->f->name);
}

/* A copy of s in the table's blocks: strings are many and small, and live
 * as long as the table. */
static const char *copy_string(struct frame_table *t, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (n > t->block_left) {
		size_t size = n > BLOCK_BYTES ? n : BLOCK_BYTES;

		if (array_reserve(&t->blocks, &t->blocks_cap, t->nblocks + 1, sizeof(*t->blocks)))
			return NULL;
		if (!(p = malloc(size)))
			return NULL;
		t->blocks[t->nblocks++] = p;
		t->block_next = p;
		t->block_left = size;
	}
	p = t->block_next;
	memcpy(p, s, n);
	t->block_next += n;
	t->block_left -= n;
	return p;
}

int64_t frame_table_intern(struct frame_table *t, const struct frame *f)
{
	struct lookup l = { t, f };
	uint32_t h = id_hash(ID_HASH_SEED, f->name, strlen(f->name));
	uint32_t id;
	struct frame *n;

	if (t->by_line) {
		h = id_hash(h, f->file, strlen(f->file) + 1);
		h = id_hash(h, &f->line, sizeof(f->line));
	}
	id = id_index_find(&t->index, h, frame_equal, &l);
	if (id != ID_NONE)
		return id;
	if (t->nframes >= ID_NONE - 1 ||
	    array_reserve(&t->frames, &t->cap, t->nframes + 1, sizeof(*t->frames)))
		return -ENOMEM;
	n = &t->frames[t->nframes];
	n->line = t->by_line ? f->line : 0;
	n->kind = f->kind;
	if (!(n->name = copy_string(t, f->name)) ||
	    !(n->file = f->file[0] ? copy_string(t, f->file) : ""))
		return -ENOMEM;
	if (id_index_add(&t->index, h, (uint32_t)t->nframes))
		return -ENOMEM;
	return (int64_t)t->nframes++;
}

void frame_table_free(struct frame_table *t)
{
	for (size_t i = 0; i < t->nblocks; i++)
		free(t->blocks[i]);
	free(t->blocks);
	free(t->frames);
	id_index_free(&t->index);
	*t = (struct frame_table){ 0 };
}
