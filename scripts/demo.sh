#!/usr/bin/env bash
# The demo: installs what is missing, builds the plugins, starts a throwaway Postfix +
# Dovecot on 127.0.0.1 (unprivileged ports, a temporary directory), runs each plugin
# against it so you see real status lines, then stops everything again.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-demo}
export MS_PORT_BASE=${MS_PORT_BASE:-25000}
STACK=/tmp/mpdemo-$MS_PORT_BASE

bash scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAILPROBE_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" >/dev/null

trap 'bash tests/stack/mailstack.sh stop "$STACK" >/dev/null 2>&1 || true' EXIT
bash tests/stack/mailstack.sh start "$STACK" >/dev/null
# shellcheck disable=SC1091
source "$STACK/stack.env"
export MAILPROBE_STATE_DIR="$STACK/state"
P="$BUILD_DIR/plugins"

run() {
  printf '\n$ %s\n' "$*" | sed "s#$STACK#\$STACK#g"
  "$@" || true
}
echo "mailprobe demo against a private mail stack in $STACK"
run "$P/check_mail_send" -H 127.0.0.1 -p "$MS_SMTP_PORT" --to probe@mail.test -v
run "$P/check_mail_roundtrip" -H 127.0.0.1 -p "$MS_SUBMISSION_PORT" --smtp-tls starttls \
    --cacert "$MS_CA" --smtp-user probe@mail.test --smtp-password-file "$MS_PASS_FILE_PROBE" \
    --to probe@mail.test --mailbox "imaps://probe@mail.test@127.0.0.1:$MS_IMAPS_PORT/INBOX" \
    --mailbox-password-file "$MS_PASS_FILE_PROBE" -vv
run "$P/check_mail_roundtrip" -H 127.0.0.1 -p "$MS_SMTP_PORT" --to forward@mail.test \
    --mailbox "pop3://monitor@mail.test@127.0.0.1:$MS_POP3_PORT" \
    --mailbox-password-file "$MS_PASS_FILE_MONITOR"
run "$P/check_mail_relay" -H 127.0.0.1 -p "$MS_RELAY_SUBMISSION_PORT" --smtp-tls starttls \
    --cacert "$MS_CA" --smtp-user relayuser@mail.test \
    --smtp-password-file "$MS_PASS_FILE_RELAYUSER" --to probe@mail.test \
    --mailbox "imap://probe@mail.test@127.0.0.1:$MS_IMAP_PORT" \
    --mailbox-password-file "$MS_PASS_FILE_PROBE" --expect-hop relay.test --expect-hop mx.mail.test
run "$P/check_mail_roundtrip" --sendmail "/usr/sbin/sendmail -C $MS_POSTFIX1_CONFIG -t -oi" \
    --to probe@mail.test --mailbox "imap://probe@mail.test@127.0.0.1:$MS_IMAP_PORT" \
    --mailbox-password-file "$MS_PASS_FILE_PROBE"
run "$P/check_mail_roundtrip" --dns-server "127.0.0.1:$MS_DNS_PORT" -p "$MS_SMTP_PORT" \
    --to probe@mx-fallback.test --mailbox "imap://probe@mail.test@127.0.0.1:$MS_IMAP_PORT" \
    --mailbox-password-file "$MS_PASS_FILE_PROBE" -v
run "$P/check_mail_send" -H 127.0.0.1 -p "$MS_SMTP_PORT" --to probe@mail.test --probe-name demo-split
sleep 0.2
run "$P/check_mailbox_receive" --mailbox "imap://probe@mail.test@127.0.0.1:$MS_IMAP_PORT" \
    --mailbox-password-file "$MS_PASS_FILE_PROBE" --probe-name demo-split
run "$P/check_mail_send" -H 127.0.0.1 -p "$MS_SMTP_PORT" --to nobody@mail.test
echo
echo "demo done; the mail stack is stopped again."
