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
  system_test(${t} TIMEOUT 300 ENV FOLDED_TO_PPROF=$<TARGET_FILE:folded_to_pprof>)
endforeach()
# The gate on recorded runs: BPF, and timing-sensitive like the others.
system_test(analysis_diff_gate TIMEOUT 400 SERIAL)
