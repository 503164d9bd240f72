/* pprof_read.h - a pprof profile read back, checked, into a model.
 *
 * The input is anyone's file (ours, Go's runtime/pprof, any other writer)
 * and may be hostile: pprof_read() takes a buffer and its length, gzipped
 * (starts with 1f 8b) or not, and either gives a model whose every index
 * is in range or fails with -EINVAL and one line saying why (in the
 * caller's error buffer), never reading past the input nor holding more
 * than a bounded multiple of it: the gzip stream is inflated up to
 * max_bytes (a gzip bomb stops there, -E2BIG), and protobuf-c allocates
 * what the bytes it parses describe.
 *
 * What is refused is what google/pprof's parser refuses (its CheckValid
 * and decoder), so a file `go tool pprof` reads is read here: an empty
 * input, bytes that are not a Profile message, an empty string table or
 * one whose first string is not "", a string index out of range, samples
 * without sample types or with another count of values, a mapping,
 * function or location id that is 0 or used twice, a line naming no
 * function, a sample naming no location. As in pprof, a location's mapping
 * id that names no mapping means "no mapping", and a label with neither a
 * string nor a number is dropped.
 *
 * The model refers to the table entries by their index in the model's
 * arrays (the ids are gone); strings point into the model (valid until
 * pprof_model_free). Stacks are leaf first, as in pprof.
 */
#ifndef BPFPROF_PPROF_READ_H
#define BPFPROF_PPROF_READ_H

#include <stddef.h>
#include <stdint.h>

#define PPROF_READ_MAX_BYTES ((size_t)1 << 30) /* default inflated size cap */
#define PPROF_NONE UINT32_MAX                  /* "no mapping" */

struct pprof_value_type {
	const char *type, *unit;
};

struct pprof_model_mapping {
	uint64_t start, limit, file_offset;
	const char *file, *build_id;
};

struct pprof_model_function {
	const char *name, *system_name, *file;
	int64_t start_line;
};

/* One frame of a location: inlined ones first, the out-of-line one last. */
struct pprof_model_line {
	uint32_t function; /* index in functions */
	int64_t line;
};

struct pprof_model_location {
	uint64_t address;
	uint32_t mapping;    /* index in mappings, or PPROF_NONE */
	uint32_t first_line; /* lines[first_line .. + nlines) */
	uint32_t nlines;
};

/* A label: a string one (str != NULL) or a number (num, in num_unit). */
struct pprof_model_label {
	const char *key, *str, *num_unit;
	int64_t num;
};

struct pprof_model_sample {
	size_t first_location, nlocations; /* stack[first_location ..), leaf first */
	size_t first_label, nlabels;       /* labels[first_label ..) */
	const int64_t *values;             /* ntypes of them */
};

struct pprof_model {
	struct pprof_value_type *types; /* sample types */
	size_t ntypes;
	size_t default_type;           /* index in types (the last when unnamed) */
	struct pprof_value_type period_type;
	int64_t period, time_nanos, duration_nanos;
	struct pprof_model_mapping *mappings;
	size_t nmappings;
	struct pprof_model_function *functions;
	size_t nfunctions;
	struct pprof_model_location *locations;
	size_t nlocations;
	struct pprof_model_line *lines;
	size_t nlines;
	struct pprof_model_sample *samples;
	size_t nsamples;
	uint32_t *stack; /* location indices */
	size_t nstack;
	struct pprof_model_label *labels;
	size_t nlabels;
	void *message; /* private: the decoded protobuf the strings live in */
};

/* Reads buf[0 .. len) into *out, inflated to at most max_bytes (0:
 * PPROF_READ_MAX_BYTES). 0, -EINVAL (not a valid profile), -E2BIG (it
 * inflates past max_bytes) or -ENOMEM; on an error, why, one line without
 * a newline, in error[0 .. error_size) (error may be NULL). */
int pprof_read(const void *buf, size_t len, size_t max_bytes, char *error, size_t error_size,
	       struct pprof_model **out);
void pprof_model_free(struct pprof_model *m);

#endif
