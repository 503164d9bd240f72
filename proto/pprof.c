/* pprof.c - build a pprof Profile, encode it with protobuf-c and gzip it
 * with zlib (pprof_gzip.c). The API is documented in pprof.h; files are
 * written by profiler/export/atomic_file.c, not here.
 *
 * Design:
 *  - The builder keeps its own compact tables, one plain array each: strings,
 *    mappings, functions, locations, samples, plus three pools the variable
 *    parts live in (all Lines of all Locations, all location ids of all
 *    Samples, all Labels). A table index i is string index i or id i + 1, so
 *    ids are 1..N in table order by construction.
 *  - Deduplication: every deduplicated table has a uthash index (the
 *    project's one hash table, configured in CMakeLists.txt) of its entries'
 *    keys: strings by their bytes, records by their already-interned fields.
 *    The tables grow by realloc, so uthash cannot link their entries
 *    in place: each string's node holds the string itself; every other
 *    entry has one small node, a copy of its key and its table index. The
 *    nodes are carved from blocks the builder frees together (node_alloc),
 *    so adding an entry allocates nothing of its own.
 *  - Locations are looked up by (mapping_id, address) before their lines are
 *    even looked at, so the common case - a frame seen before - costs one
 *    hash lookup. The exception is the pseudo address 0: such locations
 *    (synthetic frames, e.g. a process name frame, without a mapping;
 *    interpreter frames, in their runtime's mapping) are deduplicated by
 *    their lines and mapping, so different ones stay different.
 *  - Validation happens before anything is added; on a failure halfway
 *    (out of memory) a table may keep a harmless unused entry, but never a
 *    half-added record.
 *  - Encoding builds the protobuf-c message graph on top of the tables (the
 *    string table is shared as is), packs it, frees the graph and gzips the
 *    bytes. The builder stays usable afterwards.
 */
#include "pprof.h"
#include "pprof_gzip.h"
#include "pprof_log.h"

#include "profile.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

/* The fields up to has_functions are the key (no padding among them). */
struct map_rec {
	uint64_t start, limit, file_offset;
	int64_t filename, build_id; /* string indices */
	bool has_functions, has_filenames, has_line_numbers, has_inline_frames;
};

struct fn_rec {
	int64_t name, system_name, filename, start_line; /* start_line: a number */
};

struct line_rec {
	uint64_t function_id;
	int64_t line;
};

/* mapping_id and address are the key; a pseudo location's is its lines. */
struct loc_rec {
	uint64_t mapping_id, address;
	size_t line_off, nlines; /* in b->lines */
};

struct label_rec {
	int64_t key, str, num; /* str == 0: numeric label */
};

struct sample_rec {
	size_t loc_off, nlocs;     /* in b->sample_locs */
	size_t label_off, nlabels; /* in b->labels */
	int64_t value[2];          /* [count, count * period] */
};

/* A string_table entry: strings[i] is its s. */
struct str_node {
	UT_hash_handle hh;
	uint32_t idx;
	char s[];
};

/* The index entry of a record: a copy of its key, its table index. */
struct ix_node {
	UT_hash_handle hh;
	uint32_t idx;
	unsigned char key[];
};

/* Where the nodes live: blocks that double, freed with the builder. */
struct node_block {
	struct node_block *next;
	size_t used, cap;
	_Alignas(UT_hash_handle) unsigned char mem[];
};

struct pprof_builder {
	struct node_block *blocks;
	int64_t period_ns, time_nanos, duration_nanos;
	int64_t s_samples, s_count, s_cpu, s_nanoseconds; /* string indices */

	char **strings;
	size_t nstrings, strings_cap;
	struct str_node *string_index;

	struct map_rec *mappings;
	size_t nmappings, mappings_cap;
	struct ix_node *mapping_index;

	struct fn_rec *functions;
	size_t nfunctions, functions_cap;
	struct ix_node *function_index;

