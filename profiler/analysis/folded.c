/* folded.c - report.h's folded_write(): collapsed stacks for flamegraph.pl
 * and inferno. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "text_out.h"

static int frame_cmp(const struct frame *a, const struct frame *b)
{
	int c = strcmp(a->name, b->name);

	if (!c && !(c = strcmp(a->file, b->file)))
		c = (a->line > b->line) - (a->line < b->line);
	return c;
}

static int by_frames(const void *pa, const void *pb, void *ctx)
{
	const struct frame_table *t = ((const void **)ctx)[0];
	const struct stack_list *l = ((const void **)ctx)[1];
	const struct stack *a = &l->stacks[*(const uint32_t *)pa], *b = &l->stacks[*(const uint32_t *)pb];
	uint32_t n = a->depth < b->depth ? a->depth : b->depth;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t fa = l->frames[a->first + i], fb = l->frames[b->first + i];
		int c = fa == fb ? 0 : frame_cmp(&t->frames[fa], &t->frames[fb]);

		if (c)
			return c;
	}
	return (a->depth > b->depth) - (a->depth < b->depth);
}

/* The label, with what the format cannot carry replaced. */
static void write_frame(FILE *out, const struct frame *f)
{
	char label[4096];

	frame_label(label, sizeof(label), f);
	for (char *p = label; *p; p++)
		if (*p == ';')
			*p = ':';
		else if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	fputs(label, out);
}

int folded_write(FILE *out, const struct frame_table *t, const struct stack_list *l)
{
	uint32_t *order = malloc((l->nstacks ? l->nstacks : 1) * sizeof(*order));
	const void *ctx[2] = { t, l };

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < l->nstacks; i++)
		order[i] = (uint32_t)i;
	qsort_r(order, l->nstacks, sizeof(*order), by_frames, ctx);
	for (size_t i = 0; i < l->nstacks; i++) {
		const struct stack *s = &l->stacks[order[i]];

		if (!s->value)
			continue;
		if (!s->depth)
			fputs("<no frames>", out); /* a sample without a stack keeps its value */
		for (uint32_t d = 0; d < s->depth; d++) {
			if (d)
				fputc(';', out);
			write_frame(out, &t->frames[l->frames[s->first + d]]);
		}
		fprintf(out, " %" PRId64 "\n", s->value);
	}
	free(order);
	return fflush(out) || ferror(out) ? -EIO : 0;
}
