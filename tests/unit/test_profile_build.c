/* test_profile_build.c - unit test of the interval batch and the profile
 * builder (profiler/session/interval_batch.c, profile_build.c), without BPF.
 *
 * Hand-made batches, a fake resolver that names each address after itself
 * and counts its calls, and profiles read back with protobuf-c: buckets
 * per service, each location resolved once however many services and
 * parts show it, return addresses moved back by one but not the leaf and
 * not a pc after a signal frame, kernel frames on top of user frames, the
 * "[truncated]" root, parts that add up to the whole, the main mapping
 * first, an object's address named once for every process that maps it,
 * and the opts convention (shorter and longer structs).
 */
#include "check.h"
#include "pprof_decode.h"
#include "profile_build.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

struct fake {
	struct sym_mapping kernel, app, lib;
	unsigned calls;
	uint64_t asked[64]; /* addresses resolved, in order */
	char names[64][32];
};

/* Names every address "fn_<hex>" in app (below 0x100000), lib (above),
 * or the kernel. */
static int fake_resolve(void *ctx, pid_t pid, uint64_t start_time, const struct sym_vma *leaf,
			uint64_t addr, struct sym_location *out)
{
	struct fake *f = ctx;
	unsigned i = f->calls++ % 64;

	(void)start_time;
	(void)leaf;
	memset(out, 0, sizeof(*out));
	f->asked[i] = addr;
	snprintf(f->names[i], sizeof(f->names[i]), "%s_%" PRIx64,
		 pid == BATCH_KERNEL_PID ? "k" : "fn", addr);
	out->mapping = pid == BATCH_KERNEL_PID ? &f->kernel : addr < 0x100000 ? &f->app : &f->lib;
	out->nframes = 1;
	out->frames[0].function = f->names[i];
	return 0;
}

/* The fake's three mappings, and no call yet. */
static void fake_init(struct fake *f)
{
	*f = (struct fake){
		.kernel = { .start = 0xffffffff81000000, .limit = 0xffffffff82000000,
			    .path = "[kernel.kallsyms]", .build_id = "", .has_functions = 1 },
		.app = { .start = 0x1000, .limit = 0x100000, .path = "/usr/bin/app",
			 .build_id = "ab", .has_functions = 1 },
		.lib = { .start = 0x100000, .limit = 0x200000, .path = "/lib/libc.so.6",
			 .build_id = "cd", .has_functions = 1 },
	};
}

static struct interval_batch *new_batch(struct fake *f)
{
	struct interval_batch_opts opts = { .sz = sizeof(opts), .resolve = fake_resolve, .ctx = f };
	struct interval_batch *b = NULL;
	int err = interval_batch_new(&opts, &b);

	fake_init(f);
	CHECK(err == 0 && b, "interval_batch_new: %d", err);
	return b;
}

static struct sample_key key_of(uint32_t tgid, const char *comm)
{
	struct sample_key k = { .tgid = tgid, .tid = tgid, .start_time = 1000 + tgid };

	snprintf(k.comm, sizeof(k.comm), "%s", comm);
	snprintf(k.thread_name, sizeof(k.thread_name), "%s", comm);
	return k;
}

/* Builds a profile of batch b and decodes it. */
static Profile *build(struct interval_batch *b, int64_t service, unsigned part, unsigned parts,
		      const struct sym_mapping *main_mapping, struct profile_totals *t)
{
	struct profile_build_opts opts = {
		.sz = sizeof(opts), .period_ns = 10101010, .time_nanos = 1, .duration_nanos = 10,
		.service = service, .sample_labels = PROFILE_LABELS_ALL, .part = part,
		.parts = parts, .main_mapping = main_mapping,
	};
	uint8_t *gz = NULL;
	size_t len = 0;
	int err = profile_build(b, &opts, &gz, &len, t);
	Profile *p;

	CHECK(err == 0, "profile_build: %d", err);
	if (err)
		return NULL;
	p = pprof_decode_gz(gz, len);
	free(gz);
	CHECK(p != NULL, "the profile does not decode");
	return p;
}

/* The function names of sample s, leaf first, joined by ';'. */
static void stack_of(const Profile *p, const Sample *s, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < s->n_location_id; i++) {
		const Location *l = loc_by_id(p, s->location_id[i]);
		const Function *f = l && l->n_line ? fn_by_id(p, l->line[0]->function_id) : NULL;
		const char *name = f ? S(p, f->name) : NULL;

		n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s", i ? ";" : "",
				      name ? name : "?");
	}
}

