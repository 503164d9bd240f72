# Unit test of symbolizer/cfi_table.c and symbolizer/cfi_program.c.
# Included by tests/CMakeLists.txt, after unwind.cmake (its fixtures).
#
# unit.test_cfi_table  every row of the tables of libc, ld-linux,
#                      python3.11 and libLLVM (when installed) and the unwind
#                      fixtures against libdw's dwarf_cfi_addrframe; on
#                      synthetic ELF files: an FDE of 100k rows in linear
#                      time, the row and instruction caps, expressions,
#                      malformed and random programs.

bpfprof_unit_test(test_cfi_table
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_cfi_table.c
  LIBS bpfprof_symbolizer PkgConfig::LIBDW PkgConfig::LIBELF)
add_dependencies(test_cfi_table uwfix_nofp uwfix_default uwfix_noplt)
target_compile_definitions(test_cfi_table PRIVATE
  FIXTURE_DIR="${uwfix_dir}")   # set by unwind.cmake
