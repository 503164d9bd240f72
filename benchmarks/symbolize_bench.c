/* symbolize_bench.c - throughput of the bpfprof symbolizer, cold and warm,
 * on a batch of addresses that other symbolizers can replay.
 *
 * The target is a live process: `sleep` started with LD_PRELOAD=OBJECT...,
 * so every OBJECT (shared libraries; libc is usually one of them) is mapped
 * by ld.so as in any profiled program. The batch is N addresses drawn
 * uniformly, with a fixed seed, from the executable mappings of the
 * OBJECTs in turn: address i comes from OBJECT i % K.
 *
 * Measured in this process, which should be fresh (peak RSS is the whole
 * process's):
 *   cold  symbolizer_new(), symbolizer_track_process() of the target (which
 *         parses every object it maps: ELF symbols, DWARF index), then one
 *         symbolizer_resolve_user() per address;
 *   warm  the same addresses again with the same symbolizer, best of 3;
 *   peak RSS (getrusage) before the symbolizer exists and at the end, the
 *   RSS at the end (what stays), and the symbolizer's cache bytes against
 *   its cap (symbolizer_get_stats).
 *
 * With -o DIR it also writes, for benchmarks/symbolize.sh:
 *   DIR/addrs.K  the addresses of OBJECT K as ELF virtual addresses (what
 *                llvm-symbolizer --obj and eu-addr2line -e take), in batch
 *                order, one hex number a line;
 *   DIR/ours.tsv one line per address: K, vaddr, then the innermost frame's
 *                function, file and line ("" and 0 when unknown).
 * Results go to stdout as key=value lines.
 *
 * Usage: symbolize_bench [-n N] [-s SEED] [-o DIR] OBJECT...
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc_maps.h"
#include "read_file.h"
#include "symbolizer.h"

#define MAX_OBJECTS 8
#define MAX_MAPS 8   /* executable mappings of one object */
#define MAX_LOADS 16 /* PT_LOAD segments of one object */
#define WARM_PASSES 3

struct object {
	const char *path;
	dev_t dev;
	ino_t ino;
	int nloads;
	Elf64_Phdr loads[MAX_LOADS];
	int nmaps;
	struct { uint64_t start, limit, offset; } maps[MAX_MAPS];
	uint64_t exec_bytes; /* sum of the mappings' sizes */
};

static struct object objects[MAX_OBJECTS];
static int nobjects;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* The resident set now, from /proc/self/statm; -1 if unknown. */
static long rss_now_kb(void)
{
	long size, resident = -1;
	char *buf;
	size_t len;

	if (!sym_read_file_at(AT_FDCWD, "/proc/self/statm", 4096, &buf, &len)) {
		if (sscanf(buf, "%ld %ld", &size, &resident) != 2)
			resident = -1;
		free(buf);
	}
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* splitmix64: a small, well-mixed generator; the seed makes the batch
 * reproducible. */
static uint64_t rng_state;
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Device, inode and PT_LOAD segments of a 64-bit ELF file. */
static int read_object(struct object *o, const char *path)
{
	Elf64_Ehdr eh;
	struct stat st;
	int fd, err = 0;

	o->path = path;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		goto out;
	}
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr)) {
		fprintf(stderr, "%s: not a 64-bit ELF file\n", path);
		err = -EINVAL;
		goto out;
	}
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) != sizeof(ph)) {
			fprintf(stderr, "%s: short program header table\n", path);
			err = -EINVAL;
			goto out;
		}
		if (ph.p_type == PT_LOAD && o->nloads < MAX_LOADS)
			o->loads[o->nloads++] = ph;
	}
out:
	if (fd >= 0)
		close(fd);
	return err;
}

/* Starts `sleep` with every object preloaded, in the order given (a
 * sanitizer runtime such as libasan must come first); it dies with us. */
