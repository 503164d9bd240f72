/* test_analysis.c - unit test of profiler/analysis/ (no root, no BPF).
 *
 * Each part of the analysis room on inputs small enough to work out by
 * hand: the Student t CDF and Welch's test against values computed apart
 * (python3, math only: Simpson's rule over the t density, not the
 * continued fraction welch.c uses); the diff's verdicts, order and Holm's
 * adjustment on hand-made runs, and what diff_write prints; flat and
 * cumulative totals (recursion once); stacks merged, summed, overflow
 * refused; frames by function and by line; agent file names; the loader
 * on a temp dir of profiles made by proto/'s builder (sample types, tags,
 * focus/ignore, service, from/until, links and FIFOs skipped, a file that
 * is not a profile named in the error); values, JSON strings and labels
 * as text; the report (text, JSON) and folded stacks; the call tree, its
 * base, and the flame graph page (escaping, the narrowest left out).
 *
 * JSON outputs are parsed by a small strict checker of this file (syntax,
 * and strings of valid UTF-8), not only searched for substrings.
 */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "call_tree.h"
#include "diff.h"
#include "flamegraph.h"
#include "frame_table.h"
#include "function_totals.h"
#include "pprof.h"
#include "profile_load.h"
#include "report.h"
#include "stack_list.h"
#include "text_out.h"
#include "welch.h"

#include "json_check.h"

#define NEAR(x, want, tol) (fabs((x) - (want)) <= (tol))

/* ---- helpers ---- */

/* An in-memory FILE: out() opens it, text() closes it and gives the bytes
 * (the caller frees them). */
struct mem {
	char *buf;
	size_t len;
	FILE *f;
};

static FILE *mem_open(struct mem *m)
{
	*m = (struct mem){ 0 };
	m->f = open_memstream(&m->buf, &m->len);
	if (!m->f) {
		perror("open_memstream");
		exit(1);
	}
	return m->f;
}

static char *mem_text(struct mem *m)
{
	fclose(m->f);
	return m->buf;
}

/* The id of a native frame named name (by function: file ""). */
static uint32_t frame_id(struct frame_table *t, const char *name)
{
	struct frame f = { .name = name, .file = "", .kind = FRAME_NATIVE };
	int64_t id = frame_table_intern(t, &f);

	CHECK(id >= 0, "intern %s: %lld", name, (long long)id);
	return id < 0 ? 0 : (uint32_t)id;
}

/* Adds the stack "root;...;leaf" (frames interned by name) with value v. */
static void add_stack(struct stack_list *l, struct frame_table *t, const char *folded, int64_t v)
{
	uint32_t ids[64];
	uint32_t n = 0;
	char buf[1024], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", folded);
	for (char *tok = strtok_r(buf, ";", &save); tok && n < 64; tok = strtok_r(NULL, ";", &save))
		ids[n++] = frame_id(t, tok);
	CHECK(stack_list_add(l, ids, n, v) == 0, "add %s %lld", folded, (long long)v);
}

/* The id of the frame named name in t, or UINT32_MAX. */
static uint32_t find_frame(const struct frame_table *t, const char *name)
{
	for (size_t i = 0; i < t->nframes; i++)
		if (!strcmp(t->frames[i].name, name))
			return (uint32_t)i;
	return UINT32_MAX;
}

