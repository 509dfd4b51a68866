# SPF/DKIM/DMARC part of the throwaway mail stack (sourced by mailstack.sh; issue 14).
#
# Mail submitted to the relay's signing port (+589) is signed there by OpenDKIM (milter);
# the relay hands mail for the verdict mailboxes to the MX's verifying port (+27), where
# policyd-spf (spawned policy service) checks SPF at RCPT time and OpenDKIM (verify) and
# OpenDMARC (milters) add their Authentication-Results; authserv-id mx.mail.test. All
# other mail and ports of the stack are untouched. Keys are made at start; the DKIM, SPF
# and DMARC TXT records are served by the stack's dnsmasq (DIR/auth/dns, --conf-dir).
#
#   auth.test      SPF allows 127.0.0.1, signed d=auth.test, DMARC p=reject: all pass
#   spf-fail.test  SPF allows only 192.0.2.1 (not the relay), signed d=relay.test (not
#                  aligned), DMARC p=reject: SPF fail, DMARC fail (reported, not enforced)
#   recipients t73, t75, t76: relay -> MX +27 as signed
#   recipient t74: the relay's client rewrites the body after signing (smtp_body_checks
#                  doubles a space: DKIM's simple body canonicalization breaks, the probe's
#                  relaxed one does not): OpenDKIM writes dkim=fail reason="signature
#                  verification failed"
#
# OpenDMARC has no resolver setting (it asks the system resolver on port 53): it runs in a
# network and mount namespace of its own, with a resolv.conf naming 127.0.0.1 and a dnsmasq
# on that namespace's 127.0.0.1:53 serving the same records. Postfix reaches it through its
# unix socket. The daemons run as Debian's opendkim, opendmarc and policyd-spf users.
# DIR/auth/auth.env names the ports and domains for the tests (test_auth_verdicts.py).

AUTH_SELECTOR=mp
AUTHSERV_ID=mx.mail.test

start_auth() {
  local a=$DIR/auth keygen
  P_AUTH_MX=$((BASE + 27)); P_AUTH_RELAY=$((BASE + 589))
  ALL_PORTS+=("$P_AUTH_MX" "$P_AUTH_RELAY")
  mkdir -p "$a/dns" "$a/dkim" "$a/dmarc"
  # one key pair, published for both signing domains; made while the configs are written
  opendkim-genkey -b 2048 -h sha256 -s "$AUTH_SELECTOR" -D "$a/dkim" & keygen=$!
  gen_auth_milters
  gen_auth_postfix
  wait "$keygen" || { START_ERR="opendkim-genkey failed"; return 1; }
  gen_auth_dns
  chown -R opendkim:opendkim "$a/dkim"
  chown -R opendmarc:opendmarc "$a/dmarc"
  opendkim -x "$a/dkim/sign.conf" </dev/null >>"$DIR/log/opendkim.log" 2>&1 \
    || { START_ERR="opendkim (signing) failed to start"; return 1; }
  opendkim -x "$a/dkim/verify.conf" </dev/null >>"$DIR/log/opendkim.log" 2>&1 \
    || { START_ERR="opendkim (verifying) failed to start"; return 1; }
  unshare --net --mount --propagation private -- /bin/sh -ec '
    ip link set lo up
    mount --bind "$1/resolv.conf" /etc/resolv.conf
    dnsmasq -C /dev/null --conf-dir="$1/dns" --no-resolv --no-hosts --no-poll --port=53 \
      --listen-address=127.0.0.1 --bind-interfaces --user=root --group=root --local=/test/ \
      --pid-file="$1/dmarc-dns.pid"
    exec opendmarc -c "$1/dmarc/opendmarc.conf"' auth "$a" </dev/null >>"$DIR/log/opendmarc.log" 2>&1 \
    || { START_ERR="opendmarc (in its own network namespace) failed to start"; return 1; }
  wait_auth_sockets
  {
    echo "AUTH_RELAY_PORT=$P_AUTH_RELAY"
    echo "AUTH_MX_PORT=$P_AUTH_MX"
    echo "AUTHSERV_ID=$AUTHSERV_ID"
    echo "AUTH_PASS_DOMAIN=auth.test"
    echo "AUTH_SPF_FAIL_DOMAIN=spf-fail.test"
    echo "AUTH_ALTERED_USER=t74"
  } >"$a/auth.env"
}

