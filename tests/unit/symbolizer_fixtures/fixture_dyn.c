/* fixture_dyn.c - an executable built with -rdynamic and then stripped
 * (strip --strip-all), so that only .dynsym is left: the exported
 * functions, not the static ones.
 *
 * Exported and static functions alternate in the file (kept in order with
 * -fno-toplevel-reorder), so every static function sits right after an
 * exported one: the test checks that an address inside a static function
 * is NOT charged to the exported function before it.
 */
#include <stdio.h>
#include <unistd.h>

static volatile int sink;

#ifdef __clang__
#define FN __attribute__((noinline, used))
#else
#define FN __attribute__((noinline, noclone, used))
#endif

FN int dyn_exported_one(int x)
{
	for (int i = 0; i < 3; i++)
		sink += x + i;
	return sink;
}

FN static int dyn_static_one(int x)
{
	for (int i = 0; i < 5; i++)
		sink ^= x * i;
	return sink * 7;
}

FN int dyn_exported_two(int x)
{
	sink -= x * 9;
	return sink + dyn_static_one(x);
}

FN static int dyn_static_two(int x)
{
	for (int i = 0; i < 7; i++)
		sink += (x << 2) - i;
	return sink - 3;
}

FN int dyn_exported_three(int x)
{
	sink *= x + 1;
	return sink;
}

int main(void)
{
	int r = dyn_exported_one(1) + dyn_exported_two(2) + dyn_static_two(3) +
		dyn_exported_three(4);
	char c;

	printf("main %p\n", (void *)main);
	printf("dyn_static_one %p\n", (void *)dyn_static_one);
	printf("ready %d\n", r & 1);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
