/* python_code.c - see python_code.h. */
#include "python_code.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODE_HEADER 160 /* bytes of a code object read: every field used is below */
#define STR_HEADER 72   /* room for any layout's ascii_size (sizeof(PyASCIIObject)) */

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Appends code point cp to out[*n] as UTF-8 if it fits (out has size
 * bytes, one kept for the NUL); false when it does not. */
static bool put_utf8(char *out, size_t size, size_t *n, uint32_t cp)
{
	uint8_t b[4];
	size_t len;

	if (cp >= 0xd800 && (cp < 0xe000 || cp > 0x10ffff))
		cp = 0xfffd; /* a lone surrogate, or past Unicode: not UTF-8 */
	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		len = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		len = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		len = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		len = 4;
	}
	if (*n + len >= size)
		return false;
	memcpy(out + *n, b, len);
	*n += len;
	return true;
}

/* The str object at addr as UTF-8 into out (size bytes), cut at a
 * character when longer; "?" when it is not a compact str. */
static int read_str(const struct python_layout *l, mem_read_fn read, void *ctx, uint64_t addr,
		    char *out, size_t size)
{
	uint8_t hdr[STR_HEADER], data[PYTHON_NAME_MAX * 4];
	uint64_t length;
	uint32_t state, kind;
	size_t n = 0, chars;
	int err;

	out[0] = '\0';
	if (!addr)
		return -EINVAL;
	err = read(ctx, addr, hdr, l->ascii_size); /* length and state: all it needs */
	if (err)
		return err;
	length = get_u64(hdr + PYTHON_STR_LENGTH);
	state = get_u32(hdr + PYTHON_STR_STATE);
	kind = state >> 2 & 7;
	if (!(state & 1u << 5) || (kind != 1 && kind != 2 && kind != 4)) {
		snprintf(out, size, "?");
		return 0;
	}
	chars = length < PYTHON_NAME_MAX ? (size_t)length : PYTHON_NAME_MAX;
	err = read(ctx, addr + (state & 1u << 6 ? l->ascii_size : l->compact_size), data,
		   chars * kind);
	if (err)
		return err;
	for (size_t i = 0; i < chars; i++) {
		uint32_t cp = kind == 1 ? data[i]
			    : kind == 2 ? (uint32_t)data[2 * i] | (uint32_t)data[2 * i + 1] << 8
					: get_u32(data + 4 * i);

		if (!put_utf8(out, size, &n, cp))
			break;
	}
	out[n] = '\0';
	return 0;
}

/* The bytes object at addr: its contents, malloc'ed. */
static int read_bytes(mem_read_fn read, void *ctx, uint64_t addr, uint8_t **out, size_t *len)
{
	uint8_t hdr[PYTHON_BYTES_DATA];
	uint64_t size;
	int err;

	*out = NULL;
	*len = 0;
	if (!addr)
		return -EINVAL;
	err = read(ctx, addr, hdr, sizeof(hdr));
	if (err)
		return err;
	size = get_u64(hdr + PYTHON_VAR_SIZE);
	if (size > PYTHON_LINETABLE_MAX)
		return -EINVAL;
	if (size == 0)
		return 0;
	*out = malloc((size_t)size);
	if (!*out)
		return -ENOMEM;
	err = read(ctx, addr + PYTHON_BYTES_DATA, *out, (size_t)size);
	if (err) {
		free(*out);
		*out = NULL;
		return err;
	}
	*len = (size_t)size;
	return 0;
}

/* Reads the header of the code object at addr into code: its type must
 * be code_type; *identity gets the hash of what identifies it. */
static int read_header(const struct python_layout *l, mem_read_fn read, void *ctx, uint64_t addr,
		       uint64_t code_type, uint8_t code[CODE_HEADER], uint64_t *identity)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a over the fields */
	uint64_t fields[4];
	int err;

	if (!addr)
		return -ENOENT;
	err = read(ctx, addr, code, CODE_HEADER);
	if (err)
		return err;
	if (get_u64(code + PYTHON_OB_TYPE) != code_type)
		return -ENOENT;
	fields[0] = get_u32(code + l->code_firstlineno);
	fields[1] = get_u64(code + l->code_qualname);
	fields[2] = get_u64(code + l->code_filename);
	fields[3] = get_u64(code + l->code_linetable);
	for (size_t i = 0; i < sizeof(fields); i++) {
		h ^= ((const uint8_t *)fields)[i];
		h *= 0x100000001b3ull;
	}
	*identity = h;
	return 0;
}

int python_code_identity(const struct python_layout *l, mem_read_fn read, void *ctx,
			 uint64_t addr, uint64_t code_type, uint64_t *out)
{
	uint8_t code[CODE_HEADER];

	return read_header(l, read, ctx, addr, code_type, code, out);
}

int python_code_read(const struct python_layout *l, mem_read_fn read, void *ctx, uint64_t addr,
		     uint64_t code_type, struct python_code *out)
{
	uint8_t code[CODE_HEADER];
	int err;

	memset(out, 0, sizeof(*out));
	err = read_header(l, read, ctx, addr, code_type, code, &out->identity);
	if (err)
		return err;
	out->firstlineno = (int32_t)get_u32(code + l->code_firstlineno);
	err = read_str(l, read, ctx, get_u64(code + l->code_qualname), out->qualname,
		       sizeof(out->qualname));
	if (!err)
		err = read_str(l, read, ctx, get_u64(code + l->code_filename), out->filename,
			       sizeof(out->filename));
	if (!err)
		err = read_bytes(read, ctx, get_u64(code + l->code_linetable), &out->linetable,
				 &out->linetable_len);
	return err;
}
