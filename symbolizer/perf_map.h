/* perf_map.h - JIT symbols from /tmp/perf-PID.map files.
 *
 * JIT runtimes (node --perf-basic-prof, Java's perf-map-agent, Python 3.12+
 * with -X perf) write one line per generated function:
 *     START SIZE NAME
 * START and SIZE in hex (with or without 0x), NAME the rest of the line
 * (it may contain spaces). The ranges cover anonymous executable mappings
 * that have no ELF file. When code is regenerated at the same address, the
 * later line wins.
 *
 * The parser takes a buffer and its length, so it can be fuzzed; a
 * malformed line is skipped (and counted), never fatal. A map keeps at most
 * PERF_MAP_MAX_ENTRIES functions (the lines past it are skipped and
 * counted) in 16 bytes each plus the names: a hostile map of tiny lines
 * costs no more than its own size.
 */
#ifndef BPFPROF_SYM_PERF_MAP_H
#define BPFPROF_SYM_PERF_MAP_H

#include <stddef.h>
#include <stdint.h>

struct perf_map;

/* About 8 times what a large node service writes with --perf-basic-prof
 * (V8 generates code for ~100,000 functions), and 16 MiB of entries. */
#define PERF_MAP_MAX_ENTRIES (1u << 20)

/* Parses the text of a perf map. *skipped (may be NULL) gets the number of
 * malformed lines and lines over the cap. Returns 0, -EFBIG (len of 4 GiB
 * or more) or -ENOMEM. */
int perf_map_parse(const char *buf, size_t len, struct perf_map **out,
		   size_t *skipped);
void perf_map_free(struct perf_map *m);

/* The name of the function containing addr, or NULL. */
const char *perf_map_lookup(const struct perf_map *m, uint64_t addr);

/* Bytes held, for the symbolizer's memory accounting. */
size_t perf_map_memory(const struct perf_map *m);

#endif
