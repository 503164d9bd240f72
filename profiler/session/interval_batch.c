/* interval_batch.c - see interval_batch.h.
 *
 * Every table is a growable array; four uthash indexes (the project's
 * one hash table) find what is already there: locations by their identity
 * (process, address, and the sampled file mapping when the address is in
 * it: the one thing besides the address the symbolizer's answer depends
 * on), the lines of an object's address (resolved by the two-halves
 * resolver) by object and address, mappings by pointer, services by name. The arrays move when they
 * grow, so each index entry is a node of its own: the key and the index.
 */
#include "interval_batch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "grow.h"
#include "opts.h"
#include "sampled_vma.h"

/* What a location's resolution depends on. */
struct location_key {
	pid_t pid;
	uint64_t start_time;
	uint64_t address;
	uint64_t leaf_ino, leaf_base; /* 0: the address is outside the leaf's vma */
	uint32_t leaf_dev_major, leaf_dev_minor;
	const struct sym_mapping *mapping; /* the unwinder's, or NULL */
	const struct interp_function *interp; /* an interpreter frame's
	                                         function (address: its line) */
};

/* The index nodes; each starts with its handle (see free_nodes). */
struct location_node {
	UT_hash_handle hh;
	struct location_key key;
	uint32_t idx;
};

/* The lines of an object's address: lines[first .. + n). */
struct object_lines_key {
	const struct object *object;
	uint64_t vaddr;
};

struct object_lines_node {
	UT_hash_handle hh;
	struct object_lines_key key;
	uint32_t first, n;
};

struct mapping_node {
	UT_hash_handle hh;
	const struct sym_mapping *mapping;
	uint32_t idx;
};

struct service_node {
	UT_hash_handle hh;
	uint32_t idx;
	char name[BATCH_SERVICE_MAX];
};

struct interval_batch_index {
	struct location_node *locations;
	struct object_lines_node *object_lines;
	struct mapping_node *mappings;
	struct service_node *services;
	size_t samples_cap, stack_cap, locations_cap, lines_cap, mappings_cap, services_cap;
};

int interval_batch_new(const struct interval_batch_opts *opts, struct interval_batch **out)
{
	batch_resolve_fn resolve = OPT(opts, resolve, NULL);
	batch_locate_fn locate = OPT(opts, locate, NULL);
	batch_resolve_object_fn resolve_object = OPT(opts, resolve_object, NULL);
	struct interval_batch *b;

	if (!opts || !OPTS_VALID(opts) || !resolve || !out || !locate != !resolve_object)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->index = calloc(1, sizeof(*b->index));
	if (!b->index) {
		free(b);
		return -ENOMEM;
	}
	b->opts = (struct interval_batch_opts){
		.sz = sizeof(b->opts), .resolve = resolve, .ctx = OPT(opts, ctx, NULL),
		.locate = locate, .resolve_object = resolve_object,
	};
	*out = b;
	return 0;
}

/* Frees the nodes of a table from its first, once HASH_CLEAR freed the
 * table itself: they keep their links, and each starts with its handle. */
static void free_nodes(void *first)
{
	while (first) {
		void *next = ((UT_hash_handle *)first)->next;

		free(first);
		first = next;
	}
}

void interval_batch_clear(struct interval_batch *b)
{
	struct interval_batch_index *ix = b->index;

	free(b->samples);
	free(b->stack);
	free(b->locations);
	free(b->lines);
	free(b->mappings);
	free(b->services);
	free(b->order);
	free(b->bucket);
	free(b->location_ids);
	free(b->mapping_ids);
	free(b->location_built);
	free(b->mapping_built);
	void *locations = ix->locations, *object_lines = ix->object_lines,
	     *mappings = ix->mappings, *services = ix->services;

	HASH_CLEAR(hh, ix->locations);
	HASH_CLEAR(hh, ix->object_lines);
	HASH_CLEAR(hh, ix->mappings);
	HASH_CLEAR(hh, ix->services);
	free_nodes(locations);
	free_nodes(object_lines);
	free_nodes(mappings);
	free_nodes(services);
	*ix = (struct interval_batch_index){ 0 };
	*b = (struct interval_batch){ .index = ix, .opts = b->opts };
}