static int64_t total_of(const Profile *p)
{
	int64_t sum = 0;

	for (size_t i = 0; p && i < p->n_sample; i++)
		sum += p->sample[i]->value[0];
	return sum;
}

/* Two services, one stack shared by both: each bucket has only its own
 * samples, and the shared locations were resolved once. */
static void test_buckets_and_resolved_once(void)
{
	struct fake f;
	struct interval_batch *b = new_batch(&f);
	const uint64_t kernel[] = { 0xffffffff81000100, 0xffffffff81000200 };
	const struct batch_frame user[] = { { 0x1100, true, NULL, NULL }, { 0x1200, false, NULL, NULL } };
	struct sample_key web = key_of(10, "web"), db = key_of(20, "db"), web2 = key_of(10, "web");
	struct profile_totals t;
	char stack[256];
	Profile *p;
	int64_t sweb, sdb;

	if (!b)
		return;
	web2.tid = 11;
	CHECK(!interval_batch_add(b, &web, 5, "websvc", kernel, 2, user, 2, false), "add web");
	CHECK(!interval_batch_add(b, &db, 7, "dbsvc", NULL, 0, user, 2, false), "add db");
	CHECK(!interval_batch_add(b, &web2, 3, "websvc", kernel, 2, user, 2, false), "add web2");
	/* 2 kernel + 2 for pid 10 + 2 for pid 20: another process's addresses
	 * are resolved with its own mappings */
	CHECK(f.calls == 6, "%u resolutions, want 6", f.calls);
	CHECK(!interval_batch_seal(b), "seal");
	sweb = interval_batch_find_service(b, "websvc");
	sdb = interval_batch_find_service(b, "dbsvc");
	CHECK(sweb >= 0 && sdb >= 0 && sweb != sdb, "services %" PRId64 " %" PRId64, sweb, sdb);
	CHECK(interval_batch_find_service(b, "nope") == -1, "unknown service found");

	p = build(b, sweb, 0, 1, NULL, &t);
	CHECK(p && total_of(p) == 8 && t.samples == 8, "web: %" PRId64 " samples, want 8",
	      total_of(p));
	CHECK(t.processes == 1, "web: %" PRIu64 " processes", t.processes);
	if (p && p->n_sample) {
		stack_of(p, p->sample[0], stack, sizeof(stack));
		/* the leaf's pc as it is; the return address moved back by one */
		CHECK(!strcmp(stack, "k_ffffffff81000100;k_ffffffff810001ff;fn_1100;fn_11ff"),
		      "web stack %s", stack);
	}
	perftools__profiles__profile__free_unpacked(p, NULL);
	p = build(b, sdb, 0, 1, NULL, &t);
	CHECK(p && total_of(p) == 7 && p->n_sample == 1, "db: %" PRId64 " samples, want 7",
	      total_of(p));
	perftools__profiles__profile__free_unpacked(p, NULL);
	p = build(b, PROFILE_ALL_SERVICES, 0, 1, NULL, &t);
	CHECK(p && total_of(p) == 15 && t.processes == 2, "all: %" PRId64 " samples",
	      total_of(p));
	perftools__profiles__profile__free_unpacked(p, NULL);
	CHECK(f.calls == 6, "building resolved again: %u calls", f.calls);
	interval_batch_free(b);
}

/* A pc after a signal frame is where the signal interrupted the code:
 * symbolized as it is, not moved back into a call instruction. */
