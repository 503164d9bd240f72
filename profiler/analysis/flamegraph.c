/* flamegraph.c - see flamegraph.h. */
#include "flamegraph.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "text_out.h"

/* The page, compiled in from flamegraph_page.html (analysis/CMakeLists). */
extern const char flamegraph_page[];
extern const size_t flamegraph_page_len;

#define DATA_MARK "/*@BPFPROF_DATA@*/null"
#define TITLE_MARK "@BPFPROF_TITLE@"

struct drawn {
	uint32_t node, depth;
};

/* The nodes drawn, in preorder (children by name), and per frame id the
 * index of its name in the page's tables (UINT32_MAX: not drawn). */
struct layout {
	struct drawn *nodes;
	size_t n;
	uint32_t *frame_index, *frames; /* frames: frame ids by index */
	size_t nframes;
};

static void layout_free(struct layout *l)
{
	free(l->nodes);
	free(l->frame_index);
	free(l->frames);
}

static int lay_out(const struct call_tree *t, const struct frame_table *f, int64_t min_value,
		   struct layout *l)
{
	size_t nf = f->nframes ? f->nframes : 1;
	uint32_t *first, *order, *todo, *depth;
	size_t ntodo = 0;
	int ret = call_tree_children(t, f, &first, &order);

	*l = (struct layout){ 0 };
	if (ret)
		return ret;
	l->nodes = malloc(t->nnodes * sizeof(*l->nodes));
	l->frame_index = malloc(nf * sizeof(*l->frame_index));
	l->frames = malloc(nf * sizeof(*l->frames));
	todo = malloc(t->nnodes * sizeof(*todo));
	depth = malloc(t->nnodes * sizeof(*depth));
	if (!l->nodes || !l->frame_index || !l->frames || !todo || !depth) {
		ret = -ENOMEM;
		goto out;
	}
	memset(l->frame_index, 0xff, nf * sizeof(*l->frame_index));
	/* A parent is made before its children: ids grow down every path. */
	depth[CALL_TREE_ROOT] = 0;
	for (size_t i = 1; i < t->nnodes; i++)
		depth[i] = depth[t->nodes[i].parent] + 1;
	todo[ntodo++] = CALL_TREE_ROOT;
	while (ntodo) {
		uint32_t node = todo[--ntodo];
		const struct call_node *n = &t->nodes[node];

		if (node != CALL_TREE_ROOT && n->value < min_value)
			continue;
		l->nodes[l->n++] = (struct drawn){ node, depth[node] };
		if (node != CALL_TREE_ROOT && l->frame_index[n->frame] == UINT32_MAX) {
			l->frame_index[n->frame] = (uint32_t)l->nframes;
			l->frames[l->nframes++] = n->frame;
		}
		/* Pushed in reverse so the first by name comes out first. */
		for (uint32_t c = first[node + 1]; c > first[node]; c--)
			todo[ntodo++] = order[c - 1];
	}
out:
	free(first);
	free(order);
	free(todo);
	free(depth);
	if (ret)
		layout_free(l);
	return ret;
}

static void write_html_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*s, out);
		}
	}
}

/* The JSON the page reads (flamegraph_page.html says what each field is).
 * Names and files share one index: entry i is frame l->frames[i] (files
 * are shifted by one: files[0] is "no file"). */
