# Shared build settings: warnings as errors everywhere, sanitizers and fuzzing switches.
add_compile_options(-Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor
  -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports false positives at -O2 in libstdc++ headers (PR 105329, 106199) and on
  # reference-counted buffers it cannot prove alive (-Wuse-after-free, PR 106119).
  add_compile_options(-Wno-restrict -Wno-array-bounds -Wno-stringop-overflow -Wno-use-after-free)
endif()
if(WPSIM_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
if(WPSIM_FUZZ)
  # -fno-sanitize-recover=all: a UBSan report aborts the fuzz target (a finding), instead of
  # printing and carrying on as if the input were fine.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  set(CMAKE_C_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

# wpsim_module(NAME SOURCES_DIR DEPS...): a static library from every .cc in the folder
# (non-recursive; subfolders may add their own). Headers are included as "module/file.h".
function(wpsim_module name)
  cmake_parse_arguments(ARG "" "" "DEPS;PRIVATE_DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  if(srcs)
    add_library(${name} STATIC ${srcs})
    target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  else()
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
  endif()
endfunction()

# wpsim_test(NAME DEPS...): one GoogleTest binary from every *_test.cc in the current folder;
# each TEST becomes a ctest case (gtest_discover_tests), labelled with the folder name.
include(GoogleTest)
function(wpsim_test name)
  cmake_parse_arguments(ARG "" "" "DEPS;LABELS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
  if(NOT srcs)
    return()
  endif()
  add_executable(${name} ${srcs})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE WPSIM_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    WPSIM_BINARY_DIR="${PROJECT_BINARY_DIR}")
  # 900 s: the mutation test runs the whole suite once per injected bug, ~3 min under ASan.
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${ARG_LABELS}"
    TIMEOUT 900)
endfunction()

# wpsim_subdirectories(): add_subdirectory() for every direct subfolder holding a CMakeLists.txt
# (so each owner's subfolder builds on its own without editing the parent).
function(wpsim_subdirectories)
  file(GLOB children LIST_DIRECTORIES true CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child ${children})
    if(IS_DIRECTORY ${child} AND EXISTS ${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()

# wpsim_protocol_module(NAME DEPS...): a protocol/<sub> library registered into wpsim_protocol.
function(wpsim_protocol_module name)
  wpsim_module(${name} ${ARGN})
  set(WPSIM_PROTOCOL_LIBS ${WPSIM_PROTOCOL_LIBS} ${name} CACHE INTERNAL "")
endfunction()