static void test_signal_frame(void)
{
	struct fake f;
	struct interval_batch *b = new_batch(&f);
	const struct batch_frame user[] = {
		{ 0x100500, true, NULL, NULL },  /* the signal handler's leaf */
		{ 0x100600, false, NULL, NULL }, /* __restore_rt: a return address */
		{ 0x1300, true, NULL, NULL },    /* interrupted by the signal */
		{ 0x1400, false, NULL, NULL },   /* its caller */
	};
	struct sample_key k = key_of(30, "sig");
	struct profile_totals t;
	char stack[256];
	Profile *p;

	if (!b)
		return;
	CHECK(!interval_batch_add(b, &k, 1, "", NULL, 0, user, 4, false), "add");
	CHECK(f.calls == 4 && f.asked[0] == 0x100500 && f.asked[1] == 0x1005ff &&
		      f.asked[2] == 0x1300 && f.asked[3] == 0x13ff,
	      "asked %#" PRIx64 " %#" PRIx64 " %#" PRIx64 " %#" PRIx64, f.asked[0], f.asked[1],
	      f.asked[2], f.asked[3]);
	CHECK(!interval_batch_seal(b), "seal");
	p = build(b, PROFILE_ALL_SERVICES, 0, 1, NULL, &t);
	if (p && p->n_sample == 1) {
		stack_of(p, p->sample[0], stack, sizeof(stack));
		CHECK(!strcmp(stack, "fn_100500;fn_1005ff;fn_1300;fn_13ff"), "stack %s", stack);
		CHECK(loc_by_id(p, p->sample[0]->location_id[2])->address == 0x1300,
		      "the interrupted pc's location address moved");
	} else {
		CHECK(0, "want one sample");
	}
	perftools__profiles__profile__free_unpacked(p, NULL);
	interval_batch_free(b);
}

/* Parts split the bucket and add up to it; the truncated root is last;
 * the main mapping is the profile's first. */
static void test_parts_truncated_main(void)
{
	struct fake f;
	struct interval_batch *b = new_batch(&f);
	struct profile_totals t;
	int64_t sum = 0;
	size_t messages = 0;
	Profile *p;

	if (!b)
		return;
	for (uint32_t i = 0; i < 9; i++) {
		struct batch_frame user[] = { { 0x100000 + 16 * i, true, NULL, NULL },
					      { 0x1500, false, NULL, NULL } };
		struct sample_key k = key_of(40 + i, "w");

		CHECK(!interval_batch_add(b, &k, i + 1, "one", NULL, 0, user, 2, i == 4), "add %u",
		      i);
	}
	CHECK(!interval_batch_seal(b), "seal");
	for (unsigned part = 0; part < 3; part++) {
		p = build(b, 0, part, 3, NULL, &t);
		sum += total_of(p);
		messages += p ? p->n_sample : 0;
		CHECK(p && p->n_sample == 3, "part %u has %zu samples, want 3", part,
		      p ? p->n_sample : 0);
		perftools__profiles__profile__free_unpacked(p, NULL);
	}
	CHECK(sum == 45 && messages == 9, "parts sum to %" PRId64 " in %zu samples, want 45 in 9",
	      sum, messages);

	p = build(b, 0, 0, 1, &f.app, &t);
	CHECK(p && p->n_mapping >= 2 && str_is(p, p->mapping[0]->filename, "/usr/bin/app"),
	      "the main mapping is not first");
	for (size_t i = 0; p && i < p->n_sample; i++) {
		char stack[256];

		stack_of(p, p->sample[i], stack, sizeof(stack));
		if (p->sample[i]->value[0] == 5)
			CHECK(!strcmp(stack, "fn_100040;fn_14ff;[truncated]"), "truncated: %s", stack);
	}
	perftools__profiles__profile__free_unpacked(p, NULL);
	interval_batch_free(b);
}

/* A resolver in two halves (as the collector's over the symbolizer): pid
 * 70 maps the object "app" at 0x1000, pid 71 at 0x9000 (another base, as
 * ASLR gives): locate says the object and the address in it, naming
 * counts its calls. */
static const int fake_app_object; /* its address is the object's identity */

static int fake_locate(void *ctx, pid_t pid, uint64_t start_time, const struct sym_vma *leaf,
		       const struct sym_mapping *mapping, uint64_t addr, struct sym_location *out)
{
	struct fake *f = ctx;
	uint64_t base = pid == 71 ? 0x9000 : 0x1000;

	(void)start_time;
	(void)leaf;
	memset(out, 0, sizeof(*out));
	/* each process its own mapping; the unwinder's when it gave one */
	out->mapping = mapping ? mapping : pid == 71 ? &f->lib : &f->app;
	out->object = (const struct object *)&fake_app_object;
	out->vaddr = addr - base;
	return 0;
}

static void fake_resolve_object(void *ctx, struct sym_location *loc)
{
	struct fake *f = ctx;
	unsigned i = f->calls++ % 64;

	f->asked[i] = loc->vaddr;
	snprintf(f->names[i], sizeof(f->names[i]), "obj_%" PRIx64, loc->vaddr);
	loc->nframes = 1;
	loc->frames[0].function = f->names[i];
}

/* Two processes map one object at different bases: each has its own
 * locations (addresses, mappings), the object's address is named once. */