void interval_batch_free(struct interval_batch *b)
{
	if (!b)
		return;
	interval_batch_clear(b);
	free(b->index);
	free(b);
}

/* The node of service (truncated as the batch keeps it), or NULL. */
static struct service_node *find_service(const struct interval_batch *b, const char *service,
					 char name[BATCH_SERVICE_MAX])
{
	struct service_node *n;

	snprintf(name, BATCH_SERVICE_MAX, "%s", service);
	HASH_FIND_STR(b->index->services, name, n);
	return n;
}

/* The index of service, added when new; -1 on ENOMEM. */
static int64_t service_index(struct interval_batch *b, const char *service)
{
	struct interval_batch_index *ix = b->index;
	char name[BATCH_SERVICE_MAX];
	struct service_node *n = find_service(b, service, name);

	if (n)
		return n->idx;
	if (array_reserve(&b->services, &ix->services_cap, b->nservices + 1, sizeof(*b->services)))
		return -1;
	n = malloc(sizeof(*n));
	if (!n)
		return -1;
	n->idx = (uint32_t)b->nservices;
	memcpy(n->name, name, sizeof(name));
	HASH_ADD_STR(ix->services, name, n);
	if (!n->hh.tbl) { /* out of memory inside uthash: not added */
		free(n);
		return -1;
	}
	memcpy(b->services[b->nservices], name, sizeof(name));
	return (int64_t)b->nservices++;
}

int64_t interval_batch_find_service(const struct interval_batch *b, const char *service)
{
	char name[BATCH_SERVICE_MAX];
	const struct service_node *n = find_service(b, service, name);

	return n ? (int64_t)n->idx : -1;
}

/* The mapping's index + 1 (0 for none); -1 on ENOMEM. */
static int64_t mapping_index(struct interval_batch *b, const struct sym_mapping *m)
{
	struct interval_batch_index *ix = b->index;
	struct mapping_node *n;

	if (!m)
		return 0;
	HASH_FIND_PTR(ix->mappings, &m, n);
	if (n)
		return n->idx + 1;
	if (array_reserve(&b->mappings, &ix->mappings_cap, b->nmappings + 1, sizeof(*b->mappings)))
		return -1;
	n = malloc(sizeof(*n));
	if (!n)
		return -1;
	n->mapping = m;
	n->idx = (uint32_t)b->nmappings;
	HASH_ADD_PTR(ix->mappings, mapping, n);
	if (!n->hh.tbl) { /* out of memory inside uthash: not added */
		free(n);
		return -1;
	}
	b->mappings[b->nmappings++] = m;
	return (int64_t)b->nmappings;
}

/* Indexes key as location b->nlocations, once the arrays have room for it. */
static int index_location(struct interval_batch *b, const struct location_key *key)
{
	struct location_node *n = malloc(sizeof(*n));

	if (!n)
		return -ENOMEM;
	memcpy(&n->key, key, sizeof(*key)); /* the padding too: the key is its bytes */
	n->idx = (uint32_t)b->nlocations;
	HASH_ADD(hh, b->index->locations, key, sizeof(*key), n);
	if (!n->hh.tbl) { /* out of memory inside uthash: not added */
		free(n);
		return -ENOMEM;
	}
	return 0;
}

/* The index of the location of key, or -1 when there is none. */
static int64_t find_location(const struct interval_batch *b, const struct location_key *key)
{
	struct location_node *n;

	HASH_FIND(hh, b->index->locations, key, sizeof(*key), n);
	return n ? (int64_t)n->idx : -1;
}

/* Appends loc's frames to the lines: lines[*first .. + loc->nframes). */
static int add_lines(struct interval_batch *b, const struct sym_location *loc, uint32_t *first)
{
	if (array_reserve(&b->lines, &b->index->lines_cap, b->nlines + (size_t)loc->nframes,
			  sizeof(*b->lines)))
		return -ENOMEM;
	if (loc->nframes) /* b->lines may still be NULL */
		memcpy(b->lines + b->nlines, loc->frames, (size_t)loc->nframes * sizeof(*loc->frames));
	*first = (uint32_t)b->nlines;
	b->nlines += (size_t)loc->nframes;
	return 0;
}

/* The lines of loc->object at loc->vaddr, resolved the first time an
 * address of the object is asked for (by any process): *first, *n. */
