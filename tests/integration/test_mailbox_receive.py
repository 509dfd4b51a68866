"""check_mailbox_receive against the real stack (issue 3, setup 5): probes sent by
check_mail_send with the same probe name and key are found and aged; the newest stays for the
next run to judge again, older ones are deleted; nothing else is touched; a key mismatch is
named; --login-only. Mailbox users of this file: t19, t20, t53."""

import re
import subprocess
import time
import unittest
from pathlib import Path

from mailprobe_harness import run_plugin
from mp_testlib import (PluginTestCase, files_with, mailbox_opts, mailbox_url, make_message,
                        new_key_file, probe_header, probe_id_of, smtp_args, wait_for_id)

SVC = "MAILBOX RECEIVE"
FOUND_RE = re.compile(r"newest probe (.+?) old \(sent \d\d:\d\d:\d\d UTC\); (\d+) found(?:, (\d+) older deleted)?(?:;|$)")
UNITS = {"ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400}


def human_seconds(text: str) -> float:
    """"2 min 5 s" -> 125.0, "16 ms" -> 0.016 (the plugins' human durations)."""
    parts = text.split()
    return sum(float(n) * UNITS[u] for n, u in zip(parts[::2], parts[1::2]))


def mismatch_line(n: int, name: str) -> str:
    return (f"{n} probe{'s' if n != 1 else ''} for '{name}' found but none verifies: "
            "the probe secret differs from the sender's (--probe-secret-file)")


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

    def assertFound(self, run, n, keep=False):
        """n verified probes found; all but the newest deleted unless --keep."""
        m = FOUND_RE.search(self.summary(run).rstrip())
        self.assertIsNotNone(m, run.describe())
        self.assertEqual(int(m.group(2)), n, run.describe())
        self.assertEqual(int(m.group(3) or 0), 0 if keep else n - 1, run.describe())
        labels = ("probes_found", "probe_age", "mailbox_connect", "mailbox_login", "time")
        pd = self.assertPerf(run, labels + (() if keep else ("mailbox_delete",)),
                             absent=("mailbox_delete",) if keep else ())
        self.assertEqual(pd["probes_found"].value, n)
        self.assertEqual(pd["probe_age"].uom, "s")
        age = pd["probe_age"].value
        self.assertAlmostEqual(human_seconds(m.group(1)), age, delta=max(0.051, age * 0.01), msg=run.describe())
        self.assertNotIn("mailbox: mailbox:", run.stdout)
        return pd

    # ------------------------------------------------------------------ find, age, delete
    def test_keeps_the_newest_deletes_older_ones_imap(self):
        s = self.stack
        s.deliver_raw("t19", make_message("t19@mail.test", "unrelated"))
        first = self.send_probe("t19", "it-recv-a")
        unrelated = {k: v for k, v in s.snapshot("t19").items() if f"id={first}".encode() not in v}
        sent = time.time()
        args = ("--mailbox", mailbox_url(s, "t19"), "--mailbox-password-file", s.password_file("t19"),
                "--probe-name", "it-recv-a", "-v")
        run = self.receive(*args)
        self.assertStatus(run, "OK", SVC)
        pd = self.assertFound(run, 1)
        self.assertLess(pd["probe_age"].value, time.time() - sent + 5)
        self.assertEqual((pd["probe_age"].warn, pd["probe_age"].crit), ("900", "1800"))
        self.assertEqual(self.reported_ids(run), {first})
        self.assertEqual(len(files_with(s, "t19", first)), 1, "the newest probe stays")
        # the next run before the next probe judges the same probe again: OK, not "no probe"
        run = self.receive(*args)
        self.assertStatus(run, "OK", SVC)
        self.assertGreaterEqual(self.assertFound(run, 1)["probe_age"].value, pd["probe_age"].value)
        # a newer probe replaces it
        second = self.send_probe("t19", "it-recv-a")
        run = self.receive(*args)
        self.assertStatus(run, "OK", SVC)
        self.assertFound(run, 2)
        self.assertIn(f"probe {first} sent ", run.stdout)
        self.assertEqual(files_with(s, "t19", first), [])
        self.assertEqual(len(files_with(s, "t19", second)), 1)
        self.assertEqual({k: v for k, v in s.snapshot("t19").items() if f"id={second}".encode() not in v},
                         unrelated)

    def test_nothing_there_is_critical_with_perfdata(self):
        s = self.stack
        run = self.receive(*mailbox_opts(s, "t19"), "--probe-name", "it-recv-none")
        self.assertStatus(run, "CRITICAL", SVC)
        self.assertRegex(self.summary(run), r"no probe of check 'it-recv-none' in t19@mail\.test on "
                                            r"127\.0\.0\.1:\d+/INBOX\s*$")
        pd = self.assertPerf(run, ("probes_found", "time", "mailbox_delete"), absent=("probe_age",))
        self.assertEqual(pd["probes_found"].value, 0)

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
                self.assertEqual(len(s.messages(user)), 1)
                # without the shared key the receiver's own (new) key verifies nothing, and says so
                self.send_probe(user, "site-a", "--probe-secret-file", secret, env=sender_env)
                run = self.receive(*mailbox_opts(s, user, proto), "--probe-name", "site-a", env=receiver_env)
                self.assertStatus(run, "CRITICAL", SVC)
                self.assertEqual(self.summary(run).rstrip(), f"{SVC} CRITICAL - {mismatch_line(2, 'site-a')}")
                self.assertEqual(len(s.messages(user)), 2)
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
        for proto in ("imap", "pop3"):
            with self.subTest(proto=proto):
                run = self.receive(*mailbox_opts(s, "t19", proto), "--probe-name", "it-recv-b", "-v")
                self.assertStatus(run, "OK", SVC)
                self.assertFound(run, 1)
                self.assertEqual(self.reported_ids(run), {ours})
                self.assertEqual(s.snapshot("t19"), snap)
        # the other key's owner finds exactly its own one
        run = self.receive(*mailbox_opts(s, "t19", "pop3"), "--probe-name", "it-recv-b", "-v",
                           env={"MAILPROBE_STATE_DIR": other_key_dir})
        self.assertStatus(run, "OK", SVC)
        self.assertEqual(self.reported_ids(run), {other_key})
        self.assertEqual(len(files_with(s, "t19", other_name)), 1)
        self.assertEqual(s.snapshot("t19"), snap)

    def test_keep_and_age_thresholds(self):
        s = self.stack
        probe_id = self.send_probe("t19", "it-recv-age")
        time.sleep(2.1)
        args = [*mailbox_opts(s, "t19"), "--probe-name", "it-recv-age"]
        run = self.receive(*args, "--keep", "-w", "1", "-c", "100")
        self.assertStatus(run, "WARNING", SVC)
        pd = self.assertFound(run, 1, keep=True)
        self.assertGreaterEqual(pd["probe_age"].value, 2.0)
        self.assertEqual((pd["probe_age"].warn, pd["probe_age"].crit), ("1", "100"))
        self.assertEqual(len(files_with(s, "t19", probe_id)), 1, "--keep must leave the probe")
        run = self.receive(*args, "--keep", "-w", "100", "-c", "200")
        self.assertStatus(run, "OK", SVC)
        run = self.receive(*args, "-w", "0.5", "-c", "1.5")
        self.assertStatus(run, "CRITICAL", SVC)
        self.assertFound(run, 1)
        self.assertEqual(len(files_with(s, "t19", probe_id)), 1, "the newest probe stays")

    def test_several_probes_newest_age(self):
        s = self.stack
        first = self.send_probe("t19", "it-recv-many")
        time.sleep(1.2)
        second = self.send_probe("t19", "it-recv-many")
        newest = self.send_probe("t19", "it-recv-many")
        ids = {first, second, newest}
        run = self.receive(*mailbox_opts(s, "t19"), "--probe-name", "it-recv-many", "-v", "-w", "1")
        self.assertStatus(run, "OK", SVC)  # the newest one is young, the first one is not
        self.assertFound(run, 3)
        self.assertEqual(self.reported_ids(run), ids)
        self.assertLess(run.perfdata["probe_age"].value, 1)
        self.assertEqual(len(s.messages("t19")), 1)
        self.assertEqual(len(files_with(s, "t19", newest)), 1)

    def test_probe_in_junk_folder(self):
        s = self.stack
        probe_id = self.send_probe("t20", "it-recv-junk", to="t20+Junk@mail.test", folder="Junk")
        run = self.receive(*mailbox_opts(s, "t20"), "--probe-name", "it-recv-junk", "--junk-folder", "Junk")
        self.assertStatus(run, "WARNING", SVC)
        self.assertFound(run, 1)
        self.assertIn("Junk", self.summary(run))
        self.assertEqual(len(files_with(s, "t20", probe_id)), 1)

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
                where = rf"/{folder or 'INBOX'}" if proto == "imap" else r" \(POP3\)"
                self.assertRegex(self.summary(run), rf"logged in to t20@mail\.test on 127\.0\.0\.1:\d+{where} "
                                                    rf"in [0-9.]+ m?s, {count} messages")
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


class SetupFiveTests(PluginTestCase):
    """Setup 5 as documented: a sender every few minutes, a receiver every minute, -w/-c on the
    age of the newest probe across runs; the documented key sharing."""
    users = ("t53",)

    def send(self, *extra):
        r = run_plugin("check_mail_send", [*smtp_args(self.stack), "--to", self.stack.address("t53"),
                                           "--probe-name", "site-x", "-v", *extra], env=self.env, timeout=60)
        self.assertStatus(r, "OK", "MAIL SEND")
        wait_for_id(self.stack, "t53", probe_id_of(r))
        return probe_id_of(r)

    def receive(self, *extra, proto="imap"):
        return run_plugin("check_mailbox_receive", [*mailbox_opts(self.stack, "t53", proto),
                                                    "--probe-name", "site-x", *extra],
                          env=self.env, timeout=60)

    def test_ok_while_the_sender_runs_then_warning_then_critical(self):
        self.send()
        for _ in range(2):  # the receiver runs more often than the sender
            run = self.receive("-w", "4", "-c", "8")
            self.assertStatus(run, "OK", SVC)
            time.sleep(0.5)
        self.send()  # the sender's next run
        sent = time.time()  # the probe was sent before this: its age is at least now - sent
        run = self.receive("-w", "4", "-c", "8")
        self.assertStatus(run, "OK", SVC)
        self.assertIn("2 found, 1 older deleted", run.first_line)
        # the sender stops
        time.sleep(max(0.0, sent + 4.2 - time.time()))
        run = self.receive("-w", "4", "-c", "8")
        self.assertStatus(run, "WARNING", SVC)
        self.assertGreaterEqual(run.perfdata["probe_age"].value, 4)
        time.sleep(max(0.0, sent + 8.2 - time.time()))
        run = self.receive("-w", "4", "-c", "8", proto="pop3")
        self.assertStatus(run, "CRITICAL", SVC)
        self.assertGreaterEqual(run.perfdata["probe_age"].value, 8)
        self.assertRegex(run.first_line, r"newest probe [\d.]+ s old")
        self.assertEqual(len(self.stack.messages("t53")), 1)

    def test_documented_key_sharing_and_a_mismatch(self):
        # README "Setup 5: sharing the probe key": generate, copy with its mode, both sides use it
        key = Path(self.tmp, "probe.key")
        subprocess.run(f"umask 077; openssl rand -hex 32 > {key}", shell=True, check=True)
        copy = Path(self.tmp, "copy-on-b.key")
        subprocess.run(["cp", "-p", str(key), str(copy)], check=True)
        self.assertEqual(oct(copy.stat().st_mode & 0o777), "0o600")
        for _ in range(3):
            self.send("--probe-secret-file", str(key))
        for proto in ("imap", "pop3"):
            with self.subTest(proto=proto):
                run = self.receive(proto=proto)  # this side's own generated key: a mismatch
                self.assertStatus(run, "CRITICAL", SVC)
                self.assertEqual(self.summary(run).rstrip(), f"{SVC} CRITICAL - {mismatch_line(3, 'site-x')}")
                self.assertEqual(len(self.stack.messages("t53")), 3)
        run = self.receive("--probe-secret-file", str(copy))
        self.assertStatus(run, "OK", SVC)
        self.assertIn("3 found, 2 older deleted", run.first_line)


if __name__ == "__main__":
    unittest.main()
