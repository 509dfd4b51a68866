#!/usr/bin/python3
"""token_server.py with the signed and rotating grants of issue 13, all authlib's own:

  * private_key_jwt client authentication (RFC 7523 2.2, authlib JWTBearerClientAssertion):
    clients "cert-<user>" sign with the key of --client-cert; the server verifies the
    signature with that certificate's key AND that the header's x5t / x5t#S256 are its
    thumbprints, as Entra ID finds the certificate by them.
  * the JWT bearer grant (RFC 7523 2.1, authlib JWTBearerGrant) of a Google service account:
    iss = the client_email of --service-account-key, signature checked with its key and kid,
    aud = the token URL, sub = the mailbox (any user of --domain) the token is then for.
  * the refresh-token grant (authlib RefreshTokenGrant) for public clients "refresh-<user>",
    rotating: each use returns a new refresh token and the old one is refused from then on.
    --refresh-token USER=TOKEN seeds one.

Same endpoints, control and output as token_server.py (which it imports).
"""

import base64
import hashlib
import os
import sys
import threading
import types

from authlib.jose import JsonWebKey
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion, JWTBearerGrant
from cryptography import x509
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import token_server as base  # noqa: E402

# What Entra ID answers when no certificate of the app has the assertion's thumbprint.
ENTRA_UNKNOWN_CERT = ("AADSTS700027: The certificate with identifier used to sign the client "
                      "assertion is not registered on application.")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class CertificateAssertion(JWTBearerClientAssertion):
    """private_key_jwt: signature, claims (iss = sub = client, aud, exp, fresh jti) and x5t."""

    def __init__(self, token_url, cert_pems):
        super().__init__(token_url, validate_jti=True)
        self.certs = {}  # x5t -> (x5t#S256, key): the app's registered certificates
        for pem in cert_pems:
            cert = x509.load_pem_x509_certificate(pem)
            der = cert.public_bytes(serialization.Encoding.DER)
            self.certs[b64url(hashlib.sha1(der).digest())] = (
                b64url(hashlib.sha256(der).digest()),
                JsonWebKey.import_key(cert.public_key().public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)))
        self.seen = set()
        self.lock = threading.Lock()

    def validate_jti(self, claims, jti):
        with self.lock:
            fresh = jti not in self.seen
            self.seen.add(jti)
        return fresh

    def resolve_client_public_key(self, client, headers):
        x5t_s256, key = self.certs.get(headers.get("x5t"), (None, None))
        if key is None or headers.get("x5t#S256") != x5t_s256:
            raise InvalidClientError(description=ENTRA_UNKNOWN_CERT)
        return key


class CertificateClientCredentials(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [CertificateAssertion.CLIENT_AUTH_METHOD]

    @classmethod
    def check_token_endpoint(cls, request):
        return (request.grant_type == cls.GRANT_TYPE and
                "client_assertion" in request.form)


class ServiceAccountGrant(JWTBearerGrant):
    """Google's JWT bearer grant with domain-wide delegation to every user of the domain."""

    def resolve_issuer_client(self, issuer):
        return self.server.query_client(issuer)

    def resolve_client_key(self, client, headers, payload):
        if client is None or "service_account" not in client.auth_methods:
            raise InvalidClientError(description="unknown service account")
        if headers.get("kid") != self.server.sa_kid:
            raise InvalidClientError(description="no key with this kid")
        return self.server.sa_key

    def authenticate_user(self, subject):
        if subject.endswith("@" + self.server.args.domain):
            return types.SimpleNamespace(email=subject)
        return None

    def has_granted_permission(self, client, user):
        return True


class RotatingRefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        with self.server.refresh_lock:
            email = self.server.refresh_tokens.get(refresh_token)
        if email is None:
            return None
        return types.SimpleNamespace(
            token=refresh_token, email=email, get_scope=lambda: None,
            get_expires_in=lambda: None,
            check_client=lambda client: client.email == email)

    def authenticate_user(self, credential):
        return types.SimpleNamespace(email=credential.email)

    def revoke_old_credential(self, credential):
        with self.server.refresh_lock:
            self.server.refresh_tokens.pop(credential.token, None)


class JwtTokenServer(base.TokenServer):
    def __init__(self, args, behaviour):
        super().__init__(args, behaviour)
        pems = []
        for path in args.client_cert:
            with open(path, "rb") as f:
                pems.append(f.read())
        self.register_client_auth_method(CertificateAssertion.CLIENT_AUTH_METHOD,
                                         CertificateAssertion(args.token_url, pems))
        # Ahead of token_server.py's client-credentials grant, which takes secrets only.
        self.register_grant(CertificateClientCredentials)
        self._token_grants.insert(0, self._token_grants.pop())
        with open(args.service_account_key, "rb") as f:
            self.sa_key = JsonWebKey.import_key(f.read())
        self.sa_email, self.sa_kid = args.service_account_email, args.service_account_kid
        ServiceAccountGrant.CLAIMS_OPTIONS = {
            "iss": {"essential": True}, "exp": {"essential": True},
            "aud": {"essential": True, "value": args.token_url}}
        self.register_grant(ServiceAccountGrant)
        self.refresh_lock = threading.Lock()
        self.refresh_tokens = {}
        for seed in args.refresh_token:
            user, token = seed.split("=", 1)
            self.refresh_tokens[token] = f"{user}@{args.domain}"
        self.register_grant(RotatingRefreshGrant)

    def query_client(self, client_id):
        domain = self.args.domain
        if client_id and client_id.startswith("cert-"):
            return base.Client(client_id, f"{client_id[5:]}@{domain}",
                               auth_methods=(CertificateAssertion.CLIENT_AUTH_METHOD,))
        if client_id and client_id.startswith("refresh-"):
            return base.Client(client_id, f"{client_id[8:]}@{domain}", auth_methods=("none",),
                               grant_type="refresh_token")
        if client_id == self.sa_email:
            return base.Client(client_id, None, auth_methods=("service_account",),
                               grant_type=JWTBearerGrant.GRANT_TYPE)
        return super().query_client(client_id)

    def generate_jwt(self, grant_type, client, user=None, scope=None, expires_in=None,
                     include_refresh_token=True):
        if user is not None:  # a token for the impersonated or delegating user
            client = types.SimpleNamespace(client_id=client.client_id, email=user.email)
        token = super().generate_jwt(grant_type, client, user, scope, expires_in,
                                     include_refresh_token)
        if grant_type == "refresh_token":
            rotated = "rt-" + os.urandom(16).hex()
            with self.refresh_lock:
                self.refresh_tokens[rotated] = client.email
            token["refresh_token"] = rotated
        return token


def main():
    ap = base.argument_parser()
    ap.add_argument("--client-cert", action="append", required=True,
                    help="a PEM certificate registered for the cert-* clients (repeatable)")
    ap.add_argument("--service-account-key", required=True, help="PEM (public) key")
    ap.add_argument("--service-account-email", required=True)
    ap.add_argument("--service-account-kid", required=True)
    ap.add_argument("--refresh-token", action="append", default=[], metavar="USER=TOKEN")
    args = ap.parse_args()
    args.token_url = f"http://127.0.0.1:{args.port}/token"
    base.serve(args, JwtTokenServer)


if __name__ == "__main__":
    main()
