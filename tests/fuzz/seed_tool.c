/* seed_tool.c - seeds for the ELF fuzz targets, made at build time from
 * what the machine has (too big, and too machine-specific, to commit).
 *
 *   seed_tool vdso OUT                  this process's [vdso] image
 *   seed_tool unwind SNAP OBJECT OUT    an input of fuzz_cfi_unwind: OBJECT,
 *                                       then the stack and registers of SNAP
 *   seed_tool unwind - OBJECT OUT       the same with an empty snapshot
 *
 * SNAP is what tests/unit/unwind_fixtures/uwfix wrote while running as
 * OBJECT ("UWFIX1\0\0", rip, rsp, rbp, base, len, the stack bytes, the text
 * of its /proc/self/maps). OBJECT must be a PIE: its load bias is then the
 * start of its mapping at file offset 0. The stack is cut to STACK_MAX
 * bytes to keep the seed small; the frames of the fixture fit in it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#define STACK_MAX (8 * 1024)

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "seed_tool: %s %s\n", what, path);
	return 1;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f && !fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		buf[n] = '\0';
		*len = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	if (f)
		fclose(f);
	return buf;
}

/* A snapshot of nothing: rip 0, no stack, no maps. */
static char *no_snapshot(size_t *len)
{
	char *snap = calloc(1, 8 + 5 * 8 + 1);

	if (snap)
		memcpy(snap, "UWFIX1\0\0", 8);
	*len = 8 + 5 * 8;
	return snap;
}

/* The range of the first mapping at file offset 0 whose line ends in path. */
static int find_mapping(const char *maps, const char *path, uint64_t *start, uint64_t *end)
{
	for (const char *p = maps; *p;) {
		const char *nl = strchr(p, '\n');
		size_t line_len = nl ? (size_t)(nl - p) : strlen(p), plen = strlen(path);
		unsigned long lo, hi, off;

		if (sscanf(p, "%lx-%lx %*s %lx", &lo, &hi, &off) == 3 && off == 0 &&
		    line_len >= plen && !memcmp(p + line_len - plen, path, plen)) {
			*start = lo;
			*end = hi;
			return 0;
		}
		p += line_len + (nl != NULL);
	}
	return -1;
}

static int vdso(const char *out)
{
	static char maps[1 << 20];
	uint64_t start, end;
	FILE *f = fopen("/proc/self/maps", "r");
	int rc = 0;

	/* Not slurp(): /proc files report no size. */
	if (!f || !fread(maps, 1, sizeof(maps) - 1, f))
		return fail("cannot read", "/proc/self/maps");
	fclose(f);
	if (find_mapping(maps, "[vdso]", &start, &end) ||
	    start != getauxval(AT_SYSINFO_EHDR))
		return fail("no [vdso] in", "/proc/self/maps");
	f = fopen(out, "wb");
	if (!f || fwrite((const void *)(uintptr_t)start, end - start, 1, f) != 1)
		rc = 1;
	if (f && fclose(f))
		rc = 1;
	return rc ? fail("cannot write", out) : 0;
}

static int unwind(const char *snap_path, const char *object_path, const char *out)
{
	size_t snap_len, object_len;
	char *snap = strcmp(snap_path, "-") ? slurp(snap_path, &snap_len)
					    : no_snapshot(&snap_len);
	char *object = slurp(object_path, &object_len);
	const char *name = strrchr(object_path, '/');
	uint64_t hdr[5], start, end, tail[5];
	uint32_t stack_len;
	FILE *f;
	int rc = 0;

	if (!snap || !object)
		return fail("cannot read", snap ? object_path : snap_path);
	if (snap_len < 8 + sizeof(hdr) || memcmp(snap, "UWFIX1\0\0", 8))
		return fail("not a uwfix snapshot:", snap_path);
	memcpy(hdr, snap + 8, sizeof(hdr));
	if (hdr[4] > snap_len - 8 - sizeof(hdr))
		return fail("truncated snapshot:", snap_path);
	if (!hdr[0])
		start = 0;
	else if (find_mapping(snap + 8 + sizeof(hdr) + hdr[4], name ? name : object_path,
			      &start, &end))
		return fail("object not in the maps of", snap_path);
	stack_len = (uint32_t)(hdr[4] < STACK_MAX ? hdr[4] : STACK_MAX);
	memcpy(tail, hdr, 4 * sizeof(uint64_t)); /* rip, rsp, rbp, base */
	tail[4] = start;                         /* the bias of a PIE */
	f = fopen(out, "wb");
	if (!f || fwrite(object, object_len, 1, f) != 1 ||
	    (stack_len && fwrite(snap + 8 + sizeof(hdr), stack_len, 1, f) != 1) ||
	    fwrite(tail, sizeof(tail), 1, f) != 1 || fwrite(&stack_len, 4, 1, f) != 1)
		rc = 1;
	if (f && fclose(f))
		rc = 1;
	free(snap);
	free(object);
	return rc ? fail("cannot write", out) : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "vdso"))
		return vdso(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "unwind"))
		return unwind(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: seed_tool vdso OUT | unwind SNAP OBJECT OUT\n");
	return 2;
}
