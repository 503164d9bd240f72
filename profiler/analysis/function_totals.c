/* function_totals.c - see function_totals.h. */
#include "function_totals.h"

#include <errno.h>
#include <stdlib.h>

int function_totals_compute(const struct stack_list *l, size_t nframes,
			    struct function_totals *out)
{
	size_t n = nframes ? nframes : 1;
	uint32_t *seen = calloc(n, sizeof(*seen)); /* the last stack (+ 1) counted in */

	*out = (struct function_totals){ .nframes = nframes };
	out->flat = calloc(n, sizeof(*out->flat));
	out->cum = calloc(n, sizeof(*out->cum));
	if (!seen || !out->flat || !out->cum) {
		free(seen);
		function_totals_free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->nstacks; i++) {
		const struct stack *s = &l->stacks[i];
		const uint32_t *f;

		if (!s->depth)
			continue;
		f = &l->frames[s->first];
		out->flat[f[s->depth - 1]] += s->value;
		for (uint32_t d = 0; d < s->depth; d++) {
			if (seen[f[d]] == i + 1)
				continue;
			seen[f[d]] = (uint32_t)i + 1;
			out->cum[f[d]] += s->value;
		}
	}
	free(seen);
	return 0;
}

void function_totals_free(struct function_totals *t)
{
	free(t->flat);
	free(t->cum);
	*t = (struct function_totals){ 0 };
}
