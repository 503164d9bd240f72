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
 *  - Deduplication: every deduplicated table has a pp_htab (htab.h), an
 *    open-addressing index keyed by an FNV-1a hash of the entry's fields
 *    (strings by their bytes, records by their already-interned fields).
 *  - Locations are looked up by (mapping_id, address) before their lines are
 *    even looked at, so the common case - a frame seen before - costs one
 *    hash lookup. The exception is the pseudo address 0 without a mapping:
 *    such locations are deduplicated by their lines as well, so different
 *    synthetic frames (e.g. a process name frame) stay different.
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

#include "htab.h"
#include "profile.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


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

struct pprof_builder {
	int64_t period_ns, time_nanos, duration_nanos;
	int64_t s_samples, s_count, s_cpu, s_nanoseconds; /* string indices */

	char **strings;
	size_t nstrings, strings_cap;
	struct pp_htab string_index;

	struct map_rec *mappings;
	size_t nmappings, mappings_cap;
	struct pp_htab mapping_index;

	struct fn_rec *functions;
	size_t nfunctions, functions_cap;
	struct pp_htab function_index;

	struct loc_rec *locations;
	size_t nlocations, locations_cap;
	struct pp_htab location_index;

	struct sample_rec *samples;
	size_t nsamples, samples_cap;
	struct pp_htab sample_index; /* by locations and labels: aggregation */

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

/* Append rec to a deduplicated table and index it under hash h.
 * Returns the new id (index + 1) or a negative errno. */
static int64_t table_add(void *parr, size_t *n, size_t *cap, size_t elem,
			 struct pp_htab *index, uint32_t h, const void *rec)
{
	char *arr;
	int err = reserve(parr, cap, *n + 1, elem);

	if (!err)
		err = pp_htab_insert(index, h, (uint32_t)*n);
	if (err)
		return err;
	memcpy(&arr, parr, sizeof(arr));
	memcpy(arr + *n * elem, rec, elem);
	return (int64_t)++*n;
}

/* ---- strings ---- */

static bool string_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct pprof_builder *b = ctx;

	return strcmp(b->strings[idx], key) == 0;
}

/* The string_table index of s (NULL and "" are 0) or a negative errno. */
static int64_t intern(struct pprof_builder *b, const char *s)
{
	if (!s || !*s)
		return 0;
	size_t len = strlen(s);
	uint32_t h = pp_hash32(pp_fnv1a(PP_FNV_INIT, s, len));
	int64_t i = pp_htab_find(&b->string_index, h, string_eq, b, s);
	if (i >= 0)
		return i;

	char *copy = malloc(len + 1);
	int err = copy ? reserve(&b->strings, &b->strings_cap, b->nstrings + 1,
				 sizeof(*b->strings))
		       : -ENOMEM;
	if (!err)
		err = pp_htab_insert(&b->string_index, h, (uint32_t)b->nstrings);
	if (err) {
		free(copy);
		return err;
	}
	memcpy(copy, s, len + 1);
	b->strings[b->nstrings] = copy;
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
	if (reserve(&b->strings, &b->strings_cap, 1, sizeof(*b->strings)))
		goto nomem;
	b->strings[0] = strdup("");
	if (!b->strings[0])
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
	for (size_t i = 0; i < b->nstrings; i++)
		free(b->strings[i]);
	free(b->strings);
	pp_htab_free(&b->string_index);
	free(b->mappings);
	pp_htab_free(&b->mapping_index);
	free(b->functions);
	pp_htab_free(&b->function_index);
	free(b->locations);
	pp_htab_free(&b->location_index);
	pp_htab_free(&b->sample_index);
	free(b->samples);
	free(b->lines);
	free(b->sample_locs);
	free(b->labels);
	free(b);
}

/* ---- mappings ---- */

static uint32_t mapping_hash(const struct map_rec *m)
{
	uint64_t h = PP_FNV_INIT;

	h = pp_fnv1a_u64(h, m->start);
	h = pp_fnv1a_u64(h, m->limit);
	h = pp_fnv1a_u64(h, m->file_offset);
	h = pp_fnv1a_u64(h, (uint64_t)m->filename);
	h = pp_fnv1a_u64(h, (uint64_t)m->build_id);
	return pp_hash32(h);
}

static bool mapping_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct map_rec *a = &((const struct pprof_builder *)ctx)->mappings[idx];
	const struct map_rec *k = key;

	return a->start == k->start && a->limit == k->limit &&
	       a->file_offset == k->file_offset && a->filename == k->filename &&
	       a->build_id == k->build_id;
}

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
	uint32_t h = mapping_hash(&rec);
	id = pp_htab_find(&b->mapping_index, h, mapping_eq, b, &rec);
	if (id >= 0)
		return id + 1;
	id = table_add(&b->mappings, &b->nmappings, &b->mappings_cap,
		       sizeof(rec), &b->mapping_index, h, &rec);
	if (id > 0)
		return id;
fail:
	pprof_log("add mapping %s: %s", m->filename, strerror((int)-id));
	return id;
}

/* ---- functions ---- */

