# System tests: real BPF, run as root. Each is a shell script that drives
# the bpfprof binary and checks its output with `go tool pprof`.

# The call-tree fixture is built with clang: GCC 12 sets up no frame in leaf
# functions that use no stack even with -fno-omit-frame-pointer, so
# frame-pointer unwinding would lose their callers (see docs/usage.md).
set(fixture_dir ${CMAKE_CURRENT_BINARY_DIR}/system)
set(fixture_src ${CMAKE_CURRENT_SOURCE_DIR}/system/fixtures)
# system_fixture(NAME SOURCE FLAGS...): a test program built with clang.
function(system_fixture name source)
  add_custom_command(
    OUTPUT ${fixture_dir}/${name}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${fixture_dir}
    COMMAND ${BPF_CLANG} ${ARGN} -o ${fixture_dir}/${name} ${fixture_src}/${source}
    DEPENDS ${fixture_src}/${source})
  set(fixture_outputs ${fixture_outputs} ${fixture_dir}/${name} PARENT_SCOPE)
endfunction()
system_fixture(calltree_fp calltree.c -O2 -g -fno-omit-frame-pointer)
system_fixture(inline inline.c -O2 -g -fno-omit-frame-pointer)
system_fixture(libc_burner libc_burner.c -O2 -g -fno-omit-frame-pointer)
system_fixture(jit_spin jit_spin.c -O2)
pkg_check_modules(FUSE3 REQUIRED fuse3) # a user's FUSE daemon (libfuse3-dev)
system_fixture(fuse_stall fuse_stall.c -O2 ${FUSE3_CFLAGS} ${FUSE3_LDFLAGS})
system_fixture(liblate.so late_lib.c -O2 -g -shared -fPIC)
# Without frame pointers, as most of Debian: for DWARF unwinding.
system_fixture(calltree_nofp calltree.c -O2 -g -fomit-frame-pointer)
system_fixture(threads_nofp threads.c -O2 -g -fomit-frame-pointer -pthread)
system_fixture(late_caller late_caller.c -O2 -g -fomit-frame-pointer)
system_fixture(stack_edge stack_edge.S -nostdlib -static)
# A benchmark whose leaf shares the diff gate sets (analysis_diff_gate.sh).
system_fixture(diff_work diff_work.c -O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -pthread)
# calltree_fp without any symbols, and its debug file alone, for debuginfod.
add_custom_command(
  OUTPUT ${fixture_dir}/debuginfod/calltree_stripped ${fixture_dir}/debuginfod/calltree_fp.debug
  COMMAND ${CMAKE_COMMAND} -E make_directory ${fixture_dir}/debuginfod
  COMMAND objcopy --only-keep-debug ${fixture_dir}/calltree_fp ${fixture_dir}/debuginfod/calltree_fp.debug
  COMMAND strip --strip-all -o ${fixture_dir}/debuginfod/calltree_stripped ${fixture_dir}/calltree_fp
  DEPENDS ${fixture_dir}/calltree_fp)
list(APPEND fixture_outputs ${fixture_dir}/debuginfod/calltree_stripped)
add_custom_target(system_fixtures ALL DEPENDS ${fixture_outputs})

set(system_tests
  cli_errors
  log_json
  record_command
  record_systemwide
  record_kernel
  record_exited_process
  record_short_lived
  record_hidden_binaries
  record_jit_node
  record_debug_info
  record_debuginfod
  record_go
  record_dwarf_unwind
  record_python
  python_frames
  python_agent
  record_valgrind
  agent_files
  agent_pyroscope
  agent_services
  agent_delegated_cgroups
  agent_unit_exit
  agent_metrics
  agent_upload_split
  agent_valgrind
  agent_hung_server
  agent_hostile_files
  agent_permissions
  agent_capabilities
  agent_disk_full
  agent_file_names
  agent_metrics_concurrent
  agent_upload_faults
  hostile_perf_maps
  hostile_objects
  hostile_fuse
  record_hostile_cfi
  record_pid_reuse
  record_tiny_maps
  record_late_dlopen
  agent_soak)
# system_test(NAME TIMEOUT SECONDS [SERIAL] [ENV VAR=VALUE...]): the test
# system.NAME runs tests/system/NAME.sh with BPFPROF and FIXTURES set (and
# ENV); 77 is a skip. SERIAL: timing-sensitive, one at a time on 2 cores.
function(system_test name)
  cmake_parse_arguments(T "SERIAL" "TIMEOUT" "ENV" ${ARGN})
  add_test(NAME system.${name}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/system/${name}.sh)
  set_tests_properties(system.${name} PROPERTIES
    LABELS system
    RUN_SERIAL ${T_SERIAL}
    TIMEOUT ${T_TIMEOUT}
    SKIP_RETURN_CODE 77
    ENVIRONMENT "BPFPROF=$<TARGET_FILE:bpfprof>;FIXTURES=${fixture_dir};${T_ENV}")
endfunction()
foreach(t ${system_tests})
  system_test(${t} TIMEOUT 180 SERIAL)
endforeach()
