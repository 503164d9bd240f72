/* symbolizer.h - turn sampled addresses into mappings and function names.
 *
 * The symbolizer knows nothing about BPF or pprof: it takes a pid and an
 * address and answers with the mapping the address falls in and the
 * function(s) at that address.
 *
 * Design:
 *  - Work is per object, not per process. An object file (executable or
 *    shared library) is parsed once: its GNU build-id, its PT_LOAD segments,
 *    a sorted symbol table (.symtab, else .dynsym) and, when the file has
 *    DWARF, an index of its line tables and inline trees (dwarf_index.h).
 *    Objects are shared by every process that maps them (keyed by device +
 *    inode).
 *  - A process only holds its list of executable mappings, snapshotted from
 *    /proc/PID/maps by symbolizer_track_process() while the process is alive.
 *    Objects are opened through /proc/PID/map_files/ so deleted files and
 *    other mount namespaces work (that needs root; otherwise through
 *    /proc/PID/root/<path>, then <path>, each checked against the inode in
 *    the maps). A process that exits after being tracked is still
 *    symbolized.
 *  - An address is translated to an ELF virtual address through the mapping's
 *    file offset and the PT_LOAD segment containing that offset, which is
 *    correct for PIE and non-PIE executables and shared libraries alike.
 *  - With DWARF, an address gives the chain of inlined functions at it,
 *    innermost first, each with file:line (pprof's Location.line order, as
 *    llvm-symbolizer --inlining prints it). The out-of-line function keeps
 *    its ELF symbol name when there is one; inlined ones are named by the
 *    DWARF. Without DWARF: one frame, the ELF symbol, no file:line.
 *  - Kernel addresses come from /proc/kallsyms (module symbols included),
 *    reported in one mapping named "[kernel.kallsyms]".
 *
 * Functions return 0 or a negative errno, libbpf style, and log through
 * symbolizer_set_print()'s callback, never to stderr on their own when one
 * is set. Everything handed
 * out for a process (struct sym_mapping pointers, paths, build-ids, names)
 * is owned by the symbolizer and stays valid, across refreshes of the
 * process and after it exits, until the process is forgotten
 * (symbolizer_forget_process/_exited) or the symbolizer is freed.
 *
 * Memory is bounded: per-process state lives until the process is
 * forgotten, and parsed objects no tracked process uses are kept in an LRU
 * cache under opts.cache_bytes (default 256 MiB). Objects that tracked
 * processes still use are never freed, so a workload that needs more than
 * the cap keeps the cache over it: symbolizer_get_stats() shows it.
 *
 * Not thread-safe: use one struct symbolizer from one thread at a time.
 */
#ifndef BPFPROF_SYMBOLIZER_H
#define BPFPROF_SYMBOLIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct symbolizer;

/* Every message of the symbolizer goes to one function, like libbpf's:
 * set it before symbolizer_new(); NULL (the default) prints them on
 * stderr as "symbolizer: MSG". Messages are one line, without newline. */
enum sym_log_level { SYM_LOG_WARN, SYM_LOG_INFO, SYM_LOG_DEBUG };
typedef void (*symbolizer_print_fn)(enum sym_log_level level, const char *msg);
void symbolizer_set_print(symbolizer_print_fn fn);

struct symbolizer_opts {
	size_t sz;                 /* sizeof(struct symbolizer_opts) */
	const char *proc_dir;      /* default "/proc" */
	const char *kallsyms_path; /* default "<proc_dir>/kallsyms", i.e.
	                              "/proc/kallsyms"; the kernel build-id is
	                              read from /sys/kernel/notes only when
	                              this is left to the default */
	const char *debug_root;      /* separate debug files; default
	                                "/usr/lib/debug" */
	const char *debuginfod_urls; /* NULL: $DEBUGINFOD_URLS; "": none */
	size_t cache_bytes;          /* cap on cached objects; 0: default */
	int unwind_tables;           /* build CFI tables: symbolizer_unwind() */
	int no_libunwind;            /* never finish a stack with libunwind
	                                where our unwinder stops (see
	                                symbolizer_unwind) */
};

