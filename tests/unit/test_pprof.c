/* test_pprof.c - unit test of proto/ (pprof builder, gzip encoder).
 *
 * Builds a profile with the builder, gunzips the encoded bytes with zlib and
 * decodes them with protobuf-c's generated unpacker - an independent reader -
 * then checks every table: the string table, ids 1..N, indices in range,
 * deduplication, mappings, inline chains, samples and labels. Also checks
 * that bad arguments give -EINVAL.
 *
 * Usage: test_pprof [FILE]  - with FILE, also writes the test profile there
 * (tests/unit/pprof.cmake then feeds it to `go tool pprof`).
 */
#include "check.h"
#include "pprof.h"
#include "pprof_decode.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PERIOD 10101010LL /* 1e9 / 99 Hz */
#define TIME_NANOS 1700000000123456789LL
#define DURATION_NANOS 10000000000LL
#define NMANY 128 /* locations in the deep sample */

/* ---- helpers ---- */

/* Encode b, check the gzip wrapper, gunzip and unpack with protobuf-c. */
static Profile *encode_decode(struct pprof_builder *b)
{
	uint8_t *gz = NULL, *raw;
	size_t gz_len = 0, raw_len = 0;
	Profile *p;
	int err = pprof_builder_encode_gz(b, NULL, &gz, &gz_len, NULL);

	CHECK(err == 0, "encode_gz: %d", err);
	if (err)
		return NULL;
	CHECK(gz_len > 18 && gz[0] == 0x1f && gz[1] == 0x8b,
	      "gzip magic missing (%zu bytes)", gz_len);
	raw = gunzip(gz, gz_len, &raw_len);
	free(gz);
	CHECK(raw != NULL, "gunzip failed");
	if (!raw)
		return NULL;
	p = perftools__profiles__profile__unpack(NULL, raw_len, raw);
	free(raw);
	CHECK(p != NULL, "protobuf-c could not unpack the profile");
	return p;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Checks that hold for every profile we write. */
static void check_invariants(const Profile *p)
{
	size_t ns = p->n_string_table;

	CHECK(ns >= 1 && strcmp(p->string_table[0], "") == 0,
	      "string_table[0] must be \"\"");
	/* no duplicate strings */
	char **sorted = malloc((ns ? ns : 1) * sizeof(*sorted));
	if (sorted) {
		size_t dups = 0;

		memcpy(sorted, p->string_table, ns * sizeof(*sorted));
		qsort(sorted, ns, sizeof(*sorted), cmp_str);
		for (size_t i = 1; i < ns; i++)
			if (strcmp(sorted[i - 1], sorted[i]) == 0)
				dups++;
		CHECK(dups == 0, "%zu duplicate strings", dups);
		free(sorted);
	}

	CHECK(p->n_sample_type == 2, "n_sample_type %zu", p->n_sample_type);
	if (p->n_sample_type == 2) {
		CHECK(str_is(p, p->sample_type[0]->type, "samples") &&
			      str_is(p, p->sample_type[0]->unit, "count"),
		      "sample_type[0] is not samples/count");
		CHECK(str_is(p, p->sample_type[1]->type, "cpu") &&
			      str_is(p, p->sample_type[1]->unit, "nanoseconds"),
		      "sample_type[1] is not cpu/nanoseconds");
	}
	CHECK(p->period_type && str_is(p, p->period_type->type, "cpu") &&
		      str_is(p, p->period_type->unit, "nanoseconds"),
	      "period_type is not cpu/nanoseconds");
	CHECK(p->drop_frames == 0 && p->keep_frames == 0 &&
		      p->default_sample_type == 0 && p->doc_url == 0 &&
		      p->n_comment == 0,
	      "unexpected optional Profile fields");

	for (size_t i = 0; i < p->n_mapping; i++) {
		const Mapping *m = p->mapping[i];

		CHECK(m->id == i + 1, "mapping[%zu].id = %" PRIu64, i, m->id);
		CHECK(S(p, m->filename) && S(p, m->build_id),
		      "mapping %zu string index out of range", i);
	}
	for (size_t i = 0; i < p->n_function; i++) {
		const Function *f = p->function[i];

		CHECK(f->id == i + 1, "function[%zu].id = %" PRIu64, i, f->id);
		CHECK(S(p, f->name) && S(p, f->system_name) && S(p, f->filename),
		      "function %zu string index out of range", i);
		CHECK(f->name != 0, "function %zu has no name", i);
	}
	for (size_t i = 0; i < p->n_location; i++) {
		const Location *l = p->location[i];

		CHECK(l->id == i + 1, "location[%zu].id = %" PRIu64, i, l->id);
		CHECK(l->mapping_id <= p->n_mapping,
		      "location %zu: mapping_id %" PRIu64, i, l->mapping_id);
		CHECK(!l->is_folded, "location %zu folded", i);
		for (size_t j = 0; j < l->n_line; j++)
			CHECK(fn_by_id(p, l->line[j]->function_id),
			      "location %zu line %zu: function %" PRIu64, i, j,
			      l->line[j]->function_id);
	}
	for (size_t i = 0; i < p->n_sample; i++) {
		const Sample *s = p->sample[i];

		CHECK(s->n_value == 2, "sample %zu has %zu values", i, s->n_value);
		if (s->n_value == 2)
			CHECK(s->value[0] > 0 && s->value[1] == s->value[0] * PERIOD,
			      "sample %zu values [%" PRId64 ", %" PRId64 "]", i,
			      s->value[0], s->value[1]);
		for (size_t j = 0; j < s->n_location_id; j++)
			CHECK(loc_by_id(p, s->location_id[j]),
			      "sample %zu location %zu: id %" PRIu64, i, j,
			      s->location_id[j]);
		for (size_t j = 0; j < s->n_label; j++) {
			const Label *l = s->label[j];

			CHECK(S(p, l->key) && l->key != 0 && S(p, l->str) &&
				      S(p, l->num_unit),
			      "sample %zu label %zu string index", i, j);
			CHECK(!(l->str && l->num), "sample %zu label %zu is both", i, j);
		}
	}
}

/* Does the location have exactly these (function name, line) pairs? */
static bool loc_lines_are(const Profile *p, const Location *l, size_t n,
			  const char *const *names, const int64_t *lines)
{
	if (!l || l->n_line != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		const Function *f = fn_by_id(p, l->line[i]->function_id);

		if (!f || !str_is(p, f->name, names[i]) || l->line[i]->line != lines[i])
			return false;
	}
	return true;
}

static const Label *find_label(const Profile *p, const Sample *s, const char *key)
{
	for (size_t i = 0; i < s->n_label; i++)
		if (str_is(p, s->label[i]->key, key))
			return s->label[i];
	return NULL;
}

/* ---- the round trip ---- */

struct ids {
	int64_t m_app, m_libc, m_kernel, m_app2;
	int64_t l_main, l_inline, l_libc, l_kernel, l_main12, l_comm, l_comm2;
	uint64_t many[NMANY];
};

static struct pprof_builder *new_builder(void)
{
	struct pprof_profile_info info = {
		.period_ns = PERIOD,
		.time_nanos = TIME_NANOS,
		.duration_nanos = DURATION_NANOS,
	};
	struct pprof_builder *b = NULL;
	int err = pprof_builder_new(&info, &b);

	CHECK(err == 0 && b, "pprof_builder_new: %d", err);
	return err ? NULL : b;
}

static void build(struct pprof_builder *b, struct ids *id)
{
	struct pprof_mapping_info app = {
		.start = 0x400000, .limit = 0x500000, .file_offset = 0x1000,
		.filename = "/usr/bin/app", .build_id = "abcdef0123456789",
		.has_functions = true, .has_filenames = true,
		.has_line_numbers = true, .has_inline_frames = true,
	};
	struct pprof_mapping_info libc = {
		.start = 0x7f0000000000, .limit = 0x7f0000100000,
		.file_offset = 0x28000,
		.filename = "/lib/x86_64-linux-gnu/libc.so.6",
		.build_id = "deadbeef", .has_functions = true,
	};
	struct pprof_mapping_info kernel = {
		.start = 0xffffffff81000000, .limit = 0xffffffff82000000,
		.filename = "[kernel.kallsyms]", .has_functions = true,
	};
	struct pprof_mapping_info app2 = app; /* second segment of the app */

	app2.start = 0x600000;
	app2.limit = 0x601000;

	id->m_app = pprof_add_mapping(b, &app);
	id->m_libc = pprof_add_mapping(b, &libc);
	id->m_kernel = pprof_add_mapping(b, &kernel);
	CHECK(id->m_app == 1 && id->m_libc == 2 && id->m_kernel == 3,
	      "mapping ids %" PRId64 " %" PRId64 " %" PRId64, id->m_app,
	      id->m_libc, id->m_kernel);
	CHECK(pprof_add_mapping(b, &app) == 1, "duplicate mapping not merged");
	id->m_app2 = pprof_add_mapping(b, &app2);
	CHECK(id->m_app2 == 4, "second app segment id %" PRId64, id->m_app2);

	struct pprof_line main10 = { .function = "main", .filename = "/src/app.c",
				     .line = 10, .start_line = 5 };
	struct pprof_line main12 = main10;
	main12.line = 12;
	struct pprof_line chain[3] = {
		{ .function = "memcpy_inl", .filename = "/usr/include/string.h",
		  .line = 20, .start_line = 18 },
		{ .function = "helper", .system_name = "_Z6helperv",
		  .filename = "/src/app.c", .line = 30 },
		{ .function = "do_work", .filename = "/src/app.c", .line = 40 },
	};
	struct pprof_line ksym = { .function = "do_syscall_64" };
	struct pprof_line comm = { .function = "app" };
	struct pprof_line comm2 = { .function = "other" };

	id->l_main = pprof_add_location(b, 1, 0x401000, &main10, 1);
	id->l_inline = pprof_add_location(b, 1, 0x401100, chain, 3);
	id->l_libc = pprof_add_location(b, 2, 0x7f0000001234, NULL, 0);
	id->l_kernel = pprof_add_location(b, 3, 0xffffffff81001000, &ksym, 1);
	id->l_main12 = pprof_add_location(b, 1, 0x401200, &main12, 1);
	CHECK(id->l_main == 1 && id->l_inline == 2 && id->l_libc == 3 &&
		      id->l_kernel == 4 && id->l_main12 == 5,
	      "location ids not 1..5");
	/* the same (mapping, address): same id, the first lines win */
	CHECK(pprof_add_location(b, 1, 0x401000, &ksym, 1) == id->l_main,
	      "duplicate location not merged");
	CHECK(pprof_add_location(b, 1, 0x401100, chain, 3) == id->l_inline,
	      "duplicate inline location not merged");
	CHECK(pprof_add_location(b, 2, 0x7f0000001234, NULL, 0) == id->l_libc,
	      "duplicate unsymbolized location not merged");
	/* the same address in another mapping is another location */
	CHECK(pprof_add_location(b, 4, 0x401000, &main10, 1) == 6,
	      "location in another mapping merged");
	/* synthetic frames (no mapping, address 0) differ by their lines */
	id->l_comm = pprof_add_location(b, 0, 0, &comm, 1);
	id->l_comm2 = pprof_add_location(b, 0, 0, &comm2, 1);
	CHECK(id->l_comm == 7 && id->l_comm2 == 8, "pseudo locations %" PRId64
	      " %" PRId64, id->l_comm, id->l_comm2);
	CHECK(pprof_add_location(b, 0, 0, &comm, 1) == id->l_comm,
	      "duplicate pseudo location not merged");

	for (int i = 0; i < NMANY; i++) {
		char name[32];
		struct pprof_line l = { .function = name, .filename = "/src/deep.c",
					.line = i + 1 };

		snprintf(name, sizeof(name), "deep_%d", i);
		int64_t lid = pprof_add_location(b, 1, 0x402000 + 16 * (uint64_t)i,
						 &l, 1);
		CHECK(lid == 9 + i, "deep location %d id %" PRId64, i, lid);
		id->many[i] = (uint64_t)lid;
	}

	uint64_t s1[] = { (uint64_t)id->l_kernel, (uint64_t)id->l_inline,
			  (uint64_t)id->l_main, (uint64_t)id->l_comm };
	struct pprof_label lab1[] = {
		{ .key = "pid", .num = 1234 },
		{ .key = "tid", .num = 1235 },
		{ .key = "comm", .str = "app" },
		{ .key = "thread_name", .str = "worker" },
	};
	uint64_t s2[] = { (uint64_t)id->l_libc, (uint64_t)id->l_main12,
			  (uint64_t)id->l_comm2 };
	struct pprof_label lab2[] = {
		{ .key = "pid", .num = 99 },
		{ .key = "comm", .str = "other" },
	};
	int err;

	err = pprof_add_sample(b, s1, 4, 3, lab1, 4);
	CHECK(err == 0, "sample 1: %d", err);
	err = pprof_add_sample(b, s2, 3, 1, lab2, 2);
	CHECK(err == 0, "sample 2: %d", err);
	err = pprof_add_sample(b, id->many, NMANY, 7, NULL, 0);
	CHECK(err == 0, "deep sample: %d", err);
	err = pprof_add_sample(b, NULL, 0, 2, NULL, 0);
	CHECK(err == 0, "sample without locations: %d", err);
}

static void check_round_trip(const Profile *p, const struct ids *id)
{
	check_invariants(p);

	CHECK(p->period == PERIOD, "period %" PRId64, p->period);
	CHECK(p->time_nanos == TIME_NANOS, "time_nanos %" PRId64, p->time_nanos);
	CHECK(p->duration_nanos == DURATION_NANOS, "duration_nanos %" PRId64,
	      p->duration_nanos);

	/* mappings */
	CHECK(p->n_mapping == 4, "n_mapping %zu", p->n_mapping);
	if (p->n_mapping == 4) {
		const Mapping *a = p->mapping[0], *c = p->mapping[1],
			      *k = p->mapping[2], *a2 = p->mapping[3];

		CHECK(a->memory_start == 0x400000 && a->memory_limit == 0x500000 &&
			      a->file_offset == 0x1000,
		      "app mapping range");
		CHECK(str_is(p, a->filename, "/usr/bin/app"), "app filename");
		CHECK(str_is(p, a->build_id, "abcdef0123456789"), "app build id");
		CHECK(a->has_functions && a->has_filenames &&
			      a->has_line_numbers && a->has_inline_frames,
		      "app has_* flags");
		CHECK(str_is(p, c->filename, "/lib/x86_64-linux-gnu/libc.so.6") &&
			      str_is(p, c->build_id, "deadbeef") &&
			      c->file_offset == 0x28000 &&
			      c->memory_start == 0x7f0000000000 &&
			      c->memory_limit == 0x7f0000100000,
		      "libc mapping");
		CHECK(c->has_functions && !c->has_filenames &&
			      !c->has_line_numbers && !c->has_inline_frames,
		      "libc has_* flags");
		CHECK(str_is(p, k->filename, "[kernel.kallsyms]") && k->build_id == 0 &&
			      k->memory_start == 0xffffffff81000000 &&
			      k->memory_limit == 0xffffffff82000000 &&
			      k->has_functions,
		      "kernel mapping");
		CHECK(a2->memory_start == 0x600000 && a2->filename == a->filename &&
			      a2->build_id == a->build_id,
		      "second app mapping shares its strings");
	}

	/* locations: 5 + 1 in mapping 4 + 2 pseudo + NMANY, nothing more */
	CHECK(p->n_location == 8 + NMANY, "n_location %zu", p->n_location);
	const Location *lm = loc_by_id(p, (uint64_t)id->l_main);
	const Location *li = loc_by_id(p, (uint64_t)id->l_inline);
	const Location *ll = loc_by_id(p, (uint64_t)id->l_libc);
	const Location *lk = loc_by_id(p, (uint64_t)id->l_kernel);
	const Location *lm12 = loc_by_id(p, (uint64_t)id->l_main12);
	const Location *lc = loc_by_id(p, (uint64_t)id->l_comm);
	const Location *lc2 = loc_by_id(p, (uint64_t)id->l_comm2);
	static const char *const n_main[] = { "main" };
	static const int64_t l10[] = { 10 }, l12[] = { 12 }, l0[] = { 0 };
	static const char *const n_chain[] = { "memcpy_inl", "helper", "do_work" };
	static const int64_t l_chain[] = { 20, 30, 40 };
	static const char *const n_k[] = { "do_syscall_64" };
	static const char *const n_c[] = { "app" }, *const n_c2[] = { "other" };

	CHECK(lm && lm->mapping_id == 1 && lm->address == 0x401000 &&
		      loc_lines_are(p, lm, 1, n_main, l10),
	      "main location (the first lines must win)");
	CHECK(li && li->mapping_id == 1 && li->address == 0x401100 &&
		      loc_lines_are(p, li, 3, n_chain, l_chain),
	      "inline chain, innermost first");
	CHECK(ll && ll->mapping_id == 2 && ll->address == 0x7f0000001234 &&
		      ll->n_line == 0,
	      "unsymbolized libc location");
	CHECK(lk && lk->mapping_id == 3 && lk->address == 0xffffffff81001000 &&
		      loc_lines_are(p, lk, 1, n_k, l0),
	      "kernel location");
	CHECK(lm12 && loc_lines_are(p, lm12, 1, n_main, l12) && lm &&
		      lm->line[0]->function_id == lm12->line[0]->function_id,
	      "main at two lines shares one function");
	CHECK(lc && lc->mapping_id == 0 && lc->address == 0 &&
		      loc_lines_are(p, lc, 1, n_c, l0),
	      "pseudo location app");
	CHECK(lc2 && loc_lines_are(p, lc2, 1, n_c2, l0), "pseudo location other");
	for (int i = 0; i < NMANY; i++) {
		const Location *l = loc_by_id(p, id->many[i]);

		if (!l || l->address != 0x402000 + 16 * (uint64_t)i ||
		    l->n_line != 1 || l->line[0]->line != i + 1) {
			CHECK(0, "deep location %d", i);
			break;
		}
	}

	/* functions: each distinct once, with its fields */
	/* main, memcpy_inl, helper, do_work, do_syscall_64, app, other */
	CHECK(p->n_function == 7 + NMANY, "n_function %zu", p->n_function);
	for (size_t i = 0; i < p->n_function; i++)
		for (size_t j = i + 1; j < p->n_function; j++) {
			const Function *a = p->function[i], *c = p->function[j];

			if (a->name == c->name && a->system_name == c->system_name &&
			    a->filename == c->filename &&
			    a->start_line == c->start_line)
				CHECK(0, "functions %zu and %zu are the same", i, j);
		}
	if (lm && lm->n_line == 1) {
		const Function *f = fn_by_id(p, lm->line[0]->function_id);

		CHECK(f && str_is(p, f->system_name, "main") &&
			      str_is(p, f->filename, "/src/app.c") &&
			      f->start_line == 5,
		      "main function fields (system_name defaults to the name)");
	}
	if (li && li->n_line == 3) {
		const Function *m = fn_by_id(p, li->line[0]->function_id);
		const Function *h = fn_by_id(p, li->line[1]->function_id);

		CHECK(m && str_is(p, m->filename, "/usr/include/string.h") &&
			      m->start_line == 18,
		      "inlined function fields");
		CHECK(h && str_is(p, h->system_name, "_Z6helperv"),
		      "system_name kept");
	}
	if (lk && lk->n_line == 1) {
		const Function *f = fn_by_id(p, lk->line[0]->function_id);

		CHECK(f && f->filename == 0 && f->start_line == 0,
		      "kernel function without file");
	}

	/* samples */
	CHECK(p->n_sample == 4, "n_sample %zu", p->n_sample);
	if (p->n_sample != 4)
		return;
	const Sample *s1 = p->sample[0], *s2 = p->sample[1], *s3 = p->sample[2],
		     *s4 = p->sample[3];
	uint64_t want1[] = { (uint64_t)id->l_kernel, (uint64_t)id->l_inline,
			     (uint64_t)id->l_main, (uint64_t)id->l_comm };

	CHECK(s1->n_location_id == 4 &&
		      memcmp(s1->location_id, want1, sizeof(want1)) == 0,
	      "sample 1 locations, leaf first");
	CHECK(s1->n_value == 2 && s1->value[0] == 3 && s1->value[1] == 3 * PERIOD,
	      "sample 1 values");
	CHECK(s1->n_label == 4, "sample 1 has %zu labels", s1->n_label);
	const Label *pid = find_label(p, s1, "pid"), *tid = find_label(p, s1, "tid");
	const Label *comm = find_label(p, s1, "comm");
	const Label *tname = find_label(p, s1, "thread_name");

	CHECK(pid && pid->num == 1234 && pid->str == 0 && pid->num_unit == 0,
	      "numeric label pid");
	CHECK(tid && tid->num == 1235 && tid->str == 0, "numeric label tid");
	CHECK(comm && str_is(p, comm->str, "app") && comm->num == 0,
	      "string label comm");
	CHECK(tname && str_is(p, tname->str, "worker") && tname->num == 0,
	      "string label thread_name");
	CHECK(s2->n_location_id == 3 && s2->location_id[0] == (uint64_t)id->l_libc &&
		      s2->value[0] == 1 && s2->n_label == 2,
	      "sample 2");
	pid = find_label(p, s2, "pid");
	comm = find_label(p, s2, "comm");
	CHECK(pid && pid->num == 99 && comm && str_is(p, comm->str, "other"),
	      "sample 2 labels");
	CHECK(s3->n_location_id == NMANY && s3->value[0] == 7 &&
		      s3->value[1] == 7 * PERIOD && s3->n_label == 0 &&
		      memcmp(s3->location_id, id->many, sizeof(id->many)) == 0,
	      "deep sample");
	CHECK(s4->n_location_id == 0 && s4->value[0] == 2 && s4->n_label == 0,
	      "sample without locations");
}

/* Bad arguments: -EINVAL (never a crash) and nothing added to the builder. */
static void test_bad_input(void)
{
	struct pprof_profile_info info = { .period_ns = PERIOD };
	struct pprof_builder *b = (struct pprof_builder *)&info; /* must be reset */

	fprintf(stderr, "--- bad input: the error lines below are expected ---\n");
	CHECK(pprof_builder_new(NULL, &b) == -EINVAL && b == NULL, "NULL info");
	CHECK(pprof_builder_new(&info, NULL) == -EINVAL, "NULL out");
	info.period_ns = 0;
	CHECK(pprof_builder_new(&info, &b) == -EINVAL, "period 0");
	info.period_ns = PERIOD;
	info.time_nanos = -1;
	CHECK(pprof_builder_new(&info, &b) == -EINVAL, "negative time");
	info.time_nanos = 0;
	info.duration_nanos = -1;
	CHECK(pprof_builder_new(&info, &b) == -EINVAL, "negative duration");
	pprof_builder_free(NULL);

	b = new_builder();
	if (!b)
		return;
	struct pprof_mapping_info m = { .start = 0x1000, .limit = 0x2000,
					.filename = "/bin/x" };
	struct pprof_line line = { .function = "f" };
	struct pprof_line noname = { .filename = "x.c" };
	struct pprof_label nokey = { .str = "v" }, emptykey = { .key = "", .num = 1 };

	CHECK(pprof_add_mapping(NULL, &m) == -EINVAL, "mapping: NULL builder");
	CHECK(pprof_add_mapping(b, NULL) == -EINVAL, "mapping: NULL info");
	m.filename = NULL;
	CHECK(pprof_add_mapping(b, &m) == -EINVAL, "mapping: NULL filename");
	m.filename = "/bin/x";
	m.limit = 0x10;
	CHECK(pprof_add_mapping(b, &m) == -EINVAL, "mapping: limit < start");
	m.limit = 0x2000;
	CHECK(pprof_add_mapping(b, &m) == 1, "mapping after bad ones is 1");

	CHECK(pprof_add_location(NULL, 1, 0x1000, &line, 1) == -EINVAL,
	      "location: NULL builder");
	CHECK(pprof_add_location(b, 2, 0x1000, &line, 1) == -EINVAL,
	      "location: unknown mapping");
	CHECK(pprof_add_location(b, 1, 0x1000, NULL, 1) == -EINVAL,
	      "location: NULL lines");
	CHECK(pprof_add_location(b, 1, 0x1000, &noname, 1) == -EINVAL,
	      "location: line without function");
	CHECK(pprof_add_location(b, 1, 0x1000, &line, 1) == 1,
	      "location after bad ones is 1");

	uint64_t good = 1, zero = 0, unknown = 2;
	CHECK(pprof_add_sample(NULL, &good, 1, 1, NULL, 0) == -EINVAL,
	      "sample: NULL builder");
	CHECK(pprof_add_sample(b, NULL, 1, 1, NULL, 0) == -EINVAL,
	      "sample: NULL location ids");
	CHECK(pprof_add_sample(b, &zero, 1, 1, NULL, 0) == -EINVAL,
	      "sample: location id 0");
	CHECK(pprof_add_sample(b, &unknown, 1, 1, NULL, 0) == -EINVAL,
	      "sample: unknown location id");
	CHECK(pprof_add_sample(b, &good, 1, 0, NULL, 0) == -EINVAL,
	      "sample: count 0");
	CHECK(pprof_add_sample(b, &good, 1, -5, NULL, 0) == -EINVAL,
	      "sample: negative count");
	CHECK(pprof_add_sample(b, &good, 1, INT64_MAX, NULL, 0) == -EOVERFLOW,
	      "sample: count * period overflows");
	CHECK(pprof_add_sample(b, &good, 1, 1, NULL, 1) == -EINVAL,
	      "sample: NULL labels");
	CHECK(pprof_add_sample(b, &good, 1, 1, &nokey, 1) == -EINVAL,
	      "sample: label without key");
	CHECK(pprof_add_sample(b, &good, 1, 1, &emptykey, 1) == -EINVAL,
	      "sample: label with empty key");

	uint8_t *out = (uint8_t *)&good;
	size_t len = 1;
	CHECK(pprof_builder_encode_gz(NULL, NULL, &out, &len, NULL) == -EINVAL,
	      "encode: NULL builder");
	CHECK(pprof_builder_encode_gz(b, NULL, NULL, &len, NULL) == -EINVAL, "encode: NULL out");
	CHECK(pprof_builder_encode_gz(b, NULL, &out, NULL, NULL) == -EINVAL,
	      "encode: NULL out_len");

	fprintf(stderr, "--- end of expected errors ---\n");

	/* nothing of the above reached the profile */
	Profile *p = encode_decode(b);
	if (p) {
		check_invariants(p);
		CHECK(p->n_mapping == 1 && p->n_location == 1 &&
			      p->n_function == 1 && p->n_sample == 0,
		      "bad input changed the tables: %zu %zu %zu %zu",
		      p->n_mapping, p->n_location, p->n_function, p->n_sample);
		perftools__profiles__profile__free_unpacked(p, NULL);
	}
	pprof_builder_free(b);
}

/* An empty profile is still valid: string table [""...], sample types. */
static void test_empty(void)
{
	struct pprof_builder *b = new_builder();
	Profile *p = b ? encode_decode(b) : NULL;

	if (p) {
		check_invariants(p);
		CHECK(p->n_sample == 0 && p->n_mapping == 0 && p->n_location == 0 &&
			      p->n_function == 0,
		      "empty profile has entries");
		CHECK(p->time_nanos == TIME_NANOS, "empty profile time");
		perftools__profiles__profile__free_unpacked(p, NULL);
	}
	pprof_builder_free(b);
}

/* 100k distinct locations, functions and strings: the hash tables must
 * return the same ids for the same input and stay fast. */
static void test_many(void)
{
	enum { N = 100000 };
	struct pprof_builder *b = new_builder();
	struct pprof_mapping_info m = { .start = 0x1000, .limit = 0x10000000,
					.filename = "/bin/big", .has_functions = true };
	int64_t bad = 0;
	char name[32];

	if (!b)
		return;
	CHECK(pprof_add_mapping(b, &m) == 1, "big mapping");
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < N; i++) {
			struct pprof_line l = { .function = name, .line = i };

			snprintf(name, sizeof(name), "fn_%d", i);
			int64_t id = pprof_add_location(b, 1, 0x1000 + 4 * (uint64_t)i,
							&l, 1);
			if (id != i + 1)
				bad++;
		}
	}
	CHECK(bad == 0, "%" PRId64 " wrong location ids", bad);
	uint64_t stack[3] = { 1, N / 2, N };
	CHECK(pprof_add_sample(b, stack, 3, 1, NULL, 0) == 0, "big sample");

	Profile *p = encode_decode(b);
	if (p) {
		check_invariants(p);
		CHECK(p->n_location == N && p->n_function == N &&
			      p->n_string_table == N + 6,
		      "big profile: %zu locations %zu functions %zu strings",
		      p->n_location, p->n_function, p->n_string_table);
		perftools__profiles__profile__free_unpacked(p, NULL);
	}
	pprof_builder_free(b);
}

