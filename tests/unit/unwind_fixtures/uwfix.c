/* uwfix.c - a known call chain that snapshots its own stack, for
 * test_unwind.c.
 *
 *     uwfix main|thread|signal|lazy OUT
 *
 * main:   main -> f1 -> f2 (2 KiB frame) -> f3 -> leaf
 * thread: (start_thread) thread_main -> f1 -> f2 -> f3 -> leaf
 * signal: main -> f1 -> f2 -> f3 -> raise -> (signal) on_signal -> leaf
 * lazy:   main -> lazy_call -> (PLT) _dl_runtime_resolve_* -> _dl_fixup ->
 *         the IFUNC resolver of libuwfix_lazy.so -> leaf; only when built
 *         with -DUWFIX_LAZY and linked with it, lazily (uwfix_lazy.c)
 * leaf() takes its rip, rsp and rbp and copies the stack from rsp - 128 to
 * the end of its mapping (at most 64 KiB) with one rep movsb, so nothing
 * the unwinder reads changes between the capture and the copy. OUT gets:
 * "UWFIX1\0\0", rip, rsp, rbp, base, len (uint64 each), the bytes, then
 * the text of /proc/self/maps.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CAP (64 * 1024)

static uint8_t snap[CAP];
static uint64_t hdr[5]; /* rip, rsp, rbp, base, len */
static char maps[256 * 1024];
static size_t maps_len;
static int mode_signal;
static volatile sig_atomic_t signals;

static void read_maps(void)
{
	int fd = open("/proc/self/maps", O_RDONLY);
	ssize_t n;

	maps_len = 0;
	while (fd >= 0 && maps_len < sizeof(maps) &&
	       (n = read(fd, maps + maps_len, sizeof(maps) - maps_len)) > 0)
		maps_len += (size_t)n;
	if (fd >= 0)
		close(fd);
}

/* End of the mapping holding addr, from the maps text. */
static uint64_t mapping_end(uint64_t addr)
{
	for (const char *p = maps; p < maps + maps_len;) {
		unsigned long lo, hi;
		const char *nl = memchr(p, '\n', (size_t)(maps + maps_len - p));

		if (sscanf(p, "%lx-%lx", &lo, &hi) == 2 && lo <= addr && addr < hi)
			return hi;
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}

__attribute__((noinline)) static void leaf(void)
{
	uint64_t rip, rsp, rbp, end, len;
	void *dst = snap;
	const void *src;

	read_maps();
	end = mapping_end((uint64_t)(uintptr_t)&dst);
	/* rbp first: the compiler may pick rbp for another output */
	__asm__ volatile("mov %%rbp, %2\n\t"
			 "mov %%rsp, %1\n\t"
			 "lea 0(%%rip), %0"
			 : "=r"(rip), "=r"(rsp), "=r"(rbp));
	len = end - (rsp - 128);
	if (len > CAP)
		len = CAP;
	src = (const void *)(uintptr_t)(rsp - 128);
	hdr[4] = len;
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(len) : : "memory");
	hdr[0] = rip;
	hdr[1] = rsp;
	hdr[2] = rbp;
	hdr[3] = rsp - 128;
}

__attribute__((noinline)) static int f3(int x)
{
	if (mode_signal)
		raise(SIGUSR1);
	else
		leaf();
	return x + 3;
}

/* 2 KiB of locals: a cut snapshot ends here */
__attribute__((noinline)) static int f2(int x)
{
	volatile char pad[2048];

	pad[x & 2047] = (char)x;
	return f3(x * 5) * 7 + pad[(x * 3) & 2047];
}

__attribute__((noinline)) static int f1(int x)
{
	return f2(x + 11) - 13;
}

static void on_signal(int sig)
{
	leaf();
	signals++; /* not a tail call */
}

#ifdef UWFIX_LAZY
extern void (*uwfix_lazy_hook)(void);
int uwfix_lazy_target(int x);

__attribute__((noinline)) static int lazy_call(int x)
{
	return uwfix_lazy_target(x) * 3; /* not a tail call */
}
#endif

static void *thread_main(void *arg)
{
	*(int *)arg = f1(*(int *)arg);
	return NULL;
}

int main(int argc, char **argv)
{
	int x = argc, rc = 0;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: uwfix main|thread|signal|lazy OUT\n");
		return 2;
	}
#ifdef UWFIX_LAZY
	if (!strcmp(argv[1], "lazy")) {
		/* what leaf() calls is bound now, not inside _dl_fixup */
		read_maps();
		mapping_end(0);
		uwfix_lazy_hook = leaf;
		x = lazy_call(x);
	} else
#endif
	if (!strcmp(argv[1], "thread")) {
		pthread_t t;

		if (pthread_create(&t, NULL, thread_main, &x) ||
		    pthread_join(t, NULL))
			return 1;
	} else {
		mode_signal = !strcmp(argv[1], "signal");
		signal(SIGUSR1, on_signal);
		x = f1(x);
	}
	f = fopen(argv[2], "wb");
	if (!f || fwrite("UWFIX1\0\0", 8, 1, f) != 1 ||
	    fwrite(hdr, sizeof(hdr), 1, f) != 1 ||
	    fwrite(snap, hdr[4], 1, f) != 1 || fwrite(maps, maps_len, 1, f) != 1)
		rc = 1;
	if (f && fclose(f))
		rc = 1;
	return rc ? rc : (x == 0); /* use x: f1..f3 are not dead code */
}
