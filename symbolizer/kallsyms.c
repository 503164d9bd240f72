/* kallsyms.c - see kallsyms.h.
 *
 * One pass over the text collects candidates that point into the input
 * (name and module as slices); they are sorted by address and preference,
 * collapsed to one per address, given an extent, and copied into a compact
 * array plus one string arena. Module names are shared between consecutive
 * symbols of the same module, which is how kallsyms lists them.
 */
#include "kallsyms.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "text_scan.h"

struct kcand {
	uint64_t addr;
	const char *name;
	const char *mod;    /* NULL for the core kernel */
	uint32_t name_len;
	uint32_t mod_len;
	int rank;           /* T 0, W 1, t 2, w 3; end markers 4 */
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_marker(const char *name, size_t len)
{
	return (len == 6 && !memcmp(name, "_etext", 6)) ||
	       (len == 10 && !memcmp(name, "_einittext", 10));
}

static int type_rank(char type)
{
	switch (type) {
	case 'T': return 0;
	case 'W': return 1;
	case 't': return 2;
	case 'w': return 3;
	default: return -1; /* not text */
	}
}

/* Parses one line. *keep is false for non-text symbols and address 0. */
static int parse_line(const char *p, const char *end, struct kcand *c, bool *keep,
		      bool *nonzero)
{
	const char *name, *mod = NULL;
	char type;

	memset(c, 0, sizeof(*c));
	*keep = false;
	if (scan_hex(&p, end, &c->addr) || scan_char(&p, end, ' ') || p >= end)
		return -EINVAL;
	type = *p++;
	if (is_space(type) || scan_char(&p, end, ' '))
		return -EINVAL;
	name = p;
	while (p < end && !is_space(*p))
		p++;
	if (p == name || p - name > UINT32_MAX)
		return -EINVAL;
	c->name = name;
	c->name_len = (uint32_t)(p - name);
	if (p < end) {
		while (p < end && is_space(*p))
			p++;
		if (scan_char(&p, end, '['))
			return -EINVAL;
		mod = p;
		while (p < end && *p != ']' && !is_space(*p))
			p++;
		if (p == mod || p - mod > UINT32_MAX || scan_char(&p, end, ']') || p != end)
			return -EINVAL;
		c->mod = mod;
		c->mod_len = (uint32_t)(p - 1 - mod);
	}
	if (c->addr)
		*nonzero = true;
	c->rank = type_rank(type);
	if (c->rank < 0 || !c->addr)
		return 0;
	if (is_marker(c->name, c->name_len))
		c->rank = 4;
	*keep = true;
	return 0;
}

static int slice_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	int r = memcmp(a, b, al < bl ? al : bl);

	if (r)
		return r;
	return (al > bl) - (al < bl);
}

static size_t leading_underscores(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && s[n] == '_')
		n++;
	return n;
}

