/* dfix.c - the object whose debug info test_debug_find looks for. Built
 * three times (see debug_find.cmake): with a build-id, as another build
 * (DFIX_OTHER: other code, so another build-id), and without a build-id. */
#include <stdio.h>

#ifdef DFIX_OTHER
#define GREETING "another build"
#else
#define GREETING "debug_find fixture"
#endif

int dfix_answer(int x)
{
	return x * 6 + 4;
}

int main(int argc, char **argv)
{
	printf("%s: %d\n", GREETING, dfix_answer(argc));
	return 0;
}