/* Equal stacks with equal labels become one Sample with the counts summed;
 * another label value, another stack or a prefix stack stay apart. */
static void test_aggregation(void)
{
	struct pprof_builder *b = new_builder();
	struct pprof_mapping_info m = { .start = 0x1000, .limit = 0x2000, .filename = "/bin/x" };
	struct pprof_label comm_a = { .key = "comm", .str = "a" }, comm_b = { .key = "comm", .str = "b" };
	struct pprof_label pid = { .key = "pid", .num = 7 };
	uint64_t ab[2] = { 1, 2 }, ba[2] = { 2, 1 };
	size_t raw_len = 0, gz_len = 0;
	uint8_t *gz = NULL;

	if (!b)
		return;
	pprof_add_mapping(b, &m);
	pprof_add_location(b, 1, 0x1100, NULL, 0);
	pprof_add_location(b, 1, 0x1200, NULL, 0);
	CHECK(!pprof_add_sample(b, ab, 2, 3, &comm_a, 1) && !pprof_add_sample(b, ab, 2, 4, &comm_a, 1) &&
		      !pprof_add_sample(b, ab, 2, 5, &comm_b, 1) && !pprof_add_sample(b, ba, 2, 1, &comm_a, 1) &&
		      !pprof_add_sample(b, ab, 1, 1, &comm_a, 1) && !pprof_add_sample(b, ab, 2, 2, &pid, 1) &&
		      !pprof_add_sample(b, ab, 2, 6, &pid, 1) && !pprof_add_sample(b, ab, 2, 1, NULL, 0) &&
		      !pprof_add_sample(b, ab, 2, 1, NULL, 0),
	      "adding samples failed");
	CHECK(pprof_builder_sample_count(b) == 6, "%zu samples, want 6", pprof_builder_sample_count(b));

	Profile *p = encode_decode(b);
	if (p) {
		int64_t want[6][2] = { { 7, 7 * PERIOD }, { 5, 5 * PERIOD }, { 1, PERIOD },
				       { 1, PERIOD }, { 8, 8 * PERIOD }, { 2, 2 * PERIOD } };

		check_invariants(p);
		for (size_t i = 0; i < p->n_sample && i < 6; i++)
			CHECK(p->sample[i]->value[0] == want[i][0] && p->sample[i]->value[1] == want[i][1],
			      "sample %zu: %lld, %lld", i, (long long)p->sample[i]->value[0],
			      (long long)p->sample[i]->value[1]);
		perftools__profiles__profile__free_unpacked(p, NULL);
	}
	CHECK(pprof_builder_encode_gz(b, NULL, &gz, &gz_len, &raw_len) == 0 && raw_len > gz_len / 2 &&
		      raw_len > 0, "raw length %zu (gzip %zu)", raw_len, gz_len);
	free(gz);
	pprof_builder_free(b);

	/* no label ever, and empty stacks: the pools stay empty (under UBSan,
	 * nothing may touch them) */
	b = new_builder();
	if (!b)
		return;
	pprof_add_mapping(b, &m);
	pprof_add_location(b, 1, 0x1100, NULL, 0);
	CHECK(!pprof_add_sample(b, NULL, 0, 1, NULL, 0) && !pprof_add_sample(b, NULL, 0, 2, NULL, 0) &&
		      !pprof_add_sample(b, ab, 1, 1, NULL, 0) && !pprof_add_sample(b, ab, 1, 1, NULL, 0),
	      "adding unlabelled samples failed");
	CHECK(pprof_builder_sample_count(b) == 2, "%zu unlabelled samples, want 2",
	      pprof_builder_sample_count(b));
	pprof_builder_free(b);
}

