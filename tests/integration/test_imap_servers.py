"""IMAP protocol fixes of issue 11 (items 5-8) and the bounded stale-probe scan of issue 15,
against the stack's Dovecot, a second real IMAP server (Cyrus IMAP 3.6) and a Dovecot with
trimmed capabilities (no UIDPLUS, no IDLE), all started by tests/stack/imap_servers.sh; faults
real servers produce rarely are scripted by tests/fakeserver/imap_proxy.py in front of Dovecot.
Mailbox users of this file: t46, t47, t48, t49, t50."""

import imaplib
import os
import re
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path

from mailprobe_harness import load_env_file, run_plugin
from mp_testlib import (PluginTestCase, files_with, name_digest, probe_id_of, read_key, signed_probe,
                        smtp_args, wait_for_id)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fakeserver"))
from imap_proxy import ImapProxy  # noqa: E402

FOLDER = "Ünïcode Test"
FOLDER_MUTF7 = "&ANw-n&AO8-code Test"
STALE_SEARCH_RE = re.compile(r"UID SEARCH (UID (\d+):\* )?UNDELETED HEADER X-Mailprobe")


class ImapServersCase(PluginTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.extra = load_env_file(cls.stack.dir / "imap_servers.env")
        cls.trimmed_port = int(cls.extra["MS_TRIMMED_IMAP_PORT"])
        cls.cyrus_port = int(cls.extra.get("MS_CYRUS_IMAP_PORT", 0))

    def plugin(self, name, *args, timeout=90):
        return run_plugin(name, list(args), env=self.env, timeout=timeout)

    def mailbox_at(self, user, port, *extra):
        s = self.stack
        return ["--mailbox-protocol", "imap", "--mailbox-host", s.host, "--mailbox-port", str(port),
                "--mailbox-user", s.address(user), "--mailbox-password-file", s.password_file(user),
                *extra]

    def roundtrip(self, user, port, name, *extra):
        s = self.stack
        return self.plugin("check_mail_roundtrip", *smtp_args(s), "--to", s.address(user),
                           "--probe-name", name, *self.mailbox_at(user, port), *extra)

    def send_probe(self, user, name):
        """A real probe, sent by check_mail_send and delivered by Postfix + Dovecot."""
        run = self.plugin("check_mail_send", *smtp_args(self.stack), "--to", self.stack.address(user),
                          "--probe-name", name, "-v")
        self.assertStatus(run, "OK", "MAIL SEND")
        probe_id = probe_id_of(run)
        return probe_id, wait_for_id(self.stack, user, probe_id)

    def doveadm(self, *args, check=True):
        subprocess.run(["doveadm", "-c", self.stack.dovecot_conf, *args], check=check,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=60)


class NonAsciiFolderTests(ImapServersCase):
    """Item 5: --folder in UTF-8, modified UTF-7 on the wire, UTF-8 in the output."""
    users = ("t46",)

    def assertFoundIn(self, run, probe_id):
        self.assertStatus(run, "OK", "MAILBOX RECEIVE")
        self.assertEqual(run.perfdata["probes_found"].value, 1, run.describe())
        self.assertIn(f"probe {probe_id} sent", run.stdout)
        self.assertIn(f"/{FOLDER}", run.stdout)  # shown in UTF-8
        self.assertNotIn(FOLDER_MUTF7, run.stdout)

    def test_dovecot(self):
        s = self.stack
        self.doveadm("mailbox", "create", "-u", s.address("t46"), FOLDER, check=False)  # may exist
        probe_id, _ = self.send_probe("t46", "it-utf8")
        self.doveadm("move", "-u", s.address("t46"), FOLDER, "mailbox", "INBOX", "all")
        on_disk = s.mail_root / "t46" / "Maildir" / f".{FOLDER_MUTF7}"
        self.assertTrue(any((on_disk / "cur").iterdir()) or any((on_disk / "new").iterdir()))
        run = self.plugin("check_mailbox_receive", *self.mailbox_at("t46", s.imap_port, "--folder", FOLDER),
                          "--probe-name", "it-utf8", "-v")
        self.assertFoundIn(run, probe_id)
        # the newest probe stays for the next run to judge (setup 5)
        self.assertEqual(len(files_with(s, "t46", probe_id)), 1)
        run = self.plugin("check_mailbox_receive", "--login-only",
                          *self.mailbox_at("t46", s.imap_port, "--folder", FOLDER))
        self.assertStatus(run, "OK", "MAILBOX RECEIVE")
        self.assertEqual(run.perfdata["messages"].value, 1, run.describe())

    def test_cyrus(self):
        if not self.cyrus_port:
            self.skipTest("Cyrus IMAP not unpacked (scripts/install-cyrus.sh)")
        probe_id, path = self.send_probe("t46", "it-utf8-cyrus")
        data = path.read_bytes()
        imap = imaplib.IMAP4(self.stack.host, self.cyrus_port)
        imap.login("t46", "any")  # the test Cyrus accepts every password
        imap.delete(f'"{FOLDER_MUTF7}"')  # probes of earlier runs carry other keys
        imap.create(f'"{FOLDER_MUTF7}"')
        typ, _ = imap.append(f'"{FOLDER_MUTF7}"', None, None, data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        self.assertEqual(typ, "OK")
        cyrus = ["--mailbox", f"imap://t46@{self.stack.host}:{self.cyrus_port}",
                 "--mailbox-password-file", self.stack.password_file("t46"), "--folder", FOLDER]
        run = self.plugin("check_mailbox_receive", *cyrus, "--probe-name", "it-utf8-cyrus", "-v")
        self.assertFoundIn(run, probe_id)
        typ, count = imap.select(f'"{FOLDER_MUTF7}"')
        self.assertEqual((typ, count), ("OK", [b"1"]), "the newest probe stays (setup 5)")
        imap.logout()
        run = self.plugin("check_mailbox_receive", "--login-only", *cyrus)
        self.assertStatus(run, "OK", "MAILBOX RECEIVE")

    def test_utf8_where_the_server_accepts_it(self):
        s = self.stack
        self.doveadm("mailbox", "create", "-u", s.address("t46"), FOLDER, check=False)  # may exist
        with ImapProxy(s.imap_port, "utf8_accept") as proxy:
            run = self.plugin("check_mailbox_receive", "--login-only",
                              *self.mailbox_at("t46", proxy.port, "--folder", FOLDER))
        self.assertStatus(run, "OK", "MAILBOX RECEIVE")
        self.assertIn("client ENABLE UTF8=ACCEPT", proxy.events)
        self.assertIn(f"client sent UTF-8 name {FOLDER}", proxy.events)

    def test_invalid_utf8_is_a_usage_error(self):
        for option in ("--folder", "--junk-folder"):
            with self.subTest(option=option):
                run = self.plugin("check_mailbox_receive", "--login-only",
                                  *self.mailbox_at("t46", self.stack.imap_port),
                                  option, os.fsdecode(b"Caf\xe9"))
                self.assertStatus(run, "UNKNOWN", "MAILBOX RECEIVE")
                self.assertIn(f"{option}: not valid UTF-8", run.first_line)
                self.assertNotIn("Caf", run.stdout)


class PollingTests(ImapServersCase):
    """Item 6: each poll sends NOOP before it searches; the trimmed Dovecot has no IDLE."""
    users = ("t47",)

    def test_server_that_shows_new_mail_only_after_noop(self):
        with ImapProxy(self.stack.imap_port, "noop_announces") as proxy:
            run = self.roundtrip("t47", proxy.port, "it-noop", "--no-idle", "-t", "20", "--wait", "10")
        self.assertStatus(run, "OK", "MAIL ROUNDTRIP")
        self.assertIn("client NOOP", proxy.events)

    def test_server_without_idle_polls_with_noop(self):
        out = {}
        self.stack.hold()  # delivery after a few polls
        try:
            worker = threading.Thread(target=lambda: out.update(
                run=self.roundtrip("t47", self.trimmed_port, "it-noidle", "-t", "20", "-vvv")))
            worker.start()
            time.sleep(1.5)
        finally:
            self.stack.release()
        worker.join(60)
        run = out["run"]
        self.assertStatus(run, "OK", "MAIL ROUNDTRIP")
        self.assertIn("arrival watched with polling", run.stdout)
        self.assertNotRegex(run.stdout, r"\bIDLE\r?$|mp\d+ IDLE\b")
        self.assertRegex(run.stdout, r"mp\d+ NOOP")


class IdleTests(ImapServersCase):
    """Item 7: an untagged EXISTS between IDLE and its continuation is new mail, not a refusal."""
    users = ("t48",)

    def test_exists_before_continuation(self):
        out = {}
        with ImapProxy(self.stack.imap_port, "exists_first") as proxy:
            self.stack.hold()
            try:
                worker = threading.Thread(target=lambda: out.update(
                    run=self.roundtrip("t48", proxy.port, "it-idle", "-t", "40", "--wait", "30", "-vv")))
                worker.start()
                self.assertTrue(proxy.wait_for("client IDLE", 30), proxy.events)
            finally:
                self.stack.release()
            worker.join(60)
        run = out["run"]
        self.assertIn("EXISTS before continuation", proxy.events)
        self.assertStatus(run, "OK", "MAIL ROUNDTRIP")
        self.assertIn("arrival watched with IMAP IDLE", run.stdout)


class NoUidplusTests(ImapServersCase):
    """Item 8: without UIDPLUS our probe is flagged \\Deleted (never a plain EXPUNGE); the
    pile-up is counted and is WARNING from 100 on."""
    users = ("t49",)

    def flagged_probe_files(self, digest):
        out = []
        for p in self.stack.messages("t49"):
            if f"n={digest}".encode() in p.read_bytes() and "T" in p.name.rpartition(":2,")[2]:
                out.append(p)
        return out

    def test_pile_up_is_counted_then_warned(self):
        s, name = self.stack, "it-pileup"
        run = self.roundtrip("t49", self.trimmed_port, name, "-t", "20")
        self.assertStatus(run, "OK", "MAIL ROUNDTRIP")
        self.assertEqual(run.perfdata["probes_flagged"].value, 1, run.describe())
        self.assertEqual(len(self.flagged_probe_files(name_digest(name))), 1)
        # 99 more genuine ones (signed with this check's key), plus flagged mail that only
        # copies our header: counted only when the tag verifies, never acted on either way
        key = read_key(self.env["MAILPROBE_STATE_DIR"])

        def deliver_flagged(data):
            path = s.deliver_raw("t49", data)
            path.rename(path.parent.parent / "cur" / (path.name + ":2,T"))

        for _ in range(99):
            deliver_flagged(signed_probe(key, name, s.address("t49"))[0])
        header = f"X-Mailprobe: v=1; n={name_digest(name)}; id={'0' * 32}; t=1; tag={'0' * 64}"
        deliver_flagged(f"{header}\r\nSubject: a copied header\r\n\r\nforged\r\n".encode())
        deliver_flagged(b"Subject: someone else's, flagged\r\n\r\nkeep me\r\n")
        run = self.roundtrip("t49", self.trimmed_port, name, "-t", "20")
        self.assertStatus(run, "WARNING", "MAIL ROUNDTRIP")
        self.assertIn("101 probe(s) of this check lie flagged \\Deleted in INBOX", run.first_line)
        self.assertEqual(run.perfdata["probes_flagged"].value, 101)
        self.assertEqual(len(self.flagged_probe_files(name_digest(name))), 102)  # + the copy
        self.assertEqual(len(files_with(s, "t49", "keep me")), 1)
        self.assertEqual(len(files_with(s, "t49", "forged")), 1)


class StaleScanTests(ImapServersCase):
    """Issue 15 item 5: after the first run, the stale-probe search only covers mail newer than
    where the previous run left off, and still finds every stale probe of ours."""
    users = ("t50",)

    def stale_search(self, run):
        m = STALE_SEARCH_RE.search(run.stdout)
        self.assertIsNotNone(m, run.describe())
        return int(m.group(2)) if m.group(2) else None

    def test_bounded_and_never_misses(self):
        s, name = self.stack, "it-stale-scan"
        env_state = self.new_state_dir()
        self.env = dict(self.env, MAILPROBE_STATE_DIR=env_state)
        first = self.roundtrip("t50", s.imap_port, name, "-t", "4", "-vvv")
        self.assertStatus(first, "OK", "MAIL ROUNDTRIP")
        self.assertIsNone(self.stale_search(first), "first run: whole folder")
        young_id, _ = self.send_probe("t50", name)  # a run in progress left it
        second = self.roundtrip("t50", s.imap_port, name, "-t", "4", "-vvv")
        self.assertStatus(second, "OK", "MAIL ROUNDTRIP")
        self.assertIsNotNone(self.stale_search(second), "second run: only new mail")
        self.assertEqual(second.perfdata["stale_removed"].value, 0)
        self.assertEqual(len(files_with(s, "t50", young_id)), 1)
        time.sleep(4.5)  # now older than -t: stale
        third = self.roundtrip("t50", s.imap_port, name, "-t", "4", "-vvv")
        self.assertStatus(third, "OK", "MAIL ROUNDTRIP")
        self.assertEqual(third.perfdata["stale_removed"].value, 1, third.describe())
        self.assertEqual(files_with(s, "t50", young_id), [])
        self.assertIsNotNone(self.stale_search(third))


if __name__ == "__main__":
    unittest.main()
