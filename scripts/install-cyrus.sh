#!/usr/bin/env bash
# Cyrus IMAP as a second real IMAP server for the integration tests (issue 11), without
# installing it: Debian's cyrus-imapd conflicts with dovecot-imapd, so its two packages are
# unpacked into CYRUS_ROOT (default /opt/mailprobe/cyrus) and only their shared-library
# dependencies are installed with apt. tests/stack/imap_servers.sh runs it from there.
# Idempotent. Needs root.
set -euo pipefail

ROOT=${CYRUS_ROOT:-/opt/mailprobe/cyrus}
PKGS=(cyrus-common cyrus-imapd)
[ -x "$ROOT/usr/sbin/cyrmaster" ] && [ -x "$ROOT/usr/lib/cyrus/bin/imapd" ] && exit 0
[ "$(id -u)" -eq 0 ] || { echo "install-cyrus: need root" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive

# The libraries the unpacked binaries link against (the packages' lib* dependencies).
mapfile -t libs < <(apt-cache depends "${PKGS[@]}" 2>/dev/null |
  sed -n 's/^ *Depends: \(lib[^ <>]*\)$/\1/p' | sort -u)
if [ ${#libs[@]} -eq 0 ]; then
  apt-get update -qq
  mapfile -t libs < <(apt-cache depends "${PKGS[@]}" | sed -n 's/^ *Depends: \(lib[^ <>]*\)$/\1/p' | sort -u)
fi
missing=()
for p in "${libs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-cyrus: installing ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"  # apt's download sandbox user must be able to write here
(cd "$tmp" && apt-get download -qq "${PKGS[@]}" 2>/dev/null) ||
  (cd "$tmp" && apt-get update -qq && apt-get download -qq "${PKGS[@]}")
mkdir -p "$ROOT.new"
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$ROOT.new"; done
rm -rf "$ROOT"
mv "$ROOT.new" "$ROOT"
echo "install-cyrus: Cyrus IMAP unpacked in $ROOT"
