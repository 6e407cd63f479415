#!/usr/bin/env bash
# The paraview_render test (tests/paraview/CMakeLists.txt), run inside one
# xvfb-run: examples/paraview/small.prm on the sphere S^2, on the circle S^1
# and in a box of R^2, each rendered at its last output time by
# examples/paraview/render.py and checked by check_image.py (density and
# tokens both visible); then the checks that must fail do: a frame without
# the tokens, and render.py on a folder without the .pvd records.
#
#   render_test.sh ATTNFLOW PVBATCH PVPYTHON SOURCE_DIR WORK_DIR
set -euo pipefail
attnflow=$1 pvbatch=$2 pvpython=$3 source=$4 work=$5
scripts=$source/examples/paraview

if ! "$pvpython" -c "import paraview.simple" 2>/dev/null; then
  echo "paraview_render: $pvpython cannot import paraview.simple:" \
       "install ParaView's Python modules (scripts/setup.sh)" >&2
  exit 1
fi
rm -rf "$work"
mkdir -p "$work"

# run_pvbatch ARGS...: pvbatch ARGS, again (three tries) when it could not
# connect to the X server, which a loaded machine has been seen to refuse.
run_pvbatch() {
  local try
  for try in 1 2 3; do
    if "$pvbatch" "$@" > "$work/pvbatch.log" 2>&1; then
      cat "$work/pvbatch.log"
      return 0
    fi
    grep -q "bad X server connection" "$work/pvbatch.log" || break
    echo "paraview_render: pvbatch found no X server (try $try)" >&2
    sleep 1
  done
  cat "$work/pvbatch.log" >&2
  return 1
}

# render_case NAME [--set ...]: run, render the last output time, check it.
render_case() {
  local name=$1
  shift
  echo "== $name"
  "$attnflow" "$scripts/small.prm" --set "Output/directory=$work/$name" \
    "$@" > "$work/$name.log"
  run_pvbatch "$scripts/render.py" "$work/$name" --times last \
    --output "$work/frames_$name"
  "$pvpython" "$scripts/check_image.py" "$work/frames_$name"/frame_*.png
}

render_case sphere
render_case circle --set "Model/dimension=2" --set "Density/refinements=4"
render_case plane --set "Model/geometry=euclidean" --set "Model/dimension=2" \
  --set "Model/beta=1" --set "Initial condition/type=gaussian" \
  --set "Initial condition/means=0.3, -0.2" \
  --set "Initial condition/covariances=0.2, 0.1; 0.1, 0.3" \
  --set "Density/lower corner=-2" --set "Density/upper corner=2" \
  --set "Density/refinements=4"

echo "== must fail: a frame without the tokens"
run_pvbatch "$scripts/render.py" "$work/sphere" --times last --no-tokens \
  --output "$work/frames_no_tokens"
if "$pvpython" "$scripts/check_image.py" "$work/frames_no_tokens"/frame_*.png
then
  echo "paraview_render: check_image.py accepted a frame without tokens" >&2
  exit 1
fi

echo "== must fail: a folder without density.pvd and tokens.pvd"
mkdir -p "$work/empty"
if run_pvbatch "$scripts/render.py" "$work/empty" 2> "$work/empty.log"; then
  echo "paraview_render: render.py accepted an empty folder" >&2
  exit 1
fi
cat "$work/empty.log"
grep -q "no density.pvd and no tokens.pvd" "$work/empty.log"
echo "paraview_render: all checks passed"
