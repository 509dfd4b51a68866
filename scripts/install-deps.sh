#!/usr/bin/env bash
# Installs every Debian package mailprobe needs to build, test and demo.
# Idempotent: does nothing when all packages are present. Needs root.
set -euo pipefail

BUILD_PKGS=(build-essential cmake pkg-config libcurl4-openssl-dev libssl-dev
            libboost-program-options-dev libboost-test-dev libc-ares-dev)
BUILD_PKGS+=(nlohmann-json3-dev)  # OAuth2: token endpoint replies, SASL error payloads
STACK_PKGS=(postfix dovecot-imapd dovecot-pop3d dovecot-lmtpd openssl dnsmasq-base
            python3 procps iproute2)
STACK_PKGS+=(python3-jwt python3-cryptography)  # OAuth2 tests: signing keys and JWT tokens
# SPF/DKIM/DMARC verdicts on the stack (tests/stack/auth_stack.sh): run as private milters and
# a spawned policy service, never as system services
STACK_PKGS+=(opendkim opendkim-tools opendmarc postfix-policyd-spf-python)
STACK_PKGS+=(python3-authlib)  # OAuth2 client tests: a real token endpoint (tests/oauth2)
# Packaging and monitoring-system tests (tests/packaging, issue 6): package tools, man page
# lint, a real Icinga 2 and Nagios 4 (no daemon starts: see policy-rc.d below).
# MAILPROBE_SKIP_PACKAGING_DEPS=1 leaves them out (those tests then try to install what
# they need themselves, or are skipped).
PACKAGING_PKGS=(dpkg-dev rpm lintian mandoc groff-base file icinga2-bin nagios4-core
                python3-yaml)
# A real Zabbix 6.0 (packaging.zabbix_server: its own PostgreSQL cluster, server and API).
PACKAGING_PKGS+=(zabbix-server-pgsql zabbix-frontend-php php-cli php-pgsql postgresql)
[ "${MAILPROBE_SKIP_PACKAGING_DEPS:-0}" = 1 ] && PACKAGING_PKGS=()
# The peers bench/run.py compares against (its CTest quick mode runs with --no-install), and
# locales for the decimal-comma locale the unit tests switch to (generated below).
BENCH_PKGS=(monitoring-plugins-contrib monitoring-plugins-standard libmail-imapclient-perl)
TEST_PKGS=(locales)
EXTRA_PKGS=("$@")

missing=()
for p in "${BUILD_PKGS[@]}" "${STACK_PKGS[@]}" "${PACKAGING_PKGS[@]}" "${BENCH_PKGS[@]}" \
         "${TEST_PKGS[@]}" "${EXTRA_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# de_DE.UTF-8 (decimal comma): tests/unit prove that numbers stay locale-independent in it.
ensure_test_locale() {
  locale -a 2>/dev/null | grep -qix 'de_DE.utf8' && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to generate the de_DE.UTF-8 locale" >&2
    return 1
  fi
  echo "install-deps: generating the de_DE.UTF-8 locale"
  localedef -i de_DE -f UTF-8 de_DE.UTF-8
}
# What is not a plain package: the test locale, and Cyrus IMAP unpacked beside Dovecot
# (the second real IMAP server of the tests).
finish() {
  ensure_test_locale
  bash "$(dirname "${BASH_SOURCE[0]}")/install-cyrus.sh"
}
if [ ${#missing[@]} -eq 0 ]; then
  finish
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
# Postfix must not configure itself as an Internet site, and no daemon may start
# on the default ports while the packages install.
echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
cleanup_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  cleanup_policy=1
fi
trap '[ $cleanup_policy -eq 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The tests start their own Zabbix server and PostgreSQL cluster: the system-wide ones the
# packages enable (and the cluster "main" postgresql creates) must not start at boot.
for unit in zabbix-server postgresql; do
  [[ " ${missing[*]} " == *" $unit"* ]] && systemctl disable --quiet "$unit.service" 2>/dev/null || true
done
finish