static void test_object_named_once(void)
{
	struct fake f;
	struct interval_batch_opts opts = {
		.sz = sizeof(opts), .resolve = fake_resolve, .ctx = &f, .locate = fake_locate,
		.resolve_object = fake_resolve_object,
	};
	struct interval_batch_opts half = { .sz = sizeof(half), .resolve = fake_resolve,
					    .locate = fake_locate };
	struct interval_batch *two = NULL;
	const uint64_t kernel[] = { 0xffffffff81000100 };
	const struct batch_frame u70[] = { { 0x1100, true, NULL, NULL }, { 0x1201, false, NULL, NULL } };
	const struct batch_frame u71[] = { { 0x9100, true, NULL, NULL }, { 0x9201, false, NULL, NULL } };
	const struct batch_frame u70_remapped[] = { { 0x1100, true, &f.kernel, NULL } };
	struct sample_key a = key_of(70, "app"), c = key_of(71, "app");
	struct profile_totals t;
	char stack[256];
	Profile *p;

	fake_init(&f);
	CHECK(interval_batch_new(&half, &two) == -EINVAL && !two, "locate without its half");
	CHECK(!interval_batch_new(&opts, &two) && two, "a batch with two halves");
	if (!two)
		return;
	CHECK(!interval_batch_add(two, &a, 2, "svc-a", kernel, 1, u70, 2, false), "add 70");
	CHECK(!interval_batch_add(two, &c, 3, "svc-c", kernel, 1, u71, 2, false), "add 71");
	/* the kernel's one address through resolve; the object's two once */
	CHECK(f.calls == 3, "%u resolutions, want 3", f.calls);
	CHECK(two->nlocations == 5, "%zu locations, want 5 (one kernel, two per process)",
	      two->nlocations);
	/* the unwinder's mapping goes to locate, and a frame found in another
	 * mapping at the same address (remapped) is another location */
	CHECK(!interval_batch_add(two, &a, 1, "svc-a", NULL, 0, u70_remapped, 1, false),
	      "add 70 remapped");
	CHECK(two->nlocations == 6 && f.calls == 3 &&
		      two->mappings[two->locations[5].mapping - 1] == &f.kernel,
	      "%zu locations, %u resolutions: the unwinder's mapping not used", two->nlocations,
	      f.calls);
	CHECK(!interval_batch_seal(two), "seal");
	p = build(two, PROFILE_ALL_SERVICES, 0, 1, NULL, &t);
	for (size_t i = 0; p && i < p->n_sample; i++) {
		const Location *leaf;

		if (p->sample[i]->value[0] == 1) /* the remapped one */
			continue;
		leaf = loc_by_id(p, p->sample[i]->location_id[1]);
		stack_of(p, p->sample[i], stack, sizeof(stack));
		CHECK(!strcmp(stack, "k_ffffffff81000100;obj_100;obj_200"), "stack %s", stack);
		CHECK(leaf && leaf->address == (p->sample[i]->value[0] == 2 ? 0x1100 : 0x9100),
		      "sample of %" PRId64 ": its process's own address", p->sample[i]->value[0]);
	}
	CHECK(p && p->n_sample == 3 && p->n_mapping == 3, "%zu samples, %zu mappings",
	      p ? p->n_sample : 0, p ? p->n_mapping : 0);
	perftools__profiles__profile__free_unpacked(p, NULL);
	interval_batch_free(two);
}

/* Bad arguments; a cleared batch is empty and usable again. */
static void test_errors_and_clear(void)
{
	struct fake f;
	struct interval_batch *b = new_batch(&f);
	struct interval_batch_opts bad = { .sz = sizeof(bad) };
	struct interval_batch *none = NULL;
	struct profile_totals t;
	const struct batch_frame user[] = { { 0x1100, true, NULL, NULL } };
	struct sample_key k = key_of(50, "x");
	uint8_t *gz = NULL;
	size_t len = 0;
	struct profile_build_opts opts = { .sz = sizeof(opts), .service = 3 };
	Profile *p;

	CHECK(interval_batch_new(&bad, &none) == -EINVAL && !none, "no resolver accepted");
	if (!b)
		return;
	CHECK(!interval_batch_add(b, &k, 1, "s", NULL, 0, user, 1, false), "add");
	CHECK(profile_build(b, &opts, &gz, &len, &t) == -EINVAL, "an unsealed batch was built");
	CHECK(!interval_batch_seal(b), "seal");
	CHECK(profile_build(b, &opts, &gz, &len, &t) == -EINVAL, "service 3 of 1 was built");
	interval_batch_clear(b);
	CHECK(b->nsamples == 0 && b->nlocations == 0 && b->nservices == 0, "clear left samples");
	CHECK(!interval_batch_add(b, &k, 2, "s", NULL, 0, user, 1, false), "add after clear");
	CHECK(!interval_batch_seal(b), "seal");
	p = build(b, 0, 0, 1, NULL, &t);
	CHECK(p && total_of(p) == 2, "after clear: %" PRId64 " samples", total_of(p));
	perftools__profiles__profile__free_unpacked(p, NULL);
	interval_batch_free(b);
}

