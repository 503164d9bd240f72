# System tests: real BPF, run as root. Each is a shell script that drives
# the bpfprof binary and checks its output with `go tool pprof`.

# The call-tree fixture is built with clang: GCC 12 sets up no frame in leaf
# functions that use no stack even with -fno-omit-frame-pointer, so
# frame-pointer unwinding would lose their callers (see docs/usage.md).
set(fixture_dir ${CMAKE_CURRENT_BINARY_DIR}/system)
add_custom_command(
  OUTPUT ${fixture_dir}/calltree_fp
  COMMAND ${CMAKE_COMMAND} -E make_directory ${fixture_dir}
  COMMAND ${BPF_CLANG} -O2 -fno-omit-frame-pointer -g
          -o ${fixture_dir}/calltree_fp ${CMAKE_CURRENT_SOURCE_DIR}/system/fixtures/calltree.c
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/system/fixtures/calltree.c)
add_custom_target(system_fixtures ALL DEPENDS ${fixture_dir}/calltree_fp)

set(system_tests
  cli_errors
  record_command
  record_systemwide
  record_kernel
  record_exited_process
  record_short_lived
  record_hidden_binaries
  record_valgrind)
foreach(t ${system_tests})
  add_test(NAME system.${t}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/system/${t}.sh)
  set_tests_properties(system.${t} PROPERTIES
    LABELS system
    RUN_SERIAL TRUE            # timing-sensitive: one at a time on 2 cores
    TIMEOUT 180
    SKIP_RETURN_CODE 77
    ENVIRONMENT "BPFPROF=$<TARGET_FILE:bpfprof>;FIXTURES=${fixture_dir}")
endforeach()
