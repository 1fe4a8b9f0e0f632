# Registers one ctest test per GoogleTest test suite of an executable (run after it is built):
# every process start loads LibTorch (~0.7 s on the 2-core machine), so a test per suite
# instead of one per TEST saves minutes over ~600 tests. A failing suite's output names the
# failing TESTs; run one alone with  EXE --gtest_filter='Suite.Name'.
#   cmake -D EXE=... -D OUT=... -D LABEL=... -D TIMEOUT=... -D WORKDIR=... -P gtest_suites.cmake
execute_process(COMMAND "${EXE}" --gtest_list_tests OUTPUT_VARIABLE listing RESULT_VARIABLE rc
                WORKING_DIRECTORY "${WORKDIR}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} --gtest_list_tests failed (${rc})")
endif()
string(REPLACE "\n" ";" lines "${listing}")
get_filename_component(exe_name "${EXE}" NAME)
set(script "")
foreach(line IN LISTS lines)
  if(line MATCHES "^([^ #][^ ]*\\.)")
    set(suite "${CMAKE_MATCH_1}")
    string(REGEX REPLACE "\\.$" "" test_name "${suite}")
    string(APPEND script
      "add_test([==[${test_name}]==] [==[${EXE}]==] [==[--gtest_filter=${suite}*]==])\n"
      "set_tests_properties([==[${test_name}]==] PROPERTIES LABELS [==[${LABEL}]==] TIMEOUT ${TIMEOUT}"
      " WORKING_DIRECTORY [==[${WORKDIR}]==])\n")
  endif()
endforeach()
file(WRITE "${OUT}" "${script}")
