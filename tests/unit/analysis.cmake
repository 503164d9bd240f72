# Unit test of profiler/analysis/ (the report, flamegraph and diff
# commands' room). Included by tests/CMakeLists.txt.
#
# unit.test_analysis  Student's t CDF and Welch's test against values
#                     computed apart; the diff's verdicts, order, Holm's
#                     adjustment and its text/Markdown/JSON; flat and cum
#                     totals; stacks merged and overflow refused; frames by
#                     function and by line; agent file names; the loader on
#                     a temp dir of profiles made by proto/'s builder (types,
#                     tags, focus/ignore, service, from/until, links and FIFOs
#                     skipped, bad files named); values and JSON strings as
#                     text; report, folded stacks, call tree, flame graph page.
#                     Writes only into a mkdtemp dir under $TMPDIR (or /tmp).

bpfprof_unit_test(test_analysis SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_analysis.c
  LIBS bpfprof_analysis bpfprof_proto PkgConfig::ZLIB m)
