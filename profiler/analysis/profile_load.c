/* profile_load.c - see profile_load.h. */
#include "profile_load.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grow.h"
#include "pprof_read.h"

#define INFLATE_RATIO 100
#define INFLATE_MIN_BYTES ((size_t)64 << 20)

#define FRAME_MATCH_KNOWN 1
#define FRAME_MATCH_FOCUS 2
#define FRAME_MATCH_IGNORE 4

/* The frames of one decoded file's locations, as frame ids of the table
 * (leaf first, inlined first, as pprof orders them), and whether one of
 * them matches focus or ignore. */
struct file_frames {
	size_t *first;   /* per location: into ids */
	uint32_t *count; /* per location */
	uint8_t *match;  /* per location: FRAME_MATCH_* of any of its frames */
	uint32_t *ids;
	size_t nids, ids_cap;
	uint32_t *stack; /* one sample's frames, root first */
	size_t stack_cap;
};

static int fail(char *err, size_t size, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err && size)
		vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return code;
}

int profile_loader_init(struct profile_loader *ld, const struct profile_load_opts *opts,
			struct frame_table *frames)
{
	*ld = (struct profile_loader){ .frames = frames };
	if (!opts || opts->sz < sizeof(*opts))
		return -EINVAL;
	ld->opts = *opts;
	if (!ld->opts.max_file_bytes)
		ld->opts.max_file_bytes = PROFILE_LOAD_MAX_FILE_BYTES;
	return 0;
}

void profile_loader_free(struct profile_loader *ld)
{
	free(ld->matches);
	*ld = (struct profile_loader){ 0 };
}

int agent_file_service(const char *name, char *out, size_t out_size)
{
	static const char stamp[] = "-DDDDDDDDTDDDDDDZ"; /* D: a digit */
	const size_t slen = sizeof(stamp) - 1;
	size_t n = strlen(name);
	const char *end;

	if (n > 6 && !strcmp(name + n - 6, ".pb.gz"))
		end = name + n - 6;
	else
		return -EINVAL;
	/* ...Z or ...Z-N: find the stamp that ends at 'Z'. */
	for (const char *z = end - 1; z - name >= (ptrdiff_t)slen; z--) {
		size_t i;

		if (*z != 'Z')
			continue;
		for (i = 0; i < slen; i++) {
			char c = z[1 - (ptrdiff_t)slen + (ptrdiff_t)i];

			if (stamp[i] == 'D' ? (c < '0' || c > '9') : c != stamp[i])
				break;
		}
		if (i < slen)
			continue;
		if (z + 1 != end) { /* -N */
			const char *p = z + 1;

			if (*p++ != '-' || p == end)
				continue;
			while (p < end && *p >= '0' && *p <= '9')
				p++;
			if (p != end)
				continue;
		}
		n = (size_t)(z + 1 - (ptrdiff_t)slen - name);
		if (n == 0 || n >= out_size)
			return -EINVAL;
		memcpy(out, name, n);
		out[n] = '\0';
		return (int)n;
	}
	return -EINVAL;
}

/* Reads the open file fd (closed here) whole: a regular file of at most
 * max bytes. */
static int read_profile_fd(int fd, const char *shown, size_t max, uint8_t **out, size_t *out_len,
			   char *err, size_t err_size)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret = 0;

	if (fstat(fd, &st)) {
		ret = fail(err, err_size, -errno, "%s: %s", shown, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		ret = fail(err, err_size, -EINVAL, "%s: not a regular file", shown);
	} else if ((uint64_t)st.st_size > max) {
		ret = fail(err, err_size, -EFBIG, "%s: %lld bytes, more than the %zu a profile may have",
			   shown, (long long)st.st_size, max);
	} else if (!(buf = malloc((size_t)st.st_size + 1))) {
		ret = fail(err, err_size, -ENOMEM, "%s: out of memory", shown);
	}
	while (!ret) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ret = fail(err, err_size, -errno, "%s: %s", shown, strerror(errno));
		else if (n == 0)
			break;
		else if ((len += (size_t)n) > (size_t)st.st_size)
			ret = fail(err, err_size, -EAGAIN, "%s: grew while it was read", shown);
	}
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The frame a location line (or a location without lines) names. */
static struct frame line_frame(const struct pprof_model *m, const struct pprof_model_location *loc,
			       const struct pprof_model_line *line, char *scratch, size_t size)
{
	const struct pprof_model_mapping *map =
		loc->mapping == PPROF_NONE ? NULL : &m->mappings[loc->mapping];
	const char *mfile = map ? map->file : NULL;
	struct frame f = { .file = "", .kind = FRAME_NATIVE };

	if (mfile && (!strcmp(mfile, "[kernel.kallsyms]") || !strncmp(mfile, "[kernel", 7)))
		f.kind = FRAME_KERNEL;
	if (!line) { /* as pprof names it by function: the object, or nothing */
		if (f.kind != FRAME_KERNEL)
			f.kind = FRAME_UNSYMBOLIZED;
		if (mfile && mfile[0]) {
			snprintf(scratch, size, "[%s]", base_name(mfile));
			f.name = scratch;
		} else {
			f.name = "<unknown>";
		}
		return f;
	}
	const struct pprof_model_function *fn = &m->functions[line->function];

	f.name = fn->name[0] ? fn->name : fn->system_name[0] ? fn->system_name : "<unknown>";
	f.file = fn->file;
	f.line = line->line;
	/* An interpreter's frames are in its pseudo-mapping ("[python]"). */
	if (f.kind == FRAME_NATIVE && mfile && !strcmp(mfile, "[python]"))
		f.kind = FRAME_INTERPRETER;
	/* Code in no file (anonymous executable memory) with a name: a JIT's,
	 * named by its perf map. */
	if (f.kind == FRAME_NATIVE && map &&
	    (!mfile[0] || !strncmp(mfile, "[anon", 5) || !strncmp(mfile, "//anon", 6) ||
	     !strncmp(mfile, "/memfd:", 7) || !strncmp(mfile, "/tmp/perf-", 10)))
		f.kind = FRAME_JIT;
	return f;
}

