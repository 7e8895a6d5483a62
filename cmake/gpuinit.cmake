# Shared compile settings for every gpu-init target.

add_library(gpuinit_warnings INTERFACE)
target_compile_options(gpuinit_warnings INTERFACE -Wall -Wextra -Wpedantic)

if(GPUINIT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(GPUINIT_FUZZ)
  # Instrument every library so the fuzzers see coverage of the code they drive.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# gpuinit_library(NAME SOURCES... [DEPS ...]): a static library with public headers
# in <dir>/include and our warnings.
function(gpuinit_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE gpuinit_warnings ${ARG_PRIVATE_DEPS})
endfunction()

# Subdirectories that a later piece of work fills in: added only when present.
function(gpuinit_add_subdirs)
  foreach(dir ${ARGN})
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/CMakeLists.txt)
      add_subdirectory(${dir})
    endif()
  endforeach()
endfunction()
