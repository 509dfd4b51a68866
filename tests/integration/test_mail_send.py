"""check_mail_send against the real stack (issue 2, "Tests and the real mail stack").
Mailbox users of this file: t13, t14."""

import base64
import json
import re
import time
import unittest

from mailprobe_harness import SilentListener, run_plugin, unused_port
from mp_testlib import (PROBE_RE, QUEUE_ID_RE, PluginTestCase, parse_message, smtp_args,
                        verify_probe, wait_for_id)

SVC = "MAIL SEND"
BASE_LABELS = ("smtp_connect", "smtp_transaction", "time")


class MailSendTests(PluginTestCase):
    users = ("t13", "t14")

    def send(self, *args, env=None, timeout=60):
        full_env = dict(self.env)
        full_env.update(env or {})
        return run_plugin("check_mail_send", list(args), env=full_env, timeout=timeout)

    def accepted(self, run, user, name):
        """OK run -> the probe message in the Maildir, verified; returns (path, message, queue id)."""
        self.assertStatus(run, "OK", SVC)
        qid = QUEUE_ID_RE.search(self.summary(run))
        self.assertIsNotNone(qid, "queue id missing in the summary\n" + run.describe())
        m = PROBE_RE.search(run.stdout)
        self.assertIsNotNone(m, run.describe())
        probe_id = m.group(1)
        self.assertEqual(m.group(2), name)
        path = wait_for_id(self.stack, user, probe_id)
        data = path.read_bytes()
        msg = parse_message(data)
        h = verify_probe(data, self.key(), name)
        self.assertEqual(h["id"], probe_id)
        self.assertIn(probe_id, msg["Subject"])
        self.assertTrue(msg["Subject"].startswith("[mailprobe] probe "), msg["Subject"])
        # the message really went through this run's transaction
        self.assertIn(f"id {qid.group(1)}", " ".join(msg.get_all("Received")), data[:1500])
        for hdr in ("Date", "Message-ID", "From", "To", "MIME-Version"):
            self.assertIsNotNone(msg[hdr], hdr)
        self.assertLess(abs(int(h["t"]) / 1000 - time.time()), 60)
        return path, msg, qid.group(1)

    # ------------------------------------------------------------------ success paths
    def test_plain_smtp_accepted_and_in_maildir(self):
        run = self.send(*smtp_args(self.stack), "--to", "t13@mail.test", "--probe-name", "it-send", "-v")
        _, msg, _ = self.accepted(run, "t13", "it-send")
        pd = self.assertPerf(run, BASE_LABELS, absent=("smtp_tls",))
        for label in BASE_LABELS:
            self.assertEqual(pd[label].uom, "s")
        self.assertGreaterEqual(pd["time"].value, pd["smtp_transaction"].value)
        self.assertIn("t13@mail.test", msg["To"])
        self.assertEqual(len(self.stack.messages("t13")), 1)

    def test_subject_from_and_helo_options(self):
        run = self.send(*smtp_args(self.stack), "--to", "t13@mail.test", "--from", "t14@mail.test",
                        "--subject", "site check", "--helo", "probe-host.test", "--probe-name", "it-opt",
                        "-v")
        self.assertStatus(run, "OK", SVC)
        path = wait_for_id(self.stack, "t13", PROBE_RE.search(run.stdout).group(1))
        msg = parse_message(path.read_bytes())
        self.assertTrue(msg["Subject"].startswith("[site check] probe "), msg["Subject"])
        self.assertIn("t14@mail.test", msg["From"])
        self.assertEqual(msg["Return-Path"], "<t14@mail.test>")
        self.assertIn("from probe-host.test", msg["Received"])

    def test_starttls_with_cacert(self):
        run = self.send(*smtp_args(self.stack, "starttls"), "--to", "t13@mail.test",
                        "--probe-name", "it-starttls", "-v")
        _, msg, _ = self.accepted(run, "t13", "it-starttls")
        self.assertIn("using TLS", msg["Received"])
        pd = self.assertPerf(run, BASE_LABELS + ("smtp_tls",))
        self.assertEqual(pd["smtp_tls"].uom, "s")

    def test_implicit_tls_port(self):
        run = self.send(*smtp_args(self.stack, "tls"), "--to", "t13@mail.test",
                        "--probe-name", "it-smtps", "-v")
        _, msg, _ = self.accepted(run, "t13", "it-smtps")
        self.assertIn("using TLS", msg["Received"])
        self.assertPerf(run, BASE_LABELS + ("smtp_tls",))

    def test_untrusted_certificate_critical_unless_insecure(self):
        s = self.stack
        for mode, port in (("starttls", s.smtp_port), ("tls", s.smtps_port)):
            with self.subTest(mode=mode):
                base = ["-H", s.host, "-p", str(port), "--smtp-tls", mode, "--to", "t14@mail.test"]
                run = self.send(*base)
                self.assertStatus(run, "CRITICAL", SVC)
                self.assertRegex(self.summary(run), r"TLS")
                self.assertRegex(self.summary(run), r"(?i)certificate")
                self.assertIn(f"{s.host}:{port}", self.summary(run))
                self.assertEqual(s.messages("t14"), [])
                run = self.send(*base, "--insecure", "--probe-name", f"it-insecure-{mode}", "-v")
                self.accepted(run, "t14", f"it-insecure-{mode}")
                s.empty("t14")

    # ------------------------------------------------------------------ AUTH
    def auth_args(self, user="t13"):
        return smtp_args(self.stack, "submission") + ["--smtp-user", self.stack.address(user),
                                                     "--to", "t13@mail.test"]

    def test_auth_with_password_file(self):
        run = self.send(*self.auth_args(), "--smtp-password-file", self.stack.password_file("t13"),
                        "--probe-name", "it-auth-file", "-v")
        _, msg, _ = self.accepted(run, "t13", "it-auth-file")
        self.assertIn("ESMTPSA", msg["Received"])
        self.assertPerf(run, BASE_LABELS + ("smtp_tls",))

    def test_auth_with_environment_password(self):
        run = self.send(*self.auth_args(), "--probe-name", "it-auth-env", "-v",
                        env={"MAILPROBE_SMTP_PASSWORD": self.stack.password("t13")})
        _, msg, _ = self.accepted(run, "t13", "it-auth-env")
        self.assertIn("ESMTPSA", msg["Received"])

    def test_submission_without_auth_is_refused(self):
        s = self.stack
        run = self.send(*smtp_args(s, "submission"), "--to", "t13@mail.test")
        self.assertStatus(run, "CRITICAL", SVC)
        self.assertRegex(self.summary(run), r"\b5\d\d\b")
        self.assertEqual(s.messages("t13"), [])

    def test_wrong_password_critical_naming_auth(self):
        wrong = "Wr0ngPassw0rdXyz"
        for mech in ("PLAIN", "LOGIN"):
            with self.subTest(mech=mech):
                run = self.send(*self.auth_args(), "--smtp-password", wrong, "--smtp-auth-mech", mech,
                                "-vvv")
                self.assertStatus(run, "CRITICAL", SVC)
                summary = self.summary(run)
                self.assertRegex(summary, r"\bAUTH\b|(?i:\blog ?in\b)",
                                 "the refused stage (AUTH/login) must be named\n" + run.describe())
                self.assertIn("535", summary)
                self.assertNotIn(wrong, run.stdout + run.stderr)
                self.assertEqual(self.stack.messages("t13"), [])

    def test_vvv_never_shows_password_or_its_base64_forms(self):
        s = self.stack
        user, pw = s.address("t13"), s.password("t13")
        forms = {
            "plain": pw,
            "b64(pw)": base64.b64encode(pw.encode()).decode(),
            "b64(\\0user\\0pw)": base64.b64encode(f"\0{user}\0{pw}".encode()).decode(),
            "b64(user\\0user\\0pw)": base64.b64encode(f"{user}\0{user}\0{pw}".encode()).decode(),
            "b64(\\0t13\\0pw)": base64.b64encode(f"\0t13\0{pw}".encode()).decode(),
        }
        for mech in ("PLAIN", "LOGIN"):
            for how in ("file", "env", "inline"):
                with self.subTest(mech=mech, how=how):
                    args = [*self.auth_args(), "--smtp-auth-mech", mech, "-vvv",
                            "--probe-name", f"it-vvv-{mech}-{how}"]
                    env = {}
                    if how == "file":
                        args += ["--smtp-password-file", s.password_file("t13")]
                    elif how == "env":
                        env["MAILPROBE_SMTP_PASSWORD"] = pw
                    else:
                        args += ["--smtp-password", pw]
                    run = self.send(*args, env=env)
                    self.assertStatus(run, "OK", SVC)
                    out = run.stdout + run.stderr
                    # the transcript is really there ...
                    self.assertIn("C: MAIL FROM:<t13@mail.test>", out)
                    self.assertRegex(out, rf"C: AUTH {mech}\b")
                    self.assertIn("235", out)
                    # ... and holds no secret in any form
                    for what, secret in forms.items():
                        self.assertNotIn(secret, out, f"{what} leaked\n{run.describe()}")

    # ------------------------------------------------------------------ failures
    def test_unknown_recipient_critical_with_550_text(self):
        run = self.send(*smtp_args(self.stack), "--to", "nobody@mail.test")
        self.assertStatus(run, "CRITICAL", SVC)
        self.assertRegex(self.summary(run),
                         r"RCPT TO <nobody@mail\.test> rejected: 550 5\.1\.1 .*User unknown")

    def test_failed_run_keeps_the_completed_stages_perfdata(self):
        # graphs without gaps: the connection was made before RCPT was refused
        run = self.send(*smtp_args(self.stack), "--to", "nobody@mail.test")
        self.assertStatus(run, "CRITICAL", SVC)
        pd = self.assertPerf(run, ("smtp_connect", "time"), absent=("smtp_transaction", "smtp_tls"))
        self.assertGreater(pd["smtp_connect"].value, 0)
        self.assertGreaterEqual(pd["time"].value, pd["smtp_connect"].value)
        self.assertEqual(pd["time"].uom, "s")
        # nothing completed: still the run's time
        run = self.send("-H", "127.0.0.1", "-p", str(unused_port()), "--to", "t14@mail.test")
        self.assertStatus(run, "CRITICAL", SVC)
        self.assertPerf(run, ("time",), absent=("smtp_connect",))

    def test_human_times_and_total_not_below_its_parts(self):
        for _ in range(5):
            run = self.send(*smtp_args(self.stack), "--to", "t14@mail.test", "-vv")
            self.assertStatus(run, "OK", SVC)
            self.assertRegex(self.summary(run), r"accepted by [^ ]+ in \d+(\.\d)? (ms|s) \(queued as ")
            line = next(l for l in run.long_output if l.startswith("connect "))
            m = re.fullmatch(r"connect (.+), TLS (.+), transaction (.+), total (.+)", line)
            self.assertIsNotNone(m, line)
            seconds = [float(t.split()[0]) * (0.001 if t.endswith(" ms") else 1) for t in m.groups()]
            self.assertLessEqual(seconds[2], seconds[3], line)
            pd = run.perfdata
            self.assertLessEqual(pd["smtp_transaction"].value, pd["time"].value)

    def test_connection_refused_names_host_and_port(self):
        port = unused_port()
        run = self.send("-H", "127.0.0.1", "-p", str(port), "--to", "t14@mail.test")
        self.assertStatus(run, "CRITICAL", SVC)
        self.assertIn(f"127.0.0.1:{port}", self.summary(run))
        self.assertRegex(self.summary(run), r"(?i)connect")
        self.assertLess(run.elapsed, 5)

    def test_timeout_against_silent_listener(self):
        with SilentListener() as sl:
            run = self.send("-H", "127.0.0.1", "-p", str(sl.port), "--to", "t14@mail.test", "-t", "2")
            self.assertGreaterEqual(sl.connections, 1)
        self.assertStatus(run, "CRITICAL", SVC)
        self.assertWithinDeadline(run, 2)
        self.assertUsedDeadline(run, 2)
        self.assertRegex(self.summary(run), r"(?i)timeout|timed out")
        self.assertIn(f"127.0.0.1:{sl.port}", self.summary(run))

    # ------------------------------------------------------------------ thresholds, output
    def test_thresholds_apply_to_total_time(self):
        base = [*smtp_args(self.stack), "--to", "t14@mail.test"]
        run = self.send(*base, "-w", "0.000001", "-c", "100")
        self.assertStatus(run, "WARNING", SVC)
        self.assertEqual(run.perfdata["time"].warn, "0.000001")
        self.assertEqual(run.perfdata["time"].crit, "100")
        run = self.send(*base, "-w", "100", "-c", "0.000001")
        self.assertStatus(run, "CRITICAL", SVC)
        run = self.send(*base, "-w", "~:100", "-c", "@50:60")
        self.assertStatus(run, "OK", SVC)
        self.assertEqual(len(self.stack.wait_for_messages("t14", 3)), 3)

    def test_json_output(self):
        run = self.send(*smtp_args(self.stack, "starttls"), "--to", "t14@mail.test", "--output", "json")
        self.assertEqual(run.code, 0, run.describe())
        obj = json.loads(run.stdout)
        self.assertIsInstance(obj, dict)
        self.assertEqual(obj["state"], "OK")
        self.assertEqual(obj.get("exit_code"), 0)
        for label in BASE_LABELS + ("smtp_tls",):
            self.assertIsInstance(obj["metrics"][label], (int, float), label)
        self.assertRegex(obj["summary"], r"queued as ")
        run = self.send("-H", "127.0.0.1", "-p", str(unused_port()), "--to", "t14@mail.test",
                        "--output", "json")
        self.assertEqual(run.code, 2, run.describe())
        obj = json.loads(run.stdout)
        self.assertEqual(obj["state"], "CRITICAL")
        self.assertIn("metrics", obj)

    def test_usage_errors(self):
        cases = {
            "unknown option": ["--to", "t14@mail.test", "--no-such-option"],
            "bad range": ["--to", "t14@mail.test", "-w", "5:1"],
            "malformed range": ["--to", "t14@mail.test", "-c", "abc"],
            "missing --to": ["-H", "127.0.0.1"],
            "bad --smtp-tls": ["--to", "t14@mail.test", "--smtp-tls", "sometimes"],
            "bad timeout": ["--to", "t14@mail.test", "-t", "soon"],
            "stray argument": ["--to", "t14@mail.test", "extra"],
        }
        for what, args in cases.items():
            with self.subTest(what):
                with SilentListener() as sl:
                    run = self.send("-H", "127.0.0.1", "-p", str(sl.port), *args, "-t", "3")
                    conns = sl.connections
                self.assertEqual(run.code, 3, run.describe())
                lines = run.stdout.splitlines()
                self.assertTrue(lines and lines[0].startswith("MAIL SEND UNKNOWN - "), run.describe())
                self.assertNotIn("|", lines[0])
                self.assertLessEqual(len(lines), 2, run.describe())
                if len(lines) == 2:
                    self.assertTrue(lines[1].startswith("Usage:"), run.describe())
                self.assertEqual(conns, 0, "a usage error must not contact the server")
        run = self.send("--to", "t14@mail.test", "-w", "5:1")
        self.assertIn("5:1", run.first_line)

    def test_help_and_version_exit_3(self):
        for flag in ("--help", "-h"):
            run = self.send(flag)
            self.assertEqual(run.code, 3, run.describe())
            for opt in ("--smtp-host", "--smtp-port", "--smtp-tls", "--cacert", "--insecure",
                        "--smtp-user", "--smtp-password-file", "MAILPROBE_SMTP_PASSWORD", "--from",
                        "--to", "--helo", "--subject", "--timeout", "--warning", "--critical"):
                self.assertIn(opt, run.stdout, opt)
        for flag in ("--version", "-V"):
            run = self.send(flag)
            self.assertEqual(run.code, 3, run.describe())
            self.assertRegex(run.stdout, r"check_mail_send.*\d+\.\d+")


if __name__ == "__main__":
    unittest.main()
