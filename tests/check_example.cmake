# Runs an example for one output interval (end time = 0) in a scratch folder,
# so that a parameter that no longer exists or parses fails the test. A file
# with a Convergence section is also checked as a study (--dry-run: every
# run's parameters and the study's own, without running it).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(modes "run")
file(READ ${PRM} text)
set(is_study FALSE)
if(text MATCHES "subsection Convergence")
  set(is_study TRUE)
  list(APPEND modes "--dry-run")
endif()
set(is_ensemble FALSE)
if(text MATCHES "subsection Ensemble")
  set(is_ensemble TRUE)
  list(APPEND modes "--ensemble")
endif()
foreach(mode ${modes})
  if(mode STREQUAL "run")
    set(mode_arguments "")
  elseif(mode STREQUAL "--ensemble")
    set(mode_arguments --ensemble --dry-run)
  else()
    set(mode_arguments --convergence --dry-run)
  endif()
  execute_process(
    COMMAND ${BINARY} ${mode_arguments} ${PRM} --set "Time/end time=0"
            --set "Output/directory=${WORK}/output${mode}"
            --set "Convergence/plot=false"
    WORKING_DIRECTORY ${WORK}
    RESULT_VARIABLE result
    OUTPUT_VARIABLE output
    ERROR_VARIABLE error)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${PRM} does not run (${mode}):\n${output}\n${error}")
  endif()
endforeach()
if(NOT EXISTS ${WORK}/outputrun/metrics.csv)
  message(FATAL_ERROR "${PRM} wrote no metrics.csv")
endif()
if(is_study AND NOT output MATCHES "attnflow convergence study")
  message(FATAL_ERROR "${PRM}: the dry run describes no study:\n${output}")
endif()
if(is_ensemble AND NOT output MATCHES "attnflow ensemble")
  message(FATAL_ERROR "${PRM}: the dry run describes no ensemble:\n${output}")
endif()
