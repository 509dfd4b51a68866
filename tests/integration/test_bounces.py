"""Bounces end the wait (issue 14, section 1) on the real stack.

The probe is submitted to the relay (relay.test), which hands it to the MX (mx.mail.test):
- nosuchuser@mail.test: the MX refuses it, the relay returns a DSN with the whole probe;
- greylist-delayed@mail.test (an alias of t69): the MX greylists the first attempt, the relay
  (delay_warning_time = 1s) sends a delay DSN at once and delivers on its next attempt.
Where a DSN must name this run's probe in some other way (VERP only, forged, foreign), the
probe goes to a sink mailbox the plugin does not read, and the test, having read the id
there, sends the DSN through the real MX with a null sender.

Mailboxes: t68 (VERP, --async), t69 (delayed), t70 (sink), t71 (POP3), t72 (forged/foreign).
"""

import os
import re
import subprocess
import threading
import time

from mailprobe_harness import _tool, run_plugin
from mp_testlib import PluginTestCase, full_state, parse_message, x_mailprobe

VERP_USER, DELAYED_USER, SINK_USER, POP3_USER, FORGED_USER = "t68", "t69", "t70", "t71", "t72"
ASYNC_USER = VERP_USER


def delivery_status(reporting_mta, recipient, action, status, diagnostic, returned=None,
                    to="", subject="Undelivered Mail Returned to Sender"):
    """A multipart/report DSN as an MTA writes it (returned: the message part, or None)."""
    parts = ["--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n",
             f"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; {reporting_mta}\n\n"
             f"Final-Recipient: rfc822; {recipient}\nAction: {action}\nStatus: {status}\n"
             f"Diagnostic-Code: smtp; {diagnostic}\n"]
    if returned is not None:
        parts.append("--B\nContent-Type: message/rfc822\n\n" + returned.decode())
    return (f"From: MAILER-DAEMON@{reporting_mta}\nTo: {to}\nSubject: {subject}\n"
            "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; "
            "boundary=\"B\"\n\n" + "\n".join(parts) + "--B--\n").encode()


