/* pprof_gzip.h - the builder's gzip step (internal; the type and its
 * constructor are public, in pprof.h). */
#ifndef BPFPROF_PPROF_GZIP_H
#define BPFPROF_PPROF_GZIP_H

#include <stddef.h>
#include <stdint.h>

#include "pprof.h"

/* gzips in[0..len) into a malloc'ed *out with z's stream (NULL: a stream
 * made for this call). 0, -ENOMEM, -E2BIG (over 2 GiB) or -EIO; logged. */
int pprof_gzip_bytes(struct pprof_gzip *z, const uint8_t *in, size_t len, uint8_t **out,
		     size_t *out_len);

#endif
