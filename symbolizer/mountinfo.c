/* mountinfo.c - see mountinfo.h.
 *
 * Each line is walked with a cursor (p, end): numbers with text_scan.h,
 * strings as the bytes up to the next space, unescaped into the arena.
 * Nothing reads at or past `end`. The source field may be empty (a mount
 * made with an empty device name prints nothing there) and is not kept;
 * the super options are the rest of the line.
 */
#include "mountinfo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "line_table.h"
#include "read_file.h"
#include "safe_open.h"
#include "text_scan.h"

static bool is_octal(char c)
{
	return c >= '0' && c <= '7';
}

/* Copies [p, q) to *arena undoing \ooo escapes, NUL-terminates it, and
 * returns it; *arena advances past the NUL. NULL for a \000 (no path
 * holds a NUL: the kernel never prints one). */
static const char *unescape(const char *p, const char *q, char **arena)
{
	char *out = *arena, *start = out;

	while (p < q) {
		if (*p == '\\' && q - p >= 4 && is_octal(p[1]) && is_octal(p[2]) &&
		    is_octal(p[3]) && p[1] <= '3') {
			char c = (char)((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0'));

			if (!c)
				return NULL;
			*out++ = c;
			p += 4;
		} else {
			*out++ = *p++;
		}
	}
	*out++ = '\0';
	*arena = out;
	return start;
}

/* The field at *p: the bytes up to the next space or end (may be empty);
 * *p is left on that space or at end. */
static const char *field_end(const char *p, const char *end)
{
	const char *q = memchr(p, ' ', (size_t)(end - p));

	return q ? q : end;
}

/* A non-empty field, then a space; unescaped into *arena as *out. */
static int take_string(const char **p, const char *end, char **arena, const char **out)
{
	const char *q = field_end(*p, end);

	if (q == *p || q == end)
		return -EINVAL;
	*out = unescape(*p, q, arena);
	*p = q + 1;
	return *out ? 0 : -EINVAL;
}

/* Parses one line (without its '\n') into e, its strings into *arena. */
static int parse_line(const char *p, const char *end, void *entry, char **arena)
{
	struct mountinfo_entry *e = entry;
	uint64_t major, minor;
	const char *opts, *q;

	memset(e, 0, sizeof(*e));
	if (scan_dec(&p, end, &e->mount_id) || scan_char(&p, end, ' ') ||
	    scan_dec(&p, end, &e->parent_id) || scan_char(&p, end, ' ') ||
	    scan_dec(&p, end, &major) || scan_char(&p, end, ':') ||
	    scan_dec(&p, end, &minor) || scan_char(&p, end, ' ') ||
	    major > UINT32_MAX || minor > UINT32_MAX ||
	    take_string(&p, end, arena, &e->root) ||
	    take_string(&p, end, arena, &e->mount_point))
		return -EINVAL;
	e->dev_major = (uint32_t)major;
	e->dev_minor = (uint32_t)minor;
	/* per-mount options, then optional fields, up to a lone "-" */
	for (opts = p;; p = q + 1) {
		q = field_end(p, end);
		if (q == p || q == end)
			return -EINVAL;
		if (p != opts && q - p == 1 && *p == '-')
			break;
	}
	p = q + 1;
	if (take_string(&p, end, arena, &e->fstype))
		return -EINVAL;
	q = field_end(p, end); /* the source: possibly empty, not kept */
	if (q == end)
		return -EINVAL;
	e->super_opts = unescape(q + 1, end, arena);
	return e->super_opts ? 0 : -EINVAL;
}

void mountinfo_free(struct mountinfo *m)
{
	if (m)
		line_table_free(&m->table);
}

int mountinfo_parse(const char *buf, size_t len, struct mountinfo *out)
{
	return line_table_parse(buf, len, sizeof(*out->entries), parse_line, &out->table);
}

int mountinfo_read(int dirfd, const char *path, size_t max, struct mountinfo *out)
{
	char *buf;
	size_t len;
	int err = safe_read_file(dirfd, path, SAFE_OPEN_NOFOLLOW, max, &buf, &len, NULL);

	return line_table_parse_read(err, buf, len, sizeof(*out->entries), parse_line,
				     &out->table);
}

/* Whether the comma-separated options say user_id=0 and no other user. */
static bool root_user_id(const char *opts)
{
	bool root = false;

	for (const char *p = opts; *p;) {
		size_t n = strcspn(p, ",");

		if (n > 8 && !strncmp(p, "user_id=", 8)) {
			const char *d = p + 8, *e = p + n;
			uint64_t uid;

			if (scan_dec(&d, e, &uid) || d != e || uid)
				return false;
			root = true;
		}
		p += n + (p[n] == ',');
	}
	return root;
}

bool mountinfo_user_fuse(const struct mountinfo_entry *e)
{
	bool fuse = !strcmp(e->fstype, "fuse") || !strcmp(e->fstype, "fuseblk") ||
		    !strncmp(e->fstype, "fuse.", 5);

	return fuse && !root_user_id(e->super_opts);
}

const struct mountinfo_entry *mountinfo_by_dev(const struct mountinfo *m, uint32_t major,
					       uint32_t minor)
{
	const struct mountinfo_entry *any = NULL;

	for (size_t i = 0; i < m->n; i++) {
		const struct mountinfo_entry *e = &m->entries[i];

		if (e->dev_major != major || e->dev_minor != minor)
			continue;
		if (mountinfo_user_fuse(e))
			return e;
		if (!any)
			any = e;
	}
	return any;
}

/* Whether mount point mp is path or a directory above it. */
static bool above(const char *mp, const char *path)
{
	size_t n = strlen(mp);

	if (n == 1 && mp[0] == '/')
		return true;
	return !strncmp(path, mp, n) && (path[n] == '\0' || path[n] == '/');
}

const struct mountinfo_entry *mountinfo_user_fuse_above(const struct mountinfo *m,
							const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (mountinfo_user_fuse(&m->entries[i]) &&
		    above(m->entries[i].mount_point, path))
			return &m->entries[i];
	return NULL;
}