static size_t count_frames(const struct frame_table *t, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nframes; i++)
		n += !strcmp(t->frames[i].name, name);
	return n;
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* The folded stacks of l (malloc'ed). */
static char *folded_of(const struct frame_table *t, const struct stack_list *l)
{
	struct mem m;

	CHECK(folded_write(mem_open(&m), t, l) == 0, "folded_write");
	return mem_text(&m);
}

/* ---- welch.h ---- */

static void test_student_t(void)
{
	/* df = 1 is Cauchy: 1/2 + atan(t)/pi. */
	CHECK(NEAR(student_t_cdf(1, 1), 0.75, 1e-4), "cdf(1, 1) = %.6f", student_t_cdf(1, 1));
	CHECK(NEAR(student_t_cdf(-3, 1), 0.5 + atan(-3) / M_PI, 1e-4), "cdf(-3, 1) = %.6f",
	      student_t_cdf(-3, 1));
	/* The 97.5% point of t(10) is 2.228 (tables); python: 0.9749941. */
	CHECK(NEAR(student_t_cdf(2.228, 10), 0.975, 1e-4), "cdf(2.228, 10) = %.6f",
	      student_t_cdf(2.228, 10));
	CHECK(NEAR(student_t_cdf(2.228, 10), 0.9749941140914502, 1e-6), "cdf(2.228, 10) = %.8f",
	      student_t_cdf(2.228, 10));
	/* python: 0.19550110947788563 */
	CHECK(NEAR(student_t_cdf(-1, 3), 0.19550, 1e-4), "cdf(-1, 3) = %.6f", student_t_cdf(-1, 3));
	/* df = 2 in closed form: 1/2 + t / (2 sqrt(2 + t^2)). */
	CHECK(NEAR(student_t_cdf(0.8, 2), 0.5 + 0.8 / (2 * sqrt(2 + 0.64)), 1e-6), "cdf(0.8, 2) = %.6f",
	      student_t_cdf(0.8, 2));
	CHECK(student_t_cdf(0, 5) == 0.5, "cdf(0, 5) = %.17g", student_t_cdf(0, 5));
	CHECK(NEAR(student_t_cdf(1.7, 7.3) + student_t_cdf(-1.7, 7.3), 1, 1e-12), "symmetry");
	/* A large df is the normal: Phi(1.96) = 0.9750021. */
	CHECK(NEAR(student_t_cdf(1.96, 1e6), 0.9750021, 1e-5), "cdf(1.96, 1e6) = %.7f",
	      student_t_cdf(1.96, 1e6));
	CHECK(student_t_cdf(-40, 4) < 1e-5 && student_t_cdf(40, 4) > 1 - 1e-5, "the tails");
}

static void test_welch(void)
{
	/* Expected numbers from python3 (math only): Welch-Satterthwaite df,
	 * p = 2 (1 - F(|t|)) with F by Simpson's rule over the t density
	 * (200000 intervals), the interval's quantile by bisection of that F. */
	const double a[] = { 10, 12, 11, 13 }, b[] = { 14, 15, 13.5, 16, 15.5 };
	const double c[] = { 1, 2, 3 }, d[] = { 2, 3.5, 4, 2.5 };
	struct welch w, w01;

	welch_test(a, 4, b, 5, 0.05, &w);
	CHECK(NEAR(w.mean_a, 11.5, 1e-12) && NEAR(w.mean_b, 14.8, 1e-12) && NEAR(w.diff, 3.3, 1e-12),
	      "means %g %g diff %g", w.mean_a, w.mean_b, w.diff);
	CHECK(NEAR(w.df, 5.7471150928738375, 1e-9), "df %.12f", w.df);
	CHECK(NEAR(w.p, 0.00658501416621915, 1e-7), "p %.10f", w.p);
	CHECK(NEAR(w.lo, 1.3343239925684358, 1e-6) && NEAR(w.hi, 5.265676007431566, 1e-6),
	      "95%% interval [%.8f, %.8f]", w.lo, w.hi);
	welch_test(a, 4, b, 5, 0.01, &w01);
	CHECK(NEAR(w01.lo, 0.29943541487389247, 1e-6) && NEAR(w01.hi, 6.300564585126109, 1e-6),
	      "99%% interval [%.8f, %.8f]", w01.lo, w01.hi);
	CHECK(w01.p == w.p && w01.df == w.df, "alpha changes only the interval");
	CHECK(w.lo < w.diff && w.diff < w.hi, "the interval holds diff");
	CHECK(w01.lo < w.lo && w01.hi > w.hi, "a smaller alpha widens the interval");

	welch_test(c, 3, d, 4, 0.05, &w);
	CHECK(NEAR(w.diff, 1, 1e-12) && NEAR(w.df, 4.190082644628099, 1e-9), "diff %g df %.12f",
	      w.diff, w.df);
	CHECK(NEAR(w.p, 0.24277865845827185, 1e-7), "p %.10f", w.p);
	CHECK(NEAR(w.lo, -1.007363715990731, 1e-6) && NEAR(w.hi, 3.007363715990731, 1e-6),
	      "interval [%.8f, %.8f]", w.lo, w.hi);
	CHECK(w.lo < 0 && w.hi > 0, "an interval over 0 for p > alpha");

	/* One side without spread: df = n - 1 of the other; at df 2 the
	 * p-value is closed form: 1 - |t| / sqrt(2 + t^2), t = 2 sqrt(3). */
	{
		const double e[] = { 1, 1, 1 }, f[] = { 2, 3, 4 };

		welch_test(e, 3, f, 3, 0.05, &w);
		CHECK(NEAR(w.df, 2, 1e-12), "df %g", w.df);
		CHECK(NEAR(w.p, 1 - sqrt(12.0 / 14.0), 1e-7), "p %.10f", w.p);
	}
	/* No spread at all. */
	{
		const double e[] = { 5, 5, 5 }, f[] = { 5, 5 }, g[] = { 6, 6, 6 };

		welch_test(e, 3, f, 2, 0.05, &w);
		CHECK(w.p == 1 && w.diff == 0 && w.lo == 0 && w.hi == 0, "equal means: p %g [%g, %g]",
		      w.p, w.lo, w.hi);
		welch_test(f, 2, g, 3, 0.05, &w);
		CHECK(w.p == 0 && w.diff == 1 && w.lo == 1 && w.hi == 1, "different means: p %g [%g, %g]",
		      w.p, w.lo, w.hi);
	}
}

/* ---- diff.h ---- */

static const struct diff_row *row_of(const struct diff_result *r, const struct frame_table *t,
				     const char *name)
{
	uint32_t id = find_frame(t, name);

	for (size_t i = 0; i < r->nrows; i++)
		if (r->rows[i].frame == id)
			return &r->rows[i];
	return NULL;
}

static size_t row_index(const struct diff_result *r, const struct frame_table *t, const char *name)
{
	const struct diff_row *row = row_of(r, t, name);

	return row ? (size_t)(row - r->rows) : SIZE_MAX;
}

static char *diff_text(const struct frame_table *t, const struct diff_result *r,
		       enum diff_format format, size_t nbase, size_t nnew)
{
	struct diff_write_opts o = { .sz = sizeof(o), .format = format, .type = "cpu",
				     .nbase = nbase, .nnew = nnew };
	struct mem m;

	CHECK(diff_write(mem_open(&m), t, r, &o) == 0, "diff_write");
	return mem_text(&m);
}

static void test_diff_single(void)
{
	struct frame_table t = { 0 };
	struct stack_list base = { 0 }, nw = { 0 }, big = { 0 };
	struct diff_opts o = { .sz = sizeof(o), .threshold = 5, .alpha = 0.05 };
	struct diff_result r;
	const struct diff_row *a, *b, *c, *m;
	char *s;

	/* a +20, b -30, c +10 points of cum (and flat: they are leaves). */
	add_stack(&base, &t, "main;a", 30);
	add_stack(&base, &t, "main;b", 50);
	add_stack(&base, &t, "main;c", 20);
	add_stack(&nw, &t, "main;a", 50);
	add_stack(&nw, &t, "main;b", 20);
	add_stack(&nw, &t, "main;c", 30);
	base.nprofiles = nw.nprofiles = 1;

	CHECK(diff_compute(&t, &base, 1, &nw, 1, &o, &r) == 0, "diff_compute");
	CHECK(!r.several && r.ntested == 0 && r.nrows == 4, "several %d tested %zu rows %zu",
	      r.several, r.ntested, r.nrows);
	CHECK(r.verdict == DIFF_REGRESSION && r.ncalled == 2, "verdict %d called %zu", r.verdict,
	      r.ncalled);
	a = row_of(&r, &t, "a");
	b = row_of(&r, &t, "b");
	c = row_of(&r, &t, "c");
	m = row_of(&r, &t, "main");
	CHECK(a && b && c && m, "every function has a row");
	if (a && b && c && m) {
		CHECK(a->base_cum == 30 && a->new_cum == 50 && a->d_cum == 20 && a->d_flat == 20 &&
			      a->verdict == DIFF_REGRESSION && a->p == 1 && !a->tested,
		      "a: %g -> %g (%g), verdict %d", a->base_cum, a->new_cum, a->d_cum, a->verdict);
		CHECK(b->d_cum == -30 && b->verdict == DIFF_IMPROVEMENT, "b: %g, verdict %d", b->d_cum,
		      b->verdict);
		CHECK(c->d_cum == 10 && c->verdict == DIFF_REGRESSION, "c: %g verdict %d", c->d_cum,
		      c->verdict);
		CHECK(m->base_cum == 100 && m->new_cum == 100 && m->base_flat == 0 &&
			      m->verdict == DIFF_NONE,
		      "main: %g -> %g, verdict %d", m->base_cum, m->new_cum, m->verdict);
	}
	/* Regressions first by growth, then the other called (b moved most). */
	CHECK(row_index(&r, &t, "a") == 0 && row_index(&r, &t, "c") == 1 &&
		      row_index(&r, &t, "b") == 2 && row_index(&r, &t, "main") == 3,
	      "order a %zu c %zu b %zu main %zu", row_index(&r, &t, "a"), row_index(&r, &t, "c"),
	      row_index(&r, &t, "b"), row_index(&r, &t, "main"));

	s = diff_text(&t, &r, DIFF_JSON, 1, 1);
	CHECK(json_valid(s), "diff JSON parses:\n%s", s);
	CHECK(strstr(s, "\"verdict\":\"regression\"") && strstr(s, "\"several_runs\":false") &&
		      strstr(s, "\"threshold\":5,\"alpha\":0.05,\"base_profiles\":1,\"new_profiles\":1") &&
		      strstr(s, "{\"name\":\"a\",\"file\":\"\",\"base_flat\":30.0000,\"new_flat\":50.0000,"
				"\"delta_flat\":20.0000,\"base_cum\":30.0000,\"new_cum\":50.0000,"
				"\"delta_cum\":20.0000,\"verdict\":\"regression\"}") &&
		      !strstr(s, "\"p\":") && !strstr(s, "\"name\":\"main\""),
	      "diff JSON:\n%s", s);
	free(s);
	s = diff_text(&t, &r, DIFF_MARKDOWN, 1, 1);
	CHECK(strstr(s, "### bpfprof diff: regression\n") &&
		      strstr(s, "| function | flat base | flat new | flat Δ | cum base | cum new | cum Δ | "
				"verdict |\n|---|---:|---:|---:|---:|---:|---:|---|\n") &&
		      strstr(s, "| `a` | 30.00 | 50.00 | +20.00 | 30.00 | 50.00 | +20.00 | **regression** |") &&
		      strstr(s, "| `b` | 50.00 | 20.00 | -30.00 | 50.00 | 20.00 | -30.00 | improvement |"),
	      "diff Markdown:\n%s", s);
	free(s);
	s = diff_text(&t, &r, DIFF_TEXT, 1, 1);
	CHECK(starts_with(s, "Verdict: regression: 2 functions grew by more than 5.00 points of cpu\n") &&
		      strstr(s, "Base: 1 profile, new: 1 profile;"),
	      "diff text:\n%s", s);
	free(s);
	diff_result_free(&r);

	/* The threshold: a change must be more than it. */
	o.threshold = 10; /* c's +10 is not more */
	CHECK(diff_compute(&t, &base, 1, &nw, 1, &o, &r) == 0, "diff_compute");
	CHECK(r.verdict == DIFF_REGRESSION && r.ncalled == 1 && row_of(&r, &t, "c") &&
		      row_of(&r, &t, "c")->verdict == DIFF_NONE,
	      "threshold 10: verdict %d called %zu", r.verdict, r.ncalled);
	diff_result_free(&r);
	o.threshold = 25; /* only b's -30 */
	CHECK(diff_compute(&t, &base, 1, &nw, 1, &o, &r) == 0, "diff_compute");
	CHECK(r.verdict == DIFF_IMPROVEMENT && r.ncalled == 1 && row_index(&r, &t, "b") == 0,
	      "threshold 25: verdict %d called %zu", r.verdict, r.ncalled);
	s = diff_text(&t, &r, DIFF_JSON, 1, 1);
	CHECK(json_valid(s) && strstr(s, "\"verdict\":\"improvement\""), "%s", s);
	free(s);
	diff_result_free(&r);
	o.threshold = 30;
	CHECK(diff_compute(&t, &base, 1, &nw, 1, &o, &r) == 0, "diff_compute");
	CHECK(r.verdict == DIFF_NONE && r.ncalled == 0, "threshold 30: verdict %d called %zu",
	      r.verdict, r.ncalled);
	s = diff_text(&t, &r, DIFF_TEXT, 1, 1);
	CHECK(starts_with(s, "Verdict: no change: no function's share of cpu moved by more than 30.00 points\n"),
	      "%s", s);
	free(s);
	diff_result_free(&r);

	/* Regressions by growth of cum, not by the larger of the two moves:
	 * x's cum grows by 10 while its flat falls by 40. */
	{
		struct stack_list b2 = { 0 }, n2 = { 0 };

		add_stack(&b2, &t, "main;x", 40);
		add_stack(&b2, &t, "main;y", 10);
		add_stack(&b2, &t, "main;o", 50);
		add_stack(&n2, &t, "main;x;w", 50);
		add_stack(&n2, &t, "main;y", 30);
		add_stack(&n2, &t, "main;o", 20);
		o.threshold = 5;
		CHECK(diff_compute(&t, &b2, 1, &n2, 1, &o, &r) == 0, "diff_compute");
		CHECK(r.ncalled == 3 && row_index(&r, &t, "w") == 0 && row_index(&r, &t, "y") == 1 &&
			      row_index(&r, &t, "x") == 2 && row_index(&r, &t, "o") == 3 &&
			      row_of(&r, &t, "x")->d_flat == -40,
		      "regressions by growth: w %zu y %zu x %zu o %zu", row_index(&r, &t, "w"),
		      row_index(&r, &t, "y"), row_index(&r, &t, "x"), row_index(&r, &t, "o"));
		diff_result_free(&r);
		stack_list_free(&b2);
		stack_list_free(&n2);
	}

	/* Shares, not counts: twice the samples in the same proportions. */
	add_stack(&big, &t, "main;a", 60);
	add_stack(&big, &t, "main;b", 100);
	add_stack(&big, &t, "main;c", 40);
	o.threshold = 0.001;
	CHECK(diff_compute(&t, &base, 1, &big, 1, &o, &r) == 0, "diff_compute");
	CHECK(r.verdict == DIFF_NONE, "a longer run of the same shares: verdict %d", r.verdict);
	s = diff_text(&t, &r, DIFF_MARKDOWN, 1, 1);
	CHECK(strstr(s, "| (nothing moved) |"), "%s", s);
	free(s);
	diff_result_free(&r);

	CHECK(diff_compute(&t, &base, 0, &nw, 1, &o, &r) == -EINVAL, "no base runs");
	diff_result_free(&r);
	CHECK(diff_compute(&t, &base, 1, &nw, 0, &o, &r) == -EINVAL, "no new runs");
	diff_result_free(&r);
	stack_list_free(&base);
	stack_list_free(&nw);
	stack_list_free(&big);
	frame_table_free(&t);
}

/* Runs of main;X V and main;rest (TOTAL - V) each. */
static void make_runs(struct stack_list *runs, size_t n, struct frame_table *t, const char *x,
		      const int64_t *v, int64_t total)
{
	char stack[64];

	snprintf(stack, sizeof(stack), "main;%s", x);
	for (size_t i = 0; i < n; i++) {
		runs[i] = (struct stack_list){ .nprofiles = 1 };
		add_stack(&runs[i], t, stack, v[i]);
		add_stack(&runs[i], t, "main;rest", total - v[i]);
	}
}

static void free_runs(struct stack_list *runs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		stack_list_free(&runs[i]);
}

static void test_diff_several(void)
{
	struct frame_table t = { 0 };
	struct stack_list base[3], nw[3];
	struct diff_opts o = { .sz = sizeof(o), .threshold = 5, .alpha = 0.05 };
	struct diff_result r;
	const struct diff_row *a, *rest;
	char *s;

	/* A clear change: a's share 20, 21, 19 -> 40, 41, 39. */
	make_runs(base, 3, &t, "a", (const int64_t[]){ 20, 21, 19 }, 100);
	make_runs(nw, 3, &t, "a", (const int64_t[]){ 40, 41, 39 }, 100);
	CHECK(diff_compute(&t, base, 3, nw, 3, &o, &r) == 0, "diff_compute");
	CHECK(r.several && r.ntested == 3, "several %d tested %zu", r.several, r.ntested);
	a = row_of(&r, &t, "a");
	rest = row_of(&r, &t, "rest");
	CHECK(a && rest && row_index(&r, &t, "a") == 0, "a first");
	if (a && rest) {
		CHECK(a->tested && a->p < o.alpha && a->verdict == DIFF_REGRESSION &&
			      NEAR(a->base_cum, 20, 1e-9) && NEAR(a->new_cum, 40, 1e-9),
		      "a: p %g verdict %d, %g -> %g", a->p, a->verdict, a->base_cum, a->new_cum);
		CHECK(a->lo < a->d_cum && a->d_cum < a->hi && a->lo > 0, "a: %g in [%g, %g]", a->d_cum,
		      a->lo, a->hi);
		CHECK(rest->tested && rest->p < o.alpha && rest->verdict == DIFF_IMPROVEMENT,
		      "rest: p %g verdict %d", rest->p, rest->verdict);
	}
	CHECK(r.verdict == DIFF_REGRESSION && r.ncalled == 1, "verdict %d called %zu", r.verdict,
	      r.ncalled);
	CHECK(row_of(&r, &t, "main") && row_of(&r, &t, "main")->p == 1 &&
		      row_of(&r, &t, "main")->verdict == DIFF_NONE,
	      "main: the same share in every run");
	s = diff_text(&t, &r, DIFF_JSON, 3, 3);
	CHECK(json_valid(s) && strstr(s, "\"several_runs\":true,\"tested\":3") &&
		      strstr(s, "\"p\":") && strstr(s, "\"interval\":["),
	      "several runs JSON:\n%s", s);
	free(s);
	s = diff_text(&t, &r, DIFF_MARKDOWN, 3, 3);
	CHECK(strstr(s, "| cum Δ | p | interval | verdict |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n") &&
		      strstr(s, "3 functions tested"),
	      "several runs Markdown:\n%s", s);
	free(s);
	s = diff_text(&t, &r, DIFF_TEXT, 3, 3);
	CHECK(strstr(s, "Tested: 3 functions (Welch's t-test, Holm-adjusted p, 95% interval)"), "%s", s);
	free(s);
	diff_result_free(&r);
	free_runs(nw, 3);

	/* Moved past the threshold (+10), but within the runs' spread. */
	make_runs(nw, 3, &t, "a", (const int64_t[]){ 5, 70, 15 }, 100);
	CHECK(diff_compute(&t, base, 3, nw, 3, &o, &r) == 0, "diff_compute");
	a = row_of(&r, &t, "a");
	CHECK(a && a->tested && a->d_cum > o.threshold && a->p >= o.alpha &&
		      a->verdict == DIFF_INCONCLUSIVE,
	      "a: d %g p %g verdict %d", a ? a->d_cum : 0, a ? a->p : 0, a ? (int)a->verdict : -1);
	CHECK(r.verdict == DIFF_INCONCLUSIVE && r.ncalled == 2, "verdict %d called %zu", r.verdict,
	      r.ncalled);
	diff_result_free(&r);
	free_runs(nw, 3);
	free_runs(base, 3);
	frame_table_free(&t);
}

/* Holm: 21 functions each moved with the same weak evidence (each p about
 * 0.02 alone, under alpha): adjusted for 22 tests, none is called. */
static void test_diff_holm(void)
{
	const int64_t vb[3] = { 40, 50, 60 }, vn[3] = { 70, 80, 90 }, total = 2000;
	struct frame_table t = { 0 };
	struct stack_list base[3] = { 0 }, nw[3] = { 0 };
	struct diff_opts o = { .sz = sizeof(o), .threshold = 1, .alpha = 0.05 };
	struct diff_result r;
	double xa[3], xb[3];
	struct welch w;
	bool all_inconclusive = true;

	for (int k = 0; k < 3; k++) {
		base[k].nprofiles = nw[k].nprofiles = 1;
		for (int f = 0; f < 20; f++) {
			char stack[32];

			snprintf(stack, sizeof(stack), "main;f%02d", f);
			add_stack(&base[k], &t, stack, vb[k]);
			add_stack(&nw[k], &t, stack, vn[k]);
		}
		add_stack(&base[k], &t, "main;rest", total - 20 * vb[k]);
		add_stack(&nw[k], &t, "main;rest", total - 20 * vn[k]);
		xa[k] = 100.0 * (double)vb[k] / (double)total;
		xb[k] = 100.0 * (double)vn[k] / (double)total;
	}
	welch_test(xa, 3, xb, 3, o.alpha, &w);
	CHECK(w.p < o.alpha && 22 * w.p >= o.alpha, "one function alone: p %g", w.p);
	CHECK(diff_compute(&t, base, 3, nw, 3, &o, &r) == 0, "diff_compute");
	CHECK(r.ntested == 22, "tested %zu", r.ntested);
	for (size_t i = 0; i < r.nrows; i++) {
		const struct diff_row *row = &r.rows[i];

		if (row->frame == find_frame(&t, "main"))
			continue;
		all_inconclusive &= row->verdict == DIFF_INCONCLUSIVE;
		CHECK(NEAR(row->p, 22 * w.p, 1e-9), "%s: adjusted p %g, want %g",
		      t.frames[row->frame].name, row->p, 22 * w.p);
	}
	CHECK(all_inconclusive, "every moved function inconclusive");
	CHECK(r.verdict == DIFF_INCONCLUSIVE && r.ncalled == 21, "verdict %d called %zu", r.verdict,
	      r.ncalled);
	diff_result_free(&r);
	free_runs(base, 3);
	free_runs(nw, 3);
	frame_table_free(&t);
}

/* ---- function_totals.h, stack_list.h, frame_table.h ---- */

static void test_function_totals(void)
{
	struct frame_table t = { 0 };
	struct stack_list l = { 0 };
	struct function_totals ft;
	uint32_t none = 0, main_, f, g;

	add_stack(&l, &t, "main;f;g;f", 10); /* f twice: recursion */
	add_stack(&l, &t, "main;g", 5);
	add_stack(&l, &t, "main;f;f;f", 2);
	CHECK(stack_list_add(&l, &none, 0, 3) == 0, "a stack of no frames");
	main_ = find_frame(&t, "main");
	f = find_frame(&t, "f");
	g = find_frame(&t, "g");
	CHECK(function_totals_compute(&l, t.nframes, &ft) == 0, "function_totals_compute");
	CHECK(ft.nframes == 3, "nframes %zu", ft.nframes);
	CHECK(ft.flat[f] == 12 && ft.flat[g] == 5 && ft.flat[main_] == 0, "flat f %lld g %lld main %lld",
	      (long long)ft.flat[f], (long long)ft.flat[g], (long long)ft.flat[main_]);
	CHECK(ft.cum[f] == 12 && ft.cum[g] == 15 && ft.cum[main_] == 17, "cum f %lld g %lld main %lld",
	      (long long)ft.cum[f], (long long)ft.cum[g], (long long)ft.cum[main_]);
	CHECK(l.total == 20, "total %lld (the frameless sample counts)", (long long)l.total);
	function_totals_free(&ft);
	stack_list_free(&l);
	frame_table_free(&t);
}

static void test_stack_list(void)
{
	const uint32_t ab[] = { 1, 2 }, a[] = { 1 }, c[] = { 3 }, z[] = { 9 };
	struct stack_list l = { 0 }, src = { 0 }, big = { 0 }, one = { 0 };

	CHECK(stack_list_add(&l, ab, 2, 5) == 0 && stack_list_add(&l, ab, 2, 7) == 0 &&
		      stack_list_add(&l, a, 1, 3) == 0 && stack_list_add(&l, ab, 0, 4) == 0,
	      "adds");
	CHECK(l.nstacks == 3 && l.total == 19 && l.nframes == 3, "stacks %zu total %lld frames %zu",
	      l.nstacks, (long long)l.total, l.nframes);
	CHECK(l.stacks[0].depth == 2 && l.stacks[0].value == 12 && l.stacks[1].value == 3 &&
		      l.stacks[2].depth == 0 && l.stacks[2].value == 4,
	      "identical stacks merged");
	/* The prefix [1] and the stack [1, 2] are different stacks. */
	CHECK(l.stacks[1].depth == 1 && l.frames[l.stacks[1].first] == 1, "prefix");

	CHECK(stack_list_add(&l, c, 1, INT64_MAX) == -EOVERFLOW, "a sum past INT64_MAX");
	CHECK(stack_list_add(&l, ab, 2, INT64_MAX - 18) == -EOVERFLOW, "an existing stack past it");
	CHECK(l.nstacks == 3 && l.total == 19 && l.stacks[0].value == 12, "left as it was");
	CHECK(stack_list_add(&l, c, 1, INT64_MAX - 19) == 0 && l.total == INT64_MAX, "up to INT64_MAX");
	stack_list_free(&l);

	l = (struct stack_list){ .nprofiles = 1 };
	src = (struct stack_list){ .nprofiles = 2 };
	stack_list_add(&l, ab, 2, 12);
	stack_list_add(&l, a, 1, 3);
	stack_list_add(&src, ab, 2, 1);
	stack_list_add(&src, z, 1, 2);
	CHECK(stack_list_merge(&l, &src) == 0, "merge");
	CHECK(l.nprofiles == 3 && l.nstacks == 3 && l.total == 18 && l.stacks[0].value == 13 &&
		      l.stacks[2].value == 2 && l.frames[l.stacks[2].first] == 9,
	      "merged: profiles %zu stacks %zu total %lld", l.nprofiles, l.nstacks, (long long)l.total);
	stack_list_add(&big, a, 1, INT64_MAX - 1);
	stack_list_add(&one, c, 1, 5);
	CHECK(stack_list_merge(&big, &one) == -EOVERFLOW, "merge past INT64_MAX");
	stack_list_free(&l);
	stack_list_free(&src);
	stack_list_free(&big);
	stack_list_free(&one);

	/* Many distinct stacks: the index grows and finds every one again. */
	for (uint32_t i = 0; i < 5000; i++) {
		uint32_t s[3] = { i % 7, i, i / 3 };

		stack_list_add(&l, s, 3, 1);
		stack_list_add(&l, s, 3, 1);
	}
	CHECK(l.nstacks == 5000 && l.total == 10000, "stacks %zu", l.nstacks);
	{
		bool all = true;

		for (size_t i = 0; i < l.nstacks; i++)
			all &= l.stacks[i].value == 2;
		CHECK(all, "every stack found again");
	}
	stack_list_free(&l);
}

/* A sample of no frames first into an empty list (a pprof sample with no
 * locations, first in its file): stack_list.c memcpy()s 0 bytes to the
 * list's NULL frames, then memcmp()s against the caller's NULL stack,
 * which UBSan stops (nonnull arguments), unless stack_list.c keeps NULL
 * from them. */
static void test_stack_list_frameless_first(void)
{
	struct stack_list l = { 0 };
	const uint32_t a[] = { 1 };

	CHECK(stack_list_add(&l, NULL, 0, 4) == 0 && stack_list_add(&l, NULL, 0, 1) == 0 &&
		      stack_list_add(&l, a, 1, 2) == 0,
	      "frameless stacks first");
	CHECK(l.nstacks == 2 && l.total == 7 && l.stacks[0].depth == 0 && l.stacks[0].value == 5,
	      "frameless stacks merged: %zu", l.nstacks);
	stack_list_free(&l);
}

static void test_frame_table(void)
{
	struct frame_table t = { 0 }, lt = { .by_line = true };
	struct frame f1 = { "f", "a.c", 10, FRAME_JIT }, f2 = { "f", "b.c", 20, FRAME_KERNEL };
	struct frame f3 = { "f", "a.c", 11, FRAME_NATIVE }, g = { "g", "a.c", 10, FRAME_NATIVE };
	char name[16];
	int64_t i1, i2, i3, ig;

	i1 = frame_table_intern(&t, &f1);
	i2 = frame_table_intern(&t, &f2);
	ig = frame_table_intern(&t, &g);
	CHECK(i1 == 0 && i2 == 0 && ig == 1 && t.nframes == 2, "by function: %lld %lld %lld",
	      (long long)i1, (long long)i2, (long long)ig);
	CHECK(!strcmp(t.frames[0].file, "a.c") && t.frames[0].line == 0 &&
		      t.frames[0].kind == FRAME_JIT,
	      "the first file and kind kept, no line: %s %lld %d", t.frames[0].file,
	      (long long)t.frames[0].line, t.frames[0].kind);

	i1 = frame_table_intern(&lt, &f1);
	i2 = frame_table_intern(&lt, &f2);
	i3 = frame_table_intern(&lt, &f3);
	ig = frame_table_intern(&lt, &g);
	CHECK(i1 == 0 && i2 == 1 && i3 == 2 && ig == 3 && frame_table_intern(&lt, &f3) == 2 &&
		      frame_table_intern(&lt, &(struct frame){ "f", "b.c", 20, FRAME_NATIVE }) == 1,
	      "by line: %lld %lld %lld %lld", (long long)i1, (long long)i2, (long long)i3,
	      (long long)ig);
	CHECK(lt.frames[2].line == 11 && !strcmp(lt.frames[1].file, "b.c"), "lines kept");

	/* Strings are copied: the caller's buffer may change. */
	snprintf(name, sizeof(name), "h");
	ig = frame_table_intern(&t, &(struct frame){ name, "", 0, FRAME_NATIVE });
	snprintf(name, sizeof(name), "x");
	CHECK(ig == 2 && !strcmp(t.frames[2].name, "h") && !strcmp(t.frames[2].file, ""), "copied");
	/* Many and long names: more than one string block. */
	{
		char big[3000];
		bool ok = true;

		memset(big, 'n', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		for (int i = 0; i < 1000; i++) {
			snprintf(big, 8, "%07d", i);
			big[7] = 'n';
			ok &= frame_table_intern(&t, &(struct frame){ big, "", 0, FRAME_NATIVE }) == 3 + i;
		}
		for (int i = 0; i < 1000; i++) {
			snprintf(big, 8, "%07d", i);
			big[7] = 'n';
			ok &= frame_table_intern(&t, &(struct frame){ big, "", 0, FRAME_NATIVE }) == 3 + i;
			ok &= !strcmp(t.frames[3 + i].name, big);
		}
		CHECK(ok && t.nblocks > 1, "1000 names of 3 kB: blocks %zu", t.nblocks);
	}
	frame_table_free(&t);
	frame_table_free(&lt);
}

/* ---- profile_load.h ---- */

static void test_agent_file_service(void)
{
	static const struct {
		const char *name, *service; /* NULL: refused */
	} cases[] = {
		{ "web-20261201T100000Z.pb.gz", "web" },
		{ "web-20261201T100000Z-1.pb.gz", "web" },
		{ "a-b-20261201T100000Z-12.pb.gz", "a-b" },
		{ "x-20261201T100000Z-20261201T100000Z.pb.gz", "x-20261201T100000Z" },
		{ "web-20261201T100000.pb.gz", NULL },    /* no Z */
		{ "web-2026120xT100000Z.pb.gz", NULL },   /* not digits */
		{ "web-20261201-100000Z.pb.gz", NULL },   /* no T */
		{ "web-2026121T100000Z.pb.gz", NULL },    /* a digit short */
		{ "web-20261201T100000Z.pb", NULL },      /* not .pb.gz */
		{ "web-20261201T100000Z", NULL },
		{ "web-20261201T100000Z-.pb.gz", NULL },  /* "-" and no N */
		{ "web-20261201T100000Z-1x.pb.gz", NULL },
		{ "web-20261201T100000Zx.pb.gz", NULL },
		{ "-20261201T100000Z.pb.gz", NULL },      /* no service */
		{ "web20261201T100000Z.pb.gz", NULL },    /* no '-' */
		{ ".pb.gz", NULL },
		{ "", NULL },
	};
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n;

		memset(out, '#', sizeof(out));
		n = agent_file_service(cases[i].name, out, sizeof(out));
		if (cases[i].service)
			CHECK(n == (int)strlen(cases[i].service) && !strcmp(out, cases[i].service),
			      "%s: %d '%.*s', want %s", cases[i].name, n, n > 0 ? n : 0, out,
			      cases[i].service);
		else
			CHECK(n == -EINVAL, "%s: %d, want -EINVAL", cases[i].name, n);
	}
	CHECK(agent_file_service("web-20261201T100000Z.pb.gz", out, 4) == 3 && !strcmp(out, "web"),
	      "exactly room");
	CHECK(agent_file_service("web-20261201T100000Z.pb.gz", out, 3) == -EINVAL, "no room");
}

/* A profile of our builder (sample types samples/count, cpu/nanoseconds:
 * values n and n * PERIOD). A stack is "root;...;leaf" of frames named
 * NAME (in app.c, line 10), NAME@LINE, k:NAME (a kernel frame) or ? (an
 * address of /usr/bin/app without lines). */
#define PERIOD 10

struct fsample {
	const char *stack;
	int64_t count;
	struct pprof_label labels[2];
	size_t nlabels;
};

static uint8_t *make_profile(int64_t time_ns, const struct fsample *s, size_t n, size_t *len)
{
	struct pprof_profile_info info = { .period_ns = PERIOD, .time_nanos = time_ns,
					   .duration_nanos = 10 };
	struct pprof_mapping_info app = { .start = 0x1000, .limit = 0x100000,
					  .filename = "/usr/bin/app", .has_functions = true };
	struct pprof_mapping_info kernel = { .start = 0xffff0000, .limit = 0xffffffff,
					     .filename = "[kernel.kallsyms]", .has_functions = true };
	char tokens[32][64];
	size_t ntokens = 0;
	struct pprof_builder *b = NULL;
	int64_t map_app, map_kernel;
	uint8_t *out = NULL;

	CHECK(pprof_builder_new(&info, &b) == 0, "builder");
	map_app = pprof_add_mapping(b, &app);
	map_kernel = pprof_add_mapping(b, &kernel);
	for (size_t i = 0; i < n; i++) {
		uint64_t locs[32];
		char buf[512], *save = NULL, *names[32];
		size_t depth = 0;

		snprintf(buf, sizeof(buf), "%s", s[i].stack);
		for (char *tok = strtok_r(buf, ";", &save); tok && depth < 32;
		     tok = strtok_r(NULL, ";", &save))
			names[depth++] = tok;
		for (size_t d = 0; d < depth; d++) {
			const char *tok = names[depth - 1 - d]; /* leaf first */
			char fn[64];
			size_t k;
			struct pprof_line line = { .function = fn, .filename = "app.c", .line = 10 };
			bool is_kernel = !strncmp(tok, "k:", 2);
			int64_t id;

			for (k = 0; k < ntokens && strcmp(tokens[k], tok); k++)
				;
			if (k == ntokens && ntokens < 32)
				snprintf(tokens[ntokens++], sizeof(tokens[0]), "%s", tok);
			snprintf(fn, sizeof(fn), "%s", is_kernel ? tok + 2 : tok);
			if (strchr(fn, '@')) {
				line.line = atoi(strchr(fn, '@') + 1);
				*strchr(fn, '@') = '\0';
			}
			if (is_kernel) {
				line.filename = NULL;
				line.line = 0;
			}
			id = pprof_add_location(b, (uint64_t)(is_kernel ? map_kernel : map_app),
						(is_kernel ? 0xffff0000 : 0x1000) + 16 * k, &line,
						strcmp(tok, "?") ? 1 : 0);
			CHECK(id > 0, "location %s", tok);
			locs[d] = (uint64_t)id;
		}
		CHECK(pprof_add_sample(b, locs, depth, s[i].count, s[i].labels, s[i].nlabels) == 0,
		      "sample %s", s[i].stack);
	}
	CHECK(pprof_builder_encode_gz(b, NULL, &out, len, NULL) == 0, "encode");
	pprof_builder_free(b);
	return out;
}

static void join(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "path too long: %s/%s\n", dir, name);
		exit(1);
	}
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	join(path, sizeof(path), dir, name);
	f = fopen(path, "wb");
	CHECK(f && fwrite(data, 1, len, f) == len && fclose(f) == 0, "write %s", path);
}