#define SYMBOLIZER_DEFAULT_CACHE_BYTES ((size_t)256 << 20)

struct symbolizer_stats {
	size_t sz;                /* sizeof(struct symbolizer_stats) */
	uint64_t cache_bytes;     /* held by parsed objects */
	uint64_t cache_cap_bytes; /* their cap */
	uint64_t objects;         /* objects cached (used or not) */
	uint64_t object_hits;     /* mappings whose object was cached */
	uint64_t object_misses;   /* mappings whose object had to be parsed */
	uint64_t build_id_hits;   /* files not parsed: same build-id as a cached one */
	uint64_t evictions;       /* unused objects freed to stay under the cap */
	uint64_t processes;       /* processes tracked */
	uint64_t files_refused;   /* objects over a cap of elf_limits.h, or not opened
	                             (a user's FUSE daemon may serve them): no symbols */
	uint64_t objects_over_budget; /* mappings left without symbols: the cache
	                             was full of objects in use */
	uint64_t perf_maps_refused; /* JIT maps not read: another owner, a link,
	                               not a regular file, too big, cache full */
	uint64_t unwind_libunwind_completed; /* stacks our unwinder stopped on
	                               (a CFI rule it does not follow) that
	                               libunwind completed */
	uint64_t unwind_libunwind_bytes; /* held for it: objects' .eh_frame */
	uint64_t frames_remapped; /* frames named with a file mapped where another
	                             is now (dlclose, then dlopen): see
	                             struct sym_vma */
	uint64_t frames_stale;    /* frames left as an address: the file the
	                             sample saw there was never read, or is gone */
};

/* One mapped object as the process (or kernel) had it: a pprof Mapping.
 * Only executable mappings are tracked; anonymous ones (JIT code) have path
 * "", special ones keep their name ("[vdso]", "[vsyscall]"); both have no
 * functions, except the [vdso] when it can be read from <proc>/PID/mem. */
struct sym_mapping {
	uint64_t start;       /* first address */
	uint64_t limit;       /* one past the last address */
	uint64_t file_offset; /* file offset that start maps */
	const char *path;     /* from /proc/PID/maps, " (deleted)" stripped;
	                         "[kernel.kallsyms]" for the kernel */
	const char *build_id; /* GNU build-id in lowercase hex, "" if none */
	int has_functions;    /* the object has a symbol table or DWARF functions */
	int has_filenames;    /* DWARF line tables: frames get source files */
	int has_line_numbers; /* ... and lines */
	int has_inline_frames;/* DWARF functions indexed: inline chains complete */
};

/* One function at an address: an inlined one, or the out-of-line one (the
 * last frame of a location). */
struct sym_frame {
	const char *function; /* never NULL in a returned location; "??" for
	                         a DWARF function without a name */
	const char *file;     /* source file (as the DWARF names it, usually
	                         absolute), NULL when unknown */
	int line;             /* source line, 0 when unknown: of the address
	                         for frames[0], of the call site for the rest */
	int start_line;       /* DW_AT_decl_line of the function, 0 if unknown */
	const char *system_name; /* pprof's system name when it differs from
	                         function (interpreter frames); else NULL */
};

#define SYM_MAX_FRAMES 8

struct object; /* an object file of the symbolizer's cache: opaque here */

/* The answer for one address. */
struct sym_location {
	const struct sym_mapping *mapping; /* NULL: in no known mapping */
	/* Set by symbolizer_locate() when an object's symbols name the
	 * address: which object, and the address in its ELF file. */
	const struct object *object;
	uint64_t vaddr;
	int nframes;                       /* 0: no function found */
	struct sym_frame frames[SYM_MAX_FRAMES]; /* innermost first; a deeper
	                         inline chain keeps its innermost frames and
	                         the out-of-line function */
};

int symbolizer_new(const struct symbolizer_opts *opts, struct symbolizer **out);
void symbolizer_free(struct symbolizer *s);

