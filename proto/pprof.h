/* pprof.h - build a pprof Profile and write it gzipped, atomically.
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

/* Every message of the builder and the writer goes to one function, like
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

/* Encode the profile and gzip it. *out is malloc'ed; the caller frees it.
 * raw_len (may be NULL) gets the size before compression. */
int pprof_builder_encode_gz(struct pprof_builder *b, uint8_t **out,
			    size_t *out_len, size_t *raw_len);

/* A profile file being written, in two steps so that a path that cannot be
 * written fails before there is anything to write: pprof_file_open creates
 * the temporary file ".NAME.XXXXXX" beside the target (O_EXCL | O_NOFOLLOW,
 * so no link is followed) with exactly mode, whatever the umask;
 * pprof_file_commit writes the profile to it, fsyncs it, renames it over the
 * target (a reader sees the old file or the whole new one) and fsyncs the
 * directory. path is relative to dir_fd (a directory fd, or AT_FDCWD); "-"
 * is standard output. Neither logs: they return -EISDIR when path names a
 * directory, -EINVAL when it names another file that is not a regular one
 * (a device, a FIFO: the rename would replace it), -ENOENT when its
 * directory is missing, or what the system said (-ENOSPC, -EROFS, ...), and
 * the caller says what failed. */
struct pprof_file;

int pprof_file_open(int dir_fd, const char *path, unsigned mode, struct pprof_file **out);

/* Frees f. On failure the temporary file is removed: nothing partial stays. */
int pprof_file_commit(struct pprof_file *f, const void *buf, size_t len);

/* pprof_file_commit where profiles must not replace each other (the
 * agent's output directory, where two may want one name): the profile
 * takes the first of the names name(ctx, 0, ...), name(ctx, 1, ...), ...
 * that no file has, each claimed with renameat2(RENAME_NOREPLACE) (link +
 * unlink where the file system lacks it), so two writers never get one
 * name and none is checked before it is taken. name() writes a name of at
 * most size bytes in the directory of pprof_file_open's path (which named
 * the temporary file only) and returns 0, or a negative errno that ends
 * the search and is returned (-EEXIST after its last name). Frees f; on
 * failure the temporary file is removed. -EINVAL for standard output. */
typedef int (*pprof_name_fn)(void *ctx, unsigned i, char *out, size_t size);
int pprof_file_commit_noreplace(struct pprof_file *f, const void *buf, size_t len,
				pprof_name_fn name, void *ctx);

/* Removes the temporary file and frees f (NULL: nothing). */
void pprof_file_discard(struct pprof_file *f);

/* pprof_file_open + commit for tools: the file keeps the mode of the one it
 * replaces, else 0666 & ~umask, as open(O_CREAT) would give. Logs one line
 * on failure. */
int pprof_write_file_atomic(const char *path, const void *buf, size_t len);

#endif