static void write_profile(const char *dir, const char *name, int64_t time_ns,
			  const struct fsample *s, size_t n, bool gunzipped)
{
	size_t len = 0;
	uint8_t *gz = make_profile(time_ns, s, n, &len);

	if (gunzipped) {
		static uint8_t raw[1 << 16];
		z_stream z = { .next_in = gz, .avail_in = (uInt)len, .next_out = raw,
			       .avail_out = sizeof(raw) };

		CHECK(inflateInit2(&z, 16 + MAX_WBITS) == Z_OK && inflate(&z, Z_FINISH) == Z_STREAM_END,
		      "gunzip");
		write_file(dir, name, raw, z.total_out);
		inflateEnd(&z);
	} else {
		write_file(dir, name, gz, len);
	}
	free(gz);
}

#define WEB1 "web-20261201T100000Z.pb.gz"
#define WEB2 "web-20261201T100010Z.pb.gz"
#define DB "db-20261201T100000Z-1.pb.gz"

/* The profile dir every load test reads:
 *   WEB1 t=1000  main;work 3 {comm=app, pid=42}, main;idle 1 {comm=other}
 *   WEB2 t=2000  main;work@21;k:do_syscall 2 {comm=app}, main;? 1
 *   DB   t=3000  main;query 5 {pid=7}
 *   raw.pb t=4000 (not gzipped)  main;work 1 {comm=app}
 * and what is not read: a dot-file, a text file, a FIFO and a symlink
 * named like profiles. */
