# The layers, as a test (ctest -R layers; run as `cmake -P CheckLayers.cmake`
# with -DROOT=<source dir>):
#
#   include/caflow/  the public API: includes only caflow/, CAF and the
#                    standard library (no RocksDB, Beast, hnswlib, gRPC, nor
#                    anything of src/ or actors/)
#   src/             logic, storage, codecs and servers below the actors:
#                    never includes actors/
#   actors/          the CAF actors, their messages, and the code that spawns
#                    and wires them (Flow::start, RunningFlow, Node)
#
# Fails naming every file and line that breaks a rule.
if(NOT ROOT)
  message(FATAL_ERROR "CheckLayers.cmake: pass -DROOT=<source dir>")
endif()

set(violations "")

# Appends "FILE:LINE: LINE_TEXT (WHY)" for each line of the files under
# `dir` that includes something matching `pattern`.
function(check_includes dir pattern why)
  file(GLOB_RECURSE files "${ROOT}/${dir}/*.hpp" "${ROOT}/${dir}/*.cpp" "${ROOT}/${dir}/*.h")
  foreach(f IN LISTS files)
    file(STRINGS "${f}" lines)
    set(n 0)
    foreach(line IN LISTS lines)
      math(EXPR n "${n} + 1")
      if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*[<\"](${pattern})")
        file(RELATIVE_PATH rel "${ROOT}" "${f}")
        string(STRIP "${line}" text)
        list(APPEND violations "${rel}:${n}: ${text} (${why})")
      endif()
    endforeach()
  endforeach()
  set(violations "${violations}" PARENT_SCOPE)
endfunction()

check_includes(src "actors/" "src/ must not include actors/: move the wiring to actors/")
check_includes(include/caflow "actors/|runtime/|cluster/|config/|http/|grpc/|storage/|index/|json/|executors/|core/"
               "the public API includes only caflow/ headers")
check_includes(include/caflow "rocksdb/|boost/|hnswlib|grpc|google/protobuf|yaml-cpp|Eigen|unicode/"
               "no third-party headers but CAF's in the public API")

if(violations)
  list(JOIN violations "\n" text)
  message(FATAL_ERROR "layer violations:\n${text}")
endif()
message(STATUS "layers: src/ never includes actors/; include/caflow/ includes only caflow/ and CAF")
