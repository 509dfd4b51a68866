#!/usr/bin/env bash
# The default test command: builds mailprobe and runs the unit tests, the integration tests
# against a real Postfix + Dovecot that the suite starts and stops itself, and the fake
# server's self-test. Installs missing Debian packages first (needs root on a fresh machine).
# Under 10 minutes on 2 cores once the packages are there. The second command,
# scripts/ci-extra.sh, is the release and hardening job (packages and monitoring systems, the
# benchmark's quick mode, clang-tidy, fuzzing, the suite under ASan + UBSan); .ci/run runs both.
#   bash scripts/test.sh                 # everything above
#   bash scripts/test.sh -L unit         # extra arguments go to ctest
#   BUILD_DIR=/tmp/b JOBS=2 bash scripts/test.sh
#   SUITE=release bash scripts/test.sh   # the packaging and benchmark tests (ci-extra.sh runs
#                                        # them); SUITE=all: every CTest test
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-test}
JOBS=${JOBS:-$(nproc)}

bash scripts/install-deps.sh
# -O2 without debug info: a third less compile time than RelWithDebInfo, the same code.
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
      -DMAILPROBE_WERROR=ON >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
# Packages, monitoring systems and the benchmark belong to the release job (ci-extra.sh).
case ${SUITE:-default} in
  default) select=(-LE 'packaging|bench') ;;
  release) select=(-L 'packaging|bench') ;;
  all) select=() ;;
  *) echo "test.sh: SUITE must be default, release or all" >&2; exit 2 ;;
esac
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" "${select[@]}" "$@"