static void make_profile_dir(char *dir, size_t size)
{
	const struct fsample web1[] = {
		{ "main;work", 3, { { .key = "comm", .str = "app" }, { .key = "pid", .num = 42 } }, 2 },
		{ "main;idle", 1, { { .key = "comm", .str = "other" } }, 1 },
	};
	const struct fsample web2[] = {
		{ "main;work@21;k:do_syscall", 2, { { .key = "comm", .str = "app" } }, 1 },
		{ "main;?", 1, { { 0 } }, 0 },
	};
	const struct fsample db[] = { { "main;query", 5, { { .key = "pid", .num = 7 } }, 1 } };
	const struct fsample raw[] = { { "main;work", 1, { { .key = "comm", .str = "app" } }, 1 } };
	const struct fsample hidden[] = { { "main;hidden", 100, { { 0 } }, 0 } };
	char path[PATH_MAX];

	check_temp_dir(dir, size, "test_analysis_profiles");
	write_profile(dir, WEB1, 1000, web1, 2, false);
	write_profile(dir, WEB2, 2000, web2, 2, false);
	write_profile(dir, DB, 3000, db, 1, false);
	write_profile(dir, "raw.pb", 4000, raw, 1, true);
	write_profile(dir, ".hidden.pb.gz", 5000, hidden, 1, false);
	write_file(dir, "notes.txt", "not a profile", 13);
	join(path, sizeof(path), dir, "fifo.pb.gz");
	CHECK(mkfifo(path, 0600) == 0, "mkfifo");
	join(path, sizeof(path), dir, "link.pb.gz");
	CHECK(symlink(WEB1, path) == 0, "symlink");
}

