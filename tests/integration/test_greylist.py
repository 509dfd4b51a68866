"""Temporary (4xx) SMTP failures: greylisting (issue 4).

Postfix #1 asks the stack's greylist policy about every greylist*@mail.test recipient: a
(client, sender, recipient) triplet seen for the first time is answered "450 4.7.1 ...
greylisted", the same triplet retried at least 1 s later is let through. The policy
remembers triplets, so every test uses a sender address of its own.

Mailbox: greylist (shared with test_stack.py, which only takes messages by a unique
subject): the plugins here only see and delete their own probes (unique --probe-name).
"""

import re
import time
import unittest
import uuid

from mailprobe_harness import run_plugin
from mp_testlib import PluginTestCase

USER = "greylist"


class GreylistTest(PluginTestCase):
    def setUp(self):
        self.sender = f"gl-{uuid.uuid4().hex[:12]}@mail.test"  # a fresh triplet
        self.name = f"greylist-test-{uuid.uuid4().hex[:12]}"

    def args(self, *extra, mailbox=True, timeout="30", wait="20"):
        s = self.stack
        a = ["-H", s.host, "-p", s.smtp_port, "--to", s.address(USER), "--from", self.sender,
             "--probe-name", self.name, "--state-dir", self.state_dir, "-t", timeout, "-v"]
        if mailbox:
            a += ["--mailbox", f"imap://{s.address(USER)}@{s.host}:{s.imap_port}/INBOX",
                  "--mailbox-password-file", s.password_file(USER), "--wait", wait]
        return a + list(extra)

    def our_probes(self):
        """Messages in the greylist mailbox sent by this test (its sender address)."""
        return [p for p in self.stack.messages(USER) if self.sender.encode() in p.read_bytes()]

    DEFERRED = (r"RCPT TO <greylist@mail\.test> deferred: 45[01] 4\.7\.1 <greylist@mail\.test>: "
                r"Recipient address rejected: greylisted, try again later")

    def test_roundtrip_deferred_is_warning(self):
        run = run_plugin("check_mail_roundtrip", self.args())
        self.assertStatus(run, "WARNING", "MAIL ROUNDTRIP")
        self.assertRegex(run.first_line, r"^MAIL ROUNDTRIP WARNING - " + self.DEFERRED)
        self.assertNotRegex(run.first_line, r"> rejected:")
        self.assertLess(run.elapsed, 5, "a deferral must not wait for delivery")
        time.sleep(0.5)
        self.assertEqual(self.our_probes(), [])

    def test_mail_send_deferred_is_warning(self):
        run = run_plugin("check_mail_send", self.args(mailbox=False))
        self.assertStatus(run, "WARNING", "MAIL SEND")
        self.assertRegex(run.first_line, self.DEFERRED)

    def test_roundtrip_retry_deferred_gets_through(self):
        run = run_plugin("check_mail_roundtrip",
                         self.args("--retry-deferred", "2", "--retry-interval", "1.5"))
        self.assertStatus(run, "OK", "MAIL ROUNDTRIP")
        self.assertIn("probe delivered in", run.first_line)
        # the policy lets the triplet through after 1 s: one retry, 1.5 s later
        self.assertGreaterEqual(run.elapsed, 1.5)
        send = [l for l in run.long_output if l.startswith("[OK] send: ")]
        self.assertEqual(len(send), 1, run.describe())
        self.assertRegex(send[0], r"^\[OK\] send: accepted by 127\.0\.0\.1:\d+ in [\d.]+ m?s "
                                  r"\(queued as \w+\) after 1 retries$")
        tried = [l.strip() for l in run.long_output if l.strip().startswith("tried ")]
        self.assertEqual(len(tried), 1, run.describe())
        self.assertRegex(tried[0], r"^tried 127\.0\.0\.1:\d+: " + self.DEFERRED + r" \(retrying\)$")
        self.assertIn("delivery", run.perfdata)
        self.assertEqual(self.our_probes(), [])  # found and deleted

    def test_mail_send_retry_summary(self):
        run = run_plugin("check_mail_send",
                         self.args("--retry-deferred", "2", "--retry-interval", "1.5", mailbox=False))
        self.assertStatus(run, "OK", "MAIL SEND")
        self.assertIn("after 1 retries", run.first_line)
        msgs = self.stack.wait_for_message(USER, self.sender, timeout=10)
        self.stack.expunge(USER, "mailbox", "*", "header", "From", self.sender)
        self.assertFalse(msgs.exists())

    def test_retries_too_few_or_too_early_stay_deferred(self):
        # one retry only 0.2 s later: the policy still defers (needs 1 s)
        run = run_plugin("check_mail_roundtrip",
                         self.args("--retry-deferred", "1", "--retry-interval", "0.2"))
        self.assertStatus(run, "WARNING", "MAIL ROUNDTRIP")
        self.assertRegex(run.first_line, self.DEFERRED + r" \(after 1 retries\) \| .*\btime=")
        self.assertGreaterEqual(run.elapsed, 0.2)
        self.assertEqual(self.our_probes(), [])

    def test_retries_do_not_outlast_the_deadline(self):
        # -t 3 leaves no room for a 5 s pause: the deferral is reported within the deadline
        run = run_plugin("check_mail_roundtrip",
                         self.args("--retry-deferred", "3", "--retry-interval", "5",
                                   timeout="3", wait="2"))
        self.assertStatus(run, "WARNING", "MAIL ROUNDTRIP")
        self.assertWithinDeadline(run, 3)
        self.assertRegex(run.first_line, self.DEFERRED)


if __name__ == "__main__":
    unittest.main()
