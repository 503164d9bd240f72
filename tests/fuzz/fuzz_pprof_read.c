/* fuzz_pprof_read.c - pprof files of anyone (proto/pprof_read.h).
 *
 * Reads the input as a profile (gzipped when it starts with 1f 8b) with an
 * inflated-size cap of 8 MiB. Checks that the answer is 0, -EINVAL,
 * -E2BIG or -ENOMEM, that a refusal says why on one line, and that a model
 * read is whole: every index in range, every string readable.
 */
#include <errno.h>
#include <string.h>

#include "fuzz_util.h"
#include "pprof_read.h"

static void check_model(const struct pprof_model *m)
{
	for (size_t i = 0; i < m->ntypes; i++)
		(void)(strlen(m->types[i].type) + strlen(m->types[i].unit));
	FUZZ_CHECK(!m->ntypes || m->default_type < m->ntypes);
	for (size_t i = 0; i < m->nmappings; i++)
		(void)(strlen(m->mappings[i].file) + strlen(m->mappings[i].build_id));
	for (size_t i = 0; i < m->nfunctions; i++)
		(void)(strlen(m->functions[i].name) + strlen(m->functions[i].system_name) +
		       strlen(m->functions[i].file));
	for (size_t i = 0; i < m->nlocations; i++) {
		const struct pprof_model_location *l = &m->locations[i];

		FUZZ_CHECK(l->mapping == PPROF_NONE || l->mapping < m->nmappings);
		FUZZ_CHECK(l->first_line <= m->nlines && l->nlines <= m->nlines - l->first_line);
		for (uint32_t k = 0; k < l->nlines; k++)
			FUZZ_CHECK(m->lines[l->first_line + k].function < m->nfunctions);
	}
	for (size_t i = 0; i < m->nsamples; i++) {
		const struct pprof_model_sample *s = &m->samples[i];

		FUZZ_CHECK(s->first_location <= m->nstack &&
			   s->nlocations <= m->nstack - s->first_location);
		for (size_t k = 0; k < s->nlocations; k++)
			FUZZ_CHECK(m->stack[s->first_location + k] < m->nlocations);
		FUZZ_CHECK(s->first_label <= m->nlabels && s->nlabels <= m->nlabels - s->first_label);
		for (size_t k = 0; k < s->nlabels; k++) {
			const struct pprof_model_label *l = &m->labels[s->first_label + k];

			(void)(strlen(l->key) + strlen(l->num_unit) + (l->str ? strlen(l->str) : 0));
		}
		for (size_t k = 0; k < m->ntypes; k++)
			(void)s->values[k];
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pprof_model *m = NULL;
	char why[256];
	int err = pprof_read(data, size, (size_t)8 << 20, why, sizeof(why), &m);

	FUZZ_CHECK(err == 0 || err == -EINVAL || err == -E2BIG || err == -ENOMEM);
	if (err) {
		FUZZ_CHECK(!m && why[0] && !strchr(why, '\n'));
		return 0;
	}
	check_model(m);
	pprof_model_free(m);
	return 0;
}
