# unit.test_log  profiler/cli/log.c, the one log channel: JSON lines valid
#                whatever the message holds, text lines, errno kept; the
#                table of repeated lines on a hand-set clock (burst,
#                summary, levels, eviction, flush, long texts); threads
#                and fork() through log_msg(). Included by
#                tests/CMakeLists.txt.
bpfprof_unit_test(test_log SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_log.c LIBS bpfprof_cli)
