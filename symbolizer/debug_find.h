/* debug_find.h - find the separate debug info (DWARF) of an object file.
 *
 * Distributions strip executables and libraries and ship their DWARF in
 * separate files. Given an object, a debug finder returns a descriptor of
 * a file that has its DWARF, looking in this order:
 *
 *  1. by build-id: <debug_root>/.build-id/xx/rest.debug, where xx is the
 *     first byte of the GNU build-id in hex and rest the others. For an
 *     object seen through another root (a container: root is
 *     "/proc/PID/root"), <root><debug_root>/... is tried first, then the
 *     host's <debug_root>/... (build-ids name contents, not places);
 *  2. by .gnu_debuglink: the name it holds, in the object's directory dir,
 *     in dir/.debug/, and in <debug_root>/dir/, all under root;
 *  3. from debuginfod servers, by build-id (libdebuginfod, which keeps
 *     downloads in $DEBUGINFOD_CACHE_PATH, else ~/.cache/debuginfod_client).
 *
 * A candidate is used only if it is a regular ELF file with a .debug_info
 * section and is the debug file of this very object: when the object has a
 * build-id, the candidate must have the same build-id (a file of another
 * build is never used, whatever its name or CRC says); without one, the
 * candidate's CRC32 must equal the one in .gnu_debuglink. Like libdwfl, the
 * CRC is not computed when build-ids can be compared: that would read the
 * whole debug file, and the build-id already identifies it. Unusable
 * candidates are skipped silently and the search goes on.
 *
 * debuginfod is asked only when URLs are configured, and only for objects
 * with a build-id. It must not slow the profiler down:
 *  - one lookup may take at most debuginfod_timeout_s (download included);
 *  - a build-id the servers do not have is not asked for again;
 *  - when the servers cannot be reached (refused, unresolvable, timed out,
 *    reset), one line says so on stderr, and the finder stops asking them
 *    for debuginfod_retry_s; failing again then says nothing more, and the
 *    line is printed again only after the servers had answered in between;
 *  - libdebuginfod's own progress and verbose output are turned off.
 * With no URLs, nothing of libdebuginfod is used and a lookup costs a few
 * failed open() calls.
 *
 * libdebuginfod reads its server list only from $DEBUGINFOD_URLS, so
 * debug_finder_new() sets it to the finder's URLs, once: make the finder
 * before starting other threads (setenv() races with getenv() anywhere);
 * the last finder made chooses the servers of all. Not thread-safe: use
 * one finder from one thread at a time.
 *
 * Candidates are opened with safe_open(): only regular files, and under a
 * process's root every path (symlinks and ".." included) is resolved
 * inside that root; a .gnu_debuglink that is not a plain file name is
 * ignored.
 *
 * Functions return 0, a descriptor, or a negative errno, libbpf style.
 */
#ifndef BPFPROF_SYM_DEBUG_FIND_H
#define BPFPROF_SYM_DEBUG_FIND_H

#include <libelf.h>
#include <stddef.h>
#include <stdint.h>

struct debug_finder;

struct debug_finder_opts {
	size_t sz;                      /* sizeof(struct debug_finder_opts) */
	const char *debug_root;         /* default "/usr/lib/debug" */
	const char *debuginfod_urls;    /* space-separated server URLs; NULL:
	                                   $DEBUGINFOD_URLS when debug_finder_new()
	                                   runs; "": no debuginfod */
	unsigned int debuginfod_timeout_s; /* per lookup; default 10 */
	unsigned int debuginfod_retry_s;   /* after the servers could not be
	                                      reached; default 60 */
};

/* Returns 0 and the finder in *out, -EINVAL for bad opts, -ENOMEM. */
int debug_finder_new(const struct debug_finder_opts *opts, struct debug_finder **out);
void debug_finder_free(struct debug_finder *f);

/* Finds the debug file of one object.
 *  elf       the object (its .gnu_debuglink is read); NULL: no debuglink
 *  build_id  its GNU build-id, build_id_len bytes; NULL or 0: none
 *  root      the root its path is under: "/proc/PID/root" for a process
 *            that may be in another mount namespace; NULL or "/": ours
 *  obj_path  the object's absolute path under root (as in /proc/PID/maps),
 *            whose directory the debuglink is looked up in; NULL: unknown
 *  found_path  if not NULL, set to a malloc'ed copy of the path the debug
 *            file was opened from (NULL when none, or out of memory)
 * Returns a descriptor (O_RDONLY | O_CLOEXEC, owned by the caller) of the
 * debug file, -ENOENT when there is none, -EINVAL for bad arguments or
 * -ENOMEM. Logs only the debuginfod line described above. */
int debug_finder_find(struct debug_finder *f, Elf *elf, const uint8_t *build_id,
		      size_t build_id_len, const char *root, const char *obj_path,
		      char **found_path);

#endif