/* The test profile in path (a fixture in the build tree, for go tool
 * pprof; proto/ does not write files). */
static void write_fixture(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	bool ok = f && fwrite(buf, 1, len, f) == len;

	if (f && fclose(f))
		ok = false;
	CHECK(ok, "write %s", path);
}

int main(int argc, char **argv)
{
	struct pprof_builder *b = new_builder();
	struct ids id = { 0 };

	if (b) {
		build(b, &id);
		Profile *p = encode_decode(b);
		if (p) {
			check_round_trip(p, &id);
			perftools__profiles__profile__free_unpacked(p, NULL);
		}

		/* encoding again gives the same bytes */
		uint8_t *a = NULL, *c = NULL;
		size_t alen = 0, clen = 0;
		CHECK(pprof_builder_encode_gz(b, NULL, &a, &alen, NULL) == 0 &&
			      pprof_builder_encode_gz(b, NULL, &c, &clen, NULL) == 0 &&
			      alen == clen && memcmp(a, c, alen) == 0,
		      "encoding twice differs");
		/* a kept stream, used three times, gives the same bytes */
		struct pprof_gzip *gz = NULL;
		CHECK(pprof_gzip_new(&gz) == 0, "pprof_gzip_new");
		for (int i = 0; i < 3 && gz; i++) {
			free(c);
			c = NULL;
			CHECK(pprof_builder_encode_gz(b, gz, &c, &clen, NULL) == 0 && alen == clen &&
				      memcmp(a, c, alen) == 0,
			      "encoding with a kept stream (use %d) differs", i + 1);
		}
		pprof_gzip_free(gz);
		if (argc > 1 && a)
			write_fixture(argv[1], a, alen);
		free(a);
		free(c);
		pprof_builder_free(b);
	}
	test_empty();
	test_bad_input();
	test_many();
	test_aggregation();
	return check_summary();
}
