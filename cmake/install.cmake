# `cmake --install` for convoy: the library, the public headers (cmake/public_headers.cmake)
# and an exported package config, so another project does
#   find_package(convoy REQUIRED)  ...  target_link_libraries(app PRIVATE convoy::convoy)
# Layout under the prefix:
#   lib/libconvoy.a                       the library
#   include/convoy/convoy.h, version.h    the umbrella and version headers
#   include/convoy/<folder>/*.h           the public headers, in their source folders
#   lib/cmake/convoy/                     convoyConfig.cmake, convoyConfigVersion.cmake, targets
# The headers include each other as "engine/tensor.h", so convoy::convoy puts both
# <prefix>/include (for <convoy/convoy.h>) and <prefix>/include/convoy on the include path.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
include(${CMAKE_CURRENT_LIST_DIR}/public_headers.cmake)

set(CONVOY_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/convoy" CACHE STRING
    "Where the package config goes, relative to the prefix")

convoy_public_headers(CONVOY_PUBLIC_HEADERS)
foreach(header IN LISTS CONVOY_PUBLIC_HEADERS)
  get_filename_component(folder "${header}" DIRECTORY)
  if(folder STREQUAL "convoy")
    install(FILES "${PROJECT_SOURCE_DIR}/${header}" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/convoy")
  else()
    install(FILES "${PROJECT_SOURCE_DIR}/${header}" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/convoy/${folder}")
  endif()
endforeach()
install(FILES "${CONVOY_GENERATED_INCLUDE_DIR}/convoy/version.h" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/convoy")

install(TARGETS convoy EXPORT convoyTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(EXPORT convoyTargets NAMESPACE convoy:: DESTINATION "${CONVOY_INSTALL_CMAKEDIR}")

# Which optional components this build has (dist/ may add MPI and NCCL).
if(DEFINED CONVOY_WITH_MPI)
  set(CONVOY_CONFIG_WITH_MPI ${CONVOY_WITH_MPI})
elseif(DEFINED CONVOY_ENABLE_MPI AND CONVOY_ENABLE_MPI AND TARGET MPI::MPI_CXX)
  set(CONVOY_CONFIG_WITH_MPI ON)
else()
  set(CONVOY_CONFIG_WITH_MPI OFF)
endif()
# The CUDA component is a real CUDA backend; an emulated-device build does not have it.
if(CONVOY_WITH_CUDA AND NOT CONVOY_CUDA_EMULATED)
  set(CONVOY_CONFIG_WITH_CUDA ON)
else()
  set(CONVOY_CONFIG_WITH_CUDA OFF)
endif()
if(DEFINED CONVOY_WITH_NCCL)
  set(CONVOY_CONFIG_WITH_NCCL ${CONVOY_WITH_NCCL})
else()
  set(CONVOY_CONFIG_WITH_NCCL OFF)
endif()

configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/convoyConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/convoyConfig.cmake"
  INSTALL_DESTINATION "${CONVOY_INSTALL_CMAKEDIR}")
# 0.x releases promise nothing across minor versions; from 1.0 on, same major is compatible.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(convoy_compatibility SameMinorVersion)
else()
  set(convoy_compatibility SameMajorVersion)
endif()
write_basic_package_version_file("${PROJECT_BINARY_DIR}/convoyConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY ${convoy_compatibility})
install(FILES "${PROJECT_BINARY_DIR}/convoyConfig.cmake" "${PROJECT_BINARY_DIR}/convoyConfigVersion.cmake"
  DESTINATION "${CONVOY_INSTALL_CMAKEDIR}")

# The convoy-* tools, whichever tools/CMakeLists.txt made.
if(CONVOY_BUILD_TOOLS)
  get_property(convoy_tool_targets DIRECTORY "${PROJECT_SOURCE_DIR}/tools" PROPERTY BUILDSYSTEM_TARGETS)
  foreach(tool IN LISTS convoy_tool_targets)
    get_target_property(tool_type ${tool} TYPE)
    if(tool_type STREQUAL "EXECUTABLE")
      install(TARGETS ${tool} RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
    endif()
  endforeach()
endif()
