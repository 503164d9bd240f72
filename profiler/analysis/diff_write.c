/* diff_write.c - diff.h's diff_write(): the verdict and the functions that
 * moved, as text, as a Markdown table (for a CI job summary) or as JSON. */
#include "diff.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "text_out.h"

/* Rows worth showing: every called one, then the largest moves up to top. */
static size_t shown_rows(const struct diff_result *r, size_t top)
{
	size_t n = 0, uncalled = 0;

	for (; n < r->nrows; n++) { /* sorted: the called first, then by size of change */
		const struct diff_row *row = &r->rows[n];

		if (row->verdict != DIFF_NONE)
			continue;
		if (fmax(fabs(row->d_cum), fabs(row->d_flat)) < 0.005 || (top && uncalled == top))
			break;
		uncalled++;
	}
	return n;
}

static void summary(char *buf, size_t size, const struct diff_result *r, const char *type)
{
	const char *fn = r->ncalled == 1 ? "function" : "functions";
	double t = r->opts.threshold;

	switch (r->verdict) {
	case DIFF_REGRESSION:
		snprintf(buf, size, "%zu %s grew by more than %.2f points of %s%s", r->ncalled, fn, t,
			 type, r->several ? ", beyond the runs' spread" : "");
		break;
	case DIFF_INCONCLUSIVE:
		snprintf(buf, size, "%zu %s moved by more than %.2f points of %s, but not beyond "
			 "the runs' spread: more runs can tell", r->ncalled, fn, t, type);
		break;
	case DIFF_IMPROVEMENT:
		snprintf(buf, size, "%zu %s shrank by more than %.2f points of %s%s", r->ncalled, fn,
			 t, type, r->several ? ", beyond the runs' spread" : "");
		break;
	default:
		snprintf(buf, size, "no function's share of %s moved by more than %.2f points", type, t);
	}
}

static const char *runs(size_t n)
{
	return n == 1 ? "profile" : "profiles";
}

static void write_text(FILE *out, const struct frame_table *t, const struct diff_result *r,
		       size_t n, const struct diff_write_opts *o)
{
	char line[512], label[4096];
	double level = 100 * (1 - r->opts.alpha);

	summary(line, sizeof(line), r, o->type);
	fprintf(out, "Verdict: %s: %s\n", diff_verdict_names[r->verdict], line);
	fprintf(out, "Base: %zu %s, new: %zu %s; shares of each side's total, in points\n",
		o->nbase, runs(o->nbase), o->nnew, runs(o->nnew));
	if (r->several)
		fprintf(out, "Tested: %zu functions (Welch's t-test, Holm-adjusted p, %g%% interval)\n",
			r->ntested, level);
	fprintf(out, "%14s%23s\n", "flat%", "cum%"); /* over the middle of their columns */
	fprintf(out, "%7s %7s %7s %7s %7s %7s", "base", "new", "delta", "base", "new", "delta");
	if (r->several)
		fprintf(out, " %8s %17s", "p", "interval");
	fputs("  function\n", out);
	if (!n)
		fputs("(nothing moved)\n", out);
	for (size_t i = 0; i < n; i++) {
		const struct diff_row *w = &r->rows[i];

		fprintf(out, "%7.2f %7.2f %+7.2f %7.2f %7.2f %+7.2f", w->base_flat, w->new_flat,
			w->d_flat, w->base_cum, w->new_cum, w->d_cum);
		if (r->several && w->tested) {
			snprintf(line, sizeof(line), "[%+.2f, %+.2f]", w->lo, w->hi);
			fprintf(out, " %8.2g %17s", w->p, line);
		} else if (r->several) {
			fprintf(out, " %8s %17s", "-", "-");
		}
		frame_label(label, sizeof(label), &t->frames[w->frame]);
		fprintf(out, "  %s%s%s\n", label, w->verdict ? "  " : "",
			w->verdict ? diff_verdict_names[w->verdict] : "");
	}
}

/* A name in a Markdown table cell: in a code span, without what ends one. */
static void write_md_name(FILE *out, const char *s)
{
	fputc('`', out);
	for (; *s; s++)
		fputc(*s == '`' ? '\'' : *s == '|' ? '/' : (unsigned char)*s < 0x20 ? ' ' : *s, out);
	fputc('`', out);
}