	struct loc_rec *locations;
	size_t nlocations, locations_cap;
	struct ix_node *location_index, *pseudo_index; /* pseudo: by lines */

	struct sample_rec *samples;
	size_t nsamples, samples_cap;
	struct ix_node *sample_index; /* by locations and labels: aggregation */
	unsigned char *sample_key; /* scratch: a sample's locations, then labels */
	size_t sample_key_cap;

	struct line_rec *lines; /* pool: lines of all locations */
	size_t nlines, lines_cap;
	uint64_t *sample_locs; /* pool: location ids of all samples */
	size_t nsample_locs, sample_locs_cap;
	struct label_rec *labels; /* pool: labels of all samples */
	size_t nlabels, labels_cap;
};

/* Make room for `need` elements in the array whose address is parr (any
 * T **), capacity *cap, element size elem. 0 or -ENOMEM. */
static int reserve(void *parr, size_t *cap, size_t need, size_t elem)
{
	void *arr;
	size_t ncap = *cap ? *cap : 16;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / elem)
		return -ENOMEM;
	memcpy(&arr, parr, sizeof(arr));
	arr = realloc(arr, ncap * elem);
	if (!arr)
		return -ENOMEM;
	memcpy(parr, &arr, sizeof(arr));
	*cap = ncap;
	return 0;
}

/* ---- the indexes ---- */

#define NODE_BLOCK_MIN 4096
#define NODE_BLOCK_MAX (1u << 20)

/* size bytes for a node, aligned for its hash handle; NULL without memory.
 * A node is never freed alone (an add that fails leaves its bytes unused). */
static void *node_alloc(struct pprof_builder *b, size_t size)
{
	struct node_block *blk = b->blocks;
	void *p;

	size = (size + _Alignof(UT_hash_handle) - 1) & ~(_Alignof(UT_hash_handle) - 1);
	if (!blk || blk->cap - blk->used < size) {
		size_t cap = blk && blk->cap < NODE_BLOCK_MAX ? 2 * blk->cap : NODE_BLOCK_MIN;

		if (cap < size)
			cap = size;
		blk = malloc(sizeof(*blk) + cap);
		if (!blk)
			return NULL;
		blk->next = b->blocks;
		blk->used = 0;
		blk->cap = cap;
		b->blocks = blk;
	}
	p = blk->mem + blk->used;
	blk->used += size;
	return p;
}

/* A key being looked up, hashed once for the lookup and the add after it. */
struct ix_key {
	const void *p;
	size_t len;
	unsigned hash;
};

static struct ix_key ix_key(const void *p, size_t len)
{
	struct ix_key k = { len ? p : "", len, 0 }; /* p may be NULL when len is 0 */

	HASH_VALUE(k.p, len, k.hash);
	return k;
}

/* The table index of the entry whose key is k, or -1. */
static int64_t ix_find(struct ix_node *index, const struct ix_key *k)
{
	struct ix_node *n;

	HASH_FIND_BYHASHVALUE(hh, index, k->p, k->len, k->hash, n);
	return n ? (int64_t)n->idx : -1;
}

/* Index table entry idx under k. 0, -ENOMEM or -E2BIG. */
static int ix_add(struct pprof_builder *b, struct ix_node **index, const struct ix_key *k,
		  size_t idx)
{
	struct ix_node *n;

	if (idx >= UINT32_MAX || k->len > UINT32_MAX - sizeof(*n))
		return -E2BIG;
	n = node_alloc(b, sizeof(*n) + k->len);
	if (!n)
		return -ENOMEM;
	n->idx = (uint32_t)idx;
	memcpy(n->key, k->p, k->len);
	HASH_ADD_KEYPTR_BYHASHVALUE(hh, *index, n->key, k->len, k->hash, n);
	return n->hh.tbl ? 0 : -ENOMEM; /* NULL: out of memory inside uthash, not added */
}

/* Append rec to a deduplicated table, indexed under k (its first bytes).
 * Returns the new id (index + 1) or a negative errno. */
