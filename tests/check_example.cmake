# Runs an example for one output interval (end time = 0) in a scratch folder,
# so that a parameter that no longer exists or parses fails the test.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
execute_process(
  COMMAND ${BINARY} ${PRM} --set "Time/end time=0"
          --set "Output/directory=${WORK}/output"
  WORKING_DIRECTORY ${WORK}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE error)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${PRM} does not run:\n${output}\n${error}")
endif()
if(NOT EXISTS ${WORK}/output/metrics.csv)
  message(FATAL_ERROR "${PRM} wrote no metrics.csv")
endif()
