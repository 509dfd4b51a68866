#!/bin/sh
# Runs a unit test binary as the unprivileged user "nobody", with a temp directory of its own
# that it can write (CTest: unit.<name>.unprivileged). Exit 77 (CTest: skipped) when not root.
#   run_unprivileged.sh TMPDIR BINARY [ARGS...]
set -eu
tmp=$1
shift
if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: only root can switch to nobody"
  exit 77
fi
rm -rf "$tmp"
mkdir -p "$tmp"
chown nobody:nogroup "$tmp"
exec setpriv --reuid=nobody --regid=nogroup --clear-groups env TMPDIR="$tmp" "$@"
