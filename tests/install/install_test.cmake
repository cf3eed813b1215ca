# ctest script: install caflow, then use the installed package as an outside
# project would. Each step fails the test with what went wrong.
#  1. The prefix is moved after the install (the package is relocatable).
#  2. examples/host configures, builds and runs against it; it sets no C++
#     standard: caflow::caflow must carry C++20 (cxx_std_20, INTERFACE).
#  3. Every installed public header compiles on its own in a project that asks
#     for C++17 (the target's requirement wins) and sees only the prefix (no
#     RocksDB, Beast, hnswlib or private caflow header may be needed).
#  4. find_package(caflow 9.0) fails and says which version was found.
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/staged)
set(prefix ${WORK_DIR}/prefix)
file(RENAME ${WORK_DIR}/staged ${prefix})

file(GLOB_RECURSE targets_file ${prefix}/*/caflowTargets.cmake)
file(STRINGS "${targets_file}" features REGEX "INTERFACE_COMPILE_FEATURES")
if(NOT features MATCHES "cxx_std_20")
  message(FATAL_ERROR "caflowTargets.cmake: caflow::caflow has no INTERFACE cxx_std_20")
endif()

run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2)
run(${WORK_DIR}/build/caflow-host-example)

# 3: one translation unit per public header.
set(headers_dir ${WORK_DIR}/headers)
file(GLOB public_headers RELATIVE ${prefix}/include ${prefix}/include/caflow/*.hpp)
list(LENGTH public_headers n)
if(n LESS 10)
  message(FATAL_ERROR "only ${n} public headers installed under ${prefix}/include/caflow")
endif()
set(sources "")
foreach(h IN LISTS public_headers)
  string(MAKE_C_IDENTIFIER ${h} stem)
  file(WRITE ${headers_dir}/${stem}.cpp "#include <${h}>\n")
  list(APPEND sources ${stem}.cpp)
endforeach()
file(WRITE ${headers_dir}/CMakeLists.txt "cmake_minimum_required(VERSION 3.22)
project(caflow_headers LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 17)
find_package(caflow 0.1 REQUIRED)
add_library(caflow-headers OBJECT ${sources})
target_link_libraries(caflow-headers PRIVATE caflow::caflow)
")
run(${CMAKE_COMMAND} -S ${headers_dir} -B ${headers_dir}/build -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${headers_dir}/build -j2)

# 4: a version the package is not.
set(version_dir ${WORK_DIR}/version)
file(WRITE ${version_dir}/CMakeLists.txt "cmake_minimum_required(VERSION 3.22)
project(caflow_version NONE)
find_package(caflow 9.0 REQUIRED)
")
execute_process(COMMAND ${CMAKE_COMMAND} -S ${version_dir} -B ${version_dir}/build
                  -DCMAKE_PREFIX_PATH=${prefix}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT "${out}${err}" MATCHES "version: 0\\.1")
  message(FATAL_ERROR "find_package(caflow 9.0) should fail naming the installed version:\n${out}${err}")
endif()
