/* diff.c - see diff.h. */
#include "diff.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "function_totals.h"
#include "welch.h"

const char *const diff_verdict_names[] = {
	[DIFF_NONE] = "no change",
	[DIFF_IMPROVEMENT] = "improvement",
	[DIFF_INCONCLUSIVE] = "inconclusive",
	[DIFF_REGRESSION] = "regression",
};

/* Every run's flat and cumulative shares (points), per frame id:
 * flat[run * nframes + frame]. */
struct side {
	double *flat, *cum;
	size_t nruns;
};

static int side_shares(const struct stack_list *runs, size_t n, size_t nframes, struct side *s)
{
	size_t nf = nframes ? nframes : 1;

	s->nruns = n;
	s->flat = calloc(n * nf, sizeof(*s->flat));
	s->cum = calloc(n * nf, sizeof(*s->cum));
	if (!s->flat || !s->cum)
		return -ENOMEM;
	for (size_t r = 0; r < n; r++) {
		struct function_totals ft;
		double total = (double)runs[r].total;

		if (function_totals_compute(&runs[r], nframes, &ft))
			return -ENOMEM;
		for (size_t f = 0; f < nframes && total > 0; f++) {
			s->flat[r * nf + f] = 100.0 * (double)ft.flat[f] / total;
			s->cum[r * nf + f] = 100.0 * (double)ft.cum[f] / total;
		}
		function_totals_free(&ft);
	}
	return 0;
}

static double mean_of(const double *v, size_t n, size_t stride)
{
	double m = 0;

	for (size_t i = 0; i < n; i++)
		m += v[i * stride];
	return n ? m / (double)n : 0;
}

static int by_p(const void *a, const void *b, void *ctx)
{
	const struct diff_row *rows = ctx;
	double x = rows[*(const size_t *)a].p, y = rows[*(const size_t *)b].p;

	return (x > y) - (x < y);
}

/* Holm's step-down adjustment of the tested rows' p-values, in place. */
static int holm(struct diff_row *rows, size_t n, size_t ntested)
{
	size_t *order = malloc((ntested ? ntested : 1) * sizeof(*order)), k = 0;
	double running = 0;

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (rows[i].tested)
			order[k++] = i;
	qsort_r(order, ntested, sizeof(*order), by_p, rows);
	for (size_t j = 0; j < ntested; j++) {
		double adj = fmin(1, (double)(ntested - j) * rows[order[j]].p);

		running = fmax(running, adj); /* adjusted p-values never decrease */
		rows[order[j]].p = running;
	}
	free(order);
	return 0;
}

static int by_change(const void *pa, const void *pb, void *ctx)
{
	const struct diff_row *a = pa, *b = pb;
	const struct frame_table *t = ctx;
	/* Regressions, then the other called functions, then the rest. */
	int ra = a->verdict == DIFF_REGRESSION ? 0 : a->verdict != DIFF_NONE ? 1 : 2;
	int rb = b->verdict == DIFF_REGRESSION ? 0 : b->verdict != DIFF_NONE ? 1 : 2;
	double ca = fmax(fabs(a->d_cum), fabs(a->d_flat)), cb = fmax(fabs(b->d_cum), fabs(b->d_flat));

	if (ra != rb)
		return ra - rb;
	if (!ra && a->d_cum != b->d_cum)
		return a->d_cum > b->d_cum ? -1 : 1;
	if (ca != cb)
		return ca > cb ? -1 : 1;
	if (a->d_cum != b->d_cum) /* of equal size, growth first */
		return a->d_cum > b->d_cum ? -1 : 1;
	const struct frame *fa = &t->frames[a->frame], *fb = &t->frames[b->frame];
	int c = strcmp(fa->name, fb->name);

	if (!c && !(c = strcmp(fa->file, fb->file)))
		c = (fa->line > fb->line) - (fa->line < fb->line);
	return c;
}

static enum diff_verdict row_verdict(const struct diff_row *r, const struct diff_opts *o,
				     bool several)
{
	bool big = fabs(r->d_cum) > o->threshold;

	if (!big)
		return DIFF_NONE;
	if (several && !(r->tested && r->p < o->alpha))
		return DIFF_INCONCLUSIVE;
	return r->d_cum > 0 ? DIFF_REGRESSION : DIFF_IMPROVEMENT;
}

int diff_compute(const struct frame_table *t, const struct stack_list *base, size_t nbase,
		 const struct stack_list *new_runs, size_t nnew, const struct diff_opts *o,
		 struct diff_result *out)
{
	size_t nf = t->nframes ? t->nframes : 1;
	struct side b = { 0 }, n = { 0 };
	double *xa = NULL, *xb = NULL;
	int ret;

	*out = (struct diff_result){ .opts = *o, .several = nbase >= 2 && nnew >= 2 };
	if (!nbase || !nnew)
		return -EINVAL;
	ret = side_shares(base, nbase, t->nframes, &b);
	if (!ret)
		ret = side_shares(new_runs, nnew, t->nframes, &n);
	out->rows = calloc(nf, sizeof(*out->rows));
	xa = malloc(nbase * sizeof(*xa));
	xb = malloc(nnew * sizeof(*xb));
	if (ret || !out->rows || !xa || !xb) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t f = 0; f < t->nframes; f++) {
		struct diff_row *r = &out->rows[out->nrows];

		r->frame = (uint32_t)f;
		r->base_flat = mean_of(b.flat + f, nbase, nf);
		r->new_flat = mean_of(n.flat + f, nnew, nf);
		r->base_cum = mean_of(b.cum + f, nbase, nf);
		r->new_cum = mean_of(n.cum + f, nnew, nf);
		if (!r->base_cum && !r->new_cum)
			continue; /* a frame of neither side (never happens with one table per diff) */
		r->d_flat = r->new_flat - r->base_flat;
		r->d_cum = r->new_cum - r->base_cum;
		r->p = 1;
		if (out->several && fmax(r->base_cum, r->new_cum) >= DIFF_MIN_TESTED_SHARE) {
			struct welch w;

			for (size_t i = 0; i < nbase; i++)
				xa[i] = b.cum[i * nf + f];
			for (size_t i = 0; i < nnew; i++)
				xb[i] = n.cum[i * nf + f];
			welch_test(xa, nbase, xb, nnew, o->alpha, &w);
			r->tested = true;
			r->p = w.p;
			r->lo = w.lo;
			r->hi = w.hi;
			out->ntested++;
		}
		out->nrows++;
	}
	if (out->several && (ret = holm(out->rows, out->nrows, out->ntested)))
		goto out;
	for (size_t i = 0; i < out->nrows; i++) {
		struct diff_row *r = &out->rows[i];

		r->verdict = row_verdict(r, o, out->several);
		if (r->verdict > out->verdict) {
			out->verdict = r->verdict;
			out->ncalled = 0;
		}
		out->ncalled += r->verdict == out->verdict && r->verdict != DIFF_NONE;
	}
	qsort_r(out->rows, out->nrows, sizeof(*out->rows), by_change, (void *)t);
out:
	free(b.flat);
	free(b.cum);
	free(n.flat);
	free(n.cum);
	free(xa);
	free(xb);
	if (ret)
		diff_result_free(out);
	return ret;
}

void diff_result_free(struct diff_result *r)
{
	free(r->rows);
	r->rows = NULL;
	r->nrows = 0;
}