/* Snapshot the executable mappings of pid and load the symbols of their
 * objects now, while the process is alive. Calling it again for a known pid
 * refreshes the snapshot (after exec or dlopen); unchanged mappings are
 * kept as they are, so a refresh is cheap. Returns -ESRCH, without logging,
 * when the process is gone; a known process then keeps its last snapshot.
 * Files that cannot be opened are logged once each, and their mappings
 * have no functions. */
int symbolizer_track_process(struct symbolizer *s, pid_t pid);

/* Resolve a user-space address of pid (tracking the process first if it is
 * not yet known). An address outside every mapping or object yields
 * out->mapping == NULL or out->nframes == 0 with return 0: not an error.
 * Returns -ESRCH (out empty) for a pid that was never tracked and is gone. */
int symbolizer_resolve_user(struct symbolizer *s, pid_t pid, uint64_t addr,
			    struct sym_location *out);

/* The same for the process pid named when it had started at start_time
 * (ns since boot: the task's start_boottime, what BPF reads; 0: whichever
 * has the pid now). A pid reused since by another process still resolves
 * with the mappings of the one that was sampled, for one more generation
 * (symbolizer_forget_exited); an incarnation not known gives no mapping. */
int symbolizer_resolve_user_at(struct symbolizer *s, pid_t pid, uint64_t start_time,
			       uint64_t addr, struct sym_location *out);

/* The file mapping (a vma) a sample's user pc was in, as the kernel had it
 * when it was taken. An address in [start, end) is then named only with a
 * mapping of that file at that place: the current one, or one a refresh
 * retired since (a library dlclosed, another mapped at the same address),
 * or none at all (counted in frames_stale) rather than another file's
 * symbols. The device is compared only when it is the mapping's in
 * /proc/PID/maps: on overlayfs the kernel's file is the layer's, not the
 * one /proc shows, and such a mapping is taken as it is. ino 0: not known. */
struct sym_vma {
	uint64_t start, end;
	uint64_t base;        /* start minus the file offset of start */
	uint64_t ino;
	uint32_t dev_major, dev_minor;
};

/* The process ran code in the file mapping *v: tracks it again
 * (symbolizer_track_process) unless its snapshot has that mapping. */
int symbolizer_track_mapping(struct symbolizer *s, pid_t pid, const struct sym_vma *v);

/* symbolizer_resolve_user_at() for an address of a sample whose user pc
 * was in *leaf (NULL: unknown). */
int symbolizer_resolve_user_sampled(struct symbolizer *s, pid_t pid, uint64_t start_time,
				    const struct sym_vma *leaf, uint64_t addr,
				    struct sym_location *out);

/* The first half of symbolizer_resolve_user_sampled(), for callers that
 * name an object's address once for all the processes that map it: finds
 * the mapping (out->mapping) and, when the address is in an object's code,
 * sets out->object and out->vaddr and no frames; otherwise out is the whole
 * answer (JIT code named from its perf map, or no function). mapping: the
 * one symbolizer_unwind() found the address in (NULL: look it up); taken
 * as it is but for anonymous code and a leaf's file it is not. */
int symbolizer_locate(struct symbolizer *s, pid_t pid, uint64_t start_time,
		      const struct sym_vma *leaf, const struct sym_mapping *mapping,
		      uint64_t addr, struct sym_location *out);

/* The second half: the frames of out->object at out->vaddr, the same for
 * every process (out->mapping is left as it is). */
void symbolizer_resolve_object(struct sym_location *out);

/* Frees what is kept for pid: its mappings (pointers handed out for them
 * become invalid) and its JIT map; its objects stay cached while room.
 * -ESRCH when pid is not tracked. */
int symbolizer_forget_process(struct symbolizer *s, pid_t pid);

/* Forgets every tracked process that has exited; returns how many. Call
 * it once the addresses of those processes are no longer needed (after a
 * profile is written). Their state is freed at the next call: mappings
 * symbolizer_unwind() gave out for them (a stack table of the interval
 * under way keeps them) stay valid until then. */
