#!/usr/bin/env bash
# Runs clang-tidy (config: .clang-tidy) over every source of common/ and plugins/, using the
# compile commands of a configured build directory. Exit status non-zero on any finding.
#   bash scripts/clang-tidy.sh                    # build dir "build" (configured if missing)
#   BUILD_DIR=build-test bash scripts/clang-tidy.sh common/curl/*.cpp
#   JOBS=2 (default: number of CPUs)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
TIDY=${CLANG_TIDY:-clang-tidy-14}
command -v "$TIDY" >/dev/null || TIDY=clang-tidy

if [ ! -f "$BUILD_DIR/compile_commands.json" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
fi
# Generated headers (version.hpp) must exist for the translation units to parse.
[ -f "$BUILD_DIR/common/generated/version.hpp" ] ||
  cmake -S . -B "$BUILD_DIR" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null

if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(find common plugins -name '*.cpp' | sort)
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "clang-tidy: ${#files[@]} files with $($TIDY --version | grep -o 'version [0-9.]*'), $JOBS at a time"
status=0
printf '%s\n' "${files[@]}" |
  xargs -P "$JOBS" -n 2 "$TIDY" -p "$BUILD_DIR" --quiet >"$log" 2>&1 || status=$?
# Only findings, not the "N warnings generated" chatter.
grep -E '^(/|[a-z]).*(warning|error):' "$log" | sort -u || true
if [ $status -ne 0 ] || grep -qE '(warning|error):' "$log"; then
  echo "clang-tidy: findings (see above)" >&2
  exit 1
fi
echo "clang-tidy: clean"
