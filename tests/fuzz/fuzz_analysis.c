/* fuzz_analysis.c - the analysis commands on anyone's profile
 * (profiler/analysis/: report, flamegraph, diff).
 *
 * The input is a pprof file (gzipped when it starts with 1f 8b), given to
 * profile_loader_add() as a path: /proc/self/fd/N of the process's one
 * memfd (fuzz_memfd), so nothing is written to the filesystem and the
 * loader's own open/fstat/read path is the one fuzzed. Inflated to at most
 * 8 MiB, as fuzz_pprof_read.
 *
 * Pass 1, by function, no selection: the loader answers 1 (the file
 * added) or -EINVAL, -E2BIG, -ENOMEM, -EOVERFLOW with one line naming the
 * file. On a load: the stacks add up to the total, flat <= cum <= total
 * for every function; report_write as text and JSON (the JSON parses) and
 * folded_write; the call tree (a node is never wider than its parent, the
 * root is the total) and flamegraph_write with at most 1000 nodes (the
 * page's data parses), again with the profile as its own base; the
 * profile diffed against itself, one run a side and two (no function
 * moves, nothing is called), each written as text, Markdown and JSON (it
 * parses).
 *
 * Pass 2, by line, with a focus and an ignore regex, the bytes given to
 * profile_loader_add_bytes (as `-` is read): loads too (the same samples,
 * fewer kept: its total is at most pass 1's), report JSON, folded stacks,
 * flame graph.
 *
 * The JSON is checked by tests/unit/json_check.h: syntax, and strings of
 * valid UTF-8.
 */
#include <errno.h>
#include <regex.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz_util.h"
#include "json_check.h"

#include "call_tree.h"
#include "diff.h"
#include "flamegraph.h"
#include "frame_table.h"
#include "function_totals.h"
#include "profile_load.h"
#include "report.h"
#include "stack_list.h"

#define MAX_INFLATED ((size_t)8 << 20)

/* ---- output ---- */

/* One growing buffer for every output of a run, reused. */
static char *out_buf;
static size_t out_len;

static FILE *out_open(void)
{
	FILE *f;

	free(out_buf);
	out_buf = NULL;
	out_len = 0;
	f = open_memstream(&out_buf, &out_len);
	FUZZ_CHECK(f);
	return f;
}

static FILE *dev_null(void)
{
	static FILE *f;

	if (!f)
		f = fopen("/dev/null", "w");
	FUZZ_CHECK(f);
	return f;
}

static void check_report(const struct frame_table *t, const struct stack_list *l,
			 enum report_format format, bool by_cum)
{
	struct report_opts o = { .sz = sizeof(o), .format = format, .by_cum = by_cum,
				 .type = "cpu", .unit = "nanoseconds" };
	FILE *f = format == REPORT_JSON ? out_open() : dev_null();
	int ret = report_write(f, t, l, &o);

	FUZZ_CHECK(ret == 0 || ret == -ENOMEM);
	if (format == REPORT_JSON) {
		fclose(f);
		FUZZ_CHECK(ret || json_valid(out_buf));
	}
}

/* The page's data: the JSON object that starts at {"title":. */
static void check_page(const struct frame_table *t, const struct call_tree *ct, size_t max_nodes)
{
	struct flamegraph_opts o = { .sz = sizeof(o), .title = "fuzz", .type = "cpu",
				     .unit = "nanoseconds", .max_nodes = max_nodes };
	FILE *f = out_open();
	int ret = flamegraph_write(f, t, ct, &o);
	const char *data;

	fclose(f);
	FUZZ_CHECK(ret == 0 || ret == -ENOMEM);
	if (ret)
		return;
	data = strstr(out_buf, "{\"title\":");
	FUZZ_CHECK(data);
	FUZZ_CHECK(json_value(data, 0));
}

static void check_tree(const struct frame_table *t, const struct stack_list *l)
{
	struct call_tree ct;

	if (call_tree_build(&ct, l))
		return; /* -ENOMEM */
	FUZZ_CHECK(ct.nnodes >= 1 && ct.nodes[CALL_TREE_ROOT].value == l->total);
	for (size_t i = 1; i < ct.nnodes; i++) {
		const struct call_node *n = &ct.nodes[i];

		FUZZ_CHECK(n->parent < i && n->frame < t->nframes);
		FUZZ_CHECK(n->value >= 0 && n->value <= ct.nodes[n->parent].value);
	}
	check_page(t, &ct, 1000);
	if (l->total > 0) {
		call_tree_add_base(&ct, l);
		check_page(t, &ct, 1000);
	}
	call_tree_free(&ct);
}

static void write_diff(const struct frame_table *t, const struct diff_result *r, size_t nruns)
{
	for (int format = DIFF_TEXT; format <= DIFF_JSON; format++) {
		struct diff_write_opts o = { .sz = sizeof(o), .format = (enum diff_format)format,
					     .type = "cpu", .nbase = nruns, .nnew = nruns };
		FILE *f = format == DIFF_JSON ? out_open() : dev_null();

		FUZZ_CHECK(diff_write(f, t, r, &o) == 0);
		if (format == DIFF_JSON) {
			fclose(f);
			FUZZ_CHECK(json_valid(out_buf));
		}
	}
}

