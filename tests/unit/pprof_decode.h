/* pprof_decode.h - reading a gzipped profile back in the unit tests.
 *
 * zlib and protobuf-c's generated unpacker: readers independent of the
 * builder under test. Static functions; each test includes it once.
 */
#ifndef BPFPROF_TEST_PPROF_DECODE_H
#define BPFPROF_TEST_PPROF_DECODE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__Function Function;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Mapping Mapping;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Label Label;

static inline uint8_t *gunzip(const uint8_t *in, size_t len, size_t *out_len)
{
	z_stream zs = { 0 };
	size_t cap = 4096;
	uint8_t *out = malloc(cap);
	int ret;

	if (!out || inflateInit2(&zs, 15 + 16) != Z_OK) {
		free(out);
		return NULL;
	}
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	do {
		if (zs.total_out == cap) {
			uint8_t *n = realloc(out, cap * 2);

			if (!n)
				break;
			out = n;
			cap *= 2;
		}
		zs.next_out = out + zs.total_out;
		zs.avail_out = (uInt)(cap - zs.total_out);
		ret = inflate(&zs, Z_NO_FLUSH);
	} while (ret == Z_OK);
	*out_len = zs.total_out;
	inflateEnd(&zs);
	if (ret != Z_STREAM_END || zs.avail_in) {
		free(out);
		return NULL;
	}
	return out;
}

/* The profile in gz, or NULL when it is not gzipped pprof. */
static inline Profile *pprof_decode_gz(const uint8_t *gz, size_t len)
{
	size_t raw_len = 0;
	uint8_t *raw = gunzip(gz, len, &raw_len);
	Profile *p = raw ? perftools__profiles__profile__unpack(NULL, raw_len, raw) : NULL;

	free(raw);
	return p;
}

/* The string at index i, or NULL when i is out of range. */
static inline const char *S(const Profile *p, int64_t i)
{
	return i >= 0 && (uint64_t)i < p->n_string_table ? p->string_table[i]
							  : NULL;
}

static inline bool str_is(const Profile *p, int64_t i, const char *want)
{
	const char *s = S(p, i);

	return s && strcmp(s, want) == 0;
}

static inline const Function *fn_by_id(const Profile *p, uint64_t id)
{
	if (id == 0 || id > p->n_function || p->function[id - 1]->id != id)
		return NULL;
	return p->function[id - 1];
}

static inline const Location *loc_by_id(const Profile *p, uint64_t id)
{
	if (id == 0 || id > p->n_location || p->location[id - 1]->id != id)
		return NULL;
	return p->location[id - 1];
}

#endif
