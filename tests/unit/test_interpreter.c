/* test_interpreter.c - the pure parts of interpreter/.
 *
 * stack_merge(): a native stack without interpreter frames comes out
 * unchanged; each eval-loop frame gives way to the next run of Python
 * frames (youngest first, through its entry frame), one run per
 * activation; Python frames left when the native ones run out go at the
 * root end; an eval frame left without a run stays native; and every max
 * below the merged length gives the same frames cut at max, nothing
 * written past it (a guard element after the array).
 *
 * python_code_read() over hand-made memory (a buffer mapped at a fixed
 * address; -EFAULT outside it), code objects built with each supported
 * layout's offsets: ASCII names and an exact location table; UCS-1, UCS-2
 * and UCS-4 names turned into UTF-8, surrogates and code points past
 * Unicode into U+FFFD; a str that is not compact reads "?"; a wrong
 * ob_type and address 0 -ENOENT; a location table over its cap -EINVAL
 * (and none kept); names too long cut at a character, NUL-terminated,
 * valid UTF-8, even when their length field is absurd; pointers outside
 * the memory -EFAULT. python_code_identity(): python_code_read's, and
 * changed by each field it hashes.
 *
 * python_file_name(): the interpreter file names python_detect.h names
 * (python3.N, libpython3.N*.so*, a flavour after the version) and names
 * that are not one.
 *
 * python_layout_check(): a _Py_DebugOffsets that agrees with a layout,
 * and one of each way not to (cookie, version, free-threaded, each of the
 * 16 offsets of 3.13, too few bytes).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "python_code.h"
#include "python_detect.h"
#include "python_layout.h"
#include "stack_merge.h"
#include "utf8_check.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* --- stack_merge() --- */

#define N(i) { .interp = false, .index = (i) }
#define P(i) { .interp = true, .index = (i) }

static const struct interp_function some_function = { .name = "f", .file = "f.py" };

/* Interpreter frames, entry[i]: frame i is the oldest of its run. */
static void make_interp(struct interp_frame *f, const bool *entry, size_t n)
{
	for (size_t i = 0; i < n; i++)
		f[i] = (struct interp_frame){ .function = &some_function, .line = (int)i + 1,
					      .entry = entry[i] };
}

static bool same_frame(struct merged_frame a, struct merged_frame b)
{
	return a.interp == b.interp && a.index == b.index;
}

/* Merges, then checks the frames against want, and again with every max
 * below (and one above) the merged length: the first max of want, and
 * the guard element after the max given untouched. */
static void check_merge(const char *what, const bool *in_eval, size_t nnative,
			const bool *entry, size_t ninterp, const struct merged_frame *want,
			size_t nwant)
{
	static const struct merged_frame guard = { .interp = true, .index = 0xdeadbeef };
	struct interp_frame interp[16];
	struct merged_frame out[32];

	make_interp(interp, entry, ninterp);
	for (size_t max = 0; max <= nwant + 1; max++) {
		size_t expect = max < nwant ? max : nwant, n, bad = SIZE_MAX;

		for (size_t i = 0; i < LEN(out); i++)
			out[i] = guard;
		n = stack_merge(in_eval, nnative, interp, ninterp, out, max);
		for (size_t i = 0; i < expect && i < n && bad == SIZE_MAX; i++)
			if (!same_frame(out[i], want[i]))
				bad = i;
		CHECK(n == expect, "%s, max %zu: %zu frames, want %zu", what, max, n, expect);
		CHECK(bad == SIZE_MAX, "%s, max %zu: frame %zu is %s %u, want %s %u", what, max,
		      bad, bad == SIZE_MAX ? "" : out[bad].interp ? "interp" : "native",
		      bad == SIZE_MAX ? 0 : out[bad].index,
		      bad == SIZE_MAX ? "" : want[bad].interp ? "interp" : "native",
		      bad == SIZE_MAX ? 0 : want[bad].index);
		CHECK(same_frame(out[max], guard), "%s, max %zu: written past max", what, max);
	}
}