/* Whether frame id matches focus/ignore, worked out once per frame. */
static int frame_match(struct profile_loader *ld, uint32_t id, uint8_t *out)
{
	const struct profile_load_opts *o = &ld->opts;

	if (id >= ld->matches_cap) {
		size_t old = ld->matches_cap;

		if (array_reserve(&ld->matches, &ld->matches_cap, (size_t)id + 1, 1))
			return -ENOMEM;
		memset(ld->matches + old, 0, ld->matches_cap - old);
	}
	if (!(ld->matches[id] & FRAME_MATCH_KNOWN)) {
		const char *name = ld->frames->frames[id].name;
		uint8_t v = FRAME_MATCH_KNOWN;

		if (o->focus && !regexec(o->focus, name, 0, NULL, 0))
			v |= FRAME_MATCH_FOCUS;
		if (o->ignore && !regexec(o->ignore, name, 0, NULL, 0))
			v |= FRAME_MATCH_IGNORE;
		ld->matches[id] = v;
	}
	*out = ld->matches[id];
	return 0;
}

static void file_frames_free(struct file_frames *ff)
{
	free(ff->first);
	free(ff->count);
	free(ff->match);
	free(ff->ids);
	free(ff->stack);
}

/* Every location's frames, interned once for all the samples that use it. */
static int intern_locations(struct profile_loader *ld, const struct pprof_model *m,
			    struct file_frames *ff)
{
	size_t n = m->nlocations ? m->nlocations : 1;
	char scratch[4096 + 2];

	ff->first = malloc(n * sizeof(*ff->first));
	ff->count = malloc(n * sizeof(*ff->count));
	ff->match = calloc(n, 1);
	if (!ff->first || !ff->count || !ff->match)
		return -ENOMEM;
	for (size_t i = 0; i < m->nlocations; i++) {
		const struct pprof_model_location *loc = &m->locations[i];
		uint32_t nl = loc->nlines ? loc->nlines : 1;

		ff->first[i] = ff->nids;
		ff->count[i] = nl;
		if (array_reserve(&ff->ids, &ff->ids_cap, ff->nids + nl, sizeof(*ff->ids)))
			return -ENOMEM;
		for (uint32_t j = 0; j < nl; j++) {
			const struct pprof_model_line *line =
				loc->nlines ? &m->lines[loc->first_line + j] : NULL;
			struct frame f = line_frame(m, loc, line, scratch, sizeof(scratch));
			int64_t id = frame_table_intern(ld->frames, &f);
			uint8_t match;

			if (id < 0 || frame_match(ld, (uint32_t)id, &match))
				return -ENOMEM;
			ff->ids[ff->nids++] = (uint32_t)id;
			ff->match[i] |= match;
		}
	}
	return 0;
}

static bool label_is(const struct pprof_model_label *l, const char *value)
{
	char *end;
	long long v;

	if (l->str)
		return !strcmp(l->str, value);
	errno = 0;
	v = strtoll(value, &end, 10);
	return !errno && end != value && !*end && v == l->num;
}

