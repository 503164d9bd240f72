/* grow.h - how a growable array grows, for symbolizer/ and profiler/
 * (internal; header-only).
 *
 * An array is a pointer, a count the caller keeps and a capacity:
 * array_reserve(&arr, &cap, need, sizeof(*arr)) makes room for need
 * elements, doubling the capacity (from 16) so appends cost O(1) amortized,
 * and returns 0 or -ENOMEM (the sizes overflow, or realloc fails), leaving
 * the array as it was on failure. Caps on counts stay with the callers.
 *
 * Why not utarray, which comes with the uthash tables we use: its growth
 * calls utarray_oom(), exit() by default, and leaves the array broken if
 * that returns (the capacity already doubled, the data pointer NULL), so
 * every append would need a reserve of ours in front of it anyway; its
 * counts are unsigned int, doubled without an overflow check; and it
 * reaches elements through void * (utarray_eltptr) and searches them with
 * bsearch() through a callback, where the CFI, DWARF and symbol tables are
 * bisected inline on the unwinder's and resolver's hot paths.
 *
 * proto/ knows nothing of symbolizer/, so the pprof builder keeps its own
 * copy of this function (proto/pprof.c, reserve()).
 */
#ifndef BPFPROF_SYM_GROW_H
#define BPFPROF_SYM_GROW_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* parr: the address of the array (any T **); elem: sizeof(T). */
static inline int array_reserve(void *parr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 16;
	void *arr;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / elem)
		return -ENOMEM;
	memcpy(&arr, parr, sizeof(arr)); /* T ** is not void **: copy, don't cast */
	arr = realloc(arr, ncap * elem);
	if (!arr)
		return -ENOMEM;
	memcpy(parr, &arr, sizeof(arr));
	*cap = ncap;
	return 0;
}

#endif
