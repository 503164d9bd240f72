/* stack_merge.c - see stack_merge.h. */
#include "stack_merge.h"

size_t stack_merge(const bool *in_eval, size_t nnative, const struct interp_frame *interp,
		   size_t ninterp, struct merged_frame *out, size_t max)
{
	size_t n = 0, next = 0; /* next: the first interpreter frame not placed */

	for (size_t i = 0; i < nnative && n < max; i++) {
		if (!in_eval[i] || next == ninterp) {
			out[n++] = (struct merged_frame){ .interp = false, .index = (uint32_t)i };
			continue;
		}
		while (next < ninterp && n < max) {
			bool entry = interp[next].entry;

			out[n++] = (struct merged_frame){ .interp = true, .index = (uint32_t)next++ };
			if (entry)
				break;
		}
	}
	while (next < ninterp && n < max)
		out[n++] = (struct merged_frame){ .interp = true, .index = (uint32_t)next++ };
	return n;
}
