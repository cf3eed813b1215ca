# Per-target warning, sanitizer and fuzzing flags (no global flags).
#
# CAFLOW_SANITIZE (cache string, default OFF):
#   ON / address  AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer
#                 included); UB is fatal (-fno-sanitize-recover) so a test
#                 that hits UB fails instead of printing a line nobody reads.
#                 tools/sanitize.sh builds build-asan this way and runs CTest.
#   thread        ThreadSanitizer. CAF 0.17 and RocksDB come from Debian and
#                 are not instrumented, so races inside them (or synchronised
#                 only by their atomics) are invisible or reported falsely:
#                 see tools/sanitizers/tsan.supp.
# CAFLOW_FUZZ (bool, default OFF; clang only): every caflow target is compiled
#   with -fsanitize=fuzzer-no-link,address,undefined; the libFuzzer targets in
#   tests/fuzz link with -fsanitize=fuzzer. tools/fuzz.sh builds build-fuzz.
set(CAFLOW_SANITIZE OFF CACHE STRING "Sanitizers: OFF, ON (= address: ASan+UBSan) or thread (TSan)")
set_property(CACHE CAFLOW_SANITIZE PROPERTY STRINGS OFF ON address thread)
option(CAFLOW_FUZZ "Build the libFuzzer targets (clang): ASan+UBSan+fuzzer coverage" OFF)

set(CAFLOW_SANITIZER_COMPILE_FLAGS "")
set(CAFLOW_SANITIZER_LINK_FLAGS "")
if(CAFLOW_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "CAFLOW_FUZZ needs clang (libFuzzer): configure with CC=clang CXX=clang++")
  endif()
  set(CAFLOW_SANITIZER_COMPILE_FLAGS
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer)
  set(CAFLOW_SANITIZER_LINK_FLAGS -fsanitize=address,undefined)
elseif(CAFLOW_SANITIZE STREQUAL "thread")
  set(CAFLOW_SANITIZER_COMPILE_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
  set(CAFLOW_SANITIZER_LINK_FLAGS -fsanitize=thread)
elseif(CAFLOW_SANITIZE)
  # vptr (part of -fsanitize=undefined in GCC) checks dynamic types against
  # typeinfo; that works across caflow's own shared objects (plugins included)
  # because all of them are instrumented and typeinfo is exported.
  set(CAFLOW_SANITIZER_COMPILE_FLAGS
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  set(CAFLOW_SANITIZER_LINK_FLAGS -fsanitize=address,undefined)
endif()

function(caflow_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(CAFLOW_SANITIZER_COMPILE_FLAGS)
    target_compile_options(${target} PRIVATE ${CAFLOW_SANITIZER_COMPILE_FLAGS})
    target_link_options(${target} PRIVATE ${CAFLOW_SANITIZER_LINK_FLAGS})
  endif()
endfunction()

# A sanitized libcaflow.so needs the sanitizer runtime loaded first, i.e.
# linked into the executable: every consumer of the library target (the host
# example in this tree, or a program built against an installed sanitized
# caflow) links with the same -fsanitize flags.
function(caflow_library_sanitizer_interface target)
  if(CAFLOW_SANITIZER_LINK_FLAGS)
    target_link_options(${target} INTERFACE ${CAFLOW_SANITIZER_LINK_FLAGS})
  endif()
endfunction()
