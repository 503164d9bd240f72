/* pprof_read.c - see pprof_read.h.
 *
 * Three steps: inflate (when gzipped) into a buffer that stops growing at
 * the cap; protobuf-c's unpack of the Profile message; then one pass per
 * table that checks every reference and turns ids into indices. Ids are
 * found by binary search in a sorted (id, index) array per table: no
 * allocation per entry, and a duplicate is next to its twin once sorted.
 */
#include "pprof_read.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile Profile;

struct reader {
	const Profile *p;
	struct pprof_model *m;
	char *error;
	size_t error_size;
};

/* Says why the profile is refused; returns -EINVAL. */
__attribute__((format(printf, 2, 3))) static int refuse(struct reader *r, const char *fmt, ...)
{
	va_list ap;

	if (r->error && r->error_size) {
		va_start(ap, fmt);
		vsnprintf(r->error, r->error_size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---- inflating ---- */

/* Inflates the gzip stream buf[0 .. len) into *out (malloc'd), at most max
 * bytes. */
static int inflate_all(struct reader *r, const uint8_t *buf, size_t len, size_t max,
		       uint8_t **out, size_t *out_len)
{
	z_stream z = { 0 };
	size_t cap = len < max / 8 ? 4 * len + 4096 : max, n = 0;
	uint8_t *data = NULL;
	int zerr = Z_OK, err = 0;

	if (cap > max)
		cap = max;
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)(uintptr_t)buf;
	while (zerr != Z_STREAM_END) {
		if (n == cap) {
			uint8_t *more;

			if (cap >= max) {
				err = -E2BIG;
				refuse(r, "the profile inflates past %zu MiB (a gzip bomb?)", max >> 20);
				break;
			}
			cap = cap > max / 2 ? max : 2 * cap;
			more = realloc(data, cap);
			if (!more) {
				err = -ENOMEM;
				break;
			}
			data = more;
		} else if (!data && !(data = malloc(cap))) {
			err = -ENOMEM;
			break;
		}
		/* zlib's counts are unsigned int: feed it in steps */
		z.avail_in = (uInt)(len - (size_t)(z.next_in - buf) < UINT32_MAX
					    ? len - (size_t)(z.next_in - buf)
					    : UINT32_MAX);
		z.next_out = data + n;
		z.avail_out = (uInt)(cap - n < UINT32_MAX ? cap - n : UINT32_MAX);
		zerr = inflate(&z, Z_NO_FLUSH);
		n = (size_t)(z.next_out - data);
		if (zerr == Z_BUF_ERROR && z.avail_out) { /* no output room was not the cause */
			err = refuse(r, "the gzip stream is truncated");
			break;
		}
		if (zerr != Z_OK && zerr != Z_STREAM_END && zerr != Z_BUF_ERROR) {
			err = zerr == Z_MEM_ERROR ? -ENOMEM
						  : refuse(r, "the gzip stream is corrupt (%s)",
							   z.msg ? z.msg : "zlib error");
			break;
		}
	}
	inflateEnd(&z);
	if (err) {
		free(data);
		return err;
	}
	*out = data;
	*out_len = n;
	return 0;
}

/* ---- ids ---- */

struct id_index {
	uint64_t id;
	uint32_t index;
};

static int cmp_id(const void *a, const void *b)
{
	uint64_t x = ((const struct id_index *)a)->id, y = ((const struct id_index *)b)->id;

	return (x > y) - (x < y);
}

/* The (id, index) pairs of a table of n messages, each with a uint64 id at
 * id_off, sorted; each id must be nonzero and unique. */
static int index_table(struct reader *r, const char *what, size_t n, const void *const *msgs,
		       size_t id_off, struct id_index **out)
{
	struct id_index *v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint64_t id;

		memcpy(&id, (const char *)msgs[i] + id_off, sizeof(id));
		if (!id) {
			free(v);
			return refuse(r, "a %s has the reserved id 0", what);
		}
		v[i] = (struct id_index){ id, (uint32_t)i };
	}
	qsort(v, n, sizeof(*v), cmp_id);
	for (size_t i = 1; i < n; i++) {
		if (v[i].id == v[i - 1].id) {
			uint64_t id = v[i].id;

			free(v);
			return refuse(r, "two %ss have the id %" PRIu64, what, id);
		}
	}
	*out = v;
	return 0;
}

/* The index of id in v[0 .. n), or PPROF_NONE. */
static uint32_t find_id(const struct id_index *v, size_t n, uint64_t id)
{
	struct id_index key = { .id = id };
	const struct id_index *hit = n ? bsearch(&key, v, n, sizeof(*v), cmp_id) : NULL;

	return hit ? hit->index : PPROF_NONE;
}

/* ---- strings ---- */

/* *out = string i, or -EINVAL (what names the field). */
static int string_at(struct reader *r, int64_t i, const char *what, const char **out)
{
	if (i < 0 || (uint64_t)i >= r->p->n_string_table)
		return refuse(r, "%s names string %" PRId64 " of a table of %zu", what, i,
			      r->p->n_string_table);
	*out = r->p->string_table[i];
	return 0;
}

static int value_type(struct reader *r, const Perftools__Profiles__ValueType *t,
		      struct pprof_value_type *out)
{
	int err;

	*out = (struct pprof_value_type){ "", "" };
	if (!t)
		return 0;
	err = string_at(r, t->type, "a value type", &out->type);
	return err ? err : string_at(r, t->unit, "a value type", &out->unit);
}

/* The profile's own strings: each must be in the table, as pprof checks. */
static int check_header(struct reader *r)
{
	const Profile *p = r->p;
	struct pprof_model *m = r->m;
	const char *s, *default_type = "";
	int err;

	if (!p->n_string_table || p->string_table[0][0])
		return refuse(r, p->n_string_table ? "the string table does not start with \"\""
						   : "the string table is empty");
	m->types = calloc(p->n_sample_type ? p->n_sample_type : 1, sizeof(*m->types));
	if (!m->types)
		return -ENOMEM;
	m->ntypes = p->n_sample_type;
	for (size_t i = 0; i < m->ntypes; i++)
		if ((err = value_type(r, p->sample_type[i], &m->types[i])))
			return err;
	if ((err = value_type(r, p->period_type, &m->period_type)) ||
	    (err = string_at(r, p->drop_frames, "drop_frames", &s)) ||
	    (err = string_at(r, p->keep_frames, "keep_frames", &s)) ||
	    (err = string_at(r, p->doc_url, "doc_url", &s)) ||
	    (err = string_at(r, p->default_sample_type, "default_sample_type", &default_type)))
		return err;
	for (size_t i = 0; i < p->n_comment; i++)
		if ((err = string_at(r, p->comment[i], "a comment", &s)))
			return err;
	m->default_type = m->ntypes ? m->ntypes - 1 : 0;
	for (size_t i = 0; p->default_sample_type && i < m->ntypes; i++)
		if (!strcmp(m->types[i].type, default_type))
			m->default_type = i;
	m->period = p->period;
	m->time_nanos = p->time_nanos;
	m->duration_nanos = p->duration_nanos;
	return 0;
}

/* ---- tables ---- */

static int read_mappings(struct reader *r)
{
	const Profile *p = r->p;
	struct pprof_model *m = r->m;
	int err;

	m->mappings = calloc(p->n_mapping ? p->n_mapping : 1, sizeof(*m->mappings));
	if (!m->mappings)
		return -ENOMEM;
	m->nmappings = p->n_mapping;
	for (size_t i = 0; i < p->n_mapping; i++) {
		const Perftools__Profiles__Mapping *x = p->mapping[i];
		struct pprof_model_mapping *y = &m->mappings[i];

		*y = (struct pprof_model_mapping){ x->memory_start, x->memory_limit,
						   x->file_offset, NULL, NULL };
		if ((err = string_at(r, x->filename, "a mapping's file", &y->file)) ||
		    (err = string_at(r, x->build_id, "a mapping's build id", &y->build_id)))
			return err;
	}
	return 0;
}

static int read_functions(struct reader *r)
{
	const Profile *p = r->p;
	struct pprof_model *m = r->m;
	int err;

	m->functions = calloc(p->n_function ? p->n_function : 1, sizeof(*m->functions));
	if (!m->functions)
		return -ENOMEM;
	m->nfunctions = p->n_function;
	for (size_t i = 0; i < p->n_function; i++) {
		const Perftools__Profiles__Function *x = p->function[i];
		struct pprof_model_function *y = &m->functions[i];

		y->start_line = x->start_line;
		if ((err = string_at(r, x->name, "a function's name", &y->name)) ||
		    (err = string_at(r, x->system_name, "a function's system name",
				     &y->system_name)) ||
		    (err = string_at(r, x->filename, "a function's file", &y->file)))
			return err;
	}
	return 0;
}

static int read_locations(struct reader *r, const struct id_index *maps,
			  const struct id_index *funcs)
{
	const Profile *p = r->p;
	struct pprof_model *m = r->m;
	size_t nlines = 0;

	for (size_t i = 0; i < p->n_location; i++)
		nlines += p->location[i]->n_line; /* each in the input: no overflow */
	m->locations = calloc(p->n_location ? p->n_location : 1, sizeof(*m->locations));
	m->lines = calloc(nlines ? nlines : 1, sizeof(*m->lines));
	if (!m->locations || !m->lines)
		return -ENOMEM;
	m->nlocations = p->n_location;
	for (size_t i = 0; i < p->n_location; i++) {
		const Perftools__Profiles__Location *x = p->location[i];
		struct pprof_model_location *y = &m->locations[i];

		*y = (struct pprof_model_location){
			.address = x->address,
			.mapping = x->mapping_id ? find_id(maps, p->n_mapping, x->mapping_id)
						 : PPROF_NONE,
			.first_line = (uint32_t)m->nlines,
			.nlines = (uint32_t)x->n_line,
		};
		for (size_t k = 0; k < x->n_line; k++) {
			uint32_t f = find_id(funcs, p->n_function, x->line[k]->function_id);

			if (f == PPROF_NONE)
				return refuse(r, "location %" PRIu64 " has a line of function %" PRIu64
					      ", which the profile lacks",
					      x->id, x->line[k]->function_id);
			m->lines[m->nlines++] = (struct pprof_model_line){ f, x->line[k]->line };
		}
	}
	return 0;
}

/* A label as pprof keeps it: a string, else a number; *keep false when
 * it is neither (pprof drops it). */
static int read_label(struct reader *r, const Perftools__Profiles__Label *x,
		      struct pprof_model_label *y, bool *keep)
{
	int err;

	*y = (struct pprof_model_label){ .num = x->num };
	*keep = x->str || x->num || x->num_unit;
	if ((err = string_at(r, x->key, "a label's key", &y->key)) ||
	    (err = string_at(r, x->str, "a label's value", &y->str)) ||
	    (err = string_at(r, x->num_unit, "a label's unit", &y->num_unit)))
		return err;
	if (!x->str)
		y->str = NULL;
	return 0;
}

static int read_samples(struct reader *r, const struct id_index *locs)
{
	const Profile *p = r->p;
	struct pprof_model *m = r->m;
	size_t nstack = 0, nlabels = 0;
	int err;

	if (p->n_sample && !p->n_sample_type)
		return refuse(r, "%zu samples, but no sample types", p->n_sample);
	for (size_t i = 0; i < p->n_sample; i++) {
		nstack += p->sample[i]->n_location_id; /* each in the input: no overflow */
		nlabels += p->sample[i]->n_label;
	}
	m->samples = calloc(p->n_sample ? p->n_sample : 1, sizeof(*m->samples));
	m->stack = calloc(nstack ? nstack : 1, sizeof(*m->stack));
	m->labels = calloc(nlabels ? nlabels : 1, sizeof(*m->labels));
	if (!m->samples || !m->stack || !m->labels)
		return -ENOMEM;
	m->nsamples = p->n_sample;
	for (size_t i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *x = p->sample[i];
		struct pprof_model_sample *y = &m->samples[i];

		if (x->n_value != p->n_sample_type)
			return refuse(r, "sample %zu has %zu values for %zu sample types", i,
				      x->n_value, p->n_sample_type);
		*y = (struct pprof_model_sample){
			.first_location = m->nstack,
			.nlocations = x->n_location_id,
			.first_label = m->nlabels,
			.values = x->value,
		};
		for (size_t k = 0; k < x->n_location_id; k++) {
			uint32_t l = find_id(locs, p->n_location, x->location_id[k]);

			if (l == PPROF_NONE)
				return refuse(r, "sample %zu has location %" PRIu64
					      ", which the profile lacks",
					      i, x->location_id[k]);
			m->stack[m->nstack++] = l;
		}
		for (size_t k = 0; k < x->n_label; k++) {
			bool keep;

			if ((err = read_label(r, x->label[k], &m->labels[m->nlabels], &keep)))
				return err;
			m->nlabels += keep;
		}
		y->nlabels = m->nlabels - y->first_label;
	}
	return 0;
}

/* Every check and every table of the decoded message p into r->m. */
static int read_profile(struct reader *r)
{
	const Profile *p = r->p;
	struct id_index *maps = NULL, *funcs = NULL, *locs = NULL;
	int err;

	if (p->n_mapping >= PPROF_NONE || p->n_function >= PPROF_NONE ||
	    p->n_location >= PPROF_NONE)
		return refuse(r, "a table has 2^32 entries or more");
	err = check_header(r);
	if (!err)
		err = index_table(r, "mapping", p->n_mapping, (const void *const *)p->mapping,
				  offsetof(Perftools__Profiles__Mapping, id), &maps);
	if (!err)
		err = index_table(r, "function", p->n_function, (const void *const *)p->function,
				  offsetof(Perftools__Profiles__Function, id), &funcs);
	if (!err)
		err = index_table(r, "location", p->n_location, (const void *const *)p->location,
				  offsetof(Perftools__Profiles__Location, id), &locs);
	if (!err)
		err = read_mappings(r);
	if (!err)
		err = read_functions(r);
	if (!err)
		err = read_locations(r, maps, funcs);
	if (!err)
		err = read_samples(r, locs);
	free(maps);
	free(funcs);
	free(locs);
	return err;
}

int pprof_read(const void *buf, size_t len, size_t max_bytes, char *error, size_t error_size,
	       struct pprof_model **out)
{
	struct reader r = { .error = error, .error_size = error_size };
	const uint8_t *data = buf;
	uint8_t *inflated = NULL;
	size_t n = len;
	Profile *p;
	int err;

	if (error && error_size)
		error[0] = '\0';
	if (!out || (!buf && len))
		return -EINVAL;
	*out = NULL;
	if (!len)
		return refuse(&r, "the file is empty");
	if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
		err = inflate_all(&r, data, len, max_bytes ? max_bytes : PPROF_READ_MAX_BYTES,
				  &inflated, &n);
		if (err)
			return err;
		data = inflated;
	} else if (max_bytes && len > max_bytes) {
		refuse(&r, "the profile is over %zu MiB", max_bytes >> 20);
		return -E2BIG;
	}
	p = perftools__profiles__profile__unpack(NULL, n, data);
	free(inflated);
	if (!p)
		return refuse(&r, "not a pprof profile (the bytes are not a Profile message)");
	r.p = p;
	r.m = calloc(1, sizeof(*r.m));
	if (!r.m) {
		perftools__profiles__profile__free_unpacked(p, NULL);
		return -ENOMEM;
	}
	r.m->message = p;
	err = read_profile(&r);
	if (err) {
		if (err == -ENOMEM)
			refuse(&r, "out of memory");
		pprof_model_free(r.m);
		return err;
	}
	*out = r.m;
	return 0;
}

void pprof_model_free(struct pprof_model *m)
{
	if (!m)
		return;
	free(m->types);
	free(m->mappings);
	free(m->functions);
	free(m->locations);
	free(m->lines);
	free(m->samples);
	free(m->stack);
	free(m->labels);
	if (m->message)
		perftools__profiles__profile__free_unpacked(m->message, NULL);
	free(m);
}
