"""OAuth2 bearer-token logins (issue 13) against the real stack: Dovecot validates RS256 JWTs
with its oauth2 passdb (tests/stack/oauth2_stack.sh), Postfix submission authenticates through
Dovecot SASL. Both offer XOAUTH2 and OAUTHBEARER, so every login proves that the mechanism we
asked for is the one used (Dovecot's method=, Postfix's sasl_method=). Users: t38, t39."""

import os
import sys
import tempfile
import time
import unittest

import jwt  # Debian python3-jwt

from mailprobe_harness import load_env_file, run_plugin
from mp_testlib import PluginTestCase, join_args, mailbox_opts, smtp_args

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakeserver"))
from fakeserver import FakeServer  # noqa: E402

MECHS = ("XOAUTH2", "OAUTHBEARER")
# Token variants the server must refuse, with the reason Dovecot logs for each, so that a
# refusal for any other reason (a broken exchange) does not pass the test.
BAD_TOKENS = {
    "expired": ({"exp": -60}, "Token has expired"),
    "wrong scope": ({"scope": "calendar"}, "configured scope 'mail' missing from token scope"),
    "wrong audience": ({"aud": "other.test"}, "Provided token is not valid"),
    "wrong issuer": ({"iss": "https://evil.test"}, "Issuer 'https://evil.test' is not allowed"),
}


# Dovecot's error payload (base64 JSON, RFC 7628 3.2.2) as we put it into words.
SERVER_SAYS = {"XOAUTH2": "(server says: status 401, schemes bearer, scope mail)",
               "OAUTHBEARER": "(server says: status invalid_token)"}


