# racksmith_module(NAME SOURCES a.cc b.cc DEPS rs_other PkgConfig::X ...)
#   Builds src/NAME as the static library rs_NAME.
function(racksmith_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(rs_${name} STATIC ${M_SOURCES})
  target_link_libraries(rs_${name} PUBLIC racksmith_settings ${M_DEPS})
  set_property(GLOBAL APPEND PROPERTY RACKSMITH_MODULES rs_${name})
endfunction()

# racksmith_module_tests(NAME SOURCES a_test.cc ... DEPS rs_NAME ...)
#   Adds the test sources to racksmith_tests (the one test binary) and also builds
#   racksmith_tests_NAME (not in `all`): only this module's tests, for fast iteration.
function(racksmith_module_tests name)
  cmake_parse_arguments(T "" "" "SOURCES;DEPS" ${ARGN})
  add_library(rs_${name}_tests OBJECT ${T_SOURCES})
  target_link_libraries(rs_${name}_tests PUBLIC rs_test_support ${T_DEPS})
  add_executable(racksmith_tests_${name} EXCLUDE_FROM_ALL)
  target_link_libraries(racksmith_tests_${name} PRIVATE rs_${name}_tests rs_test_support)
  add_dependencies(racksmith_tests_${name} racksmith)
  set_property(GLOBAL APPEND PROPERTY RACKSMITH_TEST_OBJECTS rs_${name}_tests)
endfunction()

function(racksmith_finish_tests)
  get_property(objs GLOBAL PROPERTY RACKSMITH_TEST_OBJECTS)
  add_executable(racksmith_tests)
  target_link_libraries(racksmith_tests PRIVATE ${objs} rs_test_support)
  add_dependencies(racksmith_tests racksmith)
  # Each Catch2 test case becomes its own ctest entry; ctest -j runs them in parallel.
  catch_discover_tests(racksmith_tests PROPERTIES TIMEOUT 300)
endfunction()
