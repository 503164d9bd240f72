/* proc_maps.c - see proc_maps.h.
 *
 * Each line is walked with a cursor (p, end) by tiny helpers (text_scan.h)
 * that consume one field or fail; nothing reads past `end` and no helper
 * depends on a terminating NUL, so the parser is safe on arbitrary bytes. Numbers that do
 * not fit in 64 bits (or 32 bits for device numbers) are malformed.
 */
#include "proc_maps.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "line_table.h"
#include "read_file.h"
#include "text_scan.h"

#define MAPS_MAX_SIZE (256u << 20) /* far above any real process */

static const char deleted_suffix[] = " (deleted)";

static int take_perms(const char **p, const char *end, char perms[5])
{
	const char *q = *p;

	if (end - q < 4)
		return -EINVAL;
	if ((q[0] != 'r' && q[0] != '-') || (q[1] != 'w' && q[1] != '-') ||
	    (q[2] != 'x' && q[2] != '-') || (q[3] != 'p' && q[3] != 's'))
		return -EINVAL;
	memcpy(perms, q, 4);
	perms[4] = '\0';
	*p = q + 4;
	return 0;
}

/* Parses one line (without its '\n'); the path is copied to *arena, which
 * advances past its NUL. */
static int parse_line(const char *p, const char *end, void *entry, char **arena)
{
	struct proc_maps_entry *e = entry;
	uint64_t major, minor;
	size_t plen;

	memset(e, 0, sizeof(*e));
	if (scan_hex(&p, end, &e->start) || scan_char(&p, end, '-') ||
	    scan_hex(&p, end, &e->end) || scan_char(&p, end, ' ') ||
	    take_perms(&p, end, e->perms) || scan_char(&p, end, ' ') ||
	    scan_hex(&p, end, &e->offset) || scan_char(&p, end, ' ') ||
	    scan_hex(&p, end, &major) || scan_char(&p, end, ':') ||
	    scan_hex(&p, end, &minor) || scan_char(&p, end, ' ') ||
	    scan_dec(&p, end, &e->inode))
		return -EINVAL;
	if (e->start >= e->end || major > UINT32_MAX || minor > UINT32_MAX)
		return -EINVAL;
	e->dev_major = (uint32_t)major;
	e->dev_minor = (uint32_t)minor;

	/* Then nothing, or padding spaces and the path (possibly empty). */
	if (p < end && *p != ' ')
		return -EINVAL;
	while (p < end && *p == ' ')
		p++;
	plen = (size_t)(end - p);
	if (plen >= sizeof(deleted_suffix) - 1 &&
	    !memcmp(end - (sizeof(deleted_suffix) - 1), deleted_suffix,
		    sizeof(deleted_suffix) - 1)) {
		e->deleted = true;
		plen -= sizeof(deleted_suffix) - 1;
	}
	memcpy(*arena, p, plen);
	(*arena)[plen] = '\0';
	e->path = *arena;
	*arena += plen + 1;
	return 0;
}

void proc_maps_free(struct proc_maps *m)
{
	if (m)
		line_table_free(&m->table);
}

int proc_maps_parse(const char *buf, size_t len, struct proc_maps *out)
{
	return line_table_parse(buf, len, sizeof(*out->entries), parse_line, &out->table);
}

int proc_maps_read(int dirfd, const char *path, struct proc_maps *out)
{
	char *buf;
	size_t len;
	int err = sym_read_file_at(dirfd, path, MAPS_MAX_SIZE, &buf, &len);

	return line_table_parse_read(err, buf, len, sizeof(*out->entries), parse_line,
				     &out->table);
}
