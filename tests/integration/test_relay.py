"""check_mail_relay against the real relay chain (issue 4, setup 3).

The probe is submitted to Postfix #2 ("relay.test", submission port, STARTTLS + AUTH as
relayuser), which relays it to Postfix #1 ("mx.mail.test", owner of mail.test), which
delivers it to Dovecot. The plugin finds it in t23's mailbox over IMAP and rebuilds the
path from the Received fields.

Mailboxes: t23 (read and emptied here); relayuser only authenticates.
"""

import re
import tempfile
import time
import unittest
from pathlib import Path

from mailprobe_harness import run_plugin
from mp_testlib import PluginTestCase

USER = "t23"


class RelayTestCase(PluginTestCase):
    users = (USER,)
    service = "MAIL RELAY"

    def relay_args(self, *extra, user="relayuser", password_file=None, state_dir=None):
        s = self.stack
        args = ["-H", s.host, "-p", s.relay_submission_port, "--smtp-tls", "starttls",
                "--cacert", s.ca, "--to", s.address(USER),
                "--mailbox", f"imap://{s.address(USER)}@{s.host}:{s.imap_port}/INBOX",
                "--mailbox-password-file", s.password_file(USER),
                "--state-dir", state_dir or self.state_dir, "-t", "30", "--wait", "20"]
        if user:
            args += ["--smtp-user", s.address(user),
                     "--smtp-password-file", password_file or s.password_file(user)]
        return args + list(extra)

    def relay(self, *extra, **kw):
        return run_plugin("check_mail_relay", self.relay_args(*extra, **kw), timeout=60)

    def hop_lines(self, run):
        return [l.strip() for l in run.long_output if re.match(r"\s*hop \d+: ", l)]

    def assert_two_hops(self, run):
        hops = self.hop_lines(run)
        self.assertGreaterEqual(len(hops), 2, run.describe())
        # the relay took the authenticated submission, then handed over to the MX
        self.assertRegex(hops[0], r"^hop 1: \S+ -> relay\.test with ESMTPSA, \d+(\.\d+)? s",
                         run.describe())
        self.assertRegex(hops[1], r"^hop 2: relay\.test -> mx\.mail\.test with ESMTPS?, \d+(\.\d+)? s",
                         run.describe())
        pd = run.perfdata
        for n in range(1, len(hops) + 1):
            self.assertIn(f"hop{n}_delay", pd, run.describe())
            self.assertEqual(pd[f"hop{n}_delay"].uom, "s")
            self.assertGreaterEqual(pd[f"hop{n}_delay"].value, 0)
            self.assertLess(pd[f"hop{n}_delay"].value, 30)
        self.assertNotIn(f"hop{len(hops) + 1}_delay", pd)
        return hops

    def assert_mailbox_empty(self):
        # the probe was found and deleted: nothing is left behind
        deadline = time.monotonic() + 3
        while self.stack.messages(USER) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.stack.messages(USER), [])

    # ------------------------------------------------------------------ the path

    def test_two_hops_reported_with_perfdata(self):
        run = self.relay("-v")
        self.assertStatus(run, "OK")
        self.assertIn("probe delivered in", run.first_line)
        self.assertIn(f"SMTP {self.stack.host}:{self.stack.relay_submission_port}", run.first_line)
        self.assert_two_hops(run)
        pd = run.perfdata
        for label in ("delivery", "smtp_connect", "smtp_tls", "smtp_transaction", "mailbox_login"):
            self.assertIn(label, pd, run.describe())
        self.assertEqual(pd["delivery"].warn, "10")
        self.assertEqual(pd["delivery"].crit, "30")
        self.assertTrue(any(re.match(r"\[OK\] path: .*relay\.test -> mx\.mail\.test", l)
                            for l in run.long_output), run.describe())
        self.assertTrue(any("deleted" in l for l in run.long_output), run.describe())
        self.assert_mailbox_empty()

    def test_expected_hops_in_order_ok(self):
        run = self.relay("--expect-hop", "relay.test", "--expect-hop", "mx.mail.test")
        self.assertStatus(run, "OK")
        self.assertNotIn("missing", run.stdout)
        self.assert_two_hops(run)
        run = self.relay("--expect-hop", "RELAY", "--expect-hop", "mx*.test")
        self.assertStatus(run, "OK")
        self.assert_mailbox_empty()

    def test_expected_hop_not_passed_is_critical(self):
        run = self.relay("--expect-hop", "relay.test", "--expect-hop", "backup.mail.test")
        self.assertStatus(run, "CRITICAL")
        m = re.match(r"MAIL RELAY CRITICAL - expected hop 2 'backup\.mail\.test' missing; "
                     r"path was: (.*?); probe delivered in ", run.first_line)
        self.assertIsNotNone(m, run.describe())
        self.assertIn("relay.test -> mx.mail.test", m.group(1))
        # the hops are still measured, and the delivered probe is still cleaned up
        self.assert_two_hops(run)
        self.assertIn("delivery", run.perfdata)
        self.assert_mailbox_empty()

    def test_expected_hops_out_of_order_are_critical(self):
        run = self.relay("--expect-hop", "mx.mail.test", "--expect-hop", "relay.test")
        self.assertStatus(run, "CRITICAL")
        self.assertRegex(run.first_line,
                         r"^MAIL RELAY CRITICAL - expected hop 2 'relay\.test' missing; "
                         r"path was: \S+ -> relay\.test -> mx\.mail\.test")
        self.assertTrue(any(l.startswith("[CRITICAL] expected hop 2") for l in run.long_output),
                        run.describe())
        self.assert_mailbox_empty()

    # ------------------------------------------------------------------ hop thresholds

    def test_hop_warning_threshold(self):
        run = self.relay("--hop-warning", "@0:1000")  # every real delay is inside: alert
        self.assertStatus(run, "WARNING")
        # line 1 names the slowest alerting hop and its own delay (issue 11)
        self.assertRegex(run.first_line,
                         r"^MAIL RELAY WARNING - hop [12] \S+ took \d+\.\d s; path: ")
        hops = self.assert_two_hops(run)
        self.assertTrue(all(h.endswith("[WARNING]") for h in hops), hops)
        self.assertEqual(run.perfdata["hop1_delay"].warn, "@0:1000")
        self.assertIsNone(run.perfdata["hop1_delay"].crit)
        self.assert_mailbox_empty()

    def test_hop_critical_threshold(self):
        run = self.relay("--hop-warning", "@0:1000", "--hop-critical", "@0:1000")
        self.assertStatus(run, "CRITICAL")
        self.assertRegex(run.first_line, r"CRITICAL - hop [12] \S+ took \d+\.\d s; ")
        hops = self.assert_two_hops(run)
        self.assertTrue(all(h.endswith("[CRITICAL]") for h in hops), hops)
        self.assertEqual(run.perfdata["hop2_delay"].crit, "@0:1000")

    def test_hop_thresholds_not_reached_stay_ok(self):
        run = self.relay("--hop-warning", "20", "--hop-critical", "@100:200")
        self.assertStatus(run, "OK")
        self.assertNotRegex(run.first_line, r"hop \d \S+ took")
        self.assertEqual(run.perfdata["hop1_delay"].warn, "20")

    # ------------------------------------------------------------------ the relay's AUTH

    def test_relay_without_auth_is_refused(self):
        run = self.relay(user=None)
        self.assertStatus(run, "CRITICAL")
        # Postfix #2's own words (relay access denied / authentication required)
        self.assertRegex(run.first_line, r"(MAIL FROM|RCPT TO) <[^>]+>.* rejected: 5\d\d ",
                         run.describe())
        self.assertEqual(self.stack.messages(USER), [])

    def test_relay_wrong_password(self):
        with tempfile.NamedTemporaryFile("w", dir=self.state_dir, delete=False) as f:
            f.write("not-the-password\n")
        Path(f.name).chmod(0o600)
        run = self.relay(password_file=f.name)
        self.assertStatus(run, "CRITICAL")
        self.assertIn("login as relayuser@mail.test", run.first_line)
        self.assertIn("535", run.first_line)
        self.assertNotIn("not-the-password", run.stdout + run.stderr)

    # ------------------------------------------------------------------ --async

    def test_async_reports_hops_of_probes_delivered_in_the_run(self):
        state_dir = tempfile.mkdtemp(prefix="async-", dir=self.state_dir)
        # hybrid: the fresh probe is found within --wait, and its hops are judged
        run = self.relay("--async", "--expect-hop", "relay.test", state_dir=state_dir)
        self.assertStatus(run, "OK")
        self.assertIn("last probe delivered in", run.first_line)
        self.assert_two_hops(run)
        self.assertEqual(run.perfdata["delivered_now"].value, 1)
        self.assertEqual(run.perfdata["outstanding"].value, 0)
        self.assert_mailbox_empty()
        # without --wait, the probe is sent and only collected by the next run
        args = [a for a in self.relay_args("--async", state_dir=state_dir)]
        i = args.index("--wait")
        del args[i:i + 2]
        first = run_plugin("check_mail_relay", args, timeout=60)
        self.assertStatus(first, "OK")
        self.assertEqual(first.perfdata["outstanding"].value, 1, first.describe())
        self.assertEqual(self.hop_lines(first), [])
        self.stack.wait_for_messages(USER, 1, timeout=15)
        second = run_plugin("check_mail_relay", args + ["--expect-hop", "mx.mail.test",
                                                        "--expect-hop", "relay.test"], timeout=60)
        # the collected probe's path is judged: out of order -> CRITICAL
        self.assertStatus(second, "CRITICAL")
        self.assertIn("expected hop 2 'relay.test' missing", second.first_line)
        self.assert_two_hops(second)
        self.assertEqual(second.perfdata["delivered_now"].value, 1, second.describe())
        state = next(Path(state_dir).glob("*.state")).read_text()
        self.assertIn("delivered_total 2\n", state)
        # the probe sent by the last run is still outstanding: collect it, and wait for the
        # fresh one too, so that nothing arrives after the next test emptied the mailbox
        self.stack.wait_for_messages(USER, 1, timeout=15)
        third = self.relay("--async", state_dir=state_dir)
        self.assertStatus(third, "OK")
        self.assertEqual(third.perfdata["delivered_now"].value, 2, third.describe())
        self.assertEqual(third.perfdata["outstanding"].value, 0, third.describe())
        self.assert_mailbox_empty()


if __name__ == "__main__":
    unittest.main()
