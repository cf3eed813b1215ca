# Finds caflow's dependencies, all from Debian 12 packages, and wraps those that
# ship no CMake config (CAF, hnswlib) in imported targets.

# CAF 0.17.6 (libcaf-dev) ships no CMake package: cmake/FindCAF.cmake.
find_package(CAF REQUIRED)

find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED COMPONENTS json program_options)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(RocksDB 7.8 REQUIRED)
find_package(yaml-cpp 0.7 REQUIRED)
# zlib (zlib1g-dev): CRC-32 of saved HNSW graphs, several times faster than a
# byte-wise table (a 65 MB graph's check was a third of a restart).
find_package(ZLIB REQUIRED)
# ICU: Unicode character classes and case mapping, so the TF-IDF tokenizer
# matches Python's Unicode-aware \\w and str.lower(); its regex engine (i18n)
# matches targetExecutor patterns with step and stack limits.
find_package(ICU 72 REQUIRED COMPONENTS uc i18n)
# gRPC gateway (Jina's jina.proto): Debian's protobuf 3.21 and gRPC 1.51
# (libprotobuf-dev, protobuf-compiler, libgrpc++-dev, protobuf-compiler-grpc).
find_package(Protobuf 3.21 REQUIRED)
find_package(gRPC 1.51 CONFIG REQUIRED)

# hnswlib (libhnswlib-dev) is header-only and ships no CMake package.
find_path(HNSWLIB_INCLUDE_DIR hnswlib/hnswlib.h REQUIRED)
if(NOT TARGET hnswlib::hnswlib)
  add_library(hnswlib::hnswlib INTERFACE IMPORTED)
  set_target_properties(hnswlib::hnswlib PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${HNSWLIB_INCLUDE_DIR}")
endif()

if(CAFLOW_BUILD_TESTS)
  find_package(doctest 2.4 REQUIRED)
endif()