/* The profile against itself: nothing moves, nothing is called. */
static void check_self_diff(const struct frame_table *t, const struct stack_list *l)
{
	const struct stack_list runs[2] = { *l, *l };
	struct diff_opts o = { .sz = sizeof(o), .threshold = 5, .alpha = 0.05 };
	struct diff_result r;

	for (size_t n = 1; n <= 2; n++) {
		int ret = diff_compute(t, runs, n, runs, n, &o, &r);

		FUZZ_CHECK(ret == 0 || ret == -ENOMEM);
		if (ret)
			continue;
		FUZZ_CHECK(r.verdict == DIFF_NONE && r.ncalled == 0 && r.several == (n == 2));
		for (size_t i = 0; i < r.nrows; i++) {
			const struct diff_row *w = &r.rows[i];

			FUZZ_CHECK(w->d_cum == 0 && w->d_flat == 0 && w->verdict == DIFF_NONE);
			FUZZ_CHECK(w->frame < t->nframes && w->base_cum >= w->base_flat);
			FUZZ_CHECK(!w->tested || w->p == 1);
		}
		write_diff(t, &r, n);
		diff_result_free(&r);
	}
}

static void check_list(const struct frame_table *t, const struct stack_list *l)
{
	struct function_totals ft;
	int64_t sum = 0, flat = 0;

	FUZZ_CHECK(l->total >= 0 && l->nprofiles == 1);
	for (size_t i = 0; i < l->nstacks; i++) {
		const struct stack *s = &l->stacks[i];

		FUZZ_CHECK(s->value > 0 && s->first + s->depth <= l->nframes);
		for (uint32_t d = 0; d < s->depth; d++)
			FUZZ_CHECK(l->frames[s->first + d] < t->nframes);
		sum += s->value; /* <= total: no overflow */
	}
	FUZZ_CHECK(sum == l->total);
	if (function_totals_compute(l, t->nframes, &ft))
		return;
	for (size_t f = 0; f < t->nframes; f++) {
		FUZZ_CHECK(ft.flat[f] >= 0 && ft.flat[f] <= ft.cum[f] && ft.cum[f] <= l->total);
		flat += ft.flat[f];
	}
	FUZZ_CHECK(flat <= l->total);
	function_totals_free(&ft);
}

/* Loads path (or, when data is not NULL, data[0 .. size) shown as path)
 * into *l (frames into t): the loader's answer, checked. */
static int load(const char *path, const uint8_t *data, size_t size, struct profile_load_opts *o,
		struct frame_table *t, struct stack_list *l)
{
	struct profile_loader ld;
	char err[512] = "";
	int ret;

	*l = (struct stack_list){ 0 };
	o->sz = sizeof(*o);
	o->max_inflated_bytes = MAX_INFLATED;
	FUZZ_CHECK(profile_loader_init(&ld, o, t) == 0);
	if (data)
		ret = profile_loader_add_bytes(&ld, path, data, size, l, err, sizeof(err));
	else
		ret = profile_loader_add(&ld, path, l, err, sizeof(err));
	FUZZ_CHECK(ret == 1 || ret == -EINVAL || ret == -E2BIG || ret == -ENOMEM ||
		   ret == -EOVERFLOW);
	if (ret < 0)
		FUZZ_CHECK(err[0] && !strchr(err, '\n') && strstr(err, path));
	else
		/* A type is settled, or the profile has none (and so no samples). */
		FUZZ_CHECK((ld.typed || l->total == 0) && ld.skipped == 0);
	profile_loader_free(&ld);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static regex_t focus, ignore;
	static bool compiled;
	char path[64];
	struct frame_table t = { 0 }, lt = { .by_line = true };
	struct stack_list l, ll;
	struct profile_load_opts o = { 0 };
	int ret;

	if (!compiled) {
		FUZZ_CHECK(!regcomp(&focus, "[aeiou]", REG_EXTENDED | REG_NOSUB));
		FUZZ_CHECK(!regcomp(&ignore, "^(runtime|z)", REG_EXTENDED | REG_NOSUB));
		compiled = true;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fuzz_memfd(data, size));

	ret = load(path, NULL, 0, &o, &t, &l);
	if (ret == 1) {
		check_list(&t, &l);
		check_report(&t, &l, REPORT_TEXT, false);
		check_report(&t, &l, REPORT_JSON, false);
		check_report(&t, &l, REPORT_JSON, true);
		FUZZ_CHECK(folded_write(dev_null(), &t, &l) == 0);
		check_tree(&t, &l);
		check_self_diff(&t, &l);

		o = (struct profile_load_opts){ .focus = &focus, .ignore = &ignore };
		ret = load("-", data, size, &o, &lt, &ll);
		FUZZ_CHECK(ret == 1 || ret == -ENOMEM);
		if (ret == 1) {
			FUZZ_CHECK(ll.total <= l.total);
			check_list(&lt, &ll);
			check_report(&lt, &ll, REPORT_JSON, false);
			FUZZ_CHECK(folded_write(dev_null(), &lt, &ll) == 0);
			check_tree(&lt, &ll);
		}
		stack_list_free(&ll);
	}
	stack_list_free(&l);
	frame_table_free(&t);
	frame_table_free(&lt);
	free(out_buf);
	out_buf = NULL;
	out_len = 0;
	return 0;
}
