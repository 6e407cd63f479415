# Runs PRM in serial and under `mpirun -np RANKS` and requires the same
# answers: metrics.csv and every tokens_NNNN.csv byte for byte (the field is
# summed target by target as in serial and all-gathered, doc/theory.md
# section 10), and the run header printed once.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
separate_arguments(mpiexec_flags UNIX_COMMAND "${MPIEXEC_FLAGS}")

function(run_attnflow folder)
  execute_process(
    COMMAND ${ARGN} ${BINARY} ${PRM} --set "Output/directory=${WORK}/${folder}"
    WORKING_DIRECTORY ${WORK}
    RESULT_VARIABLE result
    OUTPUT_VARIABLE output
    ERROR_VARIABLE error)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${folder}: exit ${result}\n${output}\n${error}")
  endif()
  set(output "${output}" PARENT_SCOPE)
endfunction()

run_attnflow(serial)
run_attnflow(ranks ${MPIEXEC} ${MPIEXEC_NUMPROC_FLAG} ${RANKS}
             ${mpiexec_flags})

# The progress header once: rank 0 alone prints.
string(REGEX MATCHALL "attnflow: [RS]\\^" headers "${output}")
list(LENGTH headers n_headers)
if(NOT n_headers EQUAL 1)
  message(FATAL_ERROR "the run header is printed ${n_headers} times:\n${output}")
endif()

file(GLOB files RELATIVE ${WORK}/serial ${WORK}/serial/metrics.csv
     ${WORK}/serial/tokens_*.csv)
list(LENGTH files n_files)
if(n_files LESS 2)
  message(FATAL_ERROR "the serial run wrote too few files: ${files}")
endif()
foreach(name ${files})
  if(NOT EXISTS ${WORK}/ranks/${name})
    message(FATAL_ERROR "${RANKS} ranks wrote no ${name}")
  endif()
  file(READ ${WORK}/serial/${name} serial_text)
  file(READ ${WORK}/ranks/${name} ranks_text)
  if(NOT serial_text STREQUAL ranks_text)
    message(FATAL_ERROR "${name} of ${RANKS} ranks differs from the serial "
                        "run's (${WORK}/serial, ${WORK}/ranks)")
  endif()
endforeach()
message(STATUS "${RANKS} ranks = serial: ${files}")
