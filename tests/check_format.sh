#!/usr/bin/env bash
# The clang_format test (tests/CMakeLists.txt): every C++ source of the
# repository (.h and .cc, tracked or new and not ignored by git) must be
# formatted as the repository's .clang-format says, with the pinned
# clang-format 14 (Debian 12's), so that an unformatted change fails the
# suite. Fix a failure with `clang-format-14 -i FILE`.
#
#   check_format.sh SOURCE_DIR
set -euo pipefail
source_dir=$1

# The pinned version: clang-format-14, or a clang-format that says it is 14
# (other versions format some constructs differently).
formatter=""
for candidate in clang-format-14 clang-format; do
  if command -v "$candidate" > /dev/null &&
     "$candidate" --version | grep -q "version 14\."; then
    formatter=$(command -v "$candidate")
    break
  fi
done
if [ -z "$formatter" ]; then
  echo "clang_format: clang-format 14 not found (clang-format-14, or a" \
       "clang-format whose --version says 14): run scripts/setup.sh," \
       "which installs it" >&2
  exit 1
fi

cd "$source_dir"
if ! git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  echo "clang_format: $source_dir is not a git work tree; the check formats" \
       "the files git tracks" >&2
  exit 1
fi
files=()
while IFS= read -r -d '' file; do
  [ -f "$file" ] && files+=("$file")
done < <(git ls-files -z --cached --others --exclude-standard -- '*.h' '*.cc')
if [ ${#files[@]} -eq 0 ]; then
  echo "clang_format: no .h or .cc files found under $source_dir" >&2
  exit 1
fi

unformatted=()
for file in "${files[@]}"; do
  if ! "$formatter" --dry-run --Werror "$file" > /dev/null 2>&1; then
    unformatted+=("$file")
  fi
done
if [ ${#unformatted[@]} -gt 0 ]; then
  echo "clang_format: ${#unformatted[@]} of ${#files[@]} files are not" \
       "formatted ($formatter, .clang-format):" >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  echo "fix with: $formatter -i FILE ..." >&2
  exit 1
fi
echo "clang_format: ${#files[@]} files formatted ($formatter)"
