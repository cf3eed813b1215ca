# Per-target warning and sanitizer flags (no global flags).
function(caflow_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(CAFLOW_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
