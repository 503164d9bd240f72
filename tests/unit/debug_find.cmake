# Unit tests of symbolizer/debug_find.c. Included by tests/CMakeLists.txt.
#
# unit.test_debug_find        lookups in a fake debug root and fake
#                             container root laid out at test time (build-id,
#                             .gnu_debuglink in its three places, files of
#                             another build, bad CRC, no DWARF, a FIFO), and
#                             the real libc with the real /usr/lib/debug
#                             (libc6-dbg).
# unit.debug_find_debuginfod  the same program against a real debuginfod
#                             server on 127.0.0.1: download, negative cache,
#                             the server gone (one "unreachable" line, quick
#                             -ENOENT), back after the retry delay, and one
#                             that never answers (timeout). Registered only
#                             when the `debuginfod` server is found.
#
# The fixture is built three times: with a build-id, as another build (other
# code, so another build-id), and without a build-id. Each is split like a
# distribution does it: NAME.debug (objcopy --only-keep-debug) and
# NAME_stripped (everything stripped, .gnu_debuglink -> NAME.debug). Fixtures
# get the same flags in every build (no sanitizers).

find_program(DFIX_OBJCOPY NAMES objcopy REQUIRED)

set(dfix_src ${CMAKE_CURRENT_SOURCE_DIR}/unit/debug_find_fixtures)
set(dfix_dir ${CMAKE_CURRENT_BINARY_DIR}/debug_find_fixtures)
set(dfix_split_files)
foreach(t dfix dfix_other dfix_nobid)
  add_executable(${t} ${dfix_src}/dfix.c)
  if(t STREQUAL "dfix_nobid")
    set(build_id -Wl,--build-id=none)
  else()
    set(build_id -Wl,--build-id=sha1)
  endif()
  set_target_properties(${t} PROPERTIES
    COMPILE_OPTIONS "-O0;-g"
    LINK_OPTIONS "${build_id}"
    RUNTIME_OUTPUT_DIRECTORY ${dfix_dir})
  add_custom_command(
    OUTPUT ${dfix_dir}/${t}.debug ${dfix_dir}/${t}_stripped
    COMMAND ${DFIX_OBJCOPY} --only-keep-debug $<TARGET_FILE:${t}> ${dfix_dir}/${t}.debug
    COMMAND ${DFIX_OBJCOPY} --strip-all --add-gnu-debuglink=${dfix_dir}/${t}.debug
            $<TARGET_FILE:${t}> ${dfix_dir}/${t}_stripped
    DEPENDS ${t}
    COMMENT "Splitting the debug info of ${t}")
  list(APPEND dfix_split_files ${dfix_dir}/${t}.debug ${dfix_dir}/${t}_stripped)
endforeach()
target_compile_definitions(dfix_other PRIVATE DFIX_OTHER)
add_custom_target(dfix_split DEPENDS ${dfix_split_files})

bpfprof_unit_test(test_debug_find
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_debug_find.c
  LIBS bpfprof_symbolizer PkgConfig::LIBDW PkgConfig::LIBELF)
add_dependencies(test_debug_find dfix_split)
target_compile_definitions(test_debug_find PRIVATE DFIX_DIR="${dfix_dir}")

find_program(DEBUGINFOD_SERVER debuginfod)
if(NOT DEBUGINFOD_SERVER)
  message(STATUS "debuginfod not found: unit.debug_find_debuginfod is not registered")
  return()
endif()
add_test(NAME unit.debug_find_debuginfod
  COMMAND test_debug_find --debuginfod ${DEBUGINFOD_SERVER})
set_tests_properties(unit.debug_find_debuginfod PROPERTIES LABELS unit TIMEOUT 180)
