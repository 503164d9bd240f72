/* pprof_gzip.c - gzip (RFC 1952) of an encoded profile, with a deflate
 * stream that can be kept from one profile to the next.
 *
 * Setting a stream up (deflateInit2: ~270 KiB of window, hash chains and
 * buffers, fresh pages the kernel must fault in and zero) costs more than
 * compressing a small profile: ~60 us against ~15 us for a 2 KiB one. An
 * agent that writes one profile per service per interval keeps one
 * struct pprof_gzip and resets it (deflateReset keeps the memory) instead.
 * The output is the same either way.
 */
#include "pprof_gzip.h"
#include "pprof_log.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST
#include <zlib.h>

struct pprof_gzip {
	z_stream zs;
};

static int init_stream(z_stream *zs)
{
	int ret;

	memset(zs, 0, sizeof(*zs));
	ret = deflateInit2(zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16 /* gzip */, 8,
			   Z_DEFAULT_STRATEGY);
	if (ret == Z_OK)
		return 0;
	pprof_log("gzip: deflateInit2: %s", zError(ret));
	return ret == Z_MEM_ERROR ? -ENOMEM : -EIO;
}

int pprof_gzip_new(struct pprof_gzip **out)
{
	struct pprof_gzip *z;
	int err;

	if (!out)
		return -EINVAL;
	z = malloc(sizeof(*z));
	if (!z) {
		pprof_log("gzip: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	err = init_stream(&z->zs);
	if (err) {
		free(z);
		return err;
	}
	*out = z;
	return 0;
}

void pprof_gzip_free(struct pprof_gzip *z)
{
	if (!z)
		return;
	deflateEnd(&z->zs);
	free(z);
}

/* Compresses with zs, ready (just initialised or reset). */
static int deflate_all(z_stream *zs, const uint8_t *in, size_t len, uint8_t **out,
		       size_t *out_len)
{
	uLong cap = deflateBound(zs, (uLong)len);
	uint8_t *buf = malloc(cap);
	int ret;

	if (!buf) {
		pprof_log("gzip: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	zs->next_in = in;
	zs->avail_in = (uInt)len;
	zs->next_out = buf;
	zs->avail_out = (uInt)cap;
	ret = deflate(zs, Z_FINISH);
	if (ret != Z_STREAM_END) {
		pprof_log("gzip: deflate: %s", ret == Z_OK ? "output buffer too small" : zError(ret));
		free(buf);
		return -EIO;
	}
	*out_len = zs->total_out;
	*out = buf;
	return 0;
}

int pprof_gzip_bytes(struct pprof_gzip *z, const uint8_t *in, size_t len, uint8_t **out,
		     size_t *out_len)
{
	z_stream once;
	int err;

	/* one deflate() call: sizes must fit zlib's 32-bit counters */
	if (len > UINT32_MAX / 2) {
		pprof_log("gzip: profile of %zu bytes is too large", len);
		return -E2BIG;
	}
	if (z) {
		if (deflateReset(&z->zs) != Z_OK) {
			pprof_log("gzip: deflateReset failed");
			return -EIO;
		}
		return deflate_all(&z->zs, in, len, out, out_len);
	}
	err = init_stream(&once);
	if (!err)
		err = deflate_all(&once, in, len, out, out_len);
	deflateEnd(&once);
	return err;
}
