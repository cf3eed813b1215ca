# Installs the library, its public headers and a CMake package, so that a host
# program can `find_package(caflow)` and link `caflow::caflow`.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS caflow EXPORT caflowTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/caflow DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(CAFLOW_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/caflow)
install(EXPORT caflowTargets NAMESPACE caflow:: DESTINATION ${CAFLOW_CMAKE_DIR})
configure_package_config_file(cmake/caflowConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/caflowConfig.cmake
  INSTALL_DESTINATION ${CAFLOW_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/caflowConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/caflowConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/caflowConfigVersion.cmake
  cmake/FindCAF.cmake
  DESTINATION ${CAFLOW_CMAKE_DIR})
