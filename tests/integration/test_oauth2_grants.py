"""The built-in OAuth2 client's signed and rotating grants (issue 13) against a real OAuth2
server (tests/oauth2/jwt_grant_server.py: authlib's private_key_jwt client authentication,
JWT bearer and refresh-token grants) and the real Dovecot, which accepts the tokens it
issues: a client certificate's assertion (Entra ID), a Google service account impersonating
the mailbox user, a refresh token rotated on every use. Users: t65..t67."""

import json
import os
import re
import stat
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import jwt  # Debian python3-jwt, to read the cached token's claims

from mailprobe_harness import run_plugin
from mp_testlib import PluginTestCase, mailbox_opts

SERVER = Path(__file__).resolve().parent.parent / "oauth2" / "jwt_grant_server.py"
# The stack keeps BASE+993/995, test_oauth2_client.py BASE+940: this file's endpoint is BASE+950.
PORT_OFFSET = 950
SA_EMAIL = "mailprobe@probe-project.iam.gserviceaccount.com"
SA_KID = "4f1c2a7203e0b7d9"
REFRESH_SEED = "rt-seed-" + os.urandom(8).hex()


def make_certificate(directory, name, days):
    """A self-signed client certificate and its key (0600), valid for `days` days."""
    crt, key = os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                    str(days), "-subj", "/CN=mailprobe " + name, "-keyout", key, "-out", crt],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    return crt, key


def write_secret(path, text):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(text)
    return path


