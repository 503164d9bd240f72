/* test_pprof_read.c - unit test of the pprof reader (proto/pprof_read.c).
 *
 * A profile made by our builder reads back as it was written (types,
 * period, mappings, functions, inline lines, stacks leaf first, labels),
 * gzipped or not; then hand-packed Profile messages and broken bytes, each
 * of which must be refused with -EINVAL (or -E2BIG) and a one-line reason:
 * an empty file, random bytes, a truncated gzip stream, a gzip bomb, an
 * empty string table or one not starting with "", a string index out of
 * range, id 0, a duplicate id, a line of a missing function, a sample of a
 * missing location, samples without types or with the wrong count of
 * values. A mapping id that names no mapping is "no mapping", as pprof
 * has it.
 */
#include "check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "pprof.h"
#include "pprof_read.h"
#include "profile.pb-c.h"

/* Our builder's profile: main -> work -> {inl inlined into leaf}. */
static uint8_t *built_profile(size_t *len)
{
	struct pprof_profile_info info = { .period_ns = 10101010, .time_nanos = 7,
					   .duration_nanos = 10 };
	struct pprof_mapping_info app = { .start = 0x1000, .limit = 0x9000, .filename = "/bin/app",
					  .build_id = "abcd", .has_functions = true };
	struct pprof_line leaf[] = { { .function = "inl", .filename = "a.h", .line = 3 },
				     { .function = "leaf", .filename = "a.c", .line = 30 } };
	struct pprof_line work = { .function = "work", .filename = "a.c", .line = 20 };
	struct pprof_line main_ = { .function = "main", .filename = "a.c", .line = 10 };
	struct pprof_label labels[] = { { .key = "comm", .str = "app" }, { .key = "pid", .num = 42 } };
	struct pprof_builder *b = NULL;
	uint64_t locs[3];
	int64_t m;
	uint8_t *out = NULL;

	CHECK(!pprof_builder_new(&info, &b), "builder");
	m = pprof_add_mapping(b, &app);
	locs[0] = (uint64_t)pprof_add_location(b, (uint64_t)m, 0x1100, leaf, 2);
	locs[1] = (uint64_t)pprof_add_location(b, (uint64_t)m, 0x1200, &work, 1);
	locs[2] = (uint64_t)pprof_add_location(b, (uint64_t)m, 0x1300, &main_, 1);
	CHECK(!pprof_add_sample(b, locs, 3, 5, labels, 2), "sample");
	CHECK(!pprof_add_sample(b, locs + 1, 2, 2, labels, 1), "sample");
	CHECK(!pprof_builder_encode_gz(b, NULL, &out, len, NULL), "encode");
	pprof_builder_free(b);
	return out;
}

/* The name of the function of location l's line k. */
static const char *fn(const struct pprof_model *m, uint32_t l, uint32_t k)
{
	return m->functions[m->lines[m->locations[l].first_line + k].function].name;
}

static void check_built(const struct pprof_model *m)
{
	const struct pprof_model_sample *s;

	CHECK(m->ntypes == 2 && !strcmp(m->types[0].type, "samples") &&
		      !strcmp(m->types[1].unit, "nanoseconds") && m->period == 10101010 &&
		      !strcmp(m->period_type.type, "cpu") && m->time_nanos == 7 &&
		      m->duration_nanos == 10,
	      "types and period");
	CHECK(m->default_type == 1, "default sample type %zu, want the last", m->default_type);
	CHECK(m->nmappings == 1 && !strcmp(m->mappings[0].file, "/bin/app") &&
		      !strcmp(m->mappings[0].build_id, "abcd") && m->mappings[0].start == 0x1000,
	      "mapping");
	CHECK(m->nsamples == 2 && m->nlocations == 3, "%zu samples, %zu locations", m->nsamples,
	      m->nlocations);
	if (m->nsamples != 2 || m->nlocations != 3)
		return;
	s = &m->samples[0];
	CHECK(s->nlocations == 3 && s->values[0] == 5 && s->values[1] == 5 * 10101010,
	      "sample 0: %zu locations, %lld", s->nlocations, (long long)s->values[0]);
	if (s->nlocations == 3) {
		uint32_t leaf = m->stack[s->first_location];

		CHECK(m->locations[leaf].nlines == 2 && !strcmp(fn(m, leaf, 0), "inl") &&
			      !strcmp(fn(m, leaf, 1), "leaf") &&
			      m->lines[m->locations[leaf].first_line].line == 3 &&
			      m->locations[leaf].address == 0x1100 && m->locations[leaf].mapping == 0,
		      "the leaf: inl inlined into leaf, at 0x1100 in the mapping");
		CHECK(!strcmp(fn(m, m->stack[s->first_location + 2], 0), "main"), "root main");
	}
	CHECK(s->nlabels == 2 && !strcmp(m->labels[s->first_label].key, "comm") &&
		      !strcmp(m->labels[s->first_label].str, "app") &&
		      m->labels[s->first_label + 1].str == NULL &&
		      m->labels[s->first_label + 1].num == 42,
	      "labels");
	CHECK(m->samples[1].nlocations == 2 && m->samples[1].nlabels == 1, "sample 1");
}

