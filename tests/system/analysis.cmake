# Tests of `report`, `flamegraph` and `diff`: shell scripts that drive the
# binary on profiles with a known tree (tests/tools/folded_to_pprof) or on
# real ones, and check the output with independent readers and real
# consumers. They load no BPF, so they may run beside each other (but
# analysis_diff_gate, which records).
set(analysis_tests
  analysis_report
  analysis_hostile
  flamegraph_browser
  analysis_diff
  report_go)
foreach(t ${analysis_tests})
  add_test(NAME system.${t}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/system/${t}.sh)
  set_tests_properties(system.${t} PROPERTIES
    LABELS system
    TIMEOUT 300
    SKIP_RETURN_CODE 77
    ENVIRONMENT "BPFPROF=$<TARGET_FILE:bpfprof>;FOLDED_TO_PPROF=$<TARGET_FILE:folded_to_pprof>;FIXTURES=${fixture_dir}")
endforeach()
# The gate on recorded runs: BPF, and timing-sensitive like the others.
add_test(NAME system.analysis_diff_gate
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/system/analysis_diff_gate.sh)
set_tests_properties(system.analysis_diff_gate PROPERTIES
  LABELS system RUN_SERIAL TRUE TIMEOUT 400 SKIP_RETURN_CODE 77
  ENVIRONMENT "BPFPROF=$<TARGET_FILE:bpfprof>;FIXTURES=${fixture_dir}")
