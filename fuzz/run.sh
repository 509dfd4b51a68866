#!/usr/bin/env bash
# libFuzzer targets for the code that reads untrusted input (issue 7): builds them with
# clang 14 (-fsanitize=fuzzer,address,undefined) in their own build directory and runs each
# for a bounded time from the seed corpus in fuzz/corpus/<target>/. Fails on any crash,
# sanitizer report, leak, timeout or out-of-memory.
#
#   bash fuzz/run.sh                         # every target, FUZZ_SECONDS each
#   FUZZ_SECONDS=10 bash fuzz/run.sh fuzz_range fuzz_imap
#   bash fuzz/run.sh --build-only
#
# Environment: FUZZ_SECONDS (default 60) per target, FUZZ_JOBS targets at a time (default:
# the number of CPUs), FUZZ_BUILD_DIR (default /tmp/build-fuzz), CXX (default clang++-14).
# New inputs found go to FUZZ_BUILD_DIR/corpus/<target> (the checked-in seeds stay as they
# are); a crashing input is kept as FUZZ_BUILD_DIR/artifacts/<target>-crash-* and its log
# printed. Reproduce: FUZZ_BUILD_DIR/bin/<target> FILE
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
SECONDS_EACH=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-$(nproc)}
BUILD=${FUZZ_BUILD_DIR:-/tmp/build-fuzz}
CXX=${CXX:-clang++-14}
command -v "$CXX" >/dev/null || CXX=clang++

ALL_TARGETS=(fuzz_range fuzz_probe_tag fuzz_received fuzz_imap fuzz_sanitize fuzz_state
             fuzz_secrets fuzz_transcript fuzz_certinfo fuzz_auth_results fuzz_dsn)
# The library code the targets exercise (pure parsers; no network, no Boost).
CORE_SOURCES=(output/range.cpp result/status.cpp probe/probe.cpp probe/canonical.cpp
              probe/subject.cpp relay/headers.cpp
              relay/received.cpp mailbox/imap_parse.cpp output/sanitize.cpp state/codec.cpp
              output/secrets.cpp curl/transcript.cpp curl/certinfo.cpp curl/easy.cpp relay/tls.cpp
              verdict/auth_results.cpp verdict/mime.cpp verdict/dsn.cpp)

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

mkdir -p "$BUILD/obj" "$BUILD/bin" "$BUILD/corpus" "$BUILD/artifacts" "$BUILD/logs"
FLAGS=(-std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
       -fno-sanitize-recover=all -I "$SRC/common" -I "$SRC/fuzz")

# ---------------------------------------------------------------- build
echo "fuzz: building with $($CXX --version | head -1) in $BUILD"
compile() {  # source object: rebuilt when the source or any header it includes changed
  local src=$1 obj=$2
  if [ -f "$obj" ] && [ -f "$obj.d" ]; then
    local dep stale=0
    for dep in $(sed -e 's/\\$//' -e 's/^[^:]*://' "$obj.d"); do
      if [ "$dep" -nt "$obj" ]; then stale=1; break; fi
    done
    [ $stale -eq 0 ] && return 0
  fi
  "$CXX" "${FLAGS[@]}" -fsanitize=fuzzer-no-link -MMD -MF "$obj.d" -c "$src" -o "$obj"
}
pids=()
objs=()
for s in "${CORE_SOURCES[@]}"; do
  obj="$BUILD/obj/${s//\//_}.o"
  objs+=("$obj")
  compile "$SRC/common/$s" "$obj" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$JOBS" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done
pids=()
for t in "${targets[@]}"; do
  "$CXX" "${FLAGS[@]}" -fsanitize=fuzzer "$SRC/fuzz/$t.cpp" "${objs[@]}" -lcurl -lcrypto \
    -o "$BUILD/bin/$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$JOBS" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done
if [ $build_only -eq 1 ]; then echo "fuzz: built ${targets[*]}"; exit 0; fi

# ---------------------------------------------------------------- run
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
run_target() {
  local t=$1
  mkdir -p "$BUILD/corpus/$t"
  local log="$BUILD/logs/$t.log"
  if "$BUILD/bin/$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=1024 \
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
