/* fuzz_python_code.c - CPython code objects (interpreter/python_code.h)
 * and _Py_DebugOffsets (python_layout_check).
 *
 * The input is a fake process. Byte 0: bits 0-1 pick the layout (CPython
 * 3.(11 + bits)), bit 2 writes code_type over the ob_type of the code
 * object (so mutations of the rest get past the type check); bytes 1-8
 * are code_type, bytes 9-10 where the code object is (a signed 16-bit
 * offset from the image's base, little-endian, so it can start below the
 * image or run past it); the rest is the image, the only memory there is:
 * mapped at IMAGE_BASE, exactly that long (a heap copy), every read of a
 * byte outside it fails as a whole with -EFAULT.
 *
 * The image is also the start of a _PyRuntime for python_layout_check:
 * 0, -EPROTO (with a reason, a string) or -EINVAL (fewer bytes than the
 * layout reads) only, and 0 only with the cookie where there is a table.
 *
 * Of python_code_read, checks that the answer is 0, -ENOENT, -EINVAL,
 * -ENOMEM or -EFAULT; that a failure leaves no location table; that at
 * most seven reads are asked for (the code object, two headers and two
 * texts for the strings, one header and the contents of the bytes), none
 * larger than its cap, and that a read failing ends the call with its
 * error. On success: the names
 * are NUL-terminated inside PYTHON_NAME_MAX and valid UTF-8 (no overlong
 * form, no surrogate, nothing past U+10FFFF); firstlineno is the int at its
 * offset; the table is at most PYTHON_LINETABLE_MAX bytes, non-NULL iff it
 * is not empty, and holds what the last read gave; python_code_identity
 * then gives the identity the read did.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "python_code.h"
#include "python_layout.h"
#include "utf8_check.h"

#define IMAGE_BASE 0x10000ull
#define HEADER_MAX 256  /* no header read (code, str, bytes) is larger */
#define READS_MAX 7     /* code; 2 x (str header, text); bytes header, contents */
#define FLAG_FORCE_TYPE 0x04

struct image {
	uint8_t *mem;
	size_t size;
	unsigned reads;        /* calls of image_read */
	uint64_t asked;        /* bytes they asked for */
	unsigned big_reads;    /* reads longer than a str's text can be */
	int last_err;          /* of the last read */
	size_t last_off, last_len;
};

static int image_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct image *img = ctx;
	uint64_t off;

	img->reads++;
	img->asked += len;
	FUZZ_CHECK(img->reads <= READS_MAX);
	FUZZ_CHECK(len <= PYTHON_LINETABLE_MAX);
	if (len > PYTHON_NAME_MAX * 4)
		img->big_reads++;
	FUZZ_CHECK(img->big_reads <= 1); /* only the table's contents */
	img->last_err = 0;
	img->last_off = 0;
	img->last_len = 0;
	if (len == 0)
		return 0; /* as process_mem_read: nothing to read, anywhere */
	if (addr < IMAGE_BASE || addr - IMAGE_BASE > img->size ||
	    len > img->size - (addr - IMAGE_BASE)) {
		img->last_err = -EFAULT;
		return -EFAULT;
	}
	off = addr - IMAGE_BASE;
	memcpy(buf, img->mem + off, len);
	img->last_off = (size_t)off;
	img->last_len = len;
	return 0;
}

/* name is a NUL-terminated string inside its PYTHON_NAME_MAX, in UTF-8. */
static bool name_ok(const char *name)
{
	const char *nul = memchr(name, '\0', PYTHON_NAME_MAX);

	return nul && utf8_valid(name);
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct python_layout *l;
	struct python_code out;
	struct image img = { 0 };
	char why[128];
	uint64_t code_type, addr, identity;
	int64_t at;
	int ret;

	if (size < 11)
		return 0;
	l = python_layout_find(3, 11 + (data[0] & 3));
	FUZZ_CHECK(l);
	code_type = get_le(data + 1, 8);
	at = (int16_t)get_le(data + 9, 2);
	addr = IMAGE_BASE + (uint64_t)at;
	img.size = size - 11;
	img.mem = malloc(img.size ? img.size : 1);
	FUZZ_CHECK(img.mem);
	memcpy(img.mem, data + 11, img.size);
	if ((data[0] & FLAG_FORCE_TYPE) && at >= 0 && (size_t)at + PYTHON_OB_TYPE + 8 <= img.size)
		memcpy(img.mem + at + PYTHON_OB_TYPE, &code_type, 8);

	/* the image as the start of _PyRuntime, for the layout's check */
	ret = python_layout_check(l, img.mem, img.size, why, sizeof(why));
	FUZZ_CHECK(ret == 0 || ret == -EPROTO || ret == -EINVAL);
	FUZZ_CHECK(ret != -EINVAL || img.size < l->debug.size);
	FUZZ_CHECK(ret != -EPROTO || memchr(why, '\0', sizeof(why)));
	FUZZ_CHECK(ret || !l->debug.size || !memcmp(img.mem, "xdebugpy", 8));

	ret = python_code_read(l, image_read, &img, addr, code_type, &out);
	FUZZ_CHECK(ret == 0 || ret == -ENOENT || ret == -EINVAL || ret == -ENOMEM ||
		   ret == -EFAULT);
	FUZZ_CHECK(img.reads >= 1); /* addr is never 0 here */
	FUZZ_CHECK(img.asked <= 4 * HEADER_MAX + 2 * PYTHON_NAME_MAX * 4 + PYTHON_LINETABLE_MAX);
	if (img.last_err)
		FUZZ_CHECK(ret == img.last_err); /* nothing is read after a failure */
	if (ret) {
		FUZZ_CHECK(!out.linetable && out.linetable_len == 0);
		free(img.mem);
		return 0;
	}

	FUZZ_CHECK(name_ok(out.qualname));
	FUZZ_CHECK(name_ok(out.filename));
	/* The code object was read whole, so its firstlineno is in the image. */
	FUZZ_CHECK(at >= 0 && (size_t)at + l->code_firstlineno + 4 <= img.size);
	FUZZ_CHECK(out.firstlineno == (int32_t)get_le(img.mem + at + l->code_firstlineno, 4));
	FUZZ_CHECK(out.linetable_len <= PYTHON_LINETABLE_MAX);
	FUZZ_CHECK(!out.linetable == !out.linetable_len);
	if (out.linetable_len) {
		FUZZ_CHECK(img.last_len == out.linetable_len);
		FUZZ_CHECK(memcmp(out.linetable, img.mem + img.last_off, out.linetable_len) == 0);
	}
	free(out.linetable);
	/* the identity is read's, from the same header */
	img.reads = 0;
	img.big_reads = 0;
	FUZZ_CHECK(python_code_identity(l, image_read, &img, addr, code_type, &identity) == 0);
	FUZZ_CHECK(identity == out.identity);
	free(img.mem);
	return 0;
}