/* Loads path with o (frames into t) into *l: the answer of
 * profile_loader_add, the error in err. */
static int load(const char *path, struct profile_load_opts *o, struct frame_table *t,
		struct stack_list *l, struct profile_loader *ld, char *err, size_t err_size)
{
	int ret;

	o->sz = sizeof(*o);
	*l = (struct stack_list){ 0 };
	err[0] = '\0';
	CHECK(profile_loader_init(ld, o, t) == 0, "profile_loader_init");
	ret = profile_loader_add(ld, path, l, err, err_size);
	return ret;
}

/* Loads path with o; checks the answer and the folded stacks. */
static void check_load(const char *what, const char *path, struct profile_load_opts o, int want_ret,
		       const char *want_folded)
{
	struct frame_table t = { 0 };
	struct stack_list l;
	struct profile_loader ld;
	char err[512];
	int ret = load(path, &o, &t, &l, &ld, err, sizeof(err));
	char *folded = folded_of(&t, &l);

	CHECK(ret == want_ret, "%s: %d, want %d (%s)", what, ret, want_ret, err);
	CHECK(!strcmp(folded, want_folded), "%s: folded\n%s\nwant\n%s", what, folded, want_folded);
	free(folded);
	profile_loader_free(&ld);
	stack_list_free(&l);
	frame_table_free(&t);
}

static regex_t *re(regex_t *r, const char *pattern)
{
	CHECK(regcomp(r, pattern, REG_EXTENDED | REG_NOSUB) == 0, "regcomp %s", pattern);
	return r;
}

