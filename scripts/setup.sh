#!/usr/bin/env bash
# Installs what attnflow needs on Debian 12 (only what is missing; with
# clang-format-14, the pinned formatter of the clang_format test), then
# configures and builds it in Release into build/ with two jobs.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake make g++ libdeal.ii-dev libgtest-dev libbenchmark-dev
          openmpi-bin python3-numpy libopenblas0-pthread
          paraview python3-paraview xvfb xauth gnuplot-nox
          clang-format-14)
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
       grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "attnflow setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y \
    --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2