static uint32_t function_hash(const struct fn_rec *f)
{
	uint64_t h = PP_FNV_INIT;

	h = pp_fnv1a_u64(h, (uint64_t)f->name);
	h = pp_fnv1a_u64(h, (uint64_t)f->system_name);
	h = pp_fnv1a_u64(h, (uint64_t)f->filename);
	h = pp_fnv1a_u64(h, (uint64_t)f->start_line);
	return pp_hash32(h);
}

static bool function_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct fn_rec *a = &((const struct pprof_builder *)ctx)->functions[idx];
	const struct fn_rec *k = key;

	return a->name == k->name && a->system_name == k->system_name &&
	       a->filename == k->filename && a->start_line == k->start_line;
}

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

	uint32_t h = function_hash(&rec);
	int64_t i = pp_htab_find(&b->function_index, h, function_eq, b, &rec);
	if (i >= 0)
		return i + 1;
	return table_add(&b->functions, &b->nfunctions, &b->functions_cap,
			 sizeof(rec), &b->function_index, h, &rec);
}

/* ---- locations ---- */

/* Locations at address 0 without a mapping are synthetic frames: they are
 * told apart by their lines (see the design note at the top). */
static bool is_pseudo(const struct loc_rec *l)
{
	return l->mapping_id == 0 && l->address == 0;
}

static uint32_t location_hash(const struct pprof_builder *b,
			      const struct loc_rec *l)
{
	uint64_t h = PP_FNV_INIT;

	h = pp_fnv1a_u64(h, l->mapping_id);
	h = pp_fnv1a_u64(h, l->address);
	if (is_pseudo(l)) {
		for (size_t i = 0; i < l->nlines; i++) {
			h = pp_fnv1a_u64(h, b->lines[l->line_off + i].function_id);
			h = pp_fnv1a_u64(h, (uint64_t)b->lines[l->line_off + i].line);
		}
	}
	return pp_hash32(h);
}

static bool location_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct pprof_builder *b = ctx;
	const struct loc_rec *a = &b->locations[idx];
	const struct loc_rec *k = key;

	if (a->mapping_id != k->mapping_id || a->address != k->address)
		return false;
	if (!is_pseudo(k))
		return true;
	if (a->nlines != k->nlines)
		return false;
	for (size_t i = 0; i < k->nlines; i++) {
		const struct line_rec *x = &b->lines[a->line_off + i];
		const struct line_rec *y = &b->lines[k->line_off + i];

		if (x->function_id != y->function_id || x->line != y->line)
			return false;
	}
	return true;
}

int64_t pprof_add_location(struct pprof_builder *b, uint64_t mapping_id,
			   uint64_t address, const struct pprof_line *lines,
			   size_t nlines)
{
	struct loc_rec rec = { .mapping_id = mapping_id, .address = address };
	int64_t id;
	uint32_t h;
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
		h = location_hash(b, &rec);
		id = pp_htab_find(&b->location_index, h, location_eq, b, &rec);
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

	h = location_hash(b, &rec);
	if (is_pseudo(&rec)) {
		id = pp_htab_find(&b->location_index, h, location_eq, b, &rec);
		if (id >= 0)
			return id + 1;
	}
	id = table_add(&b->locations, &b->nlocations, &b->locations_cap,
		       sizeof(rec), &b->location_index, h, &rec);
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

/* A sample being added: its location ids and its labels, already in the
 * pools past their used ends. */
struct sample_key {
	const uint64_t *locs;
	size_t nlocs;
	const struct label_rec *labels;
	size_t nlabels;
};

static uint32_t sample_hash(const struct sample_key *k)
{
	uint64_t h = pp_fnv1a(PP_FNV_INIT, k->locs, k->nlocs * sizeof(*k->locs));

	return pp_hash32(pp_fnv1a(h, k->labels, k->nlabels * sizeof(*k->labels)));
}

static bool sample_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct pprof_builder *b = ctx;
	const struct sample_rec *r = &b->samples[idx];
	const struct sample_key *k = key;

	/* memcmp only for n > 0: with none, the pools may still be NULL */
	return r->nlocs == k->nlocs && r->nlabels == k->nlabels &&
	       (!k->nlocs ||
		!memcmp(&b->sample_locs[r->loc_off], k->locs, k->nlocs * sizeof(*k->locs))) &&
	       (!k->nlabels ||
		!memcmp(&b->labels[r->label_off], k->labels, k->nlabels * sizeof(*k->labels)));
}

/* Adds value to the sample equal to k when there is one: 1, else 0. */
static int aggregate(struct pprof_builder *b, const struct sample_key *k, uint32_t hash,
		     const int64_t value[2])
{
	int64_t idx = pp_htab_find(&b->sample_index, hash, sample_eq, b, k);
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
	uint32_t hash;
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
		struct sample_key k = { nlocations ? &b->sample_locs[b->nsample_locs] : NULL,
					nlocations, nlabels ? &b->labels[b->nlabels] : NULL,
					nlabels };

		hash = sample_hash(&k);
		err = aggregate(b, &k, hash, rec.value);
		if (err > 0)
			return 0; /* counted in an equal sample: the pools' tails are reused */
		if (!err)
			err = pp_htab_insert(&b->sample_index, hash, (uint32_t)b->nsamples);
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
