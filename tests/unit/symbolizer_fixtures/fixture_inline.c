/* fixture_inline.c - an executable whose DWARF has inline chains, built
 * with -O2 -g and inlining on (unlike the other fixtures).
 *
 *  - mix() is inlined into step(), which is inlined into inline_hot(): a
 *    two-level chain, inline_hot <- step <- mix;
 *  - step() also has an unlikely branch calling a noreturn function, which
 *    GCC moves to inline_hot.cold: inline_hot gets DW_AT_ranges;
 *  - twice() is inlined into both inline_hot() and main(): one abstract
 *    origin, several concrete instances.
 *
 * Like the other fixtures it prints "inline_hot <address>", then "ready",
 * and waits for EOF on stdin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile unsigned sink;

static inline unsigned twice(unsigned x)
{
	return x + x;
}

static inline unsigned mix(unsigned x)
{
	x ^= x >> 7;
	x *= 0x9e3779b1u;
	x ^= x >> 13;
	return twice(x);
}

__attribute__((noinline, noreturn, cold)) static void bad_value(unsigned x)
{
	fprintf(stderr, "bad value %u\n", x);
	abort();
}

static inline unsigned step(unsigned x, unsigned i)
{
	if (__builtin_expect(x == 0xdeadbeefu, 0))
		bad_value(x);
	return mix(x + i) + (i & 3);
}

__attribute__((noinline)) unsigned inline_hot(unsigned n)
{
	unsigned x = 1;

	for (unsigned i = 0; i < n; i++) {
		x = step(x, i);
		sink = x;
	}
	return twice(x);
}

int main(int argc, char **argv)
{
	unsigned r = inline_hot(1000 + (unsigned)argc);
	char c;

	(void)argv;
	printf("inline_hot %p\n", (void *)inline_hot);
	printf("ready %u\n", twice(r) & 1);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