class OAuth2LoginTests(PluginTestCase):
    users = ("t38", "t39")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.oauth = load_env_file(cls.stack.dir / "oauth2" / "oauth2.env")
        with open(cls.oauth["OAUTH2_SIGNING_KEY"]) as f:
            cls.signing_key = f.read()
        cls.token_dir = tempfile.mkdtemp(prefix="tokens-", dir=cls.tmp)

    # ---- helpers
    def token(self, user, **changes):
        now = int(time.time())
        claims = {"iss": self.oauth["OAUTH2_ISSUER"], "aud": self.oauth["OAUTH2_AUDIENCE"],
                  "scope": self.oauth["OAUTH2_SCOPE"], "sub": self.stack.address(user),
                  "email": self.stack.address(user), "iat": now, "exp": now + 600}
        for k, v in changes.items():
            claims[k] = now + v if k in ("exp", "iat") else v
        return jwt.encode(claims, self.signing_key, algorithm="RS256",
                          headers={"kid": self.oauth["OAUTH2_KID"]})

    def token_file(self, token):
        fd, path = tempfile.mkstemp(dir=self.token_dir)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        return path

    def log_mark(self, name):
        path = self.stack.log_dir / name
        return path, path.stat().st_size

    def wait_log(self, mark, text, timeout=5.0):
        """The log lines written since mark, once one of them contains text."""
        path, offset = mark
        end = time.monotonic() + timeout
        while True:
            with open(path, errors="replace") as f:
                f.seek(offset)
                new = f.read()
            if text in new or time.monotonic() > end:
                self.assertIn(text, new, f"{path} since the run")
                return new

    def mailbox_login(self, user, proto, mech, token, *extra):
        args = [*mailbox_opts(self.stack, user, proto, password_file=False),
                "--mailbox-auth-mech", mech, "--mailbox-token-file", self.token_file(token),
                "--login-only", "-t", "20", *extra]
        return run_plugin("check_mailbox_receive", args, env=self.env, timeout=60)

    def smtp_send(self, user, mech, token, *extra):
        args = [*smtp_args(self.stack, "submission"), "--smtp-user", self.stack.address(user),
                "--smtp-auth-mech", mech, "--to", self.stack.address(user), "-t", "20", *extra]
        env = dict(self.env, MAILPROBE_SMTP_TOKEN=token)
        return run_plugin("check_mail_send", args, env=env, timeout=60)

    def assertNoToken(self, run, token):
        self.assertNotIn(token, run.stdout + run.stderr)
        self.assertNotIn(token[10:40], run.stdout + run.stderr)

    # ---- good tokens: the chosen mechanism is the one used
    def test_mailbox_good_token_uses_the_chosen_mechanism(self):
        for proto in ("imap", "pop3"):
            for mech in MECHS:
                with self.subTest(proto=proto, mech=mech):
                    token = self.token("t38")
                    mark = self.log_mark("dovecot.log")
                    r = self.mailbox_login("t38", proto, mech, token, "-vvv")
                    self.assertStatus(r, "OK", "MAILBOX RECEIVE")
                    self.assertPerf(r, ("mailbox_login", "time"))
                    verb = "mpauth AUTHENTICATE" if proto == "imap" else "AUTH"
                    self.assertIn(f"C: {verb} {mech} [redacted]", r.stdout)
                    self.wait_log(mark, f"user=<t38@mail.test>, method={mech},")
                    self.assertNoToken(r, token)

    def test_smtp_good_token_uses_the_chosen_mechanism(self):
        for mech in MECHS:
            with self.subTest(mech=mech):
                token = self.token("t39")
                mark = self.log_mark("postfix1.log")
                r = self.smtp_send("t39", mech, token, "-vvv")
                self.assertStatus(r, "OK", "MAIL SEND")
                self.assertIn(f"C: AUTH {mech} [redacted]", r.stdout)
                self.assertIn("S: 250-AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER", r.stdout)
                self.wait_log(mark, f"sasl_method={mech}, sasl_username=t39@mail.test")
                self.assertNoToken(r, token)
                self.stack.wait_for_messages("t39", 1)
                self.stack.empty("t39")

    def test_roundtrip_with_tokens_on_both_sides(self):
        s = self.stack
        args = join_args(
            smtp_args(s, "submission"),
            ["--smtp-user", s.address("t38"), "--smtp-auth-mech", "OAUTHBEARER",
             "--to", s.address("t38"), "-t", "30"],
            mailbox_opts(s, "t38", "imap", password_file=False),
            ["--mailbox-auth-mech", "XOAUTH2"])
        env = dict(self.env, MAILPROBE_SMTP_TOKEN=self.token("t38"),
                   MAILPROBE_MAILBOX_TOKEN=self.token("t38"))
        r = run_plugin("check_mail_roundtrip", args, env=env, timeout=90)
        self.assertStatus(r, "OK", "MAIL ROUNDTRIP")
        self.assertPerf(r, ("delivery", "smtp_transaction", "mailbox_login"))
        self.assertEqual(s.messages("t38"), [], "the probe is deleted")

    # ---- refused tokens: CRITICAL naming the stage and the server's words
    def test_mailbox_refused_tokens(self):
        for proto in ("imap", "pop3"):
            for what, (changes, reason) in BAD_TOKENS.items():
                mech = MECHS[len(what) % 2]
                with self.subTest(proto=proto, token=what, mech=mech):
                    token = self.token("t38", **changes)
                    mark = self.log_mark("dovecot.log")
                    r = self.mailbox_login("t38", proto, mech, token)
                    self.assertStatus(r, "CRITICAL", "MAILBOX RECEIVE")
                    self.assertIn(f"{proto.upper()} login as t38@mail.test on "
                                  f"{self.stack.host}:", r.first_line)
                    self.assertIn(f"with {mech} refused: ", r.first_line)
                    self.assertIn("Authentication failed.", r.first_line)
                    self.assertIn(SERVER_SAYS[mech], r.first_line)
                    self.wait_log(mark, reason)
                    self.assertNoToken(r, token)

    def test_smtp_refused_tokens(self):
        for what, (changes, reason) in BAD_TOKENS.items():
            mech = MECHS[len(what) % 2]
            with self.subTest(token=what, mech=mech):
                token = self.token("t39", **changes)
                mark = self.log_mark("dovecot.log")
                r = self.smtp_send("t39", mech, token)
                self.assertStatus(r, "CRITICAL", "MAIL SEND")
                self.assertIn(f"SMTP login as t39@mail.test on {self.stack.host}:", r.first_line)
                self.assertIn(f"with {mech} refused: 535 5.7.8 ", r.first_line)
                self.assertIn(SERVER_SAYS[mech], r.first_line)
                self.wait_log(mark, reason)
                self.assertNoToken(r, token)
        self.assertEqual(self.stack.messages("t39"), [])

    def test_token_for_another_mailbox_refused(self):
        r = self.mailbox_login("t38", "imap", "XOAUTH2", self.token("t39"))
        self.assertStatus(r, "CRITICAL", "MAILBOX RECEIVE")
        self.assertIn("login as t38@mail.test", r.first_line)

    def test_mechanism_not_offered_named(self):
        # Port 25 offers no AUTH at all (smtpd_sasl_auth_enable = no).
        args = [*smtp_args(self.stack, "plain"), "--smtp-user", self.stack.address("t39"),
                "--smtp-auth-mech", "XOAUTH2", "--to", self.stack.address("t39")]
        r = run_plugin("check_mail_send", args,
                       env=dict(self.env, MAILPROBE_SMTP_TOKEN=self.token("t39")), timeout=60)
        self.assertStatus(r, "CRITICAL", "MAIL SEND")
        self.assertIn("the server does not offer XOAUTH2 (it offers: none)", r.first_line)

    # ---- --SIDE-token-command: run without a shell, within -t
    def token_script(self, body):
        fd, path = tempfile.mkstemp(dir=self.token_dir, suffix=".sh")
        with os.fdopen(fd, "w") as f:
            f.write("#!/bin/sh\n" + body + "\n")
        os.chmod(path, 0o700)
        return path

    def test_token_commands_on_both_sides(self):
        s = self.stack
        script = self.token_script(f"cat {self.token_file(self.token('t39'))}")
        args = [*smtp_args(s, "submission"), "--smtp-user", s.address("t39"),
                "--smtp-auth-mech", "XOAUTH2", "--smtp-token-command", script,
                "--to", s.address("t39"), "-vvv"]
        r = run_plugin("check_mail_send", args, env=self.env, timeout=60)
        self.assertStatus(r, "OK", "MAIL SEND")
        self.assertIn("C: AUTH XOAUTH2 [redacted]", r.stdout)
        self.stack.wait_for_messages("t39", 1)
        args = [*mailbox_opts(s, "t39", "pop3", password_file=False),
                "--mailbox-auth-mech", "OAUTHBEARER", "--mailbox-token-command", script,
                "--login-only", "-vvv"]
        r = run_plugin("check_mailbox_receive", args, env=self.env, timeout=60)
        self.assertStatus(r, "OK", "MAILBOX RECEIVE")
        self.assertIn("1 messages", r.first_line)
        self.assertIn("C: AUTH OAUTHBEARER [redacted]", r.stdout)

    def test_token_command_failures_named(self):
        failing = self.token_script("echo 'oama: no refresh token for t38' >&2; exit 3")
        cases = [
            (failing, "mailbox token command " + failing +
             " failed with exit status 3: oama: no refresh token for t38"),
            (self.token_script("exit 0"), " printed no usable token: the token is empty"),
            (self.token_script("echo 'two words'"), " printed no usable token: the token "
             "contains a space"),
            ("/nonexistent/oama --account t38", "mailbox token command: cannot run "
             "/nonexistent/oama: No such file or directory"),
        ]
        for command, expected in cases:
            with self.subTest(command=command):
                args = [*mailbox_opts(self.stack, "t38", "imap", password_file=False),
                        "--mailbox-auth-mech", "XOAUTH2", "--mailbox-token-command", command,
                        "--login-only"]
                r = run_plugin("check_mailbox_receive", args, env=self.env, timeout=60)
                self.assertStatus(r, "CRITICAL", "MAILBOX RECEIVE")
                self.assertIn(expected, r.first_line)

    def test_slow_token_command_is_cut_off_by_the_deadline(self):
        args = [*mailbox_opts(self.stack, "t38", "imap", password_file=False),
                "--mailbox-auth-mech", "XOAUTH2", "--mailbox-token-command", "/bin/sleep 60",
                "--login-only", "-t", "2"]
        r = run_plugin("check_mailbox_receive", args, env=self.env, timeout=60)
        self.assertStatus(r, "CRITICAL", "MAILBOX RECEIVE")
        self.assertIn("mailbox token command: /bin/sleep did not finish within 2 s (killed)",
                      r.first_line)
        self.assertLess(r.elapsed, 20, "bounded by -t, not by the command")

    # ---- usage errors
    def test_missing_or_malformed_token_is_unknown(self):
        env = dict(self.env, MAILPROBE_MAILBOX_TOKEN=None)
        args = [*mailbox_opts(self.stack, "t38", "imap", password_file=False),
                "--mailbox-auth-mech", "XOAUTH2", "--login-only"]
        r = run_plugin("check_mailbox_receive", args, env=env, timeout=60)
        self.assertStatus(r, "UNKNOWN", "MAILBOX RECEIVE")
        self.assertIn("needs a token: --mailbox-token-file FILE, MAILPROBE_MAILBOX_TOKEN, "
                      "--mailbox-token-command or the OAuth2 client (--oauth2-provider)",
                      r.first_line)
        r = run_plugin("check_mailbox_receive", args,
                       env=dict(env, MAILPROBE_MAILBOX_TOKEN="abc\r\nA1 LOGOUT"), timeout=60)
        self.assertStatus(r, "UNKNOWN", "MAILBOX RECEIVE")
        self.assertIn("the token contains a space, control or non-ASCII character", r.first_line)