static int64_t table_add(struct pprof_builder *b, void *parr, size_t *n, size_t *cap,
			 size_t elem, struct ix_node **index, const struct ix_key *k,
			 const void *rec)
{
	char *arr;
	int err = reserve(parr, cap, *n + 1, elem);

	if (!err)
		err = ix_add(b, index, k, *n);
	if (err)
		return err;
	memcpy(&arr, parr, sizeof(arr));
	memcpy(arr + *n * elem, rec, elem);
	return (int64_t)++*n;
}

/* ---- strings ---- */

/* A new string_table entry holding s[0, len). 0 or -ENOMEM. */
static int str_append(struct pprof_builder *b, const char *s, size_t len,
		      struct str_node **out)
{
	struct str_node *n;

	if (reserve(&b->strings, &b->strings_cap, b->nstrings + 1, sizeof(*b->strings)))
		return -ENOMEM;
	n = node_alloc(b, sizeof(*n) + len + 1);
	if (!n)
		return -ENOMEM;
	n->idx = (uint32_t)b->nstrings;
	memcpy(n->s, s, len);
	n->s[len] = '\0';
	b->strings[b->nstrings] = n->s;
	*out = n;
	return 0;
}

/* The string_table index of s (NULL and "" are 0) or a negative errno. */
static int64_t intern(struct pprof_builder *b, const char *s)
{
	struct str_node *n;
	unsigned hash;

	if (!s || !*s)
		return 0;
	size_t len = strlen(s);
	if (len > UINT32_MAX || b->nstrings >= UINT32_MAX)
		return -E2BIG;
	HASH_VALUE(s, len, hash);
	HASH_FIND_BYHASHVALUE(hh, b->string_index, s, len, hash, n);
	if (n)
		return n->idx;
	if (str_append(b, s, len, &n))
		return -ENOMEM;
	HASH_ADD_KEYPTR_BYHASHVALUE(hh, b->string_index, n->s, len, hash, n);
	if (!n->hh.tbl) /* out of memory inside uthash: not added */
		return -ENOMEM;
	return (int64_t)b->nstrings++;
}

/* ---- builder ---- */

static int check_info(const struct pprof_profile_info *info)
{
	if (!info) {
		pprof_log("builder: info is NULL (period_ns is required)");
		return -EINVAL;
	}
	if (info->period_ns <= 0 || info->time_nanos < 0 || info->duration_nanos < 0) {
		pprof_log("builder: period_ns must be > 0, time_nanos and duration_nanos >= 0");
		return -EINVAL;
	}
	return 0;
}

int pprof_builder_new(const struct pprof_profile_info *info,
		      struct pprof_builder **out)
{
	struct pprof_builder *b;
	int err;

	if (!out) {
		pprof_log("builder: out is NULL");
		return -EINVAL;
	}
	*out = NULL;
	err = check_info(info);
	if (err)
		return err;

	b = calloc(1, sizeof(*b));
	if (!b)
		goto nomem;
	b->period_ns = info->period_ns;
	b->time_nanos = info->time_nanos;
	b->duration_nanos = info->duration_nanos;

	/* string_table[0] is "" (not in the index: intern() maps "" to 0) */
	struct str_node *empty;
	if (str_append(b, "", 0, &empty))
		goto nomem;
	b->nstrings = 1;

	b->s_samples = intern(b, "samples");
	b->s_count = intern(b, "count");
	b->s_cpu = intern(b, "cpu");
	b->s_nanoseconds = intern(b, "nanoseconds");
	if (b->s_samples < 0 || b->s_count < 0 || b->s_cpu < 0 ||
	    b->s_nanoseconds < 0)
		goto nomem;
	*out = b;
	return 0;
nomem:
	pprof_log("builder: %s", strerror(ENOMEM));
	pprof_builder_free(b);
	return -ENOMEM;
}