static void write_markdown(FILE *out, const struct frame_table *t, const struct diff_result *r,
			   size_t n, const struct diff_write_opts *o)
{
	static const char *const icon[] = { "", "improvement", "inconclusive", "**regression**" };
	char line[512];

	summary(line, sizeof(line), r, o->type);
	fprintf(out, "### bpfprof diff: %s\n\n%s.\n\nBase: %zu %s, new: %zu %s; shares of each "
		"side's total, in points.", diff_verdict_names[r->verdict], line, o->nbase,
		runs(o->nbase), o->nnew, runs(o->nnew));
	if (r->several)
		fprintf(out, " %zu functions tested (Welch's t-test, Holm-adjusted p).", r->ntested);
	fputs("\n\n| function | flat base | flat new | flat Δ | cum base | cum new | cum Δ |", out);
	fputs(r->several ? " p | interval |" : "", out);
	fputs(" verdict |\n|---|---:|---:|---:|---:|---:|---:|", out);
	fputs(r->several ? "---:|---:|" : "", out);
	fputs("---|\n", out);
	for (size_t i = 0; i < n; i++) {
		const struct diff_row *w = &r->rows[i];

		fputs("| ", out);
		write_md_name(out, t->frames[w->frame].name);
		fprintf(out, " | %.2f | %.2f | %+.2f | %.2f | %.2f | %+.2f |", w->base_flat, w->new_flat,
			w->d_flat, w->base_cum, w->new_cum, w->d_cum);
		if (r->several && w->tested)
			fprintf(out, " %.2g | [%+.2f, %+.2f] |", w->p, w->lo, w->hi);
		else if (r->several)
			fputs(" - | - |", out);
		fprintf(out, " %s |\n", icon[w->verdict]);
	}
	if (!n)
		fputs("| (nothing moved) | | | | | | |\n", out);
}

static void write_json(FILE *out, const struct frame_table *t, const struct diff_result *r,
		       size_t n, const struct diff_write_opts *o)
{
	char line[512];

	summary(line, sizeof(line), r, o->type);
	fprintf(out, "{\"verdict\":\"%s\",\"summary\":", diff_verdict_names[r->verdict]);
	json_write_string(out, line);
	fputs(",\"sample_type\":", out);
	json_write_string(out, o->type);
	fprintf(out, ",\"threshold\":%g,\"alpha\":%g,\"base_profiles\":%zu,\"new_profiles\":%zu,"
		"\"several_runs\":%s,\"tested\":%zu,\"functions\":[", r->opts.threshold, r->opts.alpha,
		o->nbase, o->nnew, r->several ? "true" : "false", r->ntested);
	for (size_t i = 0; i < n; i++) {
		const struct diff_row *w = &r->rows[i];
		const struct frame *f = &t->frames[w->frame];

		fputs(i ? ",\n{\"name\":" : "\n{\"name\":", out);
		json_write_string(out, f->name);
		fputs(",\"file\":", out);
		json_write_string(out, f->file);
		if (t->by_line)
			fprintf(out, ",\"line\":%lld", (long long)f->line);
		fprintf(out, ",\"base_flat\":%.4f,\"new_flat\":%.4f,\"delta_flat\":%.4f,"
			"\"base_cum\":%.4f,\"new_cum\":%.4f,\"delta_cum\":%.4f", w->base_flat, w->new_flat,
			w->d_flat, w->base_cum, w->new_cum, w->d_cum);
		if (w->tested)
			fprintf(out, ",\"p\":%.6g,\"interval\":[%.4f,%.4f]", w->p, w->lo, w->hi);
		fprintf(out, ",\"verdict\":\"%s\"}", diff_verdict_names[w->verdict]);
	}
	fputs("]}\n", out);
}

int diff_write(FILE *out, const struct frame_table *t, const struct diff_result *r,
	       const struct diff_write_opts *o)
{
	size_t n = shown_rows(r, o->top);

	if (o->format == DIFF_JSON)
		write_json(out, t, r, n, o);
	else if (o->format == DIFF_MARKDOWN)
		write_markdown(out, t, r, n, o);
	else
		write_text(out, t, r, n, o);
	return fflush(out) || ferror(out) ? -EIO : 0;
}
