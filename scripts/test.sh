#!/usr/bin/env bash
# The default test command: builds mailprobe and runs the unit tests, the integration tests
# against a real Postfix + Dovecot that the suite starts and stops itself, the packaging tests
# and the benchmark's quick mode. Installs missing Debian packages first (needs root on a fresh
# machine). About 10 minutes on 2 cores; the hardening job (clang-tidy, fuzzing, the suite
# under ASan + UBSan) is the second command, scripts/ci-extra.sh. .ci/run runs both.
#   bash scripts/test.sh                 # everything above
#   bash scripts/test.sh -L unit         # extra arguments go to ctest
#   BUILD_DIR=/tmp/b JOBS=2 bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-test}
JOBS=${JOBS:-$(nproc)}

bash scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAILPROBE_WERROR=ON >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" "$@"
