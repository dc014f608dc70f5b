# Python (Debian's python3-grpcio) and Node (@grpc/grpc-js) clients call
# grpc.health.v1.Health/Check on a real service; see run_health_client.sh.
# The node test installs tests/interop/node's locked packages into
# build/interop-node on first use (npm ci).
if(TARGET shelfline-inventory)
  foreach(lang python node)
    add_test(NAME interop_${lang}_health
      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/run_health_client.sh ${lang}
              $<TARGET_FILE:shelfline-inventory> shelfline.v1.InventoryService)
    set_tests_properties(interop_${lang}_health PROPERTIES
      LABELS interop TIMEOUT 300 FIXTURES_REQUIRED pg
      ENVIRONMENT "${SHELFLINE_TEST_ENV}")
  endforeach()
endif()

# grpc-go's reflection client and protobuf-go's dynamicpb against a real
# inventory process: list, describe and call with no .proto file (see
# run_reflection_client.sh).
if(TARGET shelfline-inventory)
  add_test(NAME interop_go_reflection
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/run_reflection_client.sh
            $<TARGET_FILE:shelfline-inventory> ${CMAKE_BINARY_DIR}/interop-go-reflection)
  set_tests_properties(interop_go_reflection PROPERTIES
    LABELS interop TIMEOUT 300 FIXTURES_REQUIRED pg
    ENVIRONMENT "${SHELFLINE_TEST_ENV}")
endif()

# TLS and mTLS with the Python, Node and Go clients against a real
# inventory process: served, and refused without (or with a foreign)
# client certificate or in plaintext (see run_tls_clients.sh).
if(TARGET shelfline-inventory)
  foreach(lang python node go)
    add_test(NAME interop_${lang}_tls
      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/run_tls_clients.sh ${lang}
              $<TARGET_FILE:shelfline-inventory> ${CMAKE_BINARY_DIR}/interop-go-tls)
    set_tests_properties(interop_${lang}_tls PROPERTIES
      LABELS interop TIMEOUT 300 FIXTURES_REQUIRED pg
      ENVIRONMENT "${SHELFLINE_TEST_ENV}")
  endforeach()
endif()