static void test_round_trip(void)
{
	size_t len = 0, raw_len;
	uint8_t *gz = built_profile(&len), *raw;
	struct pprof_model *m = NULL;
	char why[256];
	uLongf n;
	int err;

	err = pprof_read(gz, len, 0, why, sizeof(why), &m);
	CHECK(err == 0 && m, "read our gzipped profile: %d %s", err, why);
	if (m)
		check_built(m);
	pprof_model_free(m);
	m = NULL;

	/* the same, not gzipped */
	raw_len = 1 << 20;
	raw = malloc(raw_len);
	CHECK(raw != NULL, "malloc");
	{
		z_stream z = { 0 };

		inflateInit2(&z, 16 + MAX_WBITS);
		z.next_in = gz;
		z.avail_in = (uInt)len;
		z.next_out = raw;
		z.avail_out = (uInt)raw_len;
		CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END, "gunzip");
		n = z.total_out;
		inflateEnd(&z);
	}
	err = pprof_read(raw, n, 0, why, sizeof(why), &m);
	CHECK(err == 0 && m, "read it gunzipped: %d %s", err, why);
	if (m)
		check_built(m);
	pprof_model_free(m);

	/* truncated, anywhere in the gzip stream */
	for (size_t cut = 1; cut < len; cut += len / 7 + 1) {
		m = NULL;
		err = pprof_read(gz, cut, 0, why, sizeof(why), &m);
		CHECK(err == -EINVAL && !m && why[0] && !strchr(why, '\n'),
		      "%zu of %zu bytes: %d (%s)", cut, len, err, why);
	}
	free(raw);
	free(gz);
}

typedef Perftools__Profiles__Profile Profile;

/* Expects p (packed) refused with -EINVAL and a reason containing want. */
static void expect_refused(const Profile *p, const char *want, const char *what)
{
	size_t len = perftools__profiles__profile__get_packed_size(p);
	uint8_t *buf = malloc(len ? len : 1);
	struct pprof_model *m = NULL;
	char why[256];
	int err;

	perftools__profiles__profile__pack(p, buf);
	err = pprof_read(buf, len, 0, why, sizeof(why), &m);
	CHECK(err == -EINVAL && !m && strstr(why, want), "%s: %d \"%s\", want \"%s\"", what, err,
	      why, want);
	pprof_model_free(m);
	free(buf);
}