static void test_stack_merge(void)
{
	/* No interpreter frames: the native stack as it is, eval frame or not. */
	{
		const bool in_eval[] = { false, false, false, false };
		const struct merged_frame want[] = { N(0), N(1), N(2), N(3) };

		check_merge("native only", in_eval, LEN(in_eval), NULL, 0, want, LEN(want));
	}
	{
		const bool in_eval[] = { false, true, false };
		const struct merged_frame want[] = { N(0), N(1), N(2) };

		check_merge("an eval frame, no Python frames", in_eval, LEN(in_eval), NULL, 0,
			    want, LEN(want));
	}
	/* Leaf C function, eval, main; a run of 3 Python frames. */
	{
		const bool in_eval[] = { false, true, false };
		const bool entry[] = { false, false, true };
		const struct merged_frame want[] = { N(0), P(0), P(1), P(2), N(2) };

		check_merge("one activation", in_eval, LEN(in_eval), entry, LEN(entry), want,
			    LEN(want));
	}
	/* Leaf C function, eval, C (called from Python), eval, main; runs of
	 * 2 and 3. */
	{
		const bool in_eval[] = { false, true, false, true, false };
		const bool entry[] = { false, true, false, false, true };
		const struct merged_frame want[] = { N(0), P(0), P(1), N(2), P(2), P(3), P(4),
						     N(4) };

		check_merge("two activations", in_eval, LEN(in_eval), entry, LEN(entry), want,
			    LEN(want));
	}
	/* The eval frame is the leaf: Python code running, no C below it. */
	{
		const bool in_eval[] = { true, false };
		const bool entry[] = { false, true };
		const struct merged_frame want[] = { P(0), P(1), N(1) };

		check_merge("eval frame at the leaf", in_eval, LEN(in_eval), entry, LEN(entry),
			    want, LEN(want));
	}
	/* The native stack cut short after the first eval frame: the second
	 * run goes at the root end. */
	{
		const bool in_eval[] = { false, true };
		const bool entry[] = { true, false, true };
		const struct merged_frame want[] = { N(0), P(0), P(1), P(2) };

		check_merge("Python frames left over", in_eval, LEN(in_eval), entry, LEN(entry),
			    want, LEN(want));
	}
	/* No native frames at all. */
	{
		const bool entry[] = { false, true };
		const struct merged_frame want[] = { P(0), P(1) };

		check_merge("no native frames", NULL, 0, entry, LEN(entry), want, LEN(want));
	}
	/* The Python stack cut short: the second eval frame has no run left. */
	{
		const bool in_eval[] = { false, true, false, true, false };
		const bool entry[] = { false, true };
		const struct merged_frame want[] = { N(0), P(0), P(1), N(2), N(3), N(4) };

		check_merge("an eval frame with no run left", in_eval, LEN(in_eval), entry,
			    LEN(entry), want, LEN(want));
	}
	/* No entry marked: the first eval frame takes every Python frame. */
	{
		const bool in_eval[] = { true, false, true };
		const bool entry[] = { false, false, false };
		const struct merged_frame want[] = { P(0), P(1), P(2), N(1), N(2) };

		check_merge("a run without its entry", in_eval, LEN(in_eval), entry, LEN(entry),
			    want, LEN(want));
	}
}

/* --- python_code_read() over hand-made memory --- */

#define MEM_BASE 0x7f3a12400000ull
#define MEM_SIZE (1u << 20)
#define CODE_TYPE 0x55d0c0de0040ull /* the process's &PyCode_Type */
#define STR_TYPE 0x55d0c0de0100ull
#define BYTES_TYPE 0x55d0c0de0200ull
#define OUTSIDE (MEM_BASE + MEM_SIZE + 0x10000)

/* MEM_SIZE bytes standing for a process's memory at MEM_BASE; objects are
 * placed one after the other from the start. */
struct mem {
	uint8_t *buf;
	size_t used;
};

static int mem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct mem *m = ctx;

	if (addr < MEM_BASE || addr - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (addr - MEM_BASE))
		return -EFAULT;
	memcpy(buf, m->buf + (addr - MEM_BASE), len);
	return 0;
}

static void mem_init(struct mem *m)
{
	m->buf = calloc(1, MEM_SIZE);
	m->used = 0;
	if (!m->buf) {
		perror("calloc");
		exit(1);
	}
}

static uint64_t mem_alloc(struct mem *m, size_t size)
{
	uint64_t addr = MEM_BASE + m->used;

	if (size > MEM_SIZE - m->used) {
		fprintf(stderr, "test memory full\n");
		exit(1);
	}
	m->used += (size + 15) & ~(size_t)15;
	return addr;
}

static uint8_t *mem_at(struct mem *m, uint64_t addr)
{
	return m->buf + (addr - MEM_BASE);
}

static void put_u64(struct mem *m, uint64_t addr, uint64_t v)
{
	memcpy(mem_at(m, addr), &v, sizeof(v));
}

static void put_u32(struct mem *m, uint64_t addr, uint32_t v)
{
	memcpy(mem_at(m, addr), &v, sizeof(v));
}

#define STR_COMPACT (1u << 5)
#define STR_ASCII (1u << 6)
#define STR_INTERNED 1u /* bits 0-1: the reader must not care */

/* A str object of n code points cps, kind 1, 2 or 4 bytes each, flags
 * STR_COMPACT, STR_ASCII (its characters then after ascii_size, else
 * after compact_size), with a NUL character after them as CPython has. */
