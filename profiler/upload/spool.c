/* spool.c - see spool.h.
 *
 * The spool keeps an index of its files in memory - (seq, size) sorted by
 * seq, one array for the pending entries and one for rejected/ - built by
 * scanning the directories at open and updated by every operation, so the
 * cap is enforced without listing the directory again. Entry files are read
 * only when they are about to be sent (spool_peek_oldest), which is where a
 * corrupt one is found and deleted.
 *
 * Every file is opened relative to the directories' fds, never following a
 * link: .lock and entries O_NOFOLLOW, temporary files also O_EXCL, entries
 * O_NONBLOCK and read only when they are regular files within the cap (a
 * FIFO or a link in their place is deleted like a corrupt entry).
 */
#include "spool.h"

#include "atomic_file.h"
#include "grow.h"
#include "log.h"
#include "safe_dir.h"
#include "read_file.h"
#include "safe_open.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAGIC "BPFSPOOL"
#define VERSION 1
#define SEQ_DIGITS 20
#define NAME_LEN (SEQ_DIGITS + sizeof(".reason")) /* longest, with the NUL */
#define REJECTED "rejected"
#define LEGACY_TEMP_PREFIX ".tmp-"

struct item {
	uint64_t seq, size;
};

/* Entries of one directory, oldest first. */
struct queue {
	struct item *items;
	size_t n, cap;
	uint64_t bytes, max_bytes;
};

struct spool {
	char *dir;
	int dir_fd, rej_fd, lock_fd;
	uint64_t next_seq;
	struct queue pending, rejected;
	struct spool_stats st;
};

/* ---- entry format ---- */

struct writer {
	uint8_t *p;
};

static void put(struct writer *w, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		*w->p++ = (uint8_t)(v >> (8 * i));
}

static void put_str(struct writer *w, const char *s)
{
	size_t len = strlen(s);

	put(w, len, 2);
	memcpy(w->p, s, len);
	w->p += len;
}

static int encode(const struct ingest_meta *m, const void *body, size_t len,
		  uint8_t **out, size_t *out_len)
{
	size_t size = 8 + 4 + 8 + 8 + 4 + 2 + strlen(m->service) + 2 + 8 + len + 4;
	struct writer w;

	if (strlen(m->service) > UINT16_MAX || m->nlabels > UINT16_MAX)
		return -EINVAL;
	for (size_t i = 0; i < m->nlabels; i++) {
		if (strlen(m->labels[i].key) > UINT16_MAX ||
		    strlen(m->labels[i].value) > UINT16_MAX)
			return -EINVAL;
		size += 4 + strlen(m->labels[i].key) + strlen(m->labels[i].value);
	}
	*out = malloc(size);
	if (!*out)
		return -ENOMEM;
	w.p = *out;
	memcpy(w.p, MAGIC, 8);
	w.p += 8;
	put(&w, VERSION, 4);
	put(&w, (uint64_t)m->from, 8);
	put(&w, (uint64_t)m->until, 8);
	put(&w, m->sample_rate, 4);
	put_str(&w, m->service);
	put(&w, m->nlabels, 2);
	for (size_t i = 0; i < m->nlabels; i++) {
		put_str(&w, m->labels[i].key);
		put_str(&w, m->labels[i].value);
	}
	put(&w, len, 8);
	memcpy(w.p, body, len);
	w.p += len;
	put(&w, crc32_z(0, *out, size - 4), 4);
	*out_len = size;
	return 0;
}

struct reader {
	const uint8_t *p;
	size_t left;
};

static bool get(struct reader *r, int bytes, uint64_t *v)
{
	if (r->left < (size_t)bytes)
		return false;
	*v = 0;
	for (int i = 0; i < bytes; i++)
		*v |= (uint64_t)r->p[i] << (8 * i);
	r->p += bytes;
	r->left -= bytes;
	return true;
}

/* A u16-length string without NUL bytes; copied NUL-terminated to *dst and
 * *dst advanced, unless *dst is NULL (a counting pass). */