class OAuth2GrantTests(PluginTestCase):
    users = ("t65", "t66", "t67")
    service = "MAILBOX RECEIVE"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.port = cls.stack.port_base + PORT_OFFSET
        cls.url = f"http://127.0.0.1:{cls.port}/token"
        cls.domain = cls.stack.address("t65").split("@")[1]
        cls.cert = make_certificate(cls.tmp, "app", 3650)
        cls.soon = make_certificate(cls.tmp, "expiring", 5)
        cls.other = make_certificate(cls.tmp, "unregistered", 3650)
        sa_key = make_certificate(cls.tmp, "service-account", 3650)[1]
        sa_pub = os.path.join(cls.tmp, "service-account.pub")
        subprocess.run(["openssl", "rsa", "-in", sa_key, "-pubout", "-out", sa_pub],
                       check=True, capture_output=True)
        cls.sa_file = write_secret(os.path.join(cls.tmp, "sa.json"), json.dumps({
            "type": "service_account", "project_id": "probe-project",
            "private_key_id": SA_KID, "private_key": Path(sa_key).read_text(),
            "client_email": SA_EMAIL, "client_id": "1234567890", "token_uri": cls.url}))
        cls.server = subprocess.Popen(
            ["/usr/bin/python3", str(SERVER), "--port", str(cls.port),
             "--env", str(cls.stack.dir / "oauth2" / "oauth2.env"), "--domain", cls.domain,
             "--secret", os.urandom(8).hex(), "--client-cert", cls.cert[0],
             "--client-cert", cls.soon[0], "--service-account-key", sa_pub,
             "--service-account-email", SA_EMAIL, "--service-account-kid", SA_KID,
             "--refresh-token", f"t67={REFRESH_SEED}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if cls.server.stdout.readline().strip() != "ready":
            cls.server.kill()
            raise RuntimeError("token server did not start: " + cls.server.stderr.read())

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(10)
        super().tearDownClass()

    def requests(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=5) as r:
            return json.load(r)["requests"]

    def login(self, user, client, extra=(), state_dir=None, proto="imap"):
        args = [*mailbox_opts(self.stack, user, proto, password_file=False),
                "--mailbox-auth-mech", "XOAUTH2", "--login-only", "-t", "20",
                "--oauth2-token-url", self.url, *client, *extra]
        env = dict(self.env, MAILPROBE_STATE_DIR=state_dir or self.new_state_dir())
        return run_plugin("check_mailbox_receive", args, env=env, timeout=90)

    def certificate_client(self, user, cert):
        return ["--oauth2-client-id", f"cert-{user}", "--oauth2-client-certificate", cert[0],
                "--oauth2-client-key", cert[1]]

    def cached_claims(self, state_dir):
        (cache,) = Path(state_dir).glob("oauth2-token-*.cache")
        token = cache.read_text().splitlines()[2].removeprefix("token ")
        return token, jwt.decode(token, options={"verify_signature": False})

    def assertNothingSecret(self, run, *secrets):
        text = run.stdout + run.stderr
        for secret in secrets:
            self.assertNotIn(secret, text)
        self.assertNotIn("BEGIN", text)  # no key material
        self.assertNotRegex(text, r"eyJ[\w-]{20,}\.eyJ")  # no JWT (assertion or token)

    # ---- client certificate (Entra ID's certificate credential)
    def test_certificate_assertion_gets_a_token_the_mailbox_accepts(self):
        state = self.new_state_dir()
        before = self.requests()
        r = self.login("t65", self.certificate_client("t65", self.cert), ("-vvv",), state)
        self.assertStatus(r, "OK")
        self.assertEqual(self.requests(), before + 1)
        token, claims = self.cached_claims(state)
        self.assertEqual(claims["email"], self.stack.address("t65"))
        self.assertNothingSecret(r, token)

    def test_unregistered_certificate_is_the_endpoints_refusal_on_line_1(self):
        r = self.login("t65", self.certificate_client("t65", self.other))
        self.assertStatus(r, "CRITICAL")
        self.assertRegex(r.first_line, re.escape(f"OAuth2 token endpoint {self.url} refused the "
                                                 "request (HTTP ") +
                         r"40[01]\): invalid_client: AADSTS700027: The certificate with "
                         "identifier used to sign the client assertion is not registered")

    def test_key_of_another_certificate_is_a_usage_error(self):
        r = self.login("t65", ["--oauth2-client-id", "cert-t65", "--oauth2-client-certificate",
                               self.cert[0], "--oauth2-client-key", self.other[1]])
        self.assertStatus(r, "UNKNOWN")
        self.assertIn(f"client key {self.other[1]} does not belong to client certificate "
                      f"{self.cert[0]}", r.first_line)

    def test_cert_days_reports_the_client_certificate(self):
        r = self.login("t65", self.certificate_client("t65", self.cert), ("--cert-days", "30,7"))
        self.assertStatus(r, "OK")
        self.assertIn(self.assertPerf(r, ("oauth2_cert_days",))["oauth2_cert_days"].value,
                      (3648, 3649))
        r = self.login("t65", self.certificate_client("t65", self.soon), ("--cert-days", "30,3"))
        self.assertStatus(r, "WARNING")
        self.assertIn("OAuth2 client certificate expires in 4 days", r.first_line)
        self.assertEqual(r.perfdata["oauth2_cert_days"].value, 4)
        r = self.login("t65", self.certificate_client("t65", self.soon), ("--cert-days", "30,10"))
        self.assertStatus(r, "CRITICAL")

    # ---- Google service account, domain-wide delegation
    def test_service_account_token_is_for_the_impersonated_mailbox(self):
        for user, proto in (("t66", "imap"), ("t65", "pop3")):
            with self.subTest(user=user):
                state = self.new_state_dir()
                r = self.login(user, ["--oauth2-service-account", self.sa_file], ("-vvv",),
                               state, proto)
                self.assertStatus(r, "OK")
                token, claims = self.cached_claims(state)
                self.assertEqual(claims["email"], self.stack.address(user))
                self.assertNothingSecret(r, token)

    def test_service_account_key_file_errors_are_named(self):
        broken = write_secret(os.path.join(self.tmp, "user.json"),
                              json.dumps({"type": "authorized_user", "client_id": "x"}))
        r = self.login("t66", ["--oauth2-service-account", broken])
        self.assertStatus(r, "UNKNOWN")
        self.assertIn(f"service account key file {broken} is not a service account key",
                      r.first_line)

    # ---- refresh token, rotated on every use
    def test_refresh_token_is_rotated_and_the_old_one_refused(self):
        rt_file = write_secret(os.path.join(self.tmp, "t67.rt"), REFRESH_SEED + "\n")
        os.chmod(rt_file, 0o640)
        client = ["--oauth2-client-id", "refresh-t67", "--oauth2-refresh-token-file", rt_file]
        r = self.login("t67", client, ("-vvv",))
        self.assertStatus(r, "OK")
        rotated = Path(rt_file).read_text()
        self.assertRegex(rotated, r"^rt-[0-9a-f]{32}\n$")
        self.assertEqual(stat.S_IMODE(os.stat(rt_file).st_mode), 0o600)
        self.assertNothingSecret(r, REFRESH_SEED, rotated.strip())

        old = write_secret(os.path.join(self.tmp, "old.rt"), REFRESH_SEED + "\n")
        r = self.login("t67", ["--oauth2-client-id", "refresh-t67",
                               "--oauth2-refresh-token-file", old])
        self.assertStatus(r, "CRITICAL")
        self.assertIn(f"OAuth2 token endpoint {self.url} refused the request", r.first_line)
        self.assertIn("invalid_grant", r.first_line)
        self.assertEqual(Path(old).read_text(), REFRESH_SEED + "\n", "a refusal keeps the file")

        r = self.login("t67", client, proto="pop3")  # a fresh cache: the rotated one works
        self.assertStatus(r, "OK")
        self.assertNotEqual(Path(rt_file).read_text(), rotated)
