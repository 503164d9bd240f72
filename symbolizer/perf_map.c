/* perf_map.c - see perf_map.h.
 *
 * Entries (16 bytes each) are kept in an array sorted by start address;
 * names live in one arena, appended in file order, so a name's offset is
 * also its line's order: sorting by (start, name offset) puts the later of
 * two entries with the same start last, and a pass keeps only that one.
 * Lookup is a binary search for the last start <= addr.
 *
 * Memory is bounded by the input: the arena never exceeds len + 1 bytes
 * (every name is shorter than its line) and is shrunk to fit; the entry
 * array is sized by the lines, at most PERF_MAP_MAX_ENTRIES.
 */
#include "perf_map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "text_scan.h"

struct perf_map_entry {
	uint64_t start;
	uint32_t size;
	uint32_t name; /* offset in names; increases with the line number */
};

struct perf_map {
	struct perf_map_entry *entries;
	size_t n;
	char *names;
	size_t names_len;
};

static int scan_hex_prefixed(const char **p, const char *end, uint64_t *v)
{
	if (end - *p > 2 && (*p)[0] == '0' && ((*p)[1] == 'x' || (*p)[1] == 'X'))
		*p += 2;
	return scan_hex(p, end, v);
}

/* Parses one line [p, end) into e and its name [*name, *name_end). */
static int parse_line(const char *p, const char *end, struct perf_map_entry *e,
		      const char **name, const char **name_end)
{
	uint64_t size;

	if (scan_hex_prefixed(&p, end, &e->start) || scan_char(&p, end, ' ') ||
	    scan_hex_prefixed(&p, end, &size) || scan_char(&p, end, ' '))
		return -EINVAL;
	while (end > p && (end[-1] == '\r' || end[-1] == ' '))
		end--;
	if (p == end || size == 0 || size > UINT32_MAX || e->start + size < e->start)
		return -EINVAL;
	e->size = (uint32_t)size;
	*name = p;
	*name_end = end;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct perf_map_entry *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->name > y->name) - (x->name < y->name);
}

/* Counts lines to size the arrays once: the arena never exceeds len + n. */
static size_t count_lines(const char *buf, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\n';
	return n + (len && buf[len - 1] != '\n');
}

int perf_map_parse(const char *buf, size_t len, struct perf_map **out,
		   size_t *skipped)
{
	size_t nlines = count_lines(buf, len), bad = 0, kept = 0;
	const char *p = buf, *end = buf + len;
	struct perf_map *m;
	char *names;

	*out = NULL;
	if (len >= UINT32_MAX)
		return -EFBIG;
	if (nlines > PERF_MAP_MAX_ENTRIES)
		nlines = PERF_MAP_MAX_ENTRIES;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->entries = malloc((nlines ? nlines : 1) * sizeof(*m->entries));
	m->names = malloc(len + 1);
	if (!m->entries || !m->names) {
		perf_map_free(m);
		return -ENOMEM;
	}
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *name, *name_end;
		struct perf_map_entry e;

		if (!eol)
			eol = end;
		if (eol > p && m->n < nlines && !parse_line(p, eol, &e, &name, &name_end)) {
			size_t nlen = (size_t)(name_end - name);

			e.name = (uint32_t)m->names_len;
			memcpy(m->names + m->names_len, name, nlen);
			m->names[m->names_len + nlen] = '\0';
			m->names_len += nlen + 1;
			m->entries[m->n++] = e;
		} else if (eol > p) {
			bad++;
		}
		p = eol + 1;
	}
	if (m->n) /* qsort wants a non-NULL array even for none */
		qsort(m->entries, m->n, sizeof(*m->entries), cmp_entry);
	for (size_t i = 0; i < m->n; i++) {
		if (i + 1 < m->n && m->entries[i + 1].start == m->entries[i].start)
			continue; /* a later line has the same start */
		m->entries[kept++] = m->entries[i];
	}
	m->n = kept;
	names = realloc(m->names, m->names_len + 1);
	if (names)
		m->names = names;
	if (skipped)
		*skipped = bad;
	*out = m;
	return 0;
}

void perf_map_free(struct perf_map *m)
{
	if (!m)
		return;
	free(m->entries);
	free(m->names);
	free(m);
}

const char *perf_map_lookup(const struct perf_map *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) { /* first entry with start > addr */
		size_t mid = lo + (hi - lo) / 2;

		if (m->entries[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct perf_map_entry *e = &m->entries[lo - 1];

	return addr - e->start < e->size ? m->names + e->name : NULL;
}

size_t perf_map_memory(const struct perf_map *m)
{
	return sizeof(*m) + m->n * sizeof(*m->entries) + m->names_len;
}