static void test_profile_load(void)
{
	char dir[PATH_MAX], path[PATH_MAX], err[512];
	struct frame_table t = { 0 };
	struct stack_list l;
	struct profile_loader ld;
	struct profile_load_opts o = { 0 };
	regex_t r1, r2;
	int ret;

	make_profile_dir(dir, sizeof(dir));

	/* Everything: four files; the FIFO and the link skipped. */
	ret = load(dir, &o, &t, &l, &ld, err, sizeof(err));
	CHECK(ret == 4 && l.nprofiles == 4 && ld.skipped == 2, "all: %d profiles %zu skipped %zu (%s)",
	      ret, l.nprofiles, ld.skipped, err);
	CHECK(l.total == 13 * PERIOD && !strcmp(ld.type, "cpu") && !strcmp(ld.unit, "nanoseconds") &&
		      ld.period == PERIOD && !strcmp(ld.period_unit, "nanoseconds"),
	      "total %lld type %s %s period %lld %s", (long long)l.total, ld.type, ld.unit,
	      (long long)ld.period, ld.period_unit);
	{
		char *folded = folded_of(&t, &l);
		uint32_t k = find_frame(&t, "do_syscall"), u = find_frame(&t, "[app]");
		uint32_t w = find_frame(&t, "work");

		CHECK(!strcmp(folded, "main;[app] 10\nmain;idle 10\nmain;query 50\nmain;work 40\n"
				      "main;work;do_syscall 20\n"),
		      "folded:\n%s", folded);
		free(folded);
		CHECK(k != UINT32_MAX && t.frames[k].kind == FRAME_KERNEL && !t.frames[k].file[0],
		      "a kernel frame");
		CHECK(u != UINT32_MAX && t.frames[u].kind == FRAME_UNSYMBOLIZED,
		      "an address without lines: [app], unsymbolized");
		CHECK(w != UINT32_MAX && t.frames[w].kind == FRAME_NATIVE &&
			      !strcmp(t.frames[w].file, "app.c") && t.frames[w].line == 0 &&
			      count_frames(&t, "work") == 1,
		      "by function: one work, in app.c");
		CHECK(find_frame(&t, "hidden") == UINT32_MAX, "dot-files are not read");
	}
	/* A second add into the same list and table: the files again. */
	ret = profile_loader_add(&ld, dir, &l, err, sizeof(err));
	CHECK(ret == 4 && l.nprofiles == 8 && l.total == 26 * PERIOD && l.nstacks == 5,
	      "added twice: %d, %zu profiles, total %lld, %zu stacks", ret, l.nprofiles,
	      (long long)l.total, l.nstacks);
	profile_loader_free(&ld);
	stack_list_free(&l);
	frame_table_free(&t);

	/* By line: work at lines 10 and 21 are two frames. */
	t = (struct frame_table){ .by_line = true };
	ret = load(dir, &o, &t, &l, &ld, err, sizeof(err));
	CHECK(ret == 4 && count_frames(&t, "work") == 2, "by line: %d, %zu frames of work", ret,
	      count_frames(&t, "work"));
	{
		char *folded = folded_of(&t, &l);

		CHECK(strstr(folded, "main app.c:10;work app.c:21;do_syscall 20\n") &&
			      strstr(folded, "main app.c:10;work app.c:10 40\n"),
		      "by line folded:\n%s", folded);
		free(folded);
	}
	profile_loader_free(&ld);
	stack_list_free(&l);
	frame_table_free(&t);

	/* Sample types. */
	o = (struct profile_load_opts){ .sample_type = "samples" };
	check_load("samples", dir, o, 4,
		   "main;[app] 1\nmain;idle 1\nmain;query 5\nmain;work 4\nmain;work;do_syscall 2\n");
	o = (struct profile_load_opts){ .sample_type = "alloc_space" };
	ret = load(dir, &o, &t, &l, &ld, err, sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, DB) && strstr(err, "no sample type 'alloc_space'") &&
		      strstr(err, "samples, cpu"),
	      "a sample type no file has: %d %s", ret, err);
	profile_loader_free(&ld);
	stack_list_free(&l);
	frame_table_free(&t);

	/* Tags. */
	o = (struct profile_load_opts){ .tags = (struct profile_tag[]){ { "comm", "app" } }, .ntags = 1 };
	check_load("comm=app", dir, o, 4, "main;work 40\nmain;work;do_syscall 20\n");
	o = (struct profile_load_opts){ .tags = (struct profile_tag[]){ { "pid", "42" } }, .ntags = 1 };
	check_load("pid=42 (a number label)", dir, o, 4, "main;work 30\n");
	o = (struct profile_load_opts){ .tags = (struct profile_tag[]){ { "pid", "42" }, { "pid", "7" } },
					.ntags = 2 };
	check_load("pid=42 or 7", dir, o, 4, "main;query 50\nmain;work 30\n");
	o = (struct profile_load_opts){
		.tags = (struct profile_tag[]){ { "comm", "app" }, { "pid", "42" } }, .ntags = 2 };
	check_load("comm=app and pid=42", dir, o, 4, "main;work 30\n");
	o = (struct profile_load_opts){
		.tags = (struct profile_tag[]){ { "comm", "other" }, { "pid", "7" }, { "comm", "app" } },
		.ntags = 3 };
	check_load("(comm=other or app) and pid=7", dir, o, 4, "");
	o = (struct profile_load_opts){ .tags = (struct profile_tag[]){ { "pid", "42x" } }, .ntags = 1 };
	check_load("pid=42x is no number", dir, o, 4, "");
	o = (struct profile_load_opts){ .tags = (struct profile_tag[]){ { "comm", "ap" } }, .ntags = 1 };
	check_load("comm=ap is not a prefix match", dir, o, 4, "");

	/* Focus and ignore. */
	o = (struct profile_load_opts){ .focus = re(&r1, "^work$") };
	check_load("focus work", dir, o, 4, "main;work 40\nmain;work;do_syscall 20\n");
	regfree(&r1);
	o = (struct profile_load_opts){ .ignore = re(&r1, "sys") };
	check_load("ignore sys", dir, o, 4, "main;[app] 10\nmain;idle 10\nmain;query 50\nmain;work 40\n");
	regfree(&r1);
	o = (struct profile_load_opts){ .focus = re(&r1, "^main$"), .ignore = re(&r2, "^(idle|query)$") };
	check_load("focus main, ignore idle|query", dir, o, 4,
		   "main;[app] 10\nmain;work 40\nmain;work;do_syscall 20\n");
	regfree(&r1);
	regfree(&r2);
	o = (struct profile_load_opts){ .focus = re(&r1, "nothing") };
	check_load("focus on nothing", dir, o, 4, "");
	regfree(&r1);

	/* Service, from, until. */
	o = (struct profile_load_opts){ .service = "web" };
	check_load("service web", dir, o, 2, "main;[app] 10\nmain;idle 10\nmain;work 30\n"
					     "main;work;do_syscall 20\n");
	o = (struct profile_load_opts){ .service = "db" };
	check_load("service db", dir, o, 1, "main;query 50\n");
	o = (struct profile_load_opts){ .service = "raw" };
	check_load("service raw (not an agent file name)", dir, o, 0, "");
	join(path, sizeof(path), dir, WEB1);
	o = (struct profile_load_opts){ .service = "db" };
	check_load("a file of another service", path, o, 0, "");
	o = (struct profile_load_opts){ .service = "web" };
	check_load("a file of the service", path, o, 1, "main;idle 10\nmain;work 30\n");
	o = (struct profile_load_opts){ .from_ns = 2000 };
	check_load("from 2000", dir, o, 3, "main;[app] 10\nmain;query 50\nmain;work 10\n"
					   "main;work;do_syscall 20\n");
	o = (struct profile_load_opts){ .until_ns = 3000 };
	check_load("until 3000", dir, o, 2, "main;[app] 10\nmain;idle 10\nmain;work 30\n"
					    "main;work;do_syscall 20\n");
	o = (struct profile_load_opts){ .from_ns = 2000, .until_ns = 3000 };
	check_load("from 2000 until 3000", dir, o, 1, "main;[app] 10\nmain;work;do_syscall 20\n");
	o = (struct profile_load_opts){ .from_ns = 1001, .until_ns = 2000 };
	check_load("from 1001 until 2000", dir, o, 0, "");

	/* Not profiles: a file named on the command line, a FIFO, nothing. */
	o = (struct profile_load_opts){ 0 };
	join(path, sizeof(path), dir, "fifo.pb.gz");
	ret = load(path, &o, &t, &l, &ld, err, sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, "fifo.pb.gz") && strstr(err, "not a regular file"),
	      "a FIFO named: %d %s", ret, err);
	profile_loader_free(&ld);
	join(path, sizeof(path), dir, "notes.txt");
	ret = load(path, &o, &t, &l, &ld, err, sizeof(err));
	CHECK(ret < 0 && strstr(err, "notes.txt") && !strchr(err, '\n'),
	      "a text file named: %d %s", ret, err);
	profile_loader_free(&ld);
	join(path, sizeof(path), dir, "missing.pb.gz");
	ret = load(path, &o, &t, &l, &ld, err, sizeof(err));
	CHECK(ret == -ENOENT && strstr(err, "missing.pb.gz"), "a missing file: %d %s", ret, err);
	profile_loader_free(&ld);
	CHECK(profile_loader_init(&ld, &(struct profile_load_opts){ .sz = 1 }, &t) == -EINVAL,
	      "an opts of another size");
	stack_list_free(&l);
	frame_table_free(&t);

	/* A directory with a file that is not a profile: the error names it. */
	write_file(dir, "zz-bad.pb.gz", "\x1f\x8b not gzip", 10);
	ret = load(dir, &o, &t, &l, &ld, err, sizeof(err));
	CHECK(ret < 0 && strstr(err, dir) && strstr(err, "zz-bad.pb.gz") && !strchr(err, '\n'),
	      "a bad file in the directory: %d %s", ret, err);
	profile_loader_free(&ld);
	stack_list_free(&l);
	frame_table_free(&t);
	join(path, sizeof(path), dir, "zz-bad.pb.gz");
	unlink(path);

	/* A profile bigger than max_file_bytes. */
	o = (struct profile_load_opts){ .max_file_bytes = 16 };
	ret = load(dir, &o, &t, &l, &ld, err, sizeof(err));
	CHECK(ret == -EFBIG && strstr(err, DB), "max_file_bytes: %d %s", ret, err);
	profile_loader_free(&ld);
	stack_list_free(&l);
	frame_table_free(&t);

	check_remove_tree(dir);
}

/* A profile of no samples and no sample types (pprof_read accepts it:
 * string_table [""], time_nanos 1) first in a directory must not settle
 * the sample type: the files after it are read. */
static void test_profile_load_empty_first(void)
{
	static const uint8_t empty[] = { 0x32, 0x00, 0x48, 0x01 };
	const struct fsample s[] = { { "main;work", 3, { { 0 } }, 0 } };
	char dir[PATH_MAX], err[512];
	struct frame_table t = { 0 };
	struct stack_list l;
	struct profile_loader ld;
	struct profile_load_opts o = { 0 };
	int ret;

	check_temp_dir(dir, sizeof(dir), "test_analysis_empty");
	write_file(dir, "a-empty.pb", empty, sizeof(empty));
	write_profile(dir, "b.pb.gz", 2000, s, 1, false);
	ret = load(dir, &o, &t, &l, &ld, err, sizeof(err));
	CHECK(ret == 2 && l.total == 3 * PERIOD && !strcmp(ld.type, "cpu"),
	      "an empty profile first: %d, type '%s' (%s)", ret, ld.type, err);
	profile_loader_free(&ld);
	stack_list_free(&l);
	frame_table_free(&t);
	check_remove_tree(dir);
}

/* ---- text_out.h ---- */

static void check_value(int64_t v, const char *unit, const char *want)
{
	char buf[64];

	format_value(buf, sizeof(buf), v, unit);
	CHECK(!strcmp(buf, want), "%lld %s: '%s', want '%s'", (long long)v, unit, buf, want);
}