static void test_refused(void)
{
	char *strings[] = { "", "samples", "count", "f" };
	char *bad_first[] = { "x" };
	Perftools__Profiles__ValueType type = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
	Perftools__Profiles__ValueType *types[] = { &type };
	Perftools__Profiles__Function f1 = PERFTOOLS__PROFILES__FUNCTION__INIT;
	Perftools__Profiles__Function f2 = PERFTOOLS__PROFILES__FUNCTION__INIT;
	Perftools__Profiles__Function *funcs[] = { &f1, &f2 };
	Perftools__Profiles__Line line = PERFTOOLS__PROFILES__LINE__INIT;
	Perftools__Profiles__Line *lines[] = { &line };
	Perftools__Profiles__Location loc = PERFTOOLS__PROFILES__LOCATION__INIT;
	Perftools__Profiles__Location *locs[] = { &loc };
	Perftools__Profiles__Sample sample = PERFTOOLS__PROFILES__SAMPLE__INIT;
	Perftools__Profiles__Sample *samples[] = { &sample };
	uint64_t stack[] = { 9 };
	int64_t values[] = { 3, 4 };
	Profile p = PERFTOOLS__PROFILES__PROFILE__INIT, q;
	struct pprof_model *m = NULL;
	uint8_t *buf;
	size_t len;
	char why[256];
	int err;

	/* a valid one first: 1 type, 1 function, 1 location, 1 sample */
	type.type = 1;
	type.unit = 2;
	f1.id = 7;
	f1.name = 3;
	line.function_id = 7;
	loc.id = 9;
	loc.mapping_id = 55; /* no such mapping: "none", as pprof */
	loc.n_line = 1;
	loc.line = lines;
	sample.n_location_id = 1;
	sample.location_id = stack;
	sample.n_value = 1;
	sample.value = values;
	p.n_string_table = 4;
	p.string_table = strings;
	p.n_sample_type = 1;
	p.sample_type = types;
	p.n_function = 1;
	p.function = funcs;
	p.n_location = 1;
	p.location = locs;
	p.n_sample = 1;
	p.sample = samples;
	len = perftools__profiles__profile__get_packed_size(&p);
	buf = malloc(len);
	perftools__profiles__profile__pack(&p, buf);
	err = pprof_read(buf, len, 0, why, sizeof(why), &m);
	CHECK(err == 0 && m && m->nsamples == 1 && m->locations[0].mapping == PPROF_NONE &&
		      !strcmp(m->functions[0].name, "f"),
	      "the valid one: %d %s", err, why);
	pprof_model_free(m);
	free(buf);

	q = p;
	q.n_string_table = 0;
	expect_refused(&q, "string table is empty", "no strings");
	q = p;
	q.n_string_table = 1;
	q.string_table = bad_first;
	expect_refused(&q, "does not start", "a first string that is not \"\"");
	q = p;
	f1.name = 4;
	expect_refused(&q, "names string 4 of a table of 4", "a string index out of range");
	f1.name = 3;
	f1.id = 0;
	line.function_id = 0;
	expect_refused(&q, "reserved id 0", "function id 0");
	f1.id = 7;
	line.function_id = 7;
	f2 = f1;
	q.n_function = 2;
	expect_refused(&q, "two functions have the id 7", "a duplicate id");
	q.n_function = 1;
	line.function_id = 8;
	expect_refused(&q, "line of function 8", "a line of a missing function");
	line.function_id = 7;
	stack[0] = 10;
	expect_refused(&q, "has location 10", "a sample of a missing location");
	stack[0] = 1;
	expect_refused(&q, "has location 1", "location id 1 when only 9 exists");
	stack[0] = 9;
	sample.n_value = 2;
	expect_refused(&q, "2 values for 1 sample types", "values of another count");
	sample.n_value = 1;
	q.n_sample_type = 0;
	expect_refused(&q, "no sample types", "samples without types");
}

static void test_broken_bytes(void)
{
	struct pprof_model *m = NULL;
	uint8_t junk[4096] = { 0 }, *zeros, *bomb;
	uLongf bomb_len;
	z_stream z = { 0 };
	char why[256];
	int err, refused = 0;

	err = pprof_read(junk, 0, 0, why, sizeof(why), &m);
	CHECK(err == -EINVAL && strstr(why, "empty"), "an empty file: %d %s", err, why);
	srand(12345);
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (uint8_t)rand();
		m = NULL;
		err = pprof_read(junk, (size_t)round * 20 + 1, 0, why, sizeof(why), &m);
		CHECK(err == 0 || (err == -EINVAL && why[0]), "random bytes: %d", err);
		refused += err != 0;
		pprof_model_free(m);
	}
	CHECK(refused >= 190, "only %d of 200 random inputs refused", refused);

	/* 64 MiB of zeros gzipped: past a 1 MiB cap, refused as it inflates */
	zeros = calloc(1, 64 << 20);
	bomb_len = (64 << 20) / 100;
	bomb = malloc(bomb_len);
	deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
	z.next_in = zeros;
	z.avail_in = 64 << 20;
	z.next_out = bomb;
	z.avail_out = (uInt)bomb_len;
	CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END, "deflate the bomb");
	bomb_len = z.total_out;
	deflateEnd(&z);
	m = NULL;
	err = pprof_read(bomb, bomb_len, 1 << 20, why, sizeof(why), &m);
	CHECK(err == -E2BIG && !m && strstr(why, "inflates past 1 MiB"),
	      "a %lu-byte gzip bomb: %d %s", (unsigned long)bomb_len, err, why);
	free(zeros);
	free(bomb);
}

int main(void)
{
	test_round_trip();
	test_refused();
	test_broken_bytes();
	return check_summary();
}
