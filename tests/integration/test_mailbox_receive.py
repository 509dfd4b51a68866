"""check_mailbox_receive against the real stack (issue 3, setup 5): probes sent by
check_mail_send with the same probe name and key are found, aged, deleted; nothing else is
touched; --login-only. Mailbox users of this file: t19, t20."""

import re
import time
import unittest

from mailprobe_harness import run_plugin
from mp_testlib import (PluginTestCase, files_with, mailbox_opts, mailbox_url, make_message,
                        new_key_file, probe_header, probe_id_of, smtp_args, wait_for_id)

SVC = "MAILBOX RECEIVE"
FOUND_RE = re.compile(r"newest probe ([0-9.]+) s old \(sent \d\d:\d\d:\d\d UTC\), (\d+) found( and deleted)?")


class MailboxReceiveTests(PluginTestCase):
    users = ("t19", "t20")

    def run_env(self, env):
        full_env = dict(self.env)
        full_env.update(env or {})
        return full_env

    def receive(self, *args, env=None):
        return run_plugin("check_mailbox_receive", list(args), env=self.run_env(env), timeout=60)

    def send_probe(self, user, name, *extra, env=None, folder="INBOX", to=None):
        r = run_plugin("check_mail_send", [*smtp_args(self.stack), "--to", to or self.stack.address(user),
                                           "--probe-name", name, "-v", *extra],
                       env=self.run_env(env), timeout=60)
        self.assertStatus(r, "OK", "MAIL SEND")
        probe_id = probe_id_of(r)
        wait_for_id(self.stack, user, probe_id, folder=folder)
        return probe_id

    def reported_ids(self, run):
        return set(re.findall(r"^probe ([0-9a-f]{32}) sent ", run.stdout, re.M))

    def assertFound(self, run, n, deleted=True):
        m = FOUND_RE.search(self.summary(run))
        self.assertIsNotNone(m, run.describe())
        self.assertEqual(int(m.group(2)), n, run.describe())
        self.assertEqual(bool(m.group(3)), deleted, run.describe())
        labels = ("probes_found", "probe_age", "mailbox_connect", "mailbox_login", "time")
        pd = self.assertPerf(run, labels + (("mailbox_delete",) if deleted else ()),
                             absent=() if deleted else ("mailbox_delete",))
        self.assertEqual(pd["probes_found"].value, n)
        self.assertEqual(pd["probe_age"].uom, "s")
        self.assertAlmostEqual(pd["probe_age"].value, float(m.group(1)), delta=0.051)
        self.assertNotIn("mailbox: mailbox:", run.stdout)
        return pd

    # ------------------------------------------------------------------ find, age, delete
    def test_finds_reports_age_and_deletes_imap(self):
        s = self.stack
        s.deliver_raw("t19", make_message("t19@mail.test", "unrelated"))
        probe_id = self.send_probe("t19", "it-recv-a")
        before = {k: v for k, v in s.snapshot("t19").items() if f"id={probe_id}".encode() not in v}
        sent = time.time()
        run = self.receive("--mailbox", mailbox_url(s, "t19"), "--mailbox-password-file",
                           s.password_file("t19"), "--probe-name", "it-recv-a", "-v")
        self.assertStatus(run, "OK", SVC)
        pd = self.assertFound(run, 1)
        self.assertLess(pd["probe_age"].value, time.time() - sent + 5)
        self.assertEqual((pd["probe_age"].warn, pd["probe_age"].crit), ("900", "1800"))
        self.assertEqual(self.reported_ids(run), {probe_id})
        self.assertEqual(files_with(s, "t19", probe_id), [])
        self.assertEqual(s.snapshot("t19"), before)
        # nothing left: a second run is CRITICAL
        run = self.receive(*mailbox_opts(s, "t19"), "--probe-name", "it-recv-a")
        self.assertStatus(run, "CRITICAL", SVC)
        self.assertIn("no probe of check 'it-recv-a' in imap://", self.summary(run))
        pd = self.assertPerf(run, ("probes_found", "time"), absent=("probe_age", "mailbox_delete"))
        self.assertEqual(pd["probes_found"].value, 0)
        self.assertEqual(s.snapshot("t19"), before)

    def test_shared_secret_file_over_pop3s_and_imaps(self):
        # sender and receiver on "different machines": own state dirs, one --probe-secret-file
        s = self.stack
        secret, _ = new_key_file(self.tmp, "shared.key")
        sender_env = {"MAILPROBE_STATE_DIR": self.new_state_dir()}
        receiver_env = {"MAILPROBE_STATE_DIR": self.new_state_dir()}
        for proto, user in (("pop3", "t20"), ("imap", "t20")):
            with self.subTest(proto=proto):
                ids = {self.send_probe(user, "site-a", "--probe-secret-file", secret, env=sender_env)
                       for _ in range(2)}
                run = self.receive("--mailbox", mailbox_url(s, user, proto, "tls"), "--cacert", s.ca,
                                   "--mailbox-password-file", s.password_file(user), "--probe-name", "site-a",
                                   "--probe-secret-file", secret, "-v", env=receiver_env)
                self.assertStatus(run, "OK", SVC)
                self.assertFound(run, 2)
                self.assertPerf(run, ("mailbox_tls",))
                self.assertEqual(self.reported_ids(run), ids)
                self.assertEqual(s.messages(user), [])
                # without the shared key the receiver's own (new) key verifies nothing
                self.send_probe(user, "site-a", "--probe-secret-file", secret, env=sender_env)
                run = self.receive(*mailbox_opts(s, user, proto), "--probe-name", "site-a", env=receiver_env)
                self.assertStatus(run, "CRITICAL", SVC)
                self.assertEqual(len(s.messages(user)), 1)
                s.empty(user)

    def test_other_name_or_key_never_touched(self):
        s = self.stack
        other_key_dir = self.new_state_dir()
        ours = self.send_probe("t19", "it-recv-b")
        other_name = self.send_probe("t19", "it-recv-b2")
        other_key = self.send_probe("t19", "it-recv-b", env={"MAILPROBE_STATE_DIR": other_key_dir})
        # a hand-made probe of our name with a wrong tag, and one without a tag
        forged, forged_id = probe_header(self.key(), "it-recv-b", tag="0" * 64)
        s.deliver_raw("t19", make_message("t19@mail.test", f"[mailprobe] probe {forged_id}", xmailprobe=forged))
        hdr, _ = probe_header(self.key(), "it-recv-b")
        s.deliver_raw("t19", make_message("t19@mail.test", "[mailprobe] probe x",
                                          xmailprobe=hdr.rsplit("; tag=", 1)[0]))
        snap = s.snapshot("t19")
        others = {k: v for k, v in snap.items() if f"id={ours}".encode() not in v}
        self.assertEqual(len(others), len(snap) - 1)
        for proto in ("imap", "pop3"):
            with self.subTest(proto=proto):
                run = self.receive(*mailbox_opts(s, "t19", proto), "--probe-name", "it-recv-b", "-v")
                if proto == "imap":
                    self.assertStatus(run, "OK", SVC)
                    self.assertFound(run, 1)
                    self.assertEqual(self.reported_ids(run), {ours})
                else:
                    self.assertStatus(run, "CRITICAL", SVC)
                self.assertEqual(s.snapshot("t19"), others)
        # the other key's owner finds exactly its own one
        run = self.receive(*mailbox_opts(s, "t19", "pop3"), "--probe-name", "it-recv-b", "-v",
                           env={"MAILPROBE_STATE_DIR": other_key_dir})
        self.assertStatus(run, "OK", SVC)
        self.assertEqual(self.reported_ids(run), {other_key})
        self.assertEqual(len(files_with(s, "t19", other_name)), 1)
        self.assertEqual(len(s.messages("t19")), 3)

    def test_keep_and_age_thresholds(self):
        s = self.stack
        probe_id = self.send_probe("t19", "it-recv-age")
        time.sleep(2.1)
        args = [*mailbox_opts(s, "t19"), "--probe-name", "it-recv-age"]
        run = self.receive(*args, "--keep", "-w", "1", "-c", "100")
        self.assertStatus(run, "WARNING", SVC)
        pd = self.assertFound(run, 1, deleted=False)
        self.assertGreaterEqual(pd["probe_age"].value, 2.0)
        self.assertEqual((pd["probe_age"].warn, pd["probe_age"].crit), ("1", "100"))
        self.assertEqual(len(files_with(s, "t19", probe_id)), 1, "--keep must leave the probe")
        run = self.receive(*args, "--keep", "-w", "100", "-c", "200")
        self.assertStatus(run, "OK", SVC)
        run = self.receive(*args, "-w", "0.5", "-c", "1.5")
        self.assertStatus(run, "CRITICAL", SVC)
        self.assertFound(run, 1)
        self.assertEqual(files_with(s, "t19", probe_id), [])

    def test_several_probes_newest_age(self):
        s = self.stack
        first = self.send_probe("t19", "it-recv-many")
        time.sleep(1.2)
        ids = {first, self.send_probe("t19", "it-recv-many"), self.send_probe("t19", "it-recv-many")}
        run = self.receive(*mailbox_opts(s, "t19"), "--probe-name", "it-recv-many", "-v", "-w", "1")
        self.assertStatus(run, "OK", SVC)  # the newest one is young, the first one is not
        self.assertFound(run, 3)
        self.assertEqual(self.reported_ids(run), ids)
        self.assertLess(run.perfdata["probe_age"].value, 1)
        self.assertEqual(s.messages("t19"), [])

    def test_probe_in_junk_folder(self):
        s = self.stack
        probe_id = self.send_probe("t20", "it-recv-junk", to="t20+Junk@mail.test", folder="Junk")
        run = self.receive(*mailbox_opts(s, "t20"), "--probe-name", "it-recv-junk", "--junk-folder", "Junk")
        self.assertStatus(run, "WARNING", SVC)
        self.assertFound(run, 1)
        self.assertIn("Junk", self.summary(run))
        self.assertEqual(files_with(s, "t20", probe_id), [])

    # ------------------------------------------------------------------ --login-only
    def test_login_only(self):
        s = self.stack
        for i in range(3):
            s.deliver_raw("t20", make_message("t20@mail.test", f"message {i}"), seen=bool(i % 2))
        s.deliver_raw("t20", make_message("t20@mail.test", "junk"), folder="Junk")
        before = s.snapshot("t20")
        cases = (("imap", "none", None, 3), ("imap", "tls", "Junk", 1), ("pop3", "none", None, 3),
                 ("pop3", "starttls", None, 3))
        for proto, tls, folder, count in cases:
            with self.subTest(proto=proto, tls=tls, folder=folder):
                run = self.receive(*mailbox_opts(s, "t20", proto, tls, folder=folder), "--login-only")
                self.assertStatus(run, "OK", SVC)
                self.assertRegex(self.summary(run), rf"logged in to {proto}s?://.* in [0-9.]+ s, {count} messages")
                pd = self.assertPerf(run, ("messages", "mailbox_connect", "mailbox_login", "time") +
                                     (("mailbox_tls",) if tls != "none" else ()),
                                     absent=("probe_age", "probes_found"))
                self.assertEqual(pd["messages"].value, count)
                self.assertEqual(s.snapshot("t20"), before)
        # thresholds given apply to the login time
        run = self.receive(*mailbox_opts(s, "t20"), "--login-only", "-w", "0.000001")
        self.assertStatus(run, "WARNING", SVC)

    def test_login_failures(self):
        s = self.stack
        run = self.receive(*mailbox_opts(s, "t20", folder="NoSuchFolder42"), "--login-only")
        self.assertStatus(run, "CRITICAL", SVC)
        self.assertIn("NoSuchFolder42", self.summary(run))
        for proto in ("imap", "pop3"):
            run = self.receive(*mailbox_opts(s, "t20", proto, password_file=False), "--login-only",
                               env={"MAILPROBE_MAILBOX_PASSWORD": "certainly-wrong-9"})
            self.assertStatus(run, "CRITICAL", SVC)
            self.assertRegex(self.summary(run), r"(?i)\blog ?in\b")
            self.assertNotIn("certainly-wrong-9", run.stdout)

    def test_usage_errors(self):
        s = self.stack
        run = self.receive(*mailbox_opts(s, "t20"))
        self.assertStatus(run, "UNKNOWN", SVC)
        self.assertIn("--probe-name", run.first_line)
        run = self.receive(*mailbox_opts(s, "t20"), "--probe-name", "x", "-w", "10:5")
        self.assertStatus(run, "UNKNOWN", SVC)
        self.assertIn("10:5", run.first_line)


if __name__ == "__main__":
    unittest.main()