static int object_lines(struct interval_batch *b, struct sym_location *loc, uint32_t *first,
			uint32_t *n)
{
	struct object_lines_key key = { .object = loc->object, .vaddr = loc->vaddr };
	struct object_lines_node *node;

	HASH_FIND(hh, b->index->object_lines, &key, sizeof(key), node);
	if (!node) {
		b->opts.resolve_object(b->opts.ctx, loc);
		node = malloc(sizeof(*node));
		if (!node || add_lines(b, loc, &node->first)) {
			free(node);
			return -ENOMEM;
		}
		node->key = key;
		node->n = (uint32_t)loc->nframes;
		HASH_ADD(hh, b->index->object_lines, key, sizeof(key), node);
		if (!node->hh.tbl) { /* out of memory inside uthash: not added */
			free(node);
			return -ENOMEM;
		}
	}
	*first = node->first;
	*n = node->n;
	return 0;
}

/* Appends a location for key with what the resolver says of it. */
static int64_t add_location(struct interval_batch *b, const struct location_key *key,
			    const struct sym_vma *leaf)
{
	struct interval_batch_index *ix = b->index;
	bool user = key->pid != BATCH_KERNEL_PID && b->opts.locate && !key->interp;
	struct sym_location loc;
	uint32_t first, n;
	int64_t mapping;
	int err;

	if (key->interp) { /* named already: one line */
		loc = (struct sym_location){ .mapping = key->interp->mapping, .nframes = 1 };
		loc.frames[0] = (struct sym_frame){
			.function = key->interp->name,
			.system_name = key->interp->system_name,
			.file = key->interp->file,
			.line = (int)key->address,
			.start_line = key->interp->first_line,
		};
	} else if (user ? b->opts.locate(b->opts.ctx, key->pid, key->start_time, leaf, key->mapping,
				  key->address, &loc)
		 : b->opts.resolve(b->opts.ctx, key->pid, key->start_time, leaf, key->address,
				   &loc)) {
		loc.mapping = NULL; /* keep the bare address: pprof still shows it */
		loc.object = NULL;
		loc.nframes = 0;
	}
	mapping = mapping_index(b, loc.mapping);
	if (mapping < 0 ||
	    array_reserve(&b->locations, &ix->locations_cap, b->nlocations + 1,
			  sizeof(*b->locations)))
		return -ENOMEM;
	n = (uint32_t)loc.nframes;
	err = user && loc.object ? object_lines(b, &loc, &first, &n) : add_lines(b, &loc, &first);
	if (err || index_location(b, key))
		return -ENOMEM;
	b->locations[b->nlocations] = (struct batch_location){
		.mapping = (uint32_t)mapping,
		.address = key->interp ? 0 : key->address, /* pprof: by its lines */
		.first_line = first,
		.nlines = n,
	};
	return (int64_t)b->nlocations++;
}

/* The index of the location of addr (resolved when new), or -ENOMEM. */
static int64_t location_index(struct interval_batch *b, pid_t pid, uint64_t start_time,
			      const struct sym_vma *leaf, const struct sym_mapping *mapping,
			      const struct interp_function *interp, uint64_t addr)
{
	struct location_key key;
	int64_t i;

	memset(&key, 0, sizeof(key)); /* the key is its bytes: padding too */
	key.pid = pid;
	key.start_time = start_time;
	key.address = addr;
	key.mapping = mapping;
	key.interp = interp;
	if (!interp && leaf && leaf->ino && addr >= leaf->start && addr < leaf->end) {
		key.leaf_ino = leaf->ino;
		key.leaf_base = leaf->base;
		key.leaf_dev_major = leaf->dev_major;
		key.leaf_dev_minor = leaf->dev_minor;
	}
	i = find_location(b, &key);
	return i >= 0 ? i : add_location(b, &key, leaf);
}

