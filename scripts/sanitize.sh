#!/usr/bin/env bash
# Builds attnflow with AddressSanitizer and UndefinedBehaviorSanitizer in a
# separate folder (build-sanitize/) and runs the fast tests there: every
# ctest test except the long studies, the ParaView rendering and the
# examples that run for minutes. Any report of either sanitizer fails the
# run (halt_on_error, no recovery). Leak checking is off: MPI and Trilinos
# keep their allocations until exit by design.
#
#   scripts/sanitize.sh [extra ctest arguments, e.g. -R Output]
#
# Takes about an hour on 2 cores (a clean build, then the tests at a
# third of their usual speed).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-sanitize
flags="-fsanitize=address,undefined -fno-sanitize-recover=all"
flags+=" -fno-omit-frame-pointer -g"
launcher=()
if command -v ccache > /dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
  -DATTNFLOW_NATIVE=OFF -DATTNFLOW_BUILD_BENCHMARKS=OFF \
  -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"
# Set before the build too: it runs the test binary to list its tests.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cmake --build "$build" -j"${JOBS:-2}" --target attnflow attnflow_tests attnflow_fuzz
# The slow tests (minutes each even without sanitizers) are left out, and
# the one refinement study of the unit tests, which takes over 30 minutes
# under AddressSanitizer.
slow="paraview_render|ConvergenceStudy"
slow+="|ContinuitySolver.GaussianMomentsConvergeUnderRefinement"
ctest --test-dir "$build" --output-on-failure -j"${JOBS:-2}" \
  --timeout 1800 -E "$slow" "$@"
echo "sanitize.sh: AddressSanitizer and UndefinedBehaviorSanitizer: clean"