void pprof_builder_free(struct pprof_builder *b)
{
	if (!b)
		return;
	HASH_CLEAR(hh, b->string_index);
	HASH_CLEAR(hh, b->mapping_index);
	HASH_CLEAR(hh, b->function_index);
	HASH_CLEAR(hh, b->location_index);
	HASH_CLEAR(hh, b->pseudo_index);
	HASH_CLEAR(hh, b->sample_index);
	while (b->blocks) { /* the nodes, strings among them */
		struct node_block *next = b->blocks->next;

		free(b->blocks);
		b->blocks = next;
	}
	free(b->strings);
	free(b->mappings);
	free(b->functions);
	free(b->locations);
	free(b->sample_key);
	free(b->samples);
	free(b->lines);
	free(b->sample_locs);
	free(b->labels);
	free(b);
}

/* ---- mappings ---- */

#define MAP_KEY_LEN offsetof(struct map_rec, has_functions)

int64_t pprof_add_mapping(struct pprof_builder *b,
			  const struct pprof_mapping_info *m)
{
	int64_t id;

	if (!b || !m || !m->filename) {
		pprof_log("add mapping: builder, mapping and filename are required");
		return -EINVAL;
	}
	if (m->limit < m->start) {
		pprof_log("add mapping %s: limit %#llx is below start %#llx", m->filename,
		          (unsigned long long)m->limit, (unsigned long long)m->start);
		return -EINVAL;
	}

	struct map_rec rec = {
		.start = m->start,
		.limit = m->limit,
		.file_offset = m->file_offset,
		.filename = intern(b, m->filename),
		.build_id = intern(b, m->build_id),
		.has_functions = m->has_functions,
		.has_filenames = m->has_filenames,
		.has_line_numbers = m->has_line_numbers,
		.has_inline_frames = m->has_inline_frames,
	};
	if (rec.filename < 0 || rec.build_id < 0) {
		id = rec.filename < 0 ? rec.filename : rec.build_id;
		goto fail;
	}
	struct ix_key k = ix_key(&rec, MAP_KEY_LEN);
	id = ix_find(b->mapping_index, &k);
	if (id >= 0)
		return id + 1;
	id = table_add(b, &b->mappings, &b->nmappings, &b->mappings_cap,
		       sizeof(rec), &b->mapping_index, &k, &rec);
	if (id > 0)
		return id;
fail:
	pprof_log("add mapping %s: %s", m->filename, strerror((int)-id));
	return id;
}

/* ---- functions ---- */

/* The function id of one line's function, or a negative errno. */
static int64_t add_function(struct pprof_builder *b, const struct pprof_line *l)
{
	struct fn_rec rec = {
		.name = intern(b, l->function),
		.system_name = intern(b, l->system_name ? l->system_name
							: l->function),
		.filename = intern(b, l->filename),
		.start_line = l->start_line,
	};
	if (rec.name < 0)
		return rec.name;
	if (rec.system_name < 0)
		return rec.system_name;
	if (rec.filename < 0)
		return rec.filename;

	struct ix_key k = ix_key(&rec, sizeof(rec)); /* all of it: the key */
	int64_t i = ix_find(b->function_index, &k);
	if (i >= 0)
		return i + 1;
	return table_add(b, &b->functions, &b->nfunctions, &b->functions_cap,
			 sizeof(rec), &b->function_index, &k, &rec);
}

/* ---- locations ---- */

/* Locations at address 0 are synthetic or interpreter frames: they are
 * told apart by their lines (see the design note at the top). */
static bool is_pseudo(const struct loc_rec *l)
{
	return l->address == 0;
}

#define LOC_KEY_LEN offsetof(struct loc_rec, line_off)

