# Unit tests of CPython support (interpreter/python_*.c). Included by
# tests/CMakeLists.txt.
#
# unit.test_python_lines.VERSION  interpreter/python_lines.c against
#     co_lines() of thousands of real code objects, the vectors written by
#     python_lines_vectors.py with each CPython 3.11+ this machine has
#     (Debian's, and pyenv's when installed), then hand-made tables.
# unit.test_interpreter  the pure parts of interpreter/: stack_merge(),
#     python_code_read() over hand-made memory (every layout), and
#     python_file_name().

set(py_lines_vectors ${CMAKE_CURRENT_SOURCE_DIR}/unit/python_lines_vectors.py)
add_executable(test_python_lines ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_python_lines.c)
target_compile_options(test_python_lines PRIVATE ${BPFPROF_WARNINGS})
target_include_directories(test_python_lines PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit
  ${PROJECT_SOURCE_DIR}/symbolizer)
target_link_libraries(test_python_lines PRIVATE bpfprof_interpreter)
foreach(py /usr/bin/python3.11 $ENV{HOME}/.pyenv/versions/3.11.7/bin/python3
    $ENV{HOME}/.pyenv/versions/3.12.1/bin/python3 $ENV{HOME}/.pyenv/versions/3.13.0/bin/python3)
  if(NOT EXISTS ${py})
    continue()
  endif()
  execute_process(COMMAND ${py} -c "import sys; print('%d.%d.%d' % sys.version_info[:3])"
    OUTPUT_VARIABLE py_version OUTPUT_STRIP_TRAILING_WHITESPACE)
  add_test(NAME unit.test_python_lines.${py_version}
    COMMAND bash -c "set -o pipefail; '${py}' '${py_lines_vectors}' | '$<TARGET_FILE:test_python_lines>'")
  set_tests_properties(unit.test_python_lines.${py_version} PROPERTIES LABELS unit TIMEOUT 120)
endforeach()

add_executable(test_interpreter ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_interpreter.c)
target_compile_options(test_interpreter PRIVATE ${BPFPROF_WARNINGS})
target_include_directories(test_interpreter PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit
  ${PROJECT_SOURCE_DIR}/symbolizer)
target_link_libraries(test_interpreter PRIVATE bpfprof_interpreter)
add_test(NAME unit.test_interpreter COMMAND test_interpreter)
set_tests_properties(unit.test_interpreter PROPERTIES LABELS unit TIMEOUT 60)
