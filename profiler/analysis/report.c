/* report.c - see report.h. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "function_totals.h"
#include "text_out.h"

struct sort_ctx {
	const struct frame_table *t;
	const struct function_totals *ft;
	bool by_cum;
};

static int cmp_i64_desc(int64_t a, int64_t b)
{
	return a > b ? -1 : a < b;
}

/* pprof's order: by flat (or cum), then by name (file, line), then by the
 * other value. */
static int by_value(const void *pa, const void *pb, void *ctx)
{
	const struct sort_ctx *s = ctx;
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	const struct function_totals *ft = s->ft;
	const struct frame *fa = &s->t->frames[a], *fb = &s->t->frames[b];
	int c = s->by_cum ? cmp_i64_desc(ft->cum[a], ft->cum[b])
			  : cmp_i64_desc(ft->flat[a], ft->flat[b]);

	if (!c && !(c = strcmp(fa->name, fb->name)) && !(c = strcmp(fa->file, fb->file)))
		c = (fa->line > fb->line) - (fa->line < fb->line);
	if (!c)
		c = s->by_cum ? cmp_i64_desc(ft->flat[a], ft->flat[b])
			      : cmp_i64_desc(ft->cum[a], ft->cum[b]);
	return c ? c : (a > b) - (a < b);
}

static double pct(int64_t v, int64_t total)
{
	return total ? 100.0 * (double)v / (double)total : 0;
}

/* A share as pprof prints it: 2 decimals from 1%, 2 digits below, "100%". */
static const char *pct_text(char *buf, size_t size, int64_t v, int64_t total)
{
	double p = pct(v, total);

	if (p >= 99.95 && p <= 100.05)
		snprintf(buf, size, "100%%");
	else if (p >= 1)
		snprintf(buf, size, "%.2f%%", p);
	else
		snprintf(buf, size, "%.2g%%", p);
	return buf;
}

static void write_text(FILE *out, const struct frame_table *t, const struct stack_list *l,
		       const struct function_totals *ft, const uint32_t *rows, size_t nrows,
		       size_t nfunctions, const struct report_opts *o)
{
	char v[64], c[64], p1[16], p2[16], p3[16], label[4096];
	int64_t sum = 0;

	format_value(v, sizeof(v), l->total, o->unit);
	fprintf(out, "Type: %s\n", o->type);
	fprintf(out, "Total: %s in %zu profile%s\n", v, l->nprofiles, l->nprofiles == 1 ? "" : "s");
	fprintf(out, "Showing top %zu of %zu %s\n", nrows, nfunctions,
		t->by_line ? "lines" : "functions");
	fprintf(out, "%10s %6s %6s %10s %6s\n", "flat", "flat%", "sum%", "cum", "cum%");
	for (size_t i = 0; i < nrows; i++) {
		uint32_t f = rows[i];

		sum += ft->flat[f];
		format_value(v, sizeof(v), ft->flat[f], o->unit);
		format_value(c, sizeof(c), ft->cum[f], o->unit);
		frame_label(label, sizeof(label), &t->frames[f]);
		fprintf(out, "%10s %6s %6s %10s %6s  %s\n", v,
			pct_text(p1, sizeof(p1), ft->flat[f], l->total),
			pct_text(p2, sizeof(p2), sum, l->total), c,
			pct_text(p3, sizeof(p3), ft->cum[f], l->total), label);
	}
}

static void write_json(FILE *out, const struct frame_table *t, const struct stack_list *l,
		       const struct function_totals *ft, const uint32_t *rows, size_t nrows,
		       size_t nfunctions, const struct report_opts *o)
{
	fputs("{\"sample_type\":", out);
	json_write_string(out, o->type);
	fputs(",\"unit\":", out);
	json_write_string(out, o->unit);
	fprintf(out, ",\"total\":%" PRId64 ",\"files\":%zu,\"granularity\":\"%s\",\"count\":%zu,"
		"\"functions\":[", l->total, l->nprofiles, t->by_line ? "lines" : "functions",
		nfunctions);
	for (size_t i = 0; i < nrows; i++) {
		const struct frame *f = &t->frames[rows[i]];

		fputs(i ? ",\n{\"name\":" : "\n{\"name\":", out);
		json_write_string(out, f->name);
		fputs(",\"file\":", out);
		json_write_string(out, f->file);
		if (t->by_line)
			fprintf(out, ",\"line\":%" PRId64, f->line);
		fprintf(out, ",\"kind\":\"%s\",\"flat\":%" PRId64 ",\"flat_pct\":%.4f,\"cum\":%" PRId64
			",\"cum_pct\":%.4f}", frame_kind_names[f->kind], ft->flat[rows[i]],
			pct(ft->flat[rows[i]], l->total), ft->cum[rows[i]],
			pct(ft->cum[rows[i]], l->total));
	}
	fputs("]}\n", out);
}

int report_write(FILE *out, const struct frame_table *t, const struct stack_list *l,
		 const struct report_opts *o)
{
	struct function_totals ft;
	uint32_t *rows;
	size_t n = 0, nrows;
	int ret;

	if (o->format == REPORT_FOLDED)
		return folded_write(out, t, l);
	if ((ret = function_totals_compute(l, t->nframes, &ft)))
		return ret;
	rows = malloc((t->nframes ? t->nframes : 1) * sizeof(*rows));
	if (!rows) {
		function_totals_free(&ft);
		return -ENOMEM;
	}
	for (size_t f = 0; f < t->nframes; f++)
		if (ft.cum[f]) /* frames of other lists (the other side of a diff) are not here */
			rows[n++] = (uint32_t)f;
	qsort_r(rows, n, sizeof(*rows), by_value, &(struct sort_ctx){ t, &ft, o->by_cum });
	nrows = o->top && o->top < n ? o->top : n;
	if (o->format == REPORT_JSON)
		write_json(out, t, l, &ft, rows, nrows, n, o);
	else
		write_text(out, t, l, &ft, rows, nrows, n, o);
	free(rows);
	function_totals_free(&ft);
	return fflush(out) || ferror(out) ? -EIO : 0;
}
