"""The built-in OAuth2 client (issue 13): client-credentials tokens from a real OAuth2 server
(tests/oauth2/token_server.py, Debian's python3-authlib) that Dovecot's oauth2 passdb and
Postfix submission accept; the token cache in the state directory. Users: t61..t64."""

import glob
import json
import os
import stat
import subprocess
import urllib.parse
import unittest
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mailprobe_harness import run_plugin
from mp_testlib import PluginTestCase, join_args, mailbox_opts, smtp_args

SERVER = Path(__file__).resolve().parent.parent / "oauth2" / "token_server.py"
SECRET = "cs-Zq7~client.secret-" + os.urandom(6).hex()
# The stack keeps BASE+993/995; the token endpoint takes a port of BASE+900..999 it leaves free.
PORT_OFFSET = 940


class OAuth2ClientTests(PluginTestCase):
    users = ("t61", "t62", "t63", "t64")
    service = "MAILBOX RECEIVE"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.port = cls.stack.port_base + PORT_OFFSET
        cls.url = f"http://127.0.0.1:{cls.port}/token"
        cls.server = subprocess.Popen(
            ["/usr/bin/python3", str(SERVER), "--port", str(cls.port),
             "--env", str(cls.stack.dir / "oauth2" / "oauth2.env"),
             "--domain", cls.stack.address("t61").split("@")[1], "--secret", SECRET],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if cls.server.stdout.readline().strip() != "ready":
            cls.server.kill()
            raise RuntimeError("token server did not start: " + cls.server.stderr.read())
        cls.secret_file = os.path.join(cls.tmp, "client.secret")
        with open(os.open(cls.secret_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(SECRET + "\n")

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(10)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.control(reset=1)

    # ---- the token server
    def control(self, **fields):
        data = urllib.parse.urlencode(fields).encode()
        urllib.request.urlopen(f"http://127.0.0.1:{self.port}/control", data, timeout=5).read()

    def requests(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=5) as r:
            return json.load(r)["requests"]

    # ---- runs
    def client_args(self, user, *extra):
        return ["--oauth2-token-url", self.url, "--oauth2-client-id", f"app-{user}",
                "--oauth2-client-secret-file", self.secret_file, *extra]

    def login(self, user, proto="imap", mech="XOAUTH2", state_dir=None, extra=(), t=20,
              client=None, env=None):
        args = [*mailbox_opts(self.stack, user, proto, password_file=False),
                "--mailbox-auth-mech", mech, "--login-only", "-t", str(t),
                *(self.client_args(user) if client is None else client), *extra]
        env = dict(self.env, MAILPROBE_STATE_DIR=state_dir or self.new_state_dir(), **(env or {}))
        return run_plugin("check_mailbox_receive", args, env=env, timeout=90)

    def cached_token(self, state_dir):
        files = glob.glob(os.path.join(state_dir, "oauth2-token-*.cache"))
        self.assertEqual(len(files), 1, files)
        self.assertEqual(stat.S_IMODE(os.stat(files[0]).st_mode), 0o600)
        lines = Path(files[0]).read_text().splitlines()
        self.assertEqual(lines[0], "mailprobe-oauth2-token 1")
        return lines[2].removeprefix("token ")

    def assertNoSecrets(self, run, *tokens):
        text = run.stdout + run.stderr
        self.assertNotIn(SECRET, text)
        for token in tokens:
            self.assertNotIn(token, text)
            self.assertNotIn(token[20:60], text)

    # ---- a token from the endpoint logs in: IMAP, POP3, SMTP
    def test_mailbox_logins_with_a_client_credentials_token(self):
        cases = [("imap", "XOAUTH2", ()), ("pop3", "OAUTHBEARER", ()),
                 ("imap", "OAUTHBEARER", ("--oauth2-client-auth", "basic"))]
        for proto, mech, extra in cases:
            with self.subTest(proto=proto, mech=mech, extra=extra):
                state = self.new_state_dir()
                before = self.requests()
                r = self.login("t61", proto, mech, state, ("-vvv", *extra))
                self.assertStatus(r, "OK")
                self.assertEqual(self.requests(), before + 1)
                self.assertGreater(self.assertPerf(r, ("oauth2_token_time",))
                                   ["oauth2_token_time"].value, 0)
                self.assertNoSecrets(r, self.cached_token(state))

    def test_smtp_and_roundtrip_share_one_token(self):
        s = self.stack
        state = self.new_state_dir()
        args = join_args(
            smtp_args(s, "submission"),
            ["--smtp-user", s.address("t62"), "--smtp-auth-mech", "XOAUTH2",
             "--to", s.address("t62"), "-t", "30"],
            mailbox_opts(s, "t62", "imap", password_file=False),
            ["--mailbox-auth-mech", "OAUTHBEARER", "-vvv"], self.client_args("t62"))
        before = self.requests()
        r = run_plugin("check_mail_roundtrip", args, env=dict(self.env, MAILPROBE_STATE_DIR=state),
                       timeout=90)
        self.assertStatus(r, "OK", "MAIL ROUNDTRIP")
        self.assertEqual(self.requests(), before + 1, "one token for both sides")
        self.assertIn("C: AUTH XOAUTH2 [redacted]", r.stdout)
        self.assertPerf(r, ("oauth2_token_time", "smtp_transaction", "delivery"))
        self.assertNoSecrets(r, self.cached_token(state))
        self.assertEqual(s.messages("t62"), [], "the probe is deleted")

    # ---- the cache
    def test_cache_serves_the_next_runs(self):
        state = self.new_state_dir()
        first = self.login("t63", state_dir=state)
        self.assertStatus(first, "OK")
        count = self.requests()
        second = self.login("t63", "pop3", "OAUTHBEARER", state_dir=state)
        self.assertStatus(second, "OK")
        self.assertEqual(self.assertPerf(second, ("oauth2_token_time",))
                         ["oauth2_token_time"].value, 0)
        self.assertEqual(self.requests(), count, "served from the cache")

    def test_token_near_expiry_is_not_used(self):
        state = self.new_state_dir()
        self.control(expires_in=400)  # within a 500 s margin: not worth caching
        self.assertStatus(self.login("t63", state_dir=state,
                                     extra=("--oauth2-token-cache-margin", "500")), "OK")
        self.assertEqual(glob.glob(os.path.join(state, "oauth2-token-*.cache")), [])
        count = self.requests()
        self.assertStatus(self.login("t63", state_dir=state), "OK")
        self.assertEqual(self.requests(), count + 1)

    def test_twenty_concurrent_runs_make_one_token_request(self):
        state = self.new_state_dir()
        self.control(delay=1)  # all 20 are waiting while the first one asks
        before = self.requests()
        with ThreadPoolExecutor(20) as pool:
            runs = list(pool.map(lambda _: self.login("t64", state_dir=state, t=40), range(20)))
        for r in runs:
            self.assertStatus(r, "OK")
        self.assertEqual(self.requests(), before + 1)
        times = sorted(r.perfdata["oauth2_token_time"].value for r in runs)
        self.assertEqual(times[:19], [0] * 19, "19 runs read the first one's token")
        self.assertGreater(times[19], 0.5)

    # ---- a token the mail server refuses is replaced once
    def test_revoked_token_is_replaced_once(self):
        state = self.new_state_dir()
        self.control(revoke=1)
        before = self.requests()
        r = self.login("t61", state_dir=state)
        self.assertStatus(r, "OK")
        self.assertEqual(self.requests(), before + 2, "refused, dropped, asked once more")
        good = self.cached_token(state)
        r = self.login("t61", "pop3", state_dir=state)
        self.assertStatus(r, "OK")
        self.assertEqual(self.requests(), before + 2)
        self.assertEqual(self.cached_token(state), good)

    def test_refused_again_is_critical_after_one_retry(self):
        self.control(revoke=5)
        before = self.requests()
        r = self.login("t61")
        self.assertStatus(r, "CRITICAL")
        self.assertIn("IMAP login as t61@mail.test on ", r.first_line)
        self.assertIn("with XOAUTH2 refused: ", r.first_line)
        self.assertEqual(self.requests(), before + 2)

    # ---- the endpoint's failures, in words
    def test_endpoint_errors_named(self):
        r = self.login("t61", client=["--oauth2-token-url", self.url,
                                      "--oauth2-client-id", "app-t61"],
                       env={"MAILPROBE_OAUTH2_CLIENT_SECRET": "not-the-secret-4711"})
        self.assertStatus(r, "CRITICAL")
        self.assertIn(f"OAuth2 token endpoint {self.url} refused the request (HTTP 401): "
                      "invalid_client", r.first_line)
        self.assertNotIn("not-the-secret-4711", r.stdout)
        self.control(reject=1)
        r = self.login("t61", extra=("-vvv",))
        self.assertStatus(r, "CRITICAL")
        self.assertIn("(HTTP 401): invalid_client: AADSTS7000215: Invalid client secret provided.",
                      r.first_line)
        self.assertNoSecrets(r)

    def test_slow_endpoint_is_cut_off_by_the_deadline(self):
        self.control(delay=30)
        r = self.login("t61", t=3)
        self.assertStatus(r, "CRITICAL")
        self.assertIn(f"OAuth2 token endpoint {self.url}: timeout after 3 s", r.first_line)
        self.assertWithinDeadline(r, 3)

    def test_unreachable_endpoint(self):
        url = f"http://127.0.0.1:{self.port + 1}/token"
        r = self.login("t61", client=["--oauth2-token-url", url, "--oauth2-client-id", "app-t61",
                                      "--oauth2-client-secret-file", self.secret_file])
        self.assertStatus(r, "CRITICAL")
        self.assertIn(f"OAuth2 token endpoint {url}: connection refused by the token endpoint",
                      r.first_line)

    # ---- usage errors
    def test_client_options_no_login_uses_are_refused(self):
        # The mailbox token variable takes precedence over the client: its options would
        # otherwise be ignored without a word.
        before = self.requests()
        r = self.login("t61", env={"MAILPROBE_MAILBOX_TOKEN": "eyJ.unused"})
        self.assertStatus(r, "UNKNOWN")
        self.assertIn("no login uses the OAuth2 client", r.first_line)
        self.assertEqual(self.requests(), before)

    def test_client_options_checked(self):
        cases = [
            (["--oauth2-token-url", "http://192.0.2.1/token", "--oauth2-client-id", "a"],
             "--oauth2-token-url: plain http:// is allowed only to 127.0.0.1, localhost or [::1]"),
            (["--oauth2-provider", "generic", "--oauth2-client-id", "a"],
             "--oauth2-provider generic needs --oauth2-token-url URL"),
            (["--oauth2-provider", "microsoft", "--oauth2-client-id", "a"],
             "--oauth2-provider microsoft needs --oauth2-tenant ID"),
            (["--oauth2-provider", "microsoft", "--oauth2-tenant", "x/../y"],
             "--oauth2-tenant: 'x/../y' is not a tenant ID or domain"),
            (["--oauth2-provider", "yahoo"], "--oauth2-provider: 'yahoo' is not one of"),
            (["--oauth2-token-url", self.url], "the OAuth2 client needs --oauth2-client-id ID"),
            (["--oauth2-token-url", self.url, "--oauth2-client-id", "a"],
             "the OAuth2 client needs a client secret: --oauth2-client-secret-file FILE or "
             "MAILPROBE_OAUTH2_CLIENT_SECRET"),
        ]
        before = self.requests()
        for extra, expected in cases:
            with self.subTest(extra=extra):
                r = self.login("t61", client=extra)
                self.assertStatus(r, "UNKNOWN")
                self.assertIn(expected, r.first_line)
        self.assertEqual(self.requests(), before)


if __name__ == "__main__":
    unittest.main()