/* The opts convention (opts.h): an older caller's shorter struct is read
 * only up to its sz (the fields it lacks take their defaults, whatever the
 * memory after it holds); a newer caller's longer struct is accepted when
 * the tail this code does not know is zero, refused when it is not. */
static void test_opts_sizes(void)
{
	struct fake f;
	struct interval_batch *b = new_batch(&f);
	const struct batch_frame user[] = { { 0x1100, true, NULL, NULL } };
	struct sample_key k1 = key_of(60, "a"), k2 = key_of(61, "b");
	struct {
		struct profile_build_opts o;
		uint64_t newer;
	} big = { .o = { .sz = sizeof(big), .period_ns = 10101010, .duration_nanos = 10 } };
	struct {
		struct interval_batch_opts o;
		uint64_t newer;
	} big_batch = { .o = { .sz = sizeof(big_batch), .resolve = fake_resolve, .ctx = &f },
			.newer = 1 };
	struct profile_build_opts old = {
		/* a caller that knows only the profile's times: no service,
		 * labels or parts, so the ones set below must not be read */
		.sz = offsetof(struct profile_build_opts, service),
		.period_ns = 10101010, .duration_nanos = 10,
		.service = 7, .sample_labels = PROFILE_LABELS_ALL, .part = 1, .parts = 2,
	};
	struct interval_batch *none = NULL;
	struct profile_totals t;
	uint8_t *gz = NULL;
	size_t len = 0;
	Profile *p = NULL;
	int err;

	CHECK(interval_batch_new(&big_batch.o, &none) == -EINVAL && !none,
	      "batch opts with an unknown nonzero tail accepted");
	big_batch.newer = 0;
	err = interval_batch_new(&big_batch.o, &none);
	CHECK(err == 0 && none, "batch opts with a zero tail: %d", err);
	interval_batch_free(none);
	if (!b)
		return;
	CHECK(!interval_batch_add(b, &k1, 3, "s", NULL, 0, user, 1, false), "add");
	CHECK(!interval_batch_add(b, &k2, 4, "s", NULL, 0, user, 1, false), "add");
	CHECK(!interval_batch_seal(b), "seal");

	err = profile_build(b, &old, &gz, &len, &t);
	CHECK(err == 0, "a shorter opts struct: %d", err);
	if (!err)
		p = pprof_decode_gz(gz, len);
	free(gz);
	gz = NULL;
	/* one part of service 0, and without labels the two processes' one
	 * stack is one pprof Sample */
	CHECK(p && total_of(p) == 7 && p->n_sample == 1 && p->sample[0]->n_label == 0,
	      "shorter opts: %" PRId64 " samples in %zu, want 7 in 1 without labels",
	      p ? total_of(p) : -1, p ? p->n_sample : 0);
	perftools__profiles__profile__free_unpacked(p, NULL);

	big.newer = 1;
	CHECK(profile_build(b, &big.o, &gz, &len, &t) == -EINVAL && !gz,
	      "build opts with an unknown nonzero tail accepted");
	big.newer = 0;
	err = profile_build(b, &big.o, &gz, &len, &t);
	CHECK(err == 0 && gz, "build opts with a zero tail: %d", err);
	free(gz);
	old.sz = 0;
	CHECK(profile_build(b, &old, &gz, &len, &t) == -EINVAL, "opts.sz 0 accepted");
	interval_batch_free(b);
}

int main(void)
{
	test_buckets_and_resolved_once();
	test_signal_frame();
	test_parts_truncated_main();
	test_object_named_once();
	test_errors_and_clear();
	test_opts_sizes();
	return check_summary();
}