class BouncesTestCase(PluginTestCase):
    users = (VERP_USER, DELAYED_USER, SINK_USER, POP3_USER, FORGED_USER)

    def via_relay(self, to, mailbox_user, *extra, proto="imap"):
        s = self.stack
        port = s.imap_port if proto == "imap" else s.pop3_port
        folder = "/INBOX" if proto == "imap" else ""
        return ["-H", s.host, "-p", str(s.relay_submission_port), "--smtp-tls", "starttls",
                "--cacert", s.ca, "--smtp-user", s.address("relayuser"),
                "--smtp-password-file", s.password_file("relayuser"), "--to", to,
                "--mailbox", f"{proto}://{s.address(mailbox_user)}@{s.host}:{port}{folder}",
                "--mailbox-password-file", s.password_file(mailbox_user), *extra]

    def sink_probe(self, timeout=20.0):
        """(message, id) of the probe that reached the sink mailbox."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for path in self.stack.messages(SINK_USER):
                data = path.read_bytes()
                header = x_mailprobe(data)
                if header:
                    return data, header["id"]
            time.sleep(0.05)
        raise AssertionError("no probe reached the sink mailbox")

    def run_while(self, action, plugin_args, timeout=60):
        """Runs the plugin while `action` runs in a thread; returns the run."""
        errors = []

        def guarded():
            try:
                action()
            except Exception as e:  # reported by the test, not lost in the thread
                errors.append(e)

        worker = threading.Thread(target=guarded)
        worker.start()
        run = run_plugin("check_mail_roundtrip", plugin_args, env=self.env, timeout=timeout)
        worker.join()
        if errors:
            raise errors[0]
        return run

    # ------------------------------------------------------------------ the return path

    def test_return_path_is_the_envelope_sender_of_every_way_of_sending(self):
        # Postfix records MAIL FROM (sendmail: -f) as the delivered probe's Return-Path.
        s = self.stack
        sink = s.address(SINK_USER)
        smtp = ["-H", s.host, "-p", str(s.smtp_port), "--to", sink]
        sendmail = ["--sendmail", f"/usr/sbin/sendmail -C {s.postfix1_config} -t -oi",
                    "--to", sink]
        cases = [  # (how, extra arguments, expected Return-Path; {id}: the probe's id)
            ("SMTP, default", smtp, sink),
            ("SMTP", smtp + ["--return-path", s.address(VERP_USER)], s.address(VERP_USER)),
            ("SMTP, VERP", smtp + ["--from", s.address(VERP_USER), "--return-path-verp"],
             f"{VERP_USER}+{{id}}@{s.domain}"),
            ("sendmail, VERP", sendmail + ["--return-path", s.address(VERP_USER),
                                           "--return-path-verp"],
             f"{VERP_USER}+{{id}}@{s.domain}"),
        ]
        for how, args, expected in cases:
            with self.subTest(how=how):
                s.empty(SINK_USER)
                run = run_plugin("check_mail_send", args, env=self.env, timeout=60)
                self.assertEqual(run.status_word, "OK", run.describe())
                probe, probe_id = self.sink_probe()
                want = expected.format(id=probe_id)
                self.assertIn(f"Return-Path: <{want}>".encode(), probe.split(b"\n\n")[0])
                # the header From stays --from: VERP is for the envelope only
                self.assertNotIn(probe_id, parse_message(probe)["From"])

    # ------------------------------------------------------------------ synchronous

    def test_pop3_bounce_ends_the_wait_and_only_the_proven_dsn_is_deleted(self):
        s = self.stack
        args = self.via_relay("nosuchuser@mail.test", POP3_USER, "--return-path",
                              s.address(POP3_USER), "-t", "30", "--wait", "25", proto="pop3")
        run = run_plugin("check_mail_roundtrip", args, env=self.env, timeout=60)
        self.assertStatus(run, "CRITICAL")
        self.assertRegex(run.first_line, r"^MAIL ROUNDTRIP CRITICAL - probe bounced by relay\.test:"
                                         r" 5\.1\.1 550 5\.1\.1 <nosuchuser@mail\.test>")
        self.assertLess(run.elapsed, 20, "the bounce must end the 25 s wait early")
        self.assertTrue(any("removed 1 delivery status notification" in l
                            for l in run.long_output), run.describe())
        self.assertEqual(s.messages(POP3_USER), [])

    def test_verp_address_alone_names_the_probe(self):
        # A DSN that returns nothing of the probe: only its VERP address says whose it is.
        # Reported at once, never deleted (nothing proves it ours).
        s = self.stack
        verp = []

        def bounce():
            _, probe_id = self.sink_probe()
            verp.append(f"{VERP_USER}+{probe_id}@{s.domain}")
            s.send(verp[0], delivery_status("mx.remote.test", "alice@remote.test", "failed",
                                            "5.2.2", "552 5.2.2 mailbox full", to=verp[0]),
                   sender="")

        args = self.via_relay(s.address(SINK_USER), VERP_USER, "--return-path",
                              s.address(VERP_USER), "--return-path-verp", "-v", "-t", "30",
                              "--wait", "25")
        run = self.run_while(bounce, args)
        self.assertStatus(run, "CRITICAL")
        self.assertRegex(run.first_line, r"^MAIL ROUNDTRIP CRITICAL - probe bounced by "
                                         r"mx\.remote\.test: 5\.2\.2 552 5\.2\.2 mailbox full")
        self.assertLess(run.elapsed, 20, run.describe())
        self.assertIn(f"bounces go to {verp[0]} (MAIL FROM)", run.stdout)
        left = s.messages(VERP_USER)
        self.assertEqual(len(left), 1, "the unproven DSN stays")
        self.assertIn(verp[0].encode(), left[0].read_bytes())

    def test_forged_and_foreign_dsns_are_never_counted_nor_touched(self):
        s = self.stack
        to = s.address(FORGED_USER)
        # someone else's bounce, there before the run
        s.send(to, delivery_status("mx.remote.test", "bob@remote.test", "failed", "5.1.1",
                                   "550 5.1.1 no such user", to=to,
                                   returned=b"From: carol@mail.test\nSubject: lunch\n\nhi\n"),
               sender="")
        s.wait_for_messages(FORGED_USER, 1)

        def forge():
            probe, probe_id = self.sink_probe()
            head, _, _ = probe.partition(b"\n\n")
            # our header quoted over another body: the tag does not verify
            forged = delivery_status("mx.remote.test", "x@remote.test", "failed", "5.7.1",
                                     "550 5.7.1 forged", returned=head + b"\n\nother text\n", to=to)
            # a bounce of someone's reply that merely mentions the probe's id
            foreign = delivery_status("mx.remote.test", "dave@remote.test", "failed", "5.1.1",
                                      "550 5.1.1 unknown", to=to, returned=(
                                          f"From: dave@mail.test\nSubject: Re: [mailprobe] probe "
                                          f"{probe_id}\n\nseen it\n").encode())
            s.send(to, forged, sender="")
            s.send(to, foreign, sender="")
            s.wait_for_messages(FORGED_USER, 3)
            before.update(full_state(s, FORGED_USER))

        before = {}
        args = self.via_relay(s.address(SINK_USER), FORGED_USER, "-t", "20", "--wait", "8")
        run = self.run_while(forge, args)
        self.assertStatus(run, "CRITICAL")
        self.assertRegex(run.first_line, r"^MAIL ROUNDTRIP CRITICAL - probe [0-9a-f]{32} sent "
                                         r".* not in .* after 8 s")
        self.assertTrue(any("ignored 1 DSN(s) quoting a probe tag that does not verify" in l
                            for l in run.long_output), run.describe())
        # all three byte-identical, none flagged (not even \\Seen), none moved
        after = full_state(s, FORGED_USER)
        self.assertEqual(len(after), 3)
        self.assertEqual(after, before)
        self.assertEqual({flags for _, flags in after.values()}, {""}, after.keys())

    def test_delayed_dsn_warns_and_the_wait_goes_on(self):
        # The MX greylists the first attempt; the relay warns at once (VERP return path: a
        # fresh greylist triplet every run), then delivers on its next attempt, which the
        # test triggers as soon as the warning is in the mailbox.
        s = self.stack

        def relay_queue_ids():
            queue = subprocess.run([_tool("postqueue"), "-c", s.postfix2_config, "-j"],
                                   capture_output=True, text=True, timeout=30, check=True)
            return [re.search(r'"queue_id"\s*:\s*"([^"]+)"', line).group(1)
                    for line in queue.stdout.splitlines() if "greylist-delayed@" in line]

        def retry_after_warning():
            s.wait_for_message(DELAYED_USER, "delayed", timeout=25)
            time.sleep(1.2)  # the greylist's delay
            for qid in relay_queue_ids():
                subprocess.run([_tool("postqueue"), "-c", s.postfix2_config, "-i", qid],
                               capture_output=True, timeout=30, check=True)

        def drop_leftovers():  # a failed run must not deliver into a later test
            for qid in relay_queue_ids():
                subprocess.run([_tool("postsuper"), "-c", s.postfix2_config, "-d", qid],
                               capture_output=True, timeout=30)

        self.addCleanup(drop_leftovers)

        args = self.via_relay("greylist-delayed@mail.test", DELAYED_USER, "--return-path",
                              s.address(DELAYED_USER), "--return-path-verp", "-t", "45",
                              "--wait", "40", "-w", "60", "-c", "90")
        run = self.run_while(retry_after_warning, args, timeout=90)
        self.assertStatus(run, "WARNING")
        self.assertRegex(run.first_line, r"^MAIL ROUNDTRIP WARNING - delayed at relay\.test: "
                                         r"4\.7\.1 .*greylisted.*; probe delivered in ")
        # the delay warning returns headers only: reported, never deleted
        left = s.messages(DELAYED_USER)
        self.assertEqual(len(left), 1, run.describe())
        self.assertIn(b"delayed", left[0].read_bytes())

    # ------------------------------------------------------------------ --async

    def test_async_bounce_is_reported_next_run_and_closed(self):
        for proto in ("imap", "pop3"):
            with self.subTest(proto=proto):
                self.stack.empty(ASYNC_USER)
                self.async_bounce(proto)

    def async_bounce(self, proto):
        s = self.stack
        state = self.new_state_dir()
        args = self.via_relay("nosuchuser@mail.test", ASYNC_USER, "--return-path",
                              s.address(ASYNC_USER), "--async", "--state-dir", state, "-t", "20",
                              proto=proto)
        first = run_plugin("check_mail_roundtrip", args, env=self.env, timeout=60)
        self.assertStatus(first, "OK")
        s.wait_for_message(ASYNC_USER, "Undelivered Mail", timeout=20)
        first_dsn = [p.name for p in s.messages(ASYNC_USER)]
        self.assertEqual(len(first_dsn), 1)
        second = run_plugin("check_mail_roundtrip", args, env=self.env, timeout=60)
        self.assertStatus(second, "CRITICAL")
        self.assertRegex(second.first_line, r"^MAIL ROUNDTRIP CRITICAL - probe bounced by "
                                            r"relay\.test: 5\.1\.1 .*"
                                            r"\(probe sent \d\d:\d\d:\d\d UTC\); ")
        self.assertTrue(any("closed as bounced" in l for l in second.long_output),
                        second.describe())
        pd = second.perfdata
        self.assertEqual(pd["bounced_now"].value, 1)
        self.assertEqual(pd["lost"].value, 0)
        self.assertEqual(pd["outstanding"].value, 1)  # the fresh probe only
        # the first probe's DSN was proven ours and deleted (the fresh one's may be arriving)
        names = [s._base_name(p.name) for p in s.messages(ASYNC_USER)]
        self.assertNotIn(s._base_name(first_dsn[0]), names)
        # the fresh probe bounces too: let its DSN land before the mailbox is emptied again
        s.wait_for_message(ASYNC_USER, "Undelivered Mail", timeout=20)

    def test_async_with_wait_ends_at_once_when_the_fresh_probe_bounces(self):
        s = self.stack
        args = self.via_relay("nosuchuser@mail.test", ASYNC_USER, "--return-path",
                              s.address(ASYNC_USER), "--async", "--state-dir",
                              self.new_state_dir(), "-t", "30", "--wait", "25")
        run = run_plugin("check_mail_roundtrip", args, env=self.env, timeout=60)
        self.assertStatus(run, "CRITICAL")
        self.assertRegex(run.first_line, r"^MAIL ROUNDTRIP CRITICAL - probe bounced by relay\.test: "
                                         r"5\.1\.1 .*\(the fresh probe\); ")
        self.assertLess(run.elapsed, 20, "the bounce must end the 25 s wait early")
        self.assertEqual(run.perfdata["outstanding"].value, 0)
        self.assertEqual(run.perfdata["bounced_now"].value, 1)
        self.assertEqual(s.messages(ASYNC_USER), [], "the DSN proven ours is deleted")


if __name__ == "__main__":
    import unittest
    unittest.main()
