"""The probe tag is bound to the message (issue 11, item 2) and --subject is folded/encoded
(item 9), on the real stack. A user mail carrying a copy of a genuine probe's header (alone,
with all the probe's header fields, over a quoted or cut body) and an old v=1 probe are never
counted or deleted over IMAP and POP3, by check_mailbox_receive, by the stale clean-up of
round trips, and stay byte for byte as they were; a genuine probe that a gateway re-encoded
as quoted-printable with a footer appended still counts. Mailbox users of this file: t44."""

import email
import email.policy
import hashlib
import hmac
import time
import unittest

from mailprobe_harness import run_plugin
from mp_testlib import (PluginTestCase, files_with, full_state, mailbox_opts, make_message, name_digest,
                        probe_id_of, smtp_args, verify_probe, wait_for_id, x_mailprobe)
from probe_canon import reencode_qp_with_footer

USER = "t44"
ADDR = "t44@mail.test"
NAME = "binding:t44"
FOOTER = (b"\n-- \nThis message was scanned by Example Gateway. Disclaimer: "
          b"a=b, nothing here is binding.\n")


class ProbeBindingTests(PluginTestCase):
    users = (USER,)

    def send(self, *extra) -> tuple[str, bytes]:
        """A genuine probe of NAME as delivered (with the trace fields Postfix and Dovecot
        added); returns (id, bytes)."""
        s = self.stack
        run = run_plugin("check_mail_send", [*smtp_args(s), "--to", ADDR, "--probe-name", NAME,
                                             "-v", *extra], env=self.env)
        self.assertStatus(run, "OK", "MAIL SEND")
        pid = probe_id_of(run)
        return pid, wait_for_id(s, USER, pid).read_bytes()

    def receive(self, proto, *extra):
        return run_plugin("check_mailbox_receive", [*mailbox_opts(self.stack, USER, proto),
                                                    "--probe-name", NAME, "-v", *extra],
                          env=self.env, timeout=60)

    def copies(self, genuine: bytes) -> list[bytes]:
        """User mails that carry what a copy can keep of a genuine probe."""
        head, body = genuine.split(b"\n\n", 1)
        xmp = email.message_from_bytes(genuine, policy=email.policy.compat32)["X-Mailprobe"]
        pid, t_ms = x_mailprobe(genuine)["id"], int(x_mailprobe(genuine)["t"])
        v1_tag = hmac.new(self.key(), f"mailprobe-v1\n{NAME}\n{pid}\n{t_ms}".encode(),
                          hashlib.sha256).hexdigest()
        return [
            head + b"\n\nPlease have a look at the message above, I did not expect it.\n",
            make_message(ADDR, "Fwd: a probe", xmailprobe=" ".join(xmp.split()),
                         body="The header above is a copy.\n"),
            head + b"\n\n" + b"".join(b"> " + line + b"\n" for line in body.splitlines()),
            head + b"\n\n" + body.splitlines(keepends=True)[0],
            make_message(ADDR, f"[mailprobe] probe {pid}", body=body.decode(),
                         xmailprobe=f"v=1; n={name_digest(NAME)}; id={pid}; t={t_ms}; tag={v1_tag}"),
        ]

    def assertUnchanged(self, before, context):
        after = full_state(self.stack, USER)
        self.assertEqual(sorted(after), sorted(before), f"{context}: messages gone or added")
        for key, (content, flags) in before.items():
            self.assertEqual(after[key][0], content, f"{context}: {key} changed")
            self.assertEqual(after[key][1], flags, f"{context}: {key} flags changed")

    def test_copied_header_never_counted_never_deleted(self):
        s = self.stack
        pid, genuine = self.send()
        verify_probe(genuine, self.key(), NAME)
        s.empty(USER)
        for data in self.copies(genuine):
            s.deliver_raw(USER, data)
        before = full_state(s, USER)
        self.assertEqual(len(before), 5)
        for proto in ("imap", "pop3"):
            with self.subTest("receive", proto=proto):
                run = self.receive(proto)
                self.assertStatus(run, "CRITICAL", "MAILBOX RECEIVE")
                self.assertEqual(run.perfdata["probes_found"].value, 0, run.describe())
                self.assertUnchanged(before, f"receive {proto}")
        # the copies are older than -t now: every one of them is a stale-probe candidate
        sent_s = int(x_mailprobe(genuine)["t"]) / 1000
        time.sleep(max(0.0, 4.0 - (time.time() - sent_s)))
        for proto in ("imap", "pop3"):
            with self.subTest("roundtrip", proto=proto):
                run = run_plugin("check_mail_roundtrip",
                                 [*smtp_args(s), "--to", ADDR, "--probe-name", NAME,
                                  *mailbox_opts(s, USER, proto), "-t", "3", "--wait", "2", "-v"],
                                 env=self.env, timeout=60)
                self.assertStatus(run, "OK", "MAIL ROUNDTRIP")
                self.assertEqual(run.perfdata["stale_removed"].value, 0, run.describe())
                self.assertUnchanged(before, f"roundtrip {proto}")
        # the control: with one genuine probe among the copies, exactly that one counts
        for proto in ("imap", "pop3"):
            with self.subTest("receive with a genuine probe", proto=proto):
                real, _ = self.send()
                run = self.receive(proto)
                self.assertStatus(run, "OK", "MAILBOX RECEIVE")
                self.assertEqual(run.perfdata["probes_found"].value, 1, run.describe())
                self.assertIn(f"probe {real} sent", run.stdout)
                kept = files_with(s, USER, real)  # the newest stays for the next run (setup 5)
                self.assertEqual(len(kept), 1, "the genuine probe was not kept")
                kept[0].unlink()
                self.assertUnchanged(before, f"receive {proto} with a genuine probe")

    def test_reencoded_probe_with_footer_still_counts(self):
        s = self.stack
        pid, genuine = self.send()
        changed = reencode_qp_with_footer(genuine, FOOTER)
        self.assertNotIn(b"leave it alone", changed)  # really re-encoded ('e' escaped)
        verify_probe(changed, self.key(), NAME)  # the independent Python reading agrees
        for proto in ("imap", "pop3"):
            with self.subTest(proto=proto):
                s.empty(USER)
                s.deliver_raw(USER, changed)
                # a newer genuine probe: receive keeps the newest (setup 5) and deletes the
                # older ones, which it only does to a message it verified as ours
                newer, _ = self.send()
                run = self.receive(proto)
                self.assertStatus(run, "OK", "MAILBOX RECEIVE")
                self.assertEqual(run.perfdata["probes_found"].value, 2, run.describe())
                self.assertIn("1 older deleted", run.first_line)
                self.assertEqual(files_with(s, USER, pid), [], "the re-encoded probe was not deleted")
                self.assertEqual(len(files_with(s, USER, newer)), 1, "the newest probe was not kept")

    def test_long_non_ascii_subject_is_folded_and_encoded(self):
        prefix = "Prüfung ✓ Überwachung " * 20 + "x" * 1000  # 1,520 bytes in UTF-8
        pid, data = self.send("--subject", prefix)
        for line in data.split(b"\n"):
            self.assertLessEqual(len(line.rstrip(b"\r")), 998)
            self.assertTrue(line.isascii(), line)
        verify_probe(data, self.key(), NAME)
        subject = email.message_from_bytes(data, policy=email.policy.default)["Subject"]
        self.assertEqual(str(subject), f"[{prefix}] probe {pid}")
        run = self.receive("imap")
        self.assertStatus(run, "OK", "MAILBOX RECEIVE")
        self.assertEqual(run.perfdata["probes_found"].value, 1, run.describe())
        # longer than the probe could carry and still be verified: a usage error, nothing sent
        run = run_plugin("check_mail_send", [*smtp_args(self.stack), "--to", ADDR,
                                             "--subject", "x" * 2001], env=self.env)
        self.assertStatus(run, "UNKNOWN", "MAIL SEND")
        self.assertIn("--subject is longer than 2000 bytes", run.first_line)


if __name__ == "__main__":
    unittest.main()