/* The "[truncated]" root of stacks cut short: a location of no process. */
static int64_t truncated_index(struct interval_batch *b)
{
	static const struct location_key key = { .pid = 0 };
	int64_t i = find_location(b, &key);
	struct interval_batch_index *ix = b->index;

	if (i >= 0)
		return i;
	if (array_reserve(&b->locations, &ix->locations_cap, b->nlocations + 1,
		    sizeof(*b->locations)) ||
	    array_reserve(&b->lines, &ix->lines_cap, b->nlines + 1, sizeof(*b->lines)) ||
	    index_location(b, &key))
		return -ENOMEM;
	b->lines[b->nlines] = (struct sym_frame){ .function = "[truncated]" };
	b->locations[b->nlocations] = (struct batch_location){
		.first_line = (uint32_t)b->nlines++,
		.nlines = 1,
	};
	return (int64_t)b->nlocations++;
}

static int push_location(struct interval_batch *b, int64_t location)
{
	if (location < 0)
		return -ENOMEM;
	if (array_reserve(&b->stack, &b->index->stack_cap, b->nstack + 1, sizeof(*b->stack)))
		return -ENOMEM;
	b->stack[b->nstack++] = (uint32_t)location;
	return 0;
}

int interval_batch_add(struct interval_batch *b, const struct sample_key *key, uint64_t count,
		       const char *service, const uint64_t *kernel_ips, size_t nkernel,
		       const struct batch_frame *user, size_t nuser, bool truncated)
{
	const struct sym_vma leaf = sampled_vma(&key->leaf);
	size_t first = b->nstack;
	int64_t svc = service_index(b, service);
	int err = svc < 0 ? -ENOMEM : 0;

	for (size_t i = 0; i < nkernel && !err; i++)
		err = push_location(b, location_index(b, BATCH_KERNEL_PID, 0, NULL, NULL, NULL,
						      i == 0 ? kernel_ips[i] : kernel_ips[i] - 1));
	for (size_t i = 0; i < nuser && !err; i++)
		err = push_location(b, location_index(b, (pid_t)key->tgid, key->start_time, &leaf,
						      user[i].mapping, user[i].interp,
						      user[i].exact || user[i].interp ? user[i].pc
										      : user[i].pc - 1));
	if (!err && truncated)
		err = push_location(b, truncated_index(b));
	if (!err)
		err = array_reserve(&b->samples, &b->index->samples_cap, b->nsamples + 1,
			      sizeof(*b->samples));
	if (err) {
		b->nstack = first;
		return err;
	}
	b->samples[b->nsamples++] = (struct batch_sample){
		.key = *key,
		.count = count,
		.service = (uint32_t)svc,
		.first = (uint32_t)first,
		.depth = (uint32_t)(b->nstack - first),
	};
	return 0;
}

int interval_batch_seal(struct interval_batch *b)
{
	uint32_t *order, *bucket;

	/* Scratch for the builder: the stamps start at 0, builds at 1. */
	free(b->location_ids);
	free(b->mapping_ids);
	free(b->location_built);
	free(b->mapping_built);
	b->location_ids = calloc(b->nlocations + 1, sizeof(*b->location_ids));
	b->location_built = calloc(b->nlocations + 1, sizeof(*b->location_built));
	b->mapping_ids = calloc(b->nmappings + 1, sizeof(*b->mapping_ids));
	b->mapping_built = calloc(b->nmappings + 1, sizeof(*b->mapping_built));
	order = malloc((b->nsamples + 1) * sizeof(*order));
	bucket = calloc(b->nservices + 2, sizeof(*bucket));
	free(b->order);
	free(b->bucket);
	b->order = order;
	b->bucket = bucket;
	b->build = 0;
	if (!order || !bucket || !b->location_ids || !b->location_built || !b->mapping_ids ||
	    !b->mapping_built)
		return -ENOMEM;
	/* A counting sort: bucket[s + 1] counts, then starts, then ends. */
	for (size_t i = 0; i < b->nsamples; i++)
		bucket[b->samples[i].service + 2]++;
	for (size_t s = 2; s < b->nservices + 2; s++)
		bucket[s] += bucket[s - 1];
	for (size_t i = 0; i < b->nsamples; i++)
		order[bucket[b->samples[i].service + 1]++] = (uint32_t)i;
	return 0;
}

const struct sym_mapping *interval_batch_find_mapping(const struct interval_batch *b,
						      const char *path)
{
	const struct sym_mapping *best = NULL;

	for (size_t i = 0; i < b->nmappings; i++)
		if (!strcmp(b->mappings[i]->path, path) && (!best || b->mappings[i]->start < best->start))
			best = b->mappings[i];
	return best;
}