static bool get_str(struct reader *r, char **dst, const char **out, size_t *room)
{
	uint64_t len;

	if (!get(r, 2, &len) || r->left < len || memchr(r->p, 0, len))
		return false;
	*room += len + 1;
	if (*dst) {
		memcpy(*dst, r->p, len);
		(*dst)[len] = '\0';
		*out = *dst;
		*dst += len + 1;
	}
	r->p += len;
	r->left -= len;
	return true;
}

/* From the service name to the end of the body. A first pass with
 * labels == NULL checks the layout and counts what the strings need. */
static bool get_names_body(struct reader *r, struct spool_entry *e,
			   struct ingest_label *labels, uint64_t *nlabels,
			   size_t *room)
{
	char *strs = labels ? (char *)(labels + *nlabels) : NULL;
	const char *unused;
	uint64_t body_len;

	if (!get_str(r, &strs, &e->meta.service, room) || !get(r, 2, nlabels))
		return false;
	for (uint64_t i = 0; i < *nlabels; i++)
		if (!get_str(r, &strs, labels ? &labels[i].key : &unused, room) ||
		    !get_str(r, &strs, labels ? &labels[i].value : &unused, room))
			return false;
	if (!get(r, 8, &body_len) || body_len != r->left)
		return false;
	e->body = r->p;
	e->body_len = body_len;
	return true;
}

int spool_entry_parse(const void *buf, size_t len, struct spool_entry *e)
{
	struct reader r = { buf, len }, names;
	uint64_t crc, version, from, until, rate, nlabels;
	size_t room = 0;

	memset(e, 0, sizeof(*e));
	if (len < 8 + 4 || memcmp(buf, MAGIC, 8))
		return -EBADMSG;
	r.p += 8;
	r.left -= 8 + 4; /* the magic; the CRC is read here */
	names = (struct reader){ r.p + r.left, 4 };
	get(&names, 4, &crc);
	if (crc32_z(0, buf, len - 4) != crc)
		return -EBADMSG;
	if (!get(&r, 4, &version) || version != VERSION || !get(&r, 8, &from) ||
	    !get(&r, 8, &until) || !get(&r, 4, &rate))
		return -EBADMSG;
	names = r;
	if (!get_names_body(&r, e, NULL, &nlabels, &room))
		return -EBADMSG;
	e->strings = malloc(nlabels * sizeof(struct ingest_label) + room);
	if (!e->strings)
		return -ENOMEM;
	get_names_body(&names, e, e->strings, &nlabels, &room);
	e->meta.labels = e->strings;
	e->meta.nlabels = nlabels;
	e->meta.from = (int64_t)from;
	e->meta.until = (int64_t)until;
	e->meta.sample_rate = (uint32_t)rate;
	return 0;
}

void spool_entry_free(struct spool_entry *e)
{
	free(e->strings);
	free(e->file);
	memset(e, 0, sizeof(*e));
}

/* ---- the index ---- */

static int queue_add(struct queue *q, uint64_t seq, uint64_t size)
{
	size_t i = q->n;

	if (array_reserve(&q->items, &q->cap, q->n + 1, sizeof(*q->items)))
		return -ENOMEM;
	while (i && q->items[i - 1].seq > seq)
		i--;
	memmove(q->items + i + 1, q->items + i, (q->n - i) * sizeof(*q->items));
	q->items[i] = (struct item){ seq, size };
	q->n++;
	q->bytes += size;
	return 0;
}

static void queue_del(struct queue *q, size_t i)
{
	q->bytes -= q->items[i].size;
	memmove(q->items + i, q->items + i + 1, (q->n - i - 1) * sizeof(*q->items));
	q->n--;
}

static ssize_t queue_find(const struct queue *q, uint64_t seq)
{
	for (size_t i = 0; i < q->n; i++)
		if (q->items[i].seq == seq)
			return (ssize_t)i;
	return -1;
}

static void entry_name(char name[NAME_LEN], uint64_t seq, const char *ext)
{
	snprintf(name, NAME_LEN, "%0*llu%s", SEQ_DIGITS, (unsigned long long)seq, ext);
}