gen_auth_dns() {
  local a=$DIR/auth k
  # the TXT record as opendkim-genkey wrote it: its quoted strings (each < 256 octets)
  k=$(grep -o '"[^"]*"' "$a/dkim/$AUTH_SELECTOR.txt" | paste -sd, -)
  cat >"$a/dns/auth.conf" <<EOF
txt-record=auth.test,"v=spf1 ip4:127.0.0.1 -all"
txt-record=_dmarc.auth.test,"v=DMARC1; p=reject"
txt-record=$AUTH_SELECTOR._domainkey.auth.test,$k
txt-record=spf-fail.test,"v=spf1 ip4:192.0.2.1 -all"
txt-record=_dmarc.spf-fail.test,"v=DMARC1; p=reject"
txt-record=$AUTH_SELECTOR._domainkey.relay.test,$k
EOF
}

gen_auth_milters() {
  local a=$DIR/auth
  echo "nameserver 127.0.0.1" >"$a/resolv.conf"
  # no client is "internal" to the verifiers (the default, 127.0.0.1, is every client here)
  echo "192.0.2.254" >"$a/no-internal-hosts"
  cat >"$a/dkim/signing.table" <<EOF
*@auth.test auth
*@spf-fail.test relay
EOF
  cat >"$a/dkim/key.table" <<EOF
auth auth.test:$AUTH_SELECTOR:$a/dkim/$AUTH_SELECTOR.private
relay relay.test:$AUTH_SELECTOR:$a/dkim/$AUTH_SELECTOR.private
EOF
  # the usual relaxed/simple: any change to the body, whitespace too, breaks the signature
  cat >"$a/dkim/sign.conf" <<EOF
Syslog no
Mode s
Canonicalization relaxed/simple
Socket local:$a/dkim/sign.sock
PidFile $a/dkim/sign.pid
UserID opendkim:opendkim
UMask 000
KeyTable $a/dkim/key.table
# the stack lives under /tmp (world-writable): the path check would refuse every key
RequireSafeKeys no
SigningTable refile:$a/dkim/signing.table
EOF
  cat >"$a/dkim/verify.conf" <<EOF
Syslog no
Mode v
Socket local:$a/dkim/verify.sock
PidFile $a/dkim/verify.pid
UserID opendkim:opendkim
UMask 000
AuthservID $AUTHSERV_ID
InternalHosts $a/no-internal-hosts
ResolverConfiguration $a/dkim/unbound.conf
EOF
  # libunbound: the stack's dnsmasq, and .test is not refused as a reserved name
  cat >"$a/dkim/unbound.conf" <<EOF
server:
  do-not-query-localhost: no
  local-zone: "test." nodefault
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@$P_DNS
EOF
  # SPF comes from policyd-spf's field (opendmarc's own check passes every 127.0.0.1)
  cat >"$a/dmarc/opendmarc.conf" <<EOF
Syslog false
Socket local:$a/dmarc/dmarc.sock
PidFile $a/dmarc/dmarc.pid
UserID opendmarc:opendmarc
UMask 000
AuthservID $AUTHSERV_ID
TrustedAuthservIDs $AUTHSERV_ID
IgnoreHosts $a/no-internal-hosts
SPFSelfValidate false
SPFIgnoreResults false
RejectFailures false
FailureReports false
EOF
  cat >"$a/policyd-spf.conf" <<EOF
debugLevel = 1
TestOnly = 1
HELO_reject = No_Check
Mail_From_reject = False
PermError_reject = False
TempError_Defer = False
skip_addresses = 192.0.2.254/32
Header_Type = AR
Authserv_Id = $AUTHSERV_ID
Hide_Receiver = Yes
EOF
  install -m 0644 "$HERE/spf_policy.py" "$a/spf_policy.py"
}

