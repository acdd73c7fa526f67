# ctest guard: every test case of a Catch2 executable must reach ctest intact. catch_discover_tests
# registers each case by its name, which ctest passes back to the executable as a test spec. A name
# with a ';' is cut there (a CMake list separator), and '*', '\', '"' or a leading '~' change what the
# spec selects: such a case would be registered, match nothing ("No test cases matched") and pass
# without running. Usage: cmake -DEXE=<test executable> -P CheckTestNames.cmake
if(NOT EXE)
    message(FATAL_ERROR "pass -DEXE=<a Catch2 test executable>")
endif()
execute_process(COMMAND "${EXE}" --list-test-names-only OUTPUT_VARIABLE out RESULT_VARIABLE rc)
# (Catch2 v2 exits with the number of tests listed, so rc is not an error code here.)
string(LENGTH "${out}" length)
if(length EQUAL 0)
    message(FATAL_ERROR "${EXE} --list-test-names-only printed nothing (rc ${rc})")
endif()
string(REPLACE ";" "<semicolon>" out "${out}")
string(REPLACE "\n" ";" lines "${out}")
set(bad "")
set(count 0)
foreach(line IN LISTS lines)
    if(line STREQUAL "")
        continue()
    endif()
    math(EXPR count "${count} + 1")
    if(line MATCHES "<semicolon>|[*\\\\\"]|^~")
        string(APPEND bad "\n  ${line}")
    endif()
endforeach()
if(NOT bad STREQUAL "")
    message(FATAL_ERROR "test case names that ctest cannot pass back to ${EXE} (they would match nothing and pass "
                        "without running; write them without ; * \\ \" or a leading ~):${bad}")
endif()
message(STATUS "${count} test case names, each passes through ctest intact")