/* name is "NNNN(20 digits)" then ext. */
static bool is_entry_name(const char *name, const char *ext)
{
	for (int i = 0; i < SEQ_DIGITS; i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	return !strcmp(name + SEQ_DIGITS, ext);
}

/* "NNNN(20 digits).spool" -> seq; anything else -> false. */
static bool parse_name(const char *name, uint64_t *seq)
{
	if (!is_entry_name(name, ".spool"))
		return false;
	*seq = strtoull(name, NULL, 10);
	return true;
}

/* An entry's or a reason's name. */
static bool is_our_name(const char *name)
{
	return is_entry_name(name, ".spool") || is_entry_name(name, ".reason");
}

enum temp_kind { NOT_TEMP, TEMP, LEGACY_TEMP };

/* Whether name is the temporary file of an entry or a reason: atomic_file's
 * (TEMP), or ".tmp-NAME" (LEGACY_TEMP), which spools of bpfprof before
 * atomic_file wrote, under fixed names. */
static enum temp_kind temp_kind(const char *name)
{
	const size_t legacy = strlen(LEGACY_TEMP_PREFIX);
	char target[NAME_LEN];
	const char *t;
	size_t len;

	if (!strncmp(name, LEGACY_TEMP_PREFIX, legacy))
		return is_our_name(name + legacy) ? LEGACY_TEMP : NOT_TEMP;
	if (!atomic_file_temp_of(name, &t, &len) || len >= sizeof(target))
		return NOT_TEMP;
	memcpy(target, t, len);
	target[len] = '\0';
	return is_our_name(target) ? TEMP : NOT_TEMP;
}

/* Removes a leftover temporary file; true when it was one (a regular
 * file). A link or FIFO under a LEGACY_TEMP name goes too (not counted):
 * the old writer replaced whatever held its fixed name before it wrote,
 * and nothing else writes such names. unlinkat follows nothing. */
static bool remove_temp(int fd, const char *name, enum temp_kind kind)
{
	struct stat sb;

	if (fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) ||
	    (!S_ISREG(sb.st_mode) && (kind != LEGACY_TEMP || S_ISDIR(sb.st_mode))))
		return false;
	return !unlinkat(fd, name, 0) && S_ISREG(sb.st_mode);
}

/* Index one directory: entries into q; leftover temp files deleted and
 * counted in *removed. */
static int scan(struct spool *s, int fd, struct queue *q, const char *where, int *removed)
{
	int dup_fd = dup(fd), ret = 0;
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *de;
	struct stat sb;
	uint64_t seq;

	if (!d) {
		ret = -errno;
		if (dup_fd >= 0)
			close(dup_fd);
		log_error("spool: read directory %s: %s", where, strerror(-ret));
		return ret;
	}
	while (!ret && (de = readdir(d))) {
		enum temp_kind kind = temp_kind(de->d_name);

		if (kind) {
			if (remove_temp(fd, de->d_name, kind))
				(*removed)++;
		} else if (parse_name(de->d_name, &seq)) {
			/* numbered past whatever holds a name, so no entry of
			 * ours lands on a link or a FIFO */
			if (seq >= s->next_seq)
				s->next_seq = seq + 1;
			if (!fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) &&
			    S_ISREG(sb.st_mode))
				ret = queue_add(q, seq, (uint64_t)sb.st_size);
		}
	}
	closedir(d);
	return ret;
}

/* ---- open / close ---- */

static int open_dirs(struct spool *s, const char *dir, const char *rej)
{
	struct stat st;
	int ret = safe_dir_open(dir, 0700, "spool", &s->dir_fd);

	if (!ret)
		ret = safe_dir_openat(s->dir_fd, REJECTED, rej, 0700, "spool", &s->rej_fd);
	if (ret)
		return ret; /* logged */
	/* O_NONBLOCK: a FIFO in its place must not stop us */
	s->lock_fd = openat(s->dir_fd, ".lock",
			    O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (s->lock_fd < 0 || fstat(s->lock_fd, &st) || !S_ISREG(st.st_mode)) {
		ret = s->lock_fd < 0 && errno != ELOOP ? -errno : -EINVAL;
		log_error("spool %s: .lock: %s", dir, ret == -EINVAL ? "a link or not a regular "
			  "file, which bpfprof does not open: remove it" : strerror(-ret));
		return ret;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB)) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		log_error("spool %s: %s", dir,
			  ret == -EBUSY ? "in use by another bpfprof process" : strerror(-ret));
		return ret;
	}
	return 0;
}

