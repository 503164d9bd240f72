# unit.test_python_layout.VERSION: interpreter/python_layout.c against
# offsetof() over the internal headers of each CPython 3.11+ this machine
# has (Debian's python3.11-dev; pyenv's include directories), a program
# built per version (python_layout_offsets.c) piped into the checker. A
# version whose headers are absent is named at configure time.
add_executable(test_python_layout ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_python_layout.c)
target_compile_options(test_python_layout PRIVATE ${BPFPROF_WARNINGS})
target_include_directories(test_python_layout PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
target_link_libraries(test_python_layout PRIVATE bpfprof_interpreter)
foreach(py_inc /usr/include/python3.11 $ENV{HOME}/.pyenv/versions/3.11.7/include/python3.11
    $ENV{HOME}/.pyenv/versions/3.12.1/include/python3.12
    $ENV{HOME}/.pyenv/versions/3.13.0/include/python3.13)
  if(NOT EXISTS ${py_inc}/internal/pycore_frame.h)
    message(STATUS "test_python_layout: no CPython headers in ${py_inc}")
    continue()
  endif()
  string(REGEX REPLACE "^.*/versions/([0-9.]+)/.*$" "\\1" py_name ${py_inc})
  if(py_name STREQUAL py_inc)
    set(py_name debian-3.11)
  endif()
  set(offsets python_layout_offsets_${py_name})
  add_executable(${offsets} ${CMAKE_CURRENT_SOURCE_DIR}/unit/python_layout_offsets.c)
  # CPython's headers, not ours: their warnings are not ours to fix
  target_compile_options(${offsets} PRIVATE -w)
  target_include_directories(${offsets} PRIVATE ${py_inc} ${py_inc}/internal)
  add_test(NAME unit.test_python_layout.${py_name}
    COMMAND bash -c "set -o pipefail; '$<TARGET_FILE:${offsets}>' | '$<TARGET_FILE:test_python_layout>'")
  set_tests_properties(unit.test_python_layout.${py_name} PROPERTIES LABELS unit TIMEOUT 60)
endforeach()
