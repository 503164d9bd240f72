# Unit tests of symbolizer/cfi_table.c, unwind.c and unwind_libunwind.c. Included by
# tests/CMakeLists.txt.
#
# unit.test_unwind  stacks snapshotted by a fixture in a known call chain
#                   (main, a thread, a signal handler) unwound with CFI
#                   tables and checked against `nm` (libc's symbols from
#                   libc6-dbg) and against libdw's unwinder; a cut snapshot;
#                   synthesized PLT rules; garbage input. Prints us/frame.
#                   libunwind (symbolizer/unwind_libunwind.c) unwinds the
#                   same snapshots: the oracle, frame by frame; and a stack
#                   ours stops on (uwfix_lazy in ld.so's lazy binding) that
#                   libunwind, and so symbolizer_unwind, completes.
#
# The fixture is a subject, not code under test: the same flags in every
# build (no sanitizers). uwfix_nofp: -O2 -fomit-frame-pointer (no frame
# pointers, like Debian's libraries); uwfix_default: gcc's default
# optimization (-O0: frame pointers, CFA from rbp); uwfix_noplt: like uwfix_nofp, linked without unwind info
# for the PLT, so the table synthesizes its rules.

find_package(Threads REQUIRED)
find_program(UWFIX_NM NAMES nm REQUIRED)
find_program(UWFIX_READELF NAMES readelf REQUIRED)

set(uwfix_dir ${CMAKE_CURRENT_BINARY_DIR}/unwind_fixtures)
foreach(t uwfix_nofp uwfix_default uwfix_noplt)
  add_executable(${t} ${CMAKE_CURRENT_SOURCE_DIR}/unit/unwind_fixtures/uwfix.c)
  target_link_libraries(${t} PRIVATE Threads::Threads)
  set_target_properties(${t} PROPERTIES
    COMPILE_OPTIONS ""
    LINK_OPTIONS ""
    RUNTIME_OUTPUT_DIRECTORY ${uwfix_dir})
endforeach()
# These come after CMAKE_C_FLAGS_<CONFIG> on the command line: they win.
set_target_properties(uwfix_nofp uwfix_noplt PROPERTIES
  COMPILE_OPTIONS "-O2;-g;-fomit-frame-pointer")
set_target_properties(uwfix_default PROPERTIES COMPILE_OPTIONS "-O0")
set_target_properties(uwfix_noplt PROPERTIES
  LINK_OPTIONS "-Wl,--no-ld-generated-unwind-info")
# uwfix_lazy: like uwfix_nofp, with the "lazy" mode: a call bound lazily
# to libuwfix_lazy.so's IFUNC (whose resolver takes the snapshot).
add_library(uwfix_lazy_lib SHARED ${CMAKE_CURRENT_SOURCE_DIR}/unit/unwind_fixtures/uwfix_lazy.c)
add_executable(uwfix_lazy ${CMAKE_CURRENT_SOURCE_DIR}/unit/unwind_fixtures/uwfix.c)
target_compile_definitions(uwfix_lazy PRIVATE UWFIX_LAZY)
target_link_libraries(uwfix_lazy PRIVATE uwfix_lazy_lib Threads::Threads)
set_target_properties(uwfix_lazy_lib PROPERTIES
  OUTPUT_NAME uwfix_lazy
  COMPILE_OPTIONS "-O2;-fomit-frame-pointer"
  LINK_OPTIONS ""
  LIBRARY_OUTPUT_DIRECTORY ${uwfix_dir})
set_target_properties(uwfix_lazy PROPERTIES
  COMPILE_OPTIONS "-O2;-g;-fomit-frame-pointer"
  LINK_OPTIONS "-Wl,-z,lazy"
  RUNTIME_OUTPUT_DIRECTORY ${uwfix_dir})

bpfprof_unit_test(test_unwind
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_unwind.c
  LIBS bpfprof_symbolizer PkgConfig::LIBDW PkgConfig::LIBELF)
add_dependencies(test_unwind uwfix_nofp uwfix_default uwfix_noplt uwfix_lazy)
target_compile_definitions(test_unwind PRIVATE FIXTURE_DIR="${uwfix_dir}")