static uint64_t put_str(struct mem *m, const struct python_layout *l, unsigned kind,
			uint32_t flags, const uint32_t *cps, size_t n)
{
	size_t data = flags & STR_ASCII ? l->ascii_size : l->compact_size;
	size_t size = data + (n + 1) * kind;
	uint64_t addr = mem_alloc(m, size > l->compact_size ? size : l->compact_size);

	put_u64(m, addr, 1); /* ob_refcnt */
	put_u64(m, addr + PYTHON_OB_TYPE, STR_TYPE);
	put_u64(m, addr + PYTHON_STR_LENGTH, n);
	put_u64(m, addr + 24, 0x1234567890abcdefull); /* hash */
	put_u32(m, addr + PYTHON_STR_STATE, kind << 2 | flags);
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = mem_at(m, addr + data + i * kind);

		if (kind == 1)
			p[0] = (uint8_t)cps[i];
		else if (kind == 2) {
			p[0] = (uint8_t)cps[i];
			p[1] = (uint8_t)(cps[i] >> 8);
		} else
			memcpy(p, &cps[i], 4);
	}
	return addr;
}

/* A compact ASCII str of s. */
static uint64_t put_ascii(struct mem *m, const struct python_layout *l, const char *s)
{
	uint32_t cps[1024] = { 0 }; /* all set below: gcc -O3 cannot tell */
	size_t n = strlen(s);

	if (n > LEN(cps)) {
		fprintf(stderr, "put_ascii: too long\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		cps[i] = (unsigned char)s[i];
	return put_str(m, l, 1, STR_COMPACT | STR_ASCII | STR_INTERNED, cps, n);
}

/* A bytes object of size bytes, data (NULL: zeros). */
static uint64_t put_bytes(struct mem *m, const uint8_t *data, size_t size)
{
	uint64_t addr = mem_alloc(m, PYTHON_BYTES_DATA + size + 1);

	put_u64(m, addr, 1);
	put_u64(m, addr + PYTHON_OB_TYPE, BYTES_TYPE);
	put_u64(m, addr + PYTHON_VAR_SIZE, size);
	put_u64(m, addr + 24, (uint64_t)-1); /* ob_shash */
	if (data)
		memcpy(mem_at(m, addr + PYTHON_BYTES_DATA), data, size);
	return addr;
}

/* A code object of type type (CODE_TYPE for a real one). */
static uint64_t put_code(struct mem *m, const struct python_layout *l, uint64_t type,
			 int32_t firstlineno, uint64_t qualname, uint64_t filename,
			 uint64_t linetable)
{
	uint64_t addr = mem_alloc(m, 256);

	put_u64(m, addr, 1);
	put_u64(m, addr + PYTHON_OB_TYPE, type);
	put_u32(m, addr + l->code_firstlineno, (uint32_t)firstlineno);
	put_u64(m, addr + l->code_name, OUTSIDE); /* never read */
	put_u64(m, addr + l->code_qualname, qualname);
	put_u64(m, addr + l->code_filename, filename);
	put_u64(m, addr + l->code_linetable, linetable);
	return addr;
}

/* Reads the code object whose qualname is the str at name (an ASCII
 * filename and a short table around it): the qualname read, or NULL with
 * *ret the error. */
static const char *read_name(struct mem *m, const struct python_layout *l, uint64_t name,
			     int *ret)
{
	static struct python_code code;
	const uint8_t table[] = { 0x80, 0x00 };
	uint64_t file = put_ascii(m, l, "/srv/app/names.py");
	uint64_t addr = put_code(m, l, CODE_TYPE, 1, name, file, put_bytes(m, table, 2));

	*ret = python_code_read(l, mem_read, m, addr, CODE_TYPE, &code);
	free(code.linetable);
	if (*ret)
		return NULL;
	if (strcmp(code.filename, "/srv/app/names.py")) {
		fprintf(stderr, "read_name: filename \"%s\"\n", code.filename);
		*ret = -1000;
		return NULL;
	}
	return code.qualname;
}

/* The ASCII case: names, first line and table, for layout l. */
static void test_code_ascii(const struct python_layout *l)
{
	/* A 3.11+ location table: bytes 0x00 and 0xff among them. */
	const uint8_t table[] = { 0x80, 0x00, 0xd8, 0x06, 0x0c, 0x00, 0xff, 0x7f, 0x01, 0xf0 };
	struct python_code code;
	struct mem m;
	uint64_t addr;
	int ret;

	mem_init(&m);
	addr = put_code(&m, l, CODE_TYPE, 4242, put_ascii(&m, l, "Handler.handle_request"),
			put_ascii(&m, l, "/srv/app/handlers.py"),
			put_bytes(&m, table, sizeof(table)));
	ret = python_code_read(l, mem_read, &m, addr, CODE_TYPE, &code);
	CHECK(ret == 0, "%u.%u ASCII: %d", l->major, l->minor, ret);
	CHECK(!strcmp(code.qualname, "Handler.handle_request"), "%u.%u qualname \"%s\"", l->major,
	      l->minor, code.qualname);
	CHECK(!strcmp(code.filename, "/srv/app/handlers.py"), "%u.%u filename \"%s\"", l->major,
	      l->minor, code.filename);
	CHECK(code.firstlineno == 4242, "%u.%u firstlineno %d", l->major, l->minor,
	      (int)code.firstlineno);
	CHECK(code.linetable_len == sizeof(table) && code.linetable &&
		      !memcmp(code.linetable, table, sizeof(table)),
	      "%u.%u linetable: %zu bytes", l->major, l->minor, code.linetable_len);
	free(code.linetable);

	/* An empty table: no bytes, nothing allocated. */
	addr = put_code(&m, l, CODE_TYPE, 1, put_ascii(&m, l, "<module>"),
			put_ascii(&m, l, "m.py"), put_bytes(&m, NULL, 0));
	ret = python_code_read(l, mem_read, &m, addr, CODE_TYPE, &code);
	CHECK(ret == 0 && !strcmp(code.qualname, "<module>") && code.linetable_len == 0 &&
		      !code.linetable,
	      "%u.%u empty linetable: %d, %zu bytes", l->major, l->minor, ret, code.linetable_len);
	free(code.linetable);

	/* An empty name. */
	addr = put_code(&m, l, CODE_TYPE, 1, put_ascii(&m, l, ""), put_ascii(&m, l, "m.py"),
			put_bytes(&m, table, 1));
	ret = python_code_read(l, mem_read, &m, addr, CODE_TYPE, &code);
	CHECK(ret == 0 && code.qualname[0] == '\0', "%u.%u empty qualname: %d \"%s\"", l->major,
	      l->minor, ret, code.qualname);
	free(code.linetable);
	free(m.buf);
}

struct name_case {
	const char *what;
	unsigned kind;
	uint32_t flags;
	uint32_t cps[8];
	size_t n;
	const char *want;
};

static void test_code_strings(const struct python_layout *l)
{
	static const struct name_case cases[] = {
		{ "UCS-1 latin-1", 1, STR_COMPACT, { 'c', 'a', 'f', 0xe9 }, 4, "caf\xc3\xa9" },
		{ "UCS-1 U+00FF", 1, STR_COMPACT, { 0xff, 'x' }, 2, "\xc3\xbfx" },
		{ "UCS-2 CJK", 2, STR_COMPACT, { 0x4e2d, 0x6587, '.', 0xe9 }, 4,
		  "\xe4\xb8\xad\xe6\x96\x87.\xc3\xa9" },
		{ "UCS-2 U+FFFF", 2, STR_COMPACT, { 0xffff }, 1, "\xef\xbf\xbf" },
		{ "UCS-4 emoji", 4, STR_COMPACT, { 'f', 0x1f600, 0x4e2d }, 3,
		  "f\xf0\x9f\x98\x80\xe4\xb8\xad" },
		{ "UCS-4 U+10FFFF", 4, STR_COMPACT, { 0x10ffff }, 1, "\xf4\x8f\xbf\xbf" },
		{ "UCS-2 lone surrogate", 2, STR_COMPACT, { 'a', 0xd800, 'b' }, 3,
		  "a\xef\xbf\xbd" "b" },
		{ "UCS-2 low surrogate", 2, STR_COMPACT, { 0xdfff }, 1, "\xef\xbf\xbd" },
		{ "UCS-2 U+E000 after the surrogates", 2, STR_COMPACT, { 0xe000 }, 1,
		  "\xee\x80\x80" },
		{ "UCS-4 surrogate", 4, STR_COMPACT, { 0xdc00 }, 1, "\xef\xbf\xbd" },
		{ "UCS-4 past Unicode", 4, STR_COMPACT, { 0x110000, 0xffffffff }, 2,
		  "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "not compact", 1, STR_ASCII, { 'a', 'b' }, 2, "?" },
		{ "not compact UCS-2", 2, 0, { 0x4e2d }, 1, "?" },
		{ "no such kind", 3, STR_COMPACT, { 'a' }, 1, "?" },
	};

	for (size_t i = 0; i < LEN(cases); i++) {
		const struct name_case *c = &cases[i];
		struct mem m;
		const char *got;
		int ret;

		mem_init(&m);
		got = read_name(&m, l, put_str(&m, l, c->kind, c->flags, c->cps, c->n), &ret);
		CHECK(ret == 0, "%u.%u %s: %d", l->major, l->minor, c->what, ret);
		if (got) {
			CHECK(!strcmp(got, c->want), "%u.%u %s: \"%s\", want \"%s\"", l->major,
			      l->minor, c->what, got, c->want);
		}
		free(m.buf);
	}
}

/* Names longer than PYTHON_NAME_MAX characters, or bytes: cut at a
 * character, NUL-terminated, valid UTF-8, nothing lost before the cut. */
static void test_code_long_names(const struct python_layout *l)
{
	/* 'a', U+4E2D, U+1F600 over and over: 1, 3 and 4 bytes each. */
	static const char *const utf8[] = { "a", "\xe4\xb8\xad", "\xf0\x9f\x98\x80" };
	static const uint32_t pattern[] = { 'a', 0x4e2d, 0x1f600 };
	static uint32_t cps[PYTHON_NAME_MAX + 100];
	static char full[4 * LEN(cps) + 1];
	size_t n = 0;

	for (size_t i = 0; i < LEN(cps); i++) {
		cps[i] = pattern[i % 3];
		memcpy(full + n, utf8[i % 3], strlen(utf8[i % 3]));
		n += strlen(utf8[i % 3]);
	}
	full[n] = '\0';

	const struct {
		const char *what;
		unsigned kind;
		uint64_t length; /* 0: the number of code points */
	} cases[] = {
		{ "UCS-4 mixed", 4, 0 },
		{ "UCS-4 mixed, length 2^62", 4, 1ull << 62 },
		{ "UCS-4 mixed, length -1", 4, UINT64_MAX },
	};
	for (size_t i = 0; i < LEN(cases); i++) {
		struct mem m;
		uint64_t s;
		const char *got;
		size_t len;
		int ret;

		mem_init(&m);
		s = put_str(&m, l, cases[i].kind, STR_COMPACT, cps, LEN(cps));
		if (cases[i].length)
			put_u64(&m, s + PYTHON_STR_LENGTH, cases[i].length);
		got = read_name(&m, l, s, &ret);
		CHECK(ret == 0, "%u.%u %s: %d", l->major, l->minor, cases[i].what, ret);
		if (got) {
			len = strnlen(got, PYTHON_NAME_MAX);
			CHECK(len < PYTHON_NAME_MAX, "%u.%u %s: not NUL-terminated", l->major,
			      l->minor, cases[i].what);
			CHECK(len + 4 >= PYTHON_NAME_MAX, "%u.%u %s: cut at %zu bytes", l->major,
			      l->minor, cases[i].what, len);
			CHECK(len < PYTHON_NAME_MAX && utf8_valid(got),
			      "%u.%u %s: not valid UTF-8", l->major, l->minor, cases[i].what);
			CHECK(!memcmp(got, full, len) && (full[len] & 0xc0) != 0x80,
			      "%u.%u %s: not the name's first %zu bytes cut at a character",
			      l->major, l->minor, cases[i].what, len);
		}
		free(m.buf);
	}

	/* Latin-1 in UCS-1 (2 bytes each in UTF-8) and plain ASCII. */
	{
		static uint32_t e[PYTHON_NAME_MAX * 2];
		struct mem m;
		const char *got;
		bool all_e = true;
		size_t len;
		int ret;

		for (size_t i = 0; i < LEN(e); i++)
			e[i] = 0xe9;
		mem_init(&m);
		got = read_name(&m, l, put_str(&m, l, 1, STR_COMPACT, e, LEN(e)), &ret);
		CHECK(ret == 0 && got, "%u.%u UCS-1 long: %d", l->major, l->minor, ret);
		if (got) {
			len = strnlen(got, PYTHON_NAME_MAX);
			for (size_t i = 0; i + 1 < len; i += 2)
				all_e &= got[i] == '\xc3' && got[i + 1] == '\xa9';
			CHECK(len < PYTHON_NAME_MAX && len % 2 == 0 && len + 2 >= PYTHON_NAME_MAX &&
				      all_e,
			      "%u.%u UCS-1 long: %zu bytes", l->major, l->minor, len);
		}
		free(m.buf);
	}
	{
		static char a[PYTHON_NAME_MAX + 300];
		struct mem m;
		const char *got;
		size_t len;
		int ret;

		memset(a, 'x', sizeof(a) - 1);
		a[sizeof(a) - 1] = '\0';
		mem_init(&m);
		got = read_name(&m, l, put_ascii(&m, l, a), &ret);
		CHECK(ret == 0 && got, "%u.%u ASCII long: %d", l->major, l->minor, ret);
		if (got) {
			len = strnlen(got, PYTHON_NAME_MAX);
			CHECK(len == PYTHON_NAME_MAX - 1 && !memcmp(got, a, len),
			      "%u.%u ASCII long: %zu bytes", l->major, l->minor, len);
		}
		free(m.buf);
	}
}

static void test_code_errors(const struct python_layout *l)
{
	const uint8_t table[] = { 0x80, 0x00 };
	struct python_code code;
	struct mem m;
	uint64_t q, f, t, addr;
	int ret;

	mem_init(&m);
	q = put_ascii(&m, l, "f");
	f = put_ascii(&m, l, "f.py");
	t = put_bytes(&m, table, sizeof(table));

	addr = put_code(&m, l, STR_TYPE, 1, q, f, t);
	ret = python_code_read(l, mem_read, &m, addr, CODE_TYPE, &code);
	CHECK(ret == -ENOENT && !code.linetable, "wrong ob_type: %d", ret);

	ret = python_code_read(l, mem_read, &m, 0, CODE_TYPE, &code);
	CHECK(ret == -ENOENT && !code.linetable, "address 0: %d", ret);

	ret = python_code_read(l, mem_read, &m, OUTSIDE, CODE_TYPE, &code);
	CHECK(ret == -EFAULT && !code.linetable, "code object outside the memory: %d", ret);

	/* The code object's end past the memory's. */
	ret = python_code_read(l, mem_read, &m, MEM_BASE + MEM_SIZE - 64, CODE_TYPE, &code);
	CHECK(ret == -EFAULT && !code.linetable, "code object cut by the memory's end: %d", ret);

	addr = put_code(&m, l, CODE_TYPE, 1, OUTSIDE, f, t);
	ret = python_code_read(l, mem_read, &m, addr, CODE_TYPE, &code);
	CHECK(ret == -EFAULT && !code.linetable, "qualname outside the memory: %d", ret);

	addr = put_code(&m, l, CODE_TYPE, 1, MEM_BASE - 4096, f, t);
	ret = python_code_read(l, mem_read, &m, addr, CODE_TYPE, &code);
	CHECK(ret == -EFAULT && !code.linetable, "qualname below the memory: %d", ret);

	addr = put_code(&m, l, CODE_TYPE, 1, q, OUTSIDE, t);
	ret = python_code_read(l, mem_read, &m, addr, CODE_TYPE, &code);
	CHECK(ret == -EFAULT && !code.linetable, "filename outside the memory: %d", ret);

	addr = put_code(&m, l, CODE_TYPE, 1, q, f, OUTSIDE);
	ret = python_code_read(l, mem_read, &m, addr, CODE_TYPE, &code);
	CHECK(ret == -EFAULT && !code.linetable, "linetable outside the memory: %d", ret);

	/* A table as long as its cap is read; one byte longer is refused,
	 * though all of it is there to read. */
	addr = put_code(&m, l, CODE_TYPE, 1, q, f, put_bytes(&m, NULL, PYTHON_LINETABLE_MAX));
	ret = python_code_read(l, mem_read, &m, addr, CODE_TYPE, &code);
	CHECK(ret == 0 && code.linetable && code.linetable_len == PYTHON_LINETABLE_MAX,
	      "linetable at its cap: %d, %zu bytes", ret, code.linetable_len);
	free(code.linetable);

	addr = put_code(&m, l, CODE_TYPE, 1, q, f, put_bytes(&m, NULL, PYTHON_LINETABLE_MAX + 1));
	ret = python_code_read(l, mem_read, &m, addr, CODE_TYPE, &code);
	CHECK(ret == -EINVAL && !code.linetable && code.linetable_len == 0,
	      "linetable over its cap: %d", ret);

	t = put_bytes(&m, table, sizeof(table));
	put_u64(&m, t + PYTHON_VAR_SIZE, UINT64_MAX);
	addr = put_code(&m, l, CODE_TYPE, 1, q, f, t);
	ret = python_code_read(l, mem_read, &m, addr, CODE_TYPE, &code);
	CHECK(ret == -EINVAL && !code.linetable, "linetable of size -1: %d", ret);

	/* The table's bytes past the memory's end. */
	t = MEM_BASE + MEM_SIZE - PYTHON_BYTES_DATA - 16;
	put_u64(&m, t + PYTHON_OB_TYPE, BYTES_TYPE);
	put_u64(&m, t + PYTHON_VAR_SIZE, 100);
	addr = put_code(&m, l, CODE_TYPE, 1, q, f, t);
	ret = python_code_read(l, mem_read, &m, addr, CODE_TYPE, &code);
	CHECK(ret == -EFAULT && !code.linetable, "linetable cut by the memory's end: %d", ret);

	/* A str's header in the memory, its characters past its end. */
	{
		uint64_t s = MEM_BASE + MEM_SIZE - l->compact_size;

		memset(mem_at(&m, s), 0, l->compact_size);
		put_u64(&m, s + PYTHON_OB_TYPE, STR_TYPE);
		put_u64(&m, s + PYTHON_STR_LENGTH, 100);
		put_u32(&m, s + PYTHON_STR_STATE, 1u << 2 | STR_COMPACT);
		addr = put_code(&m, l, CODE_TYPE, 1, s, f, put_bytes(&m, table, sizeof(table)));
		ret = python_code_read(l, mem_read, &m, addr, CODE_TYPE, &code);
		CHECK(ret == -EFAULT && !code.linetable, "qualname cut by the memory's end: %d",
		      ret);
	}
	free(m.buf);
}

/* python_code_identity(): python_code_read's, the same read again; it
 * changes with each field that tells one code object from the next at
 * its address (the object rewritten in place, as CPython's allocator
 * does), not with what it does not hash. */
static void test_code_identity(const struct python_layout *l)
{
	const uint8_t table[] = { 0x80, 0x00 };
	struct mem m;
	struct python_code code;
	uint64_t name, file, lines, addr, first = 0, again = 0, other;
	const struct {
		const char *what;
		uint16_t at;
		uint64_t value;
		bool changes;
	} edits[] = {
		{ "firstlineno", l->code_firstlineno, 43, true },
		{ "co_qualname", l->code_qualname, 0, true },
		{ "co_filename", l->code_filename, 0, true },
		{ "co_linetable", l->code_linetable, 0, true },
		{ "co_name", l->code_name, OUTSIDE + 8, false },
	};
	int err;

	mem_init(&m);
	name = put_ascii(&m, l, "handler");
	file = put_ascii(&m, l, "/srv/app/one.py");
	lines = put_bytes(&m, table, sizeof(table));
	addr = put_code(&m, l, CODE_TYPE, 42, name, file, lines);
	err = python_code_read(l, mem_read, &m, addr, CODE_TYPE, &code);
	CHECK(err == 0, "3.%u identity: read: %d", l->minor, err);
	free(code.linetable);
	first = code.identity;
	err = python_code_identity(l, mem_read, &m, addr, CODE_TYPE, &again);
	CHECK(err == 0 && again == first, "3.%u identity: %d, %llx then %llx", l->minor, err,
	      (unsigned long long)first, (unsigned long long)again);
	for (size_t i = 0; i < LEN(edits); i++) {
		uint64_t value = edits[i].value ? edits[i].value : put_ascii(&m, l, "another");

		addr = put_code(&m, l, CODE_TYPE, 42, name, file, lines);
		if (edits[i].at == l->code_firstlineno)
			put_u32(&m, addr + edits[i].at, (uint32_t)value);
		else
			put_u64(&m, addr + edits[i].at, value);
		err = python_code_identity(l, mem_read, &m, addr, CODE_TYPE, &other);
		CHECK(err == 0 && (other != first) == edits[i].changes,
		      "3.%u identity: %s changed, identity %s", l->minor, edits[i].what,
		      other != first ? "changed" : "the same");
	}
	CHECK(python_code_identity(l, mem_read, &m, addr, CODE_TYPE + 8, &other) == -ENOENT,
	      "3.%u identity: another type is not -ENOENT", l->minor);
	CHECK(python_code_identity(l, mem_read, &m, OUTSIDE, CODE_TYPE, &other) == -EFAULT,
	      "3.%u identity: outside the memory is not -EFAULT", l->minor);
	free(m.buf);
}

static void test_python_code(void)
{
	size_t layouts = 0;

	CHECK(python_layout_find(3, 11) != NULL, "no 3.11 layout");
	for (unsigned minor = 11; minor <= 14; minor++) {
		const struct python_layout *l = python_layout_find(3, minor);

		if (!l)
			continue;
		layouts++;
		test_code_ascii(l);
		test_code_identity(l);
		if (minor == 11) {
			test_code_strings(l);
			test_code_long_names(l);
			test_code_errors(l);
		}
	}
	CHECK(layouts >= 1, "no layout for 3.11 to 3.14");
}

/* --- python_file_name() --- */

static void test_file_name(void)
{
	static const struct {
		const char *path;
		bool ok;
		unsigned major, minor;
		const char *flavour;
		bool library;
	} cases[] = {
		{ "python3.11", true, 3, 11, "", false },
		{ "/usr/bin/python3.11", true, 3, 11, "", false },
		{ "/home/u/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0", true, 3, 12, "",
		  true },
		{ "libpython3.12.so", true, 3, 12, "", true },
		{ "/usr/bin/python3.13t", true, 3, 13, "t", false },
		{ "libpython3.13t.so.1.0", true, 3, 13, "t", true },
		{ "/usr/bin/python3.11d", true, 3, 11, "d", false },
		{ "python3.9", true, 3, 9, "", false },
		{ "python3", false, 0, 0, "", false },
		{ "/usr/bin/python", false, 0, 0, "", false },
		{ "python3.", false, 0, 0, "", false },
		{ "python3.x", false, 0, 0, "", false },
		{ "python3.11-config", false, 0, 0, "", false },
		{ "python3.11.bak", false, 0, 0, "", false },
		{ "/usr/lib/python3.11/os.py", false, 0, 0, "", false },
		{ "/usr/lib/python3.11/", false, 0, 0, "", false },
		{ "libpython3.11.a", false, 0, 0, "", false },
		{ "libpython3.so", false, 0, 0, "", false },
		{ "ipython3.11", false, 0, 0, "", false },
		{ "", false, 0, 0, "", false },
	};

	for (size_t i = 0; i < LEN(cases); i++) {
		unsigned major = 99, minor = 99;
		char flavour[4] = "zzz";
		bool library = !cases[i].library, ok;

		ok = python_file_name(cases[i].path, &major, &minor, flavour, &library);
		CHECK(ok == cases[i].ok, "\"%s\": %s", cases[i].path, ok ? "a CPython" : "not one");
		if (!ok || !cases[i].ok)
			continue;
		CHECK(major == cases[i].major && minor == cases[i].minor, "\"%s\": %u.%u",
		      cases[i].path, major, minor);
		CHECK(!strcmp(flavour, cases[i].flavour), "\"%s\": flavour \"%s\"", cases[i].path,
		      flavour);
		CHECK(library == cases[i].library, "\"%s\": library %d", cases[i].path, library);
	}

	/* Python 2: if taken for an interpreter's name at all, as 2.7, for
	 * which there is no layout (found, not supported). */
	{
		unsigned major = 99, minor = 99;
		char flavour[4];
		bool library;
		bool ok = python_file_name("/usr/bin/python2.7", &major, &minor, flavour, &library);

		CHECK(!ok || (major == 2 && minor == 7 && !python_layout_find(major, minor)),
		      "python2.7: %d, %u.%u", ok, major, minor);
	}
	/* The versions the names give have layouts only where supported. */
	CHECK(python_layout_find(3, 9) == NULL, "a layout for 3.9");
	CHECK(python_layout_find(3, 11) != NULL, "no layout for 3.11");
}

/* --- python_layout_check() --- */

/* A _Py_DebugOffsets that agrees with l, into buf (PYTHON_DEBUG_MAX). */
static void make_debug(const struct python_layout *l, uint8_t *buf)
{
	const struct python_debug_offsets *d = &l->debug;
	const struct {
		uint16_t at, value;
	} fields[] = {
		{ d->interp_head, l->bpf.interp_head },	      { d->threads_head, l->bpf.threads_head },
		{ d->ts_next, l->bpf.ts_next },		      { d->ts_frame, l->bpf.ts_frame },
		{ d->ts_thread_id, l->bpf.ts_thread_id },     { d->frame_previous, l->bpf.frame_previous },
		{ d->frame_code, l->bpf.frame_code },	      { d->frame_instr, l->bpf.frame_instr },
		{ d->frame_entry, l->bpf.frame_entry },	      { d->code_filename, l->code_filename },
		{ d->code_name, l->code_name },		      { d->code_qualname, l->code_qualname },
		{ d->code_linetable, l->code_linetable },     { d->code_firstlineno, l->code_firstlineno },
		{ d->code_adaptive, l->bpf.code_adaptive },   { d->ascii_size, l->ascii_size },
	};
	uint64_t version = (uint64_t)l->major << 24 | (uint64_t)l->minor << 16 | 0xf0;

	memset(buf, 0xee, PYTHON_DEBUG_MAX);
	memcpy(buf, "xdebugpy", 8);
	memcpy(buf + 8, &version, 8);
	memset(buf + 16, 0, 8); /* free_threaded */
	for (size_t i = 0; i < LEN(fields); i++) {
		uint64_t v = fields[i].value;

		if (fields[i].at)
			memcpy(buf + fields[i].at, &v, 8);
	}
}

/* Agreement, and each way of not agreeing: cookie, version, free-threaded,
 * every checked offset one by one, a short buffer. 3.11 and 3.12 have no
 * table: nothing to check. */
static void test_layout_check(void)
{
	static uint8_t buf[PYTHON_DEBUG_MAX];
	char why[128];

	for (unsigned minor = 11; minor <= 14; minor++) {
		const struct python_layout *l = python_layout_find(3, minor);
		size_t size = l ? l->debug.size : 0;
		unsigned changed = 0;
		int err;

		if (!l)
			continue;
		CHECK((minor >= 13) == (size > 0), "3.%u: debug.size %zu", minor, size);
		CHECK(size <= PYTHON_DEBUG_MAX, "3.%u: debug.size %zu", minor, size);
		make_debug(l, buf);
		err = python_layout_check(l, buf, size, why, sizeof(why));
		CHECK(err == 0, "3.%u: an agreeing table: %d", minor, err);
		if (!size)
			continue;
		CHECK(python_layout_check(l, buf, size - 1, why, sizeof(why)) == -EINVAL,
		      "3.%u: a short table is not -EINVAL", minor);
		buf[0] = 'X';
		err = python_layout_check(l, buf, size, why, sizeof(why));
		CHECK(err == -EPROTO && strstr(why, "no _Py_DebugOffsets"), "3.%u: no cookie: %d %s",
		      minor, err, why);
		make_debug(l, buf);
		buf[10] ^= 1; /* the minor version's byte */
		err = python_layout_check(l, buf, size, why, sizeof(why));
		CHECK(err == -EPROTO && strstr(why, "version"), "3.%u: another version: %d %s",
		      minor, err, why);
		make_debug(l, buf);
		buf[16] = 1;
		err = python_layout_check(l, buf, size, why, sizeof(why));
		CHECK(err == -EPROTO && strstr(why, "free-threaded"), "3.%u: free-threaded: %d %s",
		      minor, err, why);
		/* every position a field is checked at: one changed, one refused */
		for (size_t at = PYTHON_DEBUG_HEADER; at + 8 <= size; at += 8) {
			make_debug(l, buf);
			buf[at] ^= 0x40;
			err = python_layout_check(l, buf, size, why, sizeof(why));
			if (!err)
				continue; /* a position not checked */
			changed++;
			CHECK(err == -EPROTO && strstr(why, "_Py_DebugOffsets has"),
			      "3.%u: offset at %zu changed: %d %s", minor, at, err, why);
		}
		CHECK(changed == (minor == 13 ? 16u : 0u), "3.%u: %u positions checked", minor,
		      changed);
	}
}

int main(void)
{
	test_stack_merge();
	test_python_code();
	test_file_name();
	test_layout_check();
	return check_summary();
}
