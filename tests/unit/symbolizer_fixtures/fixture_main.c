/* fixture_main.c - the executable the symbolizer tests resolve, built as a
 * PIE and as a non-PIE, linked with the fixture library.
 *
 * It calls every function once, prints "<name> <address>" for a few of
 * them (the test checks the runtime addresses it computes against these),
 * prints "ready", and then waits for EOF on stdin before exiting, so the
 * test decides how long the process lives.
 */
#include <stdio.h>
#include <unistd.h>

int symfix_lib_work(int x);
int symfix_lib_ifunc(int x);
void *symfix_lib_probe(void);

static volatile int sink;

static int main_static_a(int x)
{
	for (int i = 0; i < 4; i++)
		sink += x * 3 + i;
	return sink;
}

int main_global_b(int x)
{
	for (int i = 0; i < 6; i++)
		sink ^= x << (i & 3);
	return sink + 11;
}

static int main_static_c(int x)
{
	sink -= x * 17;
	return sink * 2 + main_global_b(x);
}

int main(void)
{
	int r = main_static_a(1) + main_global_b(2) + main_static_c(3) +
		symfix_lib_work(4) + symfix_lib_ifunc(5);
	char c;

	printf("main %p\n", (void *)main);
	printf("main_static_a %p\n", (void *)main_static_a);
	printf("lib_static_helper %p\n", symfix_lib_probe());
	printf("ready %d\n", r & 1);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
