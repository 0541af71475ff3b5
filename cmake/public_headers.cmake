# The public headers are the umbrella header convoy/convoy.h and every project header it
# reaches through `#include "folder/file.h"`, found here by following the includes (so a
# header that a public one starts to include is installed without anyone listing it).
# Everything else stays internal and is not installed.
function(convoy_public_headers out_var)
  set(pending "convoy/convoy.h")
  set(found "")
  while(pending)
    list(POP_FRONT pending header)
    if(header IN_LIST found)
      continue()
    endif()
    set(path "${PROJECT_SOURCE_DIR}/${header}")
    if(NOT EXISTS "${path}")
      continue()  # generated (convoy/version.h) or not ours
    endif()
    list(APPEND found "${header}")
    set_property(DIRECTORY "${PROJECT_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${path}")
    file(STRINGS "${path}" include_lines REGEX "^[ \t]*#[ \t]*include[ \t]+\"[^\"]+\"")
    foreach(line IN LISTS include_lines)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]+\"([^\"]+)\".*$" "\\1" included "${line}")
      list(APPEND pending "${included}")
    endforeach()
  endwhile()
  set(${out_var} "${found}" PARENT_SCOPE)
endfunction()