/* Does the sample carry every key of the tags, each with one of its values? */
static bool tags_match(const struct profile_load_opts *o, const struct pprof_model *m,
		       const struct pprof_model_sample *s)
{
	for (size_t t = 0; t < o->ntags; t++) {
		bool key_done = false, found = false;

		for (size_t u = 0; u < t && !key_done; u++)
			key_done = !strcmp(o->tags[u].key, o->tags[t].key);
		if (key_done)
			continue; /* this key was checked with its first tag */
		for (size_t u = t; u < o->ntags && !found; u++) {
			if (strcmp(o->tags[u].key, o->tags[t].key))
				continue;
			for (size_t i = 0; i < s->nlabels && !found; i++) {
				const struct pprof_model_label *l = &m->labels[s->first_label + i];

				found = !strcmp(l->key, o->tags[u].key) && label_is(l, o->tags[u].value);
			}
		}
		if (!found)
			return false;
	}
	return true;
}

/* The sample type of this file the analysis reads, settled by the first. */
static int pick_type(struct profile_loader *ld, const char *name, const struct pprof_model *m,
		     size_t *out, char *err, size_t err_size)
{
	const char *want = ld->typed ? ld->type : ld->opts.sample_type;
	size_t t = m->default_type;

	if (!m->ntypes) { /* then no samples either (pprof_read): nothing to settle */
		*out = 0;
		return 0;
	}
	if (want) {
		for (t = 0; t < m->ntypes && strcmp(m->types[t].type, want); t++)
			;
		if (t == m->ntypes) {
			char have[256] = "";

			for (size_t i = 0; i < m->ntypes; i++)
				snprintf(have + strlen(have), sizeof(have) - strlen(have), "%s%s",
					 i ? ", " : "", m->types[i].type);
			return fail(err, err_size, -EINVAL, "%s: no sample type '%s' (it has: %s)",
				    name, want, have);
		}
	}
	if (!ld->typed) {
		ld->typed = true;
		snprintf(ld->type, sizeof(ld->type), "%s", m->types[t].type);
		snprintf(ld->unit, sizeof(ld->unit), "%s", m->types[t].unit);
		ld->period = m->period;
		snprintf(ld->period_unit, sizeof(ld->period_unit), "%s", m->period_type.unit);
	} else if (strcmp(ld->unit, m->types[t].unit)) {
		return fail(err, err_size, -EINVAL, "%s: sample type '%s' is in %s, not %s as in the first profile",
			    name, ld->type, m->types[t].unit, ld->unit);
	}
	*out = t;
	return 0;
}

static int add_samples(struct profile_loader *ld, const char *name, const struct pprof_model *m,
		       size_t type, struct stack_list *into, char *err, size_t err_size)
{
	const struct profile_load_opts *o = &ld->opts;
	struct file_frames ff = { 0 };
	int ret = intern_locations(ld, m, &ff);

	for (size_t i = 0; !ret && i < m->nsamples; i++) {
		const struct pprof_model_sample *s = &m->samples[i];
		int64_t value = s->values[type];
		bool focused = !o->focus, ignored = false;
		size_t depth = 0;

		if (value < 0) {
			ret = fail(err, err_size, -EINVAL,
				   "%s: sample %zu has a negative %s (%lld): a difference of profiles is not a profile",
				   name, i, ld->type, (long long)value);
			break;
		}
		if (!value || !tags_match(o, m, s))
			continue;
		for (size_t j = 0; j < s->nlocations; j++) {
			uint32_t loc = m->stack[s->first_location + j];

			focused |= ff.match[loc] & FRAME_MATCH_FOCUS;
			ignored |= ff.match[loc] & FRAME_MATCH_IGNORE;
			depth += ff.count[loc];
		}
		if (!focused || ignored)
			continue;
		if (depth > UINT32_MAX / 2 ||
		    array_reserve(&ff.stack, &ff.stack_cap, depth, sizeof(*ff.stack))) {
			ret = -ENOMEM;
			break;
		}
		/* Root first: the last location's last (out-of-line) frame first. */
		size_t k = depth;

		for (size_t j = 0; j < s->nlocations; j++) {
			uint32_t loc = m->stack[s->first_location + j];

			for (uint32_t l = 0; l < ff.count[loc]; l++)
				ff.stack[--k] = ff.ids[ff.first[loc] + l];
		}
		ret = stack_list_add(into, ff.stack, (uint32_t)depth, value);
		if (ret == -EOVERFLOW)
			ret = fail(err, err_size, -EOVERFLOW, "%s: the %s values add up past 2^63",
				   name, ld->type);
	}
	if (ret == -ENOMEM)
		fail(err, err_size, -ENOMEM, "%s: out of memory", name);
	file_frames_free(&ff);
	return ret;
}

/* A profile compresses 5 to 20 times; a gzip bomb, a thousand: the cap on
 * what a file may inflate to grows with it, so a bomb is refused before it
 * takes much more memory than a real profile of its size would. */
