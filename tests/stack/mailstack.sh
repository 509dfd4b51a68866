#!/usr/bin/env bash
# Throwaway real mail stack for the mailprobe integration tests.
#
#   mailstack.sh start   DIR    create everything under DIR and start it (stops a running one first)
#   mailstack.sh stop    DIR    stop what start started; succeeds when already down
#   mailstack.sh status  DIR    exit 0 when every daemon and port is up
#   mailstack.sh hold    DIR    Postfix #1 defers delivery to Dovecot (mail stays queued)
#   mailstack.sh release DIR    undo hold and flush the queue
#   mailstack.sh empty   DIR USER   expunge every message of USER (user or user@mail.test)
#
# Everything listens on 127.0.0.1 only, on ports MS_PORT_BASE (default 24000) + fixed offsets:
#   +12 Dovecot auth (SASL for Postfix)  +24 LMTP   +25 SMTP (mx.mail.test)  +26 SMTP (relay.test)
#   +53 DNS (dnsmasq, UDP+TCP)  +60 greylist policy  +110 POP3  +143 IMAP  +465 SMTPS
#   +587 submission (mx.mail.test)  +588 submission (relay.test)  +993 IMAPS  +995 POP3S
# Needs root (Postfix), the packages of scripts/install-deps.sh, and a short DIR (unix socket paths).
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=mailstack
# shellcheck source=oauth2_stack.sh
. "$HERE/oauth2_stack.sh"
. "$HERE/auth_stack.sh"  # SPF/DKIM/DMARC: start_auth, stop_auth

die() { echo "$PROG: $*" >&2; exit 1; }
usage() { die "usage: $0 start|stop|status|hold|release DIR | empty DIR USER"; }

