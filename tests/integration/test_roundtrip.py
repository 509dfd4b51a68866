"""check_mail_roundtrip against the real stack (issue 3: setups 1 and 2, IMAP/POP3 with and
without TLS, not delivered, login/folder failures, junk folder, stale probes).
Mailbox users of this file: t15, t16, t17, t18, monitor (forward@mail.test), other."""

import re
import socket
import time
import unittest

from mailprobe_harness import SilentListener, run_plugin
from mp_testlib import (PluginTestCase, dovecot_saved_folder, files_with, flags_of, mailbox_opts, mailbox_url,
                        join_args, make_message, probe_id_of, read_key, smtp_args, verify_probe, wait_for_id)

SVC = "MAIL ROUNDTRIP"
OK_LABELS = ("delivery", "mailbox_connect", "mailbox_login", "mailbox_search", "mailbox_delete",
             "smtp_connect", "smtp_transaction", "stale_removed", "time")


class RoundTripTests(PluginTestCase):
    users = ("t15", "t16", "t17", "t18", "monitor", "other")

    def roundtrip(self, *args, env=None, timeout=90):
        full_env = dict(self.env)
        full_env.update(env or {})
        return run_plugin("check_mail_roundtrip", list(args), env=full_env, timeout=timeout)

    def mail_send(self, *args, env=None):
        full_env = dict(self.env)
        full_env.update(env or {})
        return run_plugin("check_mail_send", list(args), env=full_env, timeout=60)

    def assertDeliveredAndGone(self, run, user, before, folder="INBOX"):
        """The run's probe was really delivered (Dovecot's log) and is gone again; the rest of
        the mailbox is exactly as before."""
        probe_id = probe_id_of(run)
        self.assertEqual(dovecot_saved_folder(self.stack, probe_id), folder)
        self.assertEqual(files_with(self.stack, user, f"id={probe_id}"), [], run.describe())
        self.assertEqual(self.stack.snapshot(user), before, "other messages changed")
        return probe_id

    # ------------------------------------------------------------------ protocol matrix
    def matrix_case(self, user, smtp_mode, mailbox_args, mailbox_tls, env=None):
        s = self.stack
        s.deliver_raw(user, make_message(s.address(user), "unrelated mail"))
        s.deliver_raw(user, make_message(s.address(user), "[mailprobe] probe 0123456789abcdef0123456789abcdef"),
                      seen=True)
        before = s.snapshot(user)
        run = self.roundtrip(*join_args(smtp_args(s, smtp_mode), ["--to", s.address(user)], mailbox_args),
                             "-t", "20", "--wait", "15", "-v", env=env)
        self.assertStatus(run, "OK", SVC)
        self.assertRegex(self.summary(run), r"probe delivered in [0-9.]+ m?s \(SMTP .* -> t1[56](@mail\.test)? on ")
        self.assertNotIn("%40", run.stdout)
        labels = OK_LABELS + (("mailbox_tls",) if mailbox_tls else ())
        absent = () if mailbox_tls else ("mailbox_tls",)
        if smtp_mode == "plain":
            absent += ("smtp_tls",)
        else:
            labels += ("smtp_tls",)
        pd = self.assertPerf(run, labels, absent=absent)
        for label in labels:
            self.assertEqual(pd[label].uom, "" if label == "stale_removed" else "s", label)
        self.assertEqual(pd["stale_removed"].value, 0)
        self.assertEqual((pd["delivery"].warn, pd["delivery"].crit), ("10", "30"))
        self.assertLessEqual(pd["delivery"].value, pd["time"].value)
        self.assertDeliveredAndGone(run, user, before)
        self.assertEqual(len(s.messages(user)), 2)

    def test_imap_plain(self):
        s = self.stack
        self.matrix_case("t15", "plain", ["--mailbox", mailbox_url(s, "t15", "imap"),
                                          "--mailbox-password-file", s.password_file("t15")], False)

    def test_imap_starttls(self):
        self.matrix_case("t15", "plain", mailbox_opts(self.stack, "t15", "imap", "starttls"), True)

    def test_imaps(self):
        s = self.stack
        self.matrix_case("t15", "starttls", ["--mailbox", mailbox_url(s, "t15", "imap", "tls"), "--cacert", s.ca],
                         True, env={"MAILPROBE_MAILBOX_PASSWORD": s.password("t15")})

    def test_pop3_plain(self):
        self.matrix_case("t16", "plain", mailbox_opts(self.stack, "t16", "pop3", "none", login="t16"), False)

    def test_pop3_starttls(self):
        self.matrix_case("t16", "plain", mailbox_opts(self.stack, "t16", "pop3", "starttls"), True)

    def test_pop3s(self):
        s = self.stack
        self.matrix_case("t16", "tls", ["--mailbox", mailbox_url(s, "t16", "pop3", "tls"), "--cacert", s.ca,
                                        "--mailbox-password-file", s.password_file("t16")], True)

    def test_imap_without_idle_polls(self):
        self.matrix_case("t15", "plain", mailbox_opts(self.stack, "t15", "imap") +
                         ["--no-idle", "--poll-interval", "0.2"], False)

    # ------------------------------------------------------------------ --keep, setup 2
    def test_keep_leaves_the_probe(self):
        s = self.stack
        run = self.roundtrip(*smtp_args(s), "--to", "t15@mail.test", *mailbox_opts(s, "t15"),
                             "--probe-name", "it-keep", "--keep", "-v")
        self.assertStatus(run, "OK", SVC)
        self.assertPerf(run, set(OK_LABELS) - {"mailbox_delete"}, absent=("mailbox_delete",))
        probe_id = probe_id_of(run)
        self.assertIn("kept", run.stdout)
        files = files_with(s, "t15", f"id={probe_id}")
        self.assertEqual(len(files), 1, run.describe())
        h = verify_probe(files[0].read_bytes(), self.key(), "it-keep")
        self.assertEqual(h["id"], probe_id)
        self.assertNotIn("T", flags_of(files[0]))

    def test_setup2_forwarded_to_monitor_mailbox(self):
        s = self.stack
        for proto, tls in (("imap", "tls"), ("pop3", "none")):
            with self.subTest(proto=proto, tls=tls):
                before = s.snapshot("monitor")
                run = self.roundtrip(*smtp_args(s), "--to", "forward@mail.test",
                                     *mailbox_opts(s, "monitor", proto, tls), "-v")
                self.assertStatus(run, "OK", SVC)
                self.assertPerf(run, OK_LABELS)
                self.assertIn("forward@mail.test", run.stdout)  # default probe name HOST:RECIPIENT
                self.assertDeliveredAndGone(run, "monitor", before)
        # with --keep: the probe addressed to forward@ sits in monitor's mailbox
        run = self.roundtrip(*smtp_args(s), "--to", "forward@mail.test", *mailbox_opts(s, "monitor"),
                             "--keep", "--probe-name", "it-fwd", "-v")
        self.assertStatus(run, "OK", SVC)
        path = wait_for_id(s, "monitor", probe_id_of(run), timeout=1)
        data = path.read_bytes()
        verify_probe(data, self.key(), "it-fwd")
        self.assertIn(b"To: <forward@mail.test>", data)
        self.assertIn(b"Delivered-To: monitor@mail.test", data)

    # ------------------------------------------------------------------ not delivered
    def test_mail_for_an_address_nobody_reads(self):
        s = self.stack
        for proto, url in (("imap", r"t18 on [^ ]*/INBOX"), ("pop3", r"t18 on [^ ]* \(POP3\)")):
            with self.subTest(proto=proto):
                run = self.roundtrip(*smtp_args(s), "--to", "other@mail.test",
                                     *mailbox_opts(s, "t18", proto, login="t18"), "-t", "6", "--wait", "2",
                                     "--poll-interval", "0.5")
                self.assertStatus(run, "CRITICAL", SVC)
                m = re.search(rf"probe ([0-9a-f]{{32}}) sent \d\d:\d\d:\d\d UTC via SMTP {s.host}:{s.smtp_port} "
                              rf"not in {url} after 2 s", self.summary(run))
                self.assertIsNotNone(m, run.describe())
                self.assertGreaterEqual(run.elapsed, 2, run.describe())
                self.assertLess(run.elapsed, 6, run.describe())
                pd = self.assertPerf(run, ("smtp_connect", "smtp_transaction", "mailbox_login", "time"),
                                     absent=("delivery", "mailbox_delete"))
                self.assertLess(pd["time"].value, 6)
                # it was sent all right: it sits in the mailbox nobody reads, untouched
                path = wait_for_id(s, "other", m.group(1))
                verify_probe(path.read_bytes(), self.key(), f"{socket.gethostname()}:other@mail.test")
                self.assertEqual(s.messages("t18"), [])

    def test_junk_folder_without_junk_option_is_not_found(self):
        s = self.stack
        run = self.roundtrip(*smtp_args(s), "--to", "t18+Junk@mail.test", *mailbox_opts(s, "t18"),
                             "-t", "6", "--wait", "2")
        self.assertStatus(run, "CRITICAL", SVC)
        probe_id = re.search(r"probe ([0-9a-f]{32}) sent", run.first_line).group(1)
        wait_for_id(s, "t18", probe_id, folder="Junk")  # left alone where it landed

    def test_junk_folder_delivery_is_warning_and_deleted(self):
        s = self.stack
        s.deliver_raw("t18", make_message("t18@mail.test", "spam"), folder="Junk")
        before = s.snapshot("t18")
        run = self.roundtrip(*smtp_args(s), "--to", "t18+Junk@mail.test", *mailbox_opts(s, "t18"),
                             "--junk-folder", "Junk", "-t", "20", "--wait", "15", "-v")
        self.assertStatus(run, "WARNING", SVC)
        self.assertIn("delivered to Junk", self.summary(run))
        self.assertPerf(run, OK_LABELS)
        self.assertDeliveredAndGone(run, "t18", before, folder="Junk")

    # ------------------------------------------------------------------ failures
    def test_wrong_mailbox_password(self):
        s = self.stack
        wrong = "NotTheMailboxPassword42"
        for proto in ("imap", "pop3"):
            with self.subTest(proto=proto):
                run = self.roundtrip(*smtp_args(s), "--to", "t15@mail.test",
                                     *mailbox_opts(s, "t15", proto, password_file=False),
                                     "--mailbox-password", wrong, "-t", "10", "--wait", "5", "-vvv")
                self.assertStatus(run, "CRITICAL", SVC)
                self.assertRegex(self.summary(run), r"(?i)\blog ?in\b")
                self.assertNotIn(wrong, run.stdout + run.stderr)
                self.assertLess(run.elapsed, 10)
                # the message body is held back until the mailbox is open: nothing was sent
                time.sleep(0.5)
                self.assertEqual(s.messages("t15"), [], "probe sent although the mailbox failed")

    def test_refused_recipient_keeps_the_mailbox_stage_perfdata(self):
        # the mailbox logged in while SMTP refused RCPT: its stage and the time are graphed
        s = self.stack
        run = self.roundtrip(*smtp_args(s), "--to", "nobody@mail.test", *mailbox_opts(s, "t15"),
                             "-t", "10", "--wait", "5")
        self.assertStatus(run, "CRITICAL", SVC)
        self.assertIn("RCPT TO <nobody@mail.test> rejected", self.summary(run))
        pd = self.assertPerf(run, ("smtp_connect", "mailbox_connect", "mailbox_login", "time"),
                             absent=("smtp_transaction", "delivery"))
        self.assertGreaterEqual(pd["time"].value, pd["mailbox_login"].value)

    def test_nonexistent_folder(self):
        s = self.stack
        run = self.roundtrip(*smtp_args(s), "--to", "t15@mail.test",
                             *mailbox_opts(s, "t15", folder="NoSuchFolder42"), "-t", "10", "--wait", "5")
        self.assertStatus(run, "CRITICAL", SVC)
        self.assertIn("NoSuchFolder42", self.summary(run))
        self.assertLess(run.elapsed, 10)

    def test_wait_not_shorter_than_timeout_is_unknown(self):
        s = self.stack
        with SilentListener() as smtp, SilentListener() as imap:
            for t, wait in (("5", "5"), ("5", "9")):
                with self.subTest(timeout=t, wait=wait):
                    run = self.roundtrip("-H", "127.0.0.1", "-p", str(smtp.port), "--to", "t15@mail.test",
                                         "--mailbox", f"imap://t15@127.0.0.1:{imap.port}/INBOX",
                                         "--mailbox-password-file", s.password_file("t15"),
                                         "-t", t, "--wait", wait)
                    self.assertStatus(run, "UNKNOWN", SVC)
                    self.assertIn("--wait", run.first_line)
                    self.assertLessEqual(len(run.stdout.splitlines()), 2)
            self.assertEqual((smtp.connections, imap.connections), (0, 0))

    # ------------------------------------------------------------------ stale probes
    def stale_case(self, proto):
        s = self.stack
        name = f"it-stale-{proto}"
        smtp = [*smtp_args(s), "--to", "t17@mail.test", "-v"]
        other_state = self.new_state_dir()
        own_key_dir = self.state_dir
        ids = {}
        for label, extra, env in (
                ("stale1", ["--probe-name", name], {}),
                ("stale2", ["--probe-name", name], {}),
                ("other-name", ["--probe-name", name + "-x"], {}),
                ("other-key", ["--probe-name", name], {"MAILPROBE_STATE_DIR": other_state})):
            r = self.mail_send(*smtp, *extra, env=env)
            self.assertStatus(r, "OK", "MAIL SEND")
            ids[label] = probe_id_of(r)
        sent_at = time.monotonic()
        for pid in ids.values():
            wait_for_id(s, "t17", pid)
        self.assertNotEqual(read_key(other_state), read_key(own_key_dir))
        s.deliver_raw("t17", make_message("t17@mail.test", "keep me"))
        time.sleep(max(0.0, 3.5 - (time.monotonic() - sent_at)))
        run = self.roundtrip(*smtp_args(s), "--to", "t17@mail.test", *mailbox_opts(s, "t17", proto),
                             "--probe-name", name, "-t", "3", "--wait", "2", "-v")
        self.assertStatus(run, "OK", SVC)
        self.assertIn("removed 2 stale probes", self.summary(run))
        self.assertEqual(run.perfdata["stale_removed"].value, 2, run.describe())
        for label in ("stale1", "stale2"):
            self.assertEqual(files_with(s, "t17", ids[label]), [], label)
        for label in ("other-name", "other-key"):
            self.assertEqual(len(files_with(s, "t17", ids[label])), 1, label)
        self.assertEqual(files_with(s, "t17", probe_id_of(run)), [])
        self.assertEqual(len(files_with(s, "t17", "keep me")), 1)
        # a second run finds nothing stale: the survivors are not ours
        run = self.roundtrip(*smtp_args(s), "--to", "t17@mail.test", *mailbox_opts(s, "t17", proto),
                             "--probe-name", name, "-t", "3", "--wait", "2")
        self.assertStatus(run, "OK", SVC)
        self.assertNotIn("stale", self.summary(run))
        self.assertEqual(run.perfdata["stale_removed"].value, 0)
        self.assertEqual(len(s.messages("t17")), 3)

    def test_stale_probes_removed_imap(self):
        self.stale_case("imap")

    def test_stale_probes_removed_pop3(self):
        self.stale_case("pop3")


if __name__ == "__main__":
    unittest.main()