static void test_format_value(void)
{
	char small[4];

	check_value(1500000000, "nanoseconds", "1.50s");
	check_value(2000000, "nanoseconds", "2.00ms");
	check_value(999, "nanoseconds", "999ns");
	check_value(1000, "nanoseconds", "1.00us");
	check_value(0, "nanoseconds", "0ns");
	check_value(-1500000000, "nanoseconds", "-1.50s");
	check_value(123456789000LL, "nanoseconds", "123.46s");
	check_value(1500, "microseconds", "1.50ms");
	check_value(7, "milliseconds", "7ms");
	check_value(1536, "bytes", "1.50kB");
	check_value(1 << 20, "bytes", "1.00MB");
	check_value(3LL << 30, "bytes", "3.00GB");
	check_value(100, "bytes", "100B");
	check_value(1234, "count", "1234");
	check_value(-5, "count", "-5");
	check_value(INT64_MAX, "", "9223372036854775807");
	format_value(small, sizeof(small), 1500000000, "nanoseconds");
	CHECK(!strcmp(small, "1.5"), "truncated to the buffer: '%s'", small);
}

static char *json_of(const char *s)
{
	struct mem m;

	json_write_string(mem_open(&m), s);
	return mem_text(&m);
}

static void check_json(const char *in, const char *want)
{
	char *got = json_of(in);

	CHECK(!strcmp(got, want), "json of '%s': %s, want %s", in, got, want);
	CHECK(json_valid(got), "json of '%s' parses: %s", in, got);
	free(got);
}

static void test_json_string(void)
{
	static const char *const not_utf8[] = {
		"\xed\xa0\x80",     /* a surrogate, U+D800 */
		"\xe0\x80\xaf",     /* an overlong '/' */
		"\xf0\x82\x82\xac", /* an overlong euro sign */
		"\xf4\x90\x80\x80", /* past U+10FFFF */
	};

	check_json("plain", "\"plain\"");
	check_json("", "\"\"");
	check_json("a\"b\\c", "\"a\\\"b\\\\c\"");
	check_json("\x01\n\t\x1f\x7f", "\"\\u0001\\u000a\\u0009\\u001f\\u007f\"");
	check_json("</script>", "\"\\u003c/script>\"");
	check_json("a\xff" "b", "\"a\\ufffdb\"");
	check_json("\x80", "\"\\ufffd\"");
	check_json("\xc0\xaf", "\"\\ufffd\\ufffd\"");   /* c0: never a lead byte */
	check_json("\xe2\x82", "\"\\ufffd\\ufffd\"");   /* cut short */
	check_json("\xe2\x82x", "\"\\ufffd\\ufffdx\"");
	check_json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* Invalid forms a lead byte check lets through: every byte must go,
	 * as a strict reader (Python's, Go's) refuses or replaces them. */
	for (size_t i = 0; i < sizeof(not_utf8) / sizeof(not_utf8[0]); i++) {
		char *got = json_of(not_utf8[i]);
		bool ok = json_valid(got) && strstr(got, "\\ufffd");

		CHECK(ok, "json of invalid UTF-8 %zu: %s", i, got);
		free(got);
	}
}

static void test_frame_label(void)
{
	char buf[64], tiny[6];

	frame_label(buf, sizeof(buf), &(struct frame){ "f", "a.c", 12, FRAME_NATIVE });
	CHECK(!strcmp(buf, "f a.c:12"), "%s", buf);
	frame_label(buf, sizeof(buf), &(struct frame){ "f", "", 3, FRAME_NATIVE });
	CHECK(!strcmp(buf, "f :3"), "%s", buf);
	frame_label(buf, sizeof(buf), &(struct frame){ "f", "a.c", 0, FRAME_NATIVE });
	CHECK(!strcmp(buf, "f"), "by function: %s", buf);
	frame_label(tiny, sizeof(tiny), &(struct frame){ "function", "a.c", 1, FRAME_NATIVE });
	CHECK(!strcmp(tiny, "funct"), "truncated: %s", tiny);
}

/* ---- report.h ---- */

/* main;a 60ms, main;b 30ms, main;a;c 10ms. */
static void known_list(struct frame_table *t, struct stack_list *l)
{
	*l = (struct stack_list){ .nprofiles = 1 };
	add_stack(l, t, "main;b", 30000000);
	add_stack(l, t, "main;a", 60000000);
	add_stack(l, t, "main;a;c", 10000000);
}

static char *report_of(const struct frame_table *t, const struct stack_list *l,
		       enum report_format format, size_t top, bool by_cum)
{
	struct report_opts o = { .sz = sizeof(o), .format = format, .top = top, .by_cum = by_cum,
				 .type = "cpu", .unit = "nanoseconds" };
	struct mem m;

	CHECK(report_write(mem_open(&m), t, l, &o) == 0, "report_write");
	return mem_text(&m);
}

/* Are the needles in s, in this order? */
static bool in_order(const char *s, const char *const *needles, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!(s = strstr(s, needles[i])))
			return false;
		s += strlen(needles[i]);
	}
	return true;
}

static void test_report(void)
{
	static const char *const by_flat[] = { "\"name\":\"a\"", "\"name\":\"b\"", "\"name\":\"c\"",
					       "\"name\":\"main\"" };
	static const char *const by_cum[] = { "\"name\":\"main\"", "\"name\":\"a\"", "\"name\":\"b\"",
					      "\"name\":\"c\"" };
	struct frame_table t = { 0 }, lt = { .by_line = true };
	struct stack_list l, ll = { 0 };
	char *s;

	known_list(&t, &l);
	s = report_of(&t, &l, REPORT_TEXT, 0, false);
	CHECK(!strcmp(s, "Type: cpu\n"
			 "Total: 100.00ms in 1 profile\n"
			 "Showing top 4 of 4 functions\n"
			 "      flat  flat%   sum%        cum   cum%\n"
			 "   60.00ms 60.00% 60.00%    70.00ms 70.00%  a\n"
			 "   30.00ms 30.00% 90.00%    30.00ms 30.00%  b\n"
			 "   10.00ms 10.00%   100%    10.00ms 10.00%  c\n"
			 "       0ns     0%   100%   100.00ms   100%  main\n"),
	      "text report:\n%s", s);
	free(s);
	s = report_of(&t, &l, REPORT_TEXT, 2, true);
	CHECK(strstr(s, "Showing top 2 of 4 functions\n") &&
		      strstr(s, "       0ns     0%     0%   100.00ms   100%  main\n") &&
		      strstr(s, "   60.00ms 60.00% 60.00%    70.00ms 70.00%  a\n") && !strstr(s, "  b\n"),
	      "text report, top 2 by cum:\n%s", s);
	free(s);

	s = report_of(&t, &l, REPORT_JSON, 0, false);
	CHECK(json_valid(s), "JSON report parses:\n%s", s);
	CHECK(strstr(s, "{\"sample_type\":\"cpu\",\"unit\":\"nanoseconds\",\"total\":100000000,"
			"\"files\":1,\"granularity\":\"functions\",\"count\":4,\"functions\":[") &&
		      strstr(s, "{\"name\":\"a\",\"file\":\"\",\"kind\":\"native\",\"flat\":60000000,"
				"\"flat_pct\":60.0000,\"cum\":70000000,\"cum_pct\":70.0000}") &&
		      strstr(s, "{\"name\":\"main\",\"file\":\"\",\"kind\":\"native\",\"flat\":0,"
				"\"flat_pct\":0.0000,\"cum\":100000000,\"cum_pct\":100.0000}") &&
		      in_order(s, by_flat, 4),
	      "JSON report:\n%s", s);
	free(s);
	s = report_of(&t, &l, REPORT_JSON, 2, true);
	CHECK(json_valid(s) && strstr(s, "\"count\":4") && in_order(s, by_cum, 2) &&
		      !strstr(s, "\"name\":\"b\""),
	      "JSON report, top 2 by cum:\n%s", s);
	free(s);
	s = report_of(&t, &l, REPORT_FOLDED, 0, false);
	CHECK(!strcmp(s, "main;a 60000000\nmain;a;c 10000000\nmain;b 30000000\n"), "folded report:\n%s", s);
	free(s);

	/* By line, with what JSON must escape. */
	{
		struct frame f1 = { "q\"<x>", "dir/a.c", 7, FRAME_KERNEL }, f2 = { "m", "a.c", 1, FRAME_NATIVE };
		uint32_t ids[2];

		ids[0] = (uint32_t)frame_table_intern(&lt, &f2);
		ids[1] = (uint32_t)frame_table_intern(&lt, &f1);
		stack_list_add(&ll, ids, 2, 5);
		ll.nprofiles = 2;
		s = report_of(&lt, &ll, REPORT_JSON, 0, false);
		CHECK(json_valid(s) && strstr(s, "\"files\":2,\"granularity\":\"lines\"") &&
			      strstr(s, "{\"name\":\"q\\\"\\u003cx>\",\"file\":\"dir/a.c\",\"line\":7,"
					"\"kind\":\"kernel\",\"flat\":5"),
		      "JSON report by line:\n%s", s);
		free(s);
		s = report_of(&lt, &ll, REPORT_TEXT, 0, false);
		CHECK(strstr(s, "Total: 5ns in 2 profiles\nShowing top 2 of 2 lines\n") &&
			      strstr(s, "  q\"<x> dir/a.c:7\n") && strstr(s, "  m a.c:1\n"),
		      "text report by line:\n%s", s);
		free(s);
	}
	/* An empty list. */
	stack_list_free(&ll);
	s = report_of(&lt, &ll, REPORT_JSON, 0, false);
	CHECK(json_valid(s) && strstr(s, "\"total\":0") && strstr(s, "\"functions\":[]"),
	      "empty JSON report:\n%s", s);
	free(s);
	stack_list_free(&l);
	frame_table_free(&t);
	frame_table_free(&lt);
}

