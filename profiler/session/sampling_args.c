/* sampling_args.c - see sampling_args.h. */
#include "sampling_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "log.h"

#define DEFAULT_FREQ_HZ 99
#define MAX_FREQ_HZ 10000
#define DEFAULT_CACHE_MB 256
#define MAX_CACHE_MB (1024 * 1024)
#define DEFAULT_SNAPSHOT_KB 16
#define MIN_MAP_ENTRIES 16
#define MAX_KEYS (1 << 22)
#define MAX_STACKS (1 << 20)

void sampling_args_init(struct sampling_args *a)
{
	*a = (struct sampling_args){
		.freq_hz = DEFAULT_FREQ_HZ,
		.unwind = UNWIND_AUTO,
		.snapshot_kb = DEFAULT_SNAPSHOT_KB,
		.cache_mb = DEFAULT_CACHE_MB,
		.file_mode = ARGS_DEFAULT_FILE_MODE,
	};
}

int sampling_args_parse(struct sampling_args *a, int opt, const char *arg,
			const char *text, const char *cmd)
{
	long v;

	switch (opt) {
	case 'F':
		if (args_number(arg, 1, MAX_FREQ_HZ, &v))
			return usage_error(cmd, "invalid frequency '%s' (1 to 10000 Hz)", arg);
		a->freq_hz = (int)v;
		return 0;
	case 'I':
		a->include_idle = true;
		return 0;
	case 'U':
		if (!strcmp(arg, "fp"))
			a->unwind = UNWIND_FP;
		else if (!strcmp(arg, "dwarf"))
			a->unwind = UNWIND_DWARF;
		else if (!strcmp(arg, "auto"))
			a->unwind = UNWIND_AUTO;
		else
			return usage_error(cmd, "invalid unwind mode '%s' (fp, dwarf or auto)", arg);
		return 0;
	case 'S':
		if (args_number(arg, 4, 16, &v) || v % 4)
			return usage_error(cmd, "invalid snapshot size '%s' (4, 8, 12 or 16 KB)", arg);
		a->snapshot_kb = (uint32_t)v;
		return 0;
	case 'D':
		a->debuginfod_urls = arg;
		return 0;
	case 'C':
		if (args_number(arg, 1, MAX_CACHE_MB, &v))
			return usage_error(cmd, "invalid cache size '%s' (1 to 1048576 MB)", arg);
		a->cache_mb = (size_t)v;
		return 0;
	case 'W':
		if (args_file_mode(arg, &a->file_mode))
			return usage_error(cmd, ARGS_FILE_MODE_ERROR, arg);
		return 0;
	case 'K':
		if (args_number(arg, MIN_MAP_ENTRIES, MAX_KEYS, &v))
			return usage_error(cmd, "invalid key count '%s' (16 to 4194304)", arg);
		a->max_keys = (uint32_t)v;
		return 0;
	case 'Y':
		if (args_number(arg, MIN_MAP_ENTRIES, MAX_STACKS, &v))
			return usage_error(cmd, "invalid stack count '%s' (16 to 1048576)", arg);
		a->max_stacks = (uint32_t)v;
		return 0;
	case 'v':
		log_set_verbose(true);
		return 0;
	case 'G':
		return args_log_format(cmd, arg);
	default:
		return args_unhandled(cmd, opt, text);
	}
}

void sampling_args_usage(FILE *f)
{
	fprintf(f,
"  -F, --frequency HZ    samples per second on each CPU (default %d, max %d)\n"
"      --unwind MODE     how user stacks are walked: 'dwarf' copies registers\n"
"                        and the stack's top and unwinds it with the binaries'\n"
"                        CFI (right without frame pointers, like most of\n"
"                        Debian); 'fp' follows frame pointers in the kernel\n"
"                        (cheaper; wrong for code built without them);\n"
"                        'auto' (default) is dwarf, falling back to frame\n"
"                        pointers for samples that find the ring buffer full\n"
"      --snapshot-kb KB  user stack copied per sample in dwarf mode: 4, 8, 12\n"
"                        or 16 (default); deeper stacks end in [truncated]\n"
"      --include-idle    also sample the idle task (pid 0), left out by default\n"
"      --debuginfod URLS fetch missing debug info from these debuginfod servers\n"
"                        (space-separated; default $DEBUGINFOD_URLS; '' for\n"
"                        none). Local debug files (/usr/lib/debug, by build-id\n"
"                        or .gnu_debuglink) are always used\n"
"      --symbolizer-cache-mb MB\n"
"                        cap on all the symbolizer holds: symbol tables, debug\n"
"                        info and unwind tables of objects, JIT maps (default\n"
"                        %d). Unused objects go first; when objects in use\n"
"                        fill it, new ones are not parsed (counted)\n"
"      --max-keys N      distinct (process, thread, stacks) samples the kernel\n"
"                        keeps per interval (default %d); more are dropped\n"
"                        and counted\n"
"      --max-stacks N    distinct stacks kept per interval, in the kernel's\n"
"                        stack map (default %d) and unwound from snapshots\n"
"                        (default %d); more are dropped and counted\n"
"      --log-format FMT  'text' (default): 'bpfprof: warning: ...' lines;\n"
"                        'json': one object per line with time, level, msg\n"
"      --file-mode MODE  permissions of the profiles written (octal): %04o,\n"
"                        only their owner (root) reads them (default); 0640\n"
"                        the file's group too; 0644 everyone. Profiles name\n"
"                        every user's processes. Directories created for them\n"
"                        get x where r is set (0700, 0750, 0755); an existing\n"
"                        one is not changed\n"
"  -v, --verbose         debug logging, including libbpf's\n",
		DEFAULT_FREQ_HZ, MAX_FREQ_HZ, DEFAULT_CACHE_MB, BPFPROF_MAX_COUNTS,
		BPFPROF_MAX_STACKS, COLLECTOR_DEFAULT_MAX_STACKS, ARGS_DEFAULT_FILE_MODE);
}

void sampling_args_apply(const struct sampling_args *a, struct sampler_opts *sopts,
			 struct collector_opts *copts)
{
	sopts->freq_hz = a->freq_hz;
	sopts->include_idle = a->include_idle;
	sopts->unwind = a->unwind;
	sopts->snapshot_bytes = a->snapshot_kb * 1024;
	sopts->max_keys = a->max_keys;
	sopts->max_stacks = a->max_stacks;
	copts->max_stacks = a->max_stacks;
	copts->debuginfod_urls = a->debuginfod_urls;
	copts->cache_bytes = a->cache_mb << 20;
	copts->unwind = a->unwind != UNWIND_FP;
}
