#!/usr/bin/python3
"""A real OAuth2 token endpoint for the tests of mailprobe's built-in client (issue 13).

The grant and client authentication are Debian's python3-authlib (AuthorizationServer with its
client-credentials grant, client_secret_post and client_secret_basic); this file only plugs
it into http.server and issues RS256 JWTs that the test stack's Dovecot oauth2 passdb accepts
(tests/stack/oauth2_stack.sh: the stack's signing key, kid, issuer, scope and audience).

Clients: "app-<user>" with the secret given by --secret, allowed to reach <user>@<domain>
(Dovecot takes the login name from the token's email claim).

  POST /token            the token endpoint
  GET  /stats            {"requests": N} token requests so far (one line of JSON)
  POST /control          form fields change behaviour for the following requests:
                         delay=SECONDS  answer token requests that late
                         reject=1       refuse every client secret as Entra ID words it
                         revoke=N       the next N tokens are ones the mail server refuses
                         expires_in=S   lifetime of the tokens issued
                         reset=1        back to normal, counter to 0

Run: token_server.py --port P --env STACK/oauth2/oauth2.env --domain mail.test --secret S
It prints "ready" on stdout once it listens on 127.0.0.1:P.
"""

import argparse
import json
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt  # Debian python3-jwt
from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidClientError

# What Entra ID answers for a wrong client secret (AADSTS7000215), shortened.
ENTRA_BAD_SECRET = ("AADSTS7000215: Invalid client secret provided. Ensure the secret being "
                    "sent in the request is the client secret value, not the client secret ID.")


class Client(ClientMixin):
    """A client of the test endpoint whose tokens open the mailbox `email`. By default one of
    the client-credentials grant with a secret ("app-<user>"); jwt_grant_server.py makes the
    others with their own authentication methods and grant."""

    def __init__(self, client_id, email, secret=None,
                 auth_methods=("client_secret_post", "client_secret_basic"),
                 grant_type="client_credentials"):
        self.client_id, self.email, self.secret = client_id, email, secret
        self.auth_methods, self.grant_type = auth_methods, grant_type

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return scope

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        return self.secret is not None and client_secret == self.secret

    def check_endpoint_auth_method(self, method, endpoint):
        return method in self.auth_methods

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type == self.grant_type


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    # authlib accepts only client_secret_basic unless told otherwise
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class Behaviour:
    """What the tests asked for, shared by the handler threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests = 0
        self.delay = 0.0
        self.reject = False
        self.revoke = 0
        self.expires_in = 3600


class TokenServer(AuthorizationServer):
    """authlib's AuthorizationServer on plain dicts: the form and headers of one request."""

    def __init__(self, args, behaviour):
        super().__init__()
        self.args, self.behaviour = args, behaviour
        env = {}
        with open(args.env) as f:
            for line in f:
                if "=" in line:
                    k, v = line.strip().split("=", 1)
                    env[k] = v
        self.oauth = env
        with open(env["OAUTH2_SIGNING_KEY"]) as f:
            self.signing_key = f.read()
        self.register_grant(ClientCredentialsGrant)
        self.register_token_generator("default", self.generate_jwt)

    def query_client(self, client_id):
        if not client_id or not client_id.startswith("app-"):
            return None
        client = Client(client_id, f"{client_id[4:]}@{self.args.domain}", self.args.secret)
        if self.behaviour.reject:
            # Refuse the right secret too, in Entra ID's words.
            client.check_client_secret = self._reject
        return client

    @staticmethod
    def _reject(_secret):
        error = InvalidClientError(description=ENTRA_BAD_SECRET)
        error.status_code = 401  # as Entra ID answers
        raise error

    def save_token(self, token, request):
        pass

    def generate_jwt(self, grant_type, client, user=None, scope=None, expires_in=None,
                     include_refresh_token=True):
        with self.behaviour.lock:
            lifetime = self.behaviour.expires_in
            revoked = self.behaviour.revoke > 0
            self.behaviour.revoke -= 1 if revoked else 0
        now = int(time.time())
        claims = {"iss": self.oauth["OAUTH2_ISSUER"], "sub": client.client_id,
                  "email": client.email, "scope": self.oauth["OAUTH2_SCOPE"],
                  # A revoked token: Dovecot's active_attribute check refuses this audience.
                  "aud": "revoked.test" if revoked else self.oauth["OAUTH2_AUDIENCE"],
                  "iat": now, "exp": now + lifetime, "jti": uuid.uuid4().hex}
        token = jwt.encode(claims, self.signing_key, algorithm="RS256",
                           headers={"kid": self.oauth["OAUTH2_KID"]})
        return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime}

    def create_oauth2_request(self, request):
        form, headers = request
        return OAuth2Request("POST", "https://127.0.0.1/token", form, headers)

    def handle_response(self, status, body, headers):
        return status, body, headers

    def send_signal(self, name, *args, **kwargs):
        pass


class Handler(BaseHTTPRequestHandler):
    server_version = "mailprobe-test-token-endpoint"

    def log_message(self, fmt, *args):
        pass  # the tests read /stats; secrets never go to a log

    def _form(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        return dict(urllib.parse.parse_qsl(body, keep_blank_values=True))

    def _reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "content-type"):
                self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path != "/stats":
            return self._reply(404, {"error": "not_found"})
        with self.server.behaviour.lock:
            return self._reply(200, {"requests": self.server.behaviour.requests})

    def do_POST(self):
        form = self._form()
        b = self.server.behaviour
        if self.path == "/control":
            with b.lock:
                if form.get("reset"):
                    b.reset()
                b.delay = float(form.get("delay", b.delay))
                b.reject = form.get("reject", "1" if b.reject else "0") == "1"
                b.revoke = int(form.get("revoke", b.revoke))
                b.expires_in = int(form.get("expires_in", b.expires_in))
            return self._reply(200, {"ok": True})
        if self.path != "/token":
            return self._reply(404, {"error": "not_found"})
        with b.lock:
            b.requests += 1
            delay = b.delay
        if delay:
            time.sleep(delay)
        headers = {k: v for k, v in self.headers.items()}
        status, body, out_headers = self.server.authz.create_token_response((form, headers))
        self._reply(status, body, out_headers)


def argument_parser():
    """The options of this server; jwt_grant_server.py adds its own."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--env", required=True, help="the stack's oauth2/oauth2.env")
    ap.add_argument("--domain", required=True)
    ap.add_argument("--secret", required=True)
    return ap


def serve(args, server_class):
    """Answers on 127.0.0.1:args.port with an authorization server of server_class; says
    "ready" on stdout once it listens."""
    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    httpd.daemon_threads = True
    httpd.behaviour = Behaviour()
    httpd.authz = server_class(args, httpd.behaviour)
    print("ready", flush=True)
    httpd.serve_forever()


def main():
    serve(argument_parser().parse_args(), TokenServer)


if __name__ == "__main__":
    main()