static void test_folded(void)
{
	struct frame_table t = { 0 };
	struct stack_list l = { 0 }, l2 = { 0 };
	uint32_t none = 0;
	char *s, *s2;

	add_stack(&l, &t, "z", 0); /* no value: no line */
	frame_id(&t, "a;b");
	frame_id(&t, "c\nd\x7f");
	{
		uint32_t zab[2] = { find_frame(&t, "z"), find_frame(&t, "a;b") };
		uint32_t abz[2] = { zab[1], zab[0] }, cd[1] = { find_frame(&t, "c\nd\x7f") };

		stack_list_add(&l, zab, 2, 5);
		stack_list_add(&l, cd, 1, 3);
		stack_list_add(&l, abz, 2, 2);
		stack_list_add(&l, &none, 0, 4);
		/* The same stacks added in another order give the same bytes. */
		stack_list_add(&l2, abz, 2, 2);
		stack_list_add(&l2, &none, 0, 4);
		stack_list_add(&l2, cd, 1, 3);
		stack_list_add(&l2, zab, 2, 5);
	}
	s = folded_of(&t, &l);
	s2 = folded_of(&t, &l2);
	CHECK(!strcmp(s, "<no frames> 4\na:b;z 2\nc d  3\nz;a:b 5\n"), "folded:\n%s", s);
	CHECK(!strcmp(s, s2), "the order of the stacks:\n%s\nvs\n%s", s, s2);
	free(s);
	free(s2);
	stack_list_free(&l);
	stack_list_free(&l2);
	frame_table_free(&t);
}

/* ---- call_tree.h, flamegraph.h ---- */

static uint32_t child(const struct call_tree *ct, uint32_t parent, uint32_t frame)
{
	for (size_t i = 1; i < ct->nnodes; i++)
		if (ct->nodes[i].parent == parent && ct->nodes[i].frame == frame)
			return (uint32_t)i;
	return UINT32_MAX;
}

static char *page_of(const struct frame_table *t, const struct call_tree *ct, size_t max_nodes,
		     const char *title)
{
	struct flamegraph_opts o = { .sz = sizeof(o), .title = title, .type = "cpu",
				     .unit = "nanoseconds", .max_nodes = max_nodes };
	struct mem m;

	CHECK(flamegraph_write(mem_open(&m), t, ct, &o) == 0, "flamegraph_write");
	return mem_text(&m);
}

/* The data the page embeds: the JSON object from {"title":, checked. */
static bool page_data_valid(const char *page)
{
	const char *start = strstr(page, "{\"title\":"), *end = start ? json_value(start, 0) : NULL;

	return end && end - start > 100;
}

static void test_call_tree(void)
{
	struct frame_table t = { 0 };
	struct stack_list l, base = { 0 };
	struct call_tree ct;
	uint32_t *first = NULL, *order = NULL, m, a, b, c;
	uint32_t fm, fa, fb, fc;

	known_list(&t, &l); /* main;b first: node ids are not name order */
	CHECK(call_tree_build(&ct, &l) == 0, "call_tree_build");
	fm = find_frame(&t, "main");
	fa = find_frame(&t, "a");
	fb = find_frame(&t, "b");
	fc = find_frame(&t, "c");
	m = child(&ct, CALL_TREE_ROOT, fm);
	a = child(&ct, m, fa);
	b = child(&ct, m, fb);
	c = child(&ct, a, fc);
	CHECK(ct.nnodes == 5 && m != UINT32_MAX && a != UINT32_MAX && b != UINT32_MAX &&
		      c != UINT32_MAX && child(&ct, m, fc) == UINT32_MAX,
	      "5 nodes: %zu", ct.nnodes);
	if (ct.nnodes == 5 && a != UINT32_MAX && b != UINT32_MAX && c != UINT32_MAX) {
		CHECK(ct.nodes[0].value == 100000000 && ct.nodes[0].frame == UINT32_MAX &&
			      ct.nodes[m].value == 100000000 && ct.nodes[a].value == 70000000 &&
			      ct.nodes[b].value == 30000000 && ct.nodes[c].value == 10000000,
		      "node values");
		CHECK(!ct.diff && ct.nodes[a].base == 0, "not differential");
		CHECK(call_tree_children(&ct, &t, &first, &order) == 0, "call_tree_children");
		CHECK(first[m + 1] - first[m] == 2 && order[first[m]] == a && order[first[m] + 1] == b,
		      "main's children by name: a, b");
		CHECK(first[CALL_TREE_ROOT + 1] - first[CALL_TREE_ROOT] == 1 &&
			      order[first[CALL_TREE_ROOT]] == m && first[c + 1] == first[c] &&
			      first[ct.nnodes] == ct.nnodes - 1,
		      "the root's child; a leaf has none");
		free(first);
		free(order);

		/* A base of 20 scaled to 100: main;a 10 -> 50; main;d only in the base. */
		add_stack(&base, &t, "main;a", 10);
		add_stack(&base, &t, "main;d", 10);
		CHECK(call_tree_add_base(&ct, &base) == 0, "call_tree_add_base");
		CHECK(ct.diff && NEAR(ct.nodes[0].base, 100000000, 1e-3) &&
			      NEAR(ct.nodes[m].base, 100000000, 1e-3) &&
			      NEAR(ct.nodes[a].base, 50000000, 1e-3) && ct.nodes[b].base == 0 &&
			      ct.nodes[c].base == 0 && ct.nnodes == 5,
		      "bases: root %g main %g a %g b %g", ct.nodes[0].base, ct.nodes[m].base,
		      ct.nodes[a].base, ct.nodes[b].base);
		{
			char *page = page_of(&t, &ct, 0, "diff");

			CHECK(page_data_valid(page) && strstr(page, "\"diff\":true") &&
				      strstr(page, "\"base\":[100000000,100000000,50000000,0,0]"),
			      "the differential page's data");
			free(page);
		}
	}
	call_tree_free(&ct);
	stack_list_free(&base);
	stack_list_free(&l);
	frame_table_free(&t);
}

static void test_flamegraph(void)
{
	struct frame_table t = { 0 };
	struct stack_list l;
	struct call_tree ct;
	char *page;

	known_list(&t, &l);
	add_stack(&l, &t, "main;</script><img src=x>", 1);
	CHECK(call_tree_build(&ct, &l) == 0, "call_tree_build");

	page = page_of(&t, &ct, 0, "T<i>&\"");
	CHECK(page_data_valid(page), "the page's data parses");
	CHECK(strstr(page, "<!") == page || strstr(page, "<html") != NULL, "an HTML page");
	CHECK(!strstr(page, "</script><img") && !strstr(page, "<img src=x>") &&
		      strstr(page, "\"\\u003c/script>\\u003cimg src=x>\""),
	      "a name is JSON-escaped, '<' too");
	CHECK(strstr(page, "T&lt;i&gt;&amp;&quot;") && !strstr(page, "T<i>") &&
		      strstr(page, "{\"title\":\"T\\u003ci>&\\\"\",\"sample_type\":\"cpu\","
				   "\"unit\":\"nanoseconds\",\"total\":100000001,\"diff\":false,"),
	      "the title escaped for HTML and for JSON");
	/* Preorder, children by name: root, main, </script>..., a, c, b. */
	CHECK(strstr(page, "\"names\":[\"all\",\"main\",\"\\u003c/script>\\u003cimg src=x>\",\"a\","
			   "\"c\",\"b\"]") &&
		      strstr(page, "\"depth\":[0,1,2,2,3,2]") &&
		      strstr(page, "\"value\":[100000001,100000001,1,70000000,10000000,30000000]"),
	      "the whole tree drawn");
	CHECK(strstr(page, "\"kinds\":[\"root\",\"native\",\"kernel\",\"jit\",\"interpreter\","
			   "\"unsymbolized\"]") &&
		      strstr(page, "\"kind\":[0,1,1,1,1,1]"),
	      "kinds");
	free(page);

	/* At most 4 nodes: the 4th widest is b (30 ms), so what is wider
	 * stays: root, main, a. */
	page = page_of(&t, &ct, 4, "small");
	CHECK(page_data_valid(page) && strstr(page, "\"names\":[\"all\",\"main\",\"a\"]") &&
		      strstr(page, "\"depth\":[0,1,2]") &&
		      strstr(page, "\"value\":[100000001,100000001,70000000]") &&
		      !strstr(page, "\\u003cimg"),
	      "max_nodes 4: the narrowest left out");
	free(page);
	page = page_of(&t, &ct, 5, "small");
	CHECK(strstr(page, "\"names\":[\"all\",\"main\",\"a\",\"b\"]") &&
		      strstr(page, "\"value\":[100000001,100000001,70000000,30000000]"),
	      "max_nodes 5: c (10 ms) and the 1 ns one left out");
	free(page);
	page = page_of(&t, &ct, 1, "root only");
	CHECK(strstr(page, "\"names\":[\"all\"]") && strstr(page, "\"value\":[100000001]"),
	      "max_nodes 1: the root");
	free(page);
	call_tree_free(&ct);

	/* An empty profile: the root alone. */
	stack_list_free(&l);
	CHECK(call_tree_build(&ct, &l) == 0 && ct.nnodes == 1, "an empty tree");
	page = page_of(&t, &ct, 0, "empty");
	CHECK(page_data_valid(page) && strstr(page, "\"total\":0") && strstr(page, "\"value\":[0]"),
	      "an empty page");
	free(page);
	call_tree_free(&ct);
	frame_table_free(&t);
}

int main(void)
{
	test_student_t();
	test_welch();
	test_diff_single();
	test_diff_several();
	test_diff_holm();
	test_function_totals();
	test_stack_list();
	test_stack_list_frameless_first();
	test_frame_table();
	test_agent_file_service();
	test_profile_load();
	test_profile_load_empty_first();
	test_format_value();
	test_json_string();
	test_frame_label();
	test_report();
	test_folded();
	test_call_tree();
	test_flamegraph();
	return check_summary();
}
