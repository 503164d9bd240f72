# Unit tests of symbolizer/. Included by tests/CMakeLists.txt.
#
# unit.test_symbolizer  parsers (/proc/PID/maps, /proc/kallsyms, kernel
#                       notes) on tricky input; ELF objects; live fixture
#                       processes resolved symbol by symbol against `nm`;
#                       an exited process; a fake /proc tree (path
#                       fallbacks, deleted and replaced files); the kernel;
#                       DWARF file:line and inline chains checked against
#                       llvm-symbolizer, and a Go binary built by the test.
# unit.test_mountinfo   /proc/PID/mountinfo (real, against findmnt; crafted;
#                       mutated), and files a user's FUSE daemon may serve
#                       refused on fake /proc trees.
#
# The fixtures are the subjects, not code under test: they get the same
# flags in every build (no sanitizers), -O2 -g -fno-inline so each function
# stays a function of its own; except symfix_inline, -O2 -g with inlining,
# whose DWARF holds inline chains.

find_program(SYMFIX_NM NAMES nm REQUIRED)
find_program(SYMFIX_READELF NAMES readelf REQUIRED)
find_program(SYMFIX_STRIP NAMES strip REQUIRED)
# Optional: the tests that need them skip with a note when they are absent.
find_program(SYMFIX_LLVM_SYMBOLIZER NAMES llvm-symbolizer llvm-symbolizer-16
  llvm-symbolizer-15 llvm-symbolizer-14)
find_program(SYMFIX_GO NAMES go)

set(symfix_src ${CMAKE_CURRENT_SOURCE_DIR}/unit/symbolizer_fixtures)
set(symfix_dir ${CMAKE_CURRENT_BINARY_DIR}/symbolizer_fixtures)
set(symfix_flags -O2 -g -fno-inline -fno-optimize-sibling-calls
  $<$<C_COMPILER_ID:GNU>:-fno-ipa-icf>)   # GCC merges identical functions

add_library(symfix_lib SHARED ${symfix_src}/fixture_lib.c)
add_executable(symfix_pie ${symfix_src}/fixture_main.c)
add_executable(symfix_nopie ${symfix_src}/fixture_main.c)
add_executable(symfix_dyn ${symfix_src}/fixture_dyn.c)
add_executable(symfix_inline ${symfix_src}/fixture_inline.c)
foreach(t symfix_lib symfix_pie symfix_nopie symfix_dyn symfix_inline)
  set_target_properties(${t} PROPERTIES
    COMPILE_OPTIONS "${symfix_flags}"
    LINK_OPTIONS ""
    RUNTIME_OUTPUT_DIRECTORY ${symfix_dir}
    LIBRARY_OUTPUT_DIRECTORY ${symfix_dir})
endforeach()

# PIE and non-PIE executables, both using the library.
target_compile_options(symfix_pie PRIVATE -fPIE)
target_link_options(symfix_pie PRIVATE -pie)
target_link_libraries(symfix_pie PRIVATE symfix_lib)
target_compile_options(symfix_nopie PRIVATE -fno-pie)
target_link_options(symfix_nopie PRIVATE -no-pie)
target_link_libraries(symfix_nopie PRIVATE symfix_lib)

# Inlining on: -O2 -g without -fno-inline, in place of what the loop set.
set_target_properties(symfix_inline PROPERTIES COMPILE_OPTIONS "-O2;-g;-fPIE")
target_link_options(symfix_inline PRIVATE -pie)

# An executable exporting its global functions, and a copy stripped of
# everything but .dynsym.
target_compile_options(symfix_dyn PRIVATE -fPIE
  $<$<C_COMPILER_ID:GNU>:-fno-toplevel-reorder -fno-reorder-functions>)
target_link_options(symfix_dyn PRIVATE -pie -rdynamic)
set(symfix_stripped ${symfix_dir}/symfix_dyn_stripped)
add_custom_command(
  OUTPUT ${symfix_stripped}
  COMMAND ${SYMFIX_STRIP} --strip-all -o ${symfix_stripped} $<TARGET_FILE:symfix_dyn>
  DEPENDS symfix_dyn
  COMMENT "Stripping symfix_dyn")
add_custom_target(symfix_stripped DEPENDS ${symfix_stripped})

bpfprof_unit_test(test_symbolizer
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_symbolizer.c
  LIBS bpfprof_symbolizer)
add_dependencies(test_symbolizer symfix_lib symfix_pie symfix_nopie symfix_dyn symfix_stripped
  symfix_inline)
target_compile_definitions(test_symbolizer PRIVATE
  SYMFIX_LIB="$<TARGET_FILE:symfix_lib>"
  SYMFIX_PIE="$<TARGET_FILE:symfix_pie>"
  SYMFIX_NOPIE="$<TARGET_FILE:symfix_nopie>"
  SYMFIX_DYN="$<TARGET_FILE:symfix_dyn>"
  SYMFIX_STRIPPED="${symfix_stripped}"
  SYMFIX_INLINE="$<TARGET_FILE:symfix_inline>"
  SYMFIX_GO_SRC="${symfix_src}/fixture_go"
  SYMFIX_GO="$<IF:$<BOOL:${SYMFIX_GO}>,${SYMFIX_GO},>"
  SYMFIX_LLVM_SYMBOLIZER="$<IF:$<BOOL:${SYMFIX_LLVM_SYMBOLIZER}>,${SYMFIX_LLVM_SYMBOLIZER},>"
  SYMFIX_NM="${SYMFIX_NM}"
  SYMFIX_READELF="${SYMFIX_READELF}")
bpfprof_unit_test(test_mountinfo
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_mountinfo.c
  LIBS bpfprof_symbolizer)