int64_t pprof_add_location(struct pprof_builder *b, uint64_t mapping_id,
			   uint64_t address, const struct pprof_line *lines,
			   size_t nlines)
{
	struct loc_rec rec = { .mapping_id = mapping_id, .address = address };
	struct ix_key k = ix_key(&rec, LOC_KEY_LEN); /* a pseudo one's: its lines */
	int64_t id;
	int err;

	if (!b || (nlines && !lines)) {
		pprof_log("add location %#llx: builder and lines are required",
		          (unsigned long long)address);
		return -EINVAL;
	}
	if (mapping_id > b->nmappings) {
		pprof_log("add location %#llx: no mapping with id %llu",
		          (unsigned long long)address, (unsigned long long)mapping_id);
		return -EINVAL;
	}
	for (size_t i = 0; i < nlines; i++) {
		if (!lines[i].function) {
			pprof_log("add location %#llx: line %zu has no function name",
			          (unsigned long long)address, i);
			return -EINVAL;
		}
	}

	if (!is_pseudo(&rec)) {
		id = ix_find(b->location_index, &k);
		if (id >= 0)
			return id + 1;
	}

	/* Write the lines after the end of the pool; they become part of it
	 * only when the location is added. */
	err = reserve(&b->lines, &b->lines_cap, b->nlines + nlines,
		      sizeof(*b->lines));
	if (err) {
		id = err;
		goto fail;
	}
	rec.line_off = b->nlines;
	rec.nlines = nlines;
	for (size_t i = 0; i < nlines; i++) {
		id = add_function(b, &lines[i]);
		if (id < 0)
			goto fail;
		b->lines[b->nlines + i] = (struct line_rec){
			.function_id = (uint64_t)id,
			.line = lines[i].line,
		};
	}

	if (is_pseudo(&rec)) {
		k = ix_key(&b->lines[b->nlines], nlines * sizeof(*b->lines));
		id = ix_find(b->pseudo_index, &k);
		if (id >= 0 && b->locations[id].mapping_id == mapping_id)
			return id + 1;
		/* the same lines in another mapping: a location of its own,
		 * not indexed (the index keeps the first) */
		bool index = id < 0;

		id = reserve(&b->locations, &b->locations_cap, b->nlocations + 1,
			     sizeof(rec));
		if (!id && index)
			id = ix_add(b, &b->pseudo_index, &k, b->nlocations);
		if (!id) {
			b->locations[b->nlocations] = rec;
			id = (int64_t)++b->nlocations;
		}
	} else {
		id = table_add(b, &b->locations, &b->nlocations, &b->locations_cap,
			       sizeof(rec), &b->location_index, &k, &rec);
	}
	if (id > 0) {
		b->nlines += nlines;
		return id;
	}
fail:
	pprof_log("add location %#llx: %s", (unsigned long long)address,
	          strerror((int)-id));
	return id;
}

/* ---- samples ---- */

/* The key of the sample being added, whose location ids and labels are
 * already in the pools past their used ends, in b->sample_key: the number
 * of locations, the location ids, the labels. Its length, or -ENOMEM. */
static int64_t sample_key(struct pprof_builder *b, size_t nlocs, size_t nlabels)
{
	size_t locs = nlocs * sizeof(*b->sample_locs), len = sizeof(uint64_t) + locs;
	uint64_t n = nlocs;

	if (nlabels > (SIZE_MAX - len) / sizeof(*b->labels))
		return -ENOMEM;
	len += nlabels * sizeof(*b->labels);
	if (reserve(&b->sample_key, &b->sample_key_cap, len, 1))
		return -ENOMEM;
	memcpy(b->sample_key, &n, sizeof(n));
	if (nlocs) /* with none, the pools may still be NULL */
		memcpy(b->sample_key + sizeof(n), &b->sample_locs[b->nsample_locs], locs);
	if (nlabels)
		memcpy(b->sample_key + sizeof(n) + locs, &b->labels[b->nlabels],
		       len - sizeof(n) - locs);
	return (int64_t)len;
}

