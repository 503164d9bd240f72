/* pprof.h - build a pprof Profile and encode it, gzipped.
 *
 * The builder owns the tables of a perftools.profiles.Profile (see
 * proto/profile.proto, the upstream schema) and deduplicates as it goes:
 *  - strings: one string_table entry per distinct string, index 0 is "";
 *  - mappings: identical (start, limit, offset, filename, build_id) share an id
 *    (the has_* flags given for the first one win);
 *  - functions: identical (name, system_name, filename, start_line) share an id;
 *  - locations: identical (mapping_id, address) share an id (the lines given
 *    for the first one win). Exception: mapping_id 0 with address 0 marks a
 *    synthetic frame (e.g. a process-name root frame); those share an id only
 *    when their lines are identical too.
 * Ids are 1..N in table order, as pprof consumers want. Deduplication uses
 * hash tables, so 100k+ entries per table are fine.
 *
 * It writes a CPU profile: sample_type [samples/count, cpu/nanoseconds],
 * period_type cpu/nanoseconds, and each sample's values [n, n * period].
 *
 * Functions return 0 (or an id >= 1) on success, a negative errno on failure
 * (-EINVAL for NULL or invalid arguments, which add nothing to the profile)
 * and then log one line saying what failed, through pprof_set_print()'s
 * callback (never to stderr on their own when one is set). A builder is not
 * thread-safe; it can be encoded any number of times and keeps accepting
 * data afterwards.
 */
#ifndef BPFPROF_PPROF_H
#define BPFPROF_PPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pprof_builder;

/* Every message of the builder goes to one function, like
 * libbpf's: NULL (the default) prints them on stderr as "pprof: MSG".
 * Messages are one line, without newline, each saying why a call failed. */
typedef void (*pprof_print_fn)(const char *msg);
void pprof_set_print(pprof_print_fn fn);

/* What the profile as a whole is: a description of the data (like
 * pprof_mapping_info), not options, so it has no sz and every field is the
 * caller's to set. */
struct pprof_profile_info {
	int64_t period_ns;      /* 1e9 / sampling frequency; > 0 */
	int64_t time_nanos;     /* profile start, ns since the Unix epoch */
	int64_t duration_nanos; /* profile length in ns */
};

struct pprof_mapping_info {
	uint64_t start, limit, file_offset;
	const char *filename; /* required */
	const char *build_id; /* hex; NULL or "" when unknown */
	bool has_functions, has_filenames, has_line_numbers, has_inline_frames;
};

/* One frame of a Location; several lines = inlined frames, innermost first. */
struct pprof_line {
	const char *function;    /* required */
	const char *system_name; /* NULL: same as function */
	const char *filename;    /* NULL when unknown */
	int64_t line;            /* 0 when unknown */
	int64_t start_line;      /* 0 when unknown */
};

/* A label: a string label when str != NULL, else a numeric label. key is
 * required and non-empty. pprof readers silently drop a string label whose
 * str is "" and a numeric label whose num is 0 (the format cannot tell them
 * from "unset"). */
struct pprof_label {
	const char *key;
	const char *str;
	int64_t num;
};

int pprof_builder_new(const struct pprof_profile_info *info,
		      struct pprof_builder **out);
void pprof_builder_free(struct pprof_builder *b);

/* Returns the mapping id (>= 1) or a negative errno (-EINVAL when limit <
 * start). filename "[kernel.kallsyms]" is how pprof knows the kernel. */
int64_t pprof_add_mapping(struct pprof_builder *b,
			  const struct pprof_mapping_info *m);

/* mapping_id 0 means no mapping, else it must be an id returned by
 * pprof_add_mapping. nlines may be 0 (unsymbolized address).
 * Returns the location id (>= 1) or a negative errno. */
int64_t pprof_add_location(struct pprof_builder *b, uint64_t mapping_id,
			   uint64_t address, const struct pprof_line *lines,
			   size_t nlines);

/* location_ids leaf first, each an id returned by pprof_add_location (none
 * at all is allowed); count >= 1 samples (-EOVERFLOW if count * period does
 * not fit in int64); labels copied. A sample with the same locations and
 * labels (in the same order) as an earlier one is added to it: one Sample
 * message per distinct stack and label set, as Pyroscope wants. */
int pprof_add_sample(struct pprof_builder *b, const uint64_t *location_ids,
		     size_t nlocations, int64_t count,
		     const struct pprof_label *labels, size_t nlabels);

/* Sample messages so far (distinct stacks and label sets). */
size_t pprof_builder_sample_count(const struct pprof_builder *b);

/* A gzip stream kept from one profile to the next (pprof_gzip.c): setting
 * one up costs more than compressing a small profile. One thread at a time. */
struct pprof_gzip;

int pprof_gzip_new(struct pprof_gzip **out); /* 0, -ENOMEM or -EIO (logged) */
void pprof_gzip_free(struct pprof_gzip *z);

/* Encode the profile and gzip it, with gz's stream (NULL: one made for this
 * call; the bytes are the same). *out is malloc'ed; the caller frees it.
 * raw_len (may be NULL) gets the size before compression. */
int pprof_builder_encode_gz(struct pprof_builder *b, struct pprof_gzip *gz, uint8_t **out,
			    size_t *out_len, size_t *raw_len);

#endif
