# OAuth2 part of the throwaway mail stack (sourced by mailstack.sh; issue 13).
#
# Dovecot accepts XOAUTH2 and OAUTHBEARER with an oauth2 passdb that validates RS256 JWTs
# locally with the test issuer's public key; Postfix submission offers both through Dovecot
# SASL. Password logins stay as they were (the passwd-file passdb comes first).
#
#   DIR/oauth2/signing.key   the issuer's private key (tests sign their tokens with it)
#   DIR/oauth2/keys/default/RS256/$OAUTH2_KID   the public key Dovecot validates with
# Tokens must carry: header kid=$OAUTH2_KID, claims iss=$OAUTH2_ISSUER, exp, email=<login>,
# scope containing $OAUTH2_SCOPE, aud=$OAUTH2_AUDIENCE.

OAUTH2_KID=mp-test-1
OAUTH2_ISSUER=https://issuer.mail.test
OAUTH2_SCOPE=mail
OAUTH2_AUDIENCE=mail.test

gen_oauth2() {
  local o=$DIR/oauth2
  mkdir -p "$o/keys/default/RS256"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$o/signing.key" 2>/dev/null
  openssl pkey -in "$o/signing.key" -pubout -out "$o/keys/default/RS256/$OAUTH2_KID" 2>/dev/null
  chmod 0600 "$o/signing.key"
  chmod -R a+rX "$o/keys"
  cat >"$DIR/dovecot/oauth2.conf.ext" <<EOF2
introspection_mode = local
local_validation_key_dict = fs:posix:prefix=$o/keys/
username_attribute = email
issuers = $OAUTH2_ISSUER
scope = $OAUTH2_SCOPE
active_attribute = aud
active_value = $OAUTH2_AUDIENCE
EOF2
  cat >>"$DIR/dovecot/dovecot.conf" <<EOF2
# ---- OAuth2 (tests/stack/oauth2_stack.sh)
auth_mechanisms = plain login xoauth2 oauthbearer
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $DIR/dovecot/oauth2.conf.ext
}
EOF2
  {
    echo "OAUTH2_SIGNING_KEY=$o/signing.key"
    echo "OAUTH2_KID=$OAUTH2_KID"
    echo "OAUTH2_ISSUER=$OAUTH2_ISSUER"
    echo "OAUTH2_SCOPE=$OAUTH2_SCOPE"
    echo "OAUTH2_AUDIENCE=$OAUTH2_AUDIENCE"
  } >"$o/oauth2.env"
}
