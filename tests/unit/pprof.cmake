# Unit tests of proto/ (the pprof builder). Included by
# tests/CMakeLists.txt.
#
# unit.test_pprof         round trip through the builder and protobuf-c's own
#                         decoder, bad input.
# unit.test_pprof_log     messages go to pprof_set_print()'s callback.
# unit.test_pprof_read    the reader: our profiles back, hostile bytes refused.
# unit.pprof_write_for_go the same program, also leaving its profile in the
#                         build tree (fixture for the next test).
# unit.pprof_go_tool      the real consumer: `go tool pprof -raw` must read
#                         that profile and show what test_pprof put in it.
#                         Registered only when `go` is found.

bpfprof_unit_test(test_pprof
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_pprof.c
  LIBS bpfprof_proto PkgConfig::ZLIB)
bpfprof_unit_test(test_pprof_log SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_pprof_log.c
  LIBS bpfprof_proto)
bpfprof_unit_test(test_pprof_read SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_pprof_read.c
  LIBS bpfprof_proto PkgConfig::ZLIB)

find_program(GO go)
if(NOT GO)
  message(STATUS "go not found: unit.pprof_go_tool (go tool pprof) is not registered")
  return()
endif()

set(PPROF_GO_FILE ${CMAKE_CURRENT_BINARY_DIR}/test_pprof_go.pb.gz)
set(PPROF_GO_SCRIPT ${CMAKE_CURRENT_BINARY_DIR}/pprof_go_tool.cmake)

add_test(NAME unit.pprof_write_for_go COMMAND test_pprof ${PPROF_GO_FILE})
set_tests_properties(unit.pprof_write_for_go PROPERTIES
  LABELS unit TIMEOUT 120 FIXTURES_SETUP pprof_go_file)

# cmake -P script: run `go tool pprof -raw FILE`, fail on a nonzero exit or
# when a line test_pprof.c wrote is missing from the output.
file(WRITE ${PPROF_GO_SCRIPT} [=[
execute_process(COMMAND ${GO} tool pprof -raw ${FILE}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "go tool pprof -raw ${FILE} failed (${rc}):\n${err}")
endif()
foreach(want
    "PeriodType: cpu nanoseconds"
    "Period: 10101010"
    "Duration: 10s"
    "samples/count cpu/nanoseconds"
    "3   30303030: "
    "comm:[app] thread_name:[worker]"
    "pid:[1234] tid:[1235]"
    "memcpy_inl /usr/include/string.h:20"
    "helper /src/app.c:30 s=0(_Z6helperv)"
    "do_work /src/app.c:40"
    "main /src/app.c:10 s=5"
    "deep_127 /src/deep.c:128"
    "/usr/bin/app abcdef0123456789 [FN][FL][LN][IN]"
    "[kernel.kallsyms]  [FN]"
    "/lib/x86_64-linux-gnu/libc.so.6 deadbeef [FN]")
  string(FIND "${out}" "${want}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "go tool pprof -raw output lacks \"${want}\":\n${out}")
  endif()
endforeach()
message(STATUS "go tool pprof -raw read ${FILE}")
]=])

add_test(NAME unit.pprof_go_tool
  COMMAND ${CMAKE_COMMAND} -DGO=${GO} -DFILE=${PPROF_GO_FILE} -P ${PPROF_GO_SCRIPT})
set_tests_properties(unit.pprof_go_tool PROPERTIES
  LABELS unit TIMEOUT 120 FIXTURES_REQUIRED pprof_go_file)