class MicrosoftRefusalTests(unittest.TestCase):
    """Exchange Online's refusals of a password (no real stack answers like this: the scripted
    server plays them) come with what to do about them."""

    def test_basic_auth_refusals_explained(self):
        cases = {
            "ms_basic_auth_off": "550 5.7.30 Basic authentication is not supported for Client "
                                 "Submission.; this tenant requires OAuth2: use --smtp-auth-mech "
                                 "XOAUTH2 with --smtp-token-file (or MAILPROBE_SMTP_TOKEN)",
            "ms_auth_unsuccessful": "Z]; basic authentication is off for this mailbox or "
                                    "tenant: use --smtp-auth-mech XOAUTH2",
        }
        for scenario, expected in cases.items():
            with self.subTest(scenario=scenario), FakeServer("smtp", scenario) as srv:
                args = ["-H", "127.0.0.1", "-p", str(srv.port), "--smtp-user", "probe@example.org",
                        "--to", "probe@example.org", "-t", "10"]
                r = run_plugin("check_mail_send", args,
                               env={"MAILPROBE_SMTP_PASSWORD": "not-a-token-1"}, timeout=60)
                self.assertEqual(r.code, 2, r.describe())
                self.assertTrue(r.first_line.startswith(
                    "MAIL SEND CRITICAL - SMTP login as probe@example.org on 127.0.0.1:"),
                    r.describe())
                self.assertIn(expected, r.first_line)


if __name__ == "__main__":
    unittest.main()
