#!/usr/bin/env bash
# The paraview_render_mpi test (tests/paraview/CMakeLists.txt), run inside
# xvfb-run: examples/paraview/small.prm on S^2 under `mpirun -np 2`, whose
# density is density_NNNN.pvtu records of a piece per rank, rendered at its
# last output time by examples/paraview/render.py through density.pvd as it
# is, and checked by check_image.py (density and tokens both visible).
#
#   render_mpi_test.sh ATTNFLOW PVBATCH PVPYTHON SOURCE_DIR WORK_DIR MPIEXEC...
set -euo pipefail
attnflow=$1 pvbatch=$2 pvpython=$3 source=$4 work=$5
shift 5
scripts=$source/examples/paraview
rm -rf "$work"
mkdir -p "$work"
"$1" "$2" 2 "${@:3}" "$attnflow" "$scripts/small.prm" \
  --set "Output/directory=$work/run" > "$work/run.log"
ls "$work/run"/density_*.pvtu > /dev/null
"$pvbatch" "$scripts/render.py" "$work/run" --times last --output "$work/frames"
"$pvpython" "$scripts/check_image.py" "$work/frames"/frame_*.png
