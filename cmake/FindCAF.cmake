# Finds CAF 0.17 (Debian's libcaf-dev ships no CMake package) and defines the
# imported targets CAF::core, CAF::io and CAF::openssl. Each library is named
# exactly: libcaf_openmpi in the same directory is an unrelated project.
find_path(CAF_INCLUDE_DIR caf/all.hpp)
set(_caf_vars CAF_INCLUDE_DIR)
foreach(_caf_lib core io openssl)
  find_library(CAF_${_caf_lib}_LIBRARY NAMES caf_${_caf_lib})
  list(APPEND _caf_vars CAF_${_caf_lib}_LIBRARY)
endforeach()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CAF REQUIRED_VARS ${_caf_vars})
if(CAF_FOUND)
  foreach(_caf_lib core io openssl)
    if(NOT TARGET CAF::${_caf_lib})
      add_library(CAF::${_caf_lib} SHARED IMPORTED)
      set_target_properties(CAF::${_caf_lib} PROPERTIES
        IMPORTED_LOCATION "${CAF_${_caf_lib}_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}")
    endif()
  endforeach()
  set_property(TARGET CAF::io APPEND PROPERTY INTERFACE_LINK_LIBRARIES CAF::core)
  set_property(TARGET CAF::openssl APPEND PROPERTY INTERFACE_LINK_LIBRARIES CAF::io)
endif()