[ $# -ge 2 ] || usage
CMD=$1
DIR=$2
case $DIR in /*) ;; *) DIR=$(pwd)/$DIR ;; esac
DIR=${DIR%/}
[ ${#DIR} -le 60 ] || die "DIR too long (${#DIR} > 60 characters; unix socket paths): $DIR"
[ -n "$DIR" ] && [ "$DIR" != / ] || die "refusing DIR=/"

DOMAIN=mail.test
USERS=(probe monitor other relayuser greylist)
for i in $(seq -w 1 80); do USERS+=("t$i"); done

# ---------------------------------------------------------------- ports
set_ports() {
  BASE=$1
  [[ $BASE =~ ^[0-9]+$ ]] && [ "$BASE" -ge 1024 ] && [ "$BASE" -le 64500 ] \
    || die "MS_PORT_BASE must be a number in 1024..64500, got '$BASE'"
  P_AUTH=$((BASE + 12)); P_LMTP=$((BASE + 24)); P_SMTP=$((BASE + 25)); P_RELAY_SMTP=$((BASE + 26))
  P_DNS=$((BASE + 53)); P_POLICY=$((BASE + 60)); P_POP3=$((BASE + 110)); P_IMAP=$((BASE + 143))
  P_SMTPS=$((BASE + 465)); P_SUBMISSION=$((BASE + 587)); P_RELAY_SUBMISSION=$((BASE + 588))
  P_IMAPS=$((BASE + 993)); P_POP3S=$((BASE + 995))
  ALL_PORTS=("$P_AUTH" "$P_LMTP" "$P_SMTP" "$P_RELAY_SMTP" "$P_DNS" "$P_POLICY" "$P_POP3" "$P_IMAP"
             "$P_SMTPS" "$P_SUBMISSION" "$P_RELAY_SUBMISSION" "$P_IMAPS" "$P_POP3S")
}

# base of an existing stack: from stack.env, else from the marker written early by start
existing_base() {
  local f
  for f in "$DIR/stack.env" "$DIR/.mailstack"; do
    if [ -f "$f" ]; then
      sed -n 's/^MS_PORT_BASE=//p' "$f" | head -n1
      return
    fi
  done
  echo "${MS_PORT_BASE:-24000}"
}

# ---------------------------------------------------------------- processes
# alive and not a zombie
alive() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [ -n "$st" ] && [[ $st != Z* ]]
}

# a pid and all its descendants
tree_pids() {
  ps -eo pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2; all[NR] = $1 }
    END {
      if (!(root in parent)) exit
      keep[root] = 1; changed = 1
      while (changed) {
        changed = 0
        for (i in all) { q = all[i]; if (!(q in keep) && (parent[q] in keep)) { keep[q] = 1; changed = 1 } }
      }
      for (k in keep) print k
    }'
}

# pid from a pid file, only if that process is alive and its command line matches PATTERN
pid_from_file() {
  local file=$1 pattern=$2 pid
  [ -f "$file" ] || return 1
  pid=$(tr -dc '0-9' <"$file")
  [ -n "$pid" ] && alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pattern" || return 1
  echo "$pid"
}

wait_gone() { # timeout_tenths pid...
  local n=$1; shift
  local p left
  while :; do
    left=()
    for p in "$@"; do alive "$p" && left+=("$p"); done
    [ ${#left[@]} -eq 0 ] && return 0
    [ "$n" -le 0 ] && { echo "${left[@]}"; return 1; }
    n=$((n - 1)); sleep 0.1
  done
}

# stop_component NAME PIDFILE PATTERN MODE
#   MODE master: SIGTERM to the master only (Postfix: "postfix stop" does the same, but polls once a second)
#   MODE tree:   SIGTERM to the process and all its descendants (Dovecot's master alone needs ~3 s)
# then wait until all of them are gone (zombies do not count), SIGKILL after 10 s
stop_component() {
  local name=$1 pidfile=$2 pattern=$3 mode=$4
  local pid pids=() left
  pid=$(pid_from_file "$pidfile" "$pattern") || return 0
  mapfile -t pids < <(tree_pids "$pid")
  [ ${#pids[@]} -gt 0 ] || return 0
  case $mode in
    master) kill -TERM "$pid" 2>/dev/null || true ;;
    tree)
      kill -TERM "${pids[@]}" 2>/dev/null || true
      # Dovecot's master sometimes sits out its 6 s "wait for children" timeout although
      # they are gone already; once only the master is left it holds nothing worth waiting for
      if left=$(wait_gone 10 "${pids[@]}"); then return 0; fi
      [ "$left" = "$pid" ] && kill -KILL "$pid" 2>/dev/null
      ;;
  esac
  if ! left=$(wait_gone 100 "${pids[@]}"); then
    echo "$PROG: $name did not stop in time, killing: $left" >&2
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null || true
    wait_gone 30 $left >/dev/null || echo "$PROG: still alive after SIGKILL: $left" >&2
  fi
  return 0
}

# last resort: our daemons that outlived their parents (DIR in argv, or MAIL_CONFIG of our Postfix)
sweep_leftovers() {
  local p how exe left=()
  # "own": DIR/ in the command line (Dovecot's process titles carry it through instance_name);
  # "pf": named like a Postfix daemon, ours when MAIL_CONFIG points into DIR
  while read -r p how; do
    exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
    case $exe in
      /usr/lib/postfix/*|/usr/sbin/postfix|/usr/sbin/postdrop|/usr/sbin/postqueue)
        tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx -e "MAIL_CONFIG=$DIR/postfix1" -e "MAIL_CONFIG=$DIR/postfix2" \
          && left+=("$p") ;;
      /usr/sbin/dovecot|/usr/lib/dovecot/*|/usr/sbin/dnsmasq)
        [ "$how" = own ] && left+=("$p") ;;
      */python3*)
        tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "greylist_policy\.py .*$DIR/" && left+=("$p") ;;
    esac
  done < <(ps -eo pid=,stat=,args= | awk -v dir="$DIR/" -v self=$$ '
    $1 == self || $2 ~ /^Z/ { next }
    index($0, dir) { print $1, "own"; next }
    $3 ~ /^(\/usr\/lib\/postfix\/sbin\/)?(master|pickup|qmgr|smtpd|smtp|lmtp|cleanup|trivial-rewrite|tlsmgr|anvil|scache|proxymap|bounce|showq|flush|verify|error|discard|postlogd|local|virtual)$/ { print $1, "pf" }')
  if [ ${#left[@]} -gt 0 ]; then
    echo "$PROG: killing leftover processes: ${left[*]}" >&2
    kill -KILL "${left[@]}" 2>/dev/null || true
    wait_gone 30 "${left[@]}" >/dev/null || true
  fi
}

do_stop() {
  [ -d "$DIR" ] || return 0
  stop_component postfix2 "$DIR/spool/postfix2/pid/master.pid" master master
  stop_component postfix1 "$DIR/spool/postfix1/pid/master.pid" master master
  stop_component dovecot "$DIR/dovecot/run/master.pid" dovecot tree
  "$HERE/imap_servers.sh" stop "$DIR" || true
  stop_auth
  stop_component dnsmasq "$DIR/run/dnsmasq.pid" dnsmasq tree
  stop_component greylist "$DIR/run/greylist.pid" greylist_policy.py tree
  sweep_leftovers
  rm -f "$DIR/run/dnsmasq.pid" "$DIR/run/greylist.pid" "$DIR/stack.env"
}

# ---------------------------------------------------------------- diagnostics
port_holders() {
  local p re=""
  for p in "${ALL_PORTS[@]}"; do re="$re|:$p"; done
  re="(${re#|})\$"
  ss -Hltnp 2>/dev/null | awk -v re="$re" '$4 ~ re' || true
  ss -Hlunp 2>/dev/null | awk -v re=":$P_DNS\$" '$4 ~ re' || true
}

diag() {
  local f
  {
    echo "==== $PROG: start failed: $* ===="
    for f in "$DIR"/log/*.log; do
      [ -s "$f" ] || continue
      echo "---- tail $f"
      tail -n 25 "$f"
    done
    for f in postfix1 postfix2; do
      if [ -f "$DIR/$f/main.cf" ]; then
        echo "---- postfix -c $DIR/$f check"
        script -qec "postfix -c $DIR/$f check" /dev/null 2>&1 | tail -n 20 || true
      fi
    done
    echo "---- listeners on our ports (ss -ltnp / -lunp)"
    port_holders
  } >&2
}

# ---------------------------------------------------------------- start
gen_tls() {
  local t=$DIR/tls
  mkdir -p "$t"
  cat >"$t/server.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:mx.mail.test, DNS:relay.test, DNS:mail.test, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$t/ca.key" -out "$t/ca.pem" -days 3650 -subj "/O=mailprobe tests/CN=mailprobe throwaway CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$t/server.key" -out "$t/server.csr" -subj "/O=mailprobe tests/CN=mx.mail.test" 2>/dev/null
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
    -days 365 -extfile "$t/server.ext" -out "$t/server.pem" 2>/dev/null
  chmod 0644 "$t/ca.pem" "$t/server.pem"
  chmod 0600 "$t/ca.key" "$t/server.key"
  rm -f "$t/server.csr"
}

# random password from bash's $SRANDOM (getrandom(2)); no fork per user
random_password() {
  local alphabet=ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789 pw="" i
  for ((i = 0; i < 20; i++)); do pw+=${alphabet:SRANDOM % ${#alphabet}:1}; done
  printf '%s' "$pw"
}

gen_users() {
  local u pw dirs=() m
  [ -n "${SRANDOM:-}" ] || die "bash >= 5.1 needed (\$SRANDOM)"
  mkdir -p "$DIR/secrets" "$DIR/dovecot" "$DIR/mail/$DOMAIN"
  chmod 0700 "$DIR/secrets"
  : >"$DIR/postfix1/virtual_mailboxes"
  (
    umask 077
    for u in "${USERS[@]}"; do
      pw=$(random_password)
      printf '%s\n' "$pw" >"$DIR/secrets/$u.pass"
      printf '%s@%s:{PLAIN}%s:8:8::%s::\n' "$u" "$DOMAIN" "$pw" "$DIR/mail/$DOMAIN/$u" >>"$DIR/dovecot/users"
    done
  )
  for u in "${USERS[@]}"; do
    printf '%s@%s OK\n' "$u" "$DOMAIN" >>"$DIR/postfix1/virtual_mailboxes"
    m=$DIR/mail/$DOMAIN/$u/Maildir
    dirs+=("$m/cur" "$m/new" "$m/tmp" "$m/.Junk/cur" "$m/.Junk/new" "$m/.Junk/tmp")
  done
  mkdir -p "${dirs[@]}"
  for u in "${USERS[@]}"; do : >"$DIR/mail/$DOMAIN/$u/Maildir/.Junk/maildirfolder"; done
  chown -R mail:mail "$DIR/mail"
  chown root:dovecot "$DIR/dovecot/users"
  chmod 0640 "$DIR/dovecot/users"
}

gen_dovecot() {
  local dh=""
  [ -f /usr/share/dovecot/dh.pem ] && dh="ssl_dh = </usr/share/dovecot/dh.pem"
  mkdir -p "$DIR/dovecot/run" "$DIR/dovecot/state"
  cat >"$DIR/dovecot/dovecot.conf" <<EOF
# generated by mailstack.sh
instance_name = mpstack$DIR
base_dir = $DIR/dovecot/run
state_dir = $DIR/dovecot/state
log_path = $DIR/log/dovecot.log
protocols = imap pop3 lmtp
listen = 127.0.0.1
hostname = mx.mail.test
ssl = yes
ssl_cert = <$DIR/tls/server.pem
ssl_key = <$DIR/tls/server.key
$dh
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_default_realm = $DOMAIN
auth_failure_delay = 0
auth_verbose = yes
first_valid_uid = 8
first_valid_gid = 8
mail_location = maildir:~/Maildir
recipient_delimiter = +
lmtp_save_to_detail_mailbox = yes
lmtp_add_received_header = no

namespace inbox {
  inbox = yes
  mailbox Junk {
    auto = create
    special_use = \Junk
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
protocol pop3 {
  mail_max_userip_connections = 200
}
service imap-login {
  inet_listener imap {
    port = $P_IMAP
  }
  inet_listener imaps {
    port = $P_IMAPS
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $P_POP3
  }
  inet_listener pop3s {
    port = $P_POP3S
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    port = $P_LMTP
  }
}
# no auth penalty: every client is 127.0.0.1, one test's wrong password must not slow
# down the logins of all others (the penalty is off when its anvil socket is missing)
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  inet_listener auth-postfix {
    port = $P_AUTH
  }
}
EOF
}

# common main.cf part of both Postfix instances
postfix_common() { # name
  local n=$1
  cat <<EOF
# generated by mailstack.sh
compatibility_level = 3.6
queue_directory = $DIR/spool/$n
data_directory = $DIR/spool/$n-data
maillog_file = $DIR/log/$n.log
maillog_file_prefixes = $DIR/log
syslog_name = $n
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains =
biff = no
append_dot_mydomain = no
notify_classes =
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtp_host_lookup = native
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0s
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 200
queue_run_delay = 10s
minimal_backoff_time = 10s
maximal_backoff_time = 60s
smtpd_tls_security_level = may
smtpd_tls_cert_file = $DIR/tls/server.pem
smtpd_tls_key_file = $DIR/tls/server.key
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_session_cache_database =
smtp_tls_session_cache_database =
smtp_tls_CAfile = $DIR/tls/ca.pem
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$P_AUTH
smtpd_sasl_auth_enable = no
smtpd_tls_auth_only = yes
mp_submission_sender_restrictions = permit_sasl_authenticated, check_sender_access static:{530 5.7.0 Authentication required}
EOF
}

postfix_master_common() {
  cat <<'EOF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

gen_postfix() {
  local p1=$DIR/postfix1 p2=$DIR/postfix2
  mkdir -p "$p1" "$p2" "$DIR/spool/postfix1" "$DIR/spool/postfix2" "$DIR/spool/postfix1-data" "$DIR/spool/postfix2-data"
  chown postfix "$DIR/spool/postfix1-data" "$DIR/spool/postfix2-data"
  # ---- #1: mx.mail.test, owns mail.test, delivers over LMTP to Dovecot
  {
    postfix_common postfix1
    cat <<EOF
myhostname = mx.mail.test
mydomain = $DOMAIN
myorigin = $DOMAIN
smtpd_banner = \$myhostname ESMTP Postfix (mailprobe test stack)
recipient_delimiter = +
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_maps = texthash:$p1/virtual_mailboxes
virtual_alias_domains = no-mx.test mx-fallback.test relay-dest.test
virtual_alias_maps = texthash:$p1/virtual_aliases
virtual_transport = lmtp:inet:[127.0.0.1]:$P_LMTP
local_transport = error:5.1.1 local delivery is disabled in the test stack
default_transport = error:5.7.1 outbound mail is disabled in the test stack
relay_transport = error:5.7.1 outbound mail is disabled in the test stack
defer_transports =
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access regexp:$p1/greylist_recipients
smtpd_restriction_classes = mp_greylisting
mp_greylisting = check_policy_service inet:127.0.0.1:$P_POLICY
smtpd_policy_service_default_action = 451 4.3.5 greylist policy service unavailable
EOF
  } >"$p1/main.cf"
  cat >"$p1/virtual_aliases" <<EOF
forward@$DOMAIN monitor@$DOMAIN
probe@no-mx.test probe@$DOMAIN
probe@mx-fallback.test probe@$DOMAIN
probe@relay-dest.test probe@$DOMAIN
greylist-delayed@$DOMAIN t69@$DOMAIN
EOF
  cat >"$p1/greylist_recipients" <<'EOF'
/^greylist[^@]*@mail\.test$/ mp_greylisting
EOF
  {
    echo "# generated by mailstack.sh"
    cat <<EOF
$P_SMTP   inet  n       -       n       -       -       smtpd
$P_SMTPS  inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix1/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
$P_SUBMISSION inet n    -       n       -       -       smtpd
  -o syslog_name=postfix1/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_delay_reject=no
  -o smtpd_client_restrictions=
  -o smtpd_helo_restrictions=
  -o smtpd_sender_restrictions=\$mp_submission_sender_restrictions
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=
EOF
    postfix_master_common
  } >"$p1/master.cf"

  # ---- #2: relay.test, smarthost relaying everything to #1
  {
    postfix_common postfix2
    cat <<EOF
myhostname = relay.test
mydomain = relay.test
myorigin = relay.test
smtpd_banner = \$myhostname ESMTP Postfix (mailprobe test relay)
relayhost = [127.0.0.1]:$P_SMTP
smtp_tls_security_level = may
# t42 is relayed to the MX without TLS (an unencrypted relay hop for the TLS verdict tests)
transport_maps = inline:{ {t42@$DOMAIN=plainrelay:[127.0.0.1]:$P_SMTP} }
local_transport = error:5.1.1 local delivery is disabled in the test relay
# a deferral (e.g. greylist-delayed@ greylisted by the MX) gets a delay DSN at once
delay_warning_time = 1s
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
EOF
  } >"$p2/main.cf"
  {
    echo "# generated by mailstack.sh"
    cat <<EOF
$P_RELAY_SMTP inet n    -       n       -       -       smtpd
$P_RELAY_SUBMISSION inet n -    n       -       -       smtpd
  -o syslog_name=postfix2/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_delay_reject=no
  -o smtpd_client_restrictions=
  -o smtpd_helo_restrictions=
  -o smtpd_sender_restrictions=\$mp_submission_sender_restrictions
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
plainrelay unix -       -       n       -       -       smtp
  -o smtp_tls_security_level=none
EOF
    postfix_master_common
  } >"$p2/master.cf"
}

start_postfix() { # name
  local n=$1
  if ! postfix -c "$DIR/$n" start </dev/null >/dev/null 2>&1; then
    START_ERR="postfix -c $DIR/$n start failed"
    return 1
  fi
}

start_dnsmasq() {
  dnsmasq -C /dev/null --no-resolv --no-hosts --no-poll --port="$P_DNS" \
    --listen-address=127.0.0.1 --bind-interfaces --user=root --group=root \
    --pid-file="$DIR/run/dnsmasq.pid" --log-facility="$DIR/log/dnsmasq.log" --log-queries \
    --local=/test/ --conf-dir="$DIR/auth/dns" \
    --mx-host=mail.test,mx.mail.test,10 \
    --mx-host=mx-fallback.test,dead.mx-fallback.test,10 \
    --mx-host=mx-fallback.test,mx.mail.test,20 \
    --dns-rr=null-mx.test,15,0000:00 \
    --host-record=null-mx.test,127.0.0.1 \
    --host-record=mx.mail.test,127.0.0.1 \
    --host-record=relay.test,127.0.0.1 \
    --host-record=dead.mx-fallback.test,127.0.0.2 \
    --host-record=no-mx.test,127.0.0.1 </dev/null >/dev/null 2>>"$DIR/log/dnsmasq.log" \
    || { START_ERR="dnsmasq failed to start"; return 1; }
}

start_greylist() {
  local py=python3
  [ -x /usr/bin/python3 ] && py=/usr/bin/python3
  setsid "$py" "$HERE/greylist_policy.py" --port "$P_POLICY" --pidfile "$DIR/run/greylist.pid" \
    </dev/null >>"$DIR/log/greylist.log" 2>&1 &
  local n=50
  while [ ! -s "$DIR/run/greylist.pid" ]; do
    [ $n -gt 0 ] || { START_ERR="greylist policy service did not start"; return 1; }
    n=$((n - 1)); sleep 0.1
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_ports() {
  local deadline=$((SECONDS + 30)) p missing
  while :; do
    missing=()
    for p in "${ALL_PORTS[@]}"; do port_open "$p" || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ $SECONDS -ge $deadline ]; then
      START_ERR="ports not accepting connections: ${missing[*]}"
      return 1
    fi
    sleep 0.1
  done
}

write_env() {
  local u f=$DIR/stack.env.tmp
  {
    echo "# mail stack started by mailstack.sh $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "MS_DIR=$DIR"
    echo "MS_PORT_BASE=$BASE"
    echo "MS_HOST=127.0.0.1"
    echo "MS_DOMAIN=$DOMAIN"
    echo "MS_MX_HOST=mx.mail.test"
    echo "MS_RELAY_HOST=relay.test"
    echo "MS_CA=$DIR/tls/ca.pem"
    echo "MS_CERT=$DIR/tls/server.pem"
    echo "MS_KEY=$DIR/tls/server.key"
    echo "MS_SMTP_PORT=$P_SMTP"
    echo "MS_SMTPS_PORT=$P_SMTPS"
    echo "MS_SUBMISSION_PORT=$P_SUBMISSION"
    echo "MS_RELAY_SMTP_PORT=$P_RELAY_SMTP"
    echo "MS_RELAY_SUBMISSION_PORT=$P_RELAY_SUBMISSION"
    echo "MS_IMAP_PORT=$P_IMAP"
    echo "MS_IMAPS_PORT=$P_IMAPS"
    echo "MS_POP3_PORT=$P_POP3"
    echo "MS_POP3S_PORT=$P_POP3S"
    echo "MS_LMTP_PORT=$P_LMTP"
    echo "MS_AUTH_PORT=$P_AUTH"
    echo "MS_POLICY_PORT=$P_POLICY"
    echo "MS_DNS_PORT=$P_DNS"
    echo "MS_DOVECOT_CONF=$DIR/dovecot/dovecot.conf"
    echo "MS_POSTFIX1_CONFIG=$DIR/postfix1"
    echo "MS_POSTFIX2_CONFIG=$DIR/postfix2"
    echo "MS_MAIL_ROOT=$DIR/mail/$DOMAIN"
    echo "MS_LOG_DIR=$DIR/log"
    echo "MS_SECRETS_DIR=$DIR/secrets"
    echo "MS_USERS=\"${USERS[*]}\""
    for u in "${USERS[@]}"; do
      echo "MS_PASS_FILE_${u^^}=$DIR/secrets/$u.pass"
    done
  } >"$f"
  mv "$f" "$DIR/stack.env"
}

START_ERR=""
on_start_exit() {
  local rc=$?
  trap - EXIT
  if [ $rc -ne 0 ]; then
    diag "${START_ERR:-exit status $rc}"
    do_stop || true
    rm -f "$DIR/stack.env"
    echo "$PROG: start failed" >&2
  fi
  exit $rc
}

do_start() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (Postfix instances)"
  local t0=$SECONDS
  if [ -d "$DIR" ]; then
    if [ -n "$(ls -A "$DIR")" ] && [ ! -f "$DIR/.mailstack" ]; then
      die "$DIR exists, is not empty and is not a mail stack directory; refusing to wipe it"
    fi
    set_ports "$(existing_base)"
    do_stop
    rm -rf "${DIR:?}"
  fi
  set_ports "${MS_PORT_BASE:-24000}"
  trap on_start_exit EXIT

  # A daemon of the stack just stopped can hold its socket a moment longer (seen once with
  # dnsmasq): wait up to 10 s before calling the ports taken.
  local busy i
  for i in $(seq 1 50); do
    busy=$(port_holders)
    [ -z "$busy" ] && break
    sleep 0.2
  done
  if [ -n "$busy" ]; then
    START_ERR="ports already in use before start"
    return 1
  fi
  mkdir -p "$DIR"/{log,run,postfix1,postfix2}
  chmod 0755 "$DIR"
  echo "MS_PORT_BASE=$BASE" >"$DIR/.mailstack"
  gen_tls
  gen_users
  gen_dovecot
  gen_oauth2
  gen_postfix
  start_auth

  dovecot -c "$DIR/dovecot/dovecot.conf" </dev/null >>"$DIR/log/dovecot-stderr.log" 2>&1 || { START_ERR="dovecot failed to start"; return 1; }
  start_greylist
  start_dnsmasq
  # both Postfix instances at once: "postfix start" spends most of its time in integrity checks
  local pf1 pf2 rc1=0 rc2=0
  start_postfix postfix1 & pf1=$!
  start_postfix postfix2 & pf2=$!
  wait $pf1 || rc1=$?
  wait $pf2 || rc2=$?
  [ $rc1 -eq 0 ] || { START_ERR="postfix -c $DIR/postfix1 start failed"; return 1; }
  [ $rc2 -eq 0 ] || { START_ERR="postfix -c $DIR/postfix2 start failed"; return 1; }
  wait_ports
  "$HERE/imap_servers.sh" start "$DIR" "$BASE" || { START_ERR="extra IMAP servers failed to start"; return 1; }
  write_env
  trap - EXIT
  echo "$PROG: stack up in $DIR (ports $BASE+..., $((SECONDS - t0))s)"
}

# ---------------------------------------------------------------- status / hold / release / empty
do_status() {
  local ok=0 p
  [ -f "$DIR/stack.env" ] || { echo "$PROG: no stack.env in $DIR" >&2; return 1; }
  set_ports "$(existing_base)"
  pid_from_file "$DIR/spool/postfix1/pid/master.pid" master >/dev/null || { echo "postfix1 down"; ok=1; }
  pid_from_file "$DIR/spool/postfix2/pid/master.pid" master >/dev/null || { echo "postfix2 down"; ok=1; }
  pid_from_file "$DIR/dovecot/run/master.pid" dovecot >/dev/null || { echo "dovecot down"; ok=1; }
  pid_from_file "$DIR/run/dnsmasq.pid" dnsmasq >/dev/null || { echo "dnsmasq down"; ok=1; }
  pid_from_file "$DIR/run/greylist.pid" greylist_policy.py >/dev/null || { echo "greylist policy down"; ok=1; }
  for p in "${ALL_PORTS[@]}"; do port_open "$p" || { echo "port $p closed"; ok=1; }; done
  [ $ok -eq 0 ] && echo "$PROG: all up ($DIR)"
  return $ok
}

# reload Postfix #1 and wait until the queue manager and delivery agents of the
# old configuration are gone, so that the new setting is in force on return
postfix1_reload() {
  local master pids=() p
  master=$(pid_from_file "$DIR/spool/postfix1/pid/master.pid" master) || die "postfix1 is not running"
  for p in $(ps -o pid= --ppid "$master"); do
    case $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) in
      qmgr*|lmtp*|*"/qmgr "*|*"/lmtp "*) pids+=("$p") ;;
    esac
  done
  # what "postfix reload" does, minus its queue file scans (which take seconds)
  kill -HUP "$master" || die "cannot signal the postfix1 master ($master)"
  if [ ${#pids[@]} -gt 0 ]; then
    wait_gone 100 "${pids[@]}" >/dev/null || die "old postfix1 processes did not exit after reload"
  fi
}

do_hold() {
  [ -f "$DIR/postfix1/main.cf" ] || die "no stack in $DIR"
  postconf -c "$DIR/postfix1" -e "defer_transports = lmtp"
  postfix1_reload
}

do_release() {
  [ -f "$DIR/postfix1/main.cf" ] || die "no stack in $DIR"
  postconf -c "$DIR/postfix1" -e "defer_transports ="
  postfix1_reload
  postqueue -c "$DIR/postfix1" -f
}

do_empty() {
  local u=${1:?user}
  [[ $u == *@* ]] || u=$u@$DOMAIN
  doveadm -c "$DIR/dovecot/dovecot.conf" expunge -u "$u" mailbox '*' all
}

case $CMD in
  start) do_start ;;
  stop)
    set_ports "$(existing_base)"
    do_stop
    ;;
  status) do_status ;;
  hold) do_hold ;;
  release) do_release ;;
  empty) [ $# -ge 3 ] || usage; do_empty "$3" ;;
  *) usage ;;
esac