int spool_open(const char *dir, uint64_t max_bytes, struct spool **out)
{
	struct spool *s = calloc(1, sizeof(*s));
	char rej[PATH_MAX];
	int ret, removed = 0;

	*out = NULL;
	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		return -ENOMEM;
	}
	s->dir_fd = s->rej_fd = s->lock_fd = -1;
	s->next_seq = 1;
	s->pending.max_bytes = max_bytes;
	s->rejected.max_bytes = max_bytes / 4;
	snprintf(rej, sizeof(rej), "%s/" REJECTED, dir);
	ret = open_dirs(s, dir, rej);
	if (!ret)
		ret = scan(s, s->dir_fd, &s->pending, dir, &removed);
	if (!ret)
		ret = scan(s, s->rej_fd, &s->rejected, rej, &removed);
	if (ret) {
		spool_close(s);
		return ret;
	}
	if (removed)
		log_info("spool %s: removed %d temporary file%s left by an interrupted write",
			 dir, removed, removed == 1 ? "" : "s");
	if (s->pending.n)
		log_info("spool %s: profiles waiting from a previous run: %zu (%llu bytes)",
			 dir, s->pending.n, (unsigned long long)s->pending.bytes);
	*out = s;
	return 0;
}

void spool_close(struct spool *s)
{
	if (!s)
		return;
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* releases the flock */
	if (s->rej_fd >= 0)
		close(s->rej_fd);
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	free(s->pending.items);
	free(s->rejected.items);
	free(s->dir);
	free(s);
}

/* ---- operations ---- */

/* Delete the oldest entry of q (in directory fd) and its .reason file. */
static void drop_oldest(int fd, struct queue *q)
{
	char name[NAME_LEN];

	entry_name(name, q->items[0].seq, ".spool");
	unlinkat(fd, name, 0);
	entry_name(name, q->items[0].seq, ".reason");
	unlinkat(fd, name, 0);
	queue_del(q, 0);
}

int spool_push(struct spool *s, const struct ingest_meta *m, const void *body,
	       size_t len)
{
	char name[NAME_LEN];
	uint8_t *buf;
	size_t size;
	int ret = encode(m, body, len, &buf, &size);

	if (ret) {
		log_error("spool %s: cannot store a profile of %s: %s", s->dir,
			  m->service, ret == -EINVAL ? "name or label too long" : strerror(-ret));
		return ret;
	}
	if (size > s->pending.max_bytes) {
		s->st.dropped++;
		s->st.dropped_bytes += size;
		log_warn("spool %s: a profile of %zu bytes is larger than the %llu-byte cap, dropped (%llu dropped so far)",
			 s->dir, size, (unsigned long long)s->pending.max_bytes,
			 (unsigned long long)s->st.dropped);
		free(buf);
		return -EFBIG;
	}
	entry_name(name, s->next_seq, ".spool");
	ret = atomic_file_write(s->dir_fd, name, 0600, buf, size);
	free(buf);
	if (!ret)
		ret = queue_add(&s->pending, s->next_seq, size);
	if (ret) {
		log_error("spool %s: write %s: %s", s->dir, name, strerror(-ret));
		return ret;
	}
	s->next_seq++;
	while (s->pending.bytes > s->pending.max_bytes) {
		s->st.dropped++;
		s->st.dropped_bytes += s->pending.items[0].size;
		log_warn("spool %s: over its %llu-byte cap, dropped the oldest profile (seq %llu; %llu dropped so far)",
			 s->dir, (unsigned long long)s->pending.max_bytes,
			 (unsigned long long)s->pending.items[0].seq,
			 (unsigned long long)s->st.dropped);
		drop_oldest(s->dir_fd, &s->pending);
	}
	return 0;
}