int symbolizer_forget_exited(struct symbolizer *s);

/* For the readers of interpreter state (interpreter/): opens the file of
 * pid's mapping e (a line of its /proc/PID/maps, proc_maps.h) as objects
 * are opened (map_files, the inode checked, never a file a user's FUSE
 * daemon serves): a read-only descriptor the caller closes, or -errno. */
struct proc_maps_entry;
int symbolizer_open_mapping(struct symbolizer *s, pid_t pid, const struct proc_maps_entry *e);

/* Memory held for processes elsewhere (interpreter code objects), counted
 * against the cache's cap like JIT maps: charge returns false, charging
 * nothing, when the cap is reached even after evicting unused objects. */
bool symbolizer_charge(struct symbolizer *s, size_t bytes);
void symbolizer_uncharge(struct symbolizer *s, size_t bytes);

/* Sizes and counters of the caches. out->sz must be set. */
int symbolizer_get_stats(const struct symbolizer *s, struct symbolizer_stats *out);

/* A user stack as a sample captured it (x86-64): registers, and a copy of
 * the stack's top whose first byte is at user address base. */
struct sym_stack_snapshot {
	uint64_t ip, sp, bp;
	uint64_t base;
	const uint8_t *data;
	size_t len;
	uint64_t start_time;  /* of the process, as symbolizer_resolve_user_at() */
};

enum sym_unwind_result {
	SYM_UNWIND_COMPLETE,  /* down to the outermost frame (_start, clone3) */
	SYM_UNWIND_TRUNCATED, /* the stack goes on past the snapshot (or max) */
	SYM_UNWIND_STOPPED,   /* no unwind rule for a frame (JIT code without
	                         frame pointers, an unsupported CFI rule) */
};

/* Unwinds a snapshot of pid's stack with the CFI of its objects (needs
 * opts.unwind_tables and the process tracked): pcs[0] = ip, then return
 * addresses, innermost first; *depth of them (<= max). exact (NULL: not
 * wanted) gets for each pc whether it is not a return address: ip, and
 * the pc a signal interrupted (the caller of a signal frame), which must
 * not be moved back into a call instruction. maps (NULL: not wanted;
 * needs exact) gets each pc's mapping (that of the call site for a return
 * address; NULL: in none), as found for its CFI: symbolizer_locate()
 * names the pc with it without looking the process up again, while the
 * mappings live: until the second symbolizer_forget_exited() after this
 * call (or symbolizer_forget_process()). Where our unwinder
 * meets a CFI rule it does not follow (a CFA from another register, as in
 * ld.so's _dl_runtime_resolve), libunwind unwinds the snapshot again, and
 * its stack is taken when it is complete and starts with ours (counted in
 * unwind_libunwind_completed; off with opts.no_libunwind). Returns 0, or
 * -ESRCH when pid is not tracked. */
int symbolizer_unwind(struct symbolizer *s, pid_t pid,
		      const struct sym_stack_snapshot *snap, uint64_t *pcs, bool *exact,
		      const struct sym_mapping **maps, size_t max, size_t *depth,
		      enum sym_unwind_result *result);

/* Resolve a kernel address through /proc/kallsyms (loaded on first use).
 * Every kernel address gets the one "[kernel.kallsyms]" mapping; nframes is
 * 0 past the end of kernel text or more than 1 MiB from any symbol. When
 * kallsyms cannot be read, or its addresses are hidden (-EPERM: not root,
 * kernel.kptr_restrict), that is logged once and the error is returned for
 * every address, with out empty. */
int symbolizer_resolve_kernel(struct symbolizer *s, uint64_t addr,
			      struct sym_location *out);

/* Loads kallsyms now rather than at the first kernel address (a few
 * hundred ms: a daemon does it at start, not in its first interval).
 * Returns what symbolizer_resolve_kernel() would: 0 or the error. */
int symbolizer_load_kernel(struct symbolizer *s);

#endif