static void write_data(FILE *out, const struct frame_table *f, const struct call_tree *t,
		       const struct layout *l, const struct flamegraph_opts *o)
{
	char label[4096];

	fputs("{\"title\":", out);
	json_write_string(out, o->title);
	fputs(",\"sample_type\":", out);
	json_write_string(out, o->type);
	fputs(",\"unit\":", out);
	json_write_string(out, o->unit);
	fprintf(out, ",\"total\":%" PRId64 ",\"diff\":%s,\n\"names\":[\"all\"", t->nodes[0].value,
		t->diff ? "true" : "false");
	for (size_t i = 0; i < l->nframes; i++) {
		fputc(',', out);
		json_write_string(out, f->frames[l->frames[i]].name);
	}
	fputs("],\n\"files\":[\"\"", out);
	for (size_t i = 0; i < l->nframes; i++) {
		const struct frame *fr = &f->frames[l->frames[i]];

		if (fr->line)
			snprintf(label, sizeof(label), "%s:%" PRId64, fr->file, fr->line);
		else
			snprintf(label, sizeof(label), "%s", fr->file);
		fputc(',', out);
		json_write_string(out, label);
	}
	fputs("],\n\"kinds\":[\"root\"", out);
	for (int k = 0; k < FRAME_KINDS; k++)
		fprintf(out, ",\"%s\"", frame_kind_names[k]);
	fputs("],\n\"nodes\":{\"depth\":[", out);
	for (size_t i = 0; i < l->n; i++)
		fprintf(out, i ? ",%u" : "%u", l->nodes[i].depth);
	fputs("],\n\"name\":[", out);
	for (size_t i = 0; i < l->n; i++) {
		const struct call_node *n = &t->nodes[l->nodes[i].node];

		fprintf(out, i ? ",%u" : "%u", i ? l->frame_index[n->frame] + 1 : 0);
	}
	fputs("],\n\"file\":[", out);
	for (size_t i = 0; i < l->n; i++) {
		const struct call_node *n = &t->nodes[l->nodes[i].node];
		uint32_t file = i && f->frames[n->frame].file[0] ? l->frame_index[n->frame] + 1 : 0;

		fprintf(out, i ? ",%u" : "%u", file);
	}
	fputs("],\n\"kind\":[", out);
	for (size_t i = 0; i < l->n; i++) {
		const struct call_node *n = &t->nodes[l->nodes[i].node];

		fprintf(out, i ? ",%d" : "%d", i ? (int)f->frames[n->frame].kind + 1 : 0);
	}
	fputs("],\n\"value\":[", out);
	for (size_t i = 0; i < l->n; i++)
		fprintf(out, i ? ",%" PRId64 : "%" PRId64, t->nodes[l->nodes[i].node].value);
	if (t->diff) {
		fputs("],\n\"base\":[", out);
		for (size_t i = 0; i < l->n; i++)
			fprintf(out, i ? ",%.0f" : "%.0f", t->nodes[l->nodes[i].node].base);
	}
	fputs("]}}", out);
}

static int by_value_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x > y ? -1 : x < y;
}

/* The value a node needs to be drawn: 0, or above the max-th widest. */
static int min_value(const struct call_tree *t, size_t max, int64_t *out)
{
	int64_t *v;

	*out = 0;
	if (t->nnodes <= max)
		return 0;
	if (!(v = malloc(t->nnodes * sizeof(*v))))
		return -ENOMEM;
	for (size_t i = 0; i < t->nnodes; i++)
		v[i] = t->nodes[i].value;
	qsort(v, t->nnodes, sizeof(*v), by_value_desc);
	*out = v[max - 1] + 1; /* ties at the cut all go: at most max stay */
	free(v);
	return 0;
}

int flamegraph_write(FILE *out, const struct frame_table *f, const struct call_tree *t,
		     const struct flamegraph_opts *o)
{
	const char *page = flamegraph_page, *end = page + flamegraph_page_len;
	const char *title = strstr(page, TITLE_MARK), *data = strstr(page, DATA_MARK);
	struct layout l;
	int64_t least;
	int ret;

	if (!title || !data || title > data)
		return -EINVAL; /* a page without its marks is a build error */
	ret = min_value(t, o->max_nodes ? o->max_nodes : FLAMEGRAPH_MAX_NODES, &least);
	if (!ret)
		ret = lay_out(t, f, least, &l);
	if (ret)
		return ret;
	fwrite(page, 1, (size_t)(title - page), out);
	write_html_escaped(out, o->title);
	page = title + strlen(TITLE_MARK);
	fwrite(page, 1, (size_t)(data - page), out);
	write_data(out, f, t, &l, o);
	page = data + strlen(DATA_MARK);
	fwrite(page, 1, (size_t)(end - page), out);
	layout_free(&l);
	return fflush(out) || ferror(out) ? -EIO : 0;
}
