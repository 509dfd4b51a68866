#!/usr/bin/env bash
# Builds mailprobe and runs every test (unit tests, and integration tests against a real
# Postfix + Dovecot that the suite starts and stops itself). Installs missing Debian
# packages first (needs root on a fresh machine).
#   bash scripts/test.sh            # everything
#   BUILD_DIR=/tmp/b bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-test}
JOBS=${JOBS:-$(nproc)}

bash scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAILPROBE_WERROR=ON >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
cd "$BUILD_DIR"
ctest --output-on-failure -j "$JOBS" "$@"
# The hardening checks (clang-tidy, fuzzing, the whole suite under ASan + UBSan).
if [ $# -eq 0 ] && [ "${MAILPROBE_SKIP_EXTRA:-0}" != 1 ]; then bash "$OLDPWD/scripts/ci-extra.sh"; fi
