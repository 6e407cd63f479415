# Runs PRM in serial and under `mpirun -np RANKS` and requires the same
# answers (doc/theory.md section 10): every tokens_NNNN.csv byte for byte
# (the field is summed target by target as in serial and all-gathered), and
# metrics.csv byte for byte too for token runs; with a density, whose mesh
# is shared out over the ranks, metrics.csv within round-off (COMPARE,
# compare_metrics.cc) and the density as .pvtu records of a piece per rank.
# The run header is printed once.
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
  if(name STREQUAL "metrics.csv" AND EXISTS ${WORK}/serial/density.pvd)
    # The density's sums run over the ranks' cells in another order: the
    # same numbers up to round-off (compare_metrics.cc says how close).
    execute_process(
      COMMAND ${COMPARE} ${WORK}/serial/${name} ${WORK}/ranks/${name}
      RESULT_VARIABLE result
      OUTPUT_VARIABLE report)
    if(NOT result EQUAL 0)
      message(FATAL_ERROR "${name} of ${RANKS} ranks differs from the serial "
                          "run's: ${report}(${WORK}/serial, ${WORK}/ranks)")
    endif()
    message(STATUS "${name}: ${report}")
    continue()
  endif()
  file(READ ${WORK}/serial/${name} serial_text)
  file(READ ${WORK}/ranks/${name} ranks_text)
  if(NOT serial_text STREQUAL ranks_text)
    message(FATAL_ERROR "${name} of ${RANKS} ranks differs from the serial "
                        "run's (${WORK}/serial, ${WORK}/ranks)")
  endif()
endforeach()
message(STATUS "${RANKS} ranks = serial: ${files}")

# The density as one .pvtu per output time (in density.pvd) with a .vtu
# piece per rank.
if(EXISTS ${WORK}/serial/density.pvd)
  file(READ ${WORK}/ranks/density.pvd pvd)
  string(REGEX MATCHALL "density_[0-9]+\\.pvtu" records "${pvd}")
  list(LENGTH records n_records)
  file(GLOB serial_vtu ${WORK}/serial/density_*.vtu)
  list(LENGTH serial_vtu n_outputs)
  if(NOT n_records EQUAL n_outputs)
    message(FATAL_ERROR "density.pvd of ${RANKS} ranks lists ${n_records} "
                        ".pvtu records for ${n_outputs} outputs:\n${pvd}")
  endif()
  foreach(record ${records})
    file(READ ${WORK}/ranks/${record} text)
    string(REGEX MATCHALL "Piece Source=\"[^\"]+\"" pieces "${text}")
    list(LENGTH pieces n_pieces)
    if(NOT n_pieces EQUAL RANKS)
      message(FATAL_ERROR "${record} has ${n_pieces} pieces for ${RANKS} ranks")
    endif()
    foreach(piece ${pieces})
      string(REGEX REPLACE "Piece Source=\"([^\"]+)\"" "\\1" file "${piece}")
      if(NOT EXISTS ${WORK}/ranks/${file})
        message(FATAL_ERROR "${record} names the missing piece ${file}")
      endif()
    endforeach()
  endforeach()
  message(STATUS "density: ${n_records} .pvtu records of ${RANKS} pieces")
endif()
