# The official Go gRPC interop client (grpc-go 1.33.3 from Debian's source
# package) against shelfline-interop-server, one ctest per standard case.
#
#   interop_go_build    fixture setup: build_go_client.sh builds the client
#                       (and grpc-go's own interop server, for self-checks)
#                       offline into ${CMAKE_BINARY_DIR}/interop-go; a no-op
#                       once built.  Nothing of it is committed.
#   interop_go_<case>   go_case.sh: our server on a free loopback port, the Go
#                       client with --test_case=<case> under `timeout`.
#
# All carry the label `interop`, so `ctest -LE interop` (make test-sanitize)
# skips the Go build too.  Self-check against grpc-go's own server, by hand:
#   tests/interop/go_case.sh build/interop-go/interop-server \
#       build/interop-go/interop-client empty_unary
if(TARGET shelfline-interop-server)
  set(SHELFLINE_GO_INTEROP_DIR ${CMAKE_BINARY_DIR}/interop-go)
  set(SHELFLINE_GO_INTEROP_CASES
    empty_unary large_unary client_streaming server_streaming ping_pong
    empty_stream timeout_on_sleeping_server cancel_after_begin
    cancel_after_first_response status_code_and_message special_status_message
    custom_metadata unimplemented_method unimplemented_service)

  add_test(NAME interop_go_build
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/build_go_client.sh ${SHELFLINE_GO_INTEROP_DIR})
  # apt-get source and a cold Go build take well under a minute here; the
  # timeout leaves room for a slow mirror.
  set_tests_properties(interop_go_build PROPERTIES
    FIXTURES_SETUP go_interop LABELS interop TIMEOUT 1200)

  foreach(case ${SHELFLINE_GO_INTEROP_CASES})
    add_test(NAME interop_go_${case}
      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/go_case.sh
              $<TARGET_FILE:shelfline-interop-server>
              ${SHELFLINE_GO_INTEROP_DIR}/interop-client ${case})
    set_tests_properties(interop_go_${case} PROPERTIES
      FIXTURES_REQUIRED go_interop LABELS interop TIMEOUT 120)
  endforeach()
endif()
