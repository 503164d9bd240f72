/* python_lines.h - CPython 3.11+ code locations: bytecode offset -> line.
 *
 * A Python frame is recorded (by the BPF walk) as its code object and the
 * offset of its current instruction; the line is in the code object's
 * location table (co_linetable, PEP 626/657, the format of CPython's
 * Objects/locations.md, the same in 3.11 to 3.14), read from the process
 * once per code object. The table is hostile input (any process's
 * memory): this takes a buffer and its length and never reads past it.
 *
 * The table is a run of entries, each covering the next 1 to 8 code units
 * (2 bytes each) of bytecode: a first byte with bit 7 set, a 4-bit code and
 * the length - 1, then the code's operands as 6-bit varints (bit 6: more
 * follows; signed ones keep the sign in bit 0): code 15, no line for that
 * range; 14, a line delta and end line, column, end column; 13, a line
 * delta only; 10 to 12, a delta of code - 10 and two column bytes; 0 to 9,
 * the same line and one column byte. The line starts at co_firstlineno.
 */
#ifndef BPFPROF_PYTHON_LINES_H
#define BPFPROF_PYTHON_LINES_H

#include <stddef.h>
#include <stdint.h>

/* The line of the instruction at byte offset `offset` of the code whose
 * table is table[0 .. len) and first line firstlineno, into *line: 0 (a
 * line; -1 when the table says the range has none), -ENOENT (the offset is
 * past what the table covers) or -EINVAL (the table is malformed). A
 * negative offset (a frame that has not started) is at firstlineno. */
int python_line_at(const uint8_t *table, size_t len, int64_t firstlineno, int64_t offset,
		   int64_t *line);

#endif