gen_auth_postfix() {
  local a=$DIR/auth p1=$DIR/postfix1 p2=$DIR/postfix2 u
  cat >>"$p1/main.cf" <<EOF
# ---- SPF/DKIM/DMARC (tests/stack/auth_stack.sh)
mp_auth_recipient_restrictions = check_policy_service unix:private/mp-spf, permit_mynetworks, reject_unauth_destination
mp-spf_time_limit = 3600s
EOF
  cat >>"$p1/master.cf" <<EOF
# ---- SPF/DKIM/DMARC (tests/stack/auth_stack.sh)
$P_AUTH_MX inet n       -       n       -       -       smtpd
  -o syslog_name=postfix1/verify
  -o smtpd_recipient_restrictions=\$mp_auth_recipient_restrictions
  -o smtpd_milters=unix:$a/dkim/verify.sock,unix:$a/dmarc/dmarc.sock
mp-spf    unix  -       n       n       -       0       spawn
  user=policyd-spf argv=/usr/bin/python3 $a/spf_policy.py $a/policyd-spf.conf $P_DNS
EOF
  for u in t73 t75 t76; do echo "$u@$DOMAIN smtp:[127.0.0.1]:$P_AUTH_MX"; done >"$a/transport"
  echo "t74@$DOMAIN mpalter:[127.0.0.1]:$P_AUTH_MX" >>"$a/transport"
  echo '/^([^ ]+) (.*)$/ REPLACE ${1}  ${2}' >"$a/alter_body"
  if grep -q '^transport_maps = ' "$p2/main.cf"; then
    sed -i "s|^transport_maps = .*|& texthash:$a/transport|" "$p2/main.cf"
  else
    echo "transport_maps = texthash:$a/transport" >>"$p2/main.cf"
  fi
  cat >>"$p2/master.cf" <<EOF
# ---- SPF/DKIM/DMARC (tests/stack/auth_stack.sh)
$P_AUTH_RELAY inet n    -       n       -       -       smtpd
  -o syslog_name=postfix2/signing
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_sender_restrictions=\$mp_submission_sender_restrictions
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_milters=unix:$a/dkim/sign.sock
mpalter   unix  -       -       n       -       -       smtp
  -o smtp_body_checks=regexp:$a/alter_body
EOF
}

wait_auth_sockets() {
  local s n=100
  for s in dkim/sign.sock dkim/verify.sock dmarc/dmarc.sock; do
    while [ ! -S "$DIR/auth/$s" ]; do
      [ $n -gt 0 ] || { START_ERR="no milter socket $DIR/auth/$s"; return 1; }
      n=$((n - 1)); sleep 0.05
    done
  done
}

# SIGKILL, all at once: libmilter notices SIGTERM only at its next poll timeout (up to 5 s),
# and these daemons keep nothing worth a clean exit. Found by their config paths under DIR,
# so that a start that failed half-way leaves nothing behind either.
stop_auth() {
  local pids=()
  mapfile -t pids < <(ps -eo pid=,stat=,comm=,args= | awk -v d="$DIR/auth/" '
    $2 ~ /^Z/ { next }
    ($3 == "opendkim" && index($0, " -x " d)) || ($3 == "opendmarc" && index($0, " -c " d)) ||
      ($3 == "dnsmasq" && index($0, " --pid-file=" d)) { print $1 }')
  [ ${#pids[@]} -gt 0 ] || return 0
  kill -KILL "${pids[@]}" 2>/dev/null || true
  wait_gone 50 "${pids[@]}" >/dev/null || echo "$PROG: still alive after SIGKILL: ${pids[*]}" >&2
}
