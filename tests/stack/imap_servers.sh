#!/usr/bin/env bash
# More real IMAP servers beside the stack's Dovecot, sharing its users (issue 11):
#   +341 Cyrus IMAP 3.6, run from the packages unpacked by scripts/install-cyrus.sh (Debian's
#        cyrus-imapd conflicts with dovecot-imapd); its own spool, any password is accepted
#        (sasl_pwcheck_method alwaystrue: loopback test server only), mailboxes are created
#        on first login
#   +342 Dovecot with imap_capability trimmed to IMAP4rev1 basics: no UIDPLUS, no IDLE, no
#        MOVE, no UTF8=ACCEPT; same users and Maildirs as the main Dovecot
#
#   imap_servers.sh start DIR BASE   (called by mailstack.sh after Dovecot's config exists)
#   imap_servers.sh stop  DIR
# Writes DIR/imap_servers.env (MS_CYRUS_IMAP_PORT, MS_TRIMMED_IMAP_PORT; the Cyrus line is
# missing when Cyrus is not unpacked: its tests then skip and say why).
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
PROG=imap_servers
CYRUS_ROOT=${CYRUS_ROOT:-/opt/mailprobe/cyrus}

die() { echo "$PROG: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: $0 start DIR BASE | stop DIR"
CMD=$1
DIR=${2%/}

alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$st" ] && [[ $st != Z* ]]; }

# SIGTERM to the pid in FILE (if its command line names DIR) and its children; SIGKILL after 10 s
stop_pidfile() {
  local file=$1 pid pids n=100
  [ -f "$file" ] || return 0
  pid=$(tr -dc '0-9' <"$file")
  [ -n "$pid" ] && alive "$pid" || { rm -f "$file"; return 0; }
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$DIR/" || return 0
  pids="$pid $(ps -o pid= --ppid "$pid" | tr '\n' ' ' || true)"
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  while [ $n -gt 0 ]; do
    local left=0 p
    for p in $pids; do alive "$p" && left=1; done
    [ $left -eq 0 ] && break
    n=$((n - 1)); sleep 0.1
  done
  # shellcheck disable=SC2086
  [ $n -gt 0 ] || kill -KILL $pids 2>/dev/null || true
  rm -f "$file"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port name
  local n=300
  until port_open "$1"; do
    [ $n -gt 0 ] || die "$2 is not listening on port $1 (see $DIR/log)"
    n=$((n - 1)); sleep 0.1
  done
}

start_cyrus() {
  local c=$DIR/cyrus bin=$CYRUS_ROOT/usr/lib/cyrus/bin
  mkdir -p "$c"/{conf,spool,run}
  cat >"$c/imapd.conf" <<CONF
configdirectory: $c/conf
partition-default: $c/spool
defaultpartition: default
proc_path: $c/run/proc
mboxname_lockpath: $c/run/lock
lmtpsocket: $c/run/lmtp
idlesocket: $c/run/idle
notifysocket: $c/run/notify
cyrus_user: mail
altnamespace: yes
unixhierarchysep: yes
allowplaintext: yes
sasl_pwcheck_method: alwaystrue
sasl_mech_list: PLAIN LOGIN
autocreate_quota: 0
servername: cyrus.test
virtdomains: off
CONF
  cat >"$c/cyrus.conf" <<CONF
START {
  recover cmd="$bin/ctl_cyrusdb -C $c/imapd.conf -r"
}
SERVICES {
  imap cmd="$bin/imapd -C $c/imapd.conf" listen="127.0.0.1:$P_CYRUS" prefork=0 maxchild=100
}
EVENTS {
}
DAEMON {
}
CONF
  chown -R mail:mail "$c"
  LD_LIBRARY_PATH=$CYRUS_ROOT/usr/lib/x86_64-linux-gnu setsid "$CYRUS_ROOT/usr/sbin/cyrmaster" \
    -C "$c/imapd.conf" -M "$c/cyrus.conf" -p "$c/run/master.pid" -d \
    </dev/null >>"$DIR/log/cyrus.log" 2>&1 || die "Cyrus master failed to start"
  wait_port "$P_CYRUS" "Cyrus IMAP"
}

start_trimmed_dovecot() {
  local d=$DIR/dovecot-trim
  mkdir -p "$d/run" "$d/state"
  cat >"$d/dovecot.conf" <<CONF
instance_name = mptrim$DIR
base_dir = $d/run
state_dir = $d/state
log_path = $DIR/log/dovecot-trim.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_default_realm = mail.test
auth_failure_delay = 0
first_valid_uid = 8
first_valid_gid = 8
mail_location = maildir:~/Maildir
imap_capability = IMAP4rev1 LITERAL+ SASL-IR ID ENABLE NAMESPACE UNSELECT CHILDREN
namespace inbox {
  inbox = yes
  mailbox Junk {
    auto = create
    special_use = \\Junk
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN $DIR/dovecot/users
}
userdb {
  driver = passwd-file
  args = $DIR/dovecot/users
}
protocol imap {
  mail_max_userip_connections = 200
}
service imap-login {
  inet_listener imap {
    port = $P_TRIMMED
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
CONF
  dovecot -c "$d/dovecot.conf" </dev/null >>"$DIR/log/dovecot-trim-stderr.log" 2>&1 \
    || die "trimmed Dovecot failed to start"
  wait_port "$P_TRIMMED" "trimmed Dovecot"
}

case $CMD in
  start)
    [ $# -ge 3 ] || die "usage: $0 start DIR BASE"
    P_CYRUS=$(($3 + 341)); P_TRIMMED=$(($3 + 342))
    "$0" stop "$DIR"
    mkdir -p "$DIR/log"
    start_trimmed_dovecot
    env=("MS_TRIMMED_IMAP_PORT=$P_TRIMMED")
    if [ -x "$CYRUS_ROOT/usr/sbin/cyrmaster" ]; then
      start_cyrus
      env+=("MS_CYRUS_IMAP_PORT=$P_CYRUS")
    else
      echo "$PROG: no Cyrus in $CYRUS_ROOT (scripts/install-cyrus.sh): its tests will skip" >&2
    fi
    printf '%s\n' "${env[@]}" >"$DIR/imap_servers.env"
    ;;
  stop)
    stop_pidfile "$DIR/cyrus/run/master.pid"
    stop_pidfile "$DIR/dovecot-trim/run/master.pid"
    rm -f "$DIR/imap_servers.env"
    ;;
  *) die "unknown command $CMD" ;;
esac
