/* folded_to_pprof.c - a test tool: collapsed stacks in, a pprof profile
 * out, so tests can make profiles with a known tree without sampling.
 *
 *   folded_to_pprof [--time UNIX_NS] IN.folded OUT.pb.gz
 *
 * Each line of IN is "root;caller;...;leaf COUNT" (Brendan Gregg's format).
 * A frame "name@file:line" gets that file and line; a frame ending in
 * "_[k]" is put in the kernel's mapping ([kernel.kallsyms]), others in one
 * mapping /usr/bin/app. A line "#labels key=value ..." labels the samples
 * of the lines after it (a value of digits is a number label). The profile
 * is bpfprof's CPU profile (samples/count, cpu/nanoseconds at 99 Hz).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprof.h"

#define MAX_FRAMES 512
#define MAX_LABELS 16

static int64_t location(struct pprof_builder *b, int64_t app, int64_t kernel, char *frame)
{
	struct pprof_line line = { .function = frame };
	size_t n = strlen(frame);
	char *at = strchr(frame, '@');
	int64_t mapping = app;
	static uint64_t next_address = 0x1000;

	if (n > 4 && !strcmp(frame + n - 4, "_[k]")) {
		frame[n - 4] = '\0';
		mapping = kernel;
	}
	if (at) {
		char *colon = strrchr(at, ':');

		*at = '\0';
		line.filename = at + 1;
		if (colon) {
			*colon = '\0';
			line.line = atol(colon + 1);
		}
	}
	/* One address per distinct line: the builder merges locations by
	 * address, so two frames must never share one. */
	return pprof_add_location(b, (uint64_t)mapping, next_address++, &line, 1);
}

int main(int argc, char **argv)
{
	struct pprof_profile_info info = { .period_ns = 1000000000 / 99 };
	struct pprof_mapping_info app = { .start = 0x1000, .limit = 1ull << 40,
					  .filename = "/usr/bin/app", .has_functions = true };
	struct pprof_mapping_info kmap = { .start = 1ull << 40, .limit = 1ull << 41,
					   .filename = "[kernel.kallsyms]", .has_functions = true };
	struct pprof_label labels[MAX_LABELS];
	char label_text[MAX_LABELS][256];
	size_t nlabels = 0, lineno = 0;
	struct pprof_builder *b;
	char buf[1 << 16];
	uint8_t *out;
	size_t out_len;
	FILE *in, *f;
	int arg = 1;

	if (argc == 5 && !strcmp(argv[1], "--time")) {
		info.time_nanos = atoll(argv[2]);
		arg = 3;
	}
	if (argc - arg != 2) {
		fprintf(stderr, "usage: folded_to_pprof [--time UNIX_NS] IN.folded OUT.pb.gz\n");
		return 2;
	}
	info.duration_nanos = 10000000000;
	if (!(in = fopen(argv[arg], "r")) || pprof_builder_new(&info, &b)) {
		perror(argv[arg]);
		return 1;
	}
	int64_t app_id = pprof_add_mapping(b, &app), kernel_id = pprof_add_mapping(b, &kmap);

	while (fgets(buf, sizeof(buf), in)) {
		uint64_t ids[MAX_FRAMES];
		char *frames[MAX_FRAMES], *space, *save = NULL, *tok;
		size_t n = 0;

		lineno++;
		buf[strcspn(buf, "\n")] = '\0';
		if (!strncmp(buf, "#labels", 7)) {
			nlabels = 0;
			for (tok = strtok_r(buf + 7, " ", &save); tok && nlabels < MAX_LABELS;
			     tok = strtok_r(NULL, " ", &save)) {
				char *eq = strchr(tok, '=');

				if (!eq)
					continue;
				snprintf(label_text[nlabels], sizeof(label_text[0]), "%s", tok);
				label_text[nlabels][eq - tok] = '\0';
				labels[nlabels].key = label_text[nlabels];
				labels[nlabels].str = NULL;
				labels[nlabels].num = 0;
				if (strspn(eq + 1, "0123456789") == strlen(eq + 1) && eq[1])
					labels[nlabels].num = atoll(eq + 1);
				else
					labels[nlabels].str = label_text[nlabels] + (eq + 1 - tok);
				nlabels++;
			}
			continue;
		}
		if (!buf[0] || buf[0] == '#')
			continue;
		if (!(space = strrchr(buf, ' '))) {
			fprintf(stderr, "%s:%zu: no count\n", argv[arg], lineno);
			return 1;
		}
		*space = '\0';
		for (tok = strtok_r(buf, ";", &save); tok && n < MAX_FRAMES; tok = strtok_r(NULL, ";", &save))
			frames[n++] = tok;
		for (size_t i = 0; i < n; i++) { /* leaf first */
			int64_t id = location(b, app_id, kernel_id, frames[n - 1 - i]);

			if (id < 0)
				return 1;
			ids[i] = (uint64_t)id;
		}
		if (pprof_add_sample(b, ids, n, atoll(space + 1), labels, nlabels) < 0)
			return 1;
	}
	fclose(in);
	if (pprof_builder_encode_gz(b, NULL, &out, &out_len, NULL) || !(f = fopen(argv[arg + 1], "w")) ||
	    fwrite(out, 1, out_len, f) != out_len || fclose(f)) {
		perror(argv[arg + 1]);
		return 1;
	}
	free(out);
	pprof_builder_free(b);
	return 0;
}
