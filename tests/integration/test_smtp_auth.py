"""SMTP AUTH is never skipped in silence (issue 11, item 3).

With --smtp-user, a server whose EHLO (the one after STARTTLS, when STARTTLS is used) offers
no AUTH, or not the mechanism --smtp-auth-mech insists on, is CRITICAL naming the server and
what it offers, and not even the envelope is sent: libcurl 7.88 would skip AUTH and send the
probe unauthenticated. Played on the real Postfix: port 25 has no AUTH (with and without
STARTTLS), the submission port offers PLAIN and LOGIN after STARTTLS only.

Mailbox users of this file: t52.
"""

from __future__ import annotations

import time
import unittest

from mailprobe_harness import run_plugin
from mp_testlib import PluginTestCase, mailbox_opts, smtp_args

USER = "t52"


class SmtpAuthRequired(PluginTestCase):
    users = (USER,)

    def send(self, mode: str, *extra: str, plugin: str = "check_mail_send"):
        args = ["-t", "10", "-vvv", *smtp_args(self.stack, mode), "--to",
                self.stack.address(USER), "--smtp-user", self.stack.address(USER),
                "--smtp-password-file", self.stack.password_file(USER), *extra]
        return run_plugin(plugin, args, self.env, timeout=60)

    def assertNothingSent(self, run):
        commands = [l for l in run.long_output if "C: MAIL FROM" in l.upper()
                    or "C: DATA" in l.upper()]
        self.assertEqual(commands, [], run.describe())
        time.sleep(1.0)  # a probe accepted anyway would be in the Maildir by now
        self.assertEqual(self.stack.messages(USER), [], run.describe())

    def test_refusals(self):
        port, sub = self.stack.smtp_port, self.stack.submission_port
        cases = {
            "plain port 25, no AUTH": (
                "plain", (), f"SMTP server {self.stack.host}:{port} offers no AUTH (its EHLO "
                             "lists PIPELINING"),
            "port 25 after STARTTLS, still no AUTH": (
                "starttls", (), f"SMTP server {self.stack.host}:{port} offers no AUTH (after "
                                "STARTTLS: its EHLO lists PIPELINING"),
            "submission without the insisted mechanism": (
                "submission", ("--smtp-auth-mech", "CRAM-MD5"),
                f"SMTP server {self.stack.host}:{sub} does not offer AUTH CRAM-MD5 (after "
                "STARTTLS, it offers PLAIN, LOGIN, XOAUTH2, OAUTHBEARER)"),
        }
        for label, (mode, extra, expected) in cases.items():
            with self.subTest(case=label):
                run = self.send(mode, *extra)
                self.assertStatus(run, "CRITICAL", "MAIL SEND")
                self.assertIn(expected, run.first_line)
                self.assertIn("probe not sent", run.first_line)
                self.assertNothingSent(run)

    def test_round_trip_sends_nothing_unauthenticated(self):
        run = self.send("plain", *mailbox_opts(self.stack, USER), plugin="check_mail_roundtrip")
        self.assertStatus(run, "CRITICAL", "MAIL ROUNDTRIP")
        self.assertIn("offers no AUTH", run.first_line)
        self.assertNothingSent(run)

    def test_offered_mechanism_authenticates(self):
        # Control: the same options against the submission port succeed, with AUTH.
        for extra in ((), ("--smtp-auth-mech", "PLAIN"), ("--smtp-auth-mech", "login")):
            with self.subTest(extra=extra):
                self.stack.empty(USER)
                run = self.send("submission", *extra)
                self.assertStatus(run, "OK", "MAIL SEND")
                self.assertTrue(any("C: AUTH" in l for l in run.long_output), run.describe())
                self.stack.wait_for_messages(USER, 1)


if __name__ == "__main__":
    unittest.main()
