/* log_libs.h - the libraries' messages, into bpfprof's log.
 *
 * libbpf, the symbolizer and the pprof library each print through one
 * callback the program sets (libbpf_set_print() style); without one, libbpf
 * and the other two would write their own lines on stderr, outside
 * --log-format. log_route_libraries() sets all three, once, first thing in
 * main(), before any of them runs:
 *  - libbpf: only with -v (log_verbose()): its warnings as warnings, the
 *    rest as debug lines; "libbpf: " once at the start of each; a message
 *    over a line's cap (the verifier's log) in pieces of whole lines;
 *  - the symbolizer: its levels, "symbolizer: MSG";
 *  - pprof: errors (each says why a call failed), "pprof: MSG".
 *
 * The other libraries print nothing themselves: libdebuginfod's progress
 * and verbose output are turned off by the debug finder
 * (symbolizer/debug_find.c), libcurl is not verbose and hands its errors
 * back (profiler/upload/ingest.c), libelf, libdw, protobuf-c, zlib and libunwind
 * return errors. (When libdw's own allocator fails it exits with "bpfprof:
 * libdw: Cannot allocate memory", and a failed assert() in a library
 * aborts with its line: neither is a log line, both end the process.)
 */
#ifndef BPFPROF_LOG_LIBS_H
#define BPFPROF_LOG_LIBS_H

void log_route_libraries(void);

#endif