/* An entry's bytes: -ENOENT when gone, -EBADMSG when it is not a regular
 * file (a link, a FIFO) or larger than max. */
static int read_entry(int dir_fd, const char *name, size_t max, void **buf, size_t *len)
{
	int ret = safe_read_file(dir_fd, name, SAFE_OPEN_NOFOLLOW, max, (char **)buf, len, NULL);

	/* a link, FIFO or device planted under an entry's name, or one that is
	 * (or grew) over the cap: corrupt, like a bad CRC */
	return ret == -ELOOP || ret == -EINVAL || ret == -EFBIG ? -EBADMSG : ret;
}

int spool_peek_oldest(struct spool *s, struct spool_entry *e)
{
	char name[NAME_LEN];
	void *buf;
	size_t len;
	int ret;

	memset(e, 0, sizeof(*e));
	while (s->pending.n) {
		entry_name(name, s->pending.items[0].seq, ".spool");
		ret = read_entry(s->dir_fd, name, s->pending.max_bytes, &buf, &len);
		if (ret == -ENOENT) {
			log_warn("spool %s: %s vanished", s->dir, name);
			queue_del(&s->pending, 0);
			continue;
		}
		if (ret && ret != -EBADMSG) {
			log_error("spool %s: read %s: %s", s->dir, name, strerror(-ret));
			return ret;
		}
		if (!ret)
			ret = spool_entry_parse(buf, len, e);
		if (!ret) {
			e->seq = s->pending.items[0].seq;
			e->file = buf;
			return 0;
		}
		free(buf);
		if (ret != -EBADMSG)
			return ret;
		s->st.corrupt++;
		log_warn("spool %s: %s is corrupt or not a regular file, deleted", s->dir, name);
		drop_oldest(s->dir_fd, &s->pending);
	}
	return -ENOENT;
}

int spool_remove(struct spool *s, uint64_t seq)
{
	ssize_t i = queue_find(&s->pending, seq);
	char name[NAME_LEN];

	if (i < 0)
		return -ENOENT;
	entry_name(name, seq, ".spool");
	if (unlinkat(s->dir_fd, name, 0) && errno != ENOENT) {
		log_error("spool %s: delete %s: %s", s->dir, name, strerror(errno));
		return -errno;
	}
	queue_del(&s->pending, (size_t)i);
	return 0;
}

int spool_set_aside(struct spool *s, uint64_t seq, const char *reason)
{
	ssize_t i = queue_find(&s->pending, seq);
	char name[NAME_LEN], why[NAME_LEN], text[512];
	uint64_t size;
	int ret;

	if (i < 0)
		return -ENOENT;
	size = s->pending.items[i].size;
	entry_name(name, seq, ".spool");
	entry_name(why, seq, ".reason");
	snprintf(text, sizeof(text), "%s\n", reason ? reason : "");
	atomic_file_write(s->rej_fd, why, 0600, text, strlen(text)); /* best effort: the entry matters */
	if (renameat(s->dir_fd, name, s->rej_fd, name)) {
		ret = -errno;
		log_error("spool %s: move %s to " REJECTED "/: %s", s->dir, name, strerror(-ret));
		return ret;
	}
	queue_del(&s->pending, (size_t)i);
	s->st.set_aside++;
	log_warn("spool %s: profile %llu set aside in " REJECTED "/: %s", s->dir,
		 (unsigned long long)seq, reason ? reason : "");
	if (queue_add(&s->rejected, seq, size)) {
		unlinkat(s->rej_fd, name, 0);
		unlinkat(s->rej_fd, why, 0);
		s->st.rejected_dropped++;
	}
	while (s->rejected.bytes > s->rejected.max_bytes) {
		s->st.rejected_dropped++;
		drop_oldest(s->rej_fd, &s->rejected);
	}
	return 0;
}

void spool_get_stats(const struct spool *s, struct spool_stats *st)
{
	*st = s->st;
	st->entries = s->pending.n;
	st->bytes = s->pending.bytes;
	st->rejected_entries = s->rejected.n;
	st->rejected_bytes = s->rejected.bytes;
}
