# The cluster (issue #6): the node daemon's temporary executable (to be folded
# into `caflow` as `caflow node` / `caflow scale`), the cluster tests and the
# executors they load into the flow and the nodes.
find_package(Boost 1.81 REQUIRED COMPONENTS program_options)

add_executable(caflow-node-wip
  ${PROJECT_SOURCE_DIR}/tools/cli/node_main_wip.cpp
  ${PROJECT_SOURCE_DIR}/tools/cli/cmd_node.cpp
  ${PROJECT_SOURCE_DIR}/tools/cli/cmd_scale.cpp
  ${PROJECT_SOURCE_DIR}/tools/cli/options.cpp
  ${PROJECT_SOURCE_DIR}/tools/cli/address.cpp
)
caflow_target_defaults(caflow-node-wip)
target_include_directories(caflow-node-wip PRIVATE
  ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/tools)
target_link_libraries(caflow-node-wip PRIVATE caflow CAF::openssl Boost::program_options)

if(CAFLOW_BUILD_TESTS)
  add_library(caflow-cluster-test-executors MODULE
    ${PROJECT_SOURCE_DIR}/tests/cluster/cluster_executors.cpp)
  caflow_target_defaults(caflow-cluster-test-executors)
  target_link_libraries(caflow-cluster-test-executors PRIVATE caflow::caflow)
  set_target_properties(caflow-cluster-test-executors PROPERTIES PREFIX "lib")

  add_executable(caflow-cluster-tests
    ${PROJECT_SOURCE_DIR}/tests/main.cpp
    ${PROJECT_SOURCE_DIR}/tests/daemon/process.cpp
    ${PROJECT_SOURCE_DIR}/tests/cluster/placement_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/cluster/cluster_fixture.cpp
    ${PROJECT_SOURCE_DIR}/tests/cluster/cluster_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/cluster/tls_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/cluster/indexer_cluster_test.cpp
  )
  caflow_target_defaults(caflow-cluster-tests)
  target_include_directories(caflow-cluster-tests PRIVATE
    ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(caflow-cluster-tests PRIVATE caflow doctest::doctest)
  target_compile_definitions(caflow-cluster-tests PRIVATE
    CAFLOW_NODE_BINARY="$<TARGET_FILE:caflow-node-wip>"
    CAFLOW_CLUSTER_PLUGIN="$<TARGET_FILE:caflow-cluster-test-executors>")
  add_dependencies(caflow-cluster-tests caflow-node-wip caflow-cluster-test-executors)
  # The Indexer-on-nodes test needs the Indexer in the library.
  if(EXISTS ${PROJECT_SOURCE_DIR}/src/executors/indexer.cpp)
    target_compile_definitions(caflow-cluster-tests PRIVATE CAFLOW_HAS_INDEXER=1)
  endif()
  add_test(NAME cluster COMMAND caflow-cluster-tests)
  set_tests_properties(cluster PROPERTIES TIMEOUT 300)
endif()