static pid_t start_target(void)
{
	char preload[4096] = "";
	pid_t pid;

	for (int k = 0; k < nobjects; k++) {
		if (k)
			strncat(preload, ":", sizeof(preload) - strlen(preload) - 1);
		strncat(preload, objects[k].path, sizeof(preload) - strlen(preload) - 1);
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setenv("LD_PRELOAD", preload, 1);
		execlp("sleep", "sleep", "3600", (char *)NULL);
		fprintf(stderr, "exec sleep: %s\n", strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Reads the executable mappings of every object from /proc/PID/maps.
 * Returns 1 when each object has at least one, 0 when not (yet). */
static int read_target_maps(pid_t pid)
{
	char path[64];
	struct proc_maps pm;
	int complete = 1;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if (proc_maps_read(AT_FDCWD, path, &pm))
		return 0;
	for (int k = 0; k < nobjects; k++)
		objects[k].nmaps = 0, objects[k].exec_bytes = 0;
	for (size_t i = 0; i < pm.n; i++) {
		const struct proc_maps_entry *e = &pm.entries[i];

		if (e->perms[2] != 'x')
			continue;
		for (int k = 0; k < nobjects; k++) {
			struct object *o = &objects[k];

			if (o->ino != e->inode || major(o->dev) != e->dev_major ||
			    minor(o->dev) != e->dev_minor || o->nmaps == MAX_MAPS)
				continue;
			o->maps[o->nmaps].start = e->start;
			o->maps[o->nmaps].limit = e->end;
			o->maps[o->nmaps].offset = e->offset;
			o->nmaps++;
			o->exec_bytes += e->end - e->start;
		}
	}
	proc_maps_free(&pm);
	for (int k = 0; k < nobjects; k++)
		complete &= objects[k].nmaps > 0;
	return complete;
}

/* A uniformly drawn address in the executable mappings of o, and the ELF
 * virtual address it corresponds to: mapping -> file offset -> the PT_LOAD
 * segment holding that offset. */
static void draw_address(const struct object *o, uint64_t *addr, uint64_t *vaddr)
{
	uint64_t r = rng_next() % o->exec_bytes;
	int m = 0;

	while (r >= o->maps[m].limit - o->maps[m].start)
		r -= o->maps[m].limit - o->maps[m].start, m++;
	*addr = o->maps[m].start + r;
	*vaddr = 0;
	uint64_t file_off = o->maps[m].offset + r;
	for (int i = 0; i < o->nloads; i++) {
		const Elf64_Phdr *ph = &o->loads[i];

		if (file_off >= ph->p_offset && file_off < ph->p_offset + ph->p_filesz) {
			*vaddr = file_off - ph->p_offset + ph->p_vaddr;
			break;
		}
	}
}

static int write_batch(const char *dir, const uint64_t *vaddrs, size_t n)
{
	for (int k = 0; k < nobjects; k++) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/addrs.%d", dir, k);
		f = fopen(path, "we");
		if (!f) {
			fprintf(stderr, "create %s: %s\n", path, strerror(errno));
			return -1;
		}
		for (size_t i = k; i < n; i += nobjects)
			fprintf(f, "0x%" PRIx64 "\n", vaddrs[i]);
		if (fclose(f)) {
			fprintf(stderr, "write %s: %s\n", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* One pass over the batch; counts the addresses with a function and with a
 * line. Returns the pass's wall time in seconds, or -1. */
static double resolve_all(struct symbolizer *s, pid_t pid, const uint64_t *addrs, size_t n,
			  size_t *with_function, size_t *with_line)
{
	struct sym_location loc;
	double t0 = now();

	*with_function = *with_line = 0;
	for (size_t i = 0; i < n; i++) {
		int err = symbolizer_resolve_user(s, pid, addrs[i], &loc);

		if (err) {
			fprintf(stderr, "resolve 0x%" PRIx64 ": %s\n", addrs[i], strerror(-err));
			return -1;
		}
		*with_function += loc.nframes > 0;
		*with_line += loc.nframes > 0 && loc.frames[0].line > 0;
	}
	return now() - t0;
}

static int write_ours(const char *dir, struct symbolizer *s, pid_t pid, const uint64_t *addrs,
		      const uint64_t *vaddrs, size_t n)
{
	struct sym_location loc;
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/ours.tsv", dir);
	f = fopen(path, "we");
	if (!f) {
		fprintf(stderr, "create %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sym_frame *fr = &loc.frames[0];

		if (symbolizer_resolve_user(s, pid, addrs[i], &loc) || loc.nframes == 0)
			fprintf(f, "%zu\t0x%" PRIx64 "\t\t\t0\n", i % nobjects, vaddrs[i]);
		else
			fprintf(f, "%zu\t0x%" PRIx64 "\t%s\t%s\t%d\n", i % nobjects, vaddrs[i],
				fr->function, fr->file ? fr->file : "", fr->line);
	}
	if (fclose(f)) {
		fprintf(stderr, "write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void usage(FILE *to)
{
	fprintf(to, "usage: symbolize_bench [-n N] [-s SEED] [-o DIR] OBJECT...\n"
		    "  resolves N (default 100000) addresses drawn from the executable mappings\n"
		    "  of the OBJECTs (shared libraries), preloaded into a `sleep` process\n");
}

int main(int argc, char **argv)
{
	struct symbolizer_stats stats = {.sz = sizeof(stats)};
	size_t n = 100000, with_function = 0, with_line = 0, wf, wl;
	double t0, track_s, cold_s, warm_s = -1;
	uint64_t *addrs = NULL, *vaddrs = NULL;
	struct symbolizer *s = NULL;
	const char *dir = NULL;
	long rss_before_kb, rss_end_kb;
	int opt, err, ret = 1;
	pid_t pid = -1;

	rng_state = 1;
	while ((opt = getopt(argc, argv, "n:s:o:h")) != -1) {
		switch (opt) {
		case 'n': n = strtoull(optarg, NULL, 0); break;
		case 's': rng_state = strtoull(optarg, NULL, 0); break;
		case 'o': dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind == argc || argc - optind > MAX_OBJECTS || n == 0) {
		usage(stderr);
		return 2;
	}
	for (int i = optind; i < argc; i++)
		if (read_object(&objects[nobjects++], argv[i]))
			return 1;

	pid = start_target();
	if (pid < 0)
		return 1;
	for (int tries = 0; !read_target_maps(pid); tries++) {
		if (tries == 500 || waitpid(pid, NULL, WNOHANG) == pid) {
			fprintf(stderr, "the target process did not map every object "
					"(is each one a shared library?)\n");
			goto out;
		}
		usleep(10000);
	}

	addrs = malloc(n * sizeof(*addrs));
	vaddrs = malloc(n * sizeof(*vaddrs));
	if (!addrs || !vaddrs) {
		fprintf(stderr, "out of memory for %zu addresses\n", n);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		draw_address(&objects[i % nobjects], &addrs[i], &vaddrs[i]);
	if (dir && write_batch(dir, vaddrs, n))
		goto out;

	rss_before_kb = peak_rss_kb();
	t0 = now();
	err = symbolizer_new(NULL, &s);
	if (!err)
		err = symbolizer_track_process(s, pid);
	if (err) {
		fprintf(stderr, "symbolizer: %s\n", strerror(-err));
		goto out;
	}
	track_s = now() - t0;
	cold_s = resolve_all(s, pid, addrs, n, &with_function, &with_line);
	if (cold_s < 0)
		goto out;
	cold_s += track_s;
	for (int pass = 0; pass < WARM_PASSES; pass++) {
		double w = resolve_all(s, pid, addrs, n, &wf, &wl);

		if (w < 0)
			goto out;
		if (warm_s < 0 || w < warm_s)
			warm_s = w;
	}
	symbolizer_get_stats(s, &stats);
	rss_end_kb = rss_now_kb();
	if (dir && write_ours(dir, s, pid, addrs, vaddrs, n))
		goto out;

	printf("objects=%d\n", nobjects);
	for (int k = 0; k < nobjects; k++)
		printf("object.%d=%s\n", k, objects[k].path);
	printf("addresses=%zu\n", n);
	printf("with_function=%zu\n", with_function);
	printf("with_line=%zu\n", with_line);
	printf("track_s=%.4f\n", track_s);
	printf("cold_s=%.4f\n", cold_s);
	printf("warm_s=%.4f\n", warm_s);
	printf("cold_us_per_address=%.3f\n", cold_s * 1e6 / n);
	printf("warm_us_per_address=%.3f\n", warm_s * 1e6 / n);
	printf("rss_before_kb=%ld\n", rss_before_kb);
	printf("peak_rss_kb=%ld\n", peak_rss_kb());
	printf("rss_end_kb=%ld\n", rss_end_kb);
	printf("cache_bytes=%" PRIu64 "\n", stats.cache_bytes);
	printf("cache_cap_bytes=%" PRIu64 "\n", stats.cache_cap_bytes);
	printf("cached_objects=%" PRIu64 "\n", stats.objects);
	ret = 0;
out:
	symbolizer_free(s);
	free(addrs);
	free(vaddrs);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return ret;
}