/* Adds value to the sample whose key is k when there is one: 1, else 0. */
static int aggregate(struct pprof_builder *b, const struct ix_key *k, const int64_t value[2])
{
	int64_t idx = ix_find(b->sample_index, k);
	int64_t *v;

	if (idx < 0)
		return 0;
	v = b->samples[idx].value;
	if (__builtin_add_overflow(v[0], value[0], &v[0]) ||
	    __builtin_add_overflow(v[1], value[1], &v[1]))
		return -EOVERFLOW;
	return 1;
}

int pprof_add_sample(struct pprof_builder *b, const uint64_t *location_ids,
		     size_t nlocations, int64_t count,
		     const struct pprof_label *labels, size_t nlabels)
{
	struct sample_rec rec = { .value = { count } };
	int64_t keylen;
	int err;

	if (!b || (nlocations && !location_ids) || (nlabels && !labels)) {
		pprof_log("add sample: builder, location ids and labels are required");
		return -EINVAL;
	}
	if (count <= 0) {
		pprof_log("add sample: count %lld is not positive", (long long)count);
		return -EINVAL;
	}
	if (__builtin_mul_overflow(count, b->period_ns, &rec.value[1])) {
		pprof_log("add sample: count %lld * period %lld overflows",
		          (long long)count, (long long)b->period_ns);
		return -EOVERFLOW;
	}
	for (size_t i = 0; i < nlocations; i++) {
		if (location_ids[i] == 0 || location_ids[i] > b->nlocations) {
			pprof_log("add sample: no location with id %llu",
			          (unsigned long long)location_ids[i]);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < nlabels; i++) {
		if (!labels[i].key || !*labels[i].key) {
			pprof_log("add sample: label %zu has no key", i);
			return -EINVAL;
		}
	}

	err = reserve(&b->samples, &b->samples_cap, b->nsamples + 1,
		      sizeof(*b->samples));
	if (!err)
		err = reserve(&b->sample_locs, &b->sample_locs_cap,
			      b->nsample_locs + nlocations,
			      sizeof(*b->sample_locs));
	if (!err)
		err = reserve(&b->labels, &b->labels_cap, b->nlabels + nlabels,
			      sizeof(*b->labels));
	for (size_t i = 0; !err && i < nlabels; i++) {
		struct label_rec *l = &b->labels[b->nlabels + i];
		int64_t key = intern(b, labels[i].key);
		int64_t str = intern(b, labels[i].str);

		if (key < 0 || str < 0) {
			err = (int)(key < 0 ? key : str);
			break;
		}
		*l = (struct label_rec){
			.key = key,
			.str = str,
			.num = labels[i].str ? 0 : labels[i].num,
		};
	}
	if (!err && nlocations)
		memcpy(&b->sample_locs[b->nsample_locs], location_ids,
		       nlocations * sizeof(*location_ids));
	if (!err) {
		keylen = sample_key(b, nlocations, nlabels);
		if (keylen < 0) {
			err = (int)keylen;
		} else {
			struct ix_key k = ix_key(b->sample_key, (size_t)keylen);

			err = aggregate(b, &k, rec.value);
			if (err > 0)
				return 0; /* counted in an equal sample: the pools' tails are reused */
			if (!err)
				err = ix_add(b, &b->sample_index, &k, b->nsamples);
		}
	}
	if (err) {
		pprof_log("add sample: %s", strerror(-err));
		return err;
	}
	rec.loc_off = b->nsample_locs;
	rec.nlocs = nlocations;
	rec.label_off = b->nlabels;
	rec.nlabels = nlabels;
	b->samples[b->nsamples++] = rec;
	b->nsample_locs += nlocations;
	b->nlabels += nlabels;
	return 0;
}

/* ---- encoding ---- */

/* calloc that never returns NULL for n == 0 on success */
static void *alloc_array(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

/* The protobuf-c view of the builder: arrays of messages and the arrays of
 * pointers to them that protobuf-c wants for repeated message fields. */
struct pb_view {
	Perftools__Profiles__Mapping *maps, **map_ptrs;
	Perftools__Profiles__Function *fns, **fn_ptrs;
	Perftools__Profiles__Location *locs, **loc_ptrs;
	Perftools__Profiles__Line *lines, **line_ptrs;
	Perftools__Profiles__Sample *samples, **sample_ptrs;
	Perftools__Profiles__Label *labels, **label_ptrs;
};

static void pb_view_free(struct pb_view *v)
{
	free(v->maps);
	free(v->map_ptrs);
	free(v->fns);
	free(v->fn_ptrs);
	free(v->locs);
	free(v->loc_ptrs);
	free(v->lines);
	free(v->line_ptrs);
	free(v->samples);
	free(v->sample_ptrs);
	free(v->labels);
	free(v->label_ptrs);
}

static int pb_view_fill(struct pprof_builder *b, struct pb_view *v)
{
	v->maps = alloc_array(b->nmappings, sizeof(*v->maps));
	v->map_ptrs = alloc_array(b->nmappings, sizeof(*v->map_ptrs));
	v->fns = alloc_array(b->nfunctions, sizeof(*v->fns));
	v->fn_ptrs = alloc_array(b->nfunctions, sizeof(*v->fn_ptrs));
	v->locs = alloc_array(b->nlocations, sizeof(*v->locs));
	v->loc_ptrs = alloc_array(b->nlocations, sizeof(*v->loc_ptrs));
	v->lines = alloc_array(b->nlines, sizeof(*v->lines));
	v->line_ptrs = alloc_array(b->nlines, sizeof(*v->line_ptrs));
	v->samples = alloc_array(b->nsamples, sizeof(*v->samples));
	v->sample_ptrs = alloc_array(b->nsamples, sizeof(*v->sample_ptrs));
	v->labels = alloc_array(b->nlabels, sizeof(*v->labels));
	v->label_ptrs = alloc_array(b->nlabels, sizeof(*v->label_ptrs));
	if (!v->maps || !v->map_ptrs || !v->fns || !v->fn_ptrs || !v->locs ||
	    !v->loc_ptrs || !v->lines || !v->line_ptrs || !v->samples ||
	    !v->sample_ptrs || !v->labels || !v->label_ptrs)
		return -ENOMEM;

	for (size_t i = 0; i < b->nmappings; i++) {
		const struct map_rec *r = &b->mappings[i];
		Perftools__Profiles__Mapping *m = &v->maps[i];

		perftools__profiles__mapping__init(m);
		m->id = i + 1;
		m->memory_start = r->start;
		m->memory_limit = r->limit;
		m->file_offset = r->file_offset;
		m->filename = r->filename;
		m->build_id = r->build_id;
		m->has_functions = r->has_functions;
		m->has_filenames = r->has_filenames;
		m->has_line_numbers = r->has_line_numbers;
		m->has_inline_frames = r->has_inline_frames;
		v->map_ptrs[i] = m;
	}
	for (size_t i = 0; i < b->nfunctions; i++) {
		const struct fn_rec *r = &b->functions[i];
		Perftools__Profiles__Function *f = &v->fns[i];

		perftools__profiles__function__init(f);
		f->id = i + 1;
		f->name = r->name;
		f->system_name = r->system_name;
		f->filename = r->filename;
		f->start_line = r->start_line;
		v->fn_ptrs[i] = f;
	}
	for (size_t i = 0; i < b->nlines; i++) {
		Perftools__Profiles__Line *l = &v->lines[i];

		perftools__profiles__line__init(l);
		l->function_id = b->lines[i].function_id;
		l->line = b->lines[i].line;
		v->line_ptrs[i] = l;
	}
	for (size_t i = 0; i < b->nlocations; i++) {
		const struct loc_rec *r = &b->locations[i];
		Perftools__Profiles__Location *l = &v->locs[i];

		perftools__profiles__location__init(l);
		l->id = i + 1;
		l->mapping_id = r->mapping_id;
		l->address = r->address;
		l->n_line = r->nlines;
		l->line = r->nlines ? &v->line_ptrs[r->line_off] : NULL;
		v->loc_ptrs[i] = l;
	}
	for (size_t i = 0; i < b->nlabels; i++) {
		Perftools__Profiles__Label *l = &v->labels[i];

		perftools__profiles__label__init(l);
		l->key = b->labels[i].key;
		l->str = b->labels[i].str;
		l->num = b->labels[i].num;
		v->label_ptrs[i] = l;
	}
	for (size_t i = 0; i < b->nsamples; i++) {
		struct sample_rec *r = &b->samples[i];
		Perftools__Profiles__Sample *s = &v->samples[i];

		perftools__profiles__sample__init(s);
		s->n_location_id = r->nlocs;
		s->location_id = r->nlocs ? &b->sample_locs[r->loc_off] : NULL;
		s->n_value = 2;
		s->value = r->value;
		s->n_label = r->nlabels;
		s->label = r->nlabels ? &v->label_ptrs[r->label_off] : NULL;
		v->sample_ptrs[i] = s;
	}
	return 0;
}

/* The serialized (not yet gzipped) Profile in a malloc'ed buffer. */
static int encode_raw(struct pprof_builder *b, uint8_t **out, size_t *out_len)
{
	Perftools__Profiles__Profile p;
	Perftools__Profiles__ValueType st[2], pt;
	Perftools__Profiles__ValueType *st_ptrs[2] = { &st[0], &st[1] };
	struct pb_view v = { 0 };
	uint8_t *buf = NULL;
	size_t len;
	int err;

	err = pb_view_fill(b, &v);
	if (err)
		goto out;

	perftools__profiles__value_type__init(&st[0]);
	st[0].type = b->s_samples;
	st[0].unit = b->s_count;
	perftools__profiles__value_type__init(&st[1]);
	st[1].type = b->s_cpu;
	st[1].unit = b->s_nanoseconds;
	perftools__profiles__value_type__init(&pt);
	pt.type = b->s_cpu;
	pt.unit = b->s_nanoseconds;

	perftools__profiles__profile__init(&p);
	p.n_sample_type = 2;
	p.sample_type = st_ptrs;
	p.n_sample = b->nsamples;
	p.sample = v.sample_ptrs;
	p.n_mapping = b->nmappings;
	p.mapping = v.map_ptrs;
	p.n_location = b->nlocations;
	p.location = v.loc_ptrs;
	p.n_function = b->nfunctions;
	p.function = v.fn_ptrs;
	p.n_string_table = b->nstrings;
	p.string_table = b->strings;
	p.time_nanos = b->time_nanos;
	p.duration_nanos = b->duration_nanos;
	p.period_type = &pt;
	p.period = b->period_ns;

	len = perftools__profiles__profile__get_packed_size(&p);
	buf = malloc(len ? len : 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	if (perftools__profiles__profile__pack(&p, buf) != len) {
		pprof_log("encode: protobuf-c packed a different size than it computed");
		free(buf);
		err = -EIO;
		goto out;
	}
	*out = buf;
	*out_len = len;
out:
	pb_view_free(&v);
	if (err == -ENOMEM)
		pprof_log("encode: %s", strerror(ENOMEM));
	return err;
}

size_t pprof_builder_sample_count(const struct pprof_builder *b)
{
	return b->nsamples;
}

int pprof_builder_encode_gz(struct pprof_builder *b, struct pprof_gzip *gz, uint8_t **out,
			    size_t *out_len, size_t *raw_len)
{
	uint8_t *raw = NULL;
	size_t len = 0;
	int err;

	if (!b || !out || !out_len) {
		pprof_log("encode: builder, out and out_len are required");
		return -EINVAL;
	}
	*out = NULL;
	*out_len = 0;
	err = encode_raw(b, &raw, &len);
	if (!err)
		err = pprof_gzip_bytes(gz, raw, len, out, out_len);
	if (!err && raw_len)
		*raw_len = len;
	free(raw);
	return err;
}