static size_t inflate_cap(const struct profile_load_opts *o, size_t len)
{
	size_t cap = len > SIZE_MAX / INFLATE_RATIO ? SIZE_MAX : len * INFLATE_RATIO;

	if (o->max_inflated_bytes)
		return o->max_inflated_bytes;
	cap = cap < INFLATE_MIN_BYTES ? INFLATE_MIN_BYTES : cap;
	return cap > PPROF_READ_MAX_BYTES ? PPROF_READ_MAX_BYTES : cap;
}

/* Is the file named name one of the selected service's (when one is)? */
static bool service_selected(const struct profile_loader *ld, const char *name)
{
	char service[256];

	return !ld->opts.service ||
	       (agent_file_service(base_name(name), service, sizeof(service)) >= 0 &&
		!strcmp(service, ld->opts.service));
}

int profile_loader_add_bytes(struct profile_loader *ld, const char *name, const void *buf,
			     size_t len, struct stack_list *into, char *err, size_t err_size)
{
	const struct profile_load_opts *o = &ld->opts;
	struct pprof_model *m = NULL;
	size_t type = 0;
	char why[512];
	int ret = pprof_read(buf, len, inflate_cap(o, len), why, sizeof(why), &m);

	if (ret)
		return fail(err, err_size, ret, "%s: %s", name, why);
	if ((o->from_ns && m->time_nanos < o->from_ns) ||
	    (o->until_ns && m->time_nanos >= o->until_ns)) {
		pprof_model_free(m);
		return 0;
	}
	ret = pick_type(ld, name, m, &type, err, err_size);
	if (!ret)
		ret = add_samples(ld, name, m, type, into, err, err_size);
	pprof_model_free(m);
	if (ret)
		return ret;
	into->nprofiles++;
	return 1;
}

/* One open file (fd, closed here): read, then added as its bytes. */
static int add_file(struct profile_loader *ld, int fd, const char *shown, struct stack_list *into,
		    char *err, size_t err_size)
{
	uint8_t *buf;
	size_t len;
	int ret;

	if (ld->opts.progress)
		ld->opts.progress(shown, ld->read, ld->opts.progress_ctx);
	ld->read++;
	ret = read_profile_fd(fd, shown, ld->opts.max_file_bytes, &buf, &len, err, err_size);

	if (ret)
		return ret;
	ret = profile_loader_add_bytes(ld, shown, buf, len, into, err, err_size);
	free(buf);
	return ret;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool profile_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && ((n > 6 && !strcmp(name + n - 6, ".pb.gz")) ||
				  (n > 3 && !strcmp(name + n - 3, ".pb")));
}

static int add_dir(struct profile_loader *ld, int fd, const char *path, struct stack_list *into,
		   char *err, size_t err_size)
{
	DIR *d = fdopendir(fd);
	char **names = NULL, shown[4096];
	size_t n = 0, cap = 0;
	struct dirent *e;
	int ret = 0, added = 0;

	if (!d) {
		close(fd);
		return fail(err, err_size, -errno, "%s: %s", path, strerror(errno));
	}
	while ((e = readdir(d))) {
		if (!profile_name(e->d_name))
			continue;
		if (array_reserve(&names, &cap, n + 1, sizeof(*names)) ||
		    !(names[n] = strdup(e->d_name))) {
			ret = fail(err, err_size, -ENOMEM, "%s: out of memory", path);
			break;
		}
		n++;
	}
	if (!ret)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; !ret && i < n; i++) {
		struct stat st;

		int file;

		if (!service_selected(ld, names[i]))
			continue;
		snprintf(shown, sizeof(shown), "%s/%s", path, names[i]);
		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode) ||
		    (file = openat(dirfd(d), names[i],
				   O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW)) < 0) {
			ld->skipped++; /* a link, a FIFO, or gone since it was listed */
			continue;
		}
		ret = add_file(ld, file, shown, into, err, err_size);
		if (ret > 0)
			added++;
		ret = ret < 0 ? ret : 0;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return ret ? ret : added;
}

int profile_loader_add(struct profile_loader *ld, const char *path, struct stack_list *into,
		       char *err, size_t err_size)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;

	/* A FIFO or device named on the command line must not block the open:
	 * O_NONBLOCK, then refused as not a regular file. */
	if (fd < 0)
		return fail(err, err_size, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st)) {
		int e = -errno;

		close(fd);
		return fail(err, err_size, e, "%s: %s", path, strerror(-e));
	}
	if (S_ISDIR(st.st_mode))
		return add_dir(ld, fd, path, into, err, err_size);
	if (!service_selected(ld, path)) {
		close(fd);
		return 0;
	}
	return add_file(ld, fd, path, into, err, err_size);
}
