# Unit tests of the agent's upload parts - profiler/ingest.c, spool.c and
# backoff.c - and of its metrics endpoint, metrics_text.c and
# metrics_server.c. Included by tests/CMakeLists.txt. The profiler/ sources are
# compiled into the bpfprof executable, not a library, so each test compiles
# the ones it needs (plus log.c).
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
set(agent_src ${PROJECT_SOURCE_DIR}/profiler)

bpfprof_unit_test(test_ingest
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ingest.c
          ${agent_src}/ingest.c ${agent_src}/ingest_reply.c ${agent_src}/backoff.c ${agent_src}/log.c
  LIBS bpfprof_proto PkgConfig::CURL PkgConfig::LIBBPF)
target_include_directories(test_ingest PRIVATE ${agent_src})
target_compile_definitions(test_ingest PRIVATE
  INGEST_SERVER="${CMAKE_CURRENT_SOURCE_DIR}/ingest_server/pyroscope_ingest.py"
  OPENSSL="${agent_openssl}")

bpfprof_unit_test(test_spool
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_spool.c
          ${agent_src}/spool.c ${agent_src}/safe_dir.c ${agent_src}/log.c
          ${PROJECT_SOURCE_DIR}/symbolizer/read_file.c ${PROJECT_SOURCE_DIR}/symbolizer/safe_open.c
  LIBS PkgConfig::ZLIB PkgConfig::LIBBPF)
target_include_directories(test_spool PRIVATE ${agent_src} ${PROJECT_SOURCE_DIR}/symbolizer)

bpfprof_unit_test(test_output_dir
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_output_dir.c ${agent_src}/output_dir.c
          ${agent_src}/retention.c ${agent_src}/safe_dir.c ${agent_src}/log.c
  LIBS bpfprof_proto PkgConfig::LIBBPF)
target_include_directories(test_output_dir PRIVATE ${agent_src})

find_package(Threads REQUIRED)
bpfprof_unit_test(test_metrics
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_metrics.c
          ${agent_src}/metrics_text.c ${agent_src}/metrics_server.c ${agent_src}/signals.c
          ${agent_src}/log.c
  LIBS Threads::Threads PkgConfig::LIBBPF)
target_include_directories(test_metrics PRIVATE ${agent_src})
