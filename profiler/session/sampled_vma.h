/* sampled_vma.h - the BPF side's file mapping of a sample (struct
 * bpfprof_vma, profile.h) as the symbolizer takes it (struct sym_vma).
 *
 * The kernel gives the device as its internal dev_t, major << 20 | minor;
 * /proc/PID/maps, which the symbolizer reads, prints major:minor.
 */
#ifndef BPFPROF_SAMPLED_VMA_H
#define BPFPROF_SAMPLED_VMA_H

#include "profile.h"
#include "symbolizer.h"

static inline struct sym_vma sampled_vma(const struct bpfprof_vma *v)
{
	return (struct sym_vma){
		.start = v->start,
		.end = v->end,
		.base = v->base,
		.ino = v->ino,
		.dev_major = v->dev >> 20,
		.dev_minor = v->dev & 0xfffff,
	};
}

#endif
