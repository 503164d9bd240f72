# Unit tests of the agent's upload parts - profiler/upload/ingest.c, spool.c and
# backoff.c - and of its metrics endpoint, metrics_text.c and
# metrics_server.c. Included by tests/CMakeLists.txt. Each links the room
# libraries of profiler/ it tests (profiler/CMakeLists.txt).
#
# unit.test_ingest  uploads to tests/ingest_server/pyroscope_ingest.py, a
#                   strict fake of Pyroscope's POST /ingest on 127.0.0.1:
#                   query, name escaping, auth headers, body kept byte for
#                   byte; a non-pprof body and an expired profile are
#                   REJECTED, 503/429/no server are RETRY; refused names;
#                   HTTPS with certificate checks (when openssl is found);
#                   the server's multipart rules; backoff.
# unit.test_spool   FIFO order, restart, cap, leftover temp files, corrupt
#                   entries, set-aside, a lock per spool, planted links and
#                   FIFOs, unsafe spool dirs, and a fuzz loop over the entry
#                   parser.
# unit.test_output_dir  the agent's --output-dir: unique names in one
#                   second, retention of them, leftover temp files removed,
#                   unsafe ancestors refused.
# unit.test_atomic_file  the one atomic file writer (profiles, spool
#                   entries): content and exact mode, rename, nothing left
#                   by failures, names claimed without replacing.
# unit.test_metrics the Prometheus text format (escaping, numbers), metrics
#                   addresses, the HTTP request parser (every prefix, bad
#                   lines, a fuzz loop) and the server on 127.0.0.1 port 0:
#                   503 before a publish, 200/HEAD/404/405/400/431/408, a
#                   silent client, a client leaving mid-body, stop.
#
# Needs: pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl) at the top,
# and python3 on PATH when the test runs.

find_program(AGENT_PARTS_OPENSSL openssl)
set(agent_openssl "")
if(AGENT_PARTS_OPENSSL)
  set(agent_openssl ${AGENT_PARTS_OPENSSL})
else()
  message(STATUS "openssl not found: unit.test_ingest skips its HTTPS case")
endif()
bpfprof_unit_test(test_ingest SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ingest.c
  LIBS bpfprof_upload)
target_compile_definitions(test_ingest PRIVATE
  INGEST_SERVER="${CMAKE_CURRENT_SOURCE_DIR}/ingest_server/pyroscope_ingest.py"
  OPENSSL="${agent_openssl}")

bpfprof_unit_test(test_spool SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_spool.c
  LIBS bpfprof_upload)
target_include_directories(test_spool PRIVATE ${PROJECT_SOURCE_DIR}/symbolizer)

bpfprof_unit_test(test_output_dir SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_output_dir.c
  LIBS bpfprof_export)

bpfprof_unit_test(test_atomic_file SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_atomic_file.c
  LIBS bpfprof_export)

bpfprof_unit_test(test_metrics SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_metrics.c
  LIBS bpfprof_agent)
