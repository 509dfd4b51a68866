#!/usr/bin/env bash
# The release and hardening job of CI, the second command after scripts/test.sh (.ci/run runs
# both):
#   0. packaging   the .deb/.rpm, their install, Icinga 2, Nagios 4 and a real Zabbix server
#                  running the plugins, and the benchmark's quick mode (SUITE=release
#                  scripts/test.sh: the test build, its mail stack on port base 24000)
#   1. clang-tidy  over common/ and plugins/ (.clang-tidy; scripts/clang-tidy.sh)
#   2. fuzzing     every libFuzzer target for FUZZ_SECONDS (fuzz/run.sh, own build dir)
#   3. sanitizers  the whole project built with -DMAILPROBE_SANITIZE=ON (ASan + UBSan) in its
#                  own build directory, then every unit and integration test (ctest) against
#                  the sanitized plugins, on its own mail stack (port base 24500)
# Every step runs even when an earlier one failed; the exit status says whether all passed.
#
#   bash scripts/ci-extra.sh                  # all four
#   bash scripts/ci-extra.sh tidy fuzz        # some of them
#   FUZZ_SECONDS=60  FUZZ_BUILD_DIR=build-fuzz  ASAN_BUILD_DIR=build-asan
#   ASAN_STACK_PORT_BASE=24500  JOBS=$(nproc)  TIDY_BUILD_DIR (default: ASAN_BUILD_DIR)
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
ASAN_BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
ASAN_STACK_PORT_BASE=${ASAN_STACK_PORT_BASE:-24500}
TIDY_BUILD_DIR=${TIDY_BUILD_DIR:-$ASAN_BUILD_DIR}
export FUZZ_SECONDS=${FUZZ_SECONDS:-60}

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(packaging tidy fuzz sanitize)

# clang 14 + its sanitizer runtimes for libFuzzer, clang-tidy; "time" for the RSS figures of
# tests/integration/test_hostile.py.
bash scripts/install-deps.sh clang-14 clang-tidy-14 libclang-rt-14-dev time || exit 1

configure_asan() {
  # No -Werror here: GCC 12 warns (maybe-uninitialized inside <regex>) only with
  # -fsanitize; the warning-free build is checked by scripts/test.sh.
  cmake -S . -B "$ASAN_BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAILPROBE_SANITIZE=ON \
        -DMAILPROBE_WERROR=OFF -DMAILPROBE_STACK_PORT_BASE="$ASAN_STACK_PORT_BASE" \
        -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
}

declare -A result
declare -A took
run_step() {
  local name=$1
  shift
  local t0=$SECONDS
  echo "=== ci-extra: $name"
  if "$@"; then result[$name]=ok; else result[$name]=FAILED; fi
  took[$name]=$((SECONDS - t0))
  echo "=== ci-extra: $name ${result[$name]} (${took[$name]} s)"
}

step_packaging() {
  SUITE=release JOBS=$JOBS bash scripts/test.sh
}

step_tidy() {
  if [ "$TIDY_BUILD_DIR" = "$ASAN_BUILD_DIR" ]; then configure_asan || return 1; fi
  BUILD_DIR=$TIDY_BUILD_DIR JOBS=$JOBS bash scripts/clang-tidy.sh
}

step_fuzz() {
  FUZZ_JOBS=$JOBS bash fuzz/run.sh
}

step_sanitize() {
  configure_asan || return 1
  cmake --build "$ASAN_BUILD_DIR" -j "$JOBS" || return 1
  # Any report aborts the process: the test that ran it fails. (Not the packaging tests:
  # they would build and install packages of the sanitized binaries; not the fake server's
  # self-test: it runs no C++.)
  # A sanitized process pays what a real one never does outside the plugin's own clock:
  # ASan maps its shadow memory at start and LeakSanitizer scans the heap at exit. On a
  # loaded 2-core machine a sanitized run at -t 3 ended 1.0 s after its network deadline
  # (3.505 s); the deadline tests allow that much (a production build: 0.5 s).
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  MAILPROBE_DEADLINE_SLACK=1.0 \
    ctest --test-dir "$ASAN_BUILD_DIR" --output-on-failure -j "$JOBS" -LE 'packaging|fakeserver'
}

for s in "${steps[@]}"; do
  case $s in
    packaging) run_step packaging step_packaging ;;
    tidy) run_step tidy step_tidy ;;
    fuzz) run_step fuzz step_fuzz ;;
    sanitize) run_step sanitize step_sanitize ;;
    *) echo "ci-extra: unknown step '$s' (packaging, tidy, fuzz, sanitize)" >&2; exit 2 ;;
  esac
done

status=0
echo "=== ci-extra summary"
for s in "${steps[@]}"; do
  printf '  %-9s %-7s %5s s\n' "$s" "${result[$s]}" "${took[$s]}"
  [ "${result[$s]}" = ok ] || status=1
done
exit $status
