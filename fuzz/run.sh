#!/usr/bin/env bash
# libFuzzer targets for the code that reads untrusted input (issue 7): builds them through CMake
# (-DMAILPROBE_FUZZ=ON with clang 14: the core library with coverage, ASan and UBSan; see
# fuzz/CMakeLists.txt) in their own build directory and runs each for a bounded time from the
# seed corpus in fuzz/corpus/<target>/. Fails on any crash, sanitizer report, leak, timeout or
# out-of-memory.
#
#   bash fuzz/run.sh                         # every target, FUZZ_SECONDS each
#   FUZZ_SECONDS=10 bash fuzz/run.sh fuzz_range fuzz_imap
#   bash fuzz/run.sh --build-only
#
# Environment: FUZZ_SECONDS (default 60) per target, FUZZ_JOBS targets at a time (default:
# the number of CPUs), FUZZ_BUILD_DIR (default build-fuzz in
# the source tree), CXX (default clang++-14).
# New inputs found go to FUZZ_BUILD_DIR/corpus/<target> (the checked-in seeds stay as they
# are); a crashing input is kept as FUZZ_BUILD_DIR/artifacts/<target>-crash-* and its log
# printed. Reproduce: FUZZ_BUILD_DIR/fuzz/bin/<target> FILE
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
SECONDS_EACH=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-$(nproc)}
BUILD=${FUZZ_BUILD_DIR:-$SRC/build-fuzz}
# A build directory configured from another checkout makes cmake refuse at once: start afresh.
if [ -f "$BUILD/CMakeCache.txt" ] &&
   ! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$SRC" "$BUILD/CMakeCache.txt"; then
  echo "fuzz: $BUILD was configured from another source tree; removing its cache"
  rm -rf "$BUILD/CMakeCache.txt" "$BUILD/CMakeFiles"
fi
CXX=${CXX:-clang++-14}
command -v "$CXX" >/dev/null || CXX=clang++

mapfile -t ALL_TARGETS < <(cd fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')

build_only=0
targets=()
for arg in "$@"; do
  case $arg in
    --build-only) build_only=1 ;;
    fuzz_*) targets+=("$arg") ;;
    *) echo "fuzz/run.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")

mkdir -p "$BUILD/corpus" "$BUILD/artifacts" "$BUILD/logs"

# ---------------------------------------------------------------- build
echo "fuzz: building with $($CXX --version | head -1) in $BUILD"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$SRC" -B "$BUILD" -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_BUILD_TYPE=Debug \
      -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" -DMAILPROBE_FUZZ=ON -DMAILPROBE_TESTS=OFF \
      "${launcher[@]}" >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target "${targets[@]}"
BIN=$BUILD/fuzz/bin
if [ $build_only -eq 1 ]; then echo "fuzz: built ${targets[*]}"; exit 0; fi

# ---------------------------------------------------------------- run
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
run_target() {
  local t=$1
  mkdir -p "$BUILD/corpus/$t"
  local log="$BUILD/logs/$t.log"
  if "$BIN/$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=1024 \
       -max_len=16384 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$t-" \
       "$BUILD/corpus/$t" "$SRC/fuzz/corpus/$t" >"$log" 2>&1; then
    local runs
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz: $t ok ($runs runs in ${SECONDS_EACH}s, corpus $(ls "$BUILD/corpus/$t" | wc -l))"
  else
    echo "fuzz: $t FAILED -- log $log:" >&2
    tail -60 "$log" >&2
    return 1
  fi
}
echo "fuzz: ${#targets[@]} targets, ${SECONDS_EACH}s each, $JOBS at a time"
failed=0
pids=()
names=()
for t in "${targets[@]}"; do
  run_target "$t" &
  pids+=($!)
  names+=("$t")
  if [ ${#pids[@]} -ge "$JOBS" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
if [ $failed -ne 0 ]; then
  echo "fuzz: FAILED (crash inputs in $BUILD/artifacts)" >&2
  exit 1
fi
echo "fuzz: all targets ok"
