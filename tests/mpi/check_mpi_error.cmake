# Runs `mpirun -np RANKS attnflow ARGS` that must fail: every rank ends
# (no rank left waiting), mpirun exits with EXPECTED, the message MESSAGE
# (a regular expression) is printed exactly once, and for a bad input
# (EXPECTED = 1) the run folder WORK/output is never created.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
separate_arguments(mpiexec_flags UNIX_COMMAND "${MPIEXEC_FLAGS}")
separate_arguments(arguments UNIX_COMMAND "${ARGS}")
if(DEFINED SETUP)
  # A folder that is not attnflow's: a file that is no run's.
  file(WRITE ${WORK}/output/notes.txt "a user's file\n")
endif()
execute_process(
  COMMAND ${MPIEXEC} ${MPIEXEC_NUMPROC_FLAG} ${RANKS} ${mpiexec_flags}
          ${BINARY} ${arguments} --set "Output/directory=${WORK}/output"
  WORKING_DIRECTORY ${WORK}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE error
  TIMEOUT 60)
if(NOT result EQUAL EXPECTED)
  message(FATAL_ERROR "exit ${result}, expected ${EXPECTED}:\n${output}\n${error}")
endif()
string(REGEX MATCHALL "${MESSAGE}" messages "${error}")
list(LENGTH messages n_messages)
if(NOT n_messages EQUAL 1)
  message(FATAL_ERROR "'${MESSAGE}' printed ${n_messages} times:\n${error}")
endif()
if(EXPECTED EQUAL 1 AND NOT DEFINED SETUP AND EXISTS ${WORK}/output)
  message(FATAL_ERROR "a bad input created the run folder ${WORK}/output")
endif()
if(DEFINED SETUP)
  file(GLOB left RELATIVE ${WORK}/output ${WORK}/output/*)
  if(NOT left STREQUAL "notes.txt")
    message(FATAL_ERROR "the user's folder was changed: ${left}")
  endif()
endif()
