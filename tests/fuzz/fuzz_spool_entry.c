/* fuzz_spool_entry.c - spool entry files (profiler/upload/spool.h).
 *
 * Feeds the input to spool_entry_parse twice: as it is, and as a copy
 * whose last 4 bytes are replaced by the CRC-32 of the others, so that
 * mutations get past the checksum to the fields behind it. Checks that a
 * parse answers 0, -EBADMSG or -ENOMEM, and on success that the body lies
 * inside the buffer and the service and labels are NUL-terminated strings.
 */
#include <errno.h>
#include <string.h>
#include <zlib.h>

#include "fuzz_util.h"
#include "spool.h"

static void parse(const uint8_t *buf, size_t len)
{
	struct spool_entry e;
	int err = spool_entry_parse(buf, len, &e);

	FUZZ_CHECK(err == 0 || err == -EBADMSG || err == -ENOMEM);
	if (!err) {
		FUZZ_CHECK(e.body >= buf && e.body_len <= len &&
			   (size_t)(e.body - buf) <= len - e.body_len);
		FUZZ_CHECK(e.meta.service);
		(void)strlen(e.meta.service);
		for (size_t i = 0; i < e.meta.nlabels; i++)
			(void)(strlen(e.meta.labels[i].key) + strlen(e.meta.labels[i].value));
	}
	spool_entry_free(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;
	uint32_t crc;

	parse(data, size);
	if (size < 4)
		return 0;
	fixed = malloc(size);
	FUZZ_CHECK(fixed);
	memcpy(fixed, data, size);
	crc = (uint32_t)crc32_z(0, fixed, size - 4);
	memcpy(fixed + size - 4, &crc, 4); /* little-endian, like the file */
	parse(fixed, size);
	free(fixed);
	return 0;
}