static int kcand_cmp(const void *pa, const void *pb)
{
	const struct kcand *a = pa, *b = pb;
	size_t ua, ub;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if ((a->rank == 4) != (b->rank == 4)) /* end markers last */
		return a->rank == 4 ? 1 : -1;
	ua = leading_underscores(a->name, a->name_len);
	ub = leading_underscores(b->name, b->name_len);
	if (ua != ub) /* startup_64 rather than _stext, init_x than _sinittext */
		return ua < ub ? -1 : 1;
	if (a->rank != b->rank)
		return a->rank - b->rank;
	if (!a->mod != !b->mod)
		return a->mod ? 1 : -1;
	return slice_cmp(a->name, a->name_len, b->name, b->name_len);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* Collapses sorted candidates into k: one per address, extents, arena. */
static int finish(struct kcand *c, size_t n, struct kallsyms *k)
{
	size_t arena = 1, nsyms = 0, last_core = SIZE_MAX;
	const char *prev_mod = NULL;
	uint32_t prev_mod_len = 0, prev_mod_off = 0;
	char *p;

	for (size_t i = 0; i < n; i++) {
		if (i > 0 && c[i].addr == c[i - 1].addr)
			continue;
		arena += (size_t)c[i].name_len + 1;
		if (c[i].mod)
			arena += (size_t)c[i].mod_len + 1;
		nsyms++;
	}
	if (arena > UINT32_MAX)
		return -ENOMEM;
	k->strings = malloc(arena);
	if (nsyms)
		k->syms = calloc(nsyms, sizeof(*k->syms));
	if (!k->strings || (nsyms && !k->syms))
		return -ENOMEM;
	p = k->strings;
	*p++ = '\0';

	for (size_t i = 0; i < n; i++) {
		struct ksym *s;

		if (i > 0 && c[i].addr == c[i - 1].addr)
			continue;
		s = &k->syms[k->n];
		s->addr = c[i].addr;
		s->end = c[i].rank == 4 ? c[i].addr : add_sat(c[i].addr, KALLSYMS_MAX_EXTENT);
		if (k->n > 0 && k->syms[k->n - 1].end > s->addr)
			k->syms[k->n - 1].end = s->addr;
		s->name = (uint32_t)(p - k->strings);
		memcpy(p, c[i].name, c[i].name_len);
		p += c[i].name_len;
		*p++ = '\0';
		if (c[i].mod) {
			if (!prev_mod || slice_cmp(prev_mod, prev_mod_len, c[i].mod,
						   c[i].mod_len)) {
				prev_mod = c[i].mod;
				prev_mod_len = c[i].mod_len;
				prev_mod_off = (uint32_t)(p - k->strings);
				memcpy(p, c[i].mod, c[i].mod_len);
				p += c[i].mod_len;
				*p++ = '\0';
			}
			s->module = prev_mod_off;
		} else {
			last_core = k->n;
		}
		k->n++;
	}
	if (last_core != SIZE_MAX)
		k->syms[last_core].end = k->syms[last_core].addr;
	if (k->n) {
		const struct ksym *last = &k->syms[k->n - 1];

		k->start = k->syms[0].addr;
		k->limit = last->end > last->addr ? last->end : add_sat(last->addr, 1);
	}
	return 0;
}

int kallsyms_parse(const char *buf, size_t len, struct kallsyms **out)
{
	struct kallsyms *k;
	struct kcand *c = NULL;
	size_t n = 0, cap = 0, pos = 0, lines = 0;
	bool nonzero = false;
	int err = 0;

	*out = NULL;
	if (len && (!buf || memchr(buf, '\0', len)))
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	while (pos < len) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		const char *eol = nl ? nl : buf + len;
		bool keep;

		pos = (size_t)(eol - buf) + (nl ? 1 : 0);
		if (array_reserve(&c, &cap, n + 1, sizeof(*c))) {
			err = -ENOMEM;
			goto out;
		}
		err = parse_line(line, eol, &c[n], &keep, &nonzero);
		if (err)
			goto out;
		lines++;
		if (keep)
			n++;
	}
	k->hidden = lines > 0 && !nonzero;
	if (n)
		qsort(c, n, sizeof(*c), kcand_cmp);
	err = finish(c, n, k);
out:
	free(c);
	if (err) {
		kallsyms_free(k);
		return err;
	}
	*out = k;
	return 0;
}

void kallsyms_free(struct kallsyms *k)
{
	if (!k)
		return;
	free(k->syms);
	free(k->strings);
	free(k);
}

const struct ksym *kallsyms_lookup(const struct kallsyms *k, uint64_t addr)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr >= k->syms[lo - 1].end)
		return NULL;
	return &k->syms[lo - 1];
}

int kernel_notes_build_id(const void *buf, size_t len, char *hex, size_t hexsz)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *b = buf;
	uint64_t off = 0;

	if (hexsz)
		hex[0] = '\0';
	if (!buf)
		return len ? -EINVAL : -ENOENT;
	while (len - off >= 12) {
		uint32_t namesz, descsz, type;
		uint64_t name_off = off + 12, desc_off, next;

		memcpy(&namesz, b + off, 4);
		memcpy(&descsz, b + off + 4, 4);
		memcpy(&type, b + off + 8, 4);
		desc_off = name_off + (((uint64_t)namesz + 3) & ~(uint64_t)3);
		next = desc_off + (((uint64_t)descsz + 3) & ~(uint64_t)3);
		if (desc_off > len || descsz > len - desc_off)
			return -EINVAL;
		if (type == 3 && namesz == 4 && descsz > 0 &&
		    !memcmp(b + name_off, "GNU", 4)) {
			if (hexsz < 2 * (uint64_t)descsz + 1)
				return -ENOSPC;
			for (uint32_t i = 0; i < descsz; i++) {
				hex[2 * i] = digits[b[desc_off + i] >> 4];
				hex[2 * i + 1] = digits[b[desc_off + i] & 15];
			}
			hex[2 * (size_t)descsz] = '\0';
			return 0;
		}
		if (next > len)
			break;
		off = next;
	}
	return -ENOENT;
}
