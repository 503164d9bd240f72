/* fixture_lib.c - the shared library the symbolizer tests resolve.
 *
 * A few distinct functions: exported, static, and an IFUNC (whose symbol
 * shares its address with the resolver). symfix_lib_probe() hands out the
 * address of a static function so the test can check the load address it
 * computes from /proc/PID/maps against the real one.
 */
static volatile int lib_sink;

static int lib_static_helper(int x)
{
	for (int i = 0; i < 3; i++)
		lib_sink += x * i + 7;
	return lib_sink;
}

int symfix_lib_other(int x)
{
	for (int i = 0; i < 5; i++)
		lib_sink ^= x + i * 13;
	return lib_sink - 1;
}

int symfix_lib_work(int x)
{
	return lib_static_helper(x) + symfix_lib_other(x + 1);
}

static int symfix_lib_impl(int x)
{
	lib_sink -= x * 5;
	return lib_sink * 3;
}

static int (*symfix_lib_resolve(void))(int)
{
	return symfix_lib_impl;
}

int symfix_lib_ifunc(int x) __attribute__((ifunc("symfix_lib_resolve")));

void *symfix_lib_probe(void)
{
	return (void *)lib_static_helper;
}
